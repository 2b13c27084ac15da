/**
 * NTLM acceptor policy: what we refuse and how long things live. Checked once, at credential
 * acquisition; a bad value fails there with its key named (OptionError).
 */
import { OptionError } from '../errors.js';

export interface NtlmPolicyOptions {
  /**
   * A CHALLENGE not answered within this many ms is void and its context freed. HTTP and dial-in
   * clients answer within seconds; Samba keeps 30 minutes. Default 120_000 (2 minutes).
   */
  challengeLifetimeMs?: number;
  /**
   * Contexts of this credential that may wait for their AUTHENTICATE (or for the authority) at
   * once; a NEGOTIATE past it gets SEC_E_INSUFFICIENT_MEMORY ('too-many-pending-contexts') and no
   * context. Each holds about 2 KiB, so the default bounds a NEGOTIATE flood to a few tens of
   * MiB. Default 10_000.
   */
  maxPendingContexts?: number;
  /** The authority must answer within this many ms, else SEC_E_NO_AUTHENTICATING_AUTHORITY. Default 15_000. */
  authorityTimeoutMs?: number;
  /**
   * Refuse a client blob whose MsvAvTimestamp (or blob time) differs from ours by more than this
   * many ms. Default undefined: not checked (the challenge lifetime already bounds replay).
   */
  maxClockSkewMs?: number;
  /** Refuse AUTHENTICATE without a MIC even if the client does not announce one. Default false (curl sends none). */
  requireMic?: boolean;
  /** Lifetime reported as the established context's expiry. Default 36_000_000 (10 h, like Kerberos tickets). */
  contextLifetimeMs?: number;
}

export type ResolvedNtlmPolicy = Required<Omit<NtlmPolicyOptions, 'maxClockSkewMs'>> & { maxClockSkewMs: number | undefined };

function positiveInteger(key: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) throw new OptionError(`policy.${key}`, 'must be a positive whole number');
  return value;
}

function positiveMs(key: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new OptionError(`policy.${key}`, 'must be a positive number of milliseconds');
  return value;
}

export function resolvePolicy(options: NtlmPolicyOptions = {}): ResolvedNtlmPolicy {
  if ('allowNtlmV1' in options) {
    throw new OptionError('policy.allowNtlmV1', 'is not an acceptor option: NTLMv1 has one switch, the authority\'s (allowNtlmV1 on LocalAuthority / authority.allowNtlmV1)');
  }
  if (options.requireMic !== undefined && typeof options.requireMic !== 'boolean') throw new OptionError('policy.requireMic', 'must be true or false');
  return {
    requireMic: options.requireMic ?? false,
    challengeLifetimeMs: positiveMs('challengeLifetimeMs', options.challengeLifetimeMs, 2 * 60_000),
    maxPendingContexts: positiveInteger('maxPendingContexts', options.maxPendingContexts, 10_000),
    authorityTimeoutMs: positiveMs('authorityTimeoutMs', options.authorityTimeoutMs, 15_000),
    contextLifetimeMs: positiveMs('contextLifetimeMs', options.contextLifetimeMs, 10 * 3_600_000),
    maxClockSkewMs: options.maxClockSkewMs === undefined ? undefined : positiveMs('maxClockSkewMs', options.maxClockSkewMs, 0),
  };
}
