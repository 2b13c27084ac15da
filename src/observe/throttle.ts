/**
 * Log records that an outsider can cause at will (one per refused connection, one per ignored
 * ring) go through a throttle: the first of each kind in a window is written, the rest are
 * counted and the count rides on the next record of that kind. Keys are kinds chosen by our code
 * (a handful per line), never values a caller controls, so the table stays small.
 */
import type { Logger } from './logger.js';

export class LogThrottle {
  private readonly kinds = new Map<string, { until: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Log `message` at `level` unless a record of this `kind` was written within the window. */
  note(level: 'info' | 'warn' | 'error', kind: string, message: string, meta: Record<string, unknown> = {}): void {
    const t = this.now();
    const k = this.kinds.get(kind);
    if (k && t < k.until) {
      k.suppressed++;
      return;
    }
    const suppressed = k?.suppressed ?? 0;
    this.kinds.set(kind, { until: t + this.windowMs, suppressed: 0 });
    this.log.log(level, message, suppressed > 0 ? { ...meta, alsoSinceLastRecord: suppressed } : meta);
  }
}
