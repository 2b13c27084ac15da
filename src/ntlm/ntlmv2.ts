/**
 * NTLMv2 responses, their verification, the MIC and the key exchange [MS-NLMP 3.3.2, 3.1.5.1.2,
 * 3.2.5.1.2]. verifyNtlmV2 is the acceptor's hot path: it hashes the blob exactly as received
 * (never re-serialized: clients differ on a trailing Z(4)) and compares in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Layout } from './constants.js';
import { fullUnicodeUppercase, hmacMd5, md5, ntlmUppercase } from './crypto.js';
import { rc4 } from './rc4.js';
import { decodeAvPairsWithEnd, encodeAvPairs, type AvPair } from './avpairs.js';
import { decoding, NtlmTokenError, NtlmTokenErrorCode } from './errors.js';

export interface NtlmV2Response {
  /** First 16 bytes of the NtChallengeResponse. */
  ntProofStr: Buffer;
  /** The raw bytes after the first 16 (NTLMv2_CLIENT_CHALLENGE + whatever padding the client sent). */
  blob: Buffer;
  /** Blob TimeStamp (FILETIME). */
  timestamp: bigint;
  clientChallenge: Buffer;
  /** The blob's AV pairs before MsvAvEOL. */
  avPairs: AvPair[];
}

const BLOB_MIN = Layout.NTLMV2_BLOB_FIXED + 4; // fixed part + MsvAvEOL

/** Split and check an NTLMv2 NtChallengeResponse [MS-NLMP 2.2.2.7, 2.2.2.8]. */
export function parseNtlmV2Response(ntResponse: Uint8Array): NtlmV2Response {
  return decoding(() => {
    const nt = Buffer.isBuffer(ntResponse) ? ntResponse : Buffer.from(ntResponse.buffer, ntResponse.byteOffset, ntResponse.byteLength);
    if (nt.length === 24) throw new NtlmTokenError(NtlmTokenErrorCode.BAD_BLOB, 'NtChallengeResponse is 24 bytes: NTLMv1, not NTLMv2');
    if (nt.length < Layout.NTPROOFSTR_LENGTH + BLOB_MIN) {
      throw new NtlmTokenError(NtlmTokenErrorCode.BAD_BLOB, `NTLMv2 response is ${nt.length} bytes; at least ${Layout.NTPROOFSTR_LENGTH + BLOB_MIN} needed`);
    }
    const blob = nt.subarray(Layout.NTPROOFSTR_LENGTH);
    if (blob[0] !== 1 || blob[1] !== 1) {
      throw new NtlmTokenError(NtlmTokenErrorCode.BAD_BLOB, `NTLMv2 blob RespType/HiRespType are ${blob[0]}/${blob[1]}, not 1/1`, Layout.NTPROOFSTR_LENGTH);
    }
    const { pairs } = decodeAvPairsWithEnd(blob.subarray(Layout.NTLMV2_BLOB_FIXED), Layout.NTPROOFSTR_LENGTH + Layout.NTLMV2_BLOB_FIXED);
    return {
      ntProofStr: nt.subarray(0, Layout.NTPROOFSTR_LENGTH),
      blob,
      timestamp: blob.readBigUInt64LE(8),
      clientChallenge: blob.subarray(16, 24),
      avPairs: pairs,
    };
  });
}

export interface NtlmV2ResponseInput {
  /** ResponseKeyNT = NTOWFv2(password, user, domain). */
  responseKeyNT: Uint8Array;
  serverChallenge: Uint8Array;
  /** 8 bytes. */
  clientChallenge: Uint8Array;
  /** FILETIME. */
  timestamp: bigint;
  /** The AV pairs to put in the blob (EOL appended), or an encoded list ending in EOL. */
  targetInfo: readonly AvPair[] | Buffer;
}

export interface NtlmV2ResponseOutput {
  ntResponse: Buffer;
  ntProofStr: Buffer;
  blob: Buffer;
  sessionBaseKey: Buffer;
}

/** Client side: NtChallengeResponse = NTProofStr + temp [MS-NLMP 3.3.2]. */
export function computeNtlmV2Response(input: NtlmV2ResponseInput): NtlmV2ResponseOutput {
  const info = Buffer.isBuffer(input.targetInfo) ? input.targetInfo : encodeAvPairs(input.targetInfo as readonly AvPair[]);
  // temp = Responserversion 1, HiResponserversion 1, Z(6), Time, ClientChallenge, Z(4), ServerName, Z(4)
  const blob = Buffer.alloc(Layout.NTLMV2_BLOB_FIXED + info.length + 4);
  blob[0] = 1;
  blob[1] = 1;
  blob.writeBigUInt64LE(input.timestamp, 8);
  blob.set(input.clientChallenge, 16);
  info.copy(blob, Layout.NTLMV2_BLOB_FIXED);
  const ntProofStr = hmacMd5(input.responseKeyNT, input.serverChallenge, blob);
  return {
    ntResponse: Buffer.concat([ntProofStr, blob]),
    ntProofStr,
    blob,
    sessionBaseKey: hmacMd5(input.responseKeyNT, ntProofStr),
  };
}

/** LMv2 = HMAC_MD5(ResponseKeyLM, SC + CC) + CC [MS-NLMP 3.3.2]; ResponseKeyLM = ResponseKeyNT. */
export function lmv2Response(responseKeyLM: Uint8Array, serverChallenge: Uint8Array, clientChallenge: Uint8Array): Buffer {
  return Buffer.concat([hmacMd5(responseKeyLM, serverChallenge, clientChallenge), clientChallenge]);
}

export interface VerifyNtlmV2Input {
  /** The account's NT hash (NTOWFv1). */
  ntHash: Uint8Array;
  /** The user name as the client sent it. */
  user: string;
  /** The domain as the client sent it. */
  domain: string;
  serverChallenge: Uint8Array;
  /** The raw NtChallengeResponse from the AUTHENTICATE. */
  ntResponse: Uint8Array;
}

export type VerifyNtlmV2Result =
  | { ok: true; sessionBaseKey: Buffer; ntProofStr: Buffer; domainUsed: string }
  | { ok: false };

const FAILED: VerifyNtlmV2Result = Object.freeze({ ok: false });
const EMPTY_ONLY = [''];

/**
 * Check an NTLMv2 response against an NT hash. The user name is uppercased as a DC does
 * (Windows/Samba table, ntlmUppercase) and, only when it differs, also with the full Unicode
 * mapping that impacket, python-ntlm-auth and gss-ntlmssp use (fullUnicodeUppercase). Each
 * spelling is tried with the domain as sent, uppercased, then empty (as Samba's
 * ntlm_password_check does). Structural checks are minimal here (length and the 01 01 blob
 * header); parse the blob with parseNtlmV2Response for the AV pairs.
 */
export function verifyNtlmV2(input: VerifyNtlmV2Input): VerifyNtlmV2Result {
  const nt = input.ntResponse;
  if (nt.length < Layout.NTPROOFSTR_LENGTH + BLOB_MIN || nt[16] !== 1 || nt[17] !== 1) return FAILED;
  const proof = nt.subarray(0, Layout.NTPROOFSTR_LENGTH);
  const blob = nt.subarray(Layout.NTPROOFSTR_LENGTH);
  const domain = input.domain;
  const upper = ntlmUppercase(domain);
  const domains = domain === '' ? EMPTY_ONLY : upper === domain ? [domain, ''] : [domain, upper, ''];
  const user = ntlmUppercase(input.user);
  const hit = tryUserSpelling(input, user, domains, proof, blob);
  if (hit !== undefined) return hit;
  // ASCII names have one spelling: for them this costs one toUpperCase, on failures only.
  const full = fullUnicodeUppercase(input.user);
  return full === user ? FAILED : tryUserSpelling(input, full, domains, proof, blob) ?? FAILED;
}

function tryUserSpelling(input: VerifyNtlmV2Input, user: string, domains: readonly string[], proof: Uint8Array, blob: Uint8Array): VerifyNtlmV2Result | undefined {
  for (const candidate of domains) {
    // One UTF-16LE encoding of user + domain per try: NTOWFv2's input, no intermediate buffers.
    const k = createHmac('md5', input.ntHash).update(user + candidate, 'utf16le').digest();
    const expected = createHmac('md5', k).update(input.serverChallenge).update(blob).digest();
    if (timingSafeEqual(expected, proof)) {
      return { ok: true, sessionBaseKey: createHmac('md5', k).update(expected).digest(), ntProofStr: expected, domainUsed: candidate };
    }
  }
  return undefined;
}

/**
 * MIC = HMAC_MD5(ExportedSessionKey, NEGOTIATE + CHALLENGE + AUTHENTICATE with the 16 MIC bytes
 * zeroed) over the raw wire bytes [MS-NLMP 3.1.5.1.2, 3.2.5.1.2]. The AUTHENTICATE is not
 * modified (the zeroed slot is hashed from a constant instead of a copy).
 */
export function computeMic(exportedSessionKey: Uint8Array, negotiateRaw: Uint8Array, challengeRaw: Uint8Array, authenticateRaw: Uint8Array, micOffset: number = Layout.MIC_OFFSET): Buffer {
  if (authenticateRaw.length < micOffset + Layout.MIC_LENGTH) throw new RangeError('AUTHENTICATE has no MIC slot');
  return createHmac('md5', exportedSessionKey)
    .update(negotiateRaw)
    .update(challengeRaw)
    .update(authenticateRaw.subarray(0, micOffset))
    .update(ZERO_MIC)
    .update(authenticateRaw.subarray(micOffset + Layout.MIC_LENGTH))
    .digest();
}
const ZERO_MIC = Buffer.alloc(Layout.MIC_LENGTH);

/**
 * ExportedSessionKey = RC4(KeyExchangeKey, EncryptedRandomSessionKey) when KEY_EXCH was
 * negotiated [MS-NLMP 3.2.5.1.2]. For NTLMv2, KeyExchangeKey = SessionBaseKey.
 */
export function keyExchange(keyExchangeKey: Uint8Array, encryptedRandomSessionKey: Uint8Array): Buffer {
  if (encryptedRandomSessionKey.length !== 16) {
    throw new NtlmTokenError(NtlmTokenErrorCode.BAD_KEY, `EncryptedRandomSessionKey is ${encryptedRandomSessionKey.length} bytes, not 16`);
  }
  return rc4(keyExchangeKey, encryptedRandomSessionKey);
}

/**
 * The flat gss_channel_bindings_struct [RFC 2744 3.11; MS-NLMP 3.1.5.1.2 note]: initiator
 * addrtype and address, acceptor addrtype and address (all empty here, as every TLS binding
 * uses), then application data (e.g. "tls-server-end-point:" + certificate hash), each with a
 * u32 little-endian length.
 */
export function channelBindingsStruct(applicationData: Uint8Array): Buffer {
  const out = Buffer.alloc(20 + applicationData.length);
  out.writeUInt32LE(applicationData.length, 16);
  out.set(applicationData, 20);
  return out;
}

/** MsvAvChannelBindings value: MD5 of the gss_channel_bindings_struct built from application data. */
export function channelBindingsHash(applicationData: Uint8Array): Buffer {
  return md5(channelBindingsStruct(applicationData));
}
