/**
 * The last N call summaries for the console's "recent calls" table. The daemon adds each
 * CallSummary (src/gateway/call-runner.ts) from its onCallEnd hook; only the fields an operator
 * needs are kept (never a password: summaries carry none, and we copy by name, not by spread).
 */
export interface RecentCall {
  /** When the call ended (ISO 8601). */
  endedAt: string;
  line: string;
  call: string;
  peer?: string;
  user?: string;
  domain?: string;
  outcome: string;
  rasError?: number;
  /** How the call ended when something ended it (`operator`, `carrier-lost`, a raserror name). */
  detail?: string;
  durationMs: number;
  bytesIn: number;
  bytesOut: number;
}

/** The fields of a CallSummary we read (structural: the console does not import the gateway). */
export interface CallSummaryLike {
  line: string;
  call: string;
  outcome: string;
  peer?: string;
  user?: string;
  domain?: string;
  rasError?: number;
  detail?: string;
  durationMs: number;
  bytesIn: number;
  bytesOut: number;
}

const str = (v: unknown, max = 128): string | undefined => (typeof v === 'string' ? v.slice(0, max) : undefined);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

export class RecentCalls {
  private readonly items: RecentCall[] = [];

  /** @param capacity calls kept, newest first. Default 50. */
  constructor(private readonly capacity = 50) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('"capacity" must be a positive integer');
  }

  add(s: CallSummaryLike, endedAt: Date = new Date()): void {
    const r: RecentCall = { endedAt: endedAt.toISOString(), line: str(s.line) ?? '', call: str(s.call) ?? '', outcome: str(s.outcome, 32) ?? '', durationMs: num(s.durationMs), bytesIn: num(s.bytesIn), bytesOut: num(s.bytesOut) };
    const peer = str(s.peer, 64);
    const user = str(s.user);
    const domain = str(s.domain);
    if (peer) r.peer = peer;
    if (user) r.user = user;
    if (domain) r.domain = domain;
    if (typeof s.rasError === 'number') r.rasError = s.rasError;
    const detail = str(s.detail, 64);
    if (detail) r.detail = detail;
    this.items.unshift(r);
    if (this.items.length > this.capacity) this.items.length = this.capacity;
  }

  /** Newest first. */
  list(): RecentCall[] {
    return this.items.slice();
  }

  /** Bound method, to hand over as ConsoleSource.recentCalls. */
  readonly recentCalls = (): RecentCall[] => this.list();
}
