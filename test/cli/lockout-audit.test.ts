/**
 * `rasgate lockout`, `rasgate audit` and `rasgate user lock|disable|enable` as a user runs them
 * (real processes), without a daemon: the state file is edited directly, the audit trail read
 * back, usage errors are exit 2.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rasgate, rasgateArgv } from '../helpers/cli.js';
import { readState, statePath } from '../../src/guard/state.js';
import { formatState } from '../../src/guard/state.js';
import { parseSmbpasswd } from '../../src/authority/local/index.js';
import { AuditTrail } from '../../src/audit/trail.js';

const dir = mkdtempSync(join(tmpdir(), 'rasgate-lockout-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function setup(name: string) {
  const base = join(dir, name);
  mkdirSync(join(base, 'var'), { recursive: true, mode: 0o700 });
  const config = join(base, 'rasgate.yaml');
  writeFileSync(config, 'lines: [{ listen: tcp://127.0.0.1:2323 }]\nauthority: { file: ./var/smbpasswd }\n');
  return { base, config, state: statePath(join(base, 'var')) };
}

test('lockout list and clear work on the state file without a daemon; usage errors are exit 2', () => {
  const { config, state } = setup('list');
  const empty = rasgate(['lockout', 'list', '--config', config]);
  assert.equal(empty.code, 0, empty.err);
  assert.match(empty.out, /no user name is locked/);
  const now = Date.now();
  writeFileSync(
    state,
    formatState(
      {
        accounts: [
          { key: 'KIM', name: 'kim', denials: 10, firstAt: now - 60_000, lastAt: now - 1000, lockedAt: now - 1000, until: now + 1_800_000 },
          { key: 'BO', name: 'bo', denials: 2, firstAt: now - 5000, lastAt: now - 5000 },
        ],
        penalties: [{ source: '192.0.2.7', expiresAt: now + 300_000, active: true, since: now - 10_000, activeSince: now - 5000, reason: 'authfail' }],
        lines: [{ line: 'dev0', since: now - 1000, until: now + 240_000, failedCalls: 11 }],
        clears: [],
      },
      now,
    ),
  );
  const list = rasgate(['lockout', 'list', '--config', config]);
  assert.match(list.out, /^kim\s+10\s/m);
  assert.match(list.out, /COUNTED USER[\s\S]*^bo\s+2\s/m);
  assert.match(list.out, /^192\.0\.2\.7\s.*authfail$/m);
  assert.match(list.out, /^dev0\s+11\s/m);
  const json = JSON.parse(rasgate(['lockout', 'list', '--json', '--config', config]).out) as { accounts: unknown[] };
  assert.equal(json.accounts.length, 2);

  const clear = rasgate(['lockout', 'clear', 'KIM', '--config', config]);
  assert.equal(clear.code, 0, clear.err);
  assert.equal(clear.out, 'cleared the lock and count of KIM\n');
  const after1 = readState(state);
  assert.deepEqual(after1.accounts.map((a) => a.name), ['bo']);
  assert.equal(after1.clears[0]!.what, 'account');
  assert.equal(after1.clears[0]!.by, 'root');
  assert.equal(rasgate(['lockout', 'clear', '--all', '--config', config]).code, 0);
  const all = readState(state);
  assert.deepEqual([all.accounts.length, all.penalties.length, all.lines.length, all.clears.length], [0, 0, 0, 2]);

  for (const bad of [['lockout'], ['lockout', 'frob'], ['lockout', 'clear', '--config', config], ['lockout', 'clear', 'kim', '--all', '--config', config], ['lockout', 'list', '--bogus']]) {
    const r = rasgate(bad);
    assert.equal(r.code, 2, `${bad.join(' ')}: ${r.err}`);
    assert.match(r.err, /usage: rasgate lockout/);
  }
  const audit = rasgate(['audit', '--result', 'operator', '--json', '--config', config]);
  const ops = audit.out.trim().split('\n').map((l) => JSON.parse(l) as { action: string; target: string; by: string; via: string });
  assert.deepEqual(ops.map((o) => [o.action, o.target, o.via]), [['lockout-clear', 'KIM', 'cli'], ['clear-all', '*', 'cli']]);
});

test('user lock, disable, enable set and clear the L and D flags, and are audited', () => {
  const { config, base } = setup('flags');
  assert.equal(rasgate(['user', 'add', 'ann', '--password-stdin', '--config', config], 'Ann-pw-1\n').code, 0);
  const flags = () => [...parseSmbpasswd(readFileSync(join(base, 'var', 'smbpasswd'), 'utf8')).entries[0]!.flags].sort().join('');
  assert.match(rasgate(['user', 'lock', 'ann', '--config', config]).out, /^locked ann in /);
  assert.equal(flags(), 'LU');
  assert.match(rasgate(['user', 'lock', 'ann', '--config', config]).out, /ann was already locked/);
  assert.match(rasgate(['user', 'disable', 'ANN', '--config', config]).out, /^disabled ANN in /);
  assert.equal(flags(), 'DLU');
  assert.match(rasgate(['user', 'enable', 'ann', '--config', config]).out, /^enabled ann/);
  assert.match(rasgate(['user', 'unlock', 'ann', '--config', config]).out, /^unlocked ann in /);
  assert.equal(flags(), 'U');
  const table = rasgate(['audit', '--user', 'ann', '--config', config]);
  assert.equal(table.code, 0, table.err);
  assert.deepEqual(
    table.out.trim().split('\n').slice(1).map((l) => /action ([^,\s]+)/.exec(l)?.[1]),
    ['user-add', 'user-lock', 'user-lock', 'user-disable', 'user-enable', 'user-unlock'],
  );
  assert.match(table.out, /action user-lock, target ann, result unchanged/);
});

test('audit: bad times and options are exit 2; a closed pipe ends the listing quietly', () => {
  const { config, base } = setup('audit');
  for (const bad of [['--since', 'yesterday'], ['--until', '2026-13-45'], ['--frob'], ['stray']]) {
    const r = rasgate(['audit', ...bad, '--config', config]);
    assert.equal(r.code, 2, `${bad.join(' ')}: ${r.err}`);
  }
  // More than a pipe holds (64 KiB), so that the listing is still writing when head has gone.
  const trail = new AuditTrail({ file: join(base, 'var', 'audit', 'audit-%DATE%.jsonl') });
  for (let i = 0; i < 2000; i++) trail.record({ event: 'login', line: 'tcp0', call: `tcp0-${i}`, user: `user${i}`, domain: '', result: 'bad-credentials' });
  void trail.close();
  const [program, ...args] = rasgateArgv(['audit', '--config', config]);
  const r = spawnSync('bash', ['-c', `"$0" "$@" | head -c 10; exit \${PIPESTATUS[0]}`, program!, ...args], { encoding: 'utf8', env: { ...process.env, RASGATE_CONFIG: '' } });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /EPIPE|Error/);
});
