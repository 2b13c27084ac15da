/**
 * `rasgate check-config FILE` checks that the files a valid configuration names can be used by
 * the user running it: the local store, the log folder, ldap's CA and password files, exec
 * programs and their folders. Root reads everything, so "unreadable" runs the command as
 * nobody (uid 65534) or puts a directory where a file should be.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needs } from '../helpers/tools.js';
import { rasgate } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'rasgate-check-config-'));
chmodSync(dir, 0o755);
after(() => rmSync(dir, { recursive: true, force: true }));

/** A folder with `rasgate.yaml` holding `yaml`; returns both paths. */
function configIn(name: string, yaml: string): { folder: string; config: string } {
  const folder = join(dir, name);
  mkdirSync(folder, { mode: 0o755 });
  const config = join(folder, 'rasgate.yaml');
  writeFileSync(config, yaml, { mode: 0o644 });
  return { folder, config };
}

const LINE = 'lines:\n  - listen: tcp://127.0.0.1:2323\n';

/** The problem lines check-config printed (after its "N problems" header). */
function problems(r: { code: number | null; out: string; err: string }): string[] {
  assert.equal(r.code, 1, `expected problems, got exit ${r.code}: ${r.out}${r.err}`);
  return r.err.split('\n').slice(1).filter(Boolean).map((l) => l.trim());
}

test('a configuration whose files are all usable is valid', () => {
  const { folder, config } = configIn('fine', `${LINE}authority:\n  type: local\n  file: ./var/smbpasswd\nlog:\n  file:\n    path: ./log/rasgate-%DATE%.log\nactions:\n  shell: { exec: [sh, -c, 'true'], cwd: /tmp }\n`);
  const r = rasgate(['check-config', config]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, new RegExp(`${config}: valid`));
  assert.match(r.out, new RegExp(`${join(folder, 'var/smbpasswd')}`));
});

test('a store that is a directory, a program that cannot run, a missing cwd: each named by its key', () => {
  const folder = join(dir, 'broken');
  const { config } = configIn('broken', `lines:\n  - listen: tcp://127.0.0.1:2323\n    action: { exec: [${join(folder, 'not-executable')}] }\n  - listen: tcp://127.0.0.1:2324\n    action: shell\nauthority:\n  type: local\n  file: ./store\nactions:\n  shell: { exec: [no-such-program-rasgate, -i], cwd: ./gone }\n  here: { exec: [/bin/sh], cwd: ./a-file }\n`);
  mkdirSync(join(folder, 'store'));
  writeFileSync(join(folder, 'not-executable'), '#!/bin/sh\n', { mode: 0o644 });
  writeFileSync(join(folder, 'a-file'), '');
  assert.deepEqual(problems(rasgate(['check-config', config])).sort(), [
    `actions.here.cwd: ${join(folder, 'a-file')} is not a directory`,
    `actions.shell.cwd: ${join(folder, 'gone')} does not exist`,
    `actions.shell.exec[0]: "no-such-program-rasgate" is not a program in PATH`,
    `authority.file: cannot read ${join(folder, 'store')}: illegal operation on a directory (EISDIR)`,
    `lines[0].action.exec[0]: cannot run ${join(folder, 'not-executable')}: permission denied (EACCES)`,
  ]);
});

test('as another user: unreadable store, unwritable store and log folders, unreadable ldap files', { skip: needs('root', 'setpriv') }, () => {
  const nobody = { asUid: 65534 };
  const local = configIn('local-nobody', `${LINE}authority:\n  type: local\n  file: ./var/smbpasswd\nlog:\n  file:\n    path: ./log/rasgate-%DATE%.log\naudit:\n  file: ./log/audit-%DATE%.jsonl\n`);
  mkdirSync(join(local.folder, 'var'), { mode: 0o755 });
  writeFileSync(join(local.folder, 'var/smbpasswd'), '', { mode: 0o600 });
  mkdirSync(join(local.folder, 'log'), { mode: 0o755 });
  assert.deepEqual(problems(rasgate(['check-config', local.config], undefined, nobody)), [
    `authority.file: cannot read ${join(local.folder, 'var/smbpasswd')}: permission denied (EACCES)`,
    `stateDirectory: cannot write in ${join(local.folder, 'var')}: permission denied (EACCES)`,
    `log.file.path: cannot create files in ${join(local.folder, 'log')}: permission denied (EACCES)`,
    `audit.file: cannot create files in ${join(local.folder, 'log')}: permission denied (EACCES)`,
  ]);
  assert.equal(rasgate(['check-config', local.config]).code, 0, 'root can');

  const absent = configIn('absent-nobody', `${LINE}authority:\n  type: local\n  file: ./var/deeper/smbpasswd\n`);
  mkdirSync(join(absent.folder, 'var'), { mode: 0o755 });
  assert.deepEqual(problems(rasgate(['check-config', absent.config], undefined, nobody)), [
    `authority.file: ${join(absent.folder, 'var/deeper/smbpasswd')} does not exist and cannot be created in ${join(absent.folder, 'var')}: permission denied (EACCES)`,
    `stateDirectory: cannot write in ${join(absent.folder, 'var')}: permission denied (EACCES)`,
  ]);

  const ldap = configIn('ldap-nobody', `${LINE}authority:\n  type: ldap\n  servers: [ldaps://dc1.example.test]\n  caFile: ./ca.pem\n  bindDn: svc\n  bindPasswordFile: ./bind.pw\n`);
  writeFileSync(join(ldap.folder, 'ca.pem'), 'not really a certificate\n', { mode: 0o600 });
  writeFileSync(join(ldap.folder, 'bind.pw'), 'secret\n', { mode: 0o600 });
  const r = rasgate(['check-config', ldap.config], undefined, nobody);
  assert.match(problems(r).join('\n'), new RegExp(`^authority.caFile: cannot be read: EACCES: permission denied, open '${join(ldap.folder, 'ca.pem')}'`, 'm'));
  assert.doesNotMatch(r.err, /secret/);
  chmodSync(join(ldap.folder, 'ca.pem'), 0o644);
  assert.match(problems(rasgate(['check-config', ldap.config], undefined, nobody)).join('\n'), new RegExp(`^authority.bindPasswordFile: cannot be read: EACCES: permission denied, open '${join(ldap.folder, 'bind.pw')}'`, 'm'));
});
