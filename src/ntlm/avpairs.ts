/**
 * AV_PAIR lists [MS-NLMP 2.2.2.1]: AvId u16, AvLen u16, Value; terminated by MsvAvEOL.
 * Used in the CHALLENGE's TargetInfo and inside the client's NTLMv2 blob.
 */
import { AvId, avIdName } from './constants.js';
import { NtlmTokenError, NtlmTokenErrorCode } from './errors.js';

export interface AvPair {
  id: number;
  /** The raw value bytes (a view into the decoded buffer). */
  value: Buffer;
}

/** Ids whose value is a UTF-16LE string [MS-NLMP 2.2.2.1]. */
const STRING_IDS = new Set<number>([
  AvId.MsvAvNbComputerName,
  AvId.MsvAvNbDomainName,
  AvId.MsvAvDnsComputerName,
  AvId.MsvAvDnsDomainName,
  AvId.MsvAvDnsTreeName,
  AvId.MsvAvTargetName,
]);

/** Fixed value sizes [MS-NLMP 2.2.2.1]. */
const FIXED_SIZES: Record<number, number> = {
  [AvId.MsvAvFlags]: 4,
  [AvId.MsvAvTimestamp]: 8,
  [AvId.MsvAvChannelBindings]: 16,
};

export interface DecodedAvPairs {
  /** The pairs before MsvAvEOL (EOL itself not included). */
  pairs: AvPair[];
  /** Offset just past MsvAvEOL, relative to the start of the input. */
  end: number;
}

/**
 * Decode strictly: every pair fits, string values have even length, fixed-size values have
 * their size, and the list ends with a zero-length MsvAvEOL. Bytes after EOL are ignored (the
 * client blob carries padding there). `base` only shifts offsets in error messages.
 */
export function decodeAvPairsWithEnd(buf: Buffer, base = 0): DecodedAvPairs {
  const pairs: AvPair[] = [];
  let pos = 0;
  for (;;) {
    if (pos + 4 > buf.length) {
      throw new NtlmTokenError(NtlmTokenErrorCode.BAD_AVPAIRS, pos === buf.length ? 'AV pairs end without MsvAvEOL' : 'AV pair header truncated', base + pos);
    }
    const id = buf.readUInt16LE(pos);
    const len = buf.readUInt16LE(pos + 2);
    if (pos + 4 + len > buf.length) {
      throw new NtlmTokenError(NtlmTokenErrorCode.BAD_AVPAIRS, `${avIdName(id)} value (${len} bytes) runs past the AV pair list`, base + pos);
    }
    if (id === AvId.MsvAvEOL) {
      if (len !== 0) throw new NtlmTokenError(NtlmTokenErrorCode.BAD_AVPAIRS, `MsvAvEOL with length ${len}`, base + pos);
      return { pairs, end: pos + 4 };
    }
    const fixed = FIXED_SIZES[id];
    if (fixed !== undefined && len !== fixed) {
      throw new NtlmTokenError(NtlmTokenErrorCode.BAD_AVPAIRS, `${avIdName(id)} must be ${fixed} bytes, not ${len}`, base + pos);
    }
    if (STRING_IDS.has(id) && len % 2 !== 0) {
      throw new NtlmTokenError(NtlmTokenErrorCode.BAD_AVPAIRS, `${avIdName(id)} is a Unicode string with odd length ${len}`, base + pos);
    }
    pairs.push({ id, value: buf.subarray(pos + 4, pos + 4 + len) });
    pos += 4 + len;
  }
}

/** Decode an AV pair list (see decodeAvPairsWithEnd). */
export function decodeAvPairs(buf: Buffer): AvPair[] {
  return decodeAvPairsWithEnd(buf).pairs;
}

/** Encode pairs and append MsvAvEOL (any EOL in `pairs` is skipped). */
export function encodeAvPairs(pairs: readonly AvPair[]): Buffer {
  const parts: Buffer[] = [];
  for (const p of pairs) {
    if (p.id === AvId.MsvAvEOL) continue;
    const head = Buffer.alloc(4);
    head.writeUInt16LE(p.id, 0);
    head.writeUInt16LE(p.value.length, 2);
    parts.push(head, p.value);
  }
  parts.push(Buffer.alloc(4));
  return Buffer.concat(parts);
}

export function findAvPair(pairs: readonly AvPair[], id: number): AvPair | undefined {
  return pairs.find((p) => p.id === id);
}

/** A string-valued pair (UTF-16LE), or undefined when absent. */
export function avString(pairs: readonly AvPair[], id: number): string | undefined {
  const p = findAvPair(pairs, id);
  return p ? p.value.toString('utf16le') : undefined;
}

/** MsvAvTimestamp as a FILETIME (100 ns ticks since 1601-01-01 UTC), or undefined. */
export function avTimestamp(pairs: readonly AvPair[]): bigint | undefined {
  const p = findAvPair(pairs, AvId.MsvAvTimestamp);
  return p && p.value.length === 8 ? p.value.readBigUInt64LE(0) : undefined;
}

/** MsvAvFlags, or undefined when absent. */
export function avFlags(pairs: readonly AvPair[]): number | undefined {
  const p = findAvPair(pairs, AvId.MsvAvFlags);
  return p && p.value.length === 4 ? p.value.readUInt32LE(0) : undefined;
}

export function stringPair(id: number, s: string): AvPair {
  return { id, value: Buffer.from(s, 'utf16le') };
}

export function timestampPair(filetime: bigint): AvPair {
  const value = Buffer.alloc(8);
  value.writeBigUInt64LE(filetime);
  return { id: AvId.MsvAvTimestamp, value };
}

export function flagsPair(flags: number): AvPair {
  const value = Buffer.alloc(4);
  value.writeUInt32LE(flags >>> 0);
  return { id: AvId.MsvAvFlags, value };
}

/** FILETIME epoch offset: 1601-01-01 to 1970-01-01 in 100 ns ticks [MS-DTYP 2.3.3]. */
const FILETIME_UNIX_EPOCH = 116444736000000000n;

export function dateToFiletime(date: Date): bigint {
  return BigInt(date.getTime()) * 10000n + FILETIME_UNIX_EPOCH;
}

export function filetimeToDate(filetime: bigint): Date {
  return new Date(Number((filetime - FILETIME_UNIX_EPOCH) / 10000n));
}
