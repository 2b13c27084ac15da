/** The simulated modem's AT interpreter and control lines, driven directly (no serialport). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimulatedClock } from 'xstate';
import { SimModem } from '../../src/serial/sim-modem.js';
import { SimModemBinding, parseSimPath } from '../../src/serial/sim-binding.js';
import { simModem, removeSimModem } from '../../src/serial/sim-modem.js';

function rig(opts: ConstructorParameters<typeof SimModem>[1] = {}) {
  const clock = new SimulatedClock();
  const modem = new SimModem('direct', { clock, ...opts });
  let out = '';
  modem.attach((b) => (out += b.toString('latin1')), () => undefined);
  const at = (cmd: string) => {
    out = '';
    modem.fromDte(Buffer.from(`${cmd}\r`));
    return out;
  };
  return { clock, modem, at, out: () => out, clear: () => (out = '') };
}

test('sim modem: command table', () => {
  const { at } = rig();
  const table: Array<[string, string]> = [
    ['ATZ', 'ATZ\r\r\nOK\r\n'], // E1 after reset: echo
    ['ATE0', 'ATE0\r\r\nOK\r\n'],
    ['AT', '\r\nOK\r\n'],
    ['at&c1&d2', '\r\nOK\r\n'],
    ['ATS0=2', '\r\nOK\r\n'],
    ['ATS0?', '\r\n002\r\n\r\nOK\r\n'],
    ['AT+VCID=1', '\r\nOK\r\n'],
    ['AT#CID=0', '\r\nOK\r\n'],
    ['ATQX', '\r\nOK\r\n'],
    ['ATBOGUS', '\r\nERROR\r\n'],
    ['HELLO', '\r\nERROR\r\n'],
    ['ATDT5551234', '\r\nNO DIALTONE\r\n'],
    ['ATV0', '0\r'],
    ['AT', '0\r'],
    ['ATV1Q1', ''],
    ['AT', ''],
    ['ATQ0', '\r\nOK\r\n'],
  ];
  for (const [cmd, expected] of table) assert.equal(at(cmd), expected, cmd);
});

test('sim modem: rings with caller ID, ATA, CONNECT, data both ways, +++ guard time, ATH', () => {
  const { clock, modem, at, out, clear } = rig({ ringIntervalMs: 6000, connectDelayMs: 1000 });
  at('ATE0V1Q0&C1&D2S0=0+VCID=1');
  clear();
  const caller = modem.dial({ number: '5551234', name: 'JOHN' });
  assert.equal(out(), '\r\nRING\r\n');
  assert.equal(modem.dcd, false);
  clock.increment(1500);
  assert.match(out(), /DATE = 0321\r\nTIME = 1405\r\nNMBR = 5551234\r\nNAME = JOHN/);
  clock.increment(4500);
  assert.equal(caller.rings, 2);
  assert.equal(at('ATA'), '');
  clock.increment(1000);
  assert.equal(out(), '\r\nCONNECT 33600/ARQ/V34/LAPM/V42BIS\r\n');
  assert.equal(modem.dcd, true);
  clear();
  caller.type('hi');
  assert.equal(out(), 'hi');
  modem.fromDte(Buffer.from('to caller'));
  assert.equal(caller.received, 'to caller');
  // '+++' without the guard time before it is data
  modem.fromDte(Buffer.from('+++'));
  clock.increment(1100);
  assert.equal(out(), 'hi');
  clock.increment(1100);
  clear();
  modem.fromDte(Buffer.from('+++'));
  clock.increment(1100);
  assert.equal(out(), '\r\nOK\r\n');
  assert.equal(at('ATH0'), '\r\nOK\r\n');
  assert.equal(caller.state, 'ended');
  assert.equal(modem.dcd, false);
});

test('sim modem: DTR drop hangs up (&D2) unless ignored; caller hang-up gives NO CARRIER; auto-answer S0', () => {
  const { clock, modem, at, out, clear } = rig({ connectDelayMs: 10 });
  at('ATE0S0=1');
  const c1 = modem.dial();
  clock.increment(10);
  assert.equal(c1.state, 'connected');
  clear();
  modem.setDtr(false);
  assert.equal(c1.state, 'ended');
  assert.equal(out(), '\r\nNO CARRIER\r\n');
  modem.setDtr(true);
  modem.ignoreDtr = true;
  const c2 = modem.dial();
  clock.increment(10);
  modem.setDtr(false);
  assert.equal(c2.state, 'connected');
  modem.setDtr(true);
  clear();
  c2.hangup();
  assert.equal(out(), '\r\nNO CARRIER\r\n');
});

test('sim modem: wedged modem ignores commands until DTR drops', () => {
  const { modem, at } = rig();
  at('ATE0');
  modem.wedge();
  assert.equal(at('AT'), '');
  modem.setDtr(false);
  modem.setDtr(true);
  assert.equal(at('AT'), '\r\nOK\r\n');
});

test('sim binding: open errors like the Linux binding', async () => {
  assert.deepEqual(parseSimPath('sim://demo?far=tcp://127.0.0.1:2424'), { name: 'demo', far: 'tcp://127.0.0.1:2424' });
  await assert.rejects(SimModemBinding.open({ path: 'sim://nobody', baudRate: 9600 }), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
  const m = simModem('bind1');
  const port = await SimModemBinding.open({ path: 'sim://bind1', baudRate: 9600 });
  await assert.rejects(SimModemBinding.open({ path: 'sim://bind1', baudRate: 9600 }), /Cannot lock port/);
  await port.set({ dtr: false });
  assert.equal(m.dtr, false);
  assert.equal(m.rts, true, 'set() resets flags not passed');
  const reading = port.read(Buffer.alloc(16), 0, 16);
  await port.close();
  await assert.rejects(reading, (e: { canceled?: boolean }) => e.canceled === true);
  m.unplug();
  await assert.rejects(SimModemBinding.open({ path: 'sim://bind1', baudRate: 9600 }), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
  removeSimModem('bind1');
});
