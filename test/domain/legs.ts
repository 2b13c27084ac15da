/** One full NTLM logon (our client <-> acceptSecurityContext <-> authority), for tests and the bench. */
import { acceptSecurityContext, deleteSecurityContext, querySecurityContextToken, type CredentialHandle } from '../../src/ntlm/server.js';
import { initializeSecurityContext } from '../../src/ntlm/client.js';
import { SECURITY_NATIVE_DREP, ASC_REQ_CONNECTION, SEC_I_CONTINUE_NEEDED } from '../../src/ntlm/constants.js';

export interface LoginResult {
  status: string;
  reason: string;
  denyReason?: string;
  identity?: { user: string; domain: string; workstation: string };
  ms: number;
}

export async function login(cred: CredentialHandle, user: string, password: string, domain: string, workstation = '', flags?: number): Promise<LoginResult> {
  const t = performance.now();
  const credential = { user, domain, password, workstation };
  const extras = flags === undefined ? {} : { flags };
  const c1 = initializeSecurityContext(credential, null, undefined, 0, undefined, extras);
  const r1 = await acceptSecurityContext(cred, null, c1.outputToken!, ASC_REQ_CONNECTION, SECURITY_NATIVE_DREP);
  if (r1.status !== SEC_I_CONTINUE_NEEDED) {
    deleteSecurityContext(r1.context);
    return { status: r1.status.toString(16), reason: r1.reason, ms: performance.now() - t };
  }
  const c2 = initializeSecurityContext(credential, c1.context, undefined, 0, r1.outputToken, extras);
  const r2 = await acceptSecurityContext(cred, r1.context, c2.outputToken!, ASC_REQ_CONNECTION, SECURITY_NATIVE_DREP);
  const out: LoginResult = { status: r2.status.toString(16), reason: r2.reason, ms: performance.now() - t };
  if (r2.denyReason) out.denyReason = r2.denyReason;
  if (r2.status === 0) out.identity = querySecurityContextToken(r2.context!);
  deleteSecurityContext(r2.context);
  return out;
}

