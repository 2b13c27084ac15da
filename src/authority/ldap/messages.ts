/**
 * LDAP messages rasgate sends and understands (RFC 4511 section 4): bind (simple and SASL),
 * search, extended (StartTLS), unbind. Pure encode/decode over ber.ts.
 */
import { Ber, type BerElement, type BerLimits, boolean, childrenOf, constructed, decode, element, expectTag, integer, octets, readInteger } from './ber.js';
import { Ctx, ExtTag, FilterTag, Op, Scope } from './constants.js';
import { LdapProtocolError } from './errors.js';

// ---- requests ----

export interface SaslBind {
  mechanism: string;
  credentials?: Buffer;
}

/** BindRequest v3: simple (password) or SASL. */
export function bindRequest(messageId: number, name: string, auth: { simple: Buffer | string } | { sasl: SaslBind }): Buffer {
  const authentication =
    'simple' in auth
      ? octets(auth.simple, Ctx.AuthSimple)
      : constructed(Ctx.AuthSasl, octets(auth.sasl.mechanism), ...(auth.sasl.credentials ? [octets(auth.sasl.credentials)] : []));
  return envelope(messageId, constructed(Op.BindRequest, integer(3), octets(name), authentication));
}

export function unbindRequest(messageId: number): Buffer {
  return envelope(messageId, element(Op.UnbindRequest, Buffer.alloc(0)));
}

export function extendedRequest(messageId: number, oid: string, value?: Buffer): Buffer {
  return envelope(
    messageId,
    constructed(Op.ExtendedRequest, octets(oid, ExtTag.RequestName), ...(value ? [octets(value, ExtTag.RequestValue)] : [])),
  );
}

/** The filters we need; values are escaped by construction (they are BER octets, not text). */
export type Filter =
  | { and: Filter[] }
  | { or: Filter[] }
  | { not: Filter }
  | { equal: [attribute: string, value: string | Buffer] }
  | { present: string }
  | { extensible: { rule: string; attribute: string; value: string; dnAttributes?: boolean } };

export function encodeFilter(f: Filter): Buffer {
  if ('and' in f) return constructed(FilterTag.And, ...f.and.map(encodeFilter));
  if ('or' in f) return constructed(FilterTag.Or, ...f.or.map(encodeFilter));
  if ('not' in f) return constructed(FilterTag.Not, encodeFilter(f.not));
  if ('equal' in f) return constructed(FilterTag.EqualityMatch, octets(f.equal[0]), octets(f.equal[1]));
  if ('present' in f) return octets(f.present, FilterTag.Present);
  const x = f.extensible;
  return constructed(
    FilterTag.ExtensibleMatch,
    octets(x.rule, FilterTag.MatchingRule),
    octets(x.attribute, FilterTag.MatchingType),
    octets(x.value, FilterTag.MatchValue),
    ...(x.dnAttributes ? [boolean(true, FilterTag.DnAttributes)] : []),
  );
}

export interface SearchOptions {
  base: string;
  scope: Scope;
  filter: Filter;
  attributes: string[];
  /** Default 0 (server limit). */
  sizeLimit?: number;
  /** Seconds; default 0 (server limit). */
  timeLimit?: number;
}

export function searchRequest(messageId: number, s: SearchOptions): Buffer {
  return envelope(
    messageId,
    constructed(
      Op.SearchRequest,
      octets(s.base),
      integer(s.scope, Ber.Enumerated),
      integer(0, Ber.Enumerated), // derefAliases: neverDerefAliases
      integer(s.sizeLimit ?? 0),
      integer(s.timeLimit ?? 0),
      boolean(false),
      encodeFilter(s.filter),
      constructed(Ber.Sequence, ...s.attributes.map((a) => octets(a))),
    ),
  );
}

function envelope(messageId: number, op: Buffer): Buffer {
  return constructed(Ber.Sequence, integer(messageId), op);
}

// ---- responses ----

export interface LdapResult {
  resultCode: number;
  matchedDN: string;
  diagnosticMessage: string;
}

export type LdapResponse =
  | { type: 'bindResponse'; messageId: number; result: LdapResult; serverSaslCreds?: Buffer }
  | { type: 'searchEntry'; messageId: number; objectName: string; attributes: Map<string, Buffer[]> }
  | { type: 'searchReference'; messageId: number }
  | { type: 'searchDone'; messageId: number; result: LdapResult }
  | { type: 'extendedResponse'; messageId: number; result: LdapResult; name?: string; value?: Buffer };

/** Decode one complete LDAPMessage (as split off by the framer). Throws LdapProtocolError. */
export function decodeResponse(bytes: Buffer, limits?: BerLimits): LdapResponse {
  const msg = expectTag(decode(bytes, limits), Ber.Sequence, 'LDAPMessage');
  const [idEl, opEl] = childrenOf(msg, 'LDAPMessage');
  const messageId = readInteger(expectTag(idEl, Ber.Integer, 'messageID'), 'messageID');
  if (messageId < 0) throw new LdapProtocolError('LDAP_BAD_MESSAGE', `negative messageID ${messageId}`);
  if (!opEl) throw new LdapProtocolError('LDAP_BAD_MESSAGE', 'protocolOp is missing');
  switch (opEl.tag) {
    case Op.BindResponse: {
      const parts = childrenOf(opEl, 'BindResponse');
      const result = readResult(parts, 'BindResponse');
      const creds = parts.find((p) => p.tag === Ctx.ServerSaslCreds);
      return { type: 'bindResponse', messageId, result, ...(creds ? { serverSaslCreds: Buffer.from(creds.value) } : {}) };
    }
    case Op.SearchResultEntry: {
      const [nameEl, attrsEl] = childrenOf(opEl, 'SearchResultEntry');
      const objectName = text(expectTag(nameEl, Ber.OctetString, 'objectName'));
      const attributes = new Map<string, Buffer[]>();
      for (const a of childrenOf(expectTag(attrsEl, Ber.Sequence, 'attributes'), 'attributes')) {
        const [typeEl, valsEl] = childrenOf(expectTag(a, Ber.Sequence, 'PartialAttribute'), 'PartialAttribute');
        const type = text(expectTag(typeEl, Ber.OctetString, 'attribute type'));
        const vals = childrenOf(expectTag(valsEl, Ber.Set, 'vals'), 'vals').map((v) => Buffer.from(expectTag(v, Ber.OctetString, 'value').value));
        attributes.set(type.toLowerCase(), vals);
      }
      return { type: 'searchEntry', messageId, objectName, attributes };
    }
    case Op.SearchResultReference:
      return { type: 'searchReference', messageId };
    case Op.SearchResultDone:
      return { type: 'searchDone', messageId, result: readResult(childrenOf(opEl, 'SearchResultDone'), 'SearchResultDone') };
    case Op.ExtendedResponse: {
      const parts = childrenOf(opEl, 'ExtendedResponse');
      const result = readResult(parts, 'ExtendedResponse');
      const name = parts.find((p) => p.tag === Ctx.ExtResponseName);
      const value = parts.find((p) => p.tag === Ctx.ExtResponseValue);
      return {
        type: 'extendedResponse',
        messageId,
        result,
        ...(name ? { name: text(name) } : {}),
        ...(value ? { value: Buffer.from(value.value) } : {}),
      };
    }
    default:
      throw new LdapProtocolError('LDAP_BAD_TAG', `unexpected protocolOp 0x${opEl.tag.toString(16)}`);
  }
}

function readResult(parts: BerElement[], what: string): LdapResult {
  const [code, matched, diag] = parts;
  const resultCode = readInteger(expectTag(code, Ber.Enumerated, `${what}.resultCode`), `${what}.resultCode`);
  return {
    resultCode,
    matchedDN: text(expectTag(matched, Ber.OctetString, `${what}.matchedDN`)),
    diagnosticMessage: text(expectTag(diag, Ber.OctetString, `${what}.diagnosticMessage`)),
  };
}

function text(el: BerElement): string {
  return el.value.toString('utf8');
}

