/**
 * Just enough SPNEGO (RFC 4178) DER to carry NTLM tokens in SMB2 SESSION_SETUP: the initial
 * NegTokenInit with one mech (NTLMSSP) and its token, NegTokenResp both ways, and the
 * MechTypeList bytes that the mechListMIC covers. Test tooling, not product code.
 */

/** 1.3.6.1.5.5.2 (RFC 4178 section 4.1). */
const SPNEGO_OID = Buffer.from('2b0601050502', 'hex');
/** 1.3.6.1.4.1.311.2.2.10 (MS-NLMP 1.9: NTLMSSP). */
export const NTLMSSP_OID = Buffer.from('2b06010401823702020a', 'hex');

/** NegState (RFC 4178 section 4.2.2). */
export const NegState = { acceptCompleted: 0, acceptIncomplete: 1, reject: 2, requestMic: 3 } as const;

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n < 0x100) return Buffer.from([0x81, n]);
  if (n < 0x10000) return Buffer.from([0x82, n >> 8, n & 0xff]);
  throw new RangeError('DER value too long for this helper');
}

function tlv(tag: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(value.length), value]);
}

/** DER of MechTypeList = SEQUENCE OF OID, with NTLMSSP only: what mechListMIC signs. */
export function ntlmMechTypeList(): Buffer {
  return tlv(0x30, tlv(0x06, NTLMSSP_OID));
}

/** GSS InitialContextToken wrapping NegTokenInit { mechTypes [NTLMSSP], mechToken }. */
export function negTokenInit(mechToken: Buffer): Buffer {
  const body = tlv(0x30, Buffer.concat([tlv(0xa0, ntlmMechTypeList()), tlv(0xa2, tlv(0x04, mechToken))]));
  return tlv(0x60, Buffer.concat([tlv(0x06, SPNEGO_OID), tlv(0xa0, body)]));
}

/** NegTokenResp from the initiator: the next mech token and, on the last leg, mechListMIC. */
export function negTokenRespOut(responseToken: Buffer, mechListMic?: Buffer): Buffer {
  const parts = [tlv(0xa2, tlv(0x04, responseToken))];
  if (mechListMic) parts.push(tlv(0xa3, tlv(0x04, mechListMic)));
  return tlv(0xa1, tlv(0x30, Buffer.concat(parts)));
}

export interface NegTokenResp {
  negState?: number;
  supportedMech?: Buffer;
  responseToken?: Buffer;
  mechListMic?: Buffer;
}

interface Tlv {
  tag: number;
  value: Buffer;
  end: number;
}

function readTlv(buf: Buffer, at: number): Tlv {
  if (at + 2 > buf.length) throw new Error('SPNEGO: truncated TLV');
  const tag = buf[at]!;
  let len = buf[at + 1]!;
  let p = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3 || p + n > buf.length) throw new Error('SPNEGO: bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = (len << 8) | buf[p + i]!;
    p += n;
  }
  if (p + len > buf.length) throw new Error('SPNEGO: TLV runs past the buffer');
  return { tag, value: buf.subarray(p, p + len), end: p + len };
}

function children(value: Buffer): Tlv[] {
  const out: Tlv[] = [];
  for (let at = 0; at < value.length; ) {
    const t = readTlv(value, at);
    out.push(t);
    at = t.end;
  }
  return out;
}

/** Parse the acceptor's NegTokenResp ([1] SEQUENCE { [0] negState, [1] mech, [2] token, [3] mic }). */
export function parseNegTokenResp(token: Buffer): NegTokenResp {
  const outer = readTlv(token, 0);
  if (outer.tag !== 0xa1) throw new Error(`SPNEGO: expected NegTokenResp [1], got tag 0x${outer.tag.toString(16)}`);
  const seq = readTlv(outer.value, 0);
  if (seq.tag !== 0x30) throw new Error('SPNEGO: NegTokenResp is not a SEQUENCE');
  const out: NegTokenResp = {};
  for (const field of children(seq.value)) {
    const inner = readTlv(field.value, 0);
    if (field.tag === 0xa0 && inner.tag === 0x0a) out.negState = inner.value[0];
    else if (field.tag === 0xa1 && inner.tag === 0x06) out.supportedMech = Buffer.from(inner.value);
    else if (field.tag === 0xa2 && inner.tag === 0x04) out.responseToken = Buffer.from(inner.value);
    else if (field.tag === 0xa3 && inner.tag === 0x04) out.mechListMic = Buffer.from(inner.value);
  }
  return out;
}
