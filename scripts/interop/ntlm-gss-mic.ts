/**
 * NTLM GSS_GetMIC with extended session security [MS-NLMP 3.4.4.2, 3.4.5.2, 3.4.5.3], written
 * here from the spec on purpose: the interop tests check the engine's exported session key
 * against Samba's SPNEGO mechListMIC with an implementation independent of src/ntlm/session.ts.
 * Only the first message of a fresh sealing handle is needed (mechListMIC, sequence 0).
 */
import { hmacMd5, md5 } from '../../src/ntlm/crypto.js';
import { KeyMagic, NegotiateFlags } from '../../src/ntlm/constants.js';
import { rc4 } from '../../src/ntlm/rc4.js';

export type Direction = 'client-to-server' | 'server-to-client';

/** SEALKEY [MS-NLMP 3.4.5.3]: 16, 7 or 5 bytes of the key per NEGOTIATE_128 / NEGOTIATE_56. */
function sealKey(exportedSessionKey: Buffer, flags: number, dir: Direction): Buffer {
  const n = flags & NegotiateFlags.NEGOTIATE_128 ? 16 : flags & NegotiateFlags.NEGOTIATE_56 ? 7 : 5;
  return md5(exportedSessionKey.subarray(0, n), dir === 'client-to-server' ? KeyMagic.CLIENT_SEALING : KeyMagic.SERVER_SEALING);
}

/** NTLMSSP_MESSAGE_SIGNATURE over `message` with sequence number `seq` on a fresh handle. */
export function ntlmGssMic(exportedSessionKey: Buffer, flags: number, dir: Direction, message: Buffer, seq = 0): Buffer {
  const signKey = md5(exportedSessionKey, dir === 'client-to-server' ? KeyMagic.CLIENT_SIGNING : KeyMagic.SERVER_SIGNING);
  const seqBytes = Buffer.alloc(4);
  seqBytes.writeUInt32LE(seq);
  let checksum = hmacMd5(signKey, seqBytes, message).subarray(0, 8);
  if (flags & NegotiateFlags.NEGOTIATE_KEY_EXCH) checksum = rc4(sealKey(exportedSessionKey, flags, dir), checksum);
  return Buffer.concat([Buffer.from([1, 0, 0, 0]), checksum, seqBytes]);
}
