/**
 * Our acceptor (acceptSecurityContext over a LocalAuthority) as an AcceptSession for the
 * harnesses: one context per session, deleted on close.
 */
import type { Authority } from '../../src/ntlm/authority.js';
import {
  ASC_REQ_CONNECTION,
  SECURITY_NATIVE_DREP,
  SEC_E_OK,
  SEC_I_CONTINUE_NEEDED,
  acceptSecurityContext,
  acquireCredentialsHandle,
  deleteSecurityContext,
  querySecurityContextToken,
  type AcceptOptions,
  type AcquireCredentialsOptions,
  type CredentialHandle,
  type SecurityContext,
} from '../../src/ntlm/index.js';
import type { AcceptLeg, AcceptSession } from './http-ntlm-server.js';

export interface OurAcceptorLeg extends AcceptLeg {
  /** The engine's stable reason word ('ok', 'bad-mic', ...). */
  reason: string;
}

export interface OurAcceptSession extends AcceptSession {
  step(token: Buffer): Promise<OurAcceptorLeg>;
  readonly context: SecurityContext | null;
}

export function ourCredential(authority: Authority, extra: Omit<AcquireCredentialsOptions, 'authority'> = {}): CredentialHandle {
  return acquireCredentialsHandle({ authority, ...extra });
}

export function ourAcceptSession(credential: CredentialHandle, contextReq = ASC_REQ_CONNECTION, options: AcceptOptions = {}): OurAcceptSession {
  let context: SecurityContext | null = null;
  let ok = false;
  return {
    get context() {
      return context;
    },
    async step(token) {
      const r = await acceptSecurityContext(credential, context, token, contextReq, SECURITY_NATIVE_DREP, options);
      context = r.context;
      ok = r.status === SEC_E_OK;
      return { status: r.status, reason: r.reason, ...(r.outputToken ? { outputToken: r.outputToken } : {}) };
    },
    identity() {
      if (!ok || !context) return undefined;
      const who = querySecurityContextToken(context);
      return { user: who.user, domain: who.domain };
    },
    close() {
      if (context) deleteSecurityContext(context);
      context = null;
    },
  };
}

export { SEC_E_OK, SEC_I_CONTINUE_NEEDED };
