/**
 * Per-line pause against war-diallers: more than `maxFailedCalls` failed calls on one line within
 * `windowMinutes` and the line stops answering for `pauseMinutes`, then answers again by itself.
 * Keyed by line id (configured, a handful); each line keeps at most maxFailedCalls times.
 */
import type { LinePauseSettings } from './options.js';

export interface LinePause {
  line: string;
  /** Epoch ms: paused since, answering again at. */
  since: number;
  until: number;
  failedCalls: number;
}

export class LinePauses {
  private readonly failures = new Map<string, number[]>();
  private readonly paused = new Map<string, LinePause>();

  constructor(
    private settings: LinePauseSettings,
    private readonly now: () => number,
  ) {}

  reconfigure(settings: LinePauseSettings): void {
    this.settings = settings;
  }

  /** A failed call on `line`: the pause it starts, if it starts one. */
  failed(line: string, tcp: boolean): LinePause | undefined {
    const { maxFailedCalls, windowMinutes, pauseMinutes, tcp: onTcp } = this.settings;
    if (maxFailedCalls === 0 || (tcp && !onTcp) || this.pausedNow(line)) return undefined;
    const t = this.now();
    const recent = (this.failures.get(line) ?? []).filter((at) => t - at < windowMinutes * 60_000);
    recent.push(t);
    if (recent.length <= maxFailedCalls) {
      this.failures.set(line, recent);
      return undefined;
    }
    this.failures.delete(line);
    const pause = { line, since: t, until: t + pauseMinutes * 60_000, failedCalls: recent.length };
    this.paused.set(line, pause);
    return pause;
  }

  /** The pause of `line` while it lasts. */
  pausedNow(line: string): LinePause | undefined {
    const p = this.paused.get(line);
    return p && p.until > this.now() ? p : undefined;
  }

  /** The pause is over (its time, or an operator): forget it. */
  end(line: string): LinePause | undefined {
    const p = this.paused.get(line);
    this.paused.delete(line);
    return p;
  }

  /** Pauses over by now (the guard resumes their lines). */
  due(): LinePause[] {
    const t = this.now();
    return [...this.paused.values()].filter((p) => p.until <= t);
  }

  /** Put back a pause a state file held. */
  restore(pause: LinePause): void {
    this.paused.set(pause.line, { ...pause });
  }

  list(): LinePause[] {
    return [...this.paused.values()].map((p) => ({ ...p }));
  }
}
