/**
 * tcp-line: the whole TCP line. A real Gateway (src/gateway/daemon.ts) runs in this process
 * with a telnet line and a raw line on 127.0.0.1 (kernel-chosen ports) over a local smbpasswd
 * store, and a socket driver plays callers: telnet negotiation (answered, ignored or flooded),
 * user names, passwords, control bytes, the valid login now and then, and floods while not
 * reading what the gateway sends.
 *
 * Invariants: no uncaught exception and no unhandled rejection in the process; no call ends as
 * crashed; every accepted connection ends (the line logs `call ended`) and every answered call has its
 * call summary; no server socket queues more than the line's write-queue bound plus one read's
 * worth of replies; the valid login still succeeds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import winston from 'winston';
import { Gateway } from '../../../src/gateway/daemon.js';
import { parseConfig } from '../../../src/gateway/config.js';
import type { CallSummary } from '../../../src/gateway/call-runner.js';
import { createLogger } from '../../../src/observe/logger.js';
import { SmbpasswdStore } from '../../../src/authority/local/index.js';
import { ntowfv1 } from '../../../src/ntlm/crypto.js';
import { invariant, tally, type FuzzTarget, type Rand } from '../engine.js';

const USER = 'alice';
const PASSWORD = 'Fuzz-line-pw-7';
const IAC = 255;
const [WILL, WONT, DO, DONT, SB, SE, AYT] = [251, 252, 253, 254, 250, 240, 246];
/** The line's write-queue bound (TcpLineOptions.maxWriteQueue default). */
const WRITE_QUEUE = 256 * 1024;
/** What one read (64 KiB) can add beyond it: telnet replies are at most 4.5 bytes per byte read. */
const QUEUE_BOUND = WRITE_QUEUE + 5 * 64 * 1024;
/** How long a connection may take to end after we hung up (real time: a generous margin). */
const END_WITHIN_MS = 15_000;

interface LineInfo {
  id: string;
  port: number;
  telnet: boolean;
}

interface State {
  dir: string;
  gw: Gateway;
  lines: LineInfo[];
  summaries: CallSummary[];
  /** Log counters by message. */
  counts: Map<string, number>;
  faults: string[];
  onUncaught: (err: unknown) => void;
  onRejection: (err: unknown) => void;
  crashesBefore: number;
}

const count = (s: State, message: string): number => s.counts.get(message) ?? 0;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return false;
    await sleep(5);
  }
  return true;
}

/** The gateway's side of our connection (same process: found among the active handles). */
function serverSocketOf(client: Socket, port: number): Socket | undefined {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.find((h): h is Socket => h instanceof Socket && h.localPort === port && h.remotePort === client.localPort);
}

/** Answer negotiation as a plain client would: accept ECHO and SGA, refuse the rest. */
function answerTelnet(data: Buffer, socket: Socket): void {
  for (let i = 0; i + 2 < data.length; i++) {
    if (data[i] !== IAC) continue;
    const cmd = data[i + 1]!;
    const opt = data[i + 2]!;
    if (cmd === WILL) socket.write(Buffer.from([IAC, opt === 1 || opt === 3 ? DO : DONT, opt]));
    else if (cmd === DO) socket.write(Buffer.from([IAC, opt === 3 ? WILL : WONT, opt]));
  }
}

interface Driver {
  socket: Socket;
  received: number;
  /** The last bytes received (latin1), to wait for a prompt. */
  tail: string;
  closed: Promise<void>;
  isClosed(): boolean;
  maxServerQueue: number;
  sample(): void;
}

async function open(line: LineInfo, plan: Rand, reading: boolean): Promise<Driver> {
  const socket = connect({ port: line.port, host: '127.0.0.1' });
  let closedFlag = false;
  const closed = new Promise<void>((r) => socket.once('close', () => ((closedFlag = true), r())));
  socket.on('error', () => undefined);
  await new Promise<void>((r) => (socket.once('connect', () => r()), socket.once('close', () => r())));
  const answers = line.telnet && plan.chance(0.7);
  const d: Driver = {
    socket,
    received: 0,
    tail: '',
    closed,
    isClosed: () => closedFlag,
    maxServerQueue: 0,
    sample() {
      const server = serverSocketOf(socket, line.port);
      if (server) d.maxServerQueue = Math.max(d.maxServerQueue, server.writableLength);
    },
  };
  socket.on('data', (b: Buffer) => {
    d.received += b.length;
    d.tail = (d.tail + b.toString('latin1')).slice(-256);
    if (answers && !socket.destroyed) answerTelnet(b, socket);
  });
  if (!reading) socket.pause();
  return d;
}

async function send(d: Driver, bytes: Buffer): Promise<void> {
  if (d.socket.destroyed || d.isClosed()) return;
  const flushed = d.socket.write(bytes);
  d.sample();
  if (!flushed) await Promise.race([new Promise((r) => d.socket.once('drain', r)), d.closed, sleep(200)]);
}

/** Wait for a prompt (the dialogue drops what is typed before its login prompt, like tcflush). */
async function prompt(d: Driver, text: string): Promise<void> {
  await until(() => d.tail.endsWith(text) || d.isClosed(), END_WITHIN_MS);
  d.tail = '';
}

/** Typing: the input in plan-sized pieces, now and then a pause, the credentials mixed in. */
async function dialogue(d: Driver, input: Buffer, plan: Rand, login: boolean): Promise<void> {
  if (login) {
    await prompt(d, 'login: ');
    await send(d, Buffer.from(`${USER}\r`));
    await prompt(d, 'Password: ');
  }
  for (const chunk of plan.chunks(input).slice(0, 400)) {
    await send(d, chunk);
    if (plan.chance(0.1)) await sleep(plan.int(20));
    else await new Promise((r) => setImmediate(r));
  }
  if (login) await send(d, Buffer.from(`${PASSWORD}\r`));
}

/** A flood while not reading: the input (or a negotiation / echo pattern) repeated to megabytes. */
async function flood(d: Driver, input: Buffer, plan: Rand): Promise<void> {
  const patterns = [Buffer.from([IAC, WILL, 99]), Buffer.from([IAC, AYT]), Buffer.from([IAC, DO, 99]), Buffer.from('A'.repeat(64)), Buffer.from('x\r'), Buffer.from([IAC, SB, 31, 0, 80, 0, 24, IAC, SE])];
  const unit = input.length && plan.chance(0.5) ? input : plan.pick(patterns);
  const total = plan.pick([256 * 1024, 1 << 20, 4 << 20, 8 << 20]);
  // Half the floods start once the call is answered (telnet negotiation gives up after 500 ms).
  if (plan.chance(0.5)) await sleep(600 + plan.int(200));
  const block = Buffer.concat(Array.from({ length: Math.max(1, Math.ceil(64 * 1024 / unit.length)) }, () => unit));
  for (let sent = 0; sent < total && !d.isClosed(); sent += block.length) {
    await send(d, block);
    if ((sent / block.length) % 8 === 0) await new Promise((r) => setImmediate(r));
  }
  // Still not reading: type, so that the dialogue itself writes (echo, prompts) onto the full queue.
  if (plan.chance(0.6)) await send(d, plan.chance(0.5) ? Buffer.from(`${USER}\r${PASSWORD}\r`) : input.subarray(0, 256));
  for (let i = plan.pick([10, 40]); i > 0 && !d.isClosed(); i--) {
    d.sample();
    await sleep(10 + plan.int(20));
  }
}

/** After our sockets closed: every accepted connection ended, every answered call was summarized. */
async function check(s: State, summariesBefore: number, drivers: Driver[]): Promise<void> {
  // Refused connections (busy, too many from one address) are never calls: count what the line accepted.
  const ended = await until(() => s.faults.length > 0 || count(s, 'call ended') === count(s, 'call connected'), END_WITHIN_MS);
  const summarized = await until(() => s.faults.length > 0 || s.summaries.length === count(s, 'call answered'), END_WITHIN_MS);
  invariant(s.faults.length === 0, `the process had a fault: ${s.faults[0]}`);
  invariant(ended, `${count(s, 'call connected') - count(s, 'call ended')} accepted connections did not end within ${END_WITHIN_MS} ms of hanging up`);
  invariant(summarized, `an answered call ended without a call summary (${count(s, 'call answered')} answered, ${s.summaries.length} summaries)`);
  const crashed = s.summaries.slice(summariesBefore).find((x) => x.outcome === 'internal-error');
  invariant(!crashed && s.gw.metrics.snapshot().crashes === s.crashesBefore, `a call ended as crashed: ${crashed?.detail ?? ''}`);
  for (const d of drivers) invariant(d.maxServerQueue <= QUEUE_BOUND, `a server socket queued ${d.maxServerQueue} bytes for a caller that does not read (bound ${QUEUE_BOUND})`);
}

export function tcpLineTarget(): FuzzTarget {
  let state: State | undefined;
  const stats = new Map<string, number>();
  return {
    name: 'tcp-line',
    stats,
    invariant: 'no uncaught exception or unhandled rejection; no crashed call; every accepted connection ends, every answered call has a summary; server write queues bounded; the valid login still works',
    dictionary: [
      Buffer.from([IAC, WILL, 99]),
      Buffer.from([IAC, DO, 99]),
      Buffer.from([IAC, DONT, 1]),
      Buffer.from([IAC, WONT, 1]),
      Buffer.from([IAC, AYT]),
      Buffer.from([IAC, SB, 24, 0, 0x58, IAC, SE]),
      Buffer.from([IAC, IAC]),
      Buffer.from(`${USER}\r`),
      Buffer.from(`${PASSWORD}\r`),
      Buffer.from('RASGATE\\alice\r'),
      Buffer.from('\r\n'),
      Buffer.from('\x03'),
      Buffer.from('\x15'),
      Buffer.from('\x1b[A'),
      Buffer.from([0x7e, 0xff, 0x7d, 0x23, 0xc0, 0x21]),
    ],
    maxInput: 16 * 1024,
    minimizeBudget: 30,
    slowMs: 120_000,
    generate(rand) {
      const parts: Buffer[] = [];
      for (let n = rand.size(30); n > 0; n--) parts.push(rand.chance(0.6) ? rand.pick(this.dictionary) : rand.bytes(rand.size(200)));
      return Buffer.concat(parts);
    },

    async setup() {
      const dir = mkdtempSync(join(tmpdir(), 'rasgate-fuzz-line-'));
      const store = new SmbpasswdStore(join(dir, 'smbpasswd'));
      await store.update((ed) => ed.put({ name: USER, uid: 1000, ntHash: ntowfv1(PASSWORD), hasLmHash: false, flags: new Set(['U']), lastChange: 0x5f5e1000 }));
      const loaded = parseConfig(
        [
          'lines:',
          '  - { id: fuzzt, listen: tcp://127.0.0.1:2323, mode: telnet, maxCalls: 16 }',
          '  - { id: fuzzr, listen: tcp://127.0.0.1:2324, mode: raw, maxCalls: 16 }',
          'authority: { file: ./smbpasswd, domain: RASGATE }',
          'dialogue: { failureDelaysSeconds: [0], maxAttempts: 2, fieldTimeoutSeconds: 5, loginTimeoutSeconds: 10 }',
          'log: { level: info, transitions: false }',
          'shutdown: { grace: 1 }',
          // The fuzzer is one source guessing and sending garbage by design: not penalised, no lockout.
          'penalties: { allow: [127.0.0.1] }',
          'lockout: { maxDenials: 0 }',
        ].join('\n'),
        'fuzz.yaml',
        dir,
      );
      if (!loaded.config) throw new Error(`tcp-line fuzz configuration: ${JSON.stringify(loaded.issues)}`);
      for (const l of loaded.config.lines) if (l.kind === 'tcp') l.listen.port = 0; // the kernel picks
      const counts = new Map<string, number>();
      const ports = new Map<string, number>();
      const logger = createLogger({
        noStdout: true,
        transports: [
          new winston.transports.Stream({
            stream: new Writable({
              write(chunk, _enc, cb) {
                const rec = JSON.parse(String(chunk)) as { message?: string; line?: string; listen?: string };
                if (rec.message) counts.set(rec.message, (counts.get(rec.message) ?? 0) + 1);
                if (rec.message === 'listening' && rec.line && rec.listen) ports.set(rec.line, Number(rec.listen.split(':').at(-1)));
                cb();
              },
            }),
          }),
        ],
      });
      const summaries: CallSummary[] = [];
      const gw = new Gateway({ loaded: { config: loaded.config, source: 'fuzz.yaml', baseDir: dir }, logger, onCallEnd: (x) => summaries.push(x) });
      const faults: string[] = [];
      const onUncaught = (err: unknown) => faults.push(`uncaught exception: ${err instanceof Error ? err.stack : String(err)}`);
      const onRejection = (err: unknown) => faults.push(`unhandled rejection: ${err instanceof Error ? err.stack : String(err)}`);
      process.on('uncaughtException', onUncaught);
      process.on('unhandledRejection', onRejection);
      await gw.start();
      await until(() => ports.size === 2, 5000);
      state = {
        dir,
        gw,
        lines: [
          { id: 'fuzzt', port: ports.get('fuzzt')!, telnet: true },
          { id: 'fuzzr', port: ports.get('fuzzr')!, telnet: false },
        ],
        summaries,
        counts,
        faults,
        onUncaught,
        onRejection,
        crashesBefore: 0,
      };
    },

    async teardown() {
      const s = state;
      if (!s) return;
      state = undefined;
      await s.gw.stop();
      process.off('uncaughtException', s.onUncaught);
      process.off('unhandledRejection', s.onRejection);
      rmSync(s.dir, { recursive: true, force: true });
    },

    async run(input, plan) {
      const s = state!;
      s.crashesBefore = s.gw.metrics.snapshot().crashes;
      if (s.faults.length) s.faults.length = 0; // reported by the case that caused it
      const line = plan.chance(0.8) ? s.lines[0]! : s.lines[1]!;
      const scenario = plan.pick(['dialogue', 'dialogue', 'login', 'flood', 'flood', 'parallel'] as const);
      const drivers: Driver[] = [];
      tally(stats, `${line.telnet ? 'telnet' : 'raw'} ${scenario}`);
      const summariesBefore = s.summaries.length;
      try {
        if (scenario === 'parallel') {
          const n = 2 + plan.int(6);
          for (let i = 0; i < n; i++) drivers.push(await open(line, plan, plan.chance(0.5)));
          await Promise.all(drivers.map((d) => (plan.chance(0.5) ? dialogue(d, input, plan, false) : flood(d, input, plan))));
        } else {
          const d = await open(line, plan, scenario !== 'flood');
          drivers.push(d);
          if (scenario === 'flood') await flood(d, input, plan);
          // A clean login now and then: the gateway must still let the right password in.
          const clean = scenario === 'login' && plan.chance(0.4);
          if (scenario !== 'flood') await dialogue(d, clean ? Buffer.alloc(0) : input, plan, scenario === 'login');
          if (clean) {
            await until(() => d.isClosed(), END_WITHIN_MS);
            invariant(s.summaries.at(-1)?.outcome === 'accepted', `the valid login did not succeed: ${JSON.stringify(s.summaries.at(-1))}`);
          }
          await sleep(plan.int(50));
        }
      } finally {
        for (const d of drivers) {
          d.sample();
          if (plan.chance(0.5)) d.socket.end();
          else d.socket.destroy();
          setTimeout(() => d.socket.destroy(), 1000).unref();
        }
      }
      await check(s, summariesBefore, drivers);
      for (const x of s.summaries.slice(summariesBefore)) tally(stats, `call ${x.outcome}`);
    },
  };
}
