/** The simulated modem's command line, ringing, answering and control lines, driven directly (no serialport). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimulatedClock } from 'xstate';
import { SimModem, SimModems, MAX_SIM_MODEMS } from '../../src/serial/sim-modem.js';
import { simModemBinding } from '../../src/serial/sim-binding.js';

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

/** Command bytes from the DTE and what the modem says back, from factory settings (E1 V1). */
const lines: Array<[string, string, string]> = [
  ['reset echoes and says OK', 'ATZ\r', 'ATZ\r\r\nOK\r\n'],
  ['echo off: the echo of the command itself still shows', 'ATE0\r', 'ATE0\r\r\nOK\r\n'],
  ['echo off, then a command', 'ATE0\rAT\r', 'ATE0\r\r\nOK\r\n\r\nOK\r\n'],
  ['S-register read', 'ATE0\rATS0=2\rATS0?\r', 'ATE0\r\r\nOK\r\n\r\nOK\r\n\r\n002\r\n\r\nOK\r\n'],
  ['numeric results', 'ATE0V0\rAT\r', 'ATE0V0\r0\r0\r'],
  ['quiet', 'ATE0Q1\rAT\rATQ0\r', 'ATE0Q1\r\r\nOK\r\n'],
  ['error', 'ATE0\rATBOGUS\r', 'ATE0\r\r\nOK\r\n\r\nERROR\r\n'],
  ['backspace edits the line (S5)', 'ATE0\rATX\b\r', 'ATE0\r\r\nOK\r\n\r\nOK\r\n'],
  ['DEL edits too', 'ATE0\rATQ\x7f\r', 'ATE0\r\r\nOK\r\n\r\nOK\r\n'],
  ['LF after CR is ignored', 'ATE0\r\nAT\r\n', 'ATE0\r\r\nOK\r\n\r\nOK\r\n'],
  ['blank lines say nothing', 'ATE0\r\r  \r', 'ATE0\r\r\nOK\r\n'],
  ['A/ repeats the last line', 'ATE0\rATS0?\rA/', 'ATE0\r\r\nOK\r\n\r\n000\r\n\r\nOK\r\n\r\n000\r\n\r\nOK\r\n'],
  ['a/ in lower case', 'ATE0\rATI\ra/', 'ATE0\r\r\nOK\r\n\r\nrasgate simulated modem direct\r\n\r\nOK\r\n\r\nrasgate simulated modem direct\r\n\r\nOK\r\n'],
  ['a new terminator (S3)', 'ATE0S3=10\rAT\n', 'ATE0S3=10\r\n\nOK\n\n\n\nOK\n\n'],
  ['an overlong line is an error', `ATE0\rAT${'E0'.repeat(200)}\r`, 'ATE0\r\r\nOK\r\n\r\nERROR\r\n'],
  ['parity bits are stripped', 'ATE0\r\xc1\xd4\r', 'ATE0\r\r\nOK\r\n\r\nOK\r\n'],
  ['control characters are dropped', 'ATE0\rA\x00T\x07\r', 'ATE0\r\r\nOK\r\n\r\nOK\r\n'],
];

for (const [name, input, expected] of lines) {
  const bytes = Buffer.from(input, 'latin1');
  const said = (chunks: Buffer[]) => {
    const { modem, out } = rig();
    for (const c of chunks) modem.fromDte(c);
    return out();
  };
  test(`sim modem: ${name}`, () => assert.equal(said([bytes]), expected));
  test(`sim modem: ${name}, split at every position`, () => {
    for (let i = 0; i <= bytes.length; i++) assert.equal(said([bytes.subarray(0, i), bytes.subarray(i)]), expected, `split at ${i}`);
  });
  test(`sim modem: ${name}, one byte at a time`, () => assert.equal(said([...bytes].map((b) => Buffer.of(b))), expected));
}

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

test('sim modem: the caller hanging up during the answer handshake ends it with NO CARRIER; the next caller rings', () => {
  const { clock, modem, at, out, clear } = rig({ connectDelayMs: 1500 });
  at('ATE0');
  const caller = modem.dial();
  assert.equal(at('ATA'), '');
  clock.increment(500);
  caller.hangup();
  clear();
  clock.increment(1000);
  // A modem that went off hook always reports how the handshake ended: the DTE waits for it.
  assert.equal(out(), '\r\nNO CARRIER\r\n');
  assert.equal(modem.dcd, false);
  clear();
  const next = modem.dial();
  assert.equal(out(), '\r\nRING\r\n');
  at('ATA');
  clock.increment(1500);
  assert.equal(next.state, 'connected');
});

test('sim modem: a caller still ringing is not hung up by ATZ or ATH (the modem is on hook): it rings on', () => {
  const { clock, modem, at, out, clear } = rig({ ringIntervalMs: 6000, connectDelayMs: 1500 });
  at('ATE0');
  const caller = modem.dial();
  // A line re-initialising when the call comes in: reset, hang up.
  at('ATZ');
  at('ATE0');
  at('ATH0');
  assert.equal(caller.state, 'ringing');
  clear();
  clock.increment(6000);
  assert.equal(out(), '\r\nRING\r\n');
  at('ATA');
  clock.increment(1500);
  assert.equal(caller.state, 'connected');
  // Answered, ATH does hang up (after the escape: guard time, +++, guard time).
  clock.increment(1100);
  modem.fromDte(Buffer.from('+++'));
  clock.increment(1100);
  at('ATH0');
  assert.equal(caller.state, 'ended');
});

test('sim modem: the caller keeps the last 64 KiB of what it received, and counts it all', () => {
  const { clock, modem, at } = rig({ connectDelayMs: 10 });
  at('ATE0S0=1');
  const caller = modem.dial();
  clock.increment(10);
  assert.equal(caller.state, 'connected');
  for (let i = 0; i < 100; i++) modem.fromDte(Buffer.alloc(4096, 0x42));
  modem.fromDte(Buffer.from('the end'));
  assert.equal(caller.receivedBytes, 100 * 4096 + 7);
  assert.ok(caller.received.length <= 64 * 1024, `kept ${caller.received.length}`);
  assert.ok(caller.received.endsWith('B'.repeat(100) + 'the end'));
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
  const modems = new SimModems();
  const binding = simModemBinding(modems);
  await assert.rejects(binding.open({ path: 'sim://nobody', baudRate: 9600 }), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
  const m = modems.get('bind1');
  const port = await binding.open({ path: 'sim://bind1', baudRate: 9600 });
  await assert.rejects(binding.open({ path: 'sim://bind1', baudRate: 9600 }), /Cannot lock port/);
  await port.set({ dtr: false });
  assert.equal(m.dtr, false);
  assert.equal(m.rts, true, 'set() resets flags not passed');
  const reading = port.read(Buffer.alloc(16), 0, 16);
  await port.close();
  await assert.rejects(reading, (e: { canceled?: boolean }) => e.canceled === true);
  m.unplug();
  await assert.rejects(binding.open({ path: 'sim://bind1', baudRate: 9600 }), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
});

test('sim binding: two registries never share a modem', async () => {
  const a = new SimModems();
  const b = new SimModems();
  const ma = a.get('same');
  const mb = b.get('same');
  assert.notEqual(ma, mb);
  const pa = await simModemBinding(a).open({ path: 'sim://same', baudRate: 9600 });
  const pb = await simModemBinding(b).open({ path: 'sim://same', baudRate: 9600 });
  await pa.set({ dtr: false });
  assert.equal(ma.dtr, false);
  assert.equal(mb.dtr, true, 'the other registry\'s modem is untouched');
  await assert.rejects(simModemBinding(new SimModems()).open({ path: 'sim://same', baudRate: 9600 }), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
  await pa.close();
  await pb.close();
});

test('sim binding: input the program does not read is dropped past the bound (overrun)', async () => {
  const clock = new SimulatedClock();
  const modems = new SimModems({ clock });
  const m = modems.get('flood');
  const port = await simModemBinding(modems).open({ path: 'sim://flood', baudRate: 9600 });
  await port.write(Buffer.from('ATE0S0=1\r'));
  const caller = m.dial();
  clock.increment(1500);
  assert.equal(caller.state, 'connected');
  for (let i = 0; i < 40; i++) caller.type(Buffer.alloc(64 * 1024, 0x41));
  let total = 0;
  for (;;) {
    const { bytesRead } = await port.read(Buffer.alloc(256 * 1024), 0, 256 * 1024);
    total += bytesRead;
    if (bytesRead < 256 * 1024) break;
  }
  assert.ok(total <= 1024 * 1024, `queued ${total}`);
  await port.close();
});

test('sim modems: a registry holds a bounded number of modems', () => {
  const modems = new SimModems();
  for (let i = 0; i < MAX_SIM_MODEMS; i++) modems.get(`m${i}`);
  assert.throws(() => modems.get('one-more'), RangeError);
  assert.ok(modems.find('m0'));
  assert.equal(modems.delete('m0'), true);
  assert.equal(modems.find('m0'), undefined);
  modems.get('one-more');
});

test('sim binding: a DTE and the modem answering each other forever still let the event loop turn', async () => {
  // Like a real port, a read completes from the event loop (I/O), never in the same run of
  // promise callbacks: a feedback loop (the modem echoing in command mode, a program echoing
  // back what it reads) must not starve timers, e.g. the DCD poll that would end the call.
  const modems = new SimModems();
  modems.get('echo');
  const port = await simModemBinding(modems).open({ path: 'sim://echo', baudRate: 9600 });
  try {
    let timerRan = false;
    setTimeout(() => (timerRan = true), 0);
    const buf = Buffer.alloc(64);
    await port.write(Buffer.from('A')); // E1 after power-up: the modem echoes it
    let rounds = 0;
    while (!timerRan && rounds < 100_000) {
      const { bytesRead } = await port.read(buf, 0, buf.length);
      await port.write(buf.subarray(0, bytesRead));
      rounds++;
    }
    assert.ok(timerRan, `a 0 ms timer starved for ${rounds} read/write rounds`);
  } finally {
    await port.close();
  }
});
