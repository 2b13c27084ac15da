/**
 * SmbpasswdStore writes: atomic (temp + rename), mode 0600, directory 0700, untouched lines
 * kept, stale locks broken, and several writer processes at once lose no update.
 * The file doubles as the writer process (RASGATE_STORE_WORKER set): no fixture file needed.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, statSync, readdirSync, existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SmbpasswdStore, withFileLock, StoreLockError, type SmbpasswdEntry } from '../../src/authority/local/index.js';
import { ntowfv1 } from '../../src/ntlm/crypto.js';

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
    await assert.rejects(impatient.update((ed) => ed.put(entry('bob', 1001))), StoreLockError);
    writeFileSync(`${file}.lock`, `${process.pid} ${Date.now() - 60_000}\n`);
    await impatient.update((ed) => ed.put(entry('bob', 1001)));
    assert.equal(impatient.lookup('bob')?.name, 'bob', 'a lock older than staleMs is broken even if its pid lives');
    rmSync(`${file}.lock`, { force: true });
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
