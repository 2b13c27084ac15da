/**
 * `rasgate user callback NAME ...` as a user runs it (a real process): the per-user policy file
 * beside the store, written 0600 and whole, checked like the configuration.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { rasgate } from '../helpers/cli.js';
import { parseUserPolicy } from '../../src/callback/user-policy.js';

const dir = mkdtempSync(join(tmpdir(), 'rasgate-cb-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function setup(name: string, authority = '') {
  const store = join(dir, name, 'var', 'smbpasswd');
  const config = join(dir, name, 'rasgate.yaml');
  mkdirSync(dirname(store), { recursive: true });
  writeFileSync(config, `lines:\n  - listen: tcp://127.0.0.1:2323\nauthority:\n  type: local\n  file: ./var/smbpasswd\n${authority}`);
  for (const user of ['alice', 'bob']) assert.equal(rasgate(['user', 'add', user, '--password-stdin', '--config', config], `${user}-pw\n`).code, 0);
  return { store, config, policy: join(dirname(store), 'user-policy.yaml') };
}

test('user callback: preset, caller-set with a default, none; the file beside the store, 0600, names as the store spells them', () => {
  const { config, policy } = setup('modes');
  const show = () => rasgate(['user', 'callback', 'alice', '--config', config]);
  assert.equal(show().out, 'alice: callback none\n');

  const preset = rasgate(['user', 'callback', 'ALICE', '--preset', '555-1234', '--config', config]);
  assert.equal(preset.code, 0, preset.err);
  assert.equal(preset.out, `alice: callback preset 555-1234 (${policy})\n`);
  assert.equal(statSync(policy).mode & 0o777, 0o600);
  assert.deepEqual(parseUserPolicy(readFileSync(policy, 'utf8'), policy).users, { alice: { callback: { mode: 'preset', number: '555-1234' } } });
  assert.equal(show().out, 'alice: callback preset 555-1234\n');

  assert.equal(rasgate(['user', 'callback', 'bob', '--caller-set', '--default', '127.0.0.1:6400', '--config', config]).code, 0);
  assert.equal(rasgate(['user', 'callback', 'bob', '--config', config]).out, 'bob: callback set by caller, default 127.0.0.1:6400\n');
  assert.equal(rasgate(['user', 'callback', 'alice', '--caller-set', '--config', config]).code, 0);
  assert.deepEqual(parseUserPolicy(readFileSync(policy, 'utf8'), policy).users, {
    alice: { callback: { mode: 'caller' } },
    bob: { callback: { mode: 'caller', default: '127.0.0.1:6400' } },
  });

  assert.equal(rasgate(['user', 'callback', 'alice', '--none', '--config', config]).code, 0);
  assert.deepEqual(Object.keys(parseUserPolicy(readFileSync(policy, 'utf8'), policy).users), ['bob'], 'a user with no policy leaves the file');
  assert.deepEqual(readdirSync(dirname(policy)).filter((f) => f.endsWith('.tmp') || f.endsWith('.lock')), [], 'no temp or lock file left');
});

test('user callback: usage errors (exit 2) and refusals (exit 1) change nothing', () => {
  const { config, policy } = setup('errors');
  const cases: Array<[string[], number, RegExp]> = [
    [['--preset', '555;ATH0'], 2, /is not a callback number/],
    [['--preset', '5551234\rATZ'], 2, /is not a callback number/],
    [['--preset', '1', '--none'], 2, /exclude each other/],
    [['--default', '5551234'], 2, /--default goes with --caller-set/],
    [['--preset'], 2, /--preset needs a value/],
    [['--bogus'], 2, /unknown option/],
  ];
  for (const [args, code, message] of cases) {
    const r = rasgate(['user', 'callback', 'alice', ...args, '--config', config]);
    assert.equal(r.code, code, args.join(' '));
    assert.match(r.err, message, args.join(' '));
  }
  const nobody = rasgate(['user', 'callback', 'carol', '--none', '--config', config]);
  assert.equal(nobody.code, 1);
  assert.match(nobody.err, /no user "carol"/);
  assert.throws(() => statSync(policy), 'nothing was written');

  // A hand-edited file that does not pass the check is not overwritten; the problem is named.
  writeFileSync(policy, 'users:\n  alice: { callback: { mode: preset } }\n');
  const invalid = rasgate(['user', 'callback', 'bob', '--preset', '5551234', '--config', config]);
  assert.equal(invalid.code, 1);
  assert.match(invalid.err, /users\.alice\.callback\.number: is required with mode: preset/);
  assert.equal(readFileSync(policy, 'utf8'), 'users:\n  alice: { callback: { mode: preset } }\n');
  // check-config (and serve, at start and on SIGHUP) report it the same way.
  const check = rasgate(['check-config', config]);
  assert.notEqual(check.code, 0);
  assert.match(check.err + check.out, /authority\.policyFile: .*users\.alice\.callback\.number: is required with mode: preset/);
});

test('user callback: a domain authority keeps its policy in the directory', () => {
  const config = join(dir, 'ldap.yaml');
  writeFileSync(config, 'lines:\n  - listen: tcp://127.0.0.1:2323\nauthority:\n  type: ldap\n  servers: [ldap://127.0.0.1]\n');
  const r = rasgate(['user', 'callback', 'alice', '--none', '--config', config]);
  assert.equal(r.code, 1);
  assert.match(r.err, /accounts live in the domain/);
});

test('user callback: authority.policyFile names another file', () => {
  const { config } = setup('elsewhere', '  policyFile: ./policy/users.yaml\n');
  assert.equal(rasgate(['user', 'callback', 'bob', '--caller-set', '--config', config]).code, 0);
  const file = join(dirname(config), 'policy', 'users.yaml');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(dirname(file)).mode & 0o777, 0o700);
});
