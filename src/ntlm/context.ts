/**
 * Types shared by the NTLM acceptor (src/ntlm/server.ts), its machine (machines/ntlmAccept.ts)
 * and the accept steps (src/ntlm/accept.ts): what each leg produces and what an established
 * context knows. No behaviour here.
 */
import type { AccountInfo, Authority, DenyReason, RelayExchange } from '../authority/types.js';
import type { Logger } from '../logging.js';
import type { ResolvedNtlmPolicy } from './policy.js';

/** The names the server announces in its CHALLENGE (TargetName and TargetInfo AV pairs). */
export interface ServerNames {
  /** MsvAvNbComputerName; upper case, at most 15 characters. */
  netbiosComputer: string;
  /** MsvAvNbDomainName, also the CHALLENGE TargetName. */
  netbiosDomain: string;
  /** MsvAvDnsComputerName. */
  dnsComputer: string;
  /** MsvAvDnsDomainName. */
  dnsDomain: string;
}

/** Time source: xstate's Clock (timers) plus `now()` for timestamps. SimulatedClock fits. */
export interface AcceptClock {
  setTimeout(fn: (...args: unknown[]) => void, timeout: number): unknown;
  clearTimeout(id: unknown): void;
  now?(): number;
}

/** Leg 1 result: our CHALLENGE (or the relay authority's) and what leg 3 needs to check it. */
export interface IssuedChallenge {
  /** The CHALLENGE token bytes exactly as sent (MIC input). */
  challengeToken: Buffer;
  /** NEGOTIATE bytes exactly as received (MIC input). */
  negotiateToken: Buffer;
  /** 8 random bytes (verifier authorities); empty for relays (the DC knows its own). */
  serverChallenge: Buffer;
  /** Flags we answered with (NEGOTIATE flags & what we support). */
  flags: number;
  /** Raw TargetInfo AV pairs we sent, by AvId (value bytes), to check they come back unchanged. */
  sentAvPairs: Map<number, Buffer>;
  /** Set when a relay authority issued the challenge. */
  relay?: RelayExchange;
}

/** Per-call parameters of acceptSecurityContext that the accept steps need. */
export interface LegParams {
  /** fContextReq (ASC_REQ_*). */
  contextReq: number;
  /** Expected MsvAvChannelBindings value (16 bytes), when the caller binds the channel. */
  channelBindings?: Buffer;
}

/** What an established context knows (kept out of logs; keys are wiped on delete). */
export interface EstablishedSession {
  user: string;
  domain: string;
  workstation: string;
  /** Negotiated flags from the AUTHENTICATE message. */
  flags: number;
  /** ExportedSessionKey (16 bytes) when known (verifier authorities). */
  exportedSessionKey?: Buffer;
  account?: AccountInfo;
}

/** The last leg's result, as the machine outputs it. */
export interface AcceptOutcome {
  /** SSPI status (SEC_E_OK, SEC_E_LOGON_DENIED, ...). */
  status: number;
  /** Short stable word for logs: 'ok', 'bad-mic', 'ntlmv1-refused', 'expired', ... */
  reason: string;
  /** The authority's reason when it said no (gateway maps it to a raserror code). */
  denyReason?: DenyReason;
  /** User/domain the authority named, when it named them (denied ones too). */
  user?: string;
  domain?: string;
  session?: EstablishedSession;
}

/** An error carrying its SSPI status (actors throw it; the machine's onError keeps it). */
export class AcceptError extends Error {
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string, message?: string) {
    super(message ?? reason);
    this.status = status;
    this.reason = reason;
  }
}

/** Inbound credentials as acquireCredentialsHandle made them. */
export interface CredentialState {
  readonly authority: Authority;
  readonly policy: ResolvedNtlmPolicy;
  readonly logger: Logger;
  readonly names: ServerNames;
  readonly clock: AcceptClock | undefined;
  /** Challenges handed out by this credential that were not yet consumed (single use). */
  readonly liveChallenges: Set<string>;
}
