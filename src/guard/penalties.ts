/**
 * Per-source penalties, after OpenSSH's PerSourcePenalties (sshd_config(5); srclimit.c): each
 * failure of a source adds seconds to its penalty's expiry (a new one starts at now), never past
 * now + maxSeconds; once more than minSeconds are left the penalty is active and the source is
 * refused at once until it expires. Only calls already in progress can add to an active penalty
 * (a refused caller gets no further), so a persistent guesser is held to about one attempt per
 * `authfailSeconds`, and one that keeps calls open at once pays for each.
 *
 * Bounded: at most `maxSources` entries in each of two LRU tables, active and pending (not yet
 * over the threshold); a flood of new sources pushes out pending entries, never active ones
 * (past `maxSources` active ones, the least recently penalised goes).
 */
import type { Source } from './source.js';

export interface PenaltyEntry {
  source: string;
  /** Epoch ms when the penalty is over. */
  expiresAt: number;
  /** Refused at once while active. */
  active: boolean;
  /** When the penalty began, and when it became active. */
  since: number;
  activeSince?: number;
  /** What added to it last (authfail, noauth, abuse). */
  reason: string;
}

export interface PenaltyLimits {
  maxSeconds: number;
  maxSources: number;
}

export type PenaltyEvent =
  | { type: 'active'; entry: PenaltyEntry }
  | { type: 'ended'; entry: PenaltyEntry; why: 'expired' | 'cleared' | 'evicted' };

export class SourcePenalties {
  private readonly active = new Map<string, PenaltyEntry>();
  private readonly pending = new Map<string, PenaltyEntry>();

  constructor(
    private limits: PenaltyLimits,
    private readonly now: () => number,
    private readonly onEvent: (event: PenaltyEvent) => void = () => {},
  ) {}

  reconfigure(limits: PenaltyLimits): void {
    this.limits = limits;
    this.trim();
  }

  /** Add `seconds` to `source`'s penalty; `minSeconds` is its threshold. */
  penalise(source: Source, seconds: number, minSeconds: number, reason: string): void {
    if (seconds <= 0) return;
    const t = this.now();
    const key = source.key;
    let e = this.active.get(key) ?? this.pending.get(key);
    if (e && e.expiresAt <= t) {
      this.drop(e, 'expired');
      e = undefined;
    }
    if (!e) e = { source: key, expiresAt: t + seconds * 1000, active: false, since: t, reason };
    else e.expiresAt += seconds * 1000;
    e.expiresAt = Math.min(e.expiresAt, t + this.limits.maxSeconds * 1000);
    e.reason = reason;
    this.pending.delete(key);
    if (e.active) {
      // Calls already in progress when it became active still add to it (most recent last).
      this.active.delete(key);
      this.active.set(key, e);
    } else if (e.expiresAt - t > minSeconds * 1000) {
      e.active = true;
      e.activeSince = t;
      this.active.set(key, e);
      this.onEvent({ type: 'active', entry: e });
    } else this.pending.set(key, e);
    this.trim();
  }

  /** The active penalty of `key`, if it is refused now (one found over ends here). */
  activeOf(key: string): PenaltyEntry | undefined {
    const e = this.active.get(key);
    if (!e) return undefined;
    if (e.expiresAt > this.now()) return e;
    this.drop(e, 'expired');
    return undefined;
  }

  /** End `key`'s penalty (an operator); true when there was one. */
  clear(key: string): boolean {
    const e = this.active.get(key) ?? this.pending.get(key);
    if (!e) return false;
    this.drop(e, 'cleared');
    return true;
  }

  clearAll(): number {
    const n = this.active.size;
    for (const e of [...this.active.values()]) this.drop(e, 'cleared');
    this.pending.clear();
    return n;
  }

  /** End what is over (active penalties are announced; pending ones just go). */
  sweep(): void {
    const t = this.now();
    for (const e of [...this.active.values()]) if (e.expiresAt <= t) this.drop(e, 'expired');
    for (const [key, e] of [...this.pending]) if (e.expiresAt <= t) this.pending.delete(key);
  }

  /** Active penalties (soonest to end first). */
  activeEntries(): PenaltyEntry[] {
    this.sweep();
    return [...this.active.values()].sort((a, b) => a.expiresAt - b.expiresAt).map((e) => ({ ...e }));
  }

  get size(): { active: number; pending: number } {
    return { active: this.active.size, pending: this.pending.size };
  }

  /** Put back active penalties a state file held. */
  restore(entries: PenaltyEntry[]): void {
    for (const e of [...entries].sort((a, b) => (a.activeSince ?? a.since) - (b.activeSince ?? b.since))) if (e.active) this.active.set(e.source, { ...e });
    this.sweep();
    this.trim();
  }

  private drop(e: PenaltyEntry, why: 'expired' | 'cleared' | 'evicted'): void {
    if (this.active.get(e.source) === e) {
      this.active.delete(e.source);
      this.onEvent({ type: 'ended', entry: e, why });
    } else this.pending.delete(e.source);
  }

  private trim(): void {
    const max = this.limits.maxSources;
    for (const key of this.pending.keys()) {
      if (this.pending.size <= max) break;
      this.pending.delete(key);
    }
    for (const e of this.active.values()) {
      if (this.active.size <= max) break;
      this.drop(e, 'evicted');
    }
  }
}
