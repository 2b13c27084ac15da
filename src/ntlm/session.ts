/**
 * NTLM session security with extended session security [MS-NLMP 3.4]: per-direction signing
 * and sealing keys, one RC4 keystream per direction shared by sign and seal (3.4.3-3.4.4), and
 * a sequence number per direction. Built from the ExportedSessionKey and the negotiated flags.
 */
import { KeyMagic, Layout, MESSAGE_SIGNATURE_VERSION, NegotiateFlags } from './constants.js';
import { constantTimeEqual, hmacMd5, md5 } from './crypto.js';
import { Rc4 } from './rc4.js';
import { NtlmSessionError, NtlmSessionErrorCode } from './errors.js';

export type SessionRole = 'client' | 'server';

/** SIGNKEY [MS-NLMP 3.4.5.2]. */
export function signKey(exportedSessionKey: Uint8Array, direction: 'client-to-server' | 'server-to-client'): Buffer {
  return md5(exportedSessionKey, direction === 'client-to-server' ? KeyMagic.CLIENT_SIGNING : KeyMagic.SERVER_SIGNING);
}

/** SEALKEY with extended session security [MS-NLMP 3.4.5.3]: 128, 56 or 40 bits of the key. */
export function sealKey(exportedSessionKey: Uint8Array, flags: number, direction: 'client-to-server' | 'server-to-client'): Buffer {
  const bytes = flags & NegotiateFlags.NEGOTIATE_128 ? 16 : flags & NegotiateFlags.NEGOTIATE_56 ? 7 : 5;
  return md5(exportedSessionKey.subarray(0, bytes), direction === 'client-to-server' ? KeyMagic.CLIENT_SEALING : KeyMagic.SERVER_SEALING);
}

interface Direction {
  signKey: Buffer;
  rc4: Rc4;
  seq: number;
}

/**
 * One established context's message protection. `sign`/`seal` use the outgoing direction
 * (client-to-server for a client), `verify`/`unseal` the incoming one. A failed verify leaves
 * the incoming keystream advanced, as on Windows: the context should then be dropped.
 */
export class NtlmSessionSecurity {
  readonly flags: number;
  private readonly out: Direction;
  private readonly in: Direction;

  constructor(exportedSessionKey: Uint8Array, negotiatedFlags: number, role: SessionRole) {
    if (exportedSessionKey.length !== 16) throw new RangeError('"exportedSessionKey" must be 16 bytes');
    if (!(negotiatedFlags & NegotiateFlags.NEGOTIATE_EXTENDED_SESSIONSECURITY)) {
      throw new NtlmSessionError(NtlmSessionErrorCode.UNSUPPORTED, 'session security without NEGOTIATE_EXTENDED_SESSIONSECURITY is not supported');
    }
    this.flags = negotiatedFlags >>> 0;
    const c2s = { signKey: signKey(exportedSessionKey, 'client-to-server'), rc4: new Rc4(sealKey(exportedSessionKey, negotiatedFlags, 'client-to-server')), seq: 0 };
    const s2c = { signKey: signKey(exportedSessionKey, 'server-to-client'), rc4: new Rc4(sealKey(exportedSessionKey, negotiatedFlags, 'server-to-client')), seq: 0 };
    this.out = role === 'client' ? c2s : s2c;
    this.in = role === 'client' ? s2c : c2s;
  }

  /** Next outgoing / expected incoming sequence numbers. */
  get sequence(): { outgoing: number; incoming: number } {
    return { outgoing: this.out.seq, incoming: this.in.seq };
  }

  /** MAC [MS-NLMP 3.4.4.2]: Version 1, Checksum (RC4'd with KEY_EXCH), SeqNum. Advances the keystream. */
  private mac(d: Direction, seq: number, msg: Uint8Array): Buffer {
    const seqBytes = Buffer.alloc(4);
    seqBytes.writeUInt32LE(seq >>> 0);
    let checksum = hmacMd5(d.signKey, seqBytes, msg).subarray(0, 8);
    if (this.flags & NegotiateFlags.NEGOTIATE_KEY_EXCH) checksum = d.rc4.update(checksum);
    const sig = Buffer.alloc(Layout.SIGNATURE_LENGTH);
    sig.writeUInt32LE(MESSAGE_SIGNATURE_VERSION, 0);
    checksum.copy(sig, 4);
    seqBytes.copy(sig, 12);
    return sig;
  }

  private check(d: Direction, msg: Uint8Array, signature: Uint8Array): void {
    const sig = Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength);
    if (sig.length !== Layout.SIGNATURE_LENGTH || sig.readUInt32LE(0) !== MESSAGE_SIGNATURE_VERSION) {
      throw new NtlmSessionError(NtlmSessionErrorCode.BAD_SIGNATURE, 'signature is not a 16-byte NTLMSSP_MESSAGE_SIGNATURE version 1');
    }
    const expected = this.mac(d, d.seq, msg);
    const seq = sig.readUInt32LE(12);
    if (seq !== d.seq) {
      throw new NtlmSessionError(NtlmSessionErrorCode.OUT_OF_SEQUENCE, `sequence number ${seq}, expected ${d.seq}`);
    }
    if (!constantTimeEqual(expected, sig)) {
      throw new NtlmSessionError(NtlmSessionErrorCode.MESSAGE_ALTERED, 'message signature does not match');
    }
    d.seq = (d.seq + 1) >>> 0;
  }

  private requireSeal(): void {
    if (!(this.flags & NegotiateFlags.NEGOTIATE_SEAL)) {
      throw new NtlmSessionError(NtlmSessionErrorCode.UNSUPPORTED, 'sealing was not negotiated (NEGOTIATE_SEAL)');
    }
  }

  /** GSS_GetMIC: a 16-byte signature over `msg` [MS-NLMP 3.4.3]. */
  sign(msg: Uint8Array): Buffer {
    const sig = this.mac(this.out, this.out.seq, msg);
    this.out.seq = (this.out.seq + 1) >>> 0;
    return sig;
  }

  /** GSS_VerifyMIC: throws NtlmSessionError (MESSAGE_ALTERED, OUT_OF_SEQUENCE, ...) on failure. */
  verify(msg: Uint8Array, signature: Uint8Array): void {
    this.check(this.in, msg, signature);
  }

  /** GSS_WrapEx: encrypt, then sign the plaintext with the same keystream [MS-NLMP 3.4.3]. */
  seal(msg: Uint8Array): { sealed: Buffer; signature: Buffer } {
    this.requireSeal();
    const sealed = this.out.rc4.update(msg);
    const signature = this.mac(this.out, this.out.seq, msg);
    this.out.seq = (this.out.seq + 1) >>> 0;
    return { sealed, signature };
  }

  /** GSS_UnwrapEx: decrypt and verify; throws NtlmSessionError on failure. */
  unseal(sealed: Uint8Array, signature: Uint8Array): Buffer {
    this.requireSeal();
    const plain = this.in.rc4.update(sealed);
    this.check(this.in, plain, signature);
    return plain;
  }
}
