/**
 * `rasgate user` on a filesystem that fails: a real 64 KiB tmpfs filled up, and a read-only
 * one, each mounted in a private mount namespace (unshare -m) that this file creates. The file
 * doubles as the scenario run inside the namespace (RASGATE_FAULT_SCENARIO set): the mounts
 * are only visible there, so the scenario makes its own assertions and the test checks that
 * it exited 0.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, readdirSync, mkdirSync, appendFileSync, openSync, writeSync, closeSync, ftruncateSync, fstatSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { needs } from '../helpers/tools.js';
import { ROOT, rasgate, rasgateArgv } from '../helpers/cli.js';
import { LocalAuthority, parseSmbpasswd, formatLine } from '../../src/authority/local/index.js';
import { ntowfv1, ntowfv2 } from '../../src/ntlm/crypto.js';
import { computeNtlmV2Response } from '../../src/ntlm/ntlmv2.js';

const PAGE = 4096;

function mount(...args: string[]): void {
  const r = spawnSync('mount', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `mount ${args.join(' ')}: ${r.stderr}`);
}

function writeConfig(dir: string, store: string): string {
  const config = join(dir, 'rasgate.yaml');
  writeFileSync(config, `lines:\n  - listen: tcp://127.0.0.1:2323\nauthority:\n  type: local\n  file: ${store}\n`);
  return config;
}

/** Does `password` still log `user` in (NTLMv2 through LocalAuthority, as a caller would)? */
function logsIn(store: string, user: string, password: string): boolean {
  const serverChallenge = Buffer.alloc(8, 7);
  const v2 = computeNtlmV2Response({ responseKeyNT: ntowfv2(ntowfv1(password), user, 'TEST'), serverChallenge, clientChallenge: Buffer.alloc(8, 9), timestamp: 0n, targetInfo: [] });
  const verdict = new LocalAuthority({ file: store, domain: 'TEST' }).verifySync({ user, domain: 'TEST', workstation: 'WS', serverChallenge, ntResponse: v2.ntResponse, lmResponse: Buffer.alloc(24) });
  return verdict.result === 'ok';
}

/** Write to `file` until the filesystem is full; returns its size (whole pages on tmpfs). */
function fillUp(file: string): number {
  const fd = openSync(file, 'a');
  const chunk = Buffer.alloc(PAGE, 0x2e);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    closeSync(fd);
  }
  return readFileSync(file).length;
}

function setFree(ballast: string, pages: number): void {
  const fd = openSync(ballast, 'r+');
  ftruncateSync(fd, fstatSync(fd).size - pages * PAGE);
  closeSync(fd);
}

/** A tmpfs of `size` at DIR/mnt holding the store; the configuration stays outside it. */
function tmpfsStore(dir: string, size: string): { mnt: string; store: string; config: string } {
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  mount('-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', mnt);
  const store = join(mnt, 'smbpasswd');
  return { mnt, store, config: writeConfig(dir, store) };
}

function scenarioFull(dir: string): void {
  const { mnt, store, config } = tmpfsStore(dir, '64k');
  const add = (name: string, password: string) => rasgate(['user', 'add', name, '--password-stdin', '--config', config], `${password}\n`);
  const first = add('alice', 'alice-pw');
  assert.equal(first.code, 0, first.err);

  // Pad the store with comments to a few lines short of 3 pages, then leave exactly the room
  // a writer needs for the lock (1 page) and a 3-page copy: the add that grows it to 4 fails.
  const line = formatLine({ name: 'u00', uid: 1001, ntHash: Buffer.alloc(16), hasLmHash: false, flags: new Set(['U']), lastChange: 0x5f5e1000 }).length + 1;
  const pad = 3 * PAGE - 4 * line - readFileSync(store).length;
  appendFileSync(store, `# ${'.'.repeat(pad - 3)}\n`);
  const ballast = join(mnt, 'ballast');
  fillUp(ballast);
  setFree(ballast, 4);

  const added: string[] = ['alice'];
  let failed: ReturnType<typeof rasgate> | undefined;
  let before = readFileSync(store);
  for (let i = 1; i <= 30 && !failed; i++) {
    const name = `u${String(i).padStart(2, '0')}`;
    before = readFileSync(store);
    const r = add(name, `${name}-pw`);
    if (r.code !== 0) failed = r;
    else {
      added.push(name);
      const now = parseSmbpasswd(readFileSync(store, 'utf8'));
      assert.deepEqual([now.problems, now.entries.map((e) => e.name)], [[], added], `${name}: "${r.out.trim()}", yet the store lost accounts`);
    }
  }
  assert.ok(failed, 'the disk never filled up');
  assert.equal(failed.code, 1);
  assert.doesNotMatch(failed.out, /added user/);
  assert.match(failed.err, new RegExp(`cannot write ${store}: no space left on device \\(ENOSPC\\); nothing changed`));
  assert.deepEqual(readFileSync(store), before, 'the old file stays whole');
  assert.deepEqual(readdirSync(mnt).sort(), ['ballast', 'smbpasswd'], 'no temp file, no lock left');
  const parsed = parseSmbpasswd(readFileSync(store, 'utf8'));
  assert.deepEqual(parsed.problems, []);
  assert.deepEqual(parsed.entries.map((e) => e.name), added);
  const list = rasgate(['user', 'list', '--config', config]);
  assert.equal(list.code, 0, list.err);
  assert.deepEqual(list.out.trim().split('\n').map((l) => l.split(/\s+/)[0]), added);
  for (const name of added) assert.ok(logsIn(store, name, `${name}-pw`), `${name} still logs in`);

  // No room at all, not even for the lock's pid: every writer fails cleanly, nothing is left.
  fillUp(ballast);
  const full = readFileSync(store);
  for (const args of [['add', 'late'], ['passwd', 'alice'], ['del', 'u01']]) {
    const r = rasgate(['user', ...args, '--password-stdin', '--config', config], 'other-pw\n');
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.out}${r.err}`);
    assert.match(r.err, new RegExp(`${store}.*no space left on device \\(ENOSPC\\); nothing changed`), args.join(' '));
  }
  assert.deepEqual(readFileSync(store), full);
  assert.deepEqual(readdirSync(mnt).sort(), ['ballast', 'smbpasswd']);

  // Room again: the next writer is not blocked by anything the failures left behind.
  rmSync(ballast);
  const later = add('late', 'late-pw');
  assert.equal(later.code, 0, later.err);
  assert.ok(logsIn(store, 'late', 'late-pw'));
  for (const name of added) assert.ok(logsIn(store, name, `${name}-pw`), `${name} still logs in`);
  assert.deepEqual(readdirSync(mnt), ['smbpasswd']);
}

function scenarioReadOnly(dir: string): void {
  const { mnt, store, config } = tmpfsStore(dir, '1m');
  for (const name of ['alice', 'bob']) {
    const r = rasgate(['user', 'add', name, '--password-stdin', '--config', config], `${name}-pw\n`);
    assert.equal(r.code, 0, r.err);
  }
  const before = readFileSync(store);
  mount('-o', 'remount,ro', mnt);
  for (const args of [['add', 'carol'], ['passwd', 'alice'], ['del', 'bob'], ['unlock', 'bob']]) {
    const r = rasgate(['user', ...args, '--password-stdin', '--config', config], 'new-pw\n');
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.out}${r.err}`);
    assert.match(r.err, new RegExp(`${store}.*read-only file system \\(EROFS\\); nothing changed`), args.join(' '));
    assert.equal(r.out, '');
  }
  assert.deepEqual(readFileSync(store), before);
  assert.deepEqual(readdirSync(mnt), ['smbpasswd']);
  const list = rasgate(['user', 'list', '--config', config]);
  assert.equal(list.code, 0, list.err);
  assert.match(list.out, /^alice\s/m);
  assert.ok(logsIn(store, 'alice', 'alice-pw') && logsIn(store, 'bob', 'bob-pw'));

  // A store whose folder does not exist yet on a read-only filesystem.
  const deeper = join(mnt, 'new', 'smbpasswd');
  const r = rasgate(['user', 'add', 'carol', '--password-stdin', '--config', writeConfig(join(dir, 'mnt2'), deeper)], 'pw\n');
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`${deeper}.*read-only file system \\(EROFS\\)`));
}

const scenario = process.env.RASGATE_FAULT_SCENARIO;
if (scenario) {
  const dir = process.env.RASGATE_FAULT_DIR!;
  if (scenario === 'full') scenarioFull(dir);
  else if (scenario === 'readonly') scenarioReadOnly(dir);
  else throw new Error(`unknown scenario ${scenario}`);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'rasgate-store-faults-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const self = fileURLToPath(import.meta.url);

  /** Run this file's scenario NAME in a new private mount namespace. */
  const inNamespace = (name: string) => {
    const sub = join(dir, name);
    mkdirSync(sub);
    mkdirSync(join(sub, 'mnt2'));
    const [node, ...nodeArgs] = rasgateArgv([]).slice(0, 3);
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', node!, ...nodeArgs, self], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, RASGATE_FAULT_SCENARIO: name, RASGATE_FAULT_DIR: sub },
      timeout: 240_000,
    });
    assert.equal(r.status, 0, `scenario ${name} failed:\n${r.stdout}\n${r.stderr}`);
  };

  test('a full disk: the add that does not fit fails with the cause, the store stays whole, no temp file or lock is left', { skip: needs('root', 'unshare', 'mount'), timeout: 300_000 }, () => inNamespace('full'));

  test('a read-only filesystem: add, passwd, del, unlock fail with the cause and change nothing; list works', { skip: needs('root', 'unshare', 'mount'), timeout: 300_000 }, () => inNamespace('readonly'));
}
