/**
 * Splits a TCP/TLS byte stream into whole LDAPMessages (each a definite-length SEQUENCE,
 * RFC 4511 section 5.1) across arbitrary read boundaries. Keeps partial state; pure.
 */
import { Ber, readHeader } from './ber.js';
import { LdapProtocolError } from './errors.js';

export class LdapFramer {
  private pending: Buffer = Buffer.alloc(0);

  /** @param maxMessage largest message accepted, in bytes (default 1 MiB). */
  constructor(private readonly maxMessage = 1 << 20) {}

  /** Add bytes; return every message now complete. Throws LdapProtocolError on a bad header. */
  feed(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Buffer[] = [];
    let at = 0;
    for (;;) {
      if (this.pending.length - at >= 1 && this.pending[at] !== Ber.Sequence)
        throw new LdapProtocolError('LDAP_BAD_TAG', `LDAPMessage must start with SEQUENCE, got 0x${this.pending[at]!.toString(16)}`);
      const h = readHeader(this.pending, at, this.maxMessage);
      if (!h || this.pending.length - at < h.headerLength + h.length) break;
      out.push(Buffer.from(this.pending.subarray(at, at + h.headerLength + h.length)));
      at += h.headerLength + h.length;
    }
    this.pending = at === this.pending.length ? Buffer.alloc(0) : this.pending.subarray(at);
    return out;
  }

  /** Bytes held waiting for the rest of a message. */
  get buffered(): number {
    return this.pending.length;
  }
}
