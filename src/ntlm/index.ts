/**
 * `rasgate/ntlm`: an NTLM acceptor and initiator shaped after SSPI, every wire and SSPI constant
 * (SEC_E_*, SEC_I_*, ASC_REQ_*, ASC_RET_*, ISC_REQ_*, ...), the Authority contract the acceptor
 * is written against, and ntlmHandler for node:http / Express. The authorities themselves (the
 * local store, ldap, winbind) are in `rasgate/authority`. See docs/library.md.
 */
export * from './constants.js';
export {
  acquireCredentialsHandle,
  freeCredentialsHandle,
  acceptSecurityContext,
  deleteSecurityContext,
  querySecurityContextToken,
  querySecurityContextOutcome,
  querySecurityContextAccount,
  makeSignature,
  verifySignature,
  encryptMessage,
  decryptMessage,
  channelBindingsHash,
  NtlmContextError,
  type AcquireCredentialsOptions,
  type CredentialHandle,
  type SecurityContext,
  type AcceptOptions,
  type AcceptResult,
  type ContextIdentity,
} from './server.js';
export { initializeSecurityContext, createClientContext, type ClientCredential, type ClientSecurityContext, type InitializeResult } from './client.js';
export { type NtlmPolicyOptions } from './policy.js';
export { ntlmHandler, type NtlmHandlerOptions, type NtlmIdentity, type NtlmRefusal, type NtlmRequest, type NtlmRequestHandler, type NtlmScheme, type NextFunction, type Verdict } from './http.js';
export type { AcceptClock } from './context.js';
export { NtlmTokenError, NtlmSessionError } from './errors.js';
export type { Authority, AuthorityVerdict, AccountInfo, DenyReason, ResponseCheck, RelayExchange } from './authority.js';
