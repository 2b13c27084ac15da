import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { createLine, resolveLineOptions, DeviceLine, SimModemLine, SimModems, TcpLine } from '../../src/serial/index.js';
import { parseTcpUrl } from '../../src/options/address.js';
import type { CallChannel } from '../../src/serial/types.js';
import { nullLogger } from '../../src/observe/logger.js';
import { waitFor } from '../helpers/net.js';

const deps = { logger: nullLogger(), simModems: new SimModems() };

test('createLine: a TCP line and a device line', async () => {
  assert.ok(createLine(resolveLineOptions({ id: 'tcp0', listen: 'tcp://127.0.0.1:0' }), deps) instanceof TcpLine);
  const inspected: string[] = [];
  const d = createLine(resolveLineOptions({ id: 'sim0', device: 'sim://cl0' }), { ...deps, inspect: { next: (ev) => inspected.push(ev.type) } });
  assert.ok(d instanceof DeviceLine);
  assert.ok(inspected.includes('@xstate.actor'), 'inspection events reach deps.inspect');
  assert.ok(deps.simModems.find('cl0'), 'sim:// creates the simulated modem in deps.simModems');
  await d.stop();
});

test('line options: bad ones name the key (the same description as the config file)', () => {
  const bad: Array<[Record<string, unknown>, string]> = [
    [{ id: 'a b', listen: 'tcp://127.0.0.1:1' }, 'id'],
    [{ id: 'x' }, 'listen'],
    [{ id: 'x', listen: 'tcp://h:1', device: '/dev/ttyS0' }, 'listen'],
    [{ id: 'x', listen: 'http://h:1' }, 'listen'],
    [{ id: 'x', listen: 'tcp://h:70000' }, 'listen'],
    [{ id: 'x', listen: 'tcp://h:1', mode: 'ssh' }, 'mode'],
    [{ id: 'x', listen: 'tcp://h:1', maxCalls: -1 }, 'maxCalls'],
    [{ id: 'x', device: 'ttyS0' }, 'device'],
    [{ id: 'x', device: '/dev/ttyS0', baudRate: 0 }, 'baudRate'],
    [{ id: 'x', device: '/dev/ttyS0', dataBits: 9 }, 'dataBits'],
    [{ id: 'x', device: '/dev/ttyS0', parity: 'weird' }, 'parity'],
    [{ id: 'x', device: '/dev/ttyS0', stopBits: 3 }, 'stopBits'],
    [{ id: 'x', device: '/dev/ttyS0', modem: { init: ['ZZ'] } }, 'modem.init[0]'],
    [{ id: 'x', device: '/dev/ttyS0', modem: { answerOnRing: 0 } }, 'modem.answerOnRing'],
    [{ id: 'x', device: '/dev/ttyS0', modem: { deny: 'P' } }, 'modem.deny'],
    [{ id: 'x', device: '/dev/ttyS0', modem: { callerId: 'VCID' } }, 'modem.callerId'],
    [{ id: 'x', device: 'sim://a b' }, 'device'],
    [{ id: 'x', device: 'sim://' }, 'device'],
    [{ id: 'x', device: 'sim://a?far=127.0.0.1:2424' }, 'device'],
    [{ id: 'x', device: 'sim://a?bogus=1' }, 'device'],
  ];
  for (const [config, key] of bad) {
    assert.throws(() => resolveLineOptions(config as never), (e: Error & { key?: string; code?: string }) => e.code === 'OPTION_INVALID' && e.key === key, JSON.stringify(config));
  }
});

test('createLine: a sim:// line needs deps.simModems', () => {
  assert.throws(() => createLine(resolveLineOptions({ id: 'x', device: 'sim://nodeps' }), { logger: nullLogger() }), (e: Error & { key?: string }) => e.key === 'device' && /simModems/.test(e.message));
});

test('createLine: lines of two registries (two gateways) with one sim:// name have separate modems', async () => {
  const [a, b] = [new SimModems(), new SimModems()];
  const la = createLine(resolveLineOptions({ id: 'twin', device: 'sim://twin' }), { logger: nullLogger(), simModems: a });
  const lb = createLine(resolveLineOptions({ id: 'twin', device: 'sim://twin' }), { logger: nullLogger(), simModems: b });
  try {
    await Promise.all([la.start(), lb.start()]);
    assert.equal(la.status().state, 'idle');
    assert.equal(lb.status().state, 'idle', 'not locked by the other gateway\'s line');
    assert.notEqual(a.find('twin'), b.find('twin'));
    assert.ok(a.find('twin')!.commands.includes('ATZ') && b.find('twin')!.commands.includes('ATZ'));
  } finally {
    await Promise.all([la.stop(), lb.stop()]);
  }
});

test('createLine: the sim:// path sets the modem\'s dial plan and dial tone, anew with every line made on it', async () => {
  const simModems = new SimModems();
  const first = createLine(resolveLineOptions({ id: 'plan', device: 'sim://plan?dial=555-1234=tcp://127.0.0.1:6400&dialtone=off' }), { logger: nullLogger(), simModems });
  const modem = simModems.find('plan')!;
  assert.deepEqual(modem.dialPlan, new Map([['5551234', { host: '127.0.0.1', port: 6400 }]]));
  assert.equal(modem.dialTone, false);
  await first.stop();
  const second = createLine(resolveLineOptions({ id: 'plan', device: 'sim://plan' }), { logger: nullLogger(), simModems });
  assert.equal(simModems.find('plan'), modem, 'the same modem');
  assert.deepEqual(modem.dialPlan, new Map());
  assert.equal(modem.dialTone, true);
  await second.stop();
});

test('tcp:// addresses: IPv4, IPv6, names', () => {
  assert.deepEqual(parseTcpUrl('tcp://127.0.0.1:2323'), { host: '127.0.0.1', port: 2323 });
  assert.deepEqual(parseTcpUrl('tcp://[::1]:2323'), { host: '::1', port: 2323 });
  assert.deepEqual(parseTcpUrl('tcp://localhost:1'), { host: 'localhost', port: 1 });
});

/** The host's half of a login on a call: prompt, read a user name and a password, welcome, hang up. */
function hostLogin(write: (text: string) => void, onData: (listener: (b: Buffer) => void) => void, hangup: () => void, got: string[]): void {
  let buf = '';
  let over = false;
  write('\r\nlogin: ');
  onData((b) => {
    for (const ch of over ? '' : b.toString('latin1')) {
      if (ch !== '\r') { buf += ch; continue; }
      got.push(buf);
      buf = '';
      if (got.length % 2 === 1) write('\r\nPassword: ');
      else {
        write('\r\nwelcome\r\n');
        over = true;
        hangup();
        return;
      }
    }
  });
}

function simCaller(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/sim-caller.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', r));
  return { child, exited, out: () => out, err: () => err };
}

test('sim-caller script dials a sim:// line over its far side and types at the prompts', async () => {
  const line = createLine(resolveLineOptions({ id: 'demo', device: 'sim://cldemo?far=tcp://127.0.0.1:0', modem: { quietMs: 50 } }), deps) as SimModemLine;
  const got: string[] = [];
  line.on('call', (call: CallChannel) => hostLogin((t) => call.write(Buffer.from(t)), (l) => call.onData(l), () => void call.hangup(), got));
  await line.start();
  const port = (await line.farAddress())!.port;
  try {
    const caller = simCaller(['--to', `tcp://127.0.0.1:${port}`, '--user', 'erin', '--password', 'pw1']);
    assert.equal(await caller.exited, 0);
    assert.deepEqual(got, ['erin', 'pw1']);
    assert.match(caller.out(), /welcome/);
    await waitFor(() => line.status().state === 'idle', 'idle after the call', 10_000);
  } finally {
    await line.stop();
  }
});

test('sim-caller --callback-listen: after its own call the modem dials it (ATDT HOST:PORT) and it logs in again on that call', async () => {
  const line = createLine(resolveLineOptions({ id: 'cbdemo', device: 'sim://cbdemo?far=tcp://127.0.0.1:0', modem: { quietMs: 50 } }), deps) as SimModemLine;
  const got: string[] = [];
  line.on('call', (call: CallChannel) => hostLogin((t) => call.write(Buffer.from(t)), (l) => call.onData(l), () => void call.hangup(), got));
  await line.start();
  const farPort = (await line.farAddress())!.port;
  const caller = simCaller(['--to', `tcp://127.0.0.1:${farPort}`, '--user', 'erin', '--password', 'pw1', '--callback-listen', 'tcp://127.0.0.1:0']);
  try {
    await waitFor(() => got.length === 2 && line.status().state === 'idle', 'the first call over', 20_000);
    // It listens for the call back on a port the kernel picked, and says which.
    const waiting = await waitFor(() => /waiting for the call back on tcp:\/\/\S+:(\d+)\n/.exec(caller.err()), 'the caller waits');
    const callbackPort = Number(waiting[1]);
    // The line machine does not dial: drive the modem directly, as a DTE calling back would.
    await line.stop();
    const modem = line.simModem;
    let dte = '';
    let listener: ((b: Buffer) => void) | undefined;
    modem.attach((b) => (listener ? listener(b) : (dte += b.toString('latin1'))), () => undefined);
    const write = (t: string) => modem.fromDte(Buffer.from(t, 'latin1'));
    write('ATE0\r');
    write(`ATDT127.0.0.1:${callbackPort}\r`);
    await waitFor(() => /CONNECT 33600/.test(dte), 'CONNECT', 15_000);
    assert.equal(modem.dcd, true);
    hostLogin(write, (l) => (listener = l), () => modem.setDtr(false), got);
    assert.equal(await caller.exited, 0, caller.err());
    assert.deepEqual(got, ['erin', 'pw1', 'erin', 'pw1']);
    assert.equal(caller.out().match(/welcome/g)?.length, 2);
    assert.match(caller.err(), /called back: answering[\s\S]*line hung up after the call back/);
    assert.equal(modem.dcd, false);
  } finally {
    caller.child.kill();
    await line.stop();
  }
});

/** Resolve true when something accepts a TCP connection at port, false when it is refused. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** A sim line whose far side listens on a port the kernel picks; resolves with the line and that port. */
async function farLine(id: string): Promise<{ line: SimModemLine; port: number }> {
  const line = createLine(resolveLineOptions({ id, device: `sim://${id}?far=tcp://127.0.0.1:0` }), deps) as SimModemLine;
  await line.start();
  return { line, port: (await line.farAddress())!.port };
}

test('sim line: after stop() its far side no longer accepts callers', async () => {
  const { line, port } = await farLine('farstop');
  assert.equal(await accepts(port), true, 'listening while the line runs');
  await line.stop();
  assert.equal(await accepts(port), false, 'refused once the line is stopped');
});

test('sim line: a line re-created with a new far= address listens there', async () => {
  const first = await farLine('farmove');
  await first.line.stop();
  const second = await farLine('farmove');
  try {
    assert.equal(await accepts(second.port), true, 'the new address');
    // (the kernel may hand the freed port out again)
    if (second.port !== first.port) assert.equal(await accepts(first.port), false, 'not the old one');
  } finally {
    await second.line.stop();
  }
});

test('sim line: pause() closes its far side like a TCP line\'s listener, start() opens it again', async () => {
  const { line, port } = await farLine('farpause');
  try {
    line.pause();
    await waitFor(async () => !(await accepts(port)), 'refused while paused');
    await line.start();
    const again = (await line.farAddress())!.port;
    assert.equal(await accepts(again), true, 'accepting again');
  } finally {
    await line.stop();
  }
});
