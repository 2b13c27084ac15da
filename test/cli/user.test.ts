/**
 * `rasgate user ...` as a user runs it: a real process (node --import tsx src/cli/main.ts),
 * passwords through --password-stdin, and through a real pseudo-terminal (Python's pty module)
 * for the no-echo prompt.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, mkdirSync, chmodSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { PYTHON, needs } from '../helpers/tools.js';
import { ROOT as root, rasgate, rasgateArgv } from '../helpers/cli.js';
import { parseSmbpasswd } from '../../src/authority/local/index.js';
import { resolveLocalStore } from '../../src/cli/commands/user.js';
import { ntowfv1 } from '../../src/ntlm/crypto.js';

const dir = mkdtempSync(join(tmpdir(), 'rasgate-user-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function setup(name: string) {
  const store = join(dir, name, 'var', 'smbpasswd');
  const config = join(dir, name, 'rasgate.yaml');
  mkdirSync(dirname(config), { recursive: true });
  writeFileSync(config, `lines:\n  - listen: tcp://127.0.0.1:2323\nauthority:\n  type: local\n  file: ${store}\n`);
  return { store, config };
}

const accounts = (file: string) => parseSmbpasswd(readFileSync(file, 'utf8')).entries;

test('add, passwd, list, unlock, del with --password-stdin and --config', () => {
  const { store, config } = setup('basic');
  const add = rasgate(['user', 'add', 'alice', '--password-stdin', '--config', config], 'first-pw\n');
  assert.equal(add.code, 0, add.err);
  const [alice] = accounts(store);
  assert.equal(alice!.name, 'alice');
  assert.equal(alice!.ntHash!.toString('hex'), ntowfv1('first-pw').toString('hex'));
  assert.ok(!readFileSync(store, 'utf8').includes('first-pw'));
  assert.match(readFileSync(store, 'utf8'), /^alice:1000:X{32}:[0-9A-F]{32}:\[U {10}\]:LCT-[0-9A-F]{8}:\n$/);

  assert.equal(rasgate(['user', 'add', 'alice', '--password-stdin', '--config', config], 'other\n').code, 1, 'exists already');
  assert.equal(rasgate(['user', 'add', 'bob', '--password-stdin', '--config', config], 'bob-pw\nignored second line\n').code, 0);
  assert.equal(accounts(store).find((e) => e.name === 'bob')!.ntHash!.toString('hex'), ntowfv1('bob-pw').toString('hex'), 'exactly one line read');

  const pw = rasgate(['user', 'passwd', 'alice', '--password-stdin', '--config', config], 'second-pw\r\n');
  assert.equal(pw.code, 0, pw.err);
  assert.equal(accounts(store)[0]!.ntHash!.toString('hex'), ntowfv1('second-pw').toString('hex'));
  assert.equal(rasgate(['user', 'passwd', 'nobody', '--password-stdin', '--config', config], 'x\n').code, 1);

  writeFileSync(store, readFileSync(store, 'utf8').replace('[U          ]', '[UL         ]'));
  const list = rasgate(['user', 'list', '--config', config]);
  assert.equal(list.code, 0);
  assert.match(list.out, /^alice\s+\[UL {9}\]$/m);
  assert.match(list.out, /^bob\s+\[U {10}\]$/m);
  assert.doesNotMatch(list.out, /[0-9A-F]{32}/, 'names and flags only');

  const unlock = rasgate(['user', 'unlock', 'alice', '--config', config]);
  assert.equal(unlock.code, 0, unlock.err);
  assert.deepEqual([...accounts(store)[0]!.flags], ['U']);
  assert.match(rasgate(['user', 'unlock', 'alice', '--config', config]).out, /was not locked/);

  assert.equal(rasgate(['user', 'del', 'bob', '--config', config]).code, 0);
  assert.deepEqual(accounts(store).map((e) => e.name), ['alice']);
  assert.equal(rasgate(['user', 'del', 'bob', '--config', config]).code, 1);
});

test('empty password, bad names, bad usage are refused and change nothing', () => {
  const { store, config } = setup('refusals');
  assert.equal(rasgate(['user', 'add', 'alice', '--password-stdin', '--config', config], '\n').code, 1);
  assert.equal(rasgate(['user', 'add', 'alice', '--password-stdin', '--config', config], '').code, 1);
  for (const name of ['a:b', 'a b', 'dom\\user']) assert.equal(rasgate(['user', 'add', name, '--password-stdin', '--config', config], 'pw\n').code, 2, name);
  assert.equal(rasgate(['user', 'frobnicate', 'x', '--config', config]).code, 2);
  assert.equal(rasgate(['user', 'add', '--config', config]).code, 2);
  const noTty = rasgate(['user', 'add', 'alice', '--config', config], 'pw\n');
  assert.equal(noTty.code, 2);
  assert.match(noTty.err, /--password-stdin/);
  assert.throws(() => readFileSync(store), /ENOENT/);
});

test('store path resolution: --config, then $RASGATE_CONFIG, then ./var/smbpasswd', () => {
  const a = setup('resolve-a');
  const b = setup('resolve-b');
  assert.equal(resolveLocalStore(a.config, { RASGATE_CONFIG: b.config }).path, a.store);
  assert.equal(resolveLocalStore(undefined, { RASGATE_CONFIG: b.config }).path, b.store);
  const cwd = join(dir, 'cwd');
  mkdirSync(cwd);
  assert.equal(rasgate(['user', 'add', 'carol', '--password-stdin'], 'pw\n', { cwd }).code, 0);
  assert.equal(accounts(join(cwd, 'var', 'smbpasswd'))[0]!.name, 'carol');
  assert.equal(rasgate(['user', 'add', 'dan', '--password-stdin'], 'pw\n', { env: { RASGATE_CONFIG: b.config } }).code, 0);
  assert.equal(accounts(b.store)[0]!.name, 'dan');
});

/** Drive the CLI on a pseudo-terminal; `script` is a list of [expected prompt, keys to type]. */
const PTY_DRIVER = `
import json, os, pty, select, subprocess, sys, time
argv, steps = json.loads(sys.argv[1]), json.loads(sys.argv[2])
master, slave = pty.openpty()
p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
os.close(slave)
seen = b''
def read_until(pattern, limit=60):
    global seen
    end = time.time() + limit
    while pattern.encode() not in seen and time.time() < end:
        r, _, _ = select.select([master], [], [], 0.5)
        if r:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                return
            if not chunk:
                return
            seen += chunk
for prompt, keys in steps:
    read_until(prompt)
    os.write(master, keys.encode())
code = p.wait(timeout=60)
try:
    while True:
        r, _, _ = select.select([master], [], [], 0.2)
        if not r:
            break
        chunk = os.read(master, 4096)
        if not chunk:
            break
        seen += chunk
except OSError:
    pass
print(json.dumps({"code": code, "output": seen.decode("utf-8", "replace")}))
`;

function onPty(args: string[], steps: Array<[string, string]>): { code: number; output: string } {
  const r = spawnSync(PYTHON, ['-c', PTY_DRIVER, JSON.stringify(rasgateArgv(args)), JSON.stringify(steps)], { cwd: root, encoding: 'utf8', timeout: 120_000, env: { ...process.env, RASGATE_CONFIG: '' } });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { code: number; output: string };
}

test('on a terminal: prompts twice without echo; backspace edits; mismatch and ^C change nothing', { skip: needs(PYTHON) }, () => {
  const { store, config } = setup('tty');
  const ok = onPty(['user', 'add', 'tina', '--config', config], [['New password: ', 'tty-pwX\x7f\r'], ['Retype new password: ', 'tty-pw\r']]);
  assert.equal(ok.code, 0, ok.output);
  assert.doesNotMatch(ok.output, /tty-pw/, 'the password is never echoed');
  assert.match(ok.output, /added user tina/);
  assert.equal(accounts(store)[0]!.ntHash!.toString('hex'), ntowfv1('tty-pw').toString('hex'));

  const mismatch = onPty(['user', 'passwd', 'tina', '--config', config], [['New password: ', 'one\r'], ['Retype new password: ', 'two\r']]);
  assert.equal(mismatch.code, 1);
  assert.match(mismatch.output, /do not match/);
  const interrupted = onPty(['user', 'passwd', 'tina', '--config', config], [['New password: ', 'abc\x03']]);
  assert.equal(interrupted.code, 130);
  assert.equal(accounts(store)[0]!.ntHash!.toString('hex'), ntowfv1('tty-pw').toString('hex'), 'unchanged');
});

test('every command names the store it used; list keeps its stdout for accounts', () => {
  const { store, config } = setup('named');
  const add = rasgate(['user', 'add', 'alice', '--password-stdin', '--config', config], 'pw\n');
  assert.equal(add.code, 0, add.err);
  assert.match(add.err, new RegExp(`${store} does not exist yet: creating it`), 'a new file is said to be new');
  assert.equal(add.out, `added user alice to ${store}\n`);
  const again = rasgate(['user', 'add', 'bob', '--password-stdin', '--config', config], 'pw\n');
  assert.doesNotMatch(again.err, /creating/);
  assert.equal(again.out, `added user bob to ${store}\n`);
  assert.equal(rasgate(['user', 'passwd', 'bob', '--password-stdin', '--config', config], 'pw2\n').out, `password changed for bob in ${store}\n`);
  assert.equal(rasgate(['user', 'unlock', 'bob', '--config', config]).out, `bob was not locked in ${store}\nbob was not locked out (a running rasgate clears what it holds within a second)\n`);
  const list = rasgate(['user', 'list', '--config', config]);
  assert.equal(list.code, 0);
  assert.deepEqual(list.out.trim().split('\n').map((l) => l.split(/\s+/)[0]), ['alice', 'bob'], 'stdout: accounts only');
  assert.equal(list.err, `rasgate user: ${store}: 2 accounts\n`);
  assert.equal(rasgate(['user', 'del', 'bob', '--config', config]).out, `deleted user bob from ${store}\n`);
  const missing = rasgate(['user', 'del', 'bob', '--config', config]);
  assert.equal(missing.err, `rasgate user: no user "bob" in ${store}\n`);

  const absent = setup('named-absent');
  const empty = rasgate(['user', 'list', '--config', absent.config]);
  assert.equal(empty.code, 0);
  assert.equal(empty.out, '');
  assert.equal(empty.err, `rasgate user: ${absent.store} does not exist yet: no accounts\n`);
});

test('run from a folder without configuration: the new ./var/smbpasswd it creates is named', () => {
  const cwd = join(dir, 'elsewhere');
  mkdirSync(cwd);
  const store = join(cwd, 'var', 'smbpasswd');
  const r = rasgate(['user', 'add', 'carol', '--password-stdin'], 'pw\n', { cwd });
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, new RegExp(`${store} does not exist yet: creating it \\(no configuration found: the embedded default's ./var/smbpasswd\\)`));
  assert.equal(r.out, `added user carol to ${store}\n`);
});

test('an unreadable or unwritable store is an error naming the file and the cause', { skip: needs('root', 'setpriv') }, () => {
  const { store, config } = setup('unreadable');
  assert.equal(rasgate(['user', 'add', 'alice', '--password-stdin', '--config', config], 'pw\n').code, 0);
  // Another user may traverse the folders, but not read the 0600 file root owns.
  for (let d = dirname(store); d !== dirname(dir); d = dirname(d)) chmodSync(d, 0o755);
  const before = readFileSync(store);
  const nobody = { asUid: 65534 };
  const list = rasgate(['user', 'list', '--config', config], undefined, nobody);
  assert.equal(list.code, 1, list.out + list.err);
  assert.equal(list.out, '');
  assert.match(list.err, new RegExp(`cannot read ${store}: permission denied \\(EACCES\\)`));
  for (const args of [['add', 'bob'], ['passwd', 'alice'], ['del', 'alice'], ['unlock', 'alice']]) {
    const r = rasgate(['user', ...args, '--password-stdin', '--config', config], 'pw\n', nobody);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.out}${r.err}`);
    assert.match(r.err, new RegExp(`cannot read ${store}: permission denied \\(EACCES\\)`), args.join(' '));
  }
  // Readable but in a folder the user cannot write: writes fail, naming the store.
  chmodSync(store, 0o644);
  const listed = rasgate(['user', 'list', '--config', config], undefined, nobody);
  assert.equal(listed.code, 0, listed.err);
  for (const args of [['add', 'bob'], ['passwd', 'alice'], ['del', 'alice']]) {
    const r = rasgate(['user', ...args, '--password-stdin', '--config', config], 'pw\n', nobody);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.out}${r.err}`);
    assert.match(r.err, new RegExp(`cannot lock ${store} .*permission denied \\(EACCES\\); nothing changed`), args.join(' '));
  }
  assert.deepEqual(readFileSync(store), before);
  // The audit folder is root's `user add` record (stateDirectory is ./var beside the config too).
  assert.deepEqual(readdirSync(dirname(store)).sort(), ['audit', 'smbpasswd']);

  // Root reads everything, but not a directory where the file should be.
  const folder = setup('folder-store');
  mkdirSync(folder.store, { recursive: true });
  const r = rasgate(['user', 'list', '--config', folder.config]);
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`cannot read ${folder.store}: illegal operation on a directory \\(EISDIR\\)`));
});
