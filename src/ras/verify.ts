/**
 * The contract between the dialogue (machines/dialogue.ts, which collects typed credentials)
 * and whatever verifies them. The gateway supplies the real one (credentials -> NTLM client
 * tokens -> acceptSecurityContext -> authority); dialogue tests supply their own.
 */

/** Credentials as typed on the line, after `DOMAIN\user` / `user@domain` splitting. */
export interface TypedCredentials {
  user: string;
  /** Typed or the configured default domain; may be ''. */
  domain: string;
  /** Never logged, never kept beyond the verify call. */
  password: string;
}

export interface VerifyInput extends TypedCredentials {
  /** Line id and call id, for logs. */
  lineId: string;
  callId: string;
}

export type VerifyOutcome =
  /** Identity as the authority established it (spelling from the directory). */
  | { kind: 'success'; user: string; domain: string }
  /** Wrong user or password: SECURITYMSG_FAILURE after the last attempt. */
  | { kind: 'failure' }
  /**
   * The account exists and the password may be right, but policy refuses it
   * (disabled, locked, expired, no dial-in, ...): SECURITYMSG_ERROR with `rasError`.
   * `message` is what the caller is told (configurable per reason).
   */
  | { kind: 'denied'; rasError: number; reason: string; message?: string; user?: string; domain?: string }
  /** Authority unreachable / nonsense: SECURITYMSG_ERROR, caller hears "try later". */
  | { kind: 'error'; rasError: number; detail: string };

export type Verifier = (input: VerifyInput, signal: AbortSignal) => Promise<VerifyOutcome>;
