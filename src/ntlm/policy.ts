/**
 * NTLM acceptor policy: what we refuse and how long things live. Checked once, at credential
 * acquisition; a bad value fails there with its key named (OptionError).
 */
import { OptionError } from '../errors.js';

export interface NtlmPolicyOptions {
  /**
   * Accept NTLMv1 / NTLM2-session (24-byte) responses. They are crackable offline: when true a
   * warning is logged at every credential acquisition. Default false.
   */
  allowNtlmV1?: boolean;
  /** A CHALLENGE not answered within this many ms is void (Samba: 30 minutes). Default 1_800_000. */
  challengeLifetimeMs?: number;
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

function positiveMs(key: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new OptionError(`policy.${key}`, 'must be a positive number of milliseconds');
  return value;
}

export function resolvePolicy(options: NtlmPolicyOptions = {}): ResolvedNtlmPolicy {
  for (const key of ['allowNtlmV1', 'requireMic'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'boolean') throw new OptionError(`policy.${key}`, 'must be true or false');
  }
  return {
    allowNtlmV1: options.allowNtlmV1 ?? false,
    requireMic: options.requireMic ?? false,
    challengeLifetimeMs: positiveMs('challengeLifetimeMs', options.challengeLifetimeMs, 30 * 60_000),
    authorityTimeoutMs: positiveMs('authorityTimeoutMs', options.authorityTimeoutMs, 15_000),
    contextLifetimeMs: positiveMs('contextLifetimeMs', options.contextLifetimeMs, 10 * 3_600_000),
    maxClockSkewMs: options.maxClockSkewMs === undefined ? undefined : positiveMs('maxClockSkewMs', options.maxClockSkewMs, 0),
  };
}
