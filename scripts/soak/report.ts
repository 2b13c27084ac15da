/**
 * From a soak run to figures, a verdict and the printed tables.
 *
 * Growth is the least-squares slope over the samples after warm-up (each sample taken after a
 * forced full GC in the gateway process), per minute, with its standard error. A quantity does
 * not grow when its total over the measured window, less two standard errors (the low end of a
 * ~95 % interval: growth shown beyond the sampling noise), stays within:
 *
 *   heapUsed   4 MiB   the live JS heap after GC: at the soak's rate (over ten calls a second,
 *                      thousands of calls in 10 minutes) a leak of 1 KiB a call exceeds it. Its
 *                      noise is small (standard error about 0.02 MiB/min): the bound is tight.
 *   external   4 MiB   Buffers and other memory V8 accounts outside its heap: the same reasoning.
 *   RSS        8 MiB   what the OS sees, allocator retention included, after its own warm-up (half
 *                      the run, at most 5 minutes): it rises fastest in the first minutes, and
 *                      transient buffers of hostile callers (lines of 2 MiB, floods) move it by
 *                      tens of MiB from one sample to the next (standard error 1-2 MiB/min over
 *                      5 minutes). Heap and external memory say whether the growth is ours in
 *                      JavaScript; RSS alone rising points below (native memory, the allocator).
 *   handles    2 % of the mean number of active resources (at least 4), fds the same: the count
 *                      moves with the calls in progress; a handle left behind per call (or per
 *                      hundred calls) grows far beyond that over a run.
 *
 * Handles are also checked exactly: after the callers stop, the gateway's active resources (by
 * type) and fds must come back to the idle baseline taken before the callers started.
 */
import type { SoakRun } from './run.js';
import { mib, sum, STALL_MS } from './run.js';
import type { Sample } from './protocol.js';
import { WRITE_QUEUE_LIMIT } from '../../src/serial/tcp-line.js';

export const TOLERANCE = { heapMiB: 4, externalMiB: 4, rssMiB: 8, handlesShare: 0.02, handlesMin: 4 };
/** The TCP line's write-queue cut-off plus one write (a modem's far side holds CTS at 64 KiB). */
export const QUEUE_BOUND = WRITE_QUEUE_LIMIT + 64 * 1024;

export interface Slope {
  name: string;
  /** Units per minute, and its standard error. */
  perMinute: number;
  standardError: number;
  /** perMinute times the measured window. */
  total: number;
  /** total less two standard errors over the window: what is judged. */
  totalLow: number;
  tolerance: number;
  samples: number;
  unit: 'bytes' | 'count';
  ok: boolean;
}

/** Least-squares slope of y over x, with its standard error (0 with fewer than 3 points). */
export function leastSquaresSlope(points: Array<[number, number]>): { slope: number; standardError: number } {
  const n = points.length;
  if (n < 2) return { slope: 0, standardError: 0 };
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  if (den === 0) return { slope: 0, standardError: 0 };
  const slope = num / den;
  if (n < 3) return { slope, standardError: 0 };
  const residuals = points.reduce((a, [x, y]) => a + (y - my - slope * (x - mx)) ** 2, 0);
  return { slope, standardError: Math.sqrt(residuals / (n - 2) / den) };
}

export interface Criterion {
  name: string;
  ok: boolean;
  detail: string;
}

export interface SoakVerdict {
  callsByOutcome: Record<string, number>;
  callsStarted: number;
  summariesReceived: number;
  openCalls: string[];
  slopes: Slope[];
  /** Growth over the run counts in the verdict (false in short runs: printed only). */
  growthJudged: boolean;
  criteria: Criterion[];
  ok: boolean;
}

const handles = (s: Sample): number => sum(s.resources);

function slopesOf(run: SoakRun): Slope[] {
  const after = (warmupSeconds: number) => run.samples.filter((s) => s.at >= run.callersFrom + warmupSeconds * 1000);
  const measured = after(run.options.warmupSeconds);
  const meanHandles = measured.reduce((a, s) => a + handles(s), 0) / Math.max(1, measured.length);
  const mk = (name: string, unit: Slope['unit'], value: (s: Sample) => number, tolerance: number, samples = measured): Slope => {
    const minutes = samples.length > 1 ? (samples.at(-1)!.at - samples[0]!.at) / 60_000 : 0;
    const { slope: perMinute, standardError } = leastSquaresSlope(samples.map((s) => [s.at / 60_000, value(s)]));
    const total = perMinute * minutes;
    const totalLow = total - 2 * standardError * minutes;
    return { name, perMinute, standardError, total, totalLow, tolerance, samples: samples.length, unit, ok: samples.length >= 3 && totalLow <= tolerance };
  };
  return [
    mk('RSS', 'bytes', (s) => s.rss, TOLERANCE.rssMiB * 1048576, after(run.options.rssWarmupSeconds)),
    mk('heapUsed', 'bytes', (s) => s.heapUsed, TOLERANCE.heapMiB * 1048576),
    mk('external', 'bytes', (s) => s.external, TOLERANCE.externalMiB * 1048576),
    mk('active handles', 'count', handles, Math.max(TOLERANCE.handlesMin, TOLERANCE.handlesShare * meanHandles)),
    mk('fds', 'count', (s) => s.fds, Math.max(TOLERANCE.handlesMin, TOLERANCE.handlesShare * meanHandles)),
  ];
}

function diffResources(a: Sample, b: Sample): string {
  const keys = [...new Set([...Object.keys(a.resources), ...Object.keys(b.resources)])].sort();
  const d = keys.filter((k) => (a.resources[k] ?? 0) !== (b.resources[k] ?? 0)).map((k) => `${k} ${b.resources[k] ?? 0} (idle ${a.resources[k] ?? 0})`);
  if (a.fds !== b.fds) d.push(`fds ${b.fds} (idle ${a.fds})`);
  return d.join(', ') || 'same as idle';
}

/** `judgeGrowth`: the slopes count in the verdict (the 10-minute soak), or are only printed. */
export function verdict(run: SoakRun, judgeGrowth: boolean): SoakVerdict {
  const callsByOutcome: Record<string, number> = {};
  for (const s of run.summaries) callsByOutcome[s.outcome] = (callsByOutcome[s.outcome] ?? 0) + 1;
  const stopped = run.stopped;
  const callsStarted = stopped?.metrics.callsStarted ?? run.samples.at(-1)?.metrics.callsStarted ?? 0;
  const openCalls = stopped?.openCalls ?? [];
  const slopes = slopesOf(run);
  const unexpected = run.outcomes.filter((o) => o.unexpected);
  const crashed = callsByOutcome['internal-error'] ?? 0;
  const faultKinds = (kind: string) => run.faults.filter((f) => f.kind === kind).length;
  const criteria: Criterion[] = [
    {
      name: 'no crash',
      ok: run.exit.expected && crashed === 0 && (stopped?.metrics.crashes ?? 0) === 0,
      detail: `gateway process exit ${run.exit.code ?? run.exit.signal}${run.exit.expected ? ' after stop' : ' (NOT asked to)'}; calls ended as internal-error ${crashed}`,
    },
    {
      name: 'gateway responsive',
      ok: run.stalls.length === 0 && run.longestSilenceMs < STALL_MS + run.options.sampleMs,
      detail: `main-thread stalls of ${STALL_MS / 1000} s or more: ${run.stalls.length}${run.stalls.length ? ` (longest caught ${(Math.max(...run.stalls.map((s) => s.stalledMs)) / 1000).toFixed(0)} s)` : ''}; longest silence on IPC ${(run.longestSilenceMs / 1000).toFixed(1)} s; longest event-loop delay ${Math.max(0, ...run.samples.map((s) => s.loopDelayMaxMs))} ms`,
    },
    { name: 'no uncaught exception', ok: faultKinds('uncaught exception') === 0, detail: `${faultKinds('uncaught exception')}` },
    { name: 'no unhandled rejection', ok: faultKinds('unhandled rejection') === 0, detail: `${faultKinds('unhandled rejection')}` },
    {
      name: 'every call accounted for',
      ok: stopped !== undefined && callsStarted === run.summaries.length && openCalls.length === 0 && stopped.summariesWithoutStart === 0,
      detail: `started ${callsStarted}, summaries received ${run.summaries.length}, without summary ${openCalls.length}${openCalls.length ? ` (${openCalls.slice(0, 5).join(', ')})` : ''}, summaries without start ${stopped?.summariesWithoutStart ?? '?'}${stopped ? '' : '; the gateway never reported its stop'}`,
    },
    {
      name: 'back to idle baseline after the callers',
      ok: run.drained.matched,
      detail: `${run.drained.matched ? `after ${(run.drained.waitedMs / 1000).toFixed(1)} s` : `not within ${(run.drained.waitedMs / 1000).toFixed(0)} s`}: active calls ${run.drained.sample.activeCalls}, open calls ${run.drained.sample.openCalls}; ${diffResources(run.baseline, run.drained.sample)}`,
    },
    {
      name: 'write queues bounded',
      ok: run.queues.maxSocket <= QUEUE_BOUND,
      detail: `largest queue on one socket ${mib(run.queues.maxSocket)} (bound ${mib(QUEUE_BOUND)}), on all sockets ${mib(run.queues.maxTotal)}`,
    },
    {
      name: 'ordinary callers answered as they should',
      ok: unexpected.length === 0,
      detail: unexpected.length ? countBy(unexpected.map((o) => `${o.behaviour}/${o.variant} on ${o.kind}: ${o.outcome}`)).slice(0, 8).map(([k, n]) => `${n}x ${k}`).join('; ') : 'all',
    },
  ];
  if (judgeGrowth) for (const s of slopes) criteria.push({ name: `no growth: ${s.name}`, ok: s.ok, detail: `${fmt(s.total, s.unit)} over the measured window, ${fmt(s.totalLow, s.unit)} less two standard errors (tolerance ${fmt(s.tolerance, s.unit)}, ${s.samples} samples)` });
  return { callsByOutcome, callsStarted, summariesReceived: run.summaries.length, openCalls, slopes, growthJudged: judgeGrowth, criteria, ok: criteria.every((c) => c.ok) };
}

function countBy(keys: string[]): Array<[string, number]> {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return [...m].sort((a, b) => b[1] - a[1]);
}

function fmt(v: number, unit: Slope['unit']): string {
  return unit === 'bytes' ? `${v >= 0 ? '+' : ''}${(v / 1048576).toFixed(2)} MiB` : `${v >= 0 ? '+' : ''}${v.toFixed(1)}`;
}

/** A plain text table: the first row is the header. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export function formatReport(run: SoakRun, v: SoakVerdict): string {
  const o = run.options;
  const out: string[] = [];
  const seconds = (run.callersUntil - run.callersFrom) / 1000;
  out.push(`soak: ${o.lines} lines (${run.lineKinds.telnet} telnet, ${run.lineKinds.raw} raw, ${run.lineKinds.sim} simulated modems), ${o.workers} callers, seed ${o.seed}, ${seconds.toFixed(0)} s of calls (${(v.summariesReceived / Math.max(1, seconds)).toFixed(1)} calls/s), warm-up ${o.warmupSeconds} s (RSS ${o.rssWarmupSeconds} s)`);
  const connections = run.outcomes.reduce((n, c) => n + c.connections, 0);
  out.push(`callers made ${connections} connections; the gateway started ${v.callsStarted} calls (the rest were refused, or gone before the line answered)`);
  out.push('');
  const details = countBy(run.summaries.map((s) => `${s.outcome}\t${[s.reason, s.detail].filter(Boolean).join(' ')}`));
  out.push(table([['calls by outcome', 'count', 'reason, detail: count'], ...Object.entries(v.callsByOutcome).sort((a, b) => b[1] - a[1]).map(([k, n]) => [k, String(n), details.filter(([d]) => d.startsWith(`${k}\t`)).map(([d, m]) => `${d.split('\t')[1] || '-'}: ${m}`).join(', ')]), ['(total)', String(v.summariesReceived), '']]));
  out.push('');
  const byBehaviour = countBy(run.outcomes.map((c) => `${c.behaviour}\t${c.outcome}${c.unexpected ? '\tUNEXPECTED' : ''}`));
  out.push(table([['caller behaviour', 'outcome', 'count', ''], ...byBehaviour.sort((a, b) => a[0].localeCompare(b[0])).map(([k, n]) => { const [b, oc, u] = k.split('\t'); return [b!, oc!, String(n), u ?? '']; })]));
  out.push('');
  out.push(
    table([
      ['growth after warm-up', 'per minute', '(std error)', 'over the window', 'less 2 std errors', 'tolerance', 'samples', v.growthJudged ? 'verdict' : 'verdict (not judged in short runs)'],
      ...v.slopes.map((s) => [s.name, fmt(s.perMinute, s.unit), fmt(s.standardError, s.unit).replace('+', '±'), fmt(s.total, s.unit), fmt(s.totalLow, s.unit), fmt(s.tolerance, s.unit), String(s.samples), s.samples < 3 ? 'too few samples' : s.ok ? 'ok' : 'GROWS']),
    ]),
  );
  const peak = run.samples.reduce((a, s) => (s.rss > a.rss ? s : a), run.baseline);
  out.push(`idle baseline: RSS ${mib(run.baseline.rss)}, heap ${mib(run.baseline.heapUsed)}, handles ${sum(run.baseline.resources)}, fds ${run.baseline.fds}; peak RSS ${mib(peak.rss)}; after the callers: RSS ${mib(run.drained.sample.rss)}, heap ${mib(run.drained.sample.heapUsed)}`);
  out.push('');
  out.push(table([['check', 'result', 'detail'], ...v.criteria.map((c) => [c.name, c.ok ? 'PASS' : 'FAIL', c.detail])]));
  const surprises = run.outcomes.filter((c) => c.unexpected && c.seen);
  if (surprises.length) {
    out.push('');
    out.push('ordinary callers not answered as they should (first 8; what the caller received last):');
    for (const c of surprises.slice(0, 8)) out.push(`  ${c.behaviour}/${c.variant} ${c.outcome}: ${c.seen}`);
  }
  if (run.stalls.length) {
    out.push('');
    out.push('gateway main thread stalled (stack when the watchdog paused it, first 2 stalls):');
    for (const st of run.stalls.slice(0, 2)) out.push(`  after ${(st.stalledMs / 1000).toFixed(0)} s:`, ...st.frames.slice(0, 24).map((f) => `      ${f}`));
  }
  if (run.faults.length) {
    out.push('');
    out.push('faults in the gateway process (distinct messages, first stack):');
    for (const [k, n] of countBy(run.faults.map((f) => `${f.kind}: ${f.message}`))) {
      const first = run.faults.find((f) => `${f.kind}: ${f.message}` === k);
      out.push(`  ${n}x ${k}`);
      if (first?.stack) out.push(first.stack.split('\n').slice(1, 9).map((l) => `      ${l.trim()}`).join('\n'));
    }
  }
  const warnings = Object.entries(run.logs.messages).sort((a, b) => b[1] - a[1]);
  if (warnings.length) {
    out.push('');
    out.push(table([['gateway warn/error log lines', 'count'], ...warnings.slice(0, 20).map(([k, n]) => [k, String(n)])]));
  }
  if (!run.exit.expected && run.stderr.length) {
    out.push('');
    out.push('gateway process output (last lines):');
    out.push(...run.stderr.slice(-20).map((l) => `  ${l}`));
  }
  out.push('');
  out.push(`verdict: ${v.ok ? 'PASS' : 'FAIL'}`);
  return out.join('\n');
}
