/**
 * Account lockout, as Windows RRAS does it for remote access (MaxDenials within ResetTime, every
 * line, an administrator or the lock time ends it) and Samba's local SAM ("bad lockout attempt",
 * "reset count minutes", "lockout duration"): bad-password refusals are counted per user name,
 * and a name refused `maxDenials` times, each within `resetMinutes` of the last, is locked for
 * `lockMinutes` (0: until cleared). A locked name is refused before the authority is asked.
 *
 * Names that exist and names that do not are counted alike, so that a lock tells nothing about
 * an account. Memory is bounded: counting names live in an LRU table of `maxAccounts` (the one
 * counted least recently is forgotten first); locked names are kept apart, so that a flood of
 * new names cannot push a lock out (past `maxAccounts` locks, the oldest lock goes, logged).
 */
import { nameKey } from '../authority/local/smbpasswd.js';
import type { LockoutSettings } from './options.js';

/**
 * The key one account's refusals are counted under: the user name as typed, without any domain
 * (the local store ignores the domain, and a domain controller takes its names in several
 * spellings: NetBIOS, DNS, none), a UPN cut to its name, folded as Samba compares names.
 */
export function accountKey(user: string): string {
  const at = user.indexOf('@');
  return nameKey(at > 0 ? user.slice(0, at) : user);
}

/** Names shown and stored are cut to this many characters (UNLEN is 256; a key stays whole). */
const SHOWN_NAME = 64;

export interface AccountEntry {
  /** The folded key (accountKey). */
  key: string;
  /** The name as first typed (cut), for operators. */
  name: string;
  /** Refusals counted since the count last started. */
  denials: number;
  /** Epoch ms of the first and the last counted refusal. */
  firstAt: number;
  lastAt: number;
  /** Set while locked: when it began, and when it ends (null: when an operator clears it). */
  lockedAt?: number;
  until?: number | null;
}

/** A lock ended (a lock beginning is deny()'s answer, where the caller is known). */
export type LockoutEvent = { type: 'unlocked'; entry: AccountEntry; why: 'expired' | 'cleared' | 'evicted' };

export class AccountLockout {
  private readonly counting = new Map<string, AccountEntry>();
  private readonly locked = new Map<string, AccountEntry>();

  constructor(
    private settings: LockoutSettings,
    private readonly now: () => number,
    private readonly onEvent: (event: LockoutEvent) => void = () => {},
  ) {}

  reconfigure(settings: LockoutSettings): void {
    this.settings = settings;
    this.trim();
  }

  /** The lock on `key`, if it is locked now (a lock found over ends here). */
  lockOf(key: string): AccountEntry | undefined {
    const e = this.locked.get(key);
    if (!e) return undefined;
    if (e.until != null && e.until <= this.now()) {
      this.locked.delete(key);
      this.onEvent({ type: 'unlocked', entry: e, why: 'expired' });
      return undefined;
    }
    return e;
  }

  /** A bad-password refusal of `name`: counted; the lock, when this refusal locks the name. */
  deny(name: string): AccountEntry | undefined {
    const { maxDenials, resetMinutes, lockMinutes } = this.settings;
    if (maxDenials === 0) return undefined;
    const key = accountKey(name);
    if (this.lockOf(key)) return undefined;
    const t = this.now();
    let e = this.counting.get(key);
    if (e && t - e.lastAt > resetMinutes * 60_000) e = undefined;
    if (!e) e = { key, name: name.slice(0, SHOWN_NAME), denials: 0, firstAt: t, lastAt: t };
    this.counting.delete(key);
    e.denials++;
    e.lastAt = t;
    if (e.denials < maxDenials) {
      this.counting.set(key, e);
      this.trim();
      return undefined;
    }
    e.lockedAt = t;
    e.until = lockMinutes > 0 ? t + lockMinutes * 60_000 : null;
    this.locked.set(key, e);
    this.trim();
    return e;
  }

  /** A login that succeeded starts the count again (as a domain controller's badPwdCount). */
  accepted(name: string): void {
    this.counting.delete(accountKey(name));
  }

  /** End the lock and the count of `name`; true when there was either. */
  clear(name: string): boolean {
    const key = accountKey(name);
    const lock = this.locked.get(key);
    const counted = this.counting.delete(key);
    if (!lock) return counted;
    this.locked.delete(key);
    this.onEvent({ type: 'unlocked', entry: lock, why: 'cleared' });
    return true;
  }

  /** End every lock and count; the number of locks ended. */
  clearAll(): number {
    const locks = [...this.locked.values()];
    this.locked.clear();
    this.counting.clear();
    for (const entry of locks) this.onEvent({ type: 'unlocked', entry, why: 'cleared' });
    return locks.length;
  }

  /** End the locks whose time is over and forget counts older than resetMinutes. */
  sweep(): void {
    const t = this.now();
    for (const key of [...this.locked.keys()]) this.lockOf(key);
    const stale = t - this.settings.resetMinutes * 60_000;
    // Oldest first (LRU order): stop at the first that is still counting.
    for (const [key, e] of this.counting) {
      if (e.lastAt >= stale) break;
      this.counting.delete(key);
    }
  }

  /** Locked names first (oldest lock first), then names being counted (most recent last). */
  entries(): AccountEntry[] {
    this.sweep();
    return [...this.locked.values(), ...this.counting.values()].map((e) => ({ ...e }));
  }

  get size(): { locked: number; counting: number } {
    return { locked: this.locked.size, counting: this.counting.size };
  }

  /** Put back what a state file held (clamped to the settings: a locked name stays locked). */
  restore(entries: AccountEntry[]): void {
    for (const e of [...entries].sort((a, b) => a.lastAt - b.lastAt)) {
      const entry = { ...e, name: e.name.slice(0, SHOWN_NAME) };
      if (entry.until !== undefined) this.locked.set(entry.key, entry);
      else this.counting.set(entry.key, entry);
    }
    this.sweep();
    this.trim();
  }

  private trim(): void {
    const max = this.settings.maxAccounts;
    for (const key of this.counting.keys()) {
      if (this.counting.size <= max) break;
      this.counting.delete(key);
    }
    for (const [key, entry] of this.locked) {
      if (this.locked.size <= max) break;
      this.locked.delete(key);
      this.onEvent({ type: 'unlocked', entry, why: 'evicted' });
    }
  }
}
