/**
 * What the audit trail records: one event type union, the seam every part writes through
 * (`Audit.record`). Each record is one JSON line with `time` (ISO 8601, UTC) and `event`.
 *
 * Never a password, hash, token or key: events are built from named fields that carry none.
 * User names are written as typed: a password typed into the user-name field is recorded as a
 * user name (it is one, as far as rasgate can know), as login(1) and sshd log it.
 *
 * Field names shared across events, which `rasgate audit` filters on: `line`, `call`, `source`
 * (caller ID number or address), `user`, `result` (an outcome kind, machines/outcome.ts).
 */
import { userInfo } from 'node:os';
import type { OutcomeKind } from '../../machines/outcome.js';

/** Who did an operator action, and through what. */
export interface Operator {
  /** The unix user (CLI) or the signed-in user (console). */
  by: string;
  via: 'cli' | 'console' | 'daemon';
  /** The user who ran the CLI through sudo, when it was (SUDO_USER). */
  sudoUser?: string;
}

/** The unix user running this process (and the sudo caller, when it came through sudo): the CLI's operator. */
export function unixOperator(env: NodeJS.ProcessEnv = process.env): Operator {
  let by: string;
  try {
    by = userInfo().username;
  } catch {
    by = `uid ${process.getuid?.() ?? '?'}`;
  }
  const sudo = env.SUDO_USER;
  return { by, via: 'cli', ...(sudo && sudo !== by ? { sudoUser: sudo.slice(0, 64) } : {}) };
}

/** `alice (console)`, `root (cli, sudo by bob)`: an operator as the log names them. */
/** An operator as log fields: the name alone in `operator` (what the out-of-service file keeps too). */
export function operatorFields(o: Operator): { operator: string; via: Operator['via']; sudoUser?: string } {
  return { operator: o.by, via: o.via, ...(o.sudoUser ? { sudoUser: o.sudoUser } : {}) };
}

export type AuditEvent =
  /** A call was answered (TCP: connected; modem: CONNECT). */
  | { event: 'call-start'; line: string; call: string; source?: string; device?: string }
  /** One login attempt: the names as typed, the verdict as decided. */
  | { event: 'login'; line: string; call: string; source?: string; user: string; domain: string; result: OutcomeKind; rasError?: number; reason?: string; identity?: string }
  /** A call ended: its outcome, as decided; the names of the last attempt. */
  | {
      event: 'call-end';
      line: string;
      call: string;
      source?: string;
      result: OutcomeKind;
      reason?: string;
      rasError?: number;
      user?: string;
      domain?: string;
      attempts: number;
      durationMs: number;
      bytesIn: number;
      bytesOut: number;
      /** The callback, when one was made or tried: the number dialled, whose it is, the dial attempts. */
      callback?: { number: string; source: string; attempts?: number };
    }
  /** Callers refused before a call (a penalised source): the first in a minute, with the count since the last record. */
  | { event: 'refused'; line: string; source: string; result: 'refused-penalty'; count: number }
  | { event: 'lockout-start'; user: string; denials: number; until: string | null; source?: string }
  | ({ event: 'lockout-end'; user: string; why: 'expired' | 'cleared' | 'evicted' } & Partial<Operator>)
  | { event: 'penalty-start'; source: string; seconds: number; until: string; reason: string }
  | ({ event: 'penalty-end'; source: string; why: 'expired' | 'cleared' | 'evicted' } & Partial<Operator>)
  | { event: 'line-paused'; line: string; failedCalls: number; until: string }
  | ({ event: 'line-resumed'; line: string; why: 'expired' | 'cleared' } & Partial<Operator>)
  /** Records that could not be written before this one (a full disk, say): how many, since when. */
  | { event: 'audit-gap'; dropped: number; since?: string }
  /** An operator changed an account, a lock, a line or a call, or tested a password (rasgate user / lockout / line / hangup / auth, the console). */
  | ({ event: 'operator'; action: OperatorAction; target: string; result?: 'done' | 'unchanged' | OutcomeKind; reason?: string } & Operator)
  /** Someone signed in to the console, or was refused (through the lines' authority). */
  | { event: 'console-sign-in'; user: string; domain: string; source: string; result: 'accepted' | 'refused' | 'forbidden'; reason?: string };

export type OperatorAction = 'lockout-clear' | 'penalty-clear' | 'line-resume' | 'clear-all' | 'user-add' | 'user-passwd' | 'user-del' | 'user-lock' | 'user-unlock' | 'user-disable' | 'user-enable' | 'user-callback' | 'line-disable' | 'line-enable' | 'hangup' | 'auth-test';

export type AuditRecord = AuditEvent & { time: string };

/** Where audit events go. The daemon's is an AuditTrail (src/audit/trail.ts); tests may collect them. */
export interface Audit {
  record(event: AuditEvent): void;
}

/** An Audit that keeps nothing. */
export const noAudit: Audit = { record: () => undefined };
