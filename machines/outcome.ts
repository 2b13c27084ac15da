/**
 * How a call ended: one vocabulary from where it is decided (the verifier, the dialogue
 * machine, the call machine) to the call summary, the metrics and the audit trail. Nothing
 * downstream re-derives it (from raserror ranges or from text).
 */
export const OUTCOME_KINDS = [
  /** The login was accepted (whatever ended the session afterwards). */
  'accepted',
  /** Wrong user name or password, every attempt used. */
  'bad-credentials',
  /** The account exists, the password may be right, but policy refuses it (`reason`: DenyReason). */
  'policy',
  /** The authority could not answer (unreachable, timed out, nonsense). */
  'outage',
  /** The caller did not answer in time (`reason`: idle, field, login). */
  'caller-timeout',
  /** The caller went away before a result. */
  'caller-hangup',
  /** The line's device went away. */
  'device-lost',
  /** Refused before the authority was asked: the account is locked out. */
  'refused-locked',
  /** Refused before the dialogue or the authority: the caller's source is penalised. */
  'refused-penalty',
  /** rasgate was stopping. */
  'shutdown',
  /** The login was accepted but no callback could be made: the line does not offer it to a Preset user, the policy could not be read, a stored number cannot be dialled, the modem refused the dial command. */
  'callback-failed',
  /** The callback found the number busy, every attempt. */
  'callback-busy',
  /** Nobody answered the callback (the modem said NO ANSWER), every attempt. */
  'callback-no-answer',
  /** The callback did not get a carrier (NO CARRIER), every attempt. */
  'callback-no-carrier',
  /** The line had no dial tone for the callback (NO DIALTONE), every attempt. */
  'callback-no-dialtone',
  /** The modem reported nothing within the callback's answer timeout, every attempt. */
  'callback-timeout',
  /** The number the caller gave (Set By Caller) is not one the line may call. */
  'callback-refused-number',
  /** After the callback, a different account logged in than the one called back. */
  'callback-wrong-account',
  /** The login was accepted but the line's action (bridge, exec) could not run. */
  'action-failed',
  /** A PPP frame at the prompt: handed to the line's program (AutoPPP). */
  'ppp',
  /** The caller broke the protocol (a PPP frame on a line that does not take it). */
  'protocol',
  /** An operator hung the call up. */
  'operator-hangup',
  /** rasgate failed inside (a bug), contained to this call. */
  'internal-error',
] as const;

export type OutcomeKind = (typeof OUTCOME_KINDS)[number];

export interface Outcome {
  kind: OutcomeKind;
  /** More precise and stable: the DenyReason of a policy refusal, a timeout's scope, ... */
  reason?: string;
  /** The raserror.h code reported for it (absent for an accepted login). */
  rasError?: number;
}

/** Why a call's line went away under it (the transports say; the dialogue and the call listen). */
export type CallEndReason =
  | 'carrier-lost' // NO CARRIER / DCD dropped / TCP peer closed
  | 'hangup' // we hung up
  | 'overrun' // the caller did not read what we sent: cut off
  | 'device-lost' // the device vanished (USB unplug) or errored
  | 'shutdown';

/** The outcome of a call that ends for `reason` before a result. */
export const END_REASON_OUTCOMES: Record<CallEndReason, Outcome> = {
  'carrier-lost': { kind: 'caller-hangup' },
  hangup: { kind: 'operator-hangup' },
  overrun: { kind: 'protocol', reason: 'not-reading' },
  'device-lost': { kind: 'device-lost' },
  shutdown: { kind: 'shutdown' },
};
