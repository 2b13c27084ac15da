/**
 * The guessing defence of the gateway, in one place: account lockout (src/guard/lockout.ts),
 * per-source penalties (penalties.ts) and the per-line pause (line-pause.ts), fed by what the
 * gateway sees and kept in the state file (state.ts) across restarts and reloads.
 *
 * Where it acts:
 *  - screen(): a line asks before it answers (a penalised caller ID is let ring or answered and
 *    refused; a penalised address hears one line and is closed);
 *  - refusalFor(): the daemon asks once a call is up (penalties that began meanwhile);
 *  - wrapVerifier(): a locked name is refused before the authority is asked (so a dial-in
 *    guesser cannot push a domain account into the DC's own lockout); every verdict is counted
 *    (bad passwords per name, failed attempts per source) and recorded as a `login` audit event;
 *  - callEnded(): calls without an attempt and protocol abuse add to the source's penalty;
 *    failed calls count towards a pause of their line, which the daemon carries out.
 *
 * Operators end what it holds: unlock(), clearPenalty(), resumeLine(), clearAll() (the console
 * through the daemon), or the CLI through the state file. Nothing here may fail a call: every
 * accounting step is contained and logged.
 */
import { ERROR_ACCT_DISABLED } from '../ras/codes.js';
import type { Verifier, VerifyOutcome } from '../ras/verify.js';
import type { Caller, ScreenVerdict } from '../serial/types.js';
import type { OutcomeKind } from '../../machines/outcome.js';
import { nullLogger, type Logger } from '../logging.js';
import { errorSummary } from '../errors.js';
import { noAudit, type Audit, type Operator } from '../audit/events.js';
import { withFileLock } from '../files/lock.js';
import { LogThrottle } from '../observe/throttle.js';
import { AccountLockout, accountKey, type AccountEntry } from './lockout.js';
import { LinePauses, type LinePause } from './line-pause.js';
import type { LockoutSettings, PenaltySettings } from './options.js';
import { SourcePenalties, type PenaltyEntry } from './penalties.js';
import { AllowList, UNKNOWN_CALLER, sourceOf, type Source } from './source.js';
import { emptyState, fileStamp, readState, setAside, writeState, type ClearRecord, type GuardState } from './state.js';

export interface GuardSettings {
  lockout: LockoutSettings;
  penalties: PenaltySettings;
}

/** Wall-clock milliseconds (locks outlive the process) and timers. */
export interface GuardClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

const systemClock: GuardClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (id) => clearTimeout(id as NodeJS.Timeout),
};

export interface GuardOptions {
  settings: GuardSettings;
  /** The state file (state.ts statePath()); none: memory only. */
  stateFile?: string;
  audit?: Audit;
  logger?: Logger;
  clock?: GuardClock;
  /** A line must stop answering until onLineResume (the daemon pauses it). */
  onLinePause?: (pause: LinePause) => void;
  onLineResume?: (line: string) => void;
}

/** Calls that ended without a login and count towards a line's pause. */
// What a caller caused: a refused login, a refused callback number or a wrong account on the callback, a dialogue abandoned.
const FAILED_CALLS: ReadonlySet<OutcomeKind> = new Set(['bad-credentials', 'refused-locked', 'refused-penalty', 'protocol', 'caller-timeout', 'caller-hangup', 'callback-wrong-account', 'callback-refused-number']);
/** The state is written at most this often for counts; at once (next tick) for locks, penalties and clears. */
const SAVE_EVERY_MS = 5_000;
const TICK_MS = 1_000;
/** Calls in progress remembered (one per call; a call whose end never came is forgotten first). */
const MAX_CALLS = 100_000;
/** Sources whose refusals are being counted for the audit trail (one record a minute each). */
export const MAX_REFUSAL_NOTES = 4_096;
const REFUSAL_NOTE_MS = 60_000;

interface CallRecord {
  line: string;
  source: Source;
  tcp: boolean;
  /** Verified attempts (any verdict). */
  attempts: number;
}

export class Guard {
  private settings: GuardSettings;
  private allow: AllowList;
  private readonly clock: GuardClock;
  private readonly log: Logger;
  private readonly audit: Audit;
  private readonly lockout: AccountLockout;
  private readonly penalties: SourcePenalties;
  private readonly pauses: LinePauses;
  private readonly calls = new Map<string, CallRecord>();
  private readonly refusalNotes = new Map<string, { at: number; count: number }>();
  private readonly fileErrors: LogThrottle;
  /** Who is ending what right now (an operator action), for the events it causes. */
  private operator: Operator | undefined;
  private timer: unknown;
  private running = false;
  private dirty = false;
  private urgent = false;
  private lastSave = 0;
  private saving: Promise<void> | undefined;
  /** The state file as we last wrote or read it: a different one was written by someone else. */
  private stamp: string | undefined;
  private applied = new Set<string>();
  /** The clears the file held when we last read it (written back with our state). */
  private clearsOnDisk: ClearRecord[] = [];

  constructor(private readonly o: GuardOptions) {
    this.settings = o.settings;
    this.allow = new AllowList(o.settings.penalties.allow);
    this.clock = o.clock ?? systemClock;
    this.log = (o.logger ?? nullLogger()).child({ area: 'guard' });
    this.audit = o.audit ?? noAudit;
    this.fileErrors = new LogThrottle(this.log, 10 * 60_000, () => this.clock.now());
    const now = () => this.clock.now();
    this.lockout = new AccountLockout(o.settings.lockout, now, (e) => {
      const by = this.operator;
      this.log.log(e.why === 'evicted' ? 'warn' : 'info', e.why === 'evicted' ? 'lock table full: oldest lock dropped' : 'account lock ended', { user: e.entry.name, why: e.why, ...(by ? { by: by.by } : {}) });
      this.record({ event: 'lockout-end', user: e.entry.name, why: e.why, ...by });
      this.changed(true);
    });
    this.penalties = new SourcePenalties(limitsOf(o.settings.penalties), now, (e) => {
      if (e.type === 'active') {
        const seconds = Math.round((e.entry.expiresAt - this.clock.now()) / 1000);
        this.log.warn('source penalised: refused at once until the penalty ends', { source: e.entry.source, seconds, reason: e.entry.reason });
        this.record({ event: 'penalty-start', source: e.entry.source, seconds, until: iso(e.entry.expiresAt), reason: e.entry.reason });
      } else {
        const by = this.operator;
        this.log.info('source penalty ended', { source: e.entry.source, why: e.why, ...(by ? { by: by.by } : {}) });
        this.record({ event: 'penalty-end', source: e.entry.source, why: e.why, ...by });
      }
      this.changed(true);
    });
    this.pauses = new LinePauses(o.settings.penalties.line, now);
  }

  // --- life ------------------------------------------------------------------------------

  /** Load the state file (a restart keeps locks, penalties and pauses) and start the clock. */
  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.o.stateFile) this.load(this.o.stateFile);
    this.schedule();
  }

  /** SIGHUP: new settings; what is held stays. */
  reconfigure(settings: GuardSettings): void {
    this.settings = settings;
    this.allow = new AllowList(settings.penalties.allow);
    this.lockout.reconfigure(settings.lockout);
    this.penalties.reconfigure(limitsOf(settings.penalties));
    this.pauses.reconfigure(settings.penalties.line);
  }

  /** Write the state now (after a save in progress). */
  async flush(): Promise<void> {
    await this.saving;
    if (this.dirty) await this.save();
  }

  /** Stop the clock and write the state one last time. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  // --- before a call ---------------------------------------------------------------------

  /** Lines ask this before they answer (src/serial CallScreen). */
  screen = (lineId: string, caller: Caller): ScreenVerdict => {
    const refusal = this.refusal(lineId, caller, true);
    if (refusal === undefined) return { answer: true };
    // Answered and told (refusalFor() refuses the call once it is up).
    if (caller.kind === 'modem' && this.settings.penalties.modemRefusal === 'answer') return { answer: true };
    return { answer: false, refusal };
  };

  /** The line a call that is up must hear before it is hung up, if its source is penalised now. */
  refusalFor(lineId: string, caller: Caller): string | undefined {
    return this.refusal(lineId, caller, false);
  }

  private refusal(lineId: string, caller: Caller, beforeCall: boolean): string | undefined {
    const p = this.settings.penalties;
    if (!p.enabled) return undefined;
    const source = sourceOf(caller, p.ipv4Bits, p.ipv6Bits);
    if (this.allow.has(source) || !this.penalties.activeOf(source.key)) return undefined;
    if (beforeCall) this.noteRefusal(lineId, source.key);
    return p.refusal;
  }

  /** Refusals before a call go to the audit trail once a minute per source, with their count. */
  private noteRefusal(line: string, source: string): void {
    const t = this.clock.now();
    const note = this.refusalNotes.get(source);
    this.refusalNotes.delete(source);
    if (note && t - note.at < REFUSAL_NOTE_MS) {
      note.count++;
      this.refusalNotes.set(source, note);
      return;
    }
    this.record({ event: 'refused', line, source, result: 'refused-penalty', count: (note?.count ?? 0) + 1 });
    this.refusalNotes.set(source, { at: t, count: 0 });
    for (const key of this.refusalNotes.keys()) {
      if (this.refusalNotes.size <= MAX_REFUSAL_NOTES) break;
      this.refusalNotes.delete(key);
    }
  }

  // --- during and after a call -----------------------------------------------------------

  /** A call is up: its attempts are counted against its source. */
  callStarted(call: { line: string; call: string; caller: Caller }): void {
    const p = this.settings.penalties;
    this.calls.delete(call.call);
    this.calls.set(call.call, { line: call.line, source: sourceOf(call.caller, p.ipv4Bits, p.ipv6Bits), tcp: call.caller.kind === 'tcp', attempts: 0 });
    for (const key of this.calls.keys()) {
      if (this.calls.size <= MAX_CALLS) break;
      this.calls.delete(key);
    }
  }

  /** The source a call was counted under (audit records name it). */
  sourceOf(callId: string): string | undefined {
    return this.calls.get(callId)?.source.key;
  }

  /** A call is over: penalties for calls without an attempt and for abuse; the line's failed calls. Returns its verified attempts. */
  callEnded(call: { line: string; call: string; outcome: OutcomeKind }): number {
    const c = this.calls.get(call.call);
    this.calls.delete(call.call);
    try {
      const p = this.settings.penalties;
      if (c && p.enabled && !this.allow.has(c.source)) {
        if (call.outcome === 'protocol') this.penalise(c.source, p.abuseSeconds, 'abuse');
        else if (c.attempts === 0 && (call.outcome === 'caller-timeout' || call.outcome === 'caller-hangup')) this.penalise(c.source, p.noauthSeconds, 'noauth');
        // Refused without asking anyone (a typed domain too long): still a refused login.
        else if (c.attempts === 0 && call.outcome === 'bad-credentials') this.penalise(c.source, p.authfailSeconds, 'authfail');
      }
      if (FAILED_CALLS.has(call.outcome)) {
        const pause = this.pauses.failed(call.line, c?.tcp ?? false);
        if (pause) this.pauseLine(pause);
      }
    } catch (err) {
      this.log.error('call accounting failed', { line: call.line, call: call.call, error: errorSummary(err) });
    }
    return c?.attempts ?? 0;
  }

  // --- the console's sign-in (HTTP NTLM through the same authority) ----------------------

  /** May a console connection from `address` try to sign in? true, or the refusal (its source is under penalty). */
  admitConsole = (address: string): true | string => {
    const p = this.settings.penalties;
    if (!p.enabled) return true;
    const source = sourceOf({ kind: 'tcp', address }, p.ipv4Bits, p.ipv6Bits);
    return this.allow.has(source) || !this.penalties.activeOf(source.key) ? true : p.refusal;
  };

  /**
   * A console sign-in's verdict, counted as a login is: a refusal counts against the name's
   * lockout and penalises the source, a success resets the count. Returns true when the name is
   * locked (then the console refuses even a right password, as the lines do). The handshake
   * asks the authority before the name is known to us, so unlike a line's login a locked name
   * still reaches it once per try from the console.
   */
  consoleSignIn(s: { user: string; address: string; accepted: boolean }): boolean {
    const p = this.settings.penalties;
    if (this.settings.lockout.maxDenials > 0 && this.lockout.lockOf(accountKey(s.user))) return true;
    if (s.accepted) {
      this.lockout.accepted(s.user);
      return false;
    }
    const lock = this.lockout.deny(s.user);
    this.changed(lock !== undefined);
    const source = sourceOf({ kind: 'tcp', address: s.address }, p.ipv4Bits, p.ipv6Bits);
    if (lock) {
      this.log.warn('account locked: too many bad passwords', { user: lock.name, denials: lock.denials, until: lock.until == null ? 'cleared by an operator' : iso(lock.until), source: source.key, via: 'console' });
      this.record({ event: 'lockout-start', user: lock.name, denials: lock.denials, until: lock.until == null ? null : iso(lock.until), source: source.key });
    }
    if (p.enabled && !this.allow.has(source)) this.penalise(source, p.authfailSeconds, 'authfail');
    return lock !== undefined;
  }

  /** The verifier with the lockout in front and the accounting behind. */
  wrapVerifier(verify: Verifier): Verifier {
    return async (input, signal) => {
      const lock = this.settings.lockout.maxDenials > 0 ? this.lockout.lockOf(accountKey(input.user)) : undefined;
      // raserror.h has no lockout code: ERROR_ACCT_DISABLED (647), as the policy refusal of a locked account.
      const outcome: VerifyOutcome = lock ? { kind: 'refused-locked', reason: 'account-locked', rasError: ERROR_ACCT_DISABLED } : await verify(input, signal);
      try {
        this.counted(input, outcome);
      } catch (err) {
        this.log.error('login accounting failed', { line: input.lineId, call: input.callId, error: errorSummary(err) });
      }
      return outcome;
    };
  }

  private counted(input: { user: string; domain: string; lineId: string; callId: string }, outcome: VerifyOutcome): void {
    const call = this.calls.get(input.callId);
    if (call) call.attempts++;
    const refused = outcome.kind === 'bad-credentials' || outcome.kind === 'refused-locked';
    const lock = outcome.kind === 'bad-credentials' ? this.lockout.deny(input.user) : undefined;
    if (outcome.kind === 'bad-credentials') this.changed(lock !== undefined);
    else if (outcome.kind === 'accepted') this.lockout.accepted(input.user);
    const v = outcome as { rasError?: number; reason?: string };
    this.record({
      event: 'login',
      line: input.lineId,
      call: input.callId,
      ...(call ? { source: call.source.key } : {}),
      user: input.user,
      domain: input.domain,
      result: outcome.kind,
      ...(v.rasError !== undefined ? { rasError: v.rasError } : {}),
      ...(v.reason !== undefined ? { reason: v.reason } : {}),
      ...(outcome.kind === 'accepted' ? { identity: outcome.domain ? `${outcome.domain}\\${outcome.user}` : outcome.user } : {}),
    });
    if (lock) {
      this.log.warn('account locked: too many bad passwords', { user: lock.name, denials: lock.denials, until: lock.until == null ? 'cleared by an operator' : iso(lock.until), source: call?.source.key });
      this.record({ event: 'lockout-start', user: lock.name, denials: lock.denials, until: lock.until == null ? null : iso(lock.until), ...(call ? { source: call.source.key } : {}) });
    }
    const p = this.settings.penalties;
    if (refused && call && p.enabled && !this.allow.has(call.source)) this.penalise(call.source, p.authfailSeconds, 'authfail');
  }

  private penalise(source: Source, seconds: number, reason: string): void {
    const p = this.settings.penalties;
    this.penalties.penalise(source, seconds, source.key === UNKNOWN_CALLER ? p.unknownCallerMinSeconds : p.minSeconds, reason);
    this.changed(false);
  }

  private pauseLine(pause: LinePause): void {
    this.log.warn('line paused: too many failed calls; it answers again by itself', { line: pause.line, failedCalls: pause.failedCalls, until: iso(pause.until) });
    this.record({ event: 'line-paused', line: pause.line, failedCalls: pause.failedCalls, until: iso(pause.until) });
    this.changed(true);
    this.contained('pausing the line', () => this.o.onLinePause?.(pause));
  }

  private endPause(line: string, why: 'expired' | 'cleared'): boolean {
    if (!this.pauses.end(line)) return false;
    const by = this.operator;
    this.log.info('line answers again', { line, why, ...(by ? { by: by.by } : {}) });
    this.record({ event: 'line-resumed', line, why, ...by });
    this.changed(true);
    this.contained('resuming the line', () => this.o.onLineResume?.(line));
    return true;
  }

  // --- what it holds (console, status, metrics, CLI) -----------------------------------------

  /** Locked names, then names being counted. */
  lockouts(): AccountEntry[] {
    return this.lockout.entries();
  }

  /** Active source penalties. */
  activePenalties(): PenaltyEntry[] {
    return this.penalties.activeEntries();
  }

  pausedLines(): LinePause[] {
    return this.pauses.list();
  }

  /** Table sizes (the bench, metrics). */
  sizes(): { accounts: { locked: number; counting: number }; sources: { active: number; pending: number }; calls: number } {
    return { accounts: this.lockout.size, sources: this.penalties.size, calls: this.calls.size };
  }

  // --- operators -------------------------------------------------------------------------

  /** End the lock and count of `name`; true when there was either. */
  unlock(name: string, who: Operator): boolean {
    const done = this.as(who, () => this.lockout.clear(name));
    this.record({ event: 'operator', action: 'lockout-clear', target: name, result: done ? 'done' : 'unchanged', ...who });
    return done;
  }

  /** End the penalty of `source` (as `rasgate lockout list` shows it). */
  clearPenalty(source: string, who: Operator): boolean {
    const done = this.as(who, () => this.penalties.clear(source));
    this.record({ event: 'operator', action: 'penalty-clear', target: source, result: done ? 'done' : 'unchanged', ...who });
    return done;
  }

  /** Let a paused line answer again now. */
  resumeLine(line: string, who: Operator): boolean {
    const done = this.as(who, () => this.endPause(line, 'cleared'));
    this.record({ event: 'operator', action: 'line-resume', target: line, result: done ? 'done' : 'unchanged', ...who });
    return done;
  }

  /** End every lock, penalty and pause. */
  clearAll(who: Operator): void {
    this.as(who, () => this.clearEverything());
    this.record({ event: 'operator', action: 'clear-all', target: '*', ...who });
  }

  private clearEverything(): void {
    this.lockout.clearAll();
    this.penalties.clearAll();
    for (const p of this.pauses.list()) this.endPause(p.line, 'cleared');
  }

  private as<T>(who: Operator, fn: () => T): T {
    const before = this.operator;
    this.operator = who;
    try {
      return fn();
    } finally {
      this.operator = before;
    }
  }

  // --- the state file --------------------------------------------------------------------

  /**
   * Something held changed. A lock, a penalty or a pause that starts or ends is written at once
   * (one write in flight at a time; the tick takes what came meanwhile), so that a crash right
   * after it or `rasgate lockout list` sees it; counting alone waits for the tick.
   */
  private changed(urgent: boolean): void {
    this.dirty = true;
    if (!urgent) return;
    this.urgent = true;
    if (this.running && !this.saving) void this.save();
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = this.clock.setTimeout(() => this.tick(), TICK_MS);
  }

  private tick(): void {
    this.contained('the guard tick', () => {
      this.lockout.sweep();
      this.penalties.sweep();
      for (const p of this.pauses.due()) this.endPause(p.line, 'expired');
      this.pollFile();
      if (this.dirty && !this.saving && (this.urgent || this.clock.now() - this.lastSave >= SAVE_EVERY_MS)) void this.save();
    });
    this.schedule();
  }

  /** Someone else wrote the file (the CLI): apply the clears it added. */
  private pollFile(): void {
    const path = this.o.stateFile;
    if (!path || this.saving) return;
    const stamp = fileStamp(path);
    if (stamp === undefined || stamp === this.stamp) return;
    this.stamp = stamp;
    try {
      this.applyClears(readState(path).clears);
    } catch (err) {
      this.fileErrors.note('error', 'poll', 'lockout state file unreadable: clears in it are not applied', { file: path, error: errorSummary(err).message });
    }
  }

  private applyClears(list: ClearRecord[]): void {
    for (const c of list) {
      if (this.applied.has(c.id)) continue;
      const who: Operator = { by: c.by, via: c.via, ...(c.sudoUser ? { sudoUser: c.sudoUser } : {}) };
      this.as(who, () => {
        if (c.what === 'all') this.clearEverything();
        else if (c.what === 'account') this.lockout.clear(c.key);
        else if (c.what === 'source') this.penalties.clear(c.key);
        else this.endPause(c.key, 'cleared');
      });
    }
    this.applied = new Set(list.map((c) => c.id));
  }

  private load(path: string): void {
    let state: GuardState;
    try {
      state = readState(path);
    } catch (err) {
      if (err instanceof SyntaxError) this.log.error('lockout state file damaged: set aside, starting with no locks', { file: path, setAside: setAside(path, this.clock.now()), error: err.message });
      else this.log.error('lockout state file unreadable: starting with no locks (it is not overwritten until it can be read)', { file: path, error: errorSummary(err).message });
      state = emptyState();
    }
    this.applied = new Set(state.clears.map((c) => c.id));
    const t = this.clock.now();
    // What a clear in the file names was removed from the file with it: these are the rest.
    this.lockout.restore(state.accounts);
    this.penalties.restore(state.penalties);
    for (const pause of state.lines) {
      if (pause.until <= t) continue;
      this.pauses.restore(pause);
      this.contained('pausing the line', () => this.o.onLinePause?.(pause));
    }
    this.stamp = fileStamp(path);
    this.clearsOnDisk = state.clears;
    const held = this.lockout.size;
    if (held.locked || held.counting || state.penalties.length || state.lines.length) this.log.info('lockout state restored', { file: path, locked: held.locked, counting: held.counting, penalties: this.penalties.size.active, pausedLines: this.pauses.list().length });
  }

  /** Write what is held, after applying clears the CLI added since we last looked. */
  private save(): Promise<void> {
    const path = this.o.stateFile;
    if (!path) {
      this.dirty = false;
      return Promise.resolve();
    }
    this.dirty = false;
    this.urgent = false;
    const run = withFileLock(path, () => {
      let onDisk: ClearRecord[] = this.clearsOnDisk;
      // Read it again only when someone else wrote it since (the CLI adds clears): every write renames, so the stamp changes.
      if (fileStamp(path) !== this.stamp) {
        try {
          onDisk = readState(path).clears;
        } catch (err) {
          // Damaged: rewritten whole. Unreadable (EACCES, EIO): not overwritten; kept in memory and retried.
          if (!(err instanceof SyntaxError)) throw err;
          this.fileErrors.note('warn', 'reread', 'lockout state file damaged before writing it: rewriting it whole', { file: path, error: err.message });
        }
      }
      this.applyClears(onDisk);
      const t = this.clock.now();
      const state: GuardState = { accounts: this.lockout.entries(), penalties: this.penalties.activeEntries(), lines: this.pauses.list(), clears: onDisk };
      writeState(path, state, t);
      this.clearsOnDisk = onDisk;
      this.stamp = fileStamp(path);
      this.lastSave = t;
    })
      .catch((err: unknown) => {
        this.dirty = true;
        this.lastSave = this.clock.now();
        this.fileErrors.note('error', 'write', 'lockout state not written: kept in memory, retried', { file: path, error: errorSummary(err).message });
      })
      .finally(() => {
        this.saving = undefined;
      });
    this.saving = run;
    return run;
  }

  private record(event: Parameters<Audit['record']>[0]): void {
    this.contained('the audit record', () => this.audit.record(event));
  }

  private contained(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error(`${what} failed`, { error: errorSummary(err) });
    }
  }
}

function limitsOf(p: PenaltySettings): { maxSeconds: number; maxSources: number } {
  return { maxSeconds: p.maxSeconds, maxSources: p.maxSources };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
