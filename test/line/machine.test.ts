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
      sendCommand: (_, p) => log.push(p.text),
      sendEscape: () => log.push('+++'),
      setInputMode: (_, p) => log.push(`mode:${p.mode}`),
      startCall: () => log.push('call'),
      endCall: (_, p) => log.push(`end:${p.reason}`),
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
