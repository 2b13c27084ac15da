/**
 * Counters of the running gateway: calls by result, logins, transitions, active calls. Read by
 * the daemon's periodic and shutdown summaries (and, later, the console). Observability only
 * listens: nothing here changes what a call does.
 */
export interface MetricsSnapshot {
  startedAt: string;
  callsStarted: number;
  callsActive: number;
  callsByResult: Record<string, number>;
  loginsAccepted: number;
  loginsRefused: number;
  authorityErrors: number;
  transitions: number;
  bytesIn: number;
  bytesOut: number;
  crashes: number;
}

export class Metrics {
  private readonly startedAt = new Date().toISOString();
  callsStarted = 0;
  callsActive = 0;
  loginsAccepted = 0;
  loginsRefused = 0;
  authorityErrors = 0;
  transitions = 0;
  bytesIn = 0;
  bytesOut = 0;
  crashes = 0;
  private readonly byResult = new Map<string, number>();

  callEnded(result: string, bytesIn: number, bytesOut: number): void {
    this.callsActive = Math.max(0, this.callsActive - 1);
    if (result === 'crashed') this.crashes++;
    this.byResult.set(result, (this.byResult.get(result) ?? 0) + 1);
    this.bytesIn += bytesIn;
    this.bytesOut += bytesOut;
  }

  snapshot(): MetricsSnapshot {
    return {
      startedAt: this.startedAt,
      callsStarted: this.callsStarted,
      callsActive: this.callsActive,
      callsByResult: Object.fromEntries(this.byResult),
      loginsAccepted: this.loginsAccepted,
      loginsRefused: this.loginsRefused,
      authorityErrors: this.authorityErrors,
      transitions: this.transitions,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      crashes: this.crashes,
    };
  }
}
