/**
 * The gateway's Verifier (src/ras/verify.ts): the caller's typed credentials become NTLM
 * tokens through our own client context, and the acceptor checks them against the configured
 * authority exactly as it would a network client's (NEGOTIATE -> CHALLENGE -> AUTHENTICATE).
 * One code path for every authority: the local store, winbind, or a DC relaying the legs.
 *
 * The password lives only inside createClientContext (hashed at once); nothing here logs it.
 */
import type { InspectionEvent, Observer } from 'xstate';
import type { Verifier, VerifyOutcome } from '../ras/verify.js';
import { createClientContext } from '../ntlm/client.js';
import { acceptSecurityContext, deleteSecurityContext, querySecurityContextToken, type AcceptOptions, type CredentialHandle, type SecurityContext } from '../ntlm/server.js';
import { ASC_REQ_CONNECTION, SECURITY_NATIVE_DREP, SEC_I_CONTINUE_NEEDED, statusName } from '../ntlm/constants.js';
import { atDebug, type Logger } from '../logging.js';
import { errorSummary } from '../errors.js';
import { toVerifyOutcome, unavailable } from './outcome.js';
import { OUTCOME_RAS_ERRORS } from '../ras/message.js';
import { ERROR_REQUEST_TIMEOUT } from '../ras/codes.js';

export interface GatewayVerifierOptions {
  /**
   * The current inbound credential for one verification (it changes when SIGHUP replaces the
   * authority); release() when the verification is over, so a replaced one can be closed.
   */
  lease: () => { credential: CredentialHandle; release(): void };
  /** Workstation name in the AUTHENTICATE (domain policies may restrict by it). Default 'RASGATE'. */
  workstation?: string;
  logger: Logger;
  /** Per call: an inspection observer for the call's ntlmAccept actor (transition log, inspector). */
  inspect?: (lineId: string, callId: string) => Observer<InspectionEvent> | undefined;
  /** Each verification's result, its time from the request (the last Enter) and the acceptor's final SSPI status name (metrics). */
  onResult?: (result: { outcome: VerifyOutcome; seconds: number; sspiStatus?: string }) => void;
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
    let sspiStatus: string | undefined;
    let lease: { credential: CredentialHandle; release(): void } | undefined;
    try {
      lease = o.lease();
      const inspect = o.inspect?.(input.lineId, input.callId);
      // The acceptor's own records (ntlm logon accepted / refused) carry this call's ids too; they
      // say what the record below says, so they go at debug (errors stay errors).
      const ntlmLog = atDebug(o.logger.child({ line: input.lineId, call: input.callId, area: 'ntlm' }));
      outcome = await handshake(lease.credential, input.user, input.domain, input.password, workstation, signal, (c) => (context = c), { ...(inspect ? { inspect } : {}), logger: ntlmLog }, (s) => (sspiStatus = statusName(s)));
    } catch (err) {
      outcome = unavailable('internal-error', errorSummary(err).code ?? 'verifier-error');
    } finally {
      signal.removeEventListener('abort', drop);
      drop();
      lease?.release();
    }
    const elapsed = performance.now() - started;
    try {
      o.onResult?.({ outcome, seconds: elapsed / 1000, ...(sspiStatus ? { sspiStatus } : {}) });
    } catch {
      // metrics only listen: a failing hook must not change the outcome
    }
    const meta = { user: input.user, domain: input.domain, outcome: outcome.kind, ms: Math.round(elapsed * 10) / 10 };
    if (outcome.kind === 'accepted') log.info('credentials accepted', { ...meta, identity: `${outcome.domain}\\${outcome.user}` });
    else if (outcome.kind === 'bad-credentials') log.warn('credentials refused', { ...meta, rasError: OUTCOME_RAS_ERRORS['bad-credentials'] });
    else if (outcome.kind === 'outage') log.error('authority unavailable', { ...meta, reason: outcome.reason, rasError: outcome.rasError });
    else if (outcome.kind === 'internal-error') log.error('verification failed inside rasgate', { ...meta, reason: outcome.reason, rasError: outcome.rasError });
    else log.warn('account refused by policy', { ...meta, reason: outcome.reason, rasError: outcome.rasError });
    return outcome;
  };
}

async function handshake(
  credential: CredentialHandle,
  user: string,
  domain: string,
  password: string,
  workstation: string,
  signal: AbortSignal,
  keep: (c: SecurityContext | null) => void,
  firstLeg: AcceptOptions,
  status: (code: number) => void,
): Promise<VerifyOutcome> {
  const client = createClientContext({ user, domain, password, workstation });
  const first = await acceptSecurityContext(credential, null, client.negotiate(), ASC_REQ_CONNECTION, SECURITY_NATIVE_DREP, firstLeg);
  status(first.status);
  keep(first.context);
  if (signal.aborted) return unavailable('outage', 'aborted', ERROR_REQUEST_TIMEOUT);
  if (first.status !== SEC_I_CONTINUE_NEEDED || !first.outputToken) return toVerifyOutcome(first, undefined);
  let authenticate: Buffer;
  try {
    authenticate = client.authenticate(first.outputToken).token;
  } catch (err) {
    // A CHALLENGE our client cannot read came from the authority (relay): nonsense, an outage.
    return unavailable('outage', `challenge unreadable (${errorSummary(err).code ?? 'error'})`);
  }
  const last = await acceptSecurityContext(credential, first.context, authenticate, ASC_REQ_CONNECTION, SECURITY_NATIVE_DREP);
  status(last.status);
  if (signal.aborted) return unavailable('outage', 'aborted', ERROR_REQUEST_TIMEOUT);
  const identity = last.context && last.status === 0 ? querySecurityContextToken(last.context) : undefined;
  return toVerifyOutcome(last, identity);
}
