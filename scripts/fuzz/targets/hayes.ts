/**
 * hayes: the Hayes result-code parser (src/serial/hayes.ts) fed modem output: result words,
 * CONNECT lines, caller ID, command echo, and line noise / data-mode traffic without line ends.
 * Invariants: no throw; the buffered partial line never exceeds MAX_LINE; no event carries a
 * line longer than MAX_LINE or a control character; the same bytes in other chunks give the
 * same events; parseResultLine on any text returns an event or undefined.
 */
import { isDeepStrictEqual } from 'node:util';
import { HayesParser, MAX_LINE, parseResultLine, type ModemEvent } from '../../../src/serial/hayes.js';
import { invariant, type FuzzTarget } from '../engine.js';

const CONTROL = /[\x00-\x1f\x7f]/; // eslint-disable-line no-control-regex
const WORDS = ['OK', 'RING', 'NO CARRIER', 'ERROR', 'NO DIALTONE', 'NO DIAL TONE', 'BUSY', 'NO ANSWER', 'CONNECT', 'CONNECT 33600/ARQ/V34/LAPM/V42BIS', 'CONNECT 9600 V42bis', 'ATA', 'ATZ', 'AT+VCID=1', 'DATE = 0321', 'TIME=1405', 'NMBR = 5551234', 'NAME = JOHN DOE', 'DDN_NMBR=5550100', 'MESG = 0302', '0', '1', '2', '3', '4'];

function checkEvents(events: ModemEvent[]): void {
  for (const ev of events) {
    const text = 'text' in ev ? ev.text : ev.type === 'CALLER_ID' ? ev.value : ev.type === 'CONNECT' ? ev.extras.join('/') : '';
    invariant(text.length <= MAX_LINE, `an event carries ${text.length} characters (MAX_LINE ${MAX_LINE})`);
    invariant(!CONTROL.test(text), `a control character in an event: ${JSON.stringify(text)}`);
    if (ev.type === 'CONNECT' && ev.speed !== undefined) invariant(Number.isFinite(ev.speed) && ev.speed >= 0, `CONNECT speed ${ev.speed}`);
  }
}

function drive(chunks: Buffer[], numeric: boolean): ModemEvent[] {
  const p = new HayesParser(numeric);
  const out: ModemEvent[] = [];
  for (const c of chunks) {
    const events = p.feed(c);
    checkEvents(events);
    out.push(...events);
    const line = (p as unknown as { line: string }).line;
    invariant(line.length <= MAX_LINE, `${line.length} characters buffered (MAX_LINE ${MAX_LINE})`);
  }
  return out;
}

export const hayes: FuzzTarget = {
  name: 'hayes',
  invariant: 'no throw; buffered line <= MAX_LINE; events bounded and free of control characters; chunking does not change the events',
  dictionary: [...WORDS.map((w) => Buffer.from(w)), Buffer.from('\r\n'), Buffer.from('\n\r'), Buffer.from('\r'), Buffer.from(' = '), Buffer.from('/')],
  maxInput: 64 * 1024,
  generate(rand) {
    if (rand.chance(0.3)) return rand.bytes(rand.size(4000));
    const parts: string[] = [];
    for (let n = rand.size(40); n > 0; n--) parts.push(rand.chance(0.8) ? rand.pick(WORDS) : rand.bytes(rand.size(300)).toString('latin1'), rand.pick(['\r\n', '\r', '\n', '\n\r', '']));
    return Buffer.from(parts.join(''), 'latin1');
  },
  run(input, plan) {
    const numeric = plan.chance(0.7);
    const whole = drive([input], numeric);
    const split = drive(plan.chunks(input), numeric);
    invariant(isDeepStrictEqual(whole, split), 'chunking changed the events');
    const ev = parseResultLine(input.toString('latin1'), numeric);
    invariant(ev === undefined || typeof ev.type === 'string', 'parseResultLine returned a non-event');
  },
};
