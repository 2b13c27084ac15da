/** SECURITY_MESSAGE rules (rasshost.h) and the mapping from a dialogue's outcome. */
import type { DialogueOutcome } from '../../machines/dialogue.js';
import type { OutcomeKind } from '../../machines/outcome.js';
import {
  DNLEN,
  ERROR_ACCT_DISABLED,
  ERROR_AUTHENTICATION_FAILURE,
  ERROR_BAD_CALLBACK_NUMBER,
  ERROR_DISCONNECTION,
  ERROR_HARDWARE_FAILURE,
  ERROR_LINE_BUSY,
  ERROR_NO_ANSWER,
  ERROR_NO_CARRIER,
  ERROR_NO_DIALIN_PERMISSION,
  ERROR_NO_DIALTONE,
  ERROR_REMOTE_DISCONNECTION,
  ERROR_REQUEST_TIMEOUT,
  SECURITYMSG_ERROR,
  SECURITYMSG_FAILURE,
  SECURITYMSG_SUCCESS,
  UNLEN,
} from './codes.js';
import type { PortHandle, SecurityMessage } from './types.js';

/** Why a message is malformed, or undefined when it is valid. */
export function securityMessageProblem(m: SecurityMessage): string | undefined {
  if (m === null || typeof m !== 'object') return 'message must be an object';
  if (m.msgId !== SECURITYMSG_SUCCESS && m.msgId !== SECURITYMSG_FAILURE && m.msgId !== SECURITYMSG_ERROR) return '"msgId" must be 1, 2 or 3';
  if (!Number.isInteger(m.error) || m.error < 0) return '"error" must be an integer >= 0';
  if (m.msgId === SECURITYMSG_ERROR ? m.error === 0 : m.error !== 0) return '"error" is nonzero exactly when msgId is SECURITYMSG_ERROR';
  if (typeof m.userName !== 'string' || typeof m.domain !== 'string') return '"userName" and "domain" must be strings';
  if (m.userName.length > UNLEN) return `"userName" is longer than UNLEN (${UNLEN})`;
  if (m.domain.length > DNLEN) return `"domain" is longer than DNLEN (${DNLEN})`;
  if (m.msgId !== SECURITYMSG_ERROR && m.userName.length === 0) return '"userName" is required for SUCCESS and FAILURE';
  return undefined;
}

/**
 * The raserror.h code of each outcome that ends a dialogue without a login, when its decider
 * gave none: a caller who did not answer is ERROR_REQUEST_TIMEOUT (ERROR_SMM_TIMEOUT is an
 * obsolete modem-script code); a line that went away is reported by who dropped it.
 */
export const OUTCOME_RAS_ERRORS: Partial<Record<OutcomeKind, number>> = {
  // SECURITYMSG_FAILURE carries no code; logs and summaries report the one a RAS client shows.
  'bad-credentials': ERROR_AUTHENTICATION_FAILURE,
  'caller-timeout': ERROR_REQUEST_TIMEOUT,
  'caller-hangup': ERROR_REMOTE_DISCONNECTION,
  'device-lost': ERROR_HARDWARE_FAILURE,
  'operator-hangup': ERROR_DISCONNECTION,
  shutdown: ERROR_DISCONNECTION,
  protocol: ERROR_DISCONNECTION,
  // raserror.h has no lockout code: 647, as for an account the authority reports locked (src/gateway/outcome.ts).
  'refused-locked': ERROR_ACCT_DISABLED,
  'refused-penalty': ERROR_AUTHENTICATION_FAILURE,
  // Not authenticated here: a server that ignores CompletionDetail.pppFrame hangs up; the gateway may hand the line to pppd.
  ppp: ERROR_AUTHENTICATION_FAILURE,
  // The callback leg: what the modem reported for the last attempt, as a RAS client reports its own dialling.
  'callback-busy': ERROR_LINE_BUSY,
  'callback-no-answer': ERROR_NO_ANSWER,
  'callback-no-carrier': ERROR_NO_CARRIER,
  'callback-no-dialtone': ERROR_NO_DIALTONE,
  'callback-timeout': ERROR_REQUEST_TIMEOUT,
  'callback-refused-number': ERROR_BAD_CALLBACK_NUMBER,
  // Access on this call is for the account that was called back only.
  'callback-wrong-account': ERROR_AUTHENTICATION_FAILURE,
  // No session without the callback: remote access is not permitted this way (a modem error says ERROR_IN_COMMAND itself).
  'callback-failed': ERROR_NO_DIALIN_PERMISSION,
};

/**
 * The SECURITY_MESSAGE for each way a dialogue ends: accepted -> SUCCESS with the authority's
 * spelling of user and domain; bad-credentials (attempts used up) -> FAILURE with the last
 * typed names; everything else -> ERROR with the decider's raserror code (the verifier's for a
 * policy refusal or an outage), else the outcome's own (OUTCOME_RAS_ERRORS).
 */
export function securityMessageFor(outcome: DialogueOutcome, port: PortHandle): SecurityMessage {
  const names = outcome.kind === 'ppp' ? { userName: '', domain: '' } : { userName: outcome.user.slice(0, UNLEN), domain: outcome.domain.slice(0, DNLEN) };
  if (outcome.kind === 'accepted') return { msgId: SECURITYMSG_SUCCESS, port, error: 0, ...names };
  if (outcome.kind === 'bad-credentials') return { msgId: SECURITYMSG_FAILURE, port, error: 0, ...names };
  const code = outcome.rasError ?? OUTCOME_RAS_ERRORS[outcome.kind] ?? ERROR_AUTHENTICATION_FAILURE;
  return { msgId: SECURITYMSG_ERROR, port, error: code > 0 ? code : ERROR_AUTHENTICATION_FAILURE, ...names };
}
