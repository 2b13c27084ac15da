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

/** A call in progress (src/gateway/call-runner.ts ActiveCall), read structurally. */
export interface ActiveCallLike {
  line: string;
  call: string;
  peer?: string;
  callerName?: string;
  startedAt: string;
  user?: string;
  domain?: string;
  bytesIn: number;
  bytesOut: number;
}

/** The guessing defence's read model: accounts locked and sources under penalty. */
export interface GuardView {
  lockouts: { name: string; until?: string; failures?: number }[];
  penalties: { source: string; until?: string; failures?: number }[];
}

/** What the daemon exposes to the console (src/gateway/daemon.ts Gateway fits it, through gatewaySource). */
export interface ConsoleSource {
  status(): { lines: LineStatusLike[]; calls: number };
  metrics(): MetricsSnapshot;
  /** Newest first; CallSummary-like objects (RecentCalls.recentCalls fits). Optional. */
  recentCalls?(): unknown[];
  /** Calls in progress: who, caller ID or peer, since when, bytes so far. Optional. */
  activeCalls?(): ActiveCallLike[];
  /** Each line's transport (a TCP line's listening state is told by it). Optional. */
  lineTransports?(): { id: string; kind: string; address: string }[];
  /** Lines taken out of service by an operator. Optional. */
  outOfService?(): string[];
  /** Lockouts and penalties. Optional (the guessing defence provides it). */
  guard?(): GuardView;
}

/** The daemon's Gateway as the console reads it: methods it may not have are optional. */
export interface GatewayLike {
  status(): { lines: LineStatusLike[]; calls: number };
  metrics: { snapshot(): MetricsSnapshot };
  activeCalls?(): ActiveCallLike[];
  lineTransports?(): { id: string; kind: string; address: string }[];
  outOfServiceLines?(): string[];
}

/**
 * The daemon's Gateway as a ConsoleSource (its counters are `metrics.snapshot()`), with the call
 * summaries it adds to `recent` from onCallEnd; `extra` adds what other parts provide (the
 * guessing defence's read model, the lines out of service).
 */
export function gatewaySource(gateway: GatewayLike, recent?: RecentCalls, extra: Pick<ConsoleSource, 'guard' | 'outOfService'> = {}): ConsoleSource {
  return {
    status: () => gateway.status(),
    metrics: () => gateway.metrics.snapshot(),
    ...(recent ? { recentCalls: recent.recentCalls } : {}),
    ...(gateway.activeCalls ? { activeCalls: () => gateway.activeCalls!() } : {}),
    ...(gateway.lineTransports ? { lineTransports: () => gateway.lineTransports!() } : {}),
    ...(gateway.outOfServiceLines ? { outOfService: () => gateway.outOfServiceLines!() } : {}),
    ...extra,
  };
}

/** A call in progress as the page shows it: the call's own fields, its machine's state and since when. */
export interface CallRow {
  call: string;
  peer?: string;
  callerName?: string;
  startedAt?: string;
  user?: string;
  domain?: string;
  bytesIn: number;
  bytesOut: number;
  /** The call machine's state (`securing`, `executing`, ...), when its actor is live. */
  state?: string;
  /** When it entered that state. */
  since?: string;
}

/** A line as the page shows it. */
export interface LineRow extends LineStatusLike {
  kind?: string;
  address?: string;
  /** A TCP line accepting connections (open, not paused, not failed). */
  listening?: boolean;
  outOfService: boolean;
  calls: CallRow[];
}

export interface StatusPayload {
  at: string;
  /** The server's time zone (IANA name) and its offset now, e.g. `+02:00`: the page says which it shows. */
  timeZone: { name: string; offset: string };
  lines: LineRow[];
  calls: number;
  metrics: MetricsSnapshot;
  /** Bytes of the calls in progress (the counters count a call's bytes when it ends). */
  liveBytes: { in: number; out: number };
  recent: RecentCall[];
  guard?: GuardView;
}

const MAX_LINES = 1024;
const MAX_CALLS = 4096;
const MAX_RECENT = 100;
const MAX_GUARD = 500;

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

const text = (v: unknown, max = 128): string | undefined => (typeof v === 'string' && v ? v.slice(0, max) : undefined);
const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
const isoTime = (v: unknown): string | undefined => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? new Date(v).toISOString() : undefined);

/** `+02:00` for a UTC offset in minutes east (Date.getTimezoneOffset() is minutes west). */
export function offsetText(minutesEast: number): string {
  const m = Math.abs(minutesEast);
  return `${minutesEast < 0 ? '-' : '+'}${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

function callRow(c: ActiveCallLike, live: Map<string, { state: string; since: string }>): CallRow {
  const row: CallRow = { call: text(c.call, 64) ?? '', bytesIn: count(c.bytesIn), bytesOut: count(c.bytesOut) };
  const fields = { peer: text(c.peer, 64), callerName: text(c.callerName, 64), startedAt: isoTime(c.startedAt), user: text(c.user), domain: text(c.domain) };
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) (row as unknown as Record<string, string>)[k] = v;
  const m = live.get(row.call);
  if (m) {
    row.state = m.state;
    row.since = m.since;
  }
  return row;
}

function guardOf(source: ConsoleSource): GuardView | undefined {
  if (!source.guard) return undefined;
  const g = source.guard();
  const until = (v: unknown) => (isoTime(v) ? { until: isoTime(v)! } : {});
  const failures = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? { failures: v } : {});
  return {
    lockouts: (g.lockouts ?? []).slice(0, MAX_GUARD).map((l) => ({ name: text(l.name) ?? '', ...until(l.until), ...failures(l.failures) })),
    penalties: (g.penalties ?? []).slice(0, MAX_GUARD).map((p) => ({ source: text(p.source) ?? '', ...until(p.until), ...failures(p.failures) })),
  };
}

export function statusPayload(source: ConsoleSource, live?: LiveSnapshot, now = new Date()): StatusPayload {
  const s = source.status();
  const transports = new Map((source.lineTransports?.() ?? []).map((t) => [t.id, t]));
  const out = new Set(source.outOfService?.() ?? []);
  const calls = (source.activeCalls?.() ?? []).slice(0, MAX_CALLS);
  const callStates = new Map<string, { state: string; since: string }>();
  for (const a of live?.actors ?? []) if (a.machine === 'call' && a.call) callStates.set(a.call, { state: a.state, since: a.since });
  const lines = s.lines.slice(0, MAX_LINES).map((l) => {
    const id = String(l.id);
    const t = transports.get(id);
    const o: LineRow = { id, state: String(l.state), activeCalls: Number(l.activeCalls) || 0, outOfService: out.has(id), calls: calls.filter((c) => c.line === id).map((c) => callRow(c, callStates)) };
    if (l.lastError) o.lastError = String(l.lastError).slice(0, 200);
    if (t) {
      o.kind = String(t.kind);
      o.address = String(t.address).slice(0, 200);
      if (t.kind === 'tcp') o.listening = o.state === 'idle' || o.state === 'connected';
    }
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
  const liveBytes = { in: calls.reduce((n, c) => n + count(c.bytesIn), 0), out: calls.reduce((n, c) => n + count(c.bytesOut), 0) };
  const guard = guardOf(source);
  const timeZone = { name: Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC', offset: offsetText(-now.getTimezoneOffset()) };
  return sanitizeForViewer({ at: now.toISOString(), timeZone, lines, calls: Number(s.calls) || 0, metrics, liveBytes, recent: recentOf(source), ...(guard ? { guard } : {}) });
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
