/**
 * The BER subset LDAP uses (RFC 4511 section 5.1, X.690): definite lengths only, low-tag-number
 * form only, bounded size and depth. Pure: bytes in, element tree out, and back.
 */
import { LdapProtocolError } from './errors.js';

/** Universal tags we write or read (X.690 section 8). */
export const enum Ber {
  Boolean = 0x01,
  Integer = 0x02,
  OctetString = 0x04,
  Null = 0x05,
  Enumerated = 0x0a,
  Sequence = 0x30,
  Set = 0x31,
}

/** One decoded element. `value` is a view of the content octets (no copy). */
export interface BerElement {
  /** The identifier octet as on the wire: class (2 bits) | constructed (0x20) | number (5 bits). */
  tag: number;
  value: Buffer;
  /** Decoded children when the element is constructed. */
  children?: BerElement[];
}

export interface BerLimits {
  /** Largest element accepted, in bytes. Default 1 MiB. */
  maxLength?: number;
  /** Deepest nesting accepted. Default 32. */
  maxDepth?: number;
}

const DEFAULT_MAX_LENGTH = 1 << 20;
const DEFAULT_MAX_DEPTH = 32;

export interface BerHeader {
  tag: number;
  headerLength: number;
  length: number;
}

/**
 * Read the identifier and length octets at `offset`. Returns undefined when `buf` does not
 * yet hold the whole header (for incremental framing); throws on malformed headers.
 */
export function readHeader(buf: Buffer, offset: number, maxLength = DEFAULT_MAX_LENGTH): BerHeader | undefined {
  if (buf.length - offset < 2) return undefined;
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new LdapProtocolError('LDAP_BAD_TAG', `high-tag-number form 0x${tag.toString(16)} is not used by LDAP`);
  const first = buf[offset + 1]!;
  if (first < 0x80) {
    if (first > maxLength) throw new LdapProtocolError('LDAP_TOO_LARGE', `element of ${first} bytes exceeds the ${maxLength}-byte bound`);
    return { tag, headerLength: 2, length: first };
  }
  if (first === 0x80) throw new LdapProtocolError('LDAP_INDEFINITE', 'indefinite length is not allowed in LDAP');
  const n = first & 0x7f;
  if (n > 4) throw new LdapProtocolError('LDAP_BAD_LENGTH', `${n} length octets`);
  if (buf.length - offset < 2 + n) return undefined;
  let length = 0;
  for (let i = 0; i < n; i++) length = length * 256 + buf[offset + 2 + i]!;
  if (length > maxLength) throw new LdapProtocolError('LDAP_TOO_LARGE', `element of ${length} bytes exceeds the ${maxLength}-byte bound`);
  return { tag, headerLength: 2 + n, length };
}

/** Decode exactly one element filling `buf` (constructed elements recursively). */
export function decode(buf: Buffer, limits: BerLimits = {}): BerElement {
  const maxLength = limits.maxLength ?? DEFAULT_MAX_LENGTH;
  const maxDepth = limits.maxDepth ?? DEFAULT_MAX_DEPTH;
  const [el, end] = decodeAt(buf, 0, buf.length, maxLength, maxDepth, 0);
  if (end !== buf.length) throw new LdapProtocolError('LDAP_BAD_LENGTH', `${buf.length - end} trailing bytes after the element`);
  return el;
}

function decodeAt(buf: Buffer, offset: number, limit: number, maxLength: number, maxDepth: number, depth: number): [BerElement, number] {
  if (depth > maxDepth) throw new LdapProtocolError('LDAP_TOO_DEEP', `nesting deeper than ${maxDepth}`);
  const h = readHeader(buf.subarray(0, limit), offset, maxLength);
  if (!h) throw new LdapProtocolError('LDAP_TRUNCATED', `element header at ${offset} runs past the end`);
  const start = offset + h.headerLength;
  const end = start + h.length;
  if (end > limit) throw new LdapProtocolError('LDAP_TRUNCATED', `element at ${offset} claims ${h.length} bytes, ${limit - start} left`);
  const el: BerElement = { tag: h.tag, value: buf.subarray(start, end) };
  if (h.tag & 0x20) {
    el.children = [];
    let at = start;
    while (at < end) {
      const [child, next] = decodeAt(buf, at, end, maxLength, maxDepth, depth + 1);
      el.children.push(child);
      at = next;
    }
  }
  return [el, end];
}

// ---- readers of primitive values ----

export function readInteger(el: BerElement, what: string): number {
  const v = el.value;
  if (v.length < 1 || v.length > 6) throw new LdapProtocolError('LDAP_BAD_INTEGER', `${what}: ${v.length}-byte integer`);
  return v.readIntBE(0, v.length);
}

export function expectTag(el: BerElement | undefined, tag: number, what: string): BerElement {
  if (!el) throw new LdapProtocolError('LDAP_BAD_MESSAGE', `${what} is missing`);
  if (el.tag !== tag) throw new LdapProtocolError('LDAP_BAD_TAG', `${what}: tag 0x${el.tag.toString(16)}, expected 0x${tag.toString(16)}`);
  return el;
}

export function childrenOf(el: BerElement, what: string): BerElement[] {
  if (!el.children) throw new LdapProtocolError('LDAP_BAD_TAG', `${what} must be constructed`);
  return el.children;
}

// ---- writers ----

function lengthOctets(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One TLV element. */
export function element(tag: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), lengthOctets(value.length), value]);
}

/** A constructed element from already-encoded children. */
export function constructed(tag: number, ...children: Buffer[]): Buffer {
  return element(tag, Buffer.concat(children));
}

/** Two's-complement minimal INTEGER (or ENUMERATED with tag 0x0a). */
export function integer(n: number, tag: number = Ber.Integer): Buffer {
  if (!Number.isSafeInteger(n)) throw new RangeError(`integer ${n} is not safe`);
  const bytes: number[] = [];
  let v = n;
  do {
    bytes.unshift(v & 0xff);
    v = Math.floor(v / 256);
  } while (!(v === 0 && (bytes[0]! & 0x80) === 0) && !(v === -1 && (bytes[0]! & 0x80) !== 0));
  return element(tag, Buffer.from(bytes));
}

export function octets(value: Buffer | string, tag: number = Ber.OctetString): Buffer {
  return element(tag, typeof value === 'string' ? Buffer.from(value, 'utf8') : value);
}

export function boolean(b: boolean, tag: number = Ber.Boolean): Buffer {
  return element(tag, Buffer.from([b ? 0xff : 0x00]));
}
