/**
 * ntlm-decode: every src/ntlm decoder on random and mutated tokens (NEGOTIATE, CHALLENGE,
 * AUTHENTICATE from our client, impacket and python3-ntlm-auth; AV pair lists; NTLMv2 blobs).
 * Invariants: only NtlmTokenError escapes, and never its NTLM_MALFORMED code (that one wraps an
 * unexpected exception: a decoder bug); every decoded field is a view inside the input;
 * decode(encode(decode(x))) gives the same fields back.
 */
import { isDeepStrictEqual } from 'node:util';
import { decodeAuthenticate, decodeChallenge, decodeMessage, decodeNegotiate, encodeAuthenticate, encodeChallenge, encodeNegotiate, type Version } from '../../../src/ntlm/messages.js';
import { decodeAvPairsWithEnd, encodeAvPairs } from '../../../src/ntlm/avpairs.js';
import { parseNtlmV2Response } from '../../../src/ntlm/ntlmv2.js';
import { describeToken, formatToken } from '../../../src/ntlm/decode.js';
import { Layout, MessageType, NTLMSSP_SIGNATURE } from '../../../src/ntlm/constants.js';
import { NtlmTokenError, NtlmTokenErrorCode } from '../../../src/ntlm/errors.js';
import { invariant, type FuzzTarget, type NumericField, type Rand } from '../engine.js';

/** Security buffer descriptors (Len u16, MaxLen u16, Offset u32) by message type [MS-NLMP 2.2.1]. */
const DESCRIPTORS: Record<number, number[]> = { 1: [16, 24], 2: [12, 40], 3: [12, 20, 28, 36, 44, 52] };

/** AvLen fields of an AV pair list starting at `start` (walked leniently, as far as it goes). */
function avLenFields(buf: Buffer, start: number, end: number): NumericField[] {
  const out: NumericField[] = [];
  for (let at = start; at + 4 <= end && out.length < 64; ) {
    out.push({ at: at + 2, width: 2 }, { at, width: 2 });
    const len = buf.readUInt16LE(at + 2);
    if (buf.readUInt16LE(at) === 0) break;
    at += 4 + len;
  }
  return out;
}

/** Length and offset fields of an NTLM token, the AV pairs in a CHALLENGE and in an NTLMv2 blob. */
export function ntlmFields(buf: Buffer): NumericField[] {
  if (buf.length < 12) return [];
  const type = buf.readUInt32LE(8);
  const out: NumericField[] = [{ at: 8, width: 4 }, { at: type === 3 ? 60 : type === 2 ? 20 : 12, width: 4 }];
  for (const at of DESCRIPTORS[type] ?? []) {
    if (at + 8 > buf.length) continue;
    out.push({ at, width: 2 }, { at: at + 2, width: 2 }, { at: at + 4, width: 4 });
  }
  if (type === 2 && buf.length >= 48) {
    const len = buf.readUInt16LE(40);
    const off = buf.readUInt32LE(44);
    if (off + len <= buf.length) out.push(...avLenFields(buf, off, off + len));
  }
  if (type === 3 && buf.length >= 64) {
    const len = buf.readUInt16LE(20);
    const off = buf.readUInt32LE(24);
    if (len > 44 && off + len <= buf.length) out.push(...avLenFields(buf, off + 16 + Layout.NTLMV2_BLOB_FIXED, off + len));
  }
  return out;
}

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};

export const NTLM_DICTIONARY: readonly Buffer[] = [
  NTLMSSP_SIGNATURE,
  Buffer.concat([NTLMSSP_SIGNATURE, u32(1)]),
  Buffer.concat([NTLMSSP_SIGNATURE, u32(2)]),
  Buffer.concat([NTLMSSP_SIGNATURE, u32(3)]),
  Buffer.from([0, 0, 0, 0]), // MsvAvEOL
  Buffer.from([1, 1, 0, 0, 0, 0, 0, 0]), // NTLMv2 blob header
  Buffer.from([6, 0, 4, 0, 2, 0, 0, 0]), // MsvAvFlags = MIC present
  Buffer.from([7, 0, 8, 0]), // MsvAvTimestamp header
  Buffer.from([10, 0, 16, 0]), // MsvAvChannelBindings header
  Buffer.from([0xff, 0xff, 0xff, 0xff]),
  Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]),
  Buffer.from('a\0l\0i\0c\0e\0'),
  Buffer.from([0x0a, 0x00, 0x61, 0x4a, 0x00, 0x00, 0x00, 0x0f]), // Version
  Buffer.from([0x00, 0xd8]), // a lone UTF-16 surrogate
];

/** A random token: a valid header over random fields most of the time. */
export function randomNtlmToken(rand: Rand): Buffer {
  const type = rand.range(1, 3);
  const fixed = type === 1 ? (rand.chance(0.5) ? 40 : 32) : type === 2 ? (rand.chance(0.5) ? 56 : 48) : rand.pick([64, 72, 88]);
  const head = Buffer.alloc(fixed);
  if (rand.chance(0.9)) NTLMSSP_SIGNATURE.copy(head);
  head.writeUInt32LE(rand.chance(0.95) ? type : rand.u32(), 8);
  const payload = rand.bytes(rand.size(600));
  const total = fixed + payload.length;
  for (const at of DESCRIPTORS[type]!) {
    if (at + 8 > fixed) continue;
    const len = rand.int(Math.max(1, payload.length + 1));
    head.writeUInt16LE(len, at);
    head.writeUInt16LE(rand.chance(0.8) ? len : rand.int(0x10000), at + 2);
    head.writeUInt32LE(rand.chance(0.8) ? fixed + rand.int(Math.max(1, total - fixed - len + 1)) : rand.u32(), at + 4);
  }
  const flagsAt = type === 3 ? 60 : type === 2 ? 20 : 12;
  if (flagsAt + 4 <= fixed) head.writeUInt32LE(rand.u32(), flagsAt);
  return Buffer.concat([head, payload]);
}

/** Every Buffer a decoded message holds must be a view inside the input (no read past it). */
function inside(input: Buffer, b: Buffer | undefined, what: string): void {
  if (b === undefined || b.length === 0) return;
  invariant(b.buffer === input.buffer && b.byteOffset >= input.byteOffset && b.byteOffset + b.length <= input.byteOffset + input.length, `${what} is not a view inside the input`);
}

const versionOf = (v: Version | undefined) => v && { major: v.major, minor: v.minor, build: v.build, revision: v.revision };

function expectOnly(err: unknown, what: string): void {
  invariant(err instanceof NtlmTokenError, `${what} threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  invariant(err.code !== NtlmTokenErrorCode.MALFORMED, `${what} hit an unexpected exception (wrapped as NTLM_MALFORMED): ${err.message}`);
}

function attempt<T>(what: string, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    expectOnly(err, what);
    return undefined;
  }
}

function checkNegotiate(input: Buffer): void {
  const m = attempt('decodeNegotiate', () => decodeNegotiate(input));
  if (!m) return;
  const again = decodeNegotiate(encodeNegotiate({ flags: m.flags, domain: m.domain, workstation: m.workstation, version: m.version }));
  invariant(again.flags === m.flags, 'NEGOTIATE flags do not round trip');
  invariant((again.domain ?? '') === (m.domain ?? '') && (again.workstation ?? '') === (m.workstation ?? ''), 'NEGOTIATE names do not round trip');
  invariant(isDeepStrictEqual(versionOf(again.version), versionOf(m.version)), 'NEGOTIATE Version does not round trip');
}

function checkChallenge(input: Buffer): void {
  const m = attempt('decodeChallenge', () => decodeChallenge(input));
  if (!m) return;
  inside(input, m.serverChallenge, 'ServerChallenge');
  inside(input, m.targetInfo.raw, 'TargetInfo');
  for (const p of m.targetInfo.pairs) inside(input, p.value, 'an AV pair value');
  const again = decodeChallenge(encodeChallenge({ flags: m.flags, serverChallenge: m.serverChallenge, targetName: m.targetName, targetInfo: m.targetInfo.raw, version: m.version }));
  invariant(again.flags === m.flags && again.serverChallenge.equals(m.serverChallenge), 'CHALLENGE flags or ServerChallenge do not round trip');
  invariant(again.targetName === m.targetName, 'CHALLENGE TargetName does not round trip');
  invariant(again.targetInfo.raw.equals(m.targetInfo.raw), 'CHALLENGE TargetInfo does not round trip');
  invariant(isDeepStrictEqual(versionOf(again.version), versionOf(m.version)), 'CHALLENGE Version does not round trip');
}

function checkAuthenticate(input: Buffer): void {
  const m = attempt('decodeAuthenticate', () => decodeAuthenticate(input));
  if (!m) return;
  for (const [what, b] of [['LmChallengeResponse', m.lmResponse], ['NtChallengeResponse', m.ntResponse], ['EncryptedRandomSessionKey', m.encryptedRandomSessionKey], ['MIC', m.mic]] as const) inside(input, b, what);
  if (m.mic) invariant(m.micOffset === Layout.MIC_OFFSET && m.mic.length === Layout.MIC_LENGTH, 'MIC slot is not 16 bytes at 72');
  const again = decodeAuthenticate(encodeAuthenticate(m)); // a decoded message is its own field set
  invariant(again.flags === m.flags && again.unicode === m.unicode, 'AUTHENTICATE flags do not round trip');
  invariant(again.user === m.user && again.domain === m.domain && again.workstation === m.workstation, 'AUTHENTICATE names do not round trip');
  invariant(again.lmResponse.equals(m.lmResponse) && again.ntResponse.equals(m.ntResponse) && again.encryptedRandomSessionKey.equals(m.encryptedRandomSessionKey), 'AUTHENTICATE responses do not round trip');
  invariant(isDeepStrictEqual(versionOf(again.version), versionOf(m.version)) && Boolean(again.mic?.equals(m.mic ?? Buffer.alloc(0))) === Boolean(m.mic), 'AUTHENTICATE Version / MIC do not round trip');
  if (m.ntResponse.length > 24) checkBlob(input, m.ntResponse);
}

function checkBlob(input: Buffer, nt: Buffer): void {
  const r = attempt('parseNtlmV2Response', () => parseNtlmV2Response(nt));
  if (!r) return;
  inside(input, r.ntProofStr, 'NTProofStr');
  inside(input, r.blob, 'the NTLMv2 blob');
  for (const p of r.avPairs) inside(input, p.value, 'a blob AV pair value');
}

function checkAvPairs(input: Buffer): void {
  const r = attempt('decodeAvPairs', () => decodeAvPairsWithEnd(input));
  if (!r) return;
  invariant(r.end <= input.length, 'AV pair list end past the input');
  for (const p of r.pairs) inside(input, p.value, 'an AV pair value');
  const again = decodeAvPairsWithEnd(encodeAvPairs(r.pairs));
  invariant(isDeepStrictEqual(again.pairs.map((p) => [p.id, p.value.toString('hex')]), r.pairs.map((p) => [p.id, p.value.toString('hex')])), 'AV pairs do not round trip');
}

/** What every NTLM target mutates with: the dictionary, the size limit, the length/offset fields. */
export const NTLM_MUTATION = { dictionary: NTLM_DICTIONARY, maxInput: Layout.MAX_TOKEN + 16, numericFields: ntlmFields } as const;

export const ntlmDecode: FuzzTarget = {
  name: 'ntlm-decode',
  invariant: 'only NtlmTokenError (never NTLM_MALFORMED); decoded fields are views inside the input; decode(encode(x)) round trips',
  ...NTLM_MUTATION,
  generate(rand) {
    const r = rand.int(10);
    if (r < 7) return randomNtlmToken(rand);
    if (r < 9) return rand.bytes(rand.size(300));
    return Buffer.alloc(Layout.MAX_TOKEN + rand.int(3)); // at the size limit
  },
  run(input) {
    const type = attempt('decodeMessage', () => decodeMessage(input))?.type;
    checkNegotiate(input);
    checkChallenge(input);
    checkAuthenticate(input);
    checkAvPairs(input);
    checkBlob(input, input);
    invariant(type === undefined || [MessageType.NEGOTIATE, MessageType.CHALLENGE, MessageType.AUTHENTICATE].includes(type), 'decodeMessage returned an unknown type');
    const d = describeToken(input); // never throws
    invariant(d.valid || d.error.code !== NtlmTokenErrorCode.MALFORMED, `describeToken hit an unexpected exception: ${d.valid ? '' : d.error.message}`);
    invariant(d.valid === (type !== undefined), 'describeToken disagrees with decodeMessage');
    invariant(typeof formatToken(input) === 'string', 'formatToken did not return text');
  },
};
