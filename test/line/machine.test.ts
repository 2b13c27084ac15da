/** machines/line.ts alone: fakes through .provide(), time from SimulatedClock. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createActor, fromPromise, SimulatedClock } from 'xstate';
import { lineMachine, modemEvent, type ModemResult, type LineSettings } from '../../machines/line.js';
import { lineSettings } from '../../src/serial/device-line.js';
import { resolveModemSettings } from '../../src/serial/options.js';
import { settle } from './helpers.js';

interface Fakes {
  open?: () => Promise<void>;
  dtr?: (on: boolean) => Promise<void>;
  dcd?: () => Promise<{ dcd: boolean }>;
  allowed?: boolean;
  fatal?: boolean;
}

function rig(fakes: Fakes = {}, settings: Partial<LineSettings> = {}) {
  const clock = new SimulatedClock();
  const log: string[] = [];
  const machine = lineMachine.provide({
    actors: {
      openDevice: fromPromise(async () => { log.push('open'); await (fakes.open?.() ?? Promise.resolve()); }),
      closeDevice: fromPromise(async () => { log.push('close'); }),
      setDtr: fromPromise(async ({ input }: { input: { on: boolean } }) => { log.push(`dtr:${input.on}`); await (fakes.dtr?.(input.on) ?? Promise.resolve()); }),
      readSignals: fromPromise(async () => fakes.dcd?.() ?? { dcd: true }),
    },
    actions: {
      sendCommand: ({ context }, p) => {
        // The line answers no one while a callback is pending.
        if (p.text === 'ATA' && context.callback) log.push('ATA-during-callback');
        log.push(p.text);
      },
      sendEscape: () => log.push('+++'),
      setInputMode: (_, p) => log.push(`mode:${p.mode}`),
      startCall: () => log.push('call'),
      endCall: (_, p) => log.push(`end:${p.reason}`),
      resumeCall: ({ context }) => log.push(`resume:${context.callback?.attempts}`),
      callbackFailed: ({ context }) => log.push(`gaveUp:${context.callback?.lastFailure}:${context.callback?.attempts}`),
    },
    guards: {
      callerAllowed: () => fakes.allowed ?? true,
      fatalOpenError: () => fakes.fatal ?? false,
    },
  });
  const actor = createActor(machine, { clock, input: { settings: { ...lineSettings(resolveModemSettings({ healthCheckSeconds: 0 })), ...settings } } });
  const errors: unknown[] = [];
  actor.subscribe({ error: (e) => errors.push(e) });
  actor.start();
  const modem = (result: ModemResult) => actor.send(modemEvent(result));
  const at = (path: string) => actor.getSnapshot().matches(path as never);
  const tick = async (ms: number) => { clock.increment(ms); await settle(); };
  return { clock, actor, log, modem, at, tick, errors };
}

async function toIdle(r: ReturnType<typeof rig>) {
  r.actor.send({ type: 'START' });
  await settle();
  await r.tick(200); // settle, flush
  r.modem({ type: 'OK' });
  r.modem({ type: 'OK' });
  assert.ok(r.at('open.idle'), JSON.stringify(r.actor.getSnapshot().value));
  r.log.length = 0;
}

test('line machine: open, flush, init chat in order, idle', async () => {
  const r = rig();
  r.actor.send({ type: 'START' });
  await settle();
  assert.ok(r.at('open.flushing'));
  await r.tick(200);
  assert.deepEqual(r.log, ['open', 'mode:command', 'ATZ']);
  r.modem({ type: 'ECHO', text: 'ATZ' });
  r.modem({ type: 'NO_CARRIER' }); // stray results are ignored during the chat
  r.modem({ type: 'OK' });
  assert.equal(r.log.at(-1), 'ATE0V1Q0&C1&D2S0=0');
  r.modem({ type: 'OK' });
  assert.ok(r.at('open.idle'));
  assert.deepEqual(r.errors, []);
});

test('line machine: init chat timeout retries, then reopens after maxInitFailures', async () => {
  const r = rig({}, { maxInitFailures: 2, chatTimeoutMs: 1000 });
  r.actor.send({ type: 'START' });
  await settle();
  await r.tick(200);
  await r.tick(1000); // no answer
  assert.ok(r.at('open.initialising.failure'));
  await r.tick(1000); // retry delay
  assert.equal(r.log.filter((l) => l === 'ATZ').length, 2);
  r.modem({ type: 'ERROR' });
  assert.ok(r.at('reopening'));
  assert.equal(r.actor.getSnapshot().context.lastError, 'modem did not answer the init chat');
});

test('line machine: health check without answer re-initialises', async () => {
  const r = rig({}, { healthIntervalMs: 30_000, chatTimeoutMs: 2000 });
  await toIdle(r);
  await r.tick(30_000);
  assert.deepEqual(r.log, ['AT']);
  r.modem({ type: 'OK' });
  assert.ok(r.at('open.idle.waiting'));
  await r.tick(30_000);
  await r.tick(2000);
  assert.ok(r.at('open.initialising'));
});

test('line machine: answer on ring 2 with caller ID, ATA, CONNECT, quiet period reset by activity, call', async () => {
  const r = rig({}, { answerOnRing: 2, quietMs: 300 });
  await toIdle(r);
  r.modem({ type: 'RING' });
  assert.ok(r.at('open.ringing.counting'));
  r.modem({ type: 'CALLER_ID', field: 'number', value: '5551234' });
  r.modem({ type: 'CALLER_ID', field: 'name', value: 'JOHN' });
  r.modem({ type: 'RING' });
  assert.ok(r.at('open.answering'));
  assert.deepEqual(r.actor.getSnapshot().context.callerId, { number: '5551234', name: 'JOHN' });
  r.modem({ type: 'CONNECT', speed: 33600, extras: ['ARQ'] });
  assert.equal(r.actor.getSnapshot().context.connectSpeed, 33600);
  await r.tick(200);
  r.actor.send({ type: 'ACTIVITY' });
  await r.tick(200);
  assert.ok(!r.log.includes('call'), 'still discarding');
  await r.tick(150);
  assert.deepEqual(r.log, ['ATA', 'mode:quiet', 'mode:quiet', 'mode:data', 'call']);
});

test('line machine: denied caller is not answered; ringing ends after the ring timeout', async () => {
  const r = rig({ allowed: false }, { ringTimeoutMs: 8000 });
  await toIdle(r);
  r.modem({ type: 'RING' });
  assert.ok(r.at('open.ringing.ignoring'));
  await r.tick(6000);
  r.modem({ type: 'RING' });
  await r.tick(6000);
  assert.ok(r.at('open.ringing.ignoring'));
  await r.tick(2000);
  assert.ok(r.at('open.idle'));
  assert.ok(!r.log.includes('ATA'));
});

test('line machine: paused line does not answer', async () => {
  const r = rig();
  await toIdle(r);
  r.actor.send({ type: 'PAUSE' });
  r.modem({ type: 'RING' });
  assert.ok(r.at('open.ringing.ignoring'));
  r.actor.send({ type: 'RESUME' });
  await r.tick(8000);
  r.modem({ type: 'RING' });
  assert.ok(r.at('open.answering'));
});

test('line machine: no CONNECT within the answer timeout hangs up', async () => {
  const r = rig({}, { answerTimeoutMs: 80_000 });
  await toIdle(r);
  r.modem({ type: 'RING' });
  await r.tick(79_000);
  assert.ok(r.at('open.answering'));
  await r.tick(1000);
  assert.ok(r.at('open.hangingUp'));
});

async function connected(r: ReturnType<typeof rig>) {
  await toIdle(r);
  r.modem({ type: 'RING' });
  r.modem({ type: 'CONNECT', speed: 2400, extras: [] });
  await r.tick(300);
  assert.ok(r.log.includes('call'));
  r.log.length = 0;
}

test('line machine: DTR hang-up: drop >= 500 ms, raise, DCD checked, re-init', async () => {
  let dcd = true;
  const r = rig({ dcd: async () => ({ dcd }) });
  await connected(r);
  r.actor.send({ type: 'HANGUP' });
  await settle();
  assert.deepEqual(r.log, ['end:hangup', 'mode:command', 'dtr:false']);
  dcd = false;
  await r.tick(600);
  assert.ok(!r.log.includes('dtr:true'), 'DTR stays low for dtrDropMs (700)');
  await r.tick(100);
  assert.ok(r.log.includes('dtr:true'));
  assert.ok(r.at('open.initialising'));
});

test('line machine: DTR cannot be set: +++ after the guard time, then ATH0; remembered for next time', async () => {
  const r = rig({ dtr: async () => { throw Object.assign(new Error('ENOTTY'), { code: 'ENOTTY' }); } }, { guardMs: 1000 });
  await connected(r);
  r.actor.send({ type: 'HANGUP' });
  await settle();
  assert.ok(r.at('open.hangingUp.escape.guardBefore'));
  await r.tick(1000);
  assert.equal(r.log.at(-1), '+++');
  r.modem({ type: 'OK' });
  assert.equal(r.log.at(-1), 'ATH0');
  r.modem({ type: 'OK' });
  assert.ok(r.at('open.initialising'));
  assert.equal(r.actor.getSnapshot().context.dtrSupported, false);
});

test('line machine: carrier still up after DTR drop falls back to +++ / ATH0', async () => {
  const r = rig({ dcd: async () => ({ dcd: true }) }, { dcdPollMs: 60_000 });
  await connected(r);
  r.actor.send({ type: 'HANGUP' });
  await settle();
  await r.tick(700);
  assert.ok(r.at('open.hangingUp.escape'), JSON.stringify(r.actor.getSnapshot().value));
});

test('line machine: DCD poll sees carrier loss; DCD unreadable stops polling', async () => {
  let dcd = true;
  const r = rig({ dcd: async () => ({ dcd }) }, { dcdPollMs: 1000 });
  await connected(r);
  await r.tick(1000);
  assert.ok(r.at('open.connected'));
  dcd = false;
  await r.tick(1000);
  assert.ok(r.log.includes('end:carrier-lost'));

  const r2 = rig({ dcd: async () => { throw new Error('ENOTTY'); } }, { dcdPollMs: 1000 });
  await connected(r2);
  await r2.tick(1000);
  assert.ok(r2.at('open.connected.live.unpolled'));
  assert.equal(r2.actor.getSnapshot().context.dcdSupported, false);
});

test('line machine: NO CARRIER mid-call ends it as carrier-lost', async () => {
  const r = rig();
  await connected(r);
  r.modem({ type: 'NO_CARRIER' });
  assert.equal(r.log[0], 'end:carrier-lost');
  assert.ok(r.at('open.hangingUp'));
});

test('line machine: device lost mid-call: device-lost, reopening with capped exponential backoff', async () => {
  let openOk = true;
  const r = rig({ open: async () => { if (!openOk) throw new Error('ENOENT'); } }, { backoffBaseMs: 1000, backoffMaxMs: 4000 });
  await connected(r);
  openOk = false;
  r.actor.send({ type: 'DEVICE_LOST', error: 'device /dev/ttyUSB0 disconnected' });
  assert.equal(r.log[0], 'end:device-lost');
  assert.ok(r.at('reopening'));
  const opensAt: number[] = [];
  for (let t = 0; t < 20_000; t += 100) {
    const before = r.log.filter((l) => l === 'open').length;
    await r.tick(100);
    if (r.log.filter((l) => l === 'open').length > before) opensAt.push(r.clock.now());
  }
  const gaps = opensAt.slice(1).map((t, i) => t - opensAt[i]!);
  assert.deepEqual(gaps.slice(0, 4), [2000, 4000, 4000, 4000]);
  assert.equal(r.actor.getSnapshot().context.lastError, 'ENOENT');
  openOk = true;
  for (let t = 0; t < 5000 && !r.at('open.initialising'); t += 100) await r.tick(100);
  r.modem({ type: 'OK' });
  r.modem({ type: 'OK' });
  assert.ok(r.at('open.idle'));
  assert.equal(r.actor.getSnapshot().context.attempt, 0);
});

test('line machine: a fatal open error (lock) fails the line', async () => {
  const r = rig({ open: async () => { throw new Error('device /dev/ttyS0 is locked by another program (another getty?)'); }, fatal: true });
  r.actor.send({ type: 'START' });
  await settle();
  assert.ok(r.at('failed'));
  assert.match(r.actor.getSnapshot().context.lastError ?? '', /locked/);
});

test('line machine: STOP mid-call ends the call as shutdown and closes', async () => {
  const r = rig();
  await connected(r);
  r.actor.send({ type: 'STOP' });
  await settle();
  assert.equal(r.log[0], 'end:shutdown');
  assert.ok(r.log.includes('close'));
  assert.ok(r.at('closed'));
  assert.deepEqual(r.errors, []);
});

test('line machine: random event storms never error and every call ends before the next starts', async () => {
  let totalCalls = 0;
  for (let seed = 1; seed <= 12; seed++) {
    let x = seed;
    const rnd = (n: number) => ((x = (x * 1103515245 + 12345) >>> 0) >>> 8) % n;
    const r = rig({
      open: async () => { if (rnd(10) === 0) throw new Error('ENOENT'); },
      dtr: async () => { if (rnd(5) === 0) throw new Error('ENOTTY'); },
      dcd: async () => ({ dcd: rnd(3) !== 0 }),
      allowed: true,
    }, { healthIntervalMs: 5000, backoffBaseMs: 100, backoffMaxMs: 1000 });
    r.actor.send({ type: 'START' });
    const ring = () => r.modem({ type: 'RING' });
    const ok = () => r.modem({ type: 'OK' });
    const connect = () => r.modem({ type: 'CONNECT', speed: 9600, extras: [] });
    const events: Array<() => void> = [
      ring, ring, ring, ok, ok, ok, ok, connect, connect,
      () => r.modem({ type: 'ERROR' }),
      () => r.modem({ type: 'CONNECT', speed: 9600, extras: [] }),
      () => r.modem({ type: 'NO_CARRIER' }),
      () => r.modem({ type: 'CALLER_ID', field: 'number', value: '555' }),
      () => r.actor.send({ type: 'ACTIVITY' }),
      () => r.actor.send({ type: 'HANGUP' }),
      () => r.actor.send({ type: 'DEVICE_LOST', error: 'gone' }),
      () => r.actor.send({ type: 'PAUSE' }),
      () => r.actor.send({ type: 'RESUME' }),
    ];
    for (let i = 0; i < 400; i++) {
      if (rnd(3) === 0) await r.tick(rnd(4) === 0 ? rnd(10_000) : rnd(600));
      else events[rnd(events.length)]!();
    }
    await settle();
    assert.deepEqual(r.errors, [], `seed ${seed}`);
    assert.equal(r.actor.getSnapshot().status, 'active');
    let open = false;
    for (const entry of r.log) {
      if (entry === 'call') {
        totalCalls++;
        assert.ok(!open, `seed ${seed}: a call started while one was active`);
        open = true;
      } else if (entry.startsWith('end:')) open = false;
    }
    r.actor.stop();
  }
  assert.ok(totalCalls > 5, `the storm reached connected calls (${totalCalls})`);
});

// ---- callback ------------------------------------------------------------------------------

const request = { dial: '9,5551234', delayMs: 5000, answerTimeoutMs: 60_000, attempts: 3, retryDelayMs: 10_000 };

/** From CALL_BACK through the DTR hang-up (DCD down) and the init chat to the callback time. */
async function hungUpForCallback(r: ReturnType<typeof rig>) {
  r.actor.send({ type: 'CALL_BACK', request });
  await settle();
  await r.tick(700); // DTR low
  assert.ok(r.at('open.initialising'), JSON.stringify(r.actor.getSnapshot().value));
  r.modem({ type: 'OK' });
  r.modem({ type: 'OK' });
  assert.ok(r.at('open.callingBack.waiting'), JSON.stringify(r.actor.getSnapshot().value));
}

test('line machine: callback: DTR hang-up (the call stays), init chat, the callback time, ATDT, CONNECT, the same call goes on', async () => {
  let dcd = true;
  const r = rig({ dcd: async () => ({ dcd }) });
  await connected(r);
  dcd = false;
  await hungUpForCallback(r);
  assert.deepEqual(r.log, ['mode:command', 'dtr:false', 'dtr:true', 'mode:command', 'ATZ', 'ATE0V1Q0&C1&D2S0=0']);
  assert.ok(r.actor.getSnapshot().hasTag('calling-back'));
  // A caller ringing in now is not answered.
  r.modem({ type: 'RING' });
  r.modem({ type: 'RING' });
  await r.tick(4999);
  assert.equal(r.log.at(-1), 'ATE0V1Q0&C1&D2S0=0', 'nothing before the callback time');
  await r.tick(1);
  assert.equal(r.log.at(-1), 'ATDT9,5551234');
  r.modem({ type: 'CONNECT', speed: 33600, extras: [] });
  await r.tick(300);
  assert.deepEqual(r.log.slice(-3), ['mode:quiet', 'mode:data', 'resume:1']);
  assert.ok(!r.log.includes('call') && !r.log.some((l) => l.startsWith('end:')), 'no new call, the old one not ended');
  assert.ok(!r.log.includes('ATA-during-callback') && !r.log.includes('ATA'));
  // The callback call ends as any call; the line is idle again, the callback forgotten.
  dcd = false;
  r.modem({ type: 'NO_CARRIER' });
  assert.ok(r.log.includes('end:carrier-lost'));
  await settle();
  await r.tick(700);
  r.modem({ type: 'OK' });
  r.modem({ type: 'OK' });
  assert.ok(r.at('open.idle'));
  assert.equal(r.actor.getSnapshot().context.callback, undefined);
  assert.deepEqual(r.errors, []);
});

test('line machine: callback: BUSY, NO ANSWER, NO CARRIER: redialled after the retry delay, given up after the attempts with the last failure', async () => {
  const r = rig({ dcd: async () => ({ dcd: false }) });
  await connected(r);
  await hungUpForCallback(r);
  await r.tick(5000);
  const dials = () => r.log.filter((l) => l.startsWith('ATDT')).length;
  assert.equal(dials(), 1);
  r.modem({ type: 'BUSY' });
  assert.ok(r.at('open.callingBack.waitingToRedial'));
  await r.tick(9999);
  assert.equal(dials(), 1);
  await r.tick(1);
  assert.equal(dials(), 2);
  r.modem({ type: 'NO_ANSWER' });
  await r.tick(10_000);
  assert.equal(dials(), 3);
  r.modem({ type: 'NO_CARRIER' });
  assert.equal(r.log.at(-1), 'ATZ', 'back to the init chat');
  assert.ok(r.log.includes('gaveUp:no-carrier:3'));
  r.modem({ type: 'OK' });
  r.modem({ type: 'OK' });
  assert.ok(r.at('open.idle'));
  assert.equal(r.actor.getSnapshot().context.callback, undefined);
});

test('line machine: callback: no CONNECT within the answer timeout abandons the attempt with a DTR hang-up; NO DIALTONE; ERROR', async () => {
  const r = rig({ dcd: async () => ({ dcd: false }) });
  await connected(r);
  await hungUpForCallback(r);
  await r.tick(5000);
  r.log.length = 0;
  await r.tick(59_999);
  assert.deepEqual(r.log, []);
  await r.tick(1);
  assert.ok(r.at('open.hangingUp'), JSON.stringify(r.actor.getSnapshot().value));
  await r.tick(700);
  r.modem({ type: 'OK' });
  r.modem({ type: 'OK' });
  assert.ok(r.at('open.callingBack.waitingToRedial'));
  assert.equal(r.actor.getSnapshot().context.callback?.lastFailure, 'timeout');
  await r.tick(10_000);
  r.modem({ type: 'NO_DIALTONE' });
  await r.tick(10_000);
  r.modem({ type: 'ERROR' });
  assert.ok(r.log.some((l) => l === 'gaveUp:modem-error:3'), r.log.join());
});

test('line machine: callback abandoned by the call (CANCEL_CALLBACK) hangs up and goes back to answering', async () => {
  const r = rig({ dcd: async () => ({ dcd: false }) });
  await connected(r);
  await hungUpForCallback(r);
  await r.tick(5000);
  r.actor.send({ type: 'CANCEL_CALLBACK' });
  assert.ok(r.at('open.hangingUp'));
  await settle();
  await r.tick(700);
  r.modem({ type: 'OK' });
  r.modem({ type: 'OK' });
  assert.ok(r.at('open.idle'), JSON.stringify(r.actor.getSnapshot().value));
  assert.ok(!r.log.some((l) => l.startsWith('gaveUp') || l.startsWith('resume')));
});

test('line machine: callback: the device lost while waiting ends the call as device-lost', async () => {
  const r = rig({ dcd: async () => ({ dcd: false }) });
  await connected(r);
  await hungUpForCallback(r);
  r.actor.send({ type: 'DEVICE_LOST', error: 'gone' });
  assert.ok(r.log.includes('end:device-lost'));
  assert.ok(r.at('reopening'));
  assert.equal(r.actor.getSnapshot().context.callback, undefined);
});

test('line machine: random storms with callbacks: no errors, never ATA while a callback is pending, idle has no callback', async () => {
  for (let seed = 1; seed <= 12; seed++) {
    let x = seed * 7919;
    const rnd = (n: number) => ((x = (x * 1103515245 + 12345) >>> 0) >>> 8) % n;
    const r = rig({ dtr: async () => { if (rnd(6) === 0) throw new Error('ENOTTY'); }, dcd: async () => ({ dcd: rnd(3) === 0 }) }, { healthIntervalMs: 5000 });
    r.actor.send({ type: 'START' });
    const m = (result: ModemResult) => () => r.modem(result);
    const events: Array<() => void> = [
      m({ type: 'RING' }), m({ type: 'RING' }), m({ type: 'OK' }), m({ type: 'OK' }), m({ type: 'OK' }), m({ type: 'CONNECT', speed: 9600, extras: [] }),
      m({ type: 'BUSY' }), m({ type: 'NO_ANSWER' }), m({ type: 'NO_CARRIER' }), m({ type: 'NO_DIALTONE' }), m({ type: 'ERROR' }),
      () => r.actor.send({ type: 'CALL_BACK', request: { ...request, delayMs: rnd(3000), retryDelayMs: rnd(3000), answerTimeoutMs: 1 + rnd(5000), attempts: 1 + rnd(3) } }),
      () => r.actor.send({ type: 'CALL_BACK', request }),
      () => r.actor.send({ type: 'CANCEL_CALLBACK' }),
      () => r.actor.send({ type: 'HANGUP' }),
      () => r.actor.send({ type: 'DEVICE_LOST', error: 'gone' }),
    ];
    for (let i = 0; i < 500; i++) {
      if (rnd(3) === 0) await r.tick(rnd(4) === 0 ? rnd(10_000) : rnd(600));
      else events[rnd(events.length)]!();
      const snap = r.actor.getSnapshot();
      if (snap.hasTag('idle')) assert.equal(snap.context.callback, undefined, `seed ${seed}: idle with a callback`);
    }
    await settle();
    assert.deepEqual(r.errors, [], `seed ${seed}`);
    assert.ok(!r.log.includes('ATA-during-callback'), `seed ${seed}: answered while a callback was pending`);
    r.actor.stop();
  }
});
