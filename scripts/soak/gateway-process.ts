/**
 * The gateway under soak, alone in its process (forked by scripts/soak/run.ts with an IPC
 * channel and --expose-gc): the real Gateway of src/gateway/daemon.ts on the soak's
 * configuration file, its logs formatted as in production and counted, not kept.
 *
 * Reports to the parent (protocol.ts): every call summary (GatewayOptions.onCallEnd), samples of
 * its memory (after a forced full GC), active resources, fds and calls, the largest socket write
 * queues, the longest event-loop delays, and every uncaught exception and unhandled rejection.
 * A watchdog thread catches the main thread's stack when it makes no progress for
 * `stallMs` (a loop that never yields: nothing else would say where). Unlike `rasgate serve`, which
 * stops on an uncontained fault, it reports the fault and keeps serving, so that one run shows
 * every fault and what the process looks like afterwards.
 */
import { readdirSync } from 'node:fs';
import { Socket } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { writeHeapSnapshot } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { InspectionEvent } from 'xstate';
import winston from 'winston';
import { Gateway } from '../../src/gateway/daemon.js';
import { loadConfigFile } from '../../src/gateway/config.js';
import { createLogger } from '../../src/observe/logger.js';
import type { FromGateway, GatewayProcessArgs, LogCounts, QueueReading, Sample, ToGateway } from './protocol.js';

const args = JSON.parse(process.argv[2] ?? '{}') as GatewayProcessArgs;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc || !process.send) {
  process.stderr.write('gateway-process: run me with fork() and --expose-gc\n');
  process.exit(2);
}

function send(message: FromGateway): void {
  // The parent gone (killed) is not this process's fault: stop quietly.
  if (process.connected) process.send!(message);
}

process.on('uncaughtException', (err) => send({ t: 'fault', kind: 'uncaught exception', message: String(err instanceof Error ? err.message : err), ...(err instanceof Error && err.stack ? { stack: err.stack } : {}) }));
process.on('unhandledRejection', (err) => send({ t: 'fault', kind: 'unhandled rejection', message: String(err instanceof Error ? err.message : err), ...(err instanceof Error && err.stack ? { stack: err.stack } : {}) }));

// -- stalls: a watchdog thread pauses a main thread that stopped beating and keeps its stack ---
const beat = new Int32Array(new SharedArrayBuffer(4));
const beating = setInterval(() => Atomics.add(beat, 0, 1), 250);
const WATCHDOG = `
const { workerData } = require('node:worker_threads');
const { Session } = require('node:inspector');
const { appendFileSync } = require('node:fs');
const beat = new Int32Array(workerData.beat);
let last = Atomics.load(beat, 0), since = Date.now(), caught = false;
setInterval(() => {
  const now = Atomics.load(beat, 0);
  if (now !== last) { last = now; since = Date.now(); caught = false; return; }
  if (caught || Date.now() - since < workerData.stallMs) return;
  caught = true;
  const session = new Session();
  session.connectToMainThread();
  const urls = new Map();
  session.on('Debugger.scriptParsed', ({ params }) => urls.set(params.scriptId, params.url));
  session.once('Debugger.paused', ({ params }) => {
    const frames = params.callFrames.slice(0, 40).map((f) => (f.functionName || '(anonymous)') + ' ' + (urls.get(f.location.scriptId) || f.url || '?') + ':' + (f.location.lineNumber + 1));
    appendFileSync(workerData.file, JSON.stringify({ stalledMs: Date.now() - since, frames }) + '\\n');
    session.post('Debugger.resume', () => session.disconnect());
  });
  session.post('Debugger.enable', () => session.post('Debugger.pause'));
}, 1000);
`;
new Worker(WATCHDOG, { eval: true, workerData: { beat: beat.buffer, stallMs: args.stallMs, file: args.stallFile } }).unref();
const loopDelay = monitorEventLoopDelay({ resolution: 20 });
loopDelay.enable();

// -- logs: formatted by winston as in production, counted by level; warn/error by message -----
const MAX_MESSAGES = 200;
const logs: LogCounts = { levels: {}, messages: {} };
/** Far sides listen on port 0: the port each modem's far side was given, as its log says. */
const farPorts = new Map<string, number>();
const sink = new Writable({
  write(chunk: Buffer | string, _enc, cb) {
    const text = String(chunk);
    if (text.includes('"far side listening"')) {
      const r = JSON.parse(text) as { modem?: string; listen?: string };
      const port = Number(/:(\d+)$/.exec(r.listen ?? '')?.[1]);
      if (r.modem && port) farPorts.set(r.modem, port);
    }
    const level = /"level":"(\w+)"/.exec(text)?.[1] ?? 'unknown';
    logs.levels[level] = (logs.levels[level] ?? 0) + 1;
    if (level === 'warn' || level === 'error') {
      let message = '(unparsed)';
      try {
        message = String((JSON.parse(text) as { message?: unknown }).message);
      } catch {
        // keep the placeholder
      }
      const key = `${level}: ${message}`;
      if (key in logs.messages || Object.keys(logs.messages).length < MAX_MESSAGES) logs.messages[key] = (logs.messages[key] ?? 0) + 1;
      else logs.messages['(other messages)'] = (logs.messages['(other messages)'] ?? 0) + 1;
    }
    cb();
  },
});
const loaded = loadConfigFile(args.configFile);
const logger = createLogger({
  level: loaded.config.log.level,
  noStdout: true,
  transports: [new winston.transports.Stream({ stream: sink }), ...(args.logFile ? [new winston.transports.File({ filename: args.logFile })] : [])],
});

// -- call accounting: every call actor started must end in a summary ---------------------------
const open = new Map<string, number>();
let summariesWithoutStart = 0;
const inspect = {
  next(ev: InspectionEvent) {
    if (ev.type !== '@xstate.actor' || ev.rootId !== ev.actorRef.sessionId) return;
    const id = (ev.actorRef as { id?: string }).id ?? '';
    if (id.startsWith('call-')) open.set(id.slice(5), Date.now());
  },
};

const gateway = new Gateway({
  loaded,
  logger,
  inspect,
  onCallEnd: (summary) => {
    // A call from a penalised source is refused without a call machine: no actor, a summary.
    if (!open.delete(summary.call) && summary.outcome !== 'refused-penalty') summariesWithoutStart++;
    send({ t: 'call', summary });
  },
});

// -- samples -------------------------------------------------------------------------------
function count(items: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[i] = (out[i] ?? 0) + 1;
  return out;
}

function openFds(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return -1;
  }
}

function sample(): Sample {
  gc!();
  gc!();
  const m = process.memoryUsage();
  const status = gateway.status();
  return {
    at: Math.round(performance.now()),
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    // The IPC channel to the parent is the soak's, not the gateway's.
    resources: count(process.getActiveResourcesInfo()),
    fds: openFds(),
    loopDelayMaxMs: Math.round(loopDelay.max / 1e6),
    activeCalls: status.calls,
    openCalls: open.size,
    lineStates: count(status.lines.map((l) => l.state)),
    metrics: gateway.metrics.snapshot(),
  };
}

// Bytes queued in user space per socket: a caller that stops reading must not grow this without
// bound (the TCP line cuts such a caller off at its write-queue limit).
const queues: QueueReading = { maxSocket: 0, maxTotal: 0 };
function readQueues(): void {
  const handles = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles?.() ?? [];
  let total = 0;
  for (const h of handles) {
    if (!(h instanceof Socket)) continue;
    total += h.writableLength;
    if (h.writableLength > queues.maxSocket) queues.maxSocket = h.writableLength;
  }
  if (total > queues.maxTotal) queues.maxTotal = total;
}

function report(id?: number): void {
  readQueues();
  send({ t: 'sample', ...(id !== undefined ? { id } : {}), sample: sample(), queues: { ...queues }, logs: structuredClone(logs) });
  loopDelay.reset();
  queues.maxSocket = 0;
  queues.maxTotal = 0;
}

const queueTimer = setInterval(readQueues, args.queueMs);
const sampleTimer = setInterval(() => report(), args.sampleMs);

process.on('message', (msg: ToGateway) => {
  if (msg.t === 'sample') report(msg.id);
  else if (msg.t === 'heap-snapshot') {
    writeHeapSnapshot(msg.file);
    report(msg.id);
  }
  else if (msg.t === 'stop') void stop();
});
// The parent went away without saying stop: do not linger.
process.on('disconnect', () => void stop());

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(queueTimer);
  clearInterval(sampleTimer);
  clearInterval(beating);
  loopDelay.disable();
  await gateway.stop('soak over');
  send({ t: 'stopped', metrics: gateway.metrics.snapshot(), openCalls: [...open.keys()], summariesWithoutStart });
  // Nothing of the gateway should keep the process alive now; if something does, say what.
  process.disconnect?.();
  setTimeout(() => {
    process.stderr.write(`gateway-process: still alive 10 s after stop: ${JSON.stringify(count(process.getActiveResourcesInfo()))}\n`);
    process.exit(3);
  }, 10_000).unref();
}

try {
  await gateway.start();
} catch (err) {
  process.stderr.write(`gateway-process: start failed: ${String(err)}\n`);
  process.exit(1);
}
// Modem lines open and run their init chat: ready once every line is idle and every port known.
function ports(): Record<string, number> | undefined {
  const out: Record<string, number> = {};
  for (const l of loaded.config.lines) {
    const port = l.kind === 'tcp' ? gateway.port(l.id) : l.simulated ? farPorts.get(l.simulated.name) : undefined;
    if (!port) return undefined;
    out[l.id] = port;
  }
  return out;
}
const readyTimer = setInterval(() => {
  const known = ports();
  if (known && gateway.status().lines.every((l) => l.state === 'idle')) {
    clearInterval(readyTimer);
    send({ t: 'ready', ports: known });
  }
}, 50);
