/**
 * NEGOTIATE, CHALLENGE and AUTHENTICATE: decode and encode exactly as [MS-NLMP 2.2.1] lays
 * them out. Pure: bytes in, typed messages out, and back. Decoders throw only NtlmTokenError.
 *
 * Tolerant of what real clients send (16/32/40-byte NEGOTIATE, empty LM, OEM strings); strict
 * where it matters (every payload inside the token and outside the fixed header, even Unicode
 * lengths, 64 KiB cap). Whether an AUTHENTICATE has Version and MIC is decided by its lowest
 * payload offset, not by flags ([MS-NLMP 2.2.1.3] notes clients differ).
 */
import { Layout, MessageType, NegotiateFlags, NTLMSSP_SIGNATURE, NTLMSSP_REVISION_W2K3 } from './constants.js';
import { decoding, NtlmTokenError, NtlmTokenErrorCode } from './errors.js';
import { encodeString, fieldBytes, fieldRef, fieldString, MessageWriter, need, u32, type FieldRef } from './buffer.js';
import { decodeAvPairsWithEnd, encodeAvPairs, type AvPair } from './avpairs.js';

/** The VERSION structure [MS-NLMP 2.2.2.10]. */
export interface Version {
  major: number;
  minor: number;
  build: number;
  /** NTLMRevisionCurrent; 15 = NTLMSSP_REVISION_W2K3. */
  revision: number;
}

export interface NegotiateMessage {
  type: typeof MessageType.NEGOTIATE;
  /** The exact wire bytes (needed for the MIC). */
  raw: Buffer;
  flags: number;
  /** Only when OEM_DOMAIN_SUPPLIED is set (always OEM). */
  domain?: string;
  /** Only when OEM_WORKSTATION_SUPPLIED is set (always OEM). */
  workstation?: string;
  version?: Version;
}

export interface ChallengeMessage {
  type: typeof MessageType.CHALLENGE;
  raw: Buffer;
  flags: number;
  targetName: string;
  serverChallenge: Buffer;
  /** The TargetInfo field: exact bytes, and the pairs before MsvAvEOL. Empty when absent. */
  targetInfo: { raw: Buffer; pairs: AvPair[] };
  version?: Version;
}

export interface AuthenticateMessage {
  type: typeof MessageType.AUTHENTICATE;
  raw: Buffer;
  flags: number;
  /** Raw LmChallengeResponse (may be empty: treat as Z(24)). */
  lmResponse: Buffer;
  /** Raw NtChallengeResponse (NTLMv2: NTProofStr + blob; 24 bytes: NTLMv1). */
  ntResponse: Buffer;
  domain: string;
  user: string;
  workstation: string;
  encryptedRandomSessionKey: Buffer;
  /** Whether strings were decoded as Unicode (NEGOTIATE_UNICODE) or OEM. */
  unicode: boolean;
  version?: Version;
  /** The 16-byte MIC, present iff the lowest payload offset is >= 88. */
  mic?: Buffer;
  /** Where the MIC sits in `raw` (72) when present. */
  micOffset?: number;
}

export type NtlmMessage = NegotiateMessage | ChallengeMessage | AuthenticateMessage;

// ---- shared --------------------------------------------------------------------------------

function asBuffer(input: Uint8Array): Buffer {
  if (!(input instanceof Uint8Array)) throw new NtlmTokenError(NtlmTokenErrorCode.BAD_ENCODING, 'token is not bytes');
  return Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
}

function checkHeader(buf: Buffer, expected: number | undefined): number {
  if (buf.length > Layout.MAX_TOKEN) {
    throw new NtlmTokenError(NtlmTokenErrorCode.TOO_LARGE, `token is ${buf.length} bytes; the limit is ${Layout.MAX_TOKEN}`);
  }
  const sigLen = Math.min(buf.length, 8);
  if (!buf.subarray(0, sigLen).equals(NTLMSSP_SIGNATURE.subarray(0, sigLen))) {
    throw new NtlmTokenError(NtlmTokenErrorCode.BAD_SIGNATURE, 'token does not start with "NTLMSSP\\0"', 0);
  }
  const type = u32(buf, 8, 'MessageType');
  if (type !== MessageType.NEGOTIATE && type !== MessageType.CHALLENGE && type !== MessageType.AUTHENTICATE) {
    throw new NtlmTokenError(NtlmTokenErrorCode.BAD_TYPE, `unknown MessageType ${type}`, 8);
  }
  if (expected !== undefined && type !== expected) {
    throw new NtlmTokenError(NtlmTokenErrorCode.BAD_TYPE, `expected MessageType ${expected}, got ${type}`, 8);
  }
  return type;
}

function readVersion(buf: Buffer, at: number): Version {
  need(buf, at, Layout.VERSION_LENGTH, 'Version');
  return { major: buf[at]!, minor: buf[at + 1]!, build: buf.readUInt16LE(at + 2), revision: buf[at + 7]! };
}

function writeVersion(out: Buffer, at: number, v: Version): void {
  out[at] = v.major;
  out[at + 1] = v.minor;
  out.writeUInt16LE(v.build, at + 2);
  out[at + 7] = v.revision;
}

/** Lowest offset of the non-empty payloads; `fallback` when every field is empty. */
function lowestPayloadOffset(refs: FieldRef[], fallback: number): number {
  let lowest = Infinity;
  for (const r of refs) if (r.length > 0 && r.offset < lowest) lowest = r.offset;
  return lowest === Infinity ? fallback : lowest;
}

/** The type of a token (after checking its signature and size). */
export function messageType(input: Uint8Array): 1 | 2 | 3 {
  return decoding(() => checkHeader(asBuffer(input), undefined) as 1 | 2 | 3);
}

// ---- NEGOTIATE [MS-NLMP 2.2.1.1] -----------------------------------------------------------

export function decodeNegotiate(input: Uint8Array): NegotiateMessage {
  return decoding(() => {
    const buf = asBuffer(input);
    checkHeader(buf, MessageType.NEGOTIATE);
    const flags = u32(buf, 12, 'NegotiateFlags');
    const msg: NegotiateMessage = { type: MessageType.NEGOTIATE, raw: buf, flags };
    if (buf.length < Layout.NEGOTIATE_FIXED) return msg; // 16-byte form: flags only
    const refs: FieldRef[] = [];
    if (flags & NegotiateFlags.OEM_DOMAIN_SUPPLIED) {
      const ref = fieldRef(buf, 16, 'DomainName', Layout.NEGOTIATE_FIXED);
      msg.domain = fieldString(buf, ref, false, 'DomainName');
      refs.push(ref);
    }
    if (flags & NegotiateFlags.OEM_WORKSTATION_SUPPLIED) {
      const ref = fieldRef(buf, 24, 'WorkstationName', Layout.NEGOTIATE_FIXED);
      msg.workstation = fieldString(buf, ref, false, 'WorkstationName');
      refs.push(ref);
    }
    if (buf.length >= Layout.NEGOTIATE_WITH_VERSION && lowestPayloadOffset(refs, buf.length) >= Layout.NEGOTIATE_WITH_VERSION) {
      msg.version = readVersion(buf, Layout.NEGOTIATE_FIXED);
    }
    return msg;
  });
}

export interface NegotiateFields {
  flags: number;
  /** OEM domain; sets OEM_DOMAIN_SUPPLIED. */
  domain?: string;
  /** OEM workstation; sets OEM_WORKSTATION_SUPPLIED. */
  workstation?: string;
  /** When given, the 40-byte layout with Version (default: 32 bytes, no Version). */
  version?: Version;
}

export function encodeNegotiate(fields: NegotiateFields): Buffer {
  let flags = fields.flags >>> 0;
  if (fields.domain !== undefined) flags |= NegotiateFlags.OEM_DOMAIN_SUPPLIED;
  if (fields.workstation !== undefined) flags |= NegotiateFlags.OEM_WORKSTATION_SUPPLIED;
  const w = new MessageWriter(fields.version ? Layout.NEGOTIATE_WITH_VERSION : Layout.NEGOTIATE_FIXED);
  const h = w.headerBuffer;
  NTLMSSP_SIGNATURE.copy(h, 0);
  h.writeUInt32LE(MessageType.NEGOTIATE, 8);
  h.writeUInt32LE(flags >>> 0, 12);
  w.field(16, encodeString(fields.domain ?? '', false));
  w.field(24, encodeString(fields.workstation ?? '', false));
  if (fields.version) writeVersion(h, Layout.NEGOTIATE_FIXED, fields.version);
  return w.finish();
}

// ---- CHALLENGE [MS-NLMP 2.2.1.2] -----------------------------------------------------------

export function decodeChallenge(input: Uint8Array): ChallengeMessage {
  return decoding(() => {
    const buf = asBuffer(input);
    checkHeader(buf, MessageType.CHALLENGE);
    need(buf, 0, Layout.CHALLENGE_FIXED, 'the CHALLENGE header');
    const flags = buf.readUInt32LE(20);
    const unicode = (flags & NegotiateFlags.NEGOTIATE_UNICODE) !== 0;
    const nameRef = fieldRef(buf, 12, 'TargetName', Layout.CHALLENGE_FIXED);
    const infoRef = fieldRef(buf, 40, 'TargetInfo', Layout.CHALLENGE_FIXED);
    const infoRaw = fieldBytes(buf, infoRef);
    const pairs = infoRaw.length > 0 ? decodeAvPairsWithEnd(infoRaw, infoRef.offset).pairs : [];
    const msg: ChallengeMessage = {
      type: MessageType.CHALLENGE,
      raw: buf,
      flags,
      targetName: fieldString(buf, nameRef, unicode, 'TargetName'),
      serverChallenge: buf.subarray(24, 32),
      targetInfo: { raw: infoRaw, pairs },
    };
    if (buf.length >= Layout.CHALLENGE_WITH_VERSION && lowestPayloadOffset([nameRef, infoRef], buf.length) >= Layout.CHALLENGE_WITH_VERSION) {
      msg.version = readVersion(buf, Layout.CHALLENGE_FIXED);
    }
    return msg;
  });
}

export interface ChallengeFields {
  flags: number;
  /** 8 random bytes. */
  serverChallenge: Uint8Array;
  /** Encoded per NEGOTIATE_UNICODE in `flags` (default ''). */
  targetName?: string;
  /** Pairs (MsvAvEOL appended) or an already encoded list (used as is). Default: empty. */
  targetInfo?: readonly AvPair[] | Buffer;
  /** When given, the 56-byte layout with Version (default: 48 bytes, no Version). */
  version?: Version;
}

export function encodeChallenge(fields: ChallengeFields): Buffer {
  if (fields.serverChallenge.length !== 8) throw new RangeError('"serverChallenge" must be 8 bytes');
  const unicode = (fields.flags & NegotiateFlags.NEGOTIATE_UNICODE) !== 0;
  const w = new MessageWriter(fields.version ? Layout.CHALLENGE_WITH_VERSION : Layout.CHALLENGE_FIXED);
  const h = w.headerBuffer;
  NTLMSSP_SIGNATURE.copy(h, 0);
  h.writeUInt32LE(MessageType.CHALLENGE, 8);
  h.writeUInt32LE(fields.flags >>> 0, 20);
  h.set(fields.serverChallenge, 24);
  const info = fields.targetInfo === undefined ? Buffer.alloc(0) : Buffer.isBuffer(fields.targetInfo) ? fields.targetInfo : encodeAvPairs(fields.targetInfo as readonly AvPair[]);
  w.field(12, encodeString(fields.targetName ?? '', unicode));
  w.field(40, info);
  if (fields.version) writeVersion(h, Layout.CHALLENGE_FIXED, fields.version);
  return w.finish();
}

// ---- AUTHENTICATE [MS-NLMP 2.2.1.3] --------------------------------------------------------

export interface DecodeAuthenticateOptions {
  /**
   * Decode the strings as Unicode (true) or OEM (false) whatever the message's own flags say:
   * an acceptor passes the character set it chose in its CHALLENGE, as Samba does (some
   * clients, wget among them, set NEGOTIATE_UNICODE over OEM strings). Default: the message's
   * NEGOTIATE_UNICODE flag.
   */
  unicode?: boolean;
}

export function decodeAuthenticate(input: Uint8Array, options: DecodeAuthenticateOptions = {}): AuthenticateMessage {
  return decoding(() => {
    const buf = asBuffer(input);
    checkHeader(buf, MessageType.AUTHENTICATE);
    need(buf, 0, Layout.AUTHENTICATE_FIXED, 'the AUTHENTICATE header');
    const flags = buf.readUInt32LE(60);
    const unicode = options.unicode ?? (flags & NegotiateFlags.NEGOTIATE_UNICODE) !== 0;
    const end = Layout.AUTHENTICATE_FIXED;
    const lm = fieldRef(buf, 12, 'LmChallengeResponse', end);
    const nt = fieldRef(buf, 20, 'NtChallengeResponse', end);
    const dom = fieldRef(buf, 28, 'DomainName', end);
    const usr = fieldRef(buf, 36, 'UserName', end);
    const ws = fieldRef(buf, 44, 'Workstation', end);
    const key = fieldRef(buf, 52, 'EncryptedRandomSessionKey', end);
    const msg: AuthenticateMessage = {
      type: MessageType.AUTHENTICATE,
      raw: buf,
      flags,
      lmResponse: fieldBytes(buf, lm),
      ntResponse: fieldBytes(buf, nt),
      domain: fieldString(buf, dom, unicode, 'DomainName'),
      user: fieldString(buf, usr, unicode, 'UserName'),
      workstation: fieldString(buf, ws, unicode, 'Workstation'),
      encryptedRandomSessionKey: fieldBytes(buf, key),
      unicode,
    };
    const lowest = lowestPayloadOffset([lm, nt, dom, usr, ws, key], buf.length);
    if (lowest >= Layout.AUTHENTICATE_WITH_VERSION && buf.length >= Layout.AUTHENTICATE_WITH_VERSION) {
      msg.version = readVersion(buf, Layout.AUTHENTICATE_FIXED);
    }
    if (lowest >= Layout.AUTHENTICATE_WITH_MIC && buf.length >= Layout.AUTHENTICATE_WITH_MIC) {
      msg.mic = buf.subarray(Layout.MIC_OFFSET, Layout.MIC_OFFSET + Layout.MIC_LENGTH);
      msg.micOffset = Layout.MIC_OFFSET;
    }
    return msg;
  });
}

export interface AuthenticateFields {
  flags: number;
  lmResponse?: Uint8Array;
  ntResponse?: Uint8Array;
  domain?: string;
  user?: string;
  workstation?: string;
  encryptedRandomSessionKey?: Uint8Array;
  /** Written at 64 (72-byte header) when given; zeros when only `mic` is given. */
  version?: Version;
  /** 16 bytes at 72 (88-byte header). Pass Buffer.alloc(16) to reserve the slot for computeMic. */
  mic?: Uint8Array;
}

/** Encode; payload order is Domain, User, Workstation, Lm, Nt, EncryptedRandomSessionKey (as Windows). */
export function encodeAuthenticate(fields: AuthenticateFields): Buffer {
  const unicode = (fields.flags & NegotiateFlags.NEGOTIATE_UNICODE) !== 0;
  if (fields.mic && fields.mic.length !== Layout.MIC_LENGTH) throw new RangeError('"mic" must be 16 bytes');
  const headerLength = fields.mic ? Layout.AUTHENTICATE_WITH_MIC : fields.version ? Layout.AUTHENTICATE_WITH_VERSION : Layout.AUTHENTICATE_FIXED;
  const w = new MessageWriter(headerLength);
  const h = w.headerBuffer;
  NTLMSSP_SIGNATURE.copy(h, 0);
  h.writeUInt32LE(MessageType.AUTHENTICATE, 8);
  h.writeUInt32LE(fields.flags >>> 0, 60);
  w.field(28, encodeString(fields.domain ?? '', unicode));
  w.field(36, encodeString(fields.user ?? '', unicode));
  w.field(44, encodeString(fields.workstation ?? '', unicode));
  w.field(12, fields.lmResponse ?? Buffer.alloc(0));
  w.field(20, fields.ntResponse ?? Buffer.alloc(0));
  w.field(52, fields.encryptedRandomSessionKey ?? Buffer.alloc(0));
  if (fields.version) writeVersion(h, Layout.AUTHENTICATE_FIXED, fields.version);
  if (fields.mic) h.set(fields.mic, Layout.MIC_OFFSET);
  return w.finish();
}

// ---- any -----------------------------------------------------------------------------------

/** Decode any NTLM token; switch on `.type`. */
export function decodeMessage(input: Uint8Array): NtlmMessage {
  const type = messageType(input);
  if (type === MessageType.NEGOTIATE) return decodeNegotiate(input);
  if (type === MessageType.CHALLENGE) return decodeChallenge(input);
  return decodeAuthenticate(input);
}

/** The Version rasgate sends: 10.0 build 19041, NTLM revision 15 (what current Windows sends). */
export const RASGATE_VERSION: Version = { major: 10, minor: 0, build: 19041, revision: NTLMSSP_REVISION_W2K3 };

/** "10.0 build 19041 rev 15" */
export function formatVersion(v: Version): string {
  return `${v.major}.${v.minor} build ${v.build} rev ${v.revision}`;
}
