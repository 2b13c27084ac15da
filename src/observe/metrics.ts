/**
 * Counters of the running gateway, fed in one place: record(summary) for every call that ends
 * (its outcome kind, as decided), callStarted() as calls begin, transition() per logged machine
 * transition. Read by the daemon's shutdown summary and the console. Observability only
 * listens: nothing here changes what a call does.
 */
import type { OutcomeKind } from '../../machines/outcome.js';

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
}

/** Refusals of a login attempt (the credentials or the account), as opposed to outages and the caller going away. */
const REFUSED: ReadonlySet<OutcomeKind> = new Set(['bad-credentials', 'policy', 'refused-locked', 'refused-penalty', 'callback-wrong-account', 'callback-refused-number']);

export class Metrics {
  private readonly startedAt = new Date().toISOString();
  private started = 0;
  private active = 0;
  private transitionCount = 0;
  private bytesIn = 0;
  private bytesOut = 0;
  /** Calls that could not even start (counted as contained crashes). */
  private unstarted = 0;
  private readonly byOutcome = new Map<OutcomeKind, number>();

  callStarted(): void {
    this.started++;
    this.active++;
  }

  /** A call that failed before it was a call (its machine could not start). */
  callNotStarted(): void {
    this.unstarted++;
  }

  transition(): void {
    this.transitionCount++;
  }

  record(call: EndedCall): void {
    this.active = Math.max(0, this.active - 1);
    this.byOutcome.set(call.outcome, (this.byOutcome.get(call.outcome) ?? 0) + 1);
    this.bytesIn += call.bytesIn;
    this.bytesOut += call.bytesOut;
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
