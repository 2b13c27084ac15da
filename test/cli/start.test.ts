/** `npm start` builds dist/ only when a source is newer: with dist/ current it starts at once (no tsc). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli.js';

const start = (args: string[]) => spawnSync(process.execPath, [join(ROOT, 'scripts/start.mjs'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000, env: { ...process.env, RASGATE_CONFIG: '' } });

test('scripts/start.mjs runs rasgate serve from dist/, building only what is stale', () => {
  // The first run may build (a source edited since the last build); the second must not.
  const first = start(['--help']);
  assert.equal(first.status, 0, first.stderr);
  const second = start(['--help']);
  assert.equal(second.status, 0, second.stderr);
  assert.doesNotMatch(second.stderr, /building dist/);
  assert.match(second.stdout, /^usage: rasgate serve/);
});
