/**
 * Bounds-checked little-endian reads that fail with NtlmTokenError (never a RangeError), and a
 * small writer for the encoders. NTLM fields are Len u16, MaxLen u16, Offset u32 [MS-NLMP 2.2].
 */
import { NtlmTokenError, NtlmTokenErrorCode } from './errors.js';

export function need(buf: Buffer, offset: number, length: number, what: string): void {
  if (offset + length > buf.length) {
    throw new NtlmTokenError(NtlmTokenErrorCode.TRUNCATED, `token ends before ${what} (${length} bytes needed, ${Math.max(0, buf.length - offset)} left)`, offset);
  }
}

export function u16(buf: Buffer, offset: number, what: string): number {
  need(buf, offset, 2, what);
  return buf.readUInt16LE(offset);
}

export function u32(buf: Buffer, offset: number, what: string): number {
  need(buf, offset, 4, what);
  return buf.readUInt32LE(offset);
}

/** A payload field descriptor as found in the fixed header. */
export interface FieldRef {
  /** Where the descriptor sits in the header. */
  at: number;
  length: number;
  maxLength: number;
  offset: number;
}

/** Read a Len/MaxLen/Offset descriptor and check that its payload lies within the token. */
export function fieldRef(buf: Buffer, at: number, what: string, headerEnd: number): FieldRef {
  need(buf, at, 8, `${what} field`);
  const length = buf.readUInt16LE(at);
  const maxLength = buf.readUInt16LE(at + 2);
  const offset = buf.readUInt32LE(at + 4);
  if (length > 0) {
    if (offset + length > buf.length) {
      throw new NtlmTokenError(NtlmTokenErrorCode.FIELD_OUT_OF_RANGE, `${what} (offset ${offset}, length ${length}) runs past the end of the ${buf.length}-byte token`, at);
    }
    if (offset < headerEnd) {
      throw new NtlmTokenError(NtlmTokenErrorCode.FIELD_OUT_OF_RANGE, `${what} (offset ${offset}) overlaps the fixed header (ends at ${headerEnd})`, at);
    }
  }
  return { at, length, maxLength, offset };
}

/** The bytes a descriptor points at (a view into `buf`, not a copy). Empty when length is 0. */
export function fieldBytes(buf: Buffer, ref: FieldRef): Buffer {
  return ref.length === 0 ? buf.subarray(0, 0) : buf.subarray(ref.offset, ref.offset + ref.length);
}

/** Decode a string field: UTF-16LE when `unicode`, else OEM (read as Latin-1: the code page is unknown). */
export function fieldString(buf: Buffer, ref: FieldRef, unicode: boolean, what: string): string {
  const bytes = fieldBytes(buf, ref);
  if (!unicode) return bytes.toString('latin1');
  if (bytes.length % 2 !== 0) {
    throw new NtlmTokenError(NtlmTokenErrorCode.BAD_STRING, `${what} is Unicode but has an odd length (${bytes.length})`, ref.at);
  }
  return bytes.toString('utf16le');
}

/** Encode a string as the message's character set. */
export function encodeString(s: string, unicode: boolean): Buffer {
  return Buffer.from(s, unicode ? 'utf16le' : 'latin1');
}

/**
 * Builds a message: a fixed header of `headerLength` bytes, then payloads appended in the
 * order `field()` is called, each one's descriptor written at `at`.
 */
export class MessageWriter {
  private readonly header: Buffer;
  private readonly payloads: Buffer[] = [];
  private cursor: number;

  constructor(headerLength: number) {
    this.header = Buffer.alloc(headerLength);
    this.cursor = headerLength;
  }

  get headerBuffer(): Buffer {
    return this.header;
  }

  field(at: number, data: Uint8Array): void {
    if (data.length > 0xffff) throw new RangeError(`field at ${at} is longer than 65535 bytes`);
    this.header.writeUInt16LE(data.length, at);
    this.header.writeUInt16LE(data.length, at + 2);
    this.header.writeUInt32LE(this.cursor, at + 4);
    if (data.length > 0) this.payloads.push(Buffer.from(data.buffer, data.byteOffset, data.length));
    this.cursor += data.length;
  }

  finish(): Buffer {
    return Buffer.concat([this.header, ...this.payloads]);
  }
}
