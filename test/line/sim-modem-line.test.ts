import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { DeviceLine, type ModemSettings } from '../../src/serial/device-line.js';
import { simModem, removeSimModem, type SimModem } from '../../src/serial/sim-modem.js';
import type { CallChannel, CallEndReason } from '../../src/serial/types.js';
import { nullLogger } from '../../src/observe/logger.js';
import { SimulatedClock, advance, advanceUntil, greeter } from './helpers.js';

let n = 0;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function rig(modemSettings: ModemSettings = {}) {
  const clock = new SimulatedClock();
  const name = `t${++n}`;
  const modem: SimModem = simModem(name, { clock });
  const line = new DeviceLine({ id: `m${n}`, path: `sim://${name}`, modem: modemSettings, logger: nullLogger(), clock });
  cleanups.push(async () => {
    const stopped = line.stop();
    await advance(clock, 3000);
    await stopped;
    removeSimModem(name);
  });
  const started = line.start();
  await advanceUntil(clock, () => line.status().state === 'idle', 'idle');
  await started;
  return { clock, modem, line };
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
