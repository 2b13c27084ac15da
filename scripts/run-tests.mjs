#!/usr/bin/env node
// `npm test`: make sure the real peers the tests drive are installed, then run every
// test/**/*.test.ts with node's own runner (through tsx). Extra arguments narrow the set:
//   npm test -- test/ntlm          npm test -- test/ntlm/codec.test.ts
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ci = process.env.CI === 'true' || process.env.CI === '1';

const check = spawnSync('bash', [join(root, 'scripts/install-test-deps.sh'), '--check'], { stdio: 'inherit' });
if (check.status !== 0) {
  const install = spawnSync('bash', [join(root, 'scripts/install-test-deps.sh')], { stdio: 'inherit' });
  if (install.status !== 0) {
    if (ci) {
      console.error('CI=true: a tool the tests need is missing and could not be installed; failing.');
      process.exit(1);
    }
    // Outside CI the suites that need a missing peer report themselves as skipped, by name.
    console.error('continuing without them: tests that need them will be SKIPPED (never under CI=true)');
    process.env.RASGATE_TEST_MISSING_DEPS = '1';
  }
}

function collect(path, out) {
  const st = statSync(path);
  if (st.isDirectory()) {
    for (const name of readdirSync(path).sort()) {
      if (name === 'node_modules' || name === 'fixtures') continue;
      collect(join(path, name), out);
    }
  } else if (path.endsWith('.test.ts')) {
    out.push(path);
  }
  return out;
}

const targets = process.argv.slice(2);
const files = (targets.length ? targets : ['test']).flatMap((t) => collect(resolve(root, t), []));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const res = spawnSync(
  process.execPath,
  // A hung test fails after 3 minutes instead of holding CI to its limit.
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=180000', ...files],
  { stdio: 'inherit', cwd: root, env: process.env },
);
process.exit(res.status ?? 1);
