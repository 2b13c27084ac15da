/**
 * The accept steps of the ntlmAccept machine:
 *   buildChallenge         NEGOTIATE -> our CHALLENGE, synchronously (verifier authorities)
 *   issueChallenge         the same as an async step, or the relay authority's CHALLENGE
 *   verifyAuthenticateNow  AUTHENTICATE -> AcceptOutcome synchronously when the authority has a
 *                          synchronous verdict (Authority.verifySync); undefined: ask it
 *   verifyAuthenticate     AUTHENTICATE -> AcceptOutcome, asking the authority (async)
 * Both verify paths run the same checks in the same order (screen, screenForVerifier, settle).
 * Checks follow [MS-NLMP 3.2.5.1.2] and Samba's acceptor (auth/ntlmssp/ntlmssp_server.c).
 */
import { randomFillSync } from 'node:crypto';
import type { Authority, AuthorityVerdict, RelayExchange, ResponseCheck } from './authority.js';
import { AvId, Layout, MsvAvFlag, NegotiateFlags as F, SEC_E_BAD_BINDINGS, SEC_E_INVALID_TOKEN, SEC_E_LOGON_DENIED, SEC_E_NO_AUTHENTICATING_AUTHORITY, SEC_E_OK, ASC_REQ_CONFIDENTIALITY, ASC_REQ_INTEGRITY, ASC_REQ_REPLAY_DETECT, ASC_REQ_SEQUENCE_DETECT } from './constants.js';
import { NtlmTokenError } from './errors.js';
import { constantTimeEqual, hmacMd5 } from './crypto.js';
import { decodeAuthenticate, decodeChallenge, decodeNegotiate, encodeChallenge, RASGATE_VERSION, type AuthenticateMessage } from './messages.js';
import { encodeAvPairs, stringPair, timestampPair, type AvPair } from './avpairs.js';
import { computeMic, keyExchange, parseNtlmV2Response } from './ntlmv2.js';
import { AcceptError, type CredentialState } from './context.js';
import type { AcceptOutcome, IssuedChallenge, LegParams } from '../../machines/ntlmAccept.js';

/** Flags a server echoes only when the client offered them [MS-NLMP 3.2.5.1.1]. */
const ECHOED = F.NEGOTIATE_SIGN | F.NEGOTIATE_SEAL | F.NEGOTIATE_ALWAYS_SIGN | F.NEGOTIATE_128 | F.NEGOTIATE_56 | F.NEGOTIATE_KEY_EXCH | F.NEGOTIATE_EXTENDED_SESSIONSECURITY | F.REQUEST_TARGET;

/** fContextReq bits that only a context with a session key can grant (sign / seal). */
const NEEDS_SESSION_KEY = ASC_REQ_INTEGRITY | ASC_REQ_CONFIDENTIALITY | ASC_REQ_REPLAY_DETECT | ASC_REQ_SEQUENCE_DETECT;

const Z16 = Buffer.alloc(16);
/** FILETIME ticks per ms. */
const TICKS_PER_MS = 10_000n;
const FILETIME_UNIX_EPOCH = 116444736000000000n;

function denied(reason: string, extra: Partial<AcceptOutcome> = {}): AcceptOutcome {
  return { status: SEC_E_LOGON_DENIED, reason, ...extra };
}

function invalidToken(err: unknown): AcceptError {
  const code = err instanceof NtlmTokenError ? err.code : 'NTLM_MALFORMED';
  return new AcceptError(SEC_E_INVALID_TOKEN, code, err instanceof Error ? err.message : String(err));
}

function checkSize(token: Buffer): void {
  if (!Buffer.isBuffer(token) || token.length > Layout.MAX_TOKEN) throw new AcceptError(SEC_E_INVALID_TOKEN, 'NTLM_TOO_LARGE');
}

/** Encoded name pairs per credential: built once, the timestamp is added per challenge. */
const namePairsCache = new WeakMap<CredentialState, AvPair[]>();
function namePairs(cred: CredentialState): AvPair[] {
  let pairs = namePairsCache.get(cred);
  if (!pairs) {
    const n = cred.names;
    pairs = [
      stringPair(AvId.MsvAvNbComputerName, n.netbiosComputer),
      stringPair(AvId.MsvAvNbDomainName, n.netbiosDomain),
      stringPair(AvId.MsvAvDnsComputerName, n.dnsComputer),
      stringPair(AvId.MsvAvDnsDomainName, n.dnsDomain),
    ];
    namePairsCache.set(cred, pairs);
  }
  return pairs;
}

export function nowMs(cred: CredentialState): number {
  return cred.clock?.now ? cred.clock.now() : Date.now();
}

/** CSPRNG bytes drawn 4 KiB at a time (randomBytes(8) per challenge costs more than the rest of leg 1). */
const pool = Buffer.alloc(4096);
let poolAt = pool.length;
function random8(): Buffer {
  if (poolAt + 8 > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const out = Buffer.from(pool.subarray(poolAt, poolAt + 8));
  pool.fill(0, poolAt, poolAt + 8); // each byte is used once
  poolAt += 8;
  return out;
}

/** A fresh 8-byte challenge never live twice for this credential. */
function freshChallenge(cred: CredentialState): Buffer {
  for (;;) {
    const c = random8();
    const key = c.toString('latin1');
    if (!cred.liveChallenges.has(key)) {
      cred.liveChallenges.add(key);
      return c;
    }
  }
}

/** Forget a challenge (answered, expired or its context deleted): it can never verify again. */
export function retireChallenge(cred: CredentialState, issued: IssuedChallenge | undefined): void {
  if (issued && issued.serverChallenge.length) cred.liveChallenges.delete(issued.serverChallenge.toString('latin1'));
}

// ---- leg 1 ---------------------------------------------------------------------------------

/** Does this authority issue the challenges itself (a DC relay)? Then leg 1 is the authority's. */
export function relaysChallenge(authority: Authority): boolean {
  return !authority.verify && typeof authority.relay === 'function';
}

function negotiateFlags(negotiate: Buffer): number {
  checkSize(negotiate);
  try {
    return decodeNegotiate(negotiate).flags;
  } catch (err) {
    throw invalidToken(err);
  }
}

/** Our own CHALLENGE for a verifier authority: CPU work only. Throws AcceptError on a bad NEGOTIATE. */
export function buildChallenge(cred: CredentialState, negotiate: Buffer): IssuedChallenge {
  const clientFlags = negotiateFlags(negotiate);
  let flags = F.NEGOTIATE_NTLM | F.NEGOTIATE_TARGET_INFO | (clientFlags & ECHOED);
  flags |= clientFlags & F.NEGOTIATE_UNICODE ? F.NEGOTIATE_UNICODE : F.NEGOTIATE_OEM;
  flags |= cred.names.netbiosDomain.toUpperCase() === cred.names.netbiosComputer.toUpperCase() ? F.TARGET_TYPE_SERVER : F.TARGET_TYPE_DOMAIN;
  const withVersion = (clientFlags & F.NEGOTIATE_VERSION) !== 0;
  if (withVersion) flags |= F.NEGOTIATE_VERSION;
  flags >>>= 0;

  const serverChallenge = freshChallenge(cred);
  const filetime = BigInt(Math.floor(nowMs(cred))) * TICKS_PER_MS + FILETIME_UNIX_EPOCH;
  // Never MsvAvFlags in a CHALLENGE: it is a client-only pair [MS-NLMP 2.2.2.1], and Windows
  // clients that find one compute a MIC the server cannot match.
  const pairs = [...namePairs(cred), timestampPair(filetime)];
  const challengeToken = encodeChallenge({
    flags,
    serverChallenge,
    targetName: cred.names.netbiosDomain,
    targetInfo: encodeAvPairs(pairs),
    version: withVersion ? RASGATE_VERSION : undefined,
  });
  return { challengeToken, negotiateToken: negotiate, serverChallenge, flags, sentAvPairs: new Map(pairs.map((p) => [p.id, p.value])) };
}

export async function issueChallenge(cred: CredentialState, negotiate: Buffer, _params: LegParams, signal: AbortSignal): Promise<IssuedChallenge> {
  if (!relaysChallenge(cred.authority)) return buildChallenge(cred, negotiate);
  negotiateFlags(negotiate);
  return issueRelayed(cred.authority, negotiate, signal);
}

async function issueRelayed(authority: Authority, negotiate: Buffer, signal: AbortSignal): Promise<IssuedChallenge> {
  let exchange: RelayExchange;
  try {
    exchange = await authority.relay!(negotiate, signal);
  } catch (err) {
    throw new AcceptError(SEC_E_NO_AUTHENTICATING_AUTHORITY, 'authority-error', describe(err));
  }
  let flags: number;
  let challengeToken: Buffer;
  try {
    challengeToken = Buffer.from(exchange.challenge);
    flags = decodeChallenge(challengeToken).flags;
  } catch (err) {
    abortRelay(exchange);
    throw new AcceptError(SEC_E_NO_AUTHENTICATING_AUTHORITY, 'authority-bad-challenge', describe(err));
  }
  if (signal.aborted) abortRelay(exchange);
  return { challengeToken, negotiateToken: negotiate, serverChallenge: Buffer.alloc(0), flags, sentAvPairs: new Map(), relay: exchange };
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** An authority's cleanup: whatever it throws stays here (a failure path never turns into a result). */
export function abortRelay(exchange: RelayExchange | undefined): void {
  try {
    exchange?.abort();
  } catch {
    // nothing to do: the exchange is dropped either way
  }
}

// ---- leg 3 ---------------------------------------------------------------------------------

/** fContextReq bits the client must make possible, and the NTLM flags each needs. */
function unmetRequirement(contextReq: number, negotiated: number): string | undefined {
  const sessionSecurity = (negotiated & F.NEGOTIATE_EXTENDED_SESSIONSECURITY) !== 0;
  if (contextReq & (ASC_REQ_INTEGRITY | ASC_REQ_REPLAY_DETECT | ASC_REQ_SEQUENCE_DETECT) && !(sessionSecurity && negotiated & F.NEGOTIATE_SIGN)) return 'integrity-not-offered';
  if (contextReq & ASC_REQ_CONFIDENTIALITY && !(sessionSecurity && negotiated & F.NEGOTIATE_SEAL)) return 'confidentiality-not-offered';
  return undefined;
}

function identity(auth: AuthenticateMessage): Pick<AcceptOutcome, 'user' | 'domain'> {
  return { user: auth.user, domain: auth.domain };
}

/** A verdict as the authority gave it, or 'unavailable' when it is not one (never trust its shape). */
const VERDICT_RESULTS: ReadonlySet<unknown> = new Set(['ok', 'denied', 'unavailable']);
function wellFormed(verdict: AuthorityVerdict): AuthorityVerdict {
  if (!verdict || typeof verdict !== 'object' || !VERDICT_RESULTS.has(verdict.result)) return { result: 'unavailable', detail: 'malformed verdict' };
  return verdict;
}

function thrown(err: unknown): AuthorityVerdict {
  return { result: 'unavailable', detail: err instanceof Error ? err.message : String(err) };
}

async function askAuthority(run: () => Promise<AuthorityVerdict>): Promise<AuthorityVerdict> {
  try {
    return wellFormed(await run());
  } catch (err) {
    return thrown(err);
  }
}

/** Non-ok verdicts as outcomes (identical for verifier and relay authorities). */
function refusal(verdict: Exclude<AuthorityVerdict, { result: 'ok' }>, auth: AuthenticateMessage): AcceptOutcome {
  if (verdict.result === 'unavailable') return { status: SEC_E_NO_AUTHENTICATING_AUTHORITY, reason: 'authority-unavailable', ...identity(auth) };
  return denied(verdict.detail === 'ntlmv1-refused' ? 'ntlmv1-refused' : verdict.reason, { denyReason: verdict.reason, user: verdict.user ?? auth.user, domain: verdict.domain ?? auth.domain });
}

function checkBindings(params: LegParams, blobPairs: AvPair[] | undefined): boolean {
  if (!params.channelBindings) return true;
  const sent = blobPairs?.find((p) => p.id === AvId.MsvAvChannelBindings)?.value;
  if (!sent || constantTimeEqual(sent, Z16)) return false;
  return constantTimeEqual(sent, params.channelBindings);
}

/** The AUTHENTICATE decoded and past the checks every authority shares. */
interface Screened {
  auth: AuthenticateMessage;
  negotiated: number;
  v1: boolean;
  blobPairs: AvPair[] | undefined;
  /** The v2 blob's timestamp (FILETIME). */
  blobTime: bigint | undefined;
}

/** What a verifier authority is asked, with what settling its verdict needs. */
interface PendingCheck extends Screened {
  check: ResponseCheck;
  micAnnounced: boolean;
}

function isOutcome(x: AcceptOutcome | Screened): x is AcceptOutcome {
  return (x as AcceptOutcome).status !== undefined;
}

/** Retire the challenge, decode, refuse anonymous / v1 / unmet fContextReq, parse the v2 blob. */
function screen(cred: CredentialState, token: Buffer, issued: IssuedChallenge, params: LegParams): AcceptOutcome | Screened {
  // Single use: whatever happens next, this challenge never verifies again.
  retireChallenge(cred, issued);
  checkSize(token);
  let auth: AuthenticateMessage;
  try {
    // Strings in the character set our CHALLENGE chose, not the message's own flag (as Samba).
    auth = decodeAuthenticate(token, { unicode: (issued.flags & F.NEGOTIATE_UNICODE) !== 0 });
  } catch (err) {
    throw invalidToken(err);
  }
  const negotiated = (auth.flags & (issued.flags | F.NEGOTIATE_ANONYMOUS | F.NEGOTIATE_IDENTIFY)) >>> 0;
  // Anonymous never authenticates anyone (no guest) [MS-NLMP 3.2.5.1.2]: no user, or no response.
  if (auth.flags & F.NEGOTIATE_ANONYMOUS || auth.user.length === 0) return denied('anonymous', identity(auth));
  if (auth.ntResponse.length === 0) {
    // A named user with only an LM / LMv2 response (24 bytes): a real attempt, in a refused form.
    return denied(auth.lmResponse.length === 24 ? 'lm-only-refused' : 'anonymous', identity(auth));
  }
  const v1 = auth.ntResponse.length === 24;
  if (v1 && !cred.allowNtlmV1) return denied('ntlmv1-refused', identity(auth));
  const unmet = unmetRequirement(params.contextReq, negotiated);
  if (unmet) return denied(unmet, identity(auth));

  let blobPairs: AvPair[] | undefined;
  let blobTime: bigint | undefined;
  if (!v1) {
    try {
      const parsed = parseNtlmV2Response(auth.ntResponse);
      blobPairs = parsed.avPairs;
      blobTime = parsed.timestamp;
    } catch (err) {
      throw invalidToken(err);
    }
  }
  return { auth, negotiated, v1, blobPairs, blobTime };
}

/** The verifier-only checks (our AV pairs, clock skew, MIC presence), then what to ask. */
function screenForVerifier(cred: CredentialState, s: Screened, issued: IssuedChallenge, params: LegParams): AcceptOutcome | PendingCheck {
  const { auth, blobPairs, v1 } = s;
  // Every AV pair we sent must come back unchanged in the client's blob (as Samba).
  if (blobPairs) {
    for (const [id, value] of issued.sentAvPairs) {
      const back = blobPairs.find((p) => p.id === id);
      if (!back || !back.value.equals(value)) return denied('av-pairs-altered', identity(auth));
    }
    if (cred.policy.maxClockSkewMs !== undefined && s.blobTime !== undefined) {
      const skew = Math.abs(Number((s.blobTime - FILETIME_UNIX_EPOCH) / TICKS_PER_MS) - nowMs(cred));
      if (skew > cred.policy.maxClockSkewMs) return denied('clock-skew', identity(auth));
    }
  }
  const micAnnounced = ((blobPairs?.find((p) => p.id === AvId.MsvAvFlags)?.value.readUInt32LE(0) ?? 0) & MsvAvFlag.MIC_PRESENT) !== 0;
  if ((micAnnounced || cred.policy.requireMic) && !auth.mic) return denied('mic-missing', identity(auth));
  if (v1 && params.channelBindings) return { status: SEC_E_BAD_BINDINGS, reason: 'bindings-missing', ...identity(auth) };
  if (!cred.authority.verify) return { status: SEC_E_NO_AUTHENTICATING_AUTHORITY, reason: 'authority-cannot-verify', ...identity(auth) };
  const check: ResponseCheck = {
    user: auth.user,
    domain: auth.domain,
    workstation: auth.workstation,
    serverChallenge: issued.serverChallenge,
    ntResponse: auth.ntResponse,
    lmResponse: auth.lmResponse,
  };
  return { ...s, check, micAnnounced };
}

/** SEC_E_OK with the established session (identical for verifier and relay authorities). */
function accepted(verdict: Extract<AuthorityVerdict, { result: 'ok' }>, auth: AuthenticateMessage, flags: number, exportedSessionKey: Buffer | undefined): AcceptOutcome {
  return {
    status: SEC_E_OK,
    reason: 'ok',
    user: verdict.user,
    domain: verdict.domain,
    session: { user: verdict.user, domain: verdict.domain, workstation: auth.workstation, flags, exportedSessionKey, account: verdict.account },
  };
}

/** The verifier's verdict -> outcome: keys [MS-NLMP 3.2.5.1.2, 3.4.5.1], MIC, channel bindings. */
function settle(cred: CredentialState, p: PendingCheck, issued: IssuedChallenge, params: LegParams, verdict: AuthorityVerdict): AcceptOutcome {
  const { auth, negotiated, v1, blobPairs, micAnnounced } = p;
  if (verdict.result !== 'ok') return refusal(verdict, auth);
  // v2 KeyExchangeKey = SessionBaseKey; NTLM2-session v1 mixes in both challenges.
  let exportedSessionKey: Buffer | undefined;
  if (verdict.sessionBaseKey?.length === 16) {
    const kxkey = v1 && negotiated & F.NEGOTIATE_EXTENDED_SESSIONSECURITY && auth.lmResponse.length >= 8 ? hmacMd5(verdict.sessionBaseKey, issued.serverChallenge, auth.lmResponse.subarray(0, 8)) : verdict.sessionBaseKey;
    if (negotiated & F.NEGOTIATE_KEY_EXCH) {
      try {
        exportedSessionKey = keyExchange(kxkey, auth.encryptedRandomSessionKey);
      } catch (err) {
        throw invalidToken(err);
      }
    } else exportedSessionKey = kxkey;
  }
  if (auth.mic && (micAnnounced || cred.policy.requireMic)) {
    if (!exportedSessionKey) return denied('mic-unverifiable', { user: verdict.user, domain: verdict.domain });
    const expected = computeMic(exportedSessionKey, issued.negotiateToken, issued.challengeToken, auth.raw, auth.micOffset);
    if (!constantTimeEqual(expected, auth.mic)) return denied('bad-mic', { user: verdict.user, domain: verdict.domain });
  }
  if (!checkBindings(params, blobPairs)) return { status: SEC_E_BAD_BINDINGS, reason: 'bad-bindings', user: verdict.user, domain: verdict.domain };
  if (params.contextReq & NEEDS_SESSION_KEY && !exportedSessionKey) {
    return denied('session-key-unavailable', { user: verdict.user, domain: verdict.domain });
  }
  return accepted(verdict, auth, negotiated, exportedSessionKey);
}

/**
 * Leg 3 without waiting, when the authority can answer synchronously (Authority.verifySync):
 * the outcome, or undefined when only verifyAuthenticate (the authority asked) can decide.
 * Throws AcceptError on a malformed AUTHENTICATE, like verifyAuthenticate.
 */
export function verifyAuthenticateNow(cred: CredentialState, token: Buffer, issued: IssuedChallenge, params: LegParams): AcceptOutcome | undefined {
  const authority = cred.authority;
  if (issued.relay || typeof authority.verifySync !== 'function') return undefined;
  const s = screen(cred, token, issued, params);
  if (isOutcome(s)) return s;
  const p = screenForVerifier(cred, s, issued, params);
  if (isOutcome(p)) return p;
  let verdict: AuthorityVerdict | undefined;
  try {
    verdict = authority.verifySync(p.check);
  } catch (err) {
    verdict = thrown(err);
  }
  if (verdict === undefined) return undefined;
  return settle(cred, p, issued, params, wellFormed(verdict));
}

export async function verifyAuthenticate(cred: CredentialState, token: Buffer, issued: IssuedChallenge, params: LegParams, signal: AbortSignal): Promise<AcceptOutcome> {
  const s = screen(cred, token, issued, params);
  if (isOutcome(s)) return s;
  if (issued.relay) return verifyRelayed(token, s.auth, issued, params, s.blobPairs, signal);
  const p = screenForVerifier(cred, s, issued, params);
  if (isOutcome(p)) return p;
  const authority = cred.authority;
  return settle(cred, p, issued, params, await askAuthority(() => authority.verify!(p.check, signal)));
}

async function verifyRelayed(token: Buffer, auth: AuthenticateMessage, issued: IssuedChallenge, params: LegParams, blobPairs: AvPair[] | undefined, signal: AbortSignal): Promise<AcceptOutcome> {
  if (params.contextReq & NEEDS_SESSION_KEY) {
    abortRelay(issued.relay);
    return denied('session-key-unavailable', identity(auth));
  }
  if (params.channelBindings && !blobPairs) {
    abortRelay(issued.relay);
    return { status: SEC_E_BAD_BINDINGS, reason: 'bindings-missing', ...identity(auth) };
  }
  const relay = issued.relay!;
  const verdict = await askAuthority(() => relay.authenticate(token, signal));
  if (verdict.result !== 'ok') return refusal(verdict, auth);
  // The DC checked NTProofStr (so the blob is authentic) and the MIC; the bindings are ours to check.
  if (!checkBindings(params, blobPairs)) return { status: SEC_E_BAD_BINDINGS, reason: 'bad-bindings', user: verdict.user, domain: verdict.domain };
  return accepted(verdict, auth, negotiated(auth, issued), undefined);
}

function negotiated(auth: AuthenticateMessage, issued: IssuedChallenge): number {
  return (auth.flags & issued.flags) >>> 0;
}
