/**
 * What the browser is sent, built from the gateway's own read-outs and always passed through
 * sanitizeForViewer (src/observe/sanitize.ts) last. Fields are copied by name: the browser never
 * sees context, event payloads or anything it does not draw.
 */
import type { ChartState } from '../statecharts.js';
import { MACHINES, chartOf } from '../statecharts.js';
import type { MetricsSnapshot } from '../metrics.js';
import { sanitizeForViewer } from '../sanitize.js';
import type { LiveSnapshot } from './live.js';
import type { RecentCall } from './recent.js';
import { RecentCalls } from './recent.js';

/** The shape of a line's status (src/serial/types.ts LineStatus), read structurally. */
export interface LineStatusLike {
  id: string;
  state: string;
  activeCalls: number;
  lastError?: string;
}

/** What the daemon exposes to the console (src/gateway/daemon.ts Gateway fits it). */
export interface ConsoleSource {
  status(): { lines: LineStatusLike[]; calls: number };
  metrics(): MetricsSnapshot;
  /** Newest first; CallSummary-like objects (RecentCalls.recentCalls fits). Optional. */
  recentCalls?(): unknown[];
}

/**
 * The daemon's Gateway as a ConsoleSource (its counters are `metrics.snapshot()`), with the call
 * summaries it adds to `recent` from onCallEnd.
 */
export function gatewaySource(gateway: { status(): { lines: LineStatusLike[]; calls: number }; metrics: { snapshot(): MetricsSnapshot } }, recent?: RecentCalls): ConsoleSource {
  return {
    status: () => gateway.status(),
    metrics: () => gateway.metrics.snapshot(),
    ...(recent ? { recentCalls: recent.recentCalls } : {}),
  };
}

export interface StatusPayload {
  at: string;
  lines: LineStatusLike[];
  calls: number;
  metrics: MetricsSnapshot;
  recent: RecentCall[];
}

const MAX_LINES = 1024;
const MAX_RECENT = 100;

function recentOf(source: ConsoleSource): RecentCall[] {
  const raw = source.recentCalls?.() ?? [];
  // Re-normalize through the ring buffer's field picker: whatever the daemon hands us, only named fields pass.
  const ring = new RecentCalls(MAX_RECENT);
  for (const item of raw.slice(0, MAX_RECENT).reverse()) {
    if (!item || typeof item !== 'object') continue;
    const r = item as RecentCall;
    ring.add(r, new Date(typeof r.endedAt === 'string' && !Number.isNaN(Date.parse(r.endedAt)) ? r.endedAt : Date.now()));
  }
  return ring.list();
}

export function statusPayload(source: ConsoleSource): StatusPayload {
  const s = source.status();
  const lines = s.lines.slice(0, MAX_LINES).map((l) => {
    const o: LineStatusLike = { id: String(l.id), state: String(l.state), activeCalls: Number(l.activeCalls) || 0 };
    if (l.lastError) o.lastError = String(l.lastError).slice(0, 200);
    return o;
  });
  const m = source.metrics();
  const metrics: MetricsSnapshot = {
    startedAt: m.startedAt,
    callsStarted: m.callsStarted,
    callsActive: m.callsActive,
    callsByOutcome: { ...m.callsByOutcome },
    loginsAccepted: m.loginsAccepted,
    loginsRefused: m.loginsRefused,
    authorityErrors: m.authorityErrors,
    transitions: m.transitions,
    bytesIn: m.bytesIn,
    bytesOut: m.bytesOut,
    crashes: m.crashes,
  };
  return sanitizeForViewer({ at: new Date().toISOString(), lines, calls: Number(s.calls) || 0, metrics, recent: recentOf(source) });
}

export function livePayload(live: LiveSnapshot): LiveSnapshot {
  return sanitizeForViewer(live);
}

/** A state node as the page draws it (`name`, not `key`: a key called "key" reads as a secret to the redactor). */
export interface ChartNode {
  id: string;
  name: string;
  type: string;
  initial?: string;
  invoke: string[];
  transitions: { event: string; targets: string[]; guard?: string }[];
  states: ChartNode[];
}

/** Each node is sanitized flat, then the tree is rebuilt (the redactor cuts deep trees, and charts nest deep). */
function nodeOf(s: ChartState): ChartNode {
  const flat: Omit<ChartNode, 'states'> = {
    id: s.id,
    name: s.key,
    type: s.type,
    invoke: s.invoke.map((i) => i.src),
    transitions: s.transitions.map((t) => (t.guard ? { event: t.event, targets: t.targets, guard: t.guard } : { event: t.event, targets: t.targets })),
  };
  if (s.initial) flat.initial = s.initial;
  return { ...sanitizeForViewer(flat), states: s.states.map(nodeOf) };
}

let charts: { machines: { name: string; chart: ChartNode }[] } | undefined;

/** The four statecharts, from the machine definitions (computed once). */
export function machinesPayload(): { machines: { name: string; chart: ChartNode }[] } {
  charts ??= { machines: Object.entries(MACHINES).map(([name, m]) => ({ name, chart: nodeOf(chartOf(m)) })) };
  return charts;
}
