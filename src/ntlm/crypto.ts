/**
 * The NTLM crypto primitives: MD5 and HMAC-MD5 from node:crypto (OpenSSL 3 still allows them),
 * MD4/RC4 from our own modules, and the password hashes of [MS-NLMP 3.3.1, 3.3.2].
 */
import { createHash, createHmac, timingSafeEqual, randomBytes } from 'node:crypto';
import { md4 } from './md4.js';
import { windowsUppercase } from './upcase.js';

export { randomBytes };

/** UTF-16LE bytes of a string (NTLM "Unicode"). */
export function utf16le(s: string): Buffer {
  return Buffer.from(s, 'utf16le');
}

/** MD5 over the concatenation of `parts`. */
export function md5(...parts: Uint8Array[]): Buffer {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** HMAC-MD5 under `key` over the concatenation of `parts`. */
export function hmacMd5(key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const h = createHmac('md5', key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Constant-time equality; false (never a throw) when the lengths differ. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** NTOWFv1 = MD4(UNICODE(Password)) [MS-NLMP 3.3.1]: the NT hash. */
export function ntowfv1(password: string): Buffer {
  return md4(utf16le(password));
}

/**
 * The uppercase of NTOWFv2's user name as a DC computes it (Samba's toupper_m, whose table
 * mirrors Windows' RtlUpcaseUnicodeString): one UTF-16 unit at a time (see upcase.ts). Not
 * String.prototype.toUpperCase, which also maps e.g. U+0131 dotless i to 'I' and U+00DF to "SS".
 */
export function ntlmUppercase(s: string): string {
  return windowsUppercase(s);
}

/**
 * The full Unicode uppercase some clients use instead (impacket, python-ntlm-auth and
 * gss-ntlmssp: Python's str.upper() / full case mapping; may change the length). The acceptor
 * tries it second (verifyNtlmV2); our client never sends it.
 */
export function fullUnicodeUppercase(s: string): string {
  return s.toUpperCase();
}

/**
 * NTOWFv2 = HMAC_MD5(NT hash, UNICODE(Uppercase(User) + UserDom)) [MS-NLMP 3.3.2].
 * Only the user name is uppercased; the domain goes in as given (see verifyNtlmV2 for retries).
 */
export function ntowfv2(ntHash: Uint8Array, user: string, domain: string): Buffer {
  return hmacMd5(ntHash, utf16le(ntlmUppercase(user)), utf16le(domain));
}
