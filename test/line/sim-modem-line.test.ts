import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { DeviceLine } from '../../src/serial/device-line.js';
import { resolveDeviceLine, type ModemSettings } from '../../src/serial/options.js';
import type { Input } from '../../src/options/fields.js';
import { SimModems, type SimModem } from '../../src/serial/sim-modem.js';
import type { CallChannel, CallEndReason } from '../../src/serial/types.js';
import { nullLogger } from '../../src/observe/logger.js';
import { LineDiscipline } from '../../src/terminal/discipline.js';
import { SimulatedClock, advance, advanceUntil, greeter, settle } from './helpers.js';

let n = 0;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function rig(modemSettings: Input<ModemSettings> = {}) {
  const clock = new SimulatedClock();
  const name = `t${++n}`;
  const simModems = new SimModems({ clock });
  const modem: SimModem = simModems.get(name);
  const line = new DeviceLine(resolveDeviceLine({ id: `m${n}`, device: `sim://${name}`, modem: modemSettings }), { logger: nullLogger(), clock, serial: { simModems } });
  cleanups.push(async () => {
    const stopped = line.stop();
    await advance(clock, 3000);
    await stopped;
  });
  const started = line.start();
  await advanceUntil(clock, () => line.status().state === 'idle', 'idle');
  await started;
  return { clock, modem, line, simModems };
}

test('sim line: init chat, RING, ATA, CONNECT, call, DTR hang-up, re-init, second call', async () => {
  const { clock, modem, line } = await rig();
  assert.deepEqual(modem.commands.slice(0, 2), ['ATZ', 'ATE0V1Q0&C1&D2S0=0']);
  const seen: string[] = [];
  const calls: CallChannel[] = [];
  line.on('call', (c: CallChannel) => calls.push(c));
  line.on('call', greeter(seen));
  for (const who of ['alice', 'bob']) {
    const caller = modem.dial({ number: '5550001' });
    await advanceUntil(clock, () => caller.received.includes('login: '), 'prompt');
    assert.equal(line.status().state, 'connected');
    assert.equal(line.status().activeCalls, 1);
    caller.type(`${who}\r`);
    await advanceUntil(clock, () => caller.state === 'ended', 'hang-up');
    assert.match(caller.received, new RegExp(`hello ${who}`));
    await advanceUntil(clock, () => line.status().state === 'idle', 're-init');
  }
  assert.deepEqual(seen, ['alice', 'bob']);
  assert.equal(modem.dtrHangups, 2);
  assert.equal(calls[0]!.connectSpeed, 33600);
  assert.equal(calls[0]!.callId, `${line.id}-1`);
  assert.equal(calls[1]!.callId, `${line.id}-2`);
  assert.equal(calls[0]!.deviceName, `sim://${modem.name}`);
  assert.ok(calls.every((c) => c.ended));
  // re-init after every call
  assert.equal(modem.commands.filter((c) => c === 'ATZ').length, 3);
});

function endOf(line: DeviceLine): Promise<{ call: CallChannel; reason: CallEndReason }> {
  return new Promise((resolve) => line.once('call', (call: CallChannel) => call.onEnd((reason) => resolve({ call, reason }))));
}

test('sim line: caller hangs up mid-call: NO CARRIER ends the call as carrier-lost', async () => {
  const { clock, modem, line } = await rig();
  const ended = endOf(line);
  const caller = modem.dial();
  await advanceUntil(clock, () => line.status().activeCalls === 1, 'call');
  caller.hangup();
  const { reason } = await ended;
  assert.equal(reason, 'carrier-lost');
  await advanceUntil(clock, () => line.status().state === 'idle', 'idle again');
});

test('sim line: a caller hanging up while the line answers frees the line at once for the next caller', async () => {
  const { clock, modem, line } = await rig();
  const first = modem.dial();
  await advanceUntil(clock, () => line.status().state === 'answering', 'answering');
  first.hangup();
  // NO CARRIER ends the answer: idle again well before the answer timeout (80 s, simulated time).
  await advanceUntil(clock, () => line.status().state === 'idle', 'idle again', 10_000);
  const seen: string[] = [];
  line.on('call', greeter(seen));
  const second = modem.dial();
  await advanceUntil(clock, () => second.received.includes('login: '), 'prompt for the next caller', 10_000);
  second.type('carol\r');
  await advanceUntil(clock, () => second.state === 'ended', 'hang-up');
  assert.deepEqual(seen, ['carol']);
});

test('sim line: a caller hanging up in the quiet period after CONNECT: NO CARRIER is heard, no call starts', async () => {
  const { clock, modem, line } = await rig({ quietMs: 300 });
  let calls = 0;
  line.on('call', () => calls++);
  const caller = modem.dial();
  await advanceUntil(clock, () => caller.state === 'connected' && line.status().state === 'connected', 'CONNECT');
  assert.equal(line.status().activeCalls, 0, 'still in the quiet period');
  caller.hangup();
  await advanceUntil(clock, () => line.status().state === 'idle', 'idle again', 5000);
  // A call started now would talk to a modem in command mode (its prompts answered by ERROR).
  assert.equal(calls, 0);
});

test('sim line: DCD loss without NO CARRIER is caught by polling DCD', async () => {
  const { clock, modem, line } = await rig({ dcdPollMs: 500 });
  modem.reportNoCarrier = false;
  const ended = endOf(line);
  const caller = modem.dial();
  await advanceUntil(clock, () => line.status().activeCalls === 1, 'call');
  caller.hangup();
  let result: { reason: CallEndReason } | undefined;
  void ended.then((r) => (result = r));
  await advanceUntil(clock, () => result !== undefined, 'DCD poll', 2000);
  assert.equal(result!.reason, 'carrier-lost');
  await advanceUntil(clock, () => line.status().state === 'idle', 'idle again');
});

test('sim line: answer on ring 2 with caller ID; the call carries it', async () => {
  const { clock, modem, line } = await rig({ answerOnRing: 2, callerId: 'AT+VCID=1' });
  assert.ok(modem.commands.includes('AT+VCID=1'));
  const ended = endOf(line);
  const caller = modem.dial({ number: '5551234', name: 'JOHN DOE' });
  await advance(clock, 3000);
  assert.equal(line.status().state, 'ringing');
  assert.ok(!modem.commands.includes('ATA'));
  await advanceUntil(clock, () => line.status().activeCalls === 1, 'call');
  assert.equal(caller.rings, 2);
  caller.hangup();
  const { call } = await ended;
  assert.deepEqual(call.callerId, { date: '0321', time: '1405', number: '5551234', name: 'JOHN DOE' });
});

test('sim line: deny list: a denied caller is never answered', async () => {
  const { clock, modem, line } = await rig({ answerOnRing: 2, callerId: 'AT+VCID=1', deny: ['P', '666*'] });
  let calls = 0;
  line.on('call', () => calls++);
  const caller = modem.dial({ number: '6661234' });
  await advanceUntil(clock, () => caller.state === 'ended', 'caller gives up', 120_000, 250);
  assert.equal(calls, 0);
  assert.ok(!modem.commands.includes('ATA'));
  await advanceUntil(clock, () => line.status().state === 'idle', 'idle');
  // an allowed caller afterwards is answered
  const ok = modem.dial({ number: '5550000' });
  await advanceUntil(clock, () => calls === 1, 'answered', 30_000);
  ok.hangup();
});

test('sim line: allow list with an unknown number (answer on ring 1) is not answered', async () => {
  const { clock, modem, line } = await rig({ allow: ['555*'] });
  let calls = 0;
  line.on('call', () => calls++);
  const caller = modem.dial({ number: '5550000' });
  await advance(clock, 20_000, 250);
  assert.equal(calls, 0, 'caller ID was not on: number unknown at ring 1');
  caller.hangup();
});

test('sim line: modem ignoring DTR is hung up with +++ and ATH0', async () => {
  const { clock, modem, line } = await rig();
  modem.ignoreDtr = true;
  line.on('call', greeter([]));
  const caller = modem.dial();
  await advanceUntil(clock, () => caller.received.includes('login: '), 'prompt');
  caller.type('carol\r');
  await advanceUntil(clock, () => caller.state === 'ended', 'hang-up by ATH0', 30_000);
  assert.ok(caller.received.includes('+++'), 'the escape went through the data path');
  assert.ok(modem.commands.includes('ATH0'));
  assert.equal(modem.dtrHangups, 0);
  await advanceUntil(clock, () => line.status().state === 'idle', 'idle');
});

test('sim line: wedged modem: health check fails, re-init fails, device reopened, back to idle', async () => {
  const { clock, modem, line } = await rig({ healthCheckSeconds: 30 });
  const states: string[] = [];
  line.on('state', (s: { state: string }) => states.push(s.state));
  modem.wedge();
  await advanceUntil(clock, () => states.includes('reopening'), 'reopening', 200_000, 250);
  await advanceUntil(clock, () => line.status().state === 'idle', 'idle after reopen', 60_000, 250);
  assert.ok(states.includes('initialising'));
  assert.equal(modem.wedged, false);
});

test('sim line: USB unplug: call ends device-lost, status reopening with the error, backoff, replug recovers', async () => {
  const { clock, modem, line } = await rig({ reopenBaseMs: 1000, reopenMaxMs: 8000 });
  const ended = endOf(line);
  modem.dial();
  await advanceUntil(clock, () => line.status().activeCalls === 1, 'call');
  const opens: number[] = [];
  line.on('state', (s: { state: string }) => s.state === 'opening' && opens.push(clock.now()));
  let reason: CallEndReason | undefined;
  void ended.then((r) => (reason = r.reason));
  modem.unplug();
  await advanceUntil(clock, () => reason !== undefined, 'call end');
  assert.equal(reason, 'device-lost');
  await advanceUntil(clock, () => line.status().state === 'reopening', 'reopening');
  await advance(clock, 40_000, 250);
  const st = line.status();
  assert.equal(st.state, 'reopening');
  assert.match(st.lastError ?? '', /no such device|disconnected/i);
  const gaps = opens.slice(1).map((t, i) => t - opens[i]!);
  assert.ok(gaps.length >= 3, `reopen attempts: ${gaps}`);
  for (let i = 1; i < gaps.length; i++) assert.ok(gaps[i]! >= gaps[i - 1]!, `backoff grows: ${gaps}`);
  assert.ok(Math.max(...gaps) <= 8000 + 500, `capped: ${gaps}`);
  modem.replug();
  await advanceUntil(clock, () => line.status().state === 'idle', 'idle after replug', 20_000, 250);
  assert.equal(line.status().lastError, undefined);
});

test('sim line: the modem held by another line is reported as locked and retried, not given up', async () => {
  const { modem, clock, simModems } = await rig();
  const other = new DeviceLine(resolveDeviceLine({ id: 'other', device: `sim://${modem.name}` }), { logger: nullLogger(), clock, serial: { simModems } });
  await other.start(); // resolves: the line waits for the device in the background
  assert.equal(other.status().state, 'reopening');
  assert.match(other.status().lastError ?? '', /locked by another program \(another getty\?\)/);
  await other.stop();
});

test('sim line: 16 lines in one process complete calls independently', async () => {
  const clock = new SimulatedClock();
  const lines: DeviceLine[] = [];
  const modems: SimModem[] = [];
  const simModems = new SimModems({ clock });
  for (let i = 0; i < 16; i++) {
    const name = `many${i}`;
    modems.push(simModems.get(name, { connectDelayMs: 500 + i * 37 }));
    lines.push(new DeviceLine(resolveDeviceLine({ id: `ml${i}`, device: `sim://${name}` }), { logger: nullLogger(), clock, serial: { simModems } }));
  }
  cleanups.push(async () => {
    const stopped = Promise.all(lines.map((l) => l.stop()));
    await advance(clock, 3000);
    await stopped;
  });
  const started = Promise.all(lines.map((l) => l.start()));
  await advanceUntil(clock, () => lines.every((l) => l.status().state === 'idle'), 'all idle');
  await started;
  const seen: string[][] = lines.map(() => []);
  lines.forEach((l, i) => l.on('call', greeter(seen[i]!)));
  for (let round = 0; round < 2; round++) {
    const callers = modems.map((m, i) => ((i + round) % 3 === 0 ? undefined : m.dial({ number: `555${i}` })));
    await advanceUntil(clock, () => callers.every((c, i) => !c || c.received.includes('login: ') || (void i, false)), 'prompts', 60_000);
    callers.forEach((c, i) => c?.type(`user${i}-${round}\r`));
    await advanceUntil(clock, () => callers.every((c) => !c || c.state === 'ended'), 'all hung up', 60_000);
    callers.forEach((c, i) => c && assert.match(c.received, new RegExp(`hello user${i}-${round}`)));
    await advanceUntil(clock, () => lines.every((l) => l.status().state === 'idle'), 'all idle again', 60_000);
  }
  seen.forEach((s, i) => assert.deepEqual(s, [0, 1].filter((r) => (i + r) % 3 !== 0).map((r) => `user${i}-${r}`)));
});

test('sim line: numeric results (V0) and command echo (E1) work end to end', async () => {
  const { clock, modem, line } = await rig({ init: ['ATZ', 'ATE1V0Q0&C1&D2S0=0'] });
  const ended = endOf(line);
  const caller = modem.dial();
  await advanceUntil(clock, () => line.status().activeCalls === 1, 'call on numeric CONNECT');
  caller.hangup();
  let reason: CallEndReason | undefined;
  void ended.then((r) => (reason = r.reason));
  await advanceUntil(clock, () => reason !== undefined, 'end');
  // in V0 the data-mode watcher ignores a bare "3" (a caller could type it): DCD polling ends it
  assert.equal(reason, 'carrier-lost');
  await advanceUntil(clock, () => line.status().state === 'idle', 'idle');
});

test('sim line: output to a stalled device (CTS held) is bounded, the call still ends cleanly', async () => {
  const { clock, modem, line } = await rig();
  let call: CallChannel | undefined;
  line.on('call', (c: CallChannel) => (call = c));
  const caller = modem.dial();
  await advanceUntil(clock, () => call !== undefined, 'call');
  modem.holdCts();
  for (let i = 0; i < 100; i++) call!.write(Buffer.alloc(4096, 0x41));
  await advance(clock, 100);
  assert.ok(caller.receivedBytes < 64 * 1024 + 4096, `delivered ${caller.receivedBytes}`);
  modem.releaseCts();
  await advance(clock, 100);
  assert.ok(caller.receivedBytes <= 64 * 1024 + 4096, 'the excess was dropped, not queued');
  caller.hangup();
  await advanceUntil(clock, () => line.status().state === 'idle', 'idle');
});

test('sim line: output still queued when the carrier drops never reaches the modem as a command (a caller cannot make it dial)', async () => {
  const { clock, modem, line } = await rig();
  let call: CallChannel | undefined;
  line.on('call', (c: CallChannel) => (call = c));
  const caller = modem.dial();
  await advanceUntil(clock, () => call !== undefined, 'call');
  // The caller typed a dial command and hung up; our echo of it is held (CTS off) when the carrier drops.
  modem.holdCts();
  call!.write(Buffer.from('xx\r'));
  call!.write(Buffer.from('ATDT5550000\r'));
  call!.write(Buffer.from('ATDT5550001\r'));
  await advance(clock, 50);
  caller.hangup();
  await advanceUntil(clock, () => call!.ended, 'the call ends on the carrier loss');
  modem.releaseCts();
  await advanceUntil(clock, () => line.status().state === 'idle', 'idle again');
  await advance(clock, 2000);
  assert.deepEqual(modem.commands.filter((c) => /ATD/i.test(c)), [], 'nothing the call wrote was taken as a command');
  assert.equal(line.status().state, 'idle');
});

test('sim line: a caller typing +++ with pauses cannot escape the modem through our echo', async () => {
  const { clock, modem, line } = await rig();
  let call: CallChannel | undefined;
  line.on('call', (c: CallChannel) => {
    call = c;
    // The login dialogue's echo, as the gateway runs it: the user-name field echoes what is typed.
    const d = new LineDiscipline();
    d.setField({ echo: 'on', maxChars: 256 });
    c.onData((b) => {
      for (const e of d.feed(b)) if (e.type === 'echo') c.write(e.bytes);
    });
  });
  const caller = modem.dial();
  await advanceUntil(clock, () => call !== undefined, 'call');
  // Hayes: guard time (S12, 1 s), +++, guard time. Typed one '+' at a time, echoed at once.
  await advance(clock, 1500);
  for (let i = 0; i < 3; i++) {
    caller.type('+');
    await advance(clock, 100);
  }
  await advance(clock, 1500);
  // Still in data mode: what we send next (a prompt) reaches the caller, not the modem's command line.
  call!.write(Buffer.from('AT\r\nlogin: '));
  caller.type('ATH\r');
  await advance(clock, 500);
  assert.equal(caller.state, 'connected', 'still connected: no ATH reached the modem');
  assert.deepEqual(modem.commands.slice(3), [], 'nothing after the init chat and ATA was a command');
  assert.match(caller.received, /login: /);
  assert.equal(caller.received.replace(/\0/g, '').slice(0, 3), '+++', 'the caller saw the + echoed (NULs are invisible)');
});

test('sim line: pause() leaves rings unanswered, start() answers again', async () => {
  const { clock, modem, line } = await rig({ ringTimeoutMs: 8000 });
  line.pause();
  let calls = 0;
  line.on('call', () => calls++);
  const c1 = modem.dial();
  await advance(clock, 15_000, 250);
  assert.equal(calls, 0);
  c1.hangup();
  await advance(clock, 9000, 250);
  const started = line.start();
  await settle();
  await started;
  const c2 = modem.dial();
  await advanceUntil(clock, () => calls === 1, 'answered after start()');
  c2.hangup();
});
