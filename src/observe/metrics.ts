/**
 * Counters of the running gateway, fed in one place: record(summary) for every call that ends
 * (its outcome kind, as decided), callStarted() as calls begin, transition() per machine
 * transition, and the verifier's and the authority's results. Kept in a prom-client Registry
 * (`text()` is the Prometheus exposition `/metrics` serves) and in a small synchronous tally
 * for snapshot() (the shutdown record and the console). Observability only listens: nothing
 * here changes what a call does.
 *
 * Labels are bounded sets the operator or the code chose (line ids, outcome kinds, SSPI status
 * names, authority servers from the configuration, machine ids): never a user name, a caller
 * ID or an address, which a caller controls.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { OUTCOME_KINDS, type OutcomeKind } from '../../machines/outcome.js';

export interface MetricsSnapshot {
  startedAt: string;
  callsStarted: number;
  callsActive: number;
  callsByOutcome: Record<string, number>;
  loginsAccepted: number;
  loginsRefused: number;
  authorityErrors: number;
  transitions: number;
  bytesIn: number;
  bytesOut: number;
  crashes: number;
}

/** What record() needs of a call summary. */
export interface EndedCall {
  outcome: OutcomeKind;
  bytesIn: number;
  bytesOut: number;
  /** The line the call came in on (the label of the per-line series). */
  line?: string;
}

/** Lines and their states, read at each scrape (the Gateway provides it). */
export interface LineStates {
  lines(): Array<{ id: string; state: string }>;
}

/**
 * Lockouts and penalties in force, read at each scrape. The guard module provides the real
 * one (wired by the daemon); until then both read zero.
 */
export interface GuardGauges {
  lockoutsActive(): number;
  penaltiesActive(): number;
}

const NO_GUARD: GuardGauges = { lockoutsActive: () => 0, penaltiesActive: () => 0 };

/** Refusals of a login attempt (the credentials or the account), as opposed to outages and the caller going away. */
const REFUSED: ReadonlySet<OutcomeKind> = new Set(['bad-credentials', 'policy', 'refused-locked', 'refused-penalty', 'callback-wrong-account', 'callback-refused-number']);

/** Seconds from the last Enter to the result: the local store answers in ms, a DC in tens to hundreds. */
const LOGIN_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** What a verification can answer (machines/dialogue.ts VerifyOutcome). */
const LOGIN_OUTCOMES: readonly OutcomeKind[] = OUTCOME_KINDS.filter((k) => ['accepted', 'bad-credentials', 'policy', 'outage', 'internal-error'].includes(k));

/** Label value for a call outside any line (cannot happen today; keeps the label total). */
const NO_LINE = 'none';

export class Metrics {
  /** Every rasgate series (and the process's once withProcessMetrics() ran). */
  readonly registry = new Registry();
  private readonly startedAt = new Date().toISOString();
  private guard: GuardGauges = NO_GUARD;
  private lineStates: LineStates | undefined;
  private processMetrics = false;

  // The synchronous tally behind snapshot().
  private started = 0;
  private active = 0;
  private transitionCount = 0;
  private bytesIn = 0;
  private bytesOut = 0;
  /** Calls that could not even start (counted as contained crashes). */
  private unstarted = 0;
  private readonly byOutcome = new Map<OutcomeKind, number>();

  private readonly calls: Counter<'line' | 'outcome'>;
  private readonly callsStartedTotal: Counter<'line'>;
  private readonly callsActive: Gauge<'line'>;
  private readonly callStartFailures: Counter;
  private readonly callBytes: Counter<'direction'>;
  private readonly loginSeconds: Histogram<'outcome'>;
  private readonly authorityRequests: Counter<'server' | 'result'>;
  private readonly authoritySeconds: Histogram<'server'>;
  private readonly ntlmResults: Counter<'status'>;
  private readonly transitionsTotal: Counter<'machine'>;
  private readonly operatorActions: Counter<'action'>;

  constructor() {
    const registers = [this.registry];
    this.calls = new Counter({ name: 'rasgate_calls_total', help: 'Calls ended, by line and outcome kind (machines/outcome.ts).', labelNames: ['line', 'outcome'], registers });
    this.callsStartedTotal = new Counter({ name: 'rasgate_calls_started_total', help: 'Calls answered, by line.', labelNames: ['line'], registers });
    this.callsActive = new Gauge({ name: 'rasgate_calls_active', help: 'Calls in progress, by line.', labelNames: ['line'], registers });
    this.callStartFailures = new Counter({ name: 'rasgate_call_start_failures_total', help: 'Answered connections whose call could not start (contained internal errors).', registers });
    this.callBytes = new Counter({ name: 'rasgate_call_bytes_total', help: 'Bytes of ended calls, from the caller (in) and to the caller (out).', labelNames: ['direction'], registers });
    this.loginSeconds = new Histogram({ name: 'rasgate_login_duration_seconds', help: 'From the last Enter of a login attempt to its result, by outcome kind.', labelNames: ['outcome'], buckets: LOGIN_BUCKETS, registers });
    this.authorityRequests = new Counter({ name: 'rasgate_authority_requests_total', help: 'Requests to the authority by server and result (ok, denied, unavailable = error).', labelNames: ['server', 'result'], registers });
    this.authoritySeconds = new Histogram({ name: 'rasgate_authority_request_duration_seconds', help: 'Time the authority took to answer, by server.', labelNames: ['server'], buckets: LOGIN_BUCKETS, registers });
    this.ntlmResults = new Counter({ name: 'rasgate_ntlm_results_total', help: "The acceptor's final result of each verification, by SSPI status.", labelNames: ['status'], registers });
    this.transitionsTotal = new Counter({ name: 'rasgate_machine_transitions_total', help: 'State machine transitions, by machine.', labelNames: ['machine'], registers });
    this.operatorActions = new Counter({ name: 'rasgate_operator_actions_total', help: 'Operator actions (line disable/enable, hangup, auth test), by action.', labelNames: ['action'], registers });
    new Gauge({
      name: 'rasgate_lines',
      help: 'Lines by state (disabled: taken out of service by an operator).',
      labelNames: ['state'],
      registers,
      collect: () => {
        const g = this.registry.getSingleMetric('rasgate_lines') as Gauge<'state'>;
        g.reset();
        for (const l of this.lineStates?.lines() ?? []) g.inc({ state: l.state });
      },
    });
    new Gauge({ name: 'rasgate_lockouts_active', help: 'Accounts locked out now.', registers, collect: () => this.setFrom('rasgate_lockouts_active', () => this.guard.lockoutsActive()) });
    new Gauge({ name: 'rasgate_penalties_active', help: 'Caller sources and lines under a penalty now.', registers, collect: () => this.setFrom('rasgate_penalties_active', () => this.guard.penaltiesActive()) });
    new Gauge({ name: 'rasgate_start_time_seconds', help: 'When the gateway started (Unix time).', registers }).set(Date.parse(this.startedAt) / 1000);
    // The results a login attempt can have show from the start (a rate over a series that appears late misses its first event).
    for (const outcome of LOGIN_OUTCOMES) this.loginSeconds.zero({ outcome });
  }

  /** Read a gauge's value from a provider; a failing provider reads 0 (a scrape must not fail for it). */
  private setFrom(name: string, read: () => number): void {
    let v = 0;
    try {
      v = Number(read()) || 0;
    } catch {
      v = 0;
    }
    (this.registry.getSingleMetric(name) as Gauge).set(v);
  }

  /** Where `rasgate_lines` reads the lines from (the Gateway). */
  useLines(source: LineStates): void {
    this.lineStates = source;
  }

  /** Where the lockout and penalty gauges read from (the guard module). Default: zero. */
  useGuard(source: GuardGauges): void {
    this.guard = source;
  }

  /** Add the process's own series (process_*, nodejs_*): once, by the daemon that serves them. */
  withProcessMetrics(): void {
    if (this.processMetrics) return;
    this.processMetrics = true;
    collectDefaultMetrics({ register: this.registry });
  }

  callStarted(line = NO_LINE): void {
    this.started++;
    this.active++;
    this.callsStartedTotal.inc({ line });
    this.callsActive.inc({ line });
  }

  /** A call that failed before it was a call (its machine could not start). */
  callNotStarted(): void {
    this.unstarted++;
    this.callStartFailures.inc();
  }

  transition(machine = 'machine'): void {
    this.transitionCount++;
    this.transitionsTotal.inc({ machine });
  }

  record(call: EndedCall): void {
    const line = call.line ?? NO_LINE;
    this.active = Math.max(0, this.active - 1);
    this.byOutcome.set(call.outcome, (this.byOutcome.get(call.outcome) ?? 0) + 1);
    this.bytesIn += call.bytesIn;
    this.bytesOut += call.bytesOut;
    this.calls.inc({ line, outcome: call.outcome });
    this.callsActive.dec({ line });
    this.callBytes.inc({ direction: 'in' }, call.bytesIn);
    this.callBytes.inc({ direction: 'out' }, call.bytesOut);
  }

  /** One login attempt's result: its outcome kind, the time from the last Enter, and the acceptor's SSPI status name. */
  loginResult(outcome: OutcomeKind, seconds: number, sspiStatus?: string): void {
    this.loginSeconds.observe({ outcome }, seconds);
    if (sspiStatus) this.ntlmResults.inc({ status: sspiStatus });
  }

  /** One request to the authority (`server`: a configured server, or the authority's type). */
  authorityRequest(server: string, result: 'ok' | 'denied' | 'unavailable', seconds: number): void {
    this.authorityRequests.inc({ server, result });
    this.authoritySeconds.observe({ server }, seconds);
  }

  operatorAction(action: string): void {
    this.operatorActions.inc({ action });
  }

  /** The Prometheus text exposition (`/metrics`). */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private count(kinds: (k: OutcomeKind) => boolean): number {
    let n = 0;
    for (const [k, v] of this.byOutcome) if (kinds(k)) n += v;
    return n;
  }

  snapshot(): MetricsSnapshot {
    return {
      startedAt: this.startedAt,
      callsStarted: this.started,
      callsActive: this.active,
      callsByOutcome: Object.fromEntries(this.byOutcome),
      loginsAccepted: this.count((k) => k === 'accepted'),
      loginsRefused: this.count((k) => REFUSED.has(k)),
      authorityErrors: this.count((k) => k === 'outage'),
      transitions: this.transitionCount,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      crashes: this.count((k) => k === 'internal-error') + this.unstarted,
    };
  }
}
