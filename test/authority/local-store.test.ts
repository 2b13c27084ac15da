/**
 * SmbpasswdStore writes: atomic (temp + rename), mode 0600, directory 0700, untouched lines
 * kept, stale locks broken, and several writer processes at once lose no update.
 * The file doubles as the writer process (RASGATE_STORE_WORKER set): no fixture file needed.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, statSync, readdirSync, existsSync, mkdirSync, utimesSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SmbpasswdStore, LocalAuthority, withFileLock, FileLockError, FileIoError, type SmbpasswdEntry } from '../../src/authority/local/index.js';
import { ntowfv1 } from '../../src/ntlm/crypto.js';
import { needs } from '../helpers/tools.js';

const X32 = 'X'.repeat(32);
const entry = (name: string, uid: number, password = 'pw'): SmbpasswdEntry => ({ name, uid, ntHash: ntowfv1(password), hasLmHash: false, flags: new Set(['U']), lastChange: 0x5f5e1000 });

async function worker(): Promise<void> {
  const [file, id, count] = [process.env.RASGATE_STORE_FILE!, process.env.RASGATE_STORE_WORKER!, Number(process.env.RASGATE_STORE_COUNT)];
  const store = new SmbpasswdStore(file, { lock: { timeoutMs: 60_000 } });
  for (let i = 0; i < count; i++) {
    // Read-modify-write of a shared counter account plus one new account per step.
    await store.update((ed) => {
      const counter = ed.get('counter')!;
      ed.put({ ...counter, uid: counter.uid + 1 });
      ed.put(entry(`w${id}-${i}`, 2000 + i));
    });
  }
}

if (process.env.RASGATE_STORE_WORKER) {
  await worker();
} else {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  const dir = mkdtempSync(join(tmpdir(), 'rasgate-store-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('writes are atomic renames, mode 0600, directory created 0700, no temp files left', async () => {
    const file = join(dir, 'new', 'deeper', 'smbpasswd');
    const store = new SmbpasswdStore(file);
    await store.update((ed) => ed.put(entry('alice', 1000)));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(dirname(file)).mode & 0o777, 0o700);
    const inodeBefore = statSync(file).ino;
    await store.update((ed) => ed.put(entry('bob', 1001)));
    assert.notEqual(statSync(file).ino, inodeBefore, 'replaced by rename, never rewritten in place');
    assert.deepEqual(readdirSync(dirname(file)), ['smbpasswd']);
    assert.deepEqual(store.list().map((e) => e.name), ['alice', 'bob']);
    assert.ok(!readFileSync(file, 'utf8').includes('pw'), 'no clear password');
  });

  test('a failing edit leaves the file untouched and the lock released', async () => {
    const file = join(dir, 'failing');
    const store = new SmbpasswdStore(file);
    await store.update((ed) => ed.put(entry('alice', 1000)));
    const before = readFileSync(file, 'utf8');
    await assert.rejects(store.update(() => { throw new Error('nope'); }), /nope/);
    assert.equal(readFileSync(file, 'utf8'), before);
    assert.equal(existsSync(`${file}.lock`), false);
  });

  test('comments and malformed lines survive an update byte for byte', async () => {
    const file = join(dir, 'kept');
    const original = `# operator note\nalice:1000:${X32}:${X32}:[U          ]:LCT-5F5E1000:\nthis line is broken\nbob:1001:${X32}:${X32}:[DU         ]:LCT-5F5E1000:\n`;
    writeFileSync(file, original, { mode: 0o600 });
    const store = new SmbpasswdStore(file);
    await store.update((ed) => {
      ed.delete('alice');
      ed.put(entry('carol', 1002));
    });
    const lines = readFileSync(file, 'utf8').split('\n');
    assert.equal(lines[0], '# operator note');
    assert.equal(lines[1], 'this line is broken');
    assert.equal(lines[2], `bob:1001:${X32}:${X32}:[DU         ]:LCT-5F5E1000:`);
    assert.match(lines[3]!, /^carol:1002:/);
  });

  test('a stale lock (dead pid) is broken; a live one makes the writer wait, then time out', async () => {
    const file = join(dir, 'locked');
    writeFileSync(`${file}.lock`, `999999999 ${Date.now()}\n`);
    const store = new SmbpasswdStore(file);
    await store.update((ed) => ed.put(entry('alice', 1000)));
    assert.equal(store.lookup('alice')?.name, 'alice');
    writeFileSync(`${file}.lock`, `${process.pid} ${Date.now()}\n`);
    const impatient = new SmbpasswdStore(file, { lock: { timeoutMs: 200 } });
    await assert.rejects(impatient.update((ed) => ed.put(entry('bob', 1001))), FileLockError);
    writeFileSync(`${file}.lock`, `${process.pid} ${Date.now()}\n`);
    const past = new Date(Date.now() - 60_000);
    utimesSync(`${file}.lock`, past, past);
    await impatient.update((ed) => ed.put(entry('bob', 1001)));
    assert.equal(impatient.lookup('bob')?.name, 'bob', 'a lock last written before staleMs is broken even if its pid lives');
    rmSync(`${file}.lock`, { force: true });
  });

  test('an empty lock (its writer died before writing its pid) is broken once its mtime is old', async () => {
    const file = join(dir, 'empty-lock');
    const lock = `${file}.lock`;
    writeFileSync(lock, '');
    const impatient = new SmbpasswdStore(file, { lock: { timeoutMs: 200 } });
    await assert.rejects(impatient.update((ed) => ed.put(entry('alice', 1000))), FileLockError, 'a fresh empty lock is one being written: wait');
    const past = new Date(Date.now() - 60_000);
    utimesSync(lock, past, past);
    const store = new SmbpasswdStore(file, { lock: { timeoutMs: 2000 } });
    await store.update((ed) => ed.put(entry('alice', 1000)));
    assert.equal(store.lookup('alice')?.name, 'alice');
    writeFileSync(lock, 'garbage\n');
    utimesSync(lock, past, past);
    await store.update((ed) => ed.put(entry('bob', 1001)));
    assert.equal(store.lookup('bob')?.name, 'bob', 'no pid in it: judged by its mtime');
    writeFileSync(lock, '999999999\n');
    await store.update((ed) => ed.put(entry('carol', 1002)));
    assert.equal(store.lookup('carol')?.name, 'carol', 'a dead pid without a time is stale at once');
    assert.equal(existsSync(lock), false);
  });

  test('temp files and set-aside locks of dead writers are removed by the next write; a live writer\'s stay', async () => {
    const folder = join(dir, 'leftovers');
    mkdirSync(folder);
    const file = join(folder, 'smbpasswd');
    const hash = ntowfv1('secret').toString('hex').toUpperCase();
    const dead = [`.smbpasswd.999999999.a1b2c3d4e5f6.tmp`, `.smbpasswd.999999998.0011223344ff.tmp`, `smbpasswd.lock.stale-999999999-abc123`];
    const kept = [`.smbpasswd.${process.pid}.a1b2c3d4e5f6.tmp`, `.other.999999999.a1b2c3d4e5f6.tmp`, 'notes.txt'];
    for (const name of [...dead, ...kept]) writeFileSync(join(folder, name), `alice:1000:${X32}:${hash}:[U          ]:LCT-5F5E1000:\n`, { mode: 0o600 });
    const store = new SmbpasswdStore(file);
    await store.update((ed) => ed.put(entry('alice', 1000)));
    assert.deepEqual(readdirSync(folder).sort(), ['smbpasswd', ...kept].sort());
  });

  test('a write that fails leaves the old file whole, no temp file and no lock, and names the file and the cause', { skip: needs('root', 'chattr') }, async () => {
    const folder = join(dir, 'immutable');
    mkdirSync(folder);
    const file = join(folder, 'smbpasswd');
    const store = new SmbpasswdStore(file);
    await store.update((ed) => ed.put(entry('alice', 1000)));
    const before = readFileSync(file);
    assert.equal(spawnSync('chattr', ['+i', file]).status, 0);
    try {
      await assert.rejects(store.update((ed) => ed.put(entry('bob', 1001))), (err: unknown) => {
        assert.ok(err instanceof FileIoError, String(err));
        assert.equal(err.path, file);
        assert.equal(err.errno, 'EPERM');
        assert.match(err.message, new RegExp(`${file}.*operation not permitted \\(EPERM\\)`));
        return true;
      });
    } finally {
      spawnSync('chattr', ['-i', file]);
    }
    assert.deepEqual(readFileSync(file), before);
    assert.deepEqual(readdirSync(folder), ['smbpasswd']);
  });

  test('health tells an unreadable store from an absent or an empty one; accounts read before are kept', async () => {
    const file = join(dir, 'health');
    const store = new SmbpasswdStore(file, { recheckMs: 0 });
    store.reload();
    assert.deepEqual(store.health(), { state: 'absent', accounts: 0 });
    writeFileSync(file, '# nobody yet\n', { mode: 0o600 });
    assert.deepEqual(store.health(), { state: 'ok', accounts: 0 });
    await store.update((ed) => ed.put(entry('alice', 1000)));
    assert.deepEqual(store.health(), { state: 'ok', accounts: 1 });
    rmSync(file);
    mkdirSync(file); // a directory where the file should be: unreadable even for root
    const h = store.health();
    assert.equal(h.state, 'unreadable');
    assert.equal(h.accounts, 1, 'the accounts read before stay usable');
    assert.match(h.error!, /illegal operation on a directory \(EISDIR\)/);
    assert.equal(store.lookup('alice')?.name, 'alice');
    await assert.rejects(store.update((ed) => ed.put(entry('bob', 1001))), (err: unknown) => err instanceof FileIoError && err.path === file && err.errno === 'EISDIR');
    assert.equal(existsSync(`${file}.lock`), false);
    const authority = new LocalAuthority({ file, domain: 'TEST' });
    assert.equal(authority.health().state, 'unreadable', 'the daemon reads it from the authority');
    rmSync(file, { recursive: true });
    assert.deepEqual(store.health(), { state: 'absent', accounts: 0 });
  });

  test('withFileLock serializes writers inside one process', async () => {
    const path = join(dir, 'serial');
    let inside = 0;
    let max = 0;
    await Promise.all(Array.from({ length: 8 }, () => withFileLock(path, async () => {
      inside++;
      max = Math.max(max, inside);
      await new Promise((r) => setTimeout(r, 5));
      inside--;
    })));
    assert.equal(max, 1);
  });

  test('several writer processes at once: no update is lost', { timeout: 120_000 }, async () => {
    const file = join(dir, 'concurrent');
    writeFileSync(file, `counter:0:${X32}:${X32}:[D          ]:LCT-00000000:\n`, { mode: 0o600 });
    const WORKERS = 5;
    const COUNT = 8;
    const self = fileURLToPath(import.meta.url);
    const runs = Array.from({ length: WORKERS }, (_, id) => new Promise<number>((done, fail) => {
      const child = spawn(process.execPath, ['--import', 'tsx', self], {
        cwd: root,
        env: { ...process.env, RASGATE_STORE_WORKER: String(id), RASGATE_STORE_FILE: file, RASGATE_STORE_COUNT: String(COUNT) },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      child.on('error', fail);
      child.on('exit', (code) => done(code ?? 1));
    }));
    assert.deepEqual(await Promise.all(runs), Array(WORKERS).fill(0));
    const store = new SmbpasswdStore(file);
    assert.equal(store.lookup('counter')!.uid, WORKERS * COUNT, 'every read-modify-write of the shared line counted');
    assert.equal(store.list().length, 1 + WORKERS * COUNT, 'every added account present');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('.concurrent') || n.endsWith('.lock')), []);
  });
}
