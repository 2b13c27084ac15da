/** SECURITY_MESSAGE rules (rasshost.h, FACTS.md §1) and the mapping from a dialogue's outcome. */
import type { DialogueOutcome } from '../../machines/dialogue.js';
import {
  DNLEN,
  ERROR_AUTHENTICATION_FAILURE,
  ERROR_PORT_DISCONNECTED,
  ERROR_REQUEST_TIMEOUT,
  SECURITYMSG_ERROR,
  SECURITYMSG_FAILURE,
  SECURITYMSG_SUCCESS,
  UNLEN,
} from './codes.js';
import { END_REASON_ERRORS } from './port.js';
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
 * The SECURITY_MESSAGE for each way a dialogue ends:
 *  success      -> SUCCESS with the authority's spelling of user and domain
 *  failure      -> FAILURE (attempts used up) with the last typed user and domain
 *  denied       -> ERROR with the verifier's rasError (e.g. ERROR_ACCT_DISABLED)
 *  error        -> ERROR with the verifier's rasError; ERROR_AUTHENTICATION_FAILURE if it threw
 *  timeout      -> ERROR, ERROR_REQUEST_TIMEOUT (ERROR_SMM_TIMEOUT is an obsolete modem-script code)
 *  disconnected -> ERROR, by CallEndReason: carrier-lost ERROR_REMOTE_DISCONNECTION,
 *                  device-lost ERROR_HARDWARE_FAILURE, hangup/shutdown ERROR_DISCONNECTION
 *  ended        -> ERROR, ERROR_PORT_DISCONNECTED (never sent: the server called end)
 *  ppp-start    -> ERROR, ERROR_AUTHENTICATION_FAILURE: not authenticated here; a server that
 *                  ignores CompletionDetail.pppFrame hangs up, the gateway may hand the line to pppd.
 */
export function securityMessageFor(outcome: DialogueOutcome, port: PortHandle): SecurityMessage {
  const clip = (user: string, domain: string) => ({ userName: user.slice(0, UNLEN), domain: domain.slice(0, DNLEN) });
  const error = (code: number | undefined, user = '', domain = ''): SecurityMessage => ({
    msgId: SECURITYMSG_ERROR,
    port,
    error: code && code > 0 ? code : ERROR_AUTHENTICATION_FAILURE,
    ...clip(user, domain),
  });
  switch (outcome.kind) {
    case 'success':
      return { msgId: SECURITYMSG_SUCCESS, port, error: 0, ...clip(outcome.user, outcome.domain) };
    case 'failure':
      return { msgId: SECURITYMSG_FAILURE, port, error: 0, ...clip(outcome.user, outcome.domain) };
    case 'denied':
      return error(outcome.rasError, outcome.user, outcome.domain);
    case 'error':
      return error(outcome.rasError, outcome.user, outcome.domain);
    case 'timeout':
      return error(ERROR_REQUEST_TIMEOUT, outcome.user, outcome.domain);
    case 'disconnected':
      return error(END_REASON_ERRORS[outcome.reason], outcome.user, outcome.domain);
    case 'ended':
      return error(ERROR_PORT_DISCONNECTED, outcome.user, outcome.domain);
    case 'ppp-start':
      return error(ERROR_AUTHENTICATION_FAILURE);
  }
}
