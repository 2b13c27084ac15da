/**
 * The gateway's Verifier (src/ras/verify.ts): the caller's typed credentials become NTLM
 * tokens through our own client context, and the acceptor checks them against the configured
 * authority exactly as it would a network client's (NEGOTIATE -> CHALLENGE -> AUTHENTICATE).
 * One code path for every authority: the local store, winbind, or a DC relaying the legs.
 *
 * The password lives only inside createClientContext (hashed at once); nothing here logs it.
 */
import type { InspectionEvent, Observer } from 'xstate';
import type { DenyReason } from '../ntlm/authority.js';
import type { Verifier, VerifyOutcome } from '../ras/verify.js';
import { createClientContext } from '../ntlm/client.js';
import { acceptSecurityContext, deleteSecurityContext, querySecurityContextToken, type CredentialHandle, type SecurityContext } from '../ntlm/server.js';
import { ASC_REQ_CONNECTION, SECURITY_NATIVE_DREP, SEC_I_CONTINUE_NEEDED, statusName } from '../ntlm/constants.js';
import type { Logger } from '../logging.js';
import { errorSummary } from '../errors.js';
import { ERROR_INTERNAL_ERROR, ERROR_NO_LOGON_SERVERS, FAILURE_RAS_ERROR, toVerifyOutcome } from './outcome.js';
import { ERROR_REQUEST_TIMEOUT } from '../ras/codes.js';

export interface GatewayVerifierOptions {
  /** The current inbound credential (it changes when SIGHUP reloads the authority). */
  credential: () => CredentialHandle;
  /** Workstation name in the AUTHENTICATE (domain policies may restrict by it). Default 'RASGATE'. */
  workstation?: string;
  /** Caller-facing message per policy refusal; the dialogue's defaults apply otherwise. */
  deniedMessages?: Partial<Record<DenyReason, string>>;
  logger: Logger;
  /** Per call: an inspection observer for the call's ntlmAccept actor (transition log, inspector). */
  inspect?: (lineId: string, callId: string) => Observer<InspectionEvent> | undefined;
}

export function createGatewayVerifier(o: GatewayVerifierOptions): Verifier {
  const workstation = o.workstation ?? 'RASGATE';
  return async (input, signal) => {
    const log = o.logger.child({ line: input.lineId, call: input.callId, area: 'authority' });
    const started = performance.now();
    let context: SecurityContext | null = null;
    const drop = () => {
      if (context) deleteSecurityContext(context);
    };
    signal.addEventListener('abort', drop, { once: true });
    let outcome: VerifyOutcome;
    try {
      const inspect = o.inspect?.(input.lineId, input.callId);
      outcome = await handshake(o.credential(), input.user, input.domain, input.password, workstation, o.deniedMessages, signal, (c) => (context = c), inspect);
    } catch (err) {
      outcome = { kind: 'error', rasError: ERROR_INTERNAL_ERROR, detail: errorSummary(err).code ?? 'verifier-error' };
    } finally {
      signal.removeEventListener('abort', drop);
      drop();
    }
    const meta = { user: input.user, domain: input.domain, outcome: outcome.kind, ms: Math.round((performance.now() - started) * 10) / 10 };
    if (outcome.kind === 'success') log.info('credentials accepted', { ...meta, identity: `${outcome.domain}\\${outcome.user}` });
    else if (outcome.kind === 'failure') log.warn('credentials refused', { ...meta, rasError: FAILURE_RAS_ERROR });
    else if (outcome.kind === 'denied') log.warn('account refused by policy', { ...meta, reason: outcome.reason, rasError: outcome.rasError });
    else log.error('authority unavailable', { ...meta, rasError: outcome.rasError, detail: outcome.detail });
    return outcome;
  };
}

async function handshake(
  credential: CredentialHandle,
  user: string,
  domain: string,
  password: string,
  workstation: string,
  deniedMessages: Partial<Record<DenyReason, string>> | undefined,
  signal: AbortSignal,
  keep: (c: SecurityContext | null) => void,
  inspect: Observer<InspectionEvent> | undefined,
): Promise<VerifyOutcome> {
  const client = createClientContext({ user, domain, password, workstation });
  const first = await acceptSecurityContext(credential, null, client.negotiate(), ASC_REQ_CONNECTION, SECURITY_NATIVE_DREP, inspect ? { inspect } : {});
  keep(first.context);
  if (signal.aborted) return { kind: 'error', rasError: ERROR_REQUEST_TIMEOUT, detail: 'aborted' };
  if (first.status !== SEC_I_CONTINUE_NEEDED || !first.outputToken) return toVerifyOutcome(first, undefined, deniedMessages);
  let authenticate: Buffer;
  try {
    authenticate = client.authenticate(first.outputToken).token;
  } catch (err) {
    // A CHALLENGE our client cannot read came from the authority (relay): nonsense, an outage.
    return { kind: 'error', rasError: ERROR_NO_LOGON_SERVERS, detail: `challenge unreadable (${errorSummary(err).code ?? 'error'})` };
  }
  const last = await acceptSecurityContext(credential, first.context, authenticate, ASC_REQ_CONNECTION, SECURITY_NATIVE_DREP);
  if (signal.aborted) return { kind: 'error', rasError: ERROR_REQUEST_TIMEOUT, detail: 'aborted' };
  const identity = last.context && last.status === 0 ? querySecurityContextToken(last.context) : undefined;
  const outcome = toVerifyOutcome({ ...last, reason: `${last.reason}` }, identity, deniedMessages);
  if (outcome.kind === 'error') outcome.detail = `${outcome.detail} ${statusName(last.status)}`;
  return outcome;
}
