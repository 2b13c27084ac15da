/**
 * telnet: src/serial/telnet.ts (TelnetSession) fed random and mutated client bytes: real
 * telnet clients' negotiation, floods of WILL/DO for every option, subnegotiations, AYT.
 * Invariants: no throw; the option tables and subnegotiation buffer stay bounded; the same bytes
 * in other chunks give the same data, events and negotiation replies (Are You There is answered
 * once per chunk, so its answers alone depend on the chunking); what we send back is at most
 * REPLY_RATIO times what the client sent, plus one AYT answer per chunk and the start-up
 * negotiation (no amplification: a caller that does not read cannot make us queue much more
 * than it sends).
 */
import { isDeepStrictEqual } from 'node:util';
import { TelnetSession, type TelnetEvent } from '../../../src/serial/telnet.js';
import { invariant, type FuzzTarget, type Rand } from '../engine.js';

const IAC = 255;
const [SE, NOP, AYT, SB, WILL, WONT, DO, DONT] = [240, 241, 246, 250, 251, 252, 253, 254];

/** WILL TTYPE (3 bytes) draws DO TTYPE and SB TTYPE SEND (9 bytes); every other answer is 1:1 or none. */
const REPLY_RATIO = 3;
const REPLY_SLACK = 64;
const AYT_ANSWER = '\r\n[yes]\r\n';

interface Result {
  data: Buffer;
  reply: Buffer;
  events: unknown[];
}

function eventView(e: TelnetEvent): unknown {
  return e.type === 'error' ? { type: 'error', code: e.error.code } : e;
}

function tablesBounded(s: TelnetSession, maxSb: number): void {
  const inner = s as unknown as { us: Map<number, unknown>; him: Map<number, unknown>; usQueue: Set<number>; himQueue: Set<number>; sb: number[] };
  for (const t of [inner.us, inner.him, inner.usQueue, inner.himQueue]) invariant(t.size <= 256, `an option table holds ${t.size} entries`);
  invariant(inner.sb.length <= maxSb, `subnegotiation buffer of ${inner.sb.length} bytes (bound ${maxSb})`);
}

function drive(chunks: Buffer[], maxSb: number | undefined): Result {
  const s = new TelnetSession(maxSb === undefined ? {} : { maxSubnegotiation: maxSb });
  const data: Buffer[] = [];
  const reply: Buffer[] = [s.start()];
  const events: unknown[] = [];
  let sent = 0;
  let answered = reply[0]!.length;
  let chunksFed = 0;
  for (const chunk of chunks) {
    const r = s.feed(chunk);
    data.push(r.data);
    reply.push(r.reply);
    events.push(...r.events.map(eventView));
    sent += chunk.length;
    answered += r.reply.length;
    invariant(r.data.length <= chunk.length, `${r.data.length} data bytes out of ${chunk.length}`);
    tablesBounded(s, maxSb ?? 64);
    const allowed = REPLY_RATIO * sent + AYT_ANSWER.length * ++chunksFed + REPLY_SLACK;
    invariant(answered <= allowed, `${answered} reply bytes for ${sent} bytes received in ${chunksFed} chunks (amplification)`);
  }
  return { data: Buffer.concat(data), reply: Buffer.concat(reply), events };
}

/** A burst of negotiation: random verbs on random (or all) options, AYT, subnegotiations. */
function negotiationFlood(rand: Rand): Buffer {
  const out: number[] = [];
  const n = rand.size(3000);
  for (let i = 0; i < n; i++) {
    const r = rand.int(10);
    if (r < 6) out.push(IAC, rand.pick([WILL, WONT, DO, DONT]), rand.chance(0.5) ? i & 0xff : rand.int(256));
    else if (r === 6) out.push(IAC, AYT);
    else if (r === 7) out.push(IAC, SB, rand.pick([24, 31, rand.int(256)]), ...rand.bytes(rand.size(80)), IAC, SE);
    else if (r === 8) out.push(IAC, rand.int(256));
    else out.push(rand.int(256));
  }
  return Buffer.from(out);
}

export const telnet: FuzzTarget = {
  name: 'telnet',
  invariant: `no throw; option tables and subnegotiation bounded; chunking does not change data, events or negotiation; replies <= ${REPLY_RATIO} x bytes received + one AYT answer per chunk`,
  dictionary: [
    Buffer.from([IAC, WILL, 1]),
    Buffer.from([IAC, DO, 1]),
    Buffer.from([IAC, DONT, 1]),
    Buffer.from([IAC, WILL, 99]),
    Buffer.from([IAC, DO, 99]),
    Buffer.from([IAC, WILL, 24]),
    Buffer.from([IAC, WILL, 31]),
    Buffer.from([IAC, WONT, 3]),
    Buffer.from([IAC, DO, 0]),
    Buffer.from([IAC, WILL, 0]),
    Buffer.from([IAC, SB, 24, 0, 0x58, 0x54, 0x45, 0x52, 0x4d, IAC, SE]),
    Buffer.from([IAC, SB, 31, 0, 80, 0, 24, IAC, SE]),
    Buffer.from([IAC, SB, 31, 0, IAC, IAC, 0, 24, IAC, SE]),
    Buffer.from([IAC, SB]),
    Buffer.from([IAC, SE]),
    Buffer.from([IAC, AYT]),
    Buffer.from([IAC, NOP]),
    Buffer.from([IAC, IAC]),
    Buffer.from([IAC, 244]), // IP
    Buffer.from([IAC]),
    Buffer.from('\r\0'),
    Buffer.from('\r\n'),
  ],
  maxInput: 256 * 1024,
  generate(rand) {
    return rand.chance(0.6) ? negotiationFlood(rand) : rand.bytes(rand.size(2000));
  },
  run(input, plan) {
    const maxSb = plan.pick([undefined, 0, 4, 64, 1024]);
    const whole = drive([input], maxSb);
    const split = drive(plan.chunks(input), maxSb);
    const negotiation = (r: Result) => r.reply.toString('latin1').split(AYT_ANSWER).join('');
    invariant(whole.data.equals(split.data), 'chunking changed the data');
    invariant(negotiation(whole) === negotiation(split), 'chunking changed the negotiation replies');
    invariant(isDeepStrictEqual(whole.events, split.events), 'chunking changed the events');
  },
};
