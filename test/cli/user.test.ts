/**
 * `rasgate user ...` as a user runs it: a real process (node --import tsx src/cli/main.ts),
 * passwords through --password-stdin, and through a real pseudo-terminal (Python's pty module)
 * for the no-echo prompt.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PYTHON, needs } from '../helpers/tools.js';
import { parseSmbpasswd } from '../../src/authority/local/index.js';
import { resolveLocalStorePath } from '../../src/cli/commands/user.js';
import { ntowfv1 } from '../../src/ntlm/crypto.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const main = join(root, 'src/cli/main.ts');
const tsx = fileURLToPath(import.meta.resolve('tsx'));
const dir = mkdtempSync(join(tmpdir(), 'rasgate-user-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function setup(name: string) {
  const store = join(dir, name, 'var', 'smbpasswd');
  const config = join(dir, name, 'rasgate.yaml');
  mkdirSync(dirname(config), { recursive: true });
  writeFileSync(config, `lines:\n  - listen: tcp://127.0.0.1:2323\nauthority:\n  type: local\n  file: ${store}\n`);
  return { store, config };
}

function rasgate(args: string[], input?: string, opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(process.execPath, ['--import', tsx, main, ...args], { input, encoding: 'utf8', cwd: opts.cwd ?? root, env: { ...process.env, RASGATE_CONFIG: '', ...opts.env }, timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
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
  assert.equal(resolveLocalStorePath(a.config, { RASGATE_CONFIG: b.config }), a.store);
  assert.equal(resolveLocalStorePath(undefined, { RASGATE_CONFIG: b.config }), b.store);
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
  const r = spawnSync(PYTHON, ['-c', PTY_DRIVER, JSON.stringify([process.execPath, '--import', tsx, main, ...args]), JSON.stringify(steps)], { cwd: root, encoding: 'utf8', timeout: 120_000, env: { ...process.env, RASGATE_CONFIG: '' } });
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
