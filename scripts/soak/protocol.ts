/**
 * The messages between the soak (parent) and the gateway under soak (gateway-process.ts, a
 * child process of its own so that its memory and handles are measured apart from the callers).
 */
import type { CallSummary } from '../../src/gateway/call-runner.js';
import type { MetricsSnapshot } from '../../src/observe/metrics.js';

/** One reading of the gateway process, taken after a forced full GC. */
export interface Sample {
  /** ms since the gateway process started. */
  at: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** process.getActiveResourcesInfo() counted by type (what keeps the loop alive). */
  resources: Record<string, number>;
  /** Open file descriptors (/proc/self/fd): also counts unref'd sockets, which the above omits. */
  fds: number;
  /** Longest event-loop delay since the previous sample, ms (monitorEventLoopDelay). */
  loopDelayMaxMs: number;
  /** Calls the daemon holds (Gateway.status().calls). */
  activeCalls: number;
  /** Call actors started whose summary has not come yet. */
  openCalls: number;
  lineStates: Record<string, number>;
  metrics: MetricsSnapshot;
}

/** Bytes queued in user space on the gateway's sockets (a caller that does not read). */
export interface QueueReading {
  /** Largest queue on one socket since the previous reading. */
  maxSocket: number;
  /** Largest sum over every socket since the previous reading. */
  maxTotal: number;
}

export interface LogCounts {
  /** Records per level. */
  levels: Record<string, number>;
  /** warn and error records per message text (bounded: messages are constants in the code). */
  messages: Record<string, number>;
}

export type FromGateway =
  /** Every line idle; where each listens (TCP line: its port; modem line: its far side's port). */
  | { t: 'ready'; ports: Record<string, number> }
  | { t: 'sample'; id?: number; sample: Sample; queues: QueueReading; logs: LogCounts }
  | { t: 'call'; summary: CallSummary }
  | { t: 'fault'; kind: 'uncaught exception' | 'unhandled rejection'; message: string; stack?: string }
  | { t: 'stopped'; metrics: MetricsSnapshot; openCalls: string[]; summariesWithoutStart: number };

export type ToGateway = { t: 'sample'; id: number } | { t: 'heap-snapshot'; id: number; file: string } | { t: 'stop' };

/** argv[2] of the gateway process: where its configuration is and how it samples. */
export interface GatewayProcessArgs {
  configFile: string;
  /** Sample (with a forced GC) this often, ms. */
  sampleMs: number;
  /** Read the socket queues this often, ms (no GC: cheap). */
  queueMs: number;
  /** Also write every log record here (investigating a finding). */
  logFile?: string;
  /** The main thread making no progress this long is a stall: its stack goes to stallFile. */
  stallMs: number;
  /** JSON lines, one per stall: { stalledMs, frames }. */
  stallFile: string;
}

/** A stall of the gateway's main thread, as the watchdog thread caught it. */
export interface Stall {
  stalledMs: number;
  frames: string[];
}
