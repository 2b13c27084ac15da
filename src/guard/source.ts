/**
 * Who a caller is, as the penalties count it: the address of a TCP caller cut to its prefix
 * (IPv4 /32 and IPv6 /64 by default, as OpenSSH's PerSourcePenalties), the caller ID number of
 * a modem caller, or the one bucket every modem caller without caller ID shares. A source is a
 * short string a caller cannot make long: addresses come from the kernel, numbers are cut.
 */
import { BlockList, isIP } from 'node:net';
import { patternMatches } from '../options/patterns.js';
import { unmapIpv4 } from '../options/address.js';
import type { Caller } from '../serial/types.js';

export interface Source {
  /** The table key and what operators see: `192.0.2.7`, `2001:db8:1:2::/64`, `tel:5551234`, `tel:unknown`. */
  key: string;
  kind: 'address' | 'number' | 'unknown';
  /** What the allow-list is matched against: the full address or the number. */
  raw: string;
}

/** The bucket of modem callers without caller ID (none given, or 'P' private / 'O' unavailable). */
export const UNKNOWN_CALLER = 'tel:unknown';
/** Caller ID numbers longer than this are cut (the table key stays small). */
const MAX_NUMBER = 32;

/** The 16 bytes of an IPv6 address (undefined when it is not one). */
function ipv6Bytes(address: string): number[] | undefined {
  if (isIP(address) !== 6) return undefined;
  let text = address.split('%')[0]!;
  // An embedded IPv4 tail (::ffff:192.0.2.1) becomes two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) text = `${text.slice(0, v4.index)}${((+v4[1]! << 8) | +v4[2]!).toString(16)}:${((+v4[3]! << 8) | +v4[4]!).toString(16)}`;
  const [head, tail] = text.split('::') as [string, string | undefined];
  const groups = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

/** `address` cut to `bits`, as text: the address itself when nothing is cut, else `PREFIX/BITS`. */
export function maskAddress(address: string, ipv4Bits: number, ipv6Bits: number): string {
  const family = isIP(address);
  if (family === 4) {
    if (ipv4Bits >= 32) return address;
    const n = address.split('.').reduce((a, o) => (a << 8) | Number(o), 0) >>> 0;
    const masked = ipv4Bits === 0 ? 0 : (n & (~0 << (32 - ipv4Bits))) >>> 0;
    return `${[24, 16, 8, 0].map((s) => (masked >>> s) & 0xff).join('.')}/${ipv4Bits}`;
  }
  const bytes = ipv6Bytes(address);
  if (!bytes) return address.slice(0, 64);
  const cut = bytes.map((b, i) => (i * 8 >= ipv6Bits ? 0 : i * 8 + 8 <= ipv6Bits ? b : b & (0xff << (8 - (ipv6Bits - i * 8)))));
  const groups = Array.from({ length: 8 }, (_, i) => ((cut[2 * i]! << 8) | cut[2 * i + 1]!).toString(16));
  // The longest run of zero groups becomes '::' (RFC 5952 4.2).
  let best = [-1, 0];
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best[1]! && j - i > 1) best = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const text = best[0]! < 0 ? groups.join(':') : `${groups.slice(0, best[0]).join(':')}::${groups.slice(best[0]! + best[1]!).join(':')}`;
  return ipv6Bits >= 128 ? text : `${text}/${ipv6Bits}`;
}

/** The source of a caller. */
export function sourceOf(caller: Caller, ipv4Bits: number, ipv6Bits: number): Source {
  if (caller.kind === 'tcp') {
    const address = unmapIpv4(caller.address); // the console hands its socket's address as is
    return { key: maskAddress(address, ipv4Bits, ipv6Bits), kind: 'address', raw: address };
  }
  const number = (caller.number ?? '').replace(/[^0-9+*#]/g, '').slice(0, MAX_NUMBER);
  if (!number) return { key: UNKNOWN_CALLER, kind: 'unknown', raw: '' };
  return { key: `tel:${number}`, kind: 'number', raw: number };
}

/** The allow-list: addresses and prefixes in a BlockList, caller numbers as wildcard patterns. */
export class AllowList {
  private readonly addresses = new BlockList();
  private readonly numbers: string[] = [];

  constructor(entries: readonly string[]) {
    for (const e of entries) {
      const [addr, bits] = e.split('/');
      const family = addr ? isIP(addr) : 0;
      if (family === 0) this.numbers.push(e);
      else if (bits === undefined) this.addresses.addAddress(addr!, family === 4 ? 'ipv4' : 'ipv6');
      else this.addresses.addSubnet(addr!, Number(bits), family === 4 ? 'ipv4' : 'ipv6');
    }
  }

  has(source: Source): boolean {
    if (source.kind === 'address') {
      const family = isIP(source.raw);
      return family !== 0 && this.addresses.check(source.raw, family === 4 ? 'ipv4' : 'ipv6');
    }
    return source.kind === 'number' && this.numbers.some((p) => patternMatches(p, source.raw));
  }
}
