/**
 * ldap: the LDAP reply path of src/authority/ldap: LdapFramer (framing.ts) splitting a byte
 * stream into LDAPMessages, decodeResponse (messages.ts) and the BER decoder (ber.ts) under it.
 * Samples are replies built with the codec's own encoder and the test vectors.
 * Invariants: only LdapProtocolError escapes; the framer never holds more than its bound
 * (maxMessage plus a header); every message it yields is one whole SEQUENCE within the bound;
 * the same bytes in other chunks give the same messages; decode(encode(tree)) gives the tree.
 */
import { isDeepStrictEqual } from 'node:util';
import { Ber, constructed, decode, element, readHeader, type BerElement } from '../../../src/authority/ldap/ber.js';
import { LdapFramer } from '../../../src/authority/ldap/framing.js';
import { decodeResponse } from '../../../src/authority/ldap/messages.js';
import { LdapProtocolError } from '../../../src/authority/ldap/errors.js';
import { invariant, type FuzzTarget, type NumericField, type Rand } from '../engine.js';

/** Longest BER header: tag, 0x84, four length octets. */
const MAX_HEADER = 6;

function typed(err: unknown, what: string): string {
  invariant(err instanceof LdapProtocolError, `${what} threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  return err.code;
}

/** Re-encode a decoded tree canonically (minimal lengths). */
function encodeTree(el: BerElement): Buffer {
  return el.children ? constructed(el.tag, ...el.children.map(encodeTree)) : element(el.tag, el.value);
}

function shape(el: BerElement): unknown {
  return el.children ? [el.tag, el.children.map(shape)] : [el.tag, el.value.toString('hex')];
}

/** The framer over `chunks`: the messages, or the error code that ended the stream. */
function frame(chunks: Buffer[], maxMessage: number): { messages: Buffer[]; error?: string } {
  const f = new LdapFramer(maxMessage);
  const messages: Buffer[] = [];
  for (const c of chunks) {
    try {
      messages.push(...f.feed(c));
    } catch (err) {
      return { messages, error: typed(err, 'LdapFramer.feed') };
    }
    invariant(f.buffered <= maxMessage + MAX_HEADER, `the framer holds ${f.buffered} bytes (bound ${maxMessage} + header)`);
  }
  for (const m of messages) {
    invariant(m[0] === Ber.Sequence && m.length <= maxMessage + MAX_HEADER, `a framed message of ${m.length} bytes starting 0x${m[0]?.toString(16)}`);
    const h = readHeader(m, 0, maxMessage);
    invariant(h && h.headerLength + h.length === m.length, 'a framed message is not exactly one element');
  }
  return { messages };
}

function checkMessage(m: Buffer, plan: Rand): void {
  const limits = plan.pick([undefined, { maxDepth: 3 }, { maxLength: 64 }, { maxDepth: 0 }]);
  try {
    const r = decodeResponse(m, limits);
    invariant(Number.isSafeInteger(r.messageId) && r.messageId >= 0, `messageID ${r.messageId}`);
    if ('result' in r) invariant(Number.isSafeInteger(r.result.resultCode), `resultCode ${r.result.resultCode}`);
  } catch (err) {
    typed(err, 'decodeResponse');
  }
  let tree: BerElement;
  try {
    tree = decode(m, limits);
  } catch (err) {
    typed(err, 'ber.decode');
    return;
  }
  invariant(isDeepStrictEqual(shape(decode(encodeTree(tree))), shape(tree)), 'decode(encode(tree)) is not the tree');
}

/** Offsets of length octets (short form) for boundary mutation, walked leniently. */
function berLengths(buf: Buffer): NumericField[] {
  const out: NumericField[] = [];
  const walk = (at: number, end: number, depth: number) => {
    while (at + 2 <= end && out.length < 128 && depth < 16) {
      const tag = buf[at]!;
      const first = buf[at + 1]!;
      out.push({ at: at + 1, width: 1 });
      let len = first;
      let head = 2;
      if (first & 0x80) {
        const n = first & 0x7f;
        if (n > 4 || at + 2 + n > end) return;
        len = 0;
        for (let i = 0; i < n; i++) len = len * 256 + buf[at + 2 + i]!;
        if (n === 2) out.push({ at: at + 2, width: 2, bigEndian: true });
        if (n === 4) out.push({ at: at + 2, width: 4, bigEndian: true });
        head += n;
      }
      if (tag & 0x20) walk(at + head, Math.min(end, at + head + len), depth + 1);
      at += head + len;
    }
  };
  walk(0, buf.length, 0);
  return out;
}

/** Re-encode one length in another form: long form, too many octets, indefinite, huge. */
function rewriteLength(buf: Buffer, rand: Rand): Buffer | undefined {
  const fields = berLengths(buf).filter((f) => f.width === 1);
  if (!fields.length) return undefined;
  const { at } = rand.pick(fields);
  const first = buf[at]!;
  const n = first & 0x80 ? first & 0x7f : 0;
  const len = n === 0 ? first : buf.subarray(at + 1, at + 1 + n).reduce((a, b) => a * 256 + b, 0);
  const forms = [
    Buffer.from([0x81, len & 0xff]),
    Buffer.from([0x82, (len >> 8) & 0xff, len & 0xff]),
    Buffer.from([0x84, 0, 0, (len >> 8) & 0xff, len & 0xff]),
    Buffer.from([0x84, 0xff, 0xff, 0xff, 0xff]),
    Buffer.from([0x85, 0, 0, 0, 0, len & 0xff]),
    Buffer.from([0x80]),
    Buffer.from([rand.int(0x80)]),
    Buffer.from([0x83, 0x10, 0x00, 0x00]),
  ];
  return Buffer.concat([buf.subarray(0, at), rand.pick(forms), buf.subarray(at + 1 + n)]);
}

export const ldap: FuzzTarget = {
  name: 'ldap',
  invariant: 'only LdapProtocolError; framer holds at most maxMessage + header; framed messages whole; chunking does not change the messages; decode(encode(tree)) = tree',
  dictionary: [
    Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]),
    Buffer.from([0x30, 0x80]),
    Buffer.from([0x02, 0x01, 0x01]),
    Buffer.from([0x02, 0x07, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    Buffer.from([0x0a, 0x01, 0x31]), // resultCode 49
    Buffer.from([0x04, 0x00]),
    Buffer.from([0x61]), // BindResponse
    Buffer.from([0x64]), // SearchResultEntry
    Buffer.from([0x65]), // SearchResultDone
    Buffer.from([0x78]), // ExtendedResponse
    Buffer.from([0x87]), // serverSaslCreds
    Buffer.from([0x1f, 0x81, 0x01]), // high tag number
    Buffer.from('80090308: LdapErr: DSID-0C0904DC, comment: AcceptSecurityContext error, data 52e, v1db1'),
  ],
  maxInput: 128 * 1024,
  numericFields: berLengths,
  mutateStructure: rewriteLength,
  generate(rand) {
    // Random nested TLVs, now and then with lying lengths.
    const build = (depth: number): Buffer => {
      if (depth > 6 || rand.chance(0.4)) return element(rand.pick([0x02, 0x04, 0x0a, 0x01, 0x87, rand.int(0x1f)]), rand.bytes(rand.size(40)));
      const kids = Array.from({ length: rand.size(5) }, () => build(depth + 1));
      return constructed(rand.pick([0x30, 0x31, 0x61, 0x64, 0x65, 0x78, 0xa3, rand.int(256) | 0x20]), ...kids);
    };
    const stream = Buffer.concat(Array.from({ length: 1 + rand.size(4) }, () => constructed(Ber.Sequence, element(0x02, Buffer.from([rand.int(128)])), build(1))));
    return rand.chance(0.3) ? (rewriteLength(stream, rand) ?? stream) : stream;
  },
  run(input, plan) {
    const maxMessage = plan.pick([1 << 20, 1024, 64, 8]);
    const whole = frame([input], maxMessage);
    const split = frame(plan.chunks(input), maxMessage);
    invariant(whole.error === split.error, `chunking changed the outcome: ${whole.error ?? 'ok'} / ${split.error ?? 'ok'}`);
    if (!whole.error) invariant(whole.messages.length === split.messages.length && whole.messages.every((m, i) => m.equals(split.messages[i]!)), 'chunking changed the messages');
    for (const m of whole.messages) checkMessage(m, plan);
    checkMessage(input, plan);
  },
};
