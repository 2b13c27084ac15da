import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { TcpLine, type TcpLineDeps } from '../../src/serial/tcp-line.js';
import { resolveTcpLine } from '../../src/serial/options.js';
import type { CallChannel, CallEndReason } from '../../src/serial/types.js';
import { nullLogger } from '../../src/observe/logger.js';
import type { Logger } from '../../src/logging.js';
import { needs } from '../helpers/tools.js';
import { waitFor } from '../helpers/net.js';

/** A trivial per-call handler: prompt, echo the user name, read a password without echo. */
function loginHandler(seen: Array<{ user: string; password: string; echo?: boolean }>) {
  return (call: CallChannel) => {
    let buf = '';
    let stage: 'user' | 'password' = 'user';
    let user = '';
    call.write(Buffer.from('login: '));
    call.onData((bytes) => {
      for (const ch of bytes.toString('latin1')) {
        if (ch === '\r' || ch === '\n') {
          if (buf === '' && ch === '\n') continue;
          if (stage === 'user') {
            user = buf;
            stage = 'password';
            call.write(Buffer.from('\r\nPassword: '));
          } else {
            seen.push({ user, password: buf, echo: call.remoteEchoSuppressed });
            call.write(Buffer.from('\r\nwelcome\r\n'));
            void call.hangup();
          }
          buf = '';
        } else if (ch !== '\0') {
          buf += ch;
          if (stage === 'user') call.write(Buffer.from(ch, 'latin1'));
        }
      }
    });
  };
}

/** A TCP line on a free port: config keys as in YAML, plus the line's tuning (write limit, negotiation wait). */
async function startLine(opts: { mode?: 'telnet' | 'raw'; maxCalls?: number; maxCallsPerSource?: number } & Omit<TcpLineDeps, 'logger'> = {}) {
  const { maxWriteQueue, negotiationMs, clock, ...config } = opts;
  const line = new TcpLine(resolveTcpLine({ id: 'tcp0', listen: 'tcp://127.0.0.1:0', ...config }), { logger: nullLogger(), maxWriteQueue, negotiationMs, clock });
  await line.start();
  return line;
}

test('tcp line: Debian telnet client does not echo the password locally', { skip: needs('telnet', 'script') }, async () => {
  const seen: Array<{ user: string; password: string; echo?: boolean }> = [];
  const line = await startLine();
  const raw: Buffer[] = [];
  line.on('call', (c: CallChannel) => c.onData((b) => raw.push(b)));
  line.on('call', loginHandler(seen));
  let out = '';
  const child: ChildProcess = spawn('script', ['-qfc', `telnet 127.0.0.1 ${line.port}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  try {
    child.stdout!.on('data', (d: Buffer) => (out += d.toString('latin1')));
    await waitFor(() => out.includes('login: '), 'login prompt');
    child.stdin!.write('alice\r');
    await waitFor(() => out.includes('Password: '), 'password prompt');
    child.stdin!.write('s3cretPW\r');
    await waitFor(() => seen.length === 1, 'login line');
    await waitFor(() => out.includes('welcome'), 'welcome');
    assert.equal(seen[0]!.user, 'alice');
    assert.equal(seen[0]!.password, 's3cretPW');
    assert.equal(seen[0]!.echo, true, 'client agreed DO ECHO');
    assert.ok(!out.includes('s3cretPW'), `password shown on the client terminal: ${JSON.stringify(out)}`);
    // user name appears exactly once: our echo, not the client's too
    assert.equal(out.split('alice').length - 1, 1, JSON.stringify(out));
    // what the dialogue got: plain bytes, CR NUL / CR LF reduced, no telnet commands
    const got = Buffer.concat(raw).toString('latin1');
    assert.match(got, /^alice\r\n?s3cretPW\r\n?$/, JSON.stringify(got));
  } finally {
    child.kill();
    await line.stop();
  }
});

function rawClient(port: number) {
  const sock: Socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  sock.on('data', (d) => chunks.push(d));
  sock.on('error', () => undefined);
  return { sock, received: () => Buffer.concat(chunks) };
}

test('tcp line: socat as a raw client; telnet offer bytes, CR NUL and CR LF handled', { skip: needs('socat') }, async () => {
  const seen: Array<{ user: string; password: string }> = [];
  const line = await startLine({ negotiationMs: 50 });
  line.on('call', loginHandler(seen));
  const child = spawn('socat', ['-', `TCP:127.0.0.1:${line.port}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = Buffer.alloc(0);
  child.stdout.on('data', (d: Buffer) => (out = Buffer.concat([out, d])));
  try {
    await waitFor(() => out.includes('login: '), 'prompt');
    assert.deepEqual(out.subarray(0, 9), Buffer.from([255, 251, 1, 255, 251, 3, 255, 253, 3]));
    child.stdin.write(Buffer.from('bob\r\0'));
    await waitFor(() => out.includes('Password: '), 'password prompt');
    child.stdin.write(Buffer.from('pw\xff\xffx\r\n', 'latin1'));
    await waitFor(() => seen.length === 1, 'login');
    assert.deepEqual(seen[0], { user: 'bob', password: 'pw\xffx', echo: false });
  } finally {
    child.kill();
    await line.stop();
  }
});

test('tcp line: raw mode passes bytes untouched; callId and deviceName', async () => {
  const line = await startLine({ mode: 'raw' });
  const calls: CallChannel[] = [];
  line.on('call', (c: CallChannel) => {
    calls.push(c);
    c.onData((b) => c.write(b));
  });
  const c = rawClient(line.port!);
  try {
    await waitFor(() => calls.length === 1, 'call');
    assert.equal(calls[0]!.callId, 'tcp0-1');
    assert.match(calls[0]!.deviceName, /^tcp:\/\/127\.0\.0\.1:\d+$/);
    c.sock.write(Buffer.from([255, 0, 13, 0, 1]));
    await waitFor(() => c.received().length === 5, 'echo');
    assert.deepEqual(c.received(), Buffer.from([255, 0, 13, 0, 1]));
    assert.equal(line.status().activeCalls, 1);
    const ended = new Promise<CallEndReason>((r) => calls[0]!.onEnd(r));
    c.sock.end(); // half-close from the caller
    assert.equal(await ended, 'carrier-lost');
    await waitFor(() => line.status().activeCalls === 0, 'call gone');
  } finally {
    c.sock.destroy();
    await line.stop();
  }
});

test('tcp line: maxCalls refuses the excess with a busy message', async () => {
  const line = await startLine({ mode: 'raw', maxCalls: 1 });
  const a = rawClient(line.port!);
  await waitFor(() => line.status().activeCalls === 1, 'first call');
  const b = rawClient(line.port!);
  let closed = false;
  b.sock.on('close', () => (closed = true));
  try {
    await waitFor(() => closed, 'second refused');
    assert.match(b.received().toString(), /BUSY/);
    assert.equal(line.status().activeCalls, 1);
  } finally {
    a.sock.destroy();
    await line.stop();
  }
});

test('tcp line: a caller that never reads is cut off at the write limit', async () => {
  const line = await startLine({ mode: 'raw', maxWriteQueue: 64 * 1024 });
  let call: CallChannel | undefined;
  line.on('call', (c: CallChannel) => (call = c));
  const c = rawClient(line.port!);
  c.sock.pause();
  try {
    await waitFor(() => call, 'call');
    const ended = new Promise<CallEndReason>((r) => call!.onEnd(r));
    const chunk = Buffer.alloc(16 * 1024, 0x41);
    for (let i = 0; i < 2000 && !call!.ended; i++) {
      call!.write(chunk);
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(await ended, 'overrun');
  } finally {
    c.sock.destroy();
    await line.stop();
  }
});

test('tcp line: maxCallsPerSource refuses a further call from the same address, others are answered', async () => {
  const line = await startLine({ mode: 'raw', maxCallsPerSource: 2 });
  const a = rawClient(line.port!);
  const b = rawClient(line.port!);
  await waitFor(() => line.status().activeCalls === 2, 'two calls');
  const c = rawClient(line.port!);
  let closed = false;
  c.sock.on('close', () => (closed = true));
  try {
    await waitFor(() => closed, 'third refused');
    assert.match(c.received().toString(), /too many calls from your address/);
    assert.equal(line.status().activeCalls, 2);
    // A slot from that address frees when one of its calls ends.
    a.sock.destroy();
    await waitFor(() => line.status().activeCalls === 1, 'one call left');
    const d = rawClient(line.port!);
    await waitFor(() => line.status().activeCalls === 2, 'a new call from the same address');
    d.sock.destroy();
  } finally {
    b.sock.destroy();
    await line.stop();
  }
});

test('tcp line: a write that fills the queue ends the call after the write returns, never inside it', async () => {
  const line = await startLine({ mode: 'raw', maxWriteQueue: 1024 });
  let call: CallChannel | undefined;
  line.on('call', (c: CallChannel) => (call = c));
  const c = rawClient(line.port!);
  c.sock.pause();
  try {
    await waitFor(() => call, 'call');
    let insideWrite = false;
    let endedInside: boolean | undefined;
    const ended = new Promise<CallEndReason>((r) => call!.onEnd((reason) => {
      endedInside = insideWrite;
      r(reason);
    }));
    const big = Buffer.alloc(64 * 1024, 0x41);
    for (let i = 0; i < 1000 && !call!.ended; i++) {
      insideWrite = true;
      call!.write(big);
      insideWrite = false;
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(await ended, 'overrun');
    assert.equal(endedInside, false, 'the end listeners ran inside write()');
  } finally {
    c.sock.destroy();
    await line.stop();
  }
});

test('tcp line: telnet negotiation replies count against the write limit (a non-reading negotiator is cut off)', async () => {
  const line = await startLine({ mode: 'telnet', maxWriteQueue: 32 * 1024 });
  let call: CallChannel | undefined;
  line.on('call', (c: CallChannel) => (call = c));
  const c = rawClient(line.port!);
  c.sock.pause();
  try {
    // Switching a supported option on and off is answered byte for byte (DO NAWS, DONT NAWS):
    // unread, the answers pile up in the same queue as our text.
    const flip = Buffer.concat(Array.from({ length: 4096 }, () => Buffer.from([255, 251, 31, 255, 252, 31])));
    for (let i = 0; i < 400 && !c.sock.destroyed && !call?.ended; i++) {
      c.sock.write(flip);
      await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => call?.ended || c.sock.destroyed || line.status().activeCalls === 0, 'cut off', 20_000);
  } finally {
    c.sock.destroy();
    await line.stop();
  }
});

test('tcp line: a caller repeating telnet protocol errors gets one warning record, and a count when the call ends', async () => {
  const records: Array<{ level: string; message: string; meta?: Record<string, unknown> }> = [];
  const logger: Logger = {
    error: (message, meta) => records.push({ level: 'error', message, meta }),
    warn: (message, meta) => records.push({ level: 'warn', message, meta }),
    info: (message, meta) => records.push({ level: 'info', message, meta }),
    debug: () => undefined,
    log: (level, message, meta) => records.push({ level, message, meta }),
    child: () => logger,
  };
  const line = new TcpLine(resolveTcpLine({ id: 'tcp0', listen: 'tcp://127.0.0.1:0', mode: 'telnet' }), { logger });
  await line.start();
  let call: CallChannel | undefined;
  line.on('call', (c: CallChannel) => (call = c));
  const c = rawClient(line.port!);
  try {
    // IAC SB TTYPE, 100 bytes, IAC SE: longer than the subnegotiation limit, 200 times.
    const tooLong = Buffer.concat([Buffer.from([255, 250, 24]), Buffer.alloc(100, 0x41), Buffer.from([255, 240])]);
    for (let i = 0; i < 200; i++) c.sock.write(tooLong);
    await waitFor(() => call, 'the call');
    c.sock.destroy();
    await waitFor(() => line.status().activeCalls === 0, 'the call over');
  } finally {
    c.sock.destroy();
    await line.stop();
  }
  const warnings = records.filter((r) => r.message === 'telnet protocol error');
  assert.equal(warnings.length, 1, 'one record, however many errors');
  const total = records.find((r) => r.message === 'telnet protocol errors on this call');
  assert.equal(total?.meta?.count, 200);
});

test('tcp line: connection reset ends the call; pause stops accepting', async () => {
  const line = await startLine({ mode: 'raw' });
  let call: CallChannel | undefined;
  line.on('call', (c: CallChannel) => (call = c));
  const c = rawClient(line.port!);
  await waitFor(() => call, 'call');
  const ended = new Promise<CallEndReason>((r) => call!.onEnd(r));
  c.sock.resetAndDestroy();
  assert.equal(await ended, 'carrier-lost');
  const port = line.port!;
  line.pause();
  assert.equal(line.status().state, 'closed');
  const refused = await new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => resolve(true));
    s.on('connect', () => { s.destroy(); resolve(false); });
  });
  assert.ok(refused);
  await line.stop();
});

test('tcp line: address in use is a clear start error', async () => {
  const a = await startLine();
  const b = new TcpLine(resolveTcpLine({ id: 'tcp1', listen: `tcp://127.0.0.1:${a.port!}` }), { logger: nullLogger() });
  await assert.rejects(b.start(), (e: Error & { code?: string }) => e.code === 'LINE_OPEN_FAILED' && /EADDRINUSE/.test(e.message));
  assert.equal(b.status().state, 'failed');
  await a.stop();
});
