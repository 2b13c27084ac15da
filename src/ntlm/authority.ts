/**
 * What the NTLM acceptor needs from an authority: the contract it is written against. The
 * acceptor owns it; authorities implement it (rasgate/authority: the local NT-hash store,
 * winbind's ntlm_auth, a domain controller reached by an LDAP SASL bind that relays the legs),
 * and so may anything else of this shape. Types only: importing it loads nothing.
 *
 * Two shapes, because real authorities come in two kinds:
 *  - verifiers (local, winbind): we issue the challenge; the authority checks the client's
 *    NTLMv2 response to it and hands back the session base key, so that we can check the MIC.
 *  - relays (ldap): the domain controller issues the challenge itself; we pass NEGOTIATE and
 *    AUTHENTICATE through and it answers yes or no (it checks the MIC; no key comes back).
 *
 * A verifier whose check is CPU work only (the local store: a lookup and two HMAC-MD5) may also
 * offer verifySync(): the acceptor's machine then takes the verdict in the same step instead of
 * invoking verify() as an actor (no promise, AbortController or timeout per logon). Authorities
 * that wait on anything (winbind's helper, a DC) leave it out, or return undefined from it for the
 * cases they cannot answer at once; the machine then invokes verify() with its timeout.
 */

/** Why an authority said no. Stable strings: logs, metrics and the raserror mapping key on them. */
export type DenyReason =
  | 'bad-credentials' // wrong password or unknown user: never tell the caller which
  | 'account-disabled'
  | 'account-locked'
  | 'account-expired'
  | 'password-expired'
  | 'password-must-change'
  | 'logon-hours'
  | 'workstation-restricted'
  | 'no-dialin-permission'
  | 'not-member'; // required group missing

/** What the directory told us about an account, when it could (ldap). */
export interface AccountInfo {
  /** Group names or SIDs as the directory spells them (when read). */
  groups?: string[];
  /** msNPAllowDialin: true/false, undefined when absent. */
  dialin?: boolean;
  /** msRADIUSCallbackNumber (RADIUS Callback-Number): the number a Preset callback dials. */
  callbackNumber?: string;
  /** msRADIUSServiceType (RADIUS Service-Type): 3 Callback-Login and 4 Callback-Framed ask for a callback. */
  serviceType?: number;
}

export type AuthorityVerdict =
  | {
      result: 'ok';
      /** User and domain as the authority spells them (not as typed). */
      user: string;
      domain: string;
      /** NTLMv2 SessionBaseKey (16 bytes) when the authority can give it (local, winbind). */
      sessionBaseKey?: Buffer;
      account?: AccountInfo;
    }
  | { result: 'denied'; reason: DenyReason; user?: string; domain?: string; detail?: string }
  /** Unreachable, timed out, malformed reply: an outage, never a wrong password. */
  | { result: 'unavailable'; detail: string };

/** What a verifier needs to check one NTLMv2 (or, if allowed, v1) response to our challenge. */
export interface ResponseCheck {
  /** As sent in AUTHENTICATE (decoded to a JS string). */
  user: string;
  domain: string;
  workstation: string;
  serverChallenge: Buffer;
  /** Raw NtChallengeResponse bytes, never re-serialized. */
  ntResponse: Buffer;
  /** Raw LmChallengeResponse bytes (may be empty). */
  lmResponse: Buffer;
}

/** One relayed exchange with a challenge-issuing authority (a DC). */
export interface RelayExchange {
  /** The CHALLENGE token the authority produced for the client's NEGOTIATE. */
  readonly challenge: Buffer;
  /** Which configured server answers this exchange (an ldap URL), for metrics and logs. Optional. */
  readonly server?: string;
  /** Pass the client's AUTHENTICATE on; resolves with the verdict. */
  authenticate(authenticate: Buffer, signal: AbortSignal): Promise<AuthorityVerdict>;
  /** Drop the exchange (client went away, context deleted). Idempotent. */
  abort(): void;
}

export interface Authority {
  /** 'local' | 'ldap' | 'winbind' | test names. */
  readonly type: string;
  /**
   * The one NTLMv1 switch: true lets NTLMv1 and NTLM2-session (24-byte) responses reach this
   * authority; otherwise the acceptor refuses them before asking ('ntlmv1-refused'). They can be
   * cracked offline. Read once, when a credential is acquired. Default false.
   */
  readonly allowNtlmV1?: boolean;
  /** Verifier authorities implement this. */
  verify?(check: ResponseCheck, signal: AbortSignal): Promise<AuthorityVerdict>;
  /**
   * Optional synchronous fast path of verify(), for verifiers that implement verify(): the same
   * verdict verify() would give, or undefined to have verify() asked instead. It runs on the
   * acceptor's event loop, so: no network, no child process, no waiting on a lock (an occasional
   * stat of a local file, as the local store's mtime recheck, is fine).
   */
  verifySync?(check: ResponseCheck): AuthorityVerdict | undefined;
  /** Relay authorities implement this: forward NEGOTIATE, get the authority's CHALLENGE. */
  relay?(negotiate: Buffer, signal: AbortSignal): Promise<RelayExchange>;
  /** Re-read the store / reconnect after SIGHUP. Optional. */
  reload?(): Promise<void>;
  /** Release connections, children, file watchers. */
  close(): Promise<void>;
}

