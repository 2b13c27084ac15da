/**
 * Faults of the host and of the authority, against the real `rasgate serve`: for each, what the
 * caller hears, what is logged, that the other calls carry on, and that nothing is lost.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needs } from '../helpers/tools.js';
import { waitFor } from '../helpers/net.js';
import { startFakeDc } from '../helpers/fake-dc.js';
import { SerialPortStream } from '@serialport/stream';
import { autoDetect } from '@serialport/bindings-cpp';
import { SimModem } from '../../src/serial/sim-modem.js';
import { Caller, addUser, startGateway, tempDir } from './harness.js';

const tmp = tempDir('rasgate-faults-');
after(() => tmp.remove());

const UNAVAILABLE = /Service unavailable, please try again later/;
const GOING_DOWN = /The service is going down, please call again later\./;

test('the authority goes down mid-call and comes back: "try later" (never "Login incorrect"), logged as an outage, no restart needed', async () => {
  const dc = await startFakeDc({ users: { alice: 'Alice-pw-1' } });
  const gw = await startGateway(
    `lines: [{ id: tcp0, listen: tcp://127.0.0.1:0, mode: raw }]\nauthority: { type: ldap, servers: ["${dc.url}"], connectTimeoutMs: 1000, responseTimeoutMs: 2000, retryDeadAfterMs: 200 }\ndialogue: { failureDelaysSeconds: [0], maxAttempts: 1 }\nshutdown: { grace: 1 }\n`,
    { dir: tmp.dir, name: 'down.yaml' },
  );
  try {
    const port = gw.port('tcp0');
    const a = new Caller(port);
    await a.login('alice', 'Alice-pw-1');
    await a.expect(/Login accepted/);

    const b = new Caller(port);
    await b.expect(/login: $/);
    b.type('alice\r');
    await b.expect(/Password: $/);
    await dc.down(); // the DC goes away between the two prompts
    b.type('Alice-pw-1\r');
    await b.expect(UNAVAILABLE);
    await b.waitClosed();
    assert.ok(!b.text.includes('Login incorrect'));
    const outage = await gw.waitLog((l) => l.message === 'call summary' && l.call === 'tcp0-2', 'the outage summary');
    assert.equal(outage.outcome, 'outage');
    assert.ok(gw.logs.some((l) => l.message === 'authority unavailable' && l.call === 'tcp0-2'), 'logged as an outage');

    await dc.up(); // back, on the same address
    const c = new Caller(port);
    await c.login('alice', 'Alice-pw-1');
    await c.expect(/Login accepted/);
    const back = await gw.waitLog((l) => l.message === 'call summary' && l.call === 'tcp0-3', 'the summary after the DC is back');
    assert.equal(back.outcome, 'accepted');
  } finally {
    assert.equal((await gw.stop()).code, 0, gw.stderr.join('\n'));
    await dc.close();
  }
});

test('a DC that accepts and never answers: that caller hears "try later" after the timeout; other callers are not held up', async () => {
  const dc = await startFakeDc({ users: { alice: 'Alice-pw-1' } });
  const gw = await startGateway(
    `lines: [{ id: tcp0, listen: tcp://127.0.0.1:0, mode: raw }]\nauthority: { type: ldap, servers: ["${dc.url}"], connectTimeoutMs: 1000, responseTimeoutMs: 2000, retryDeadAfterMs: 200 }\ndialogue: { failureDelaysSeconds: [0], maxAttempts: 1 }\nshutdown: { grace: 1 }\n`,
    { dir: tmp.dir, name: 'hang.yaml' },
  );
  try {
    const port = gw.port('tcp0');
    dc.hang();
    const stuck = new Caller(port);
    await stuck.login('alice', 'Alice-pw-1');
    // While that verification waits on the DC, another caller gets its prompts at once.
    const other = new Caller(port);
    await other.expect(/login: $/);
    other.type('alice\r');
    await other.expect(/Password: $/);
    assert.ok(!stuck.closed, 'the first caller is still waiting on the DC');
    await stuck.expect(UNAVAILABLE, 15_000);
    await stuck.waitClosed();
    const s = await gw.waitLog((l) => l.message === 'call summary' && l.call === 'tcp0-1', 'the timed-out call');
    assert.equal(s.outcome, 'outage');
    await dc.up();
    other.type('Alice-pw-1\r');
    await other.expect(/Login accepted/, 15_000);
  } finally {
    assert.equal((await gw.stop()).code, 0, gw.stderr.join('\n'));
    await dc.close();
  }
});

test('SIGTERM with 64 calls in progress: every caller hears why, every call is summarised, exit 0', async () => {
  const svc = createServer((s) => s.pipe(s));
  const held = new Set<Socket>();
  svc.on('connection', (s) => held.add(s));
  await new Promise<void>((r) => svc.listen(0, '127.0.0.1', () => r()));
  const gw = await startGateway(
    `lines:\n  - { id: tcp0, listen: tcp://127.0.0.1:0, mode: raw, maxCalls: 100, maxCallsPerSource: 0 }\n  - { id: tcp1, listen: tcp://127.0.0.1:0, mode: raw, maxCalls: 100, maxCallsPerSource: 0, action: { bridge: tcp://127.0.0.1:${(svc.address() as { port: number }).port} } }\nauthority: { file: ./sigterm-smbpasswd }\ndialogue: { failureDelaysSeconds: [0] }\nshutdown: { grace: 2 }\n`,
    { dir: tmp.dir, name: 'sigterm.yaml', users: [['ada', 'Ada-pw-1']] },
  );
  const callers: Caller[] = [];
  try {
    const [port, bport] = [gw.port('tcp0'), gw.port('tcp1')];
    // 24 in a bridged session, 20 at the password prompt, 20 at the login prompt.
    for (let i = 0; i < 24; i++) {
      const c = new Caller(bport);
      callers.push(c);
      await c.login('ada', 'Ada-pw-1');
    }
    await waitFor(() => held.size === 24, 'bridges up', 30_000);
    for (let i = 0; i < 20; i++) {
      const c = new Caller(port);
      callers.push(c);
      await c.expect(/login: $/);
      c.type('ada\r');
      await c.expect(/Password: $/);
    }
    for (let i = 0; i < 20; i++) {
      const c = new Caller(port);
      callers.push(c);
      await c.expect(/login: $/);
    }
    gw.signal('SIGTERM');
    await Promise.all(callers.map((c) => c.waitClosed(20_000)));
    const silent = callers.filter((c) => !GOING_DOWN.test(c.text));
    assert.equal(silent.length, 0, `callers dropped without a word: ${silent.length}`);
    const r = await gw.exited;
    assert.equal(r.code, 0, gw.stderr.join('\n'));
    const summaries = gw.logs.filter((l) => l.message === 'call summary');
    assert.equal(summaries.length, 64, 'every call accounted for');
    // The 24 sessions were accepted logins, ended by the shutdown; the 40 dialogues were refused for it.
    assert.equal(summaries.filter((l) => l.outcome === 'accepted' && l.detail === 'shutdown').length, 24, JSON.stringify(summaries.map((l) => [l.outcome, l.detail])));
    assert.equal(summaries.filter((l) => l.outcome === 'shutdown').length, 40);
  } finally {
    for (const c of callers) c.close();
    await gw.stop();
    for (const s of held) s.destroy();
    svc.close();
  }
});

test('SIGKILL of the daemon mid-call, five times over: every restart serves, its stale device lock is cleared, no account is lost', { skip: needs('socat') }, async (t) => {
  const dir = join(tmp.dir, 'kill');
  mkdirSync(join(dir, 'lock'), { recursive: true });
  const ptyLink = join(dir, 'ttyMODEM');
  const socat = spawn('socat', [`pty,raw,echo=0,link=${ptyLink}`, `pty,raw,echo=0,link=${join(dir, 'ttyFAR')}`], { stdio: 'ignore' });
  t.after(() => socat.kill());
  // socat makes the two links one after the other: wait for both.
  await waitFor(() => existsSync(ptyLink) && existsSync(join(dir, 'ttyFAR')), 'socat ptys');
  const lockFile = join(dir, 'lock', `LCK..${realpathSync(ptyLink).slice(5).replace(/\//g, '_')}`);
  // A modem on the far end of the pty (the simulated modem's interpreter), so that the line
  // gets through its init chat; it outlives the daemons.
  const far = new SerialPortStream({ binding: autoDetect(), path: join(dir, 'ttyFAR'), baudRate: 115200, lock: false, autoOpen: false });
  await new Promise<void>((res, rej) => far.open((e) => (e ? rej(e) : res())));
  t.after(() => far.close());
  const modem = new SimModem('killed');
  modem.attach((bytes) => far.write(bytes), () => undefined);
  far.on('data', (d: Buffer) => modem.fromDte(d));
  const yaml = `lines:\n  - { id: dev0, device: ${ptyLink}, lockDir: ./lock, modem: { reopenBaseMs: 500 } }\n  - { id: tcp0, listen: tcp://127.0.0.1:0, mode: raw }\nauthority: { file: ./smbpasswd }\nshutdown: { grace: 1 }\n`;
  const names = ['ada', 'bob', 'cy', 'dee', 'eve'];
  writeFileSync(join(dir, 'rasgate.yaml'), yaml);
  for (let round = 0; round < 5; round++) {
    addUser(join(dir, 'rasgate.yaml'), names[round]!, `${names[round]}-Pw-${round}`);
    const gw = await startGateway(yaml, { dir });
    try {
      await gw.waitLog((l) => l.message === 'device open' && l.line === 'dev0', 'the device opened', 20_000);
      if (round > 0) assert.ok(gw.logs.some((l) => l.message === 'stale UUCP lock ignored'), `round ${round}: the dead daemon's lock was recognised as stale`);
      assert.equal(Number(readFileSync(lockFile, 'latin1').trim()), gw.proc.pid, 'our own lock, with our PID');
      const port = gw.port('tcp0'); // each restart listens on a port of its own
      // Every account added so far logs in; one call is left mid-dialogue when the daemon dies.
      for (let i = 0; i <= round; i++) {
        const c = new Caller(port);
        await c.login(names[i]!, `${names[i]}-Pw-${i}`);
        await c.expect(/Login accepted/);
      }
      const mid = new Caller(port);
      await mid.expect(/login: $/);
      mid.type('ada\r');
      await mid.expect(/Password: $/);
      gw.proc.kill('SIGKILL');
      await gw.exited;
      await mid.waitClosed();
    } finally {
      await gw.stop();
    }
  }
  assert.ok(existsSync(lockFile), 'the last killed daemon left its lock (to be cleared by the next start)');
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
});

test('an account store that cannot be read: serve refuses to start naming it, as check-config does; fixed, it starts and logins work', async () => {
  const dir = join(tmp.dir, 'unreadable');
  mkdirSync(join(dir, 'smbpasswd'), { recursive: true }); // a folder where the file should be
  const yaml = `lines: [{ id: tcp0, listen: tcp://127.0.0.1:0, mode: raw }]\nauthority: { file: ./smbpasswd }\ndialogue: { failureDelaysSeconds: [0], maxAttempts: 1 }\nshutdown: { grace: 1 }\n`;
  const refused = await startGateway(yaml, { dir, waitStarted: false });
  const r = await refused.exited;
  assert.equal(r.code, 1);
  assert.ok(refused.stderr.some((l) => /authority\.file: cannot read .*smbpasswd/.test(l)), refused.stderr.join('\n'));
  assert.ok(!refused.stderr.some((l) => /no accounts yet/.test(l)), 'not mistaken for an empty store');
  rmSync(join(dir, 'smbpasswd'), { recursive: true });
  const gw = await startGateway(yaml, { dir, users: [['ada', 'Ada-pw-1']] });
  try {
    const c = new Caller(gw.port('tcp0'));
    await c.login('ada', 'Ada-pw-1');
    await c.expect(/Login accepted/);
  } finally {
    assert.equal((await gw.stop()).code, 0, gw.stderr.join('\n'));
  }
});
