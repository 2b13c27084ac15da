/**
 * Callback end to end in one Gateway (src/gateway/daemon.ts) on a simulated-modem line, every
 * machine on one SimulatedClock: the caller dials in and logs in, is hung up on, and a real
 * loopback TCP listener standing for the caller's phone receives the modem's outgoing call
 * (sim://...?dial=NUMBER=tcp://..., src/serial/sim-dial.ts), logs in again, and the exec action
 * runs with RASGATE_CALLBACK. The failures of the callback leg come from real network
 * conditions behind the simulated modem: nothing listening (BUSY), a listener that never
 * accepts (NO ANSWER, or our timeout), one that drops the connection (NO CARRIER), a caller
 * ringing in (NO DIALTONE).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import winston from 'winston';
import { SimulatedClock } from 'xstate';
import { Gateway } from '../../src/gateway/daemon.js';
import { parseConfig } from '../../src/gateway/config.js';
import type { CallSummary } from '../../src/gateway/call-runner.js';
import { createLogger } from '../../src/observe/logger.js';
import { SmbpasswdStore } from '../../src/authority/local/index.js';
import { ntowfv1 } from '../../src/ntlm/crypto.js';
import type { SimCaller, SimModem } from '../../src/serial/sim-modem.js';
import { settle } from '../line/helpers.js';
import { closedPort } from '../helpers/net.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURE = join(ROOT, 'test/e2e/fixtures/echo-env.mjs');
const PASSWORDS: Record<string, string> = { alice: 'Alice-pw-1', bob: 'Bob-pw-2', mallory: 'Mallory-pw-3', carol: 'Carol-pw-4' };

const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** Answers prompts as they arrive: each step's prompt once, in order. */
function autoAnswer(type: (text: string) => void, steps: Array<[RegExp, string]>) {
  let seen = '';
  return (bytes: Buffer) => {
    seen += bytes.toString('latin1');
    const step = steps[0];
    if (step && step[0].test(seen)) {
      steps.shift();
      seen = '';
      type(`${step[1]}\r`);
    }
  };
}

const login = (user: string, password = PASSWORDS[user]!): Array<[RegExp, string]> => [
  [/login: $/, user],
  [/Password: $/, password],
];

/** The caller's phone: a loopback listener the modem's callback reaches; it logs in as told. */
class Phone {
  readonly server: Server;
  readonly sockets: Socket[] = [];
  text = '';
  port = 0;
  constructor(private readonly steps: () => Array<[RegExp, string]>) {
    this.server = createServer((s) => {
      this.sockets.push(s);
      s.on('error', () => undefined);
      s.on('data', (b: Buffer) => (this.text += b.toString('latin1')));
      s.on('data', autoAnswer((t) => s.write(t), this.steps()));
    });
  }
  async listen(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
    cleanups.push(() => this.close());
    return this;
  }
  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}

/**
 * A listener that never accepts: its event loop is blocked and its accept queue is filled, so a
 * connection to it stays in SYN_SENT (the phone rings, nobody picks up).
 */
async function silentPhone(): Promise<number> {
  const child: ChildProcess = spawn(process.execPath, [
    '-e',
    `const s=require('net').createServer();s.listen({port:0,host:'127.0.0.1',backlog:1},()=>{process.stdout.write(s.address().port+'\\n');Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0)})`,
  ]);
  cleanups.push(() => child.kill('SIGKILL'));
  const port = await new Promise<number>((r) => child.stdout!.once('data', (d: Buffer) => r(Number(String(d).trim()))));
  const fillers = [connect(port, '127.0.0.1'), connect(port, '127.0.0.1')];
  cleanups.push(() => fillers.forEach((s) => s.destroy()));
  await Promise.all(fillers.map((s) => new Promise((r) => s.once('connect', r))));
  return port;
}

/** A listener that hangs up as soon as it picks up (the modem handshake fails: NO CARRIER). */
async function droppingPhone(): Promise<number> {
  const server = createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => server.close(r)));
  return (server.address() as { port: number }).port;
}

let n = 0;

interface Rig {
  gw: Gateway;
  clock: SimulatedClock;
  modem: SimModem;
  dir: string;
  summaries: CallSummary[];
  records: Array<Record<string, unknown>>;
  /** Dial in from `number`, answering `steps`; resolves the caller. */
  dialIn(steps: Array<[RegExp, string]>, number?: string): { caller: SimCaller; text: () => string };
  until(check: () => boolean, what: string, maxMs?: number): Promise<void>;
}

async function rig(o: { dial: string; policy?: string; callback?: string; users?: string[] }): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'rasgate-cb-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const store = new SmbpasswdStore(join(dir, 'smbpasswd'));
  await store.update((ed) => {
    for (const [i, name] of (o.users ?? ['alice', 'bob', 'mallory']).entries()) ed.put({ name, uid: 1000 + i, ntHash: ntowfv1(PASSWORDS[name]!), hasLmHash: false, flags: new Set(['U']), lastChange: 0x5f5e1000 });
  });
  if (o.policy) writeFileSync(join(dir, 'user-policy.yaml'), o.policy);
  const name = `cb${++n}`;
  const loaded = parseConfig(
    `lines:
  - id: sim0
    device: "sim://${name}?${o.dial}"
    action: { exec: [${JSON.stringify(process.execPath)}, ${JSON.stringify(FIXTURE)}] }
    callback: { ${o.callback ?? 'delaySeconds: 5'} }
authority: { file: ./smbpasswd, domain: CB }
dialogue: { failureDelaysSeconds: [0], maxAttempts: 1 }
shutdown: { grace: 1 }
`,
    'cb.yaml',
    dir,
  );
  assert.deepEqual(loaded.issues, []);
  const records: Array<Record<string, unknown>> = [];
  const logger = createLogger({ noStdout: true, transports: [new winston.transports.Stream({ stream: new Writable({ write(c, _e, cb) { records.push(JSON.parse(String(c))); cb(); } }) })] });
  const summaries: CallSummary[] = [];
  const clock = new SimulatedClock();
  const gw = new Gateway({ loaded: { config: loaded.config!, source: 'cb.yaml', baseDir: dir }, logger, onCallEnd: (s) => summaries.push(s), clock });
  // Real processes (the exec action) take real time to start: each simulated step also waits a
  // real millisecond, so that a loaded machine slows the simulated clock rather than outrun it.
  const until = async (check: () => boolean, what: string, maxMs = 200_000) => {
    await settle();
    for (let t = 0; !check(); t += 50) {
      if (t > maxMs) throw new Error(`simulated ${maxMs} ms passed waiting for ${what}`);
      clock.increment(50);
      await settle();
      await new Promise((r) => setTimeout(r, 1));
    }
  };
  const started = gw.start();
  await until(() => gw.status().lines[0]?.state === 'idle', 'line idle');
  await started;
  cleanups.push(async () => {
    const stopped = gw.stop();
    let done = false;
    void stopped.then(() => (done = true));
    await until(() => done, 'gateway stopped');
  });
  const modem = gw.simModems.find(name)!;
  return {
    gw,
    clock,
    modem,
    dir,
    summaries,
    records,
    until,
    dialIn(steps, number = '5550100') {
      const caller = modem.dial({ number });
      let text = '';
      caller.onReceive((b) => (text += b.toString('latin1')));
      caller.onReceive(autoAnswer((t) => caller.type(t), steps));
      return { caller, text: () => text };
    },
  };
}

const ALICE_PRESET = 'users:\n  alice: { callback: { mode: preset, number: "555-1234" } }\n';
const BOB_CALLER_SET = 'users:\n  Bob: { callback: { mode: caller } }\n';

test('Preset: logged in, hung up on, called back at the preset number, logged in again, the exec action runs with RASGATE_CALLBACK', async () => {
  const phone = await new Phone(() => [...login('alice'), [/READY\r\n/, 'bye']]).listen();
  const r = await rig({ dial: `dial=5551234=tcp://127.0.0.1:${phone.port}`, policy: ALICE_PRESET });
  const first = r.dialIn(login('alice'));
  await r.until(() => first.caller.state === 'ended', 'the caller hung up on');
  assert.match(first.text(), /Calling you back at \.\.\.-1234/);
  assert.ok(!first.text().includes('READY'), 'no session on the first call');
  assert.equal(r.summaries.length, 0, 'the call goes on');
  await r.until(() => r.gw.status().lines[0]!.state === 'calling-back', 'the line calling back');
  assert.equal(r.gw.status().lines[0]!.activeCalls, 1);
  await r.until(() => r.summaries.length === 1, 'the call ends');
  const s = r.summaries[0]!;
  assert.equal(s.outcome, 'accepted', JSON.stringify(s));
  assert.equal(s.user, 'alice');
  assert.deepEqual(s.callback, { number: '555-1234', source: 'preset', attempts: 1 });
  assert.match(phone.text, /login: /, 'the phone hears the login prompt');
  assert.match(phone.text, /RASGATE_USER=alice\r\n/);
  assert.match(phone.text, /RASGATE_CALLBACK=1\r\n/);
  assert.match(phone.text, /RASGATE_CALLBACK_NUMBER=555-1234\r\n/);
  assert.ok(r.modem.commands.includes('ATDT5551234'), r.modem.commands.join(' '));
  assert.ok(r.records.some((l) => l.message === 'dialling the callback' && l.dial === '5551234'));
  assert.equal(r.gw.metrics.snapshot().callsByOutcome.accepted, 1);
  // No password reached the log.
  assert.ok(!JSON.stringify(r.records).includes(PASSWORDS.alice!));
  await r.until(() => r.gw.status().lines[0]!.state === 'idle', 'idle again');
});

test('Preset: another account logging in on the callback is refused (callback-wrong-account); the action never runs', async () => {
  const phone = await new Phone(() => login('mallory')).listen();
  const r = await rig({ dial: `dial=5551234=tcp://127.0.0.1:${phone.port}`, policy: ALICE_PRESET });
  r.dialIn(login('alice'));
  await r.until(() => r.summaries.length === 1, 'the call ends');
  const s = r.summaries[0]!;
  assert.equal(s.outcome, 'callback-wrong-account');
  assert.equal(s.rasError, 691);
  assert.equal(s.user, 'alice', 'the account called back');
  assert.deepEqual(s.users, ['alice', 'mallory'], 'every name tried, on both legs');
  assert.match(phone.text, /Only the account called back may log in/);
  assert.ok(!phone.text.includes('READY'));
  assert.equal(r.gw.metrics.snapshot().callsByOutcome['callback-wrong-account'], 1);
});

test('Set By Caller: the caller gives a number the line allows (matched on its digits), is called back there and logs in again', async () => {
  const phone = await new Phone(() => [...login('bob'), [/READY\r\n/, 'bye']]).listen();
  const r = await rig({ dial: `dial=5557777=tcp://127.0.0.1:${phone.port}`, policy: BOB_CALLER_SET, callback: "delaySeconds: 2, allow: ['555*']" });
  const first = r.dialIn([...login('bob'), [/Callback number \(Enter: no callback\): $/, '555-7777']]);
  await r.until(() => r.summaries.length === 1, 'the call ends');
  assert.match(first.text(), /Calling you back at \.\.\.-7777/);
  const s = r.summaries[0]!;
  assert.equal(s.outcome, 'accepted', JSON.stringify(s));
  assert.deepEqual(s.callback, { number: '555-7777', source: 'caller', attempts: 1 });
  assert.match(phone.text, /RASGATE_CALLBACK_NUMBER=555-7777\r\n/);
});

test('Set By Caller: an empty answer starts the session on this call; a number outside the allow list ends the call (callback-refused-number)', async () => {
  const r = await rig({ dial: 'dialtone=on', policy: BOB_CALLER_SET, callback: "allow: ['555*']" });
  const now = r.dialIn([...login('bob'), [/Callback number.*: $/, ''], [/READY\r\n/, 'bye']]);
  await r.until(() => r.summaries.length === 1, 'the first call ends');
  assert.equal(r.summaries[0]!.outcome, 'accepted');
  assert.equal(r.summaries[0]!.callback, undefined);
  assert.match(now.text(), /RASGATE_CALLBACK=0\r\n/);
  await r.until(() => r.gw.status().lines[0]!.state === 'idle', 'idle again');

  const refused = r.dialIn([...login('bob'), [/Callback number.*: $/, '0900-666']]);
  await r.until(() => r.summaries.length === 2, 'the second call ends');
  const s = r.summaries[1]!;
  assert.equal(s.outcome, 'callback-refused-number');
  assert.equal(s.rasError, 704);
  assert.match(s.detail ?? '', /refused number "0900-666"/);
  assert.match(refused.text(), /That number cannot be called back/);
  assert.ok(!r.modem.commands.some((c) => c.startsWith('ATD')), 'nothing was dialled');
  assert.ok(r.records.some((l) => l.message === 'callback number refused' && l.number === '0900-666'));
});

test('callback BUSY (nothing listens at the number): redialled, given up after the attempts: callback-busy', async () => {
  const port = await closedPort();
  const r = await rig({ dial: `dial=5551234=tcp://127.0.0.1:${port}`, policy: ALICE_PRESET, callback: 'delaySeconds: 1, attempts: 3, retryDelaySeconds: 5' });
  r.dialIn(login('alice'));
  await r.until(() => r.summaries.length === 1, 'the call ends');
  const s = r.summaries[0]!;
  assert.equal(s.outcome, 'callback-busy');
  assert.equal(s.rasError, 676);
  assert.deepEqual(s.callback, { number: '555-1234', source: 'preset', attempts: 3 });
  assert.equal(r.modem.commands.filter((c) => c === 'ATDT5551234').length, 3);
  assert.equal(r.gw.metrics.snapshot().callsByOutcome['callback-busy'], 1);
  assert.ok(r.records.some((l) => l.message === 'call summary' && l.outcome === 'callback-busy' && /ERROR_LINE_BUSY$/.test(String(l.detail))));
  await r.until(() => r.gw.status().lines[0]!.state === 'idle', 'the line answers again');
});

test('callback NO ANSWER (a phone that never picks up, S7 running out): callback-no-answer', async () => {
  const port = await silentPhone();
  const r = await rig({ dial: `dial=5551234=tcp://127.0.0.1:${port}`, policy: ALICE_PRESET, callback: 'delaySeconds: 1, attempts: 1' });
  r.dialIn(login('alice'));
  await r.until(() => r.summaries.length === 1, 'the call ends');
  assert.equal(r.summaries[0]!.outcome, 'callback-no-answer');
  assert.equal(r.summaries[0]!.rasError, 678);
});

test('callback timeout (no result within answerTimeoutSeconds, below the modem S7): abandoned with a hang-up: callback-timeout', async () => {
  const port = await silentPhone();
  const r = await rig({ dial: `dial=5551234=tcp://127.0.0.1:${port}`, policy: ALICE_PRESET, callback: 'delaySeconds: 1, attempts: 1, answerTimeoutSeconds: 20' });
  r.dialIn(login('alice'));
  await r.until(() => r.summaries.length === 1, 'the call ends');
  assert.equal(r.summaries[0]!.outcome, 'callback-timeout');
  assert.equal(r.summaries[0]!.rasError, 638);
  assert.ok(r.modem.dtrHangups >= 2, 'the dial was abandoned with DTR');
});

test('callback NO CARRIER (the far side drops during the handshake): callback-no-carrier', async () => {
  const port = await droppingPhone();
  const r = await rig({ dial: `dial=5551234=tcp://127.0.0.1:${port}`, policy: ALICE_PRESET, callback: 'delaySeconds: 1, attempts: 2, retryDelaySeconds: 1' });
  r.dialIn(login('alice'));
  await r.until(() => r.summaries.length === 1, 'the call ends');
  assert.equal(r.summaries[0]!.outcome, 'callback-no-carrier');
  assert.equal(r.summaries[0]!.rasError, 679);
  assert.equal(r.summaries[0]!.callback?.attempts, 2);
});

test('a caller ringing in while a callback is pending is not answered; the line, off hook to them, has no dial tone: callback-no-dialtone', async () => {
  const phone = await new Phone(() => login('alice')).listen();
  const r = await rig({ dial: `dial=5551234=tcp://127.0.0.1:${phone.port}`, policy: ALICE_PRESET, callback: 'delaySeconds: 30, attempts: 1' });
  const first = r.dialIn(login('alice'));
  await r.until(() => first.caller.state === 'ended', 'hung up for the callback');
  await r.until(() => r.gw.status().lines[0]!.state === 'calling-back', 'waiting to call back');
  const intruder = r.modem.dial({ number: '5550666' });
  await r.until(() => r.summaries.length === 1, 'the call ends');
  assert.ok(intruder.rings >= 2, 'it rang');
  assert.notEqual(intruder.state, 'connected', 'not answered');
  assert.equal(r.modem.commands.filter((c) => c === 'ATA').length, 1, 'only the first caller was answered');
  assert.equal(r.summaries[0]!.outcome, 'callback-no-dialtone');
  assert.equal(r.summaries[0]!.rasError, 680);
  assert.equal(phone.sockets.length, 0, 'the phone never rang');
  intruder.hangup();
});

test('Preset on a line that does not offer callback: refused (callback-failed not-offered); a user without a policy is never called back', async () => {
  const r = await rig({ dial: 'dialtone=on', policy: ALICE_PRESET, callback: 'offered: false' });
  const alice = r.dialIn(login('alice'));
  await r.until(() => r.summaries.length === 1, 'alice refused');
  assert.equal(r.summaries[0]!.outcome, 'callback-failed');
  assert.equal(r.summaries[0]!.reason, 'not-offered');
  assert.match(alice.text(), /Callback is not available on this line/);
  await r.until(() => r.gw.status().lines[0]!.state === 'idle', 'idle again');
  const bob = r.dialIn([...login('bob'), [/READY\r\n/, 'bye']]);
  await r.until(() => r.summaries.length === 2, 'bob in');
  assert.equal(r.summaries[1]!.outcome, 'accepted');
  assert.match(bob.text(), /RASGATE_CALLBACK=0\r\n/);
});

test('an invalid policy file keeps a Preset user out: the login is refused, never let in without the callback', async () => {
  const r = await rig({ dial: 'dialtone=on', policy: 'users: { alice: { callback: { mode: preset } } }\n' });
  const alice = r.dialIn(login('alice'));
  await r.until(() => r.summaries.length === 1, 'alice refused');
  assert.equal(r.summaries[0]!.outcome, 'callback-failed');
  assert.equal(r.summaries[0]!.reason, 'USER_POLICY_INVALID');
  assert.ok(!alice.text().includes('READY'));
  assert.ok(r.records.some((l) => l.message === 'user policy file unusable; callback policies cannot be decided'));
});
