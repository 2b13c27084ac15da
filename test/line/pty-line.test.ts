/**
 * The device byte path on real kernel ptys (socat): a DeviceLine on one end, the simulated
 * modem's command interpreter speaking Hayes on the other. DTR and DCD do not exist on a
 * pty (set()/get() fail with ENOTTY), so the line must fall back to +++ / ATH0 and to
 * NO CARRIER. Real time, bounded waits.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, realpathSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPortStream } from '@serialport/stream';
import { autoDetect } from '@serialport/bindings-cpp';
import { DeviceLine } from '../../src/serial/device-line.js';
import { resolveDeviceLine } from '../../src/serial/options.js';
import { SimModem } from '../../src/serial/sim-modem.js';
import type { CallChannel, CallEndReason } from '../../src/serial/types.js';
import { createLogger, nullLogger } from '../../src/observe/logger.js';
import { needs } from '../helpers/tools.js';
import { waitFor } from '../helpers/net.js';
import Transport from 'winston-transport';
import { greeter } from './helpers.js';

const skip = needs('socat', 'flock');
let dir = '';
let socat: ChildProcess | undefined;
let lineEnd = '';
let modemEnd = '';

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'rasgate-pty-'));
  lineEnd = join(dir, 'ttyLINE');
  modemEnd = join(dir, 'ttyMODEM');
  socat = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${lineEnd}`, `pty,raw,echo=0,link=${modemEnd}`], { stdio: 'ignore' });
  await waitFor(() => existsSync(lineEnd) && existsSync(modemEnd), 'socat ptys');
});

after(() => {
  socat?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The simulated modem's interpreter on the far pty end. */
async function modemOnPty(modem: SimModem): Promise<SerialPortStream> {
  const port = new SerialPortStream({ binding: autoDetect(), path: modemEnd, baudRate: 115200, lock: false, autoOpen: false });
  await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
  modem.attach((bytes) => port.write(bytes), () => undefined);
  port.on('data', (d: Buffer) => modem.fromDte(d));
  return port;
}

class Capture extends Transport {
  records: Array<Record<string, unknown>> = [];
  override log(info: Record<string, unknown>, next: () => void) {
    this.records.push(info);
    next();
  }
}

test('pty line: init chat, RING, ATA, CONNECT, data both ways, +++/ATH0 hang-up (no DTR on a pty), caller NO CARRIER', { skip }, async () => {
  const modem = new SimModem('pty', { ringIntervalMs: 400, connectDelayMs: 100 });
  const far = await modemOnPty(modem);
  const capture = new Capture();
  const logger = createLogger({ noStdout: true, transports: [capture], level: 'debug' });
  const line = new DeviceLine(resolveDeviceLine({ id: 'pty0', device: lineEnd, modem: { init: ['ATZ', 'ATE0V1Q0&C1&D2S0=0S12=10'], guardMs: 300, quietMs: 100, settleMs: 50, chatTimeoutMs: 2000, dcdPollMs: 100 } }), { logger });
  try {
    await line.start();
    assert.equal(line.status().state, 'idle');
    const device = realpathSync(lineEnd);
    assert.ok(capture.records.some((r) => r.message === 'device resolved' && r.device === device), 'resolved name logged');
    const seen: string[] = [];
    const calls: CallChannel[] = [];
    line.on('call', (c: CallChannel) => calls.push(c));
    line.on('call', greeter(seen));

    // call 1: we hang up; DTR cannot be dropped on a pty -> +++ then ATH0
    const c1 = modem.dial({ number: '5550100' });
    await waitFor(() => c1.received.includes('login: '), 'prompt over the pty');
    assert.equal(calls[0]!.deviceName, device);
    assert.equal(calls[0]!.connectSpeed, 33600);
    c1.type('dave\r');
    await waitFor(() => c1.state === 'ended', 'hang-up by +++/ATH0', 15_000);
    assert.match(c1.received, /hello dave/);
    assert.ok(modem.commands.includes('ATH0'));
    await waitFor(() => line.status().state === 'idle', 're-init', 15_000);
    assert.ok(capture.records.some((r) => /cannot drop DTR/.test(String(r.message))), 'fallback logged');

    // call 2: the caller hangs up; NO CARRIER at a line boundary ends it (DCD unreadable)
    const ended = new Promise<CallEndReason>((r) => line.once('call', (c: CallChannel) => c.onEnd(r)));
    const c2 = modem.dial();
    await waitFor(() => c2.received.includes('login: '), 'second prompt');
    c2.type('NO CARRIER'); // typed by the caller without a line end: data, not a result
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(line.status().state, 'connected');
    c2.hangup();
    assert.equal(await ended, 'carrier-lost');
    await waitFor(() => line.status().state === 'idle', 'idle again', 15_000);
    assert.ok(capture.records.some((r) => /cannot read DCD/.test(String(r.message))), 'DCD fallback logged once');
    assert.equal(capture.records.filter((r) => /cannot read DCD/.test(String(r.message))).length, 1);
  } finally {
    await line.stop();
    await new Promise<void>((r) => far.close(() => r()));
  }
});

test('pty line: device held by another program (flock) is reported clearly and retried', { skip }, async () => {
  // detached: its own process group, so the sleeping child holding the lock dies with it
  const holder = spawn('flock', ['-n', lineEnd, 'sleep', '30'], { stdio: 'ignore', detached: true });
  try {
    // Held once a second flock on the device fails (no fixed wait: the machine may be loaded).
    await waitFor(() => spawnSync('flock', ['-n', lineEnd, 'true']).status !== 0, 'flock holding the device', 15_000);
    const line = new DeviceLine(resolveDeviceLine({ id: 'pty1', device: lineEnd }), { logger: nullLogger() });
    await line.start();
    assert.equal(line.status().state, 'reopening');
    assert.match(line.status().lastError ?? '', /device \/dev\/pts\/\d+ is locked by another program \(another getty\?\)/);
    await line.stop();
  } finally {
    process.kill(-holder.pid!, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
  }
});

test('pty line: a UUCP LCK.. file of a live process is reported with its PID; a stale one is ignored', { skip }, async () => {
  const lockDir = join(dir, 'lock');
  spawnSync('mkdir', ['-p', lockDir]);
  const file = join(lockDir, `LCK..${realpathSync(lineEnd).slice(5).replace(/\//g, '_')}`);
  writeFileSync(file, `${String(socat!.pid).padStart(10)}\n`);
  const line = new DeviceLine(resolveDeviceLine({ id: 'pty2', device: lineEnd, lockDir }), { logger: nullLogger() });
  await line.start();
  assert.match(line.status().lastError ?? '', new RegExp(`locked by another program.*PID ${socat!.pid}`));
  await line.stop();
  writeFileSync(file, `${String(2 ** 22 + 12345).padStart(10)}\n`); // no such process
  const line2 = new DeviceLine(resolveDeviceLine({ id: 'pty3', device: lineEnd, lockDir, modem: { chatTimeoutMs: 200, maxInitFailures: 1, reopenBaseMs: 60_000 } }), { logger: nullLogger() });
  await line2.start().catch(() => undefined); // nobody answers the chat: it opened, that is what counts
  await waitFor(() => line2.status().state !== 'opening', 'opened');
  assert.notEqual(line2.status().state, 'failed');
  // we hold our own HDB lock while open, and remove it on stop
  assert.equal(readFileSync(file, 'latin1'), `${String(process.pid).padStart(10)}\n`);
  await line2.stop();
  assert.equal(existsSync(file), false);
});

test('pty line: the pty disappearing mid-call (socat killed) ends the call device-lost; the line reopens when it is back', { skip }, async () => {
  const a = join(dir, 'ttyGONE');
  const b = join(dir, 'ttyGONEFAR');
  const startPair = async () => {
    const p = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
    await waitFor(() => existsSync(a) && existsSync(b), 'socat ptys');
    return p;
  };
  let pair = await startPair();
  const modem = new SimModem('gone', { ringIntervalMs: 300, connectDelayMs: 50 });
  const attach = async () => {
    const port = new SerialPortStream({ binding: autoDetect(), path: b, baudRate: 115200, lock: false, autoOpen: false });
    await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
    port.on('error', () => undefined);
    modem.attach((bytes) => port.write(bytes), () => undefined);
    port.on('data', (d: Buffer) => modem.fromDte(d));
    return port;
  };
  let far = await attach();
  const line = new DeviceLine(resolveDeviceLine({ id: 'pty4', device: a, modem: { quietMs: 50, settleMs: 50, chatTimeoutMs: 1000, reopenBaseMs: 200, reopenMaxMs: 800 } }), { logger: nullLogger() });
  try {
    await line.start();
    const ended = new Promise<CallEndReason>((r) => line.once('call', (c: CallChannel) => c.onEnd(r)));
    const caller = modem.dial();
    await waitFor(() => line.status().activeCalls === 1, 'call');
    pair.kill();
    assert.equal(await ended, 'device-lost');
    caller.hangup();
    await waitFor(() => line.status().state === 'reopening', 'reopening');
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(line.status().state, 'reopening');
    assert.match(line.status().lastError ?? '', /disconnected|no such device/);
    far.destroy();
    pair = await startPair();
    far = await attach();
    await waitFor(() => line.status().state === 'idle', 'idle after the device came back', 10_000);
  } finally {
    await line.stop();
    far.destroy();
    pair.kill();
  }
});
