/**
 * What the acceptor (src/ntlm/server.ts) and its accept steps (src/ntlm/accept.ts) share: a
 * credential's state, the names it announces, its clock, and the error a step throws. What the
 * legs produce (IssuedChallenge, AcceptOutcome, ...) is the machine's (machines/ntlmAccept.ts).
 */
import type { Authority } from './authority.js';
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

/** An error carrying its SSPI status: the accept steps throw it, and the machine fails the leg with it. */
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
  /** The authority's one NTLMv1 switch (Authority.allowNtlmV1), read once. */
  readonly allowNtlmV1: boolean;
  /** Challenges handed out by this credential that were not yet consumed (single use). */
  readonly liveChallenges: Set<string>;
}
