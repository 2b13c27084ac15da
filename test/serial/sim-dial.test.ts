/**
 * The simulated modem dials out: every outcome of ATD. The modem decides on a SimulatedClock;
 * the far side is a real loopback TCP server on port 0 (real time only waits for its I/O).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { SimulatedClock } from 'xstate';
import { SimModem, SimModems, type SimModemOptions } from '../../src/serial/sim-modem.js';
import { simModemBinding } from '../../src/serial/sim-binding.js';
import { resolveDialTarget } from '../../src/serial/sim-dial.js';
import { parseSimPath } from '../../src/serial/sim-path.js';
import { closedPort, waitFor } from '../helpers/net.js';

function rig(options: SimModemOptions = {}) {
  const clock = new SimulatedClock();
  const modem = new SimModem('dialler', { clock, connectDelayMs: 1000, ...options });
  let out = '';
  modem.attach((b) => (out += b.toString('latin1')), () => undefined);
  modem.fromDte(Buffer.from('ATE0\r'));
  out = '';
  return {
    clock,
    modem,
    out: () => out,
    clear: () => (out = ''),
    send: (text: string) => modem.fromDte(Buffer.from(text, 'latin1')),
  };
}

interface Far {
  port: number;
  server: Server;
  sockets: Socket[];
  received: () => string;
  closed: () => boolean;
  close: () => Promise<void>;
}

/** A far side on a loopback port; `onCall` gets each accepted connection. */
async function far(onCall: (s: Socket) => void = () => undefined): Promise<Far> {
  const sockets: Socket[] = [];
  let received = '';
  let closed = 0;
  const server = createServer((s) => {
    sockets.push(s);
    s.on('data', (d: Buffer) => (received += d.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => closed++);
    onCall(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    server,
    sockets,
    received: () => received,
    closed: () => sockets.length > 0 && closed === sockets.length,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Wait (real time) until the modem's TCP connection is up and its handshake runs on the simulated clock. */
async function pickedUp(modem: SimModem): Promise<void> {
  await waitFor(() => modem.outgoingCall?.state === 'handshake', 'the far side to pick up');
}

/** Dial `port` and see the call through to CONNECT (1000 ms handshake); the output is cleared. */
async function connected(r: ReturnType<typeof rig>, port: number): Promise<void> {
  r.send(`ATDT127.0.0.1:${port}\r`);
  await pickedUp(r.modem);
  r.clock.increment(1000);
  assert.match(r.out(), /CONNECT/);
  r.clear();
}

test('sim dial: CONNECT, DCD on, data both ways, early bytes dropped; +++ and ATH hang up', async () => {
  const f = await far((s) => s.write('noise before the carrier'));
  const { clock, modem, out, clear, send } = rig();
  try {
    send(`ATDT127.0.0.1:${f.port}\r`);
    await pickedUp(modem);
    assert.equal(modem.dcd, false, 'no carrier during the handshake');
    clock.increment(1000);
    assert.equal(out(), '\r\nCONNECT 33600/ARQ/V34/LAPM/V42BIS\r\n');
    assert.equal(modem.dcd, true);
    clear();
    send('login: ');
    await waitFor(() => f.received() === 'login: ', 'the far side receives');
    f.sockets[0]!.write('alice\r');
    await waitFor(() => out() === 'alice\r', 'the DTE receives');
    assert.ok(!out().includes('noise'), 'bytes before CONNECT are not data');
    clock.increment(1100);
    clear();
    send('+++');
    clock.increment(1100);
    assert.equal(out(), '\r\nOK\r\n', 'online command state');
    assert.equal(modem.dcd, true, 'the call goes on');
    clear();
    send('ATH0\r');
    assert.equal(out(), '\r\nOK\r\n');
    assert.equal(modem.dcd, false);
    await waitFor(() => f.closed(), 'the far side sees the hang-up');
    assert.equal(f.received(), 'login: +++', 'the escape went through as data');
  } finally {
    await f.close();
  }
});

test('sim dial: a number of the dial plan (punctuation ignored); ATO goes back online', async () => {
  const f = await far();
  const { clock, modem, out, clear, send } = rig({ dialPlan: new Map([['5551234', { host: '127.0.0.1', port: f.port }]]) });
  try {
    send('ATDP 555-1234\r');
    await pickedUp(modem);
    clock.increment(1000);
    assert.match(out(), /CONNECT 33600/);
    clock.increment(1100);
    send('+++');
    clock.increment(1100);
    clear();
    send('ATO\r');
    assert.match(out(), /^\r\nCONNECT 33600/);
    clear();
    send('back');
    await waitFor(() => f.received() === '+++back', 'data after ATO');
  } finally {
    await f.close();
  }
});

test('sim dial: the far side closing a connected call is NO CARRIER, DCD off', async () => {
  const f = await far();
  const r = rig();
  const { modem, out, clear, send } = r;
  try {
    await connected(r, f.port);
    f.sockets[0]!.end();
    await waitFor(() => out() === '\r\nNO CARRIER\r\n', 'NO CARRIER');
    assert.equal(modem.dcd, false);
    assert.equal(modem.outgoingCall, undefined);
    clear();
    send('AT\r');
    assert.equal(out(), '\r\nOK\r\n', 'back in command state');
  } finally {
    await f.close();
  }
});

test('sim dial: connection refused (nothing listens) is BUSY; X0 says NO CARRIER', async () => {
  const port = await closedPort();
  for (const [x, expected] of [['X4', '\r\nBUSY\r\n'], ['X0', '\r\nNO CARRIER\r\n']] as const) {
    const { out, send } = rig();
    send(`AT${x}DT127.0.0.1:${port}\r`);
    await waitFor(() => out() !== '', `${x}: a result`);
    assert.equal(out(), expected, x);
  }
});

test('sim dial: no connection within S7 seconds is NO ANSWER; the late connection is dropped', async () => {
  const f = await far();
  const { clock, modem, out, send } = rig();
  try {
    send(`ATS7=30DT127.0.0.1:${f.port}\r`);
    // Synchronously, before the event loop can complete the TCP connect: nobody picked up in time.
    clock.increment(29_999);
    assert.equal(out(), '');
    clock.increment(1);
    assert.equal(out(), '\r\nNO ANSWER\r\n');
    assert.equal(modem.outgoingCall, undefined);
    assert.equal(modem.dcd, false);
    // Whatever reached the server is closed at once, and never becomes a call.
    await new Promise((r) => setTimeout(r, 50));
    if (f.sockets.length) await waitFor(() => f.closed(), 'the late connection closed');
    clock.increment(60_000);
    assert.equal(out(), '\r\nNO ANSWER\r\n', 'nothing after');
  } finally {
    await f.close();
  }
});

test('sim dial: the far side hanging up during the handshake is NO CARRIER', async () => {
  const f = await far((s) => s.destroy());
  const { modem, out, send } = rig();
  try {
    send(`ATDT127.0.0.1:${f.port}\r`);
    await waitFor(() => out() !== '', 'a result');
    assert.equal(out(), '\r\nNO CARRIER\r\n');
    assert.equal(modem.dcd, false);
  } finally {
    await f.close();
  }
});

test('sim dial: S7 running out during the handshake is NO CARRIER', async () => {
  const f = await far();
  const { clock, modem, out, send } = rig({ connectDelayMs: 5000 });
  try {
    send(`ATS7=2DT127.0.0.1:${f.port}\r`);
    await pickedUp(modem);
    clock.increment(2000);
    assert.equal(out(), '\r\nNO CARRIER\r\n');
    await waitFor(() => f.closed(), 'the connection closed');
  } finally {
    await f.close();
  }
});

test('sim dial: a dead line is NO DIALTONE after S6 seconds (X2, X4), NO CARRIER under X3', async () => {
  for (const [x, expected] of [['X4', '\r\nNO DIALTONE\r\n'], ['X2', '\r\nNO DIALTONE\r\n'], ['X3', '\r\nNO CARRIER\r\n']] as const) {
    const { clock, modem, out, send } = rig({ dialTone: false });
    send(`AT${x}S6=3DT5551234\r`);
    clock.increment(2999);
    assert.equal(out(), '', `${x}: still waiting for a dial tone`);
    clock.increment(1);
    assert.equal(out(), expected, x);
    assert.equal(modem.outgoingCall, undefined);
  }
});

test('sim dial: unobtainable: a number not in the plan, an address off this host (never contacted)', () => {
  for (const dial of ['ATDT5559999', 'ATDT192.0.2.1:23', 'ATD[2001:db8::1]:23']) {
    const { clock, modem, out, send } = rig();
    send(`${dial}\r`);
    assert.equal(modem.outgoingCall, undefined, `${dial}: no connection attempted`);
    clock.increment(1000);
    assert.equal(out(), '\r\nNO CARRIER\r\n', dial);
  }
  assert.deepEqual(resolveDialTarget({ host: '127.1.2.3', port: 7 }, new Map()), { host: '127.1.2.3', port: 7 });
  assert.deepEqual(resolveDialTarget({ host: '::1', port: 7 }, new Map()), { host: '::1', port: 7 });
  assert.equal(resolveDialTarget({ host: '10.0.0.1', port: 7 }, new Map()), undefined);
});

test('sim dial: DTR drop (&D2) hangs up an outgoing call: NO CARRIER, the far side closed', async () => {
  const f = await far();
  const r = rig();
  const { modem, out } = r;
  try {
    await connected(r, f.port);
    modem.setDtr(false);
    assert.equal(out(), '\r\nNO CARRIER\r\n');
    assert.equal(modem.dcd, false);
    assert.equal(modem.dtrHangups, 1);
    await waitFor(() => f.closed(), 'the far side sees the hang-up');
  } finally {
    await f.close();
  }
});

test('sim dial: a character from the DTE while dialling aborts the call (V.250 5.6.1); CR LF does not', async () => {
  const f = await far();
  const { clock, modem, out, send } = rig();
  try {
    send(`ATDT127.0.0.1:${f.port}\r\n`);
    await pickedUp(modem);
    assert.equal(out(), '', 'the LF after CR did not abort');
    send('x');
    assert.equal(out(), '\r\nNO CARRIER\r\n');
    assert.equal(modem.outgoingCall, undefined);
    await waitFor(() => f.closed(), 'the connection closed');
    clock.increment(60_000);
    assert.equal(out(), '\r\nNO CARRIER\r\n', 'nothing after');
  } finally {
    await f.close();
  }
});

test('sim dial: while the modem dials, an incoming caller finds it busy; while one rings, ATD finds no dial tone', async () => {
  const f = await far();
  try {
    const a = rig();
    a.send(`ATDT127.0.0.1:${f.port}\r`);
    assert.throws(() => a.modem.dial(), /busy/);
    a.send('ATH\r');
    const b = rig();
    const caller = b.modem.dial();
    b.clear();
    b.send(`ATDT127.0.0.1:${f.port}\r`);
    assert.equal(b.modem.outgoingCall, undefined);
    b.clock.increment(2000);
    assert.match(b.out(), /NO DIALTONE/);
    assert.equal(caller.state, 'ringing');
  } finally {
    await f.close();
  }
});

test('sim dial: a far side that does not read holds CTS off; CTS returns when it reads', async () => {
  const f = await far((s) => s.pause());
  const r = rig();
  const { modem } = r;
  try {
    await connected(r, f.port);
    assert.equal(modem.cts, true);
    const chunk = Buffer.alloc(256 * 1024, 0x41);
    for (let i = 0; i < 256 && modem.cts; i++) {
      modem.fromDte(chunk);
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(modem.cts, false, 'the kernel buffers filled and our queue passed its bound');
    let released = false;
    void modem.clearToSend().then(() => (released = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(released, false, 'writers wait');
    f.sockets[0]!.resume();
    await waitFor(() => released, 'CTS back on once the far side reads', 20_000);
  } finally {
    await f.close();
  }
});

test('sim path: dial plan entries (numbers normalised), dialtone, and what is wrong with a bad one', () => {
  const p = parseSimPath('sim://demo?far=tcp://127.0.0.1:2424&dial=555-1234=tcp://127.0.0.1:6400&dial=*70%23=tcp://[::1]:6401&dialtone=off');
  assert.deepEqual(p, {
    name: 'demo',
    far: { host: '127.0.0.1', port: 2424 },
    dialPlan: new Map([['5551234', { host: '127.0.0.1', port: 6400 }], ['*70#', { host: '::1', port: 6401 }]]),
    dialTone: false,
  });
  assert.deepEqual(parseSimPath('sim://plain'), { name: 'plain', dialPlan: new Map(), dialTone: true });
  const bad: Array<[string, RegExp]> = [
    ['sim://demo?dial=5551234', /dial plan entry/],
    ['sim://demo?dial=abc=tcp://127.0.0.1:1', /dial plan entry/],
    ['sim://demo?dial=1=tcp://127.0.0.1:0', /dial plan entry/],
    ['sim://demo?dial=1=127.0.0.1:1', /dial plan entry/],
    ['sim://demo?dialtone=no', /neither on nor off/],
    ['sim://demo?dail=1', /not a sim:\/\/ parameter/],
    ['sim://de mo', /NAME/],
    [`sim://demo?${Array.from({ length: 65 }, (_, i) => `dial=${i}=tcp://127.0.0.1:1`).join('&')}`, /more than 64/],
  ];
  for (const [path, message] of bad) assert.throws(() => parseSimPath(path), (e: Error & { code?: string }) => e.code === 'SIM_PATH_INVALID' && message.test(e.message), path);
});

test('sim dial through the serialport binding: the port reads CONNECT and the far side\'s bytes, get() shows DCD', async () => {
  const f = await far();
  const clock = new SimulatedClock();
  const modems = new SimModems({ clock, connectDelayMs: 1000 });
  const modem = modems.get('bound');
  const port = await simModemBinding(modems).open({ path: 'sim://bound', baudRate: 115200 });
  let text = '';
  const reader = (async () => {
    for (;;) {
      const { buffer, bytesRead } = await port.read(Buffer.alloc(256), 0, 256);
      text += buffer.subarray(0, bytesRead).toString('latin1');
    }
  })().catch(() => undefined);
  try {
    await port.write(Buffer.from(`ATE0\rATDT127.0.0.1:${f.port}\r`));
    await pickedUp(modem);
    assert.equal((await port.get()).dcd, false);
    clock.increment(1000);
    await waitFor(() => /CONNECT 33600/.test(text), 'CONNECT on the port');
    assert.equal((await port.get()).dcd, true);
    await port.write(Buffer.from('to the far side'));
    await waitFor(() => f.received() === 'to the far side', 'the far side receives');
    f.sockets[0]!.write('to the DTE');
    await waitFor(() => text.endsWith('to the DTE'), 'the port reads');
    f.sockets[0]!.destroy();
    await waitFor(() => text.endsWith('\r\nNO CARRIER\r\n'), 'NO CARRIER on the port');
    assert.equal((await port.get()).dcd, false);
  } finally {
    await port.close();
    await reader;
    await f.close();
  }
});
