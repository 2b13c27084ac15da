/**
 * terminal: the login line discipline (src/terminal/discipline.ts) fed random and mutated
 * caller bytes in random field modes, as the dialogue drives it: a field opens, input is fed in
 * chunks, and whenever a field ends (line, ^C, PPP) the next one opens with its own mode.
 * Invariants: no throw; a field never holds more than its cap in characters, a line's text
 * neither; no control character reaches a line; a password field ('off') echoes nothing but the
 * CRLF or ^C that ends it, a masked one only the mask and erase sequences; held input stays
 * within its bound; the same bytes give the same lines whatever the chunking.
 */
import { LineDiscipline, type DisciplineEvent, type FieldMode } from '../../../src/terminal/discipline.js';
import { ABORT_ECHO, Byte, DEFAULT_MAX_HELD_BYTES, ERASE_ECHO, NEWLINE, PPP_FRAME_START } from '../../../src/terminal/constants.js';
import { invariant, Rand, type FuzzTarget } from '../engine.js';

const CONTROL = /[\x00-\x1f\x7f-\x9f]/; // eslint-disable-line no-control-regex
const NEWLINE_TEXT = Buffer.from(NEWLINE).toString('latin1');
const ABORT_TEXT = Buffer.from(ABORT_ECHO).toString('latin1');

interface Transcript {
  /** Line texts, aborts, kills, PPP starts, overflows: what the dialogue acts on. */
  outcomes: string[];
  echo: string;
  /** Input was dropped at the held-bytes bound (which depends on the chunking by design). */
  dropped: boolean;
}

function fieldModes(plan: Rand): FieldMode[] {
  return Array.from({ length: 8 }, () => ({
    echo: plan.pick(['on', 'off', 'mask'] as const),
    maxChars: plan.pick([0, 1, 2, 15, 20, 64, 256, plan.int(300)]),
    detectPpp: plan.chance(0.3),
    ...(plan.chance(0.2) ? { mask: plan.pick(['#', '', '**']) } : {}),
  }));
}

/** Echo a field may show: per mode, the bytes it is allowed to contain. */
function checkEcho(mode: FieldMode, echo: string): void {
  if (mode.echo === 'off') {
    const rest = echo.replace(ABORT_TEXT, '').replace(NEWLINE_TEXT, '');
    invariant(rest === '', `a password field echoed ${JSON.stringify(echo)}`);
  } else if (mode.echo === 'mask') {
    const allowed = new Set([...(mode.mask ?? '*'), ...Buffer.from([...ERASE_ECHO, ...NEWLINE, ...ABORT_ECHO, Byte.BEL]).toString('latin1')]);
    for (const c of echo) invariant(allowed.has(c), `a masked field echoed ${JSON.stringify(c)}`);
  }
}

function drive(input: Buffer, chunks: Buffer[], modes: FieldMode[], options: ConstructorParameters<typeof LineDiscipline>[0]): Transcript {
  const d = new LineDiscipline(options);
  const maxHeld = options?.maxHeldBytes ?? DEFAULT_MAX_HELD_BYTES;
  const t: Transcript = { outcomes: [], echo: '', dropped: false };
  let field = 0;
  let mode = modes[0]!;
  let fieldEcho = '';
  /** After a PPP frame start the line belongs to pppd: every later byte goes to it. */
  const pppd: { bytes?: Buffer[] } = {};
  d.setField(mode);
  const take = (events: DisciplineEvent[]): boolean => {
    let ended = false;
    for (const ev of events) {
      if (ev.type === 'echo') {
        fieldEcho += ev.bytes.toString('latin1');
        continue;
      }
      if (ev.type === 'line') {
        const chars = Array.from(ev.text);
        invariant(chars.length <= mode.maxChars, `a line of ${chars.length} characters in a field capped at ${mode.maxChars}`);
        invariant(!CONTROL.test(ev.text), `a control character in a line: ${JSON.stringify(ev.text)}`);
        t.outcomes.push(`line:${ev.text}`);
      } else if (ev.type === 'ppp-start') {
        invariant(ev.bytes.subarray(0, PPP_FRAME_START.length).equals(Buffer.from(PPP_FRAME_START)), 'ppp-start without the frame start');
        invariant(mode.detectPpp, 'ppp-start in a field that does not detect PPP');
        pppd.bytes = [ev.bytes];
      } else if (ev.type === 'dropped') t.dropped = true;
      else t.outcomes.push(ev.type);
      if (ev.type === 'line' || ev.type === 'abort' || ev.type === 'ppp-start') ended = true;
    }
    invariant(d.length <= mode.maxChars, `${d.length} characters held in a field capped at ${mode.maxChars}`);
    if (d.fieldOpen) invariant(d.pending === 0, `${d.pending} bytes held while a field is open`);
    else invariant(d.pending <= maxHeld, `${d.pending} bytes held (bound ${maxHeld})`);
    return ended;
  };
  const next = () => {
    checkEcho(mode, fieldEcho);
    t.echo += fieldEcho;
    fieldEcho = '';
    mode = modes[++field % modes.length]!;
    d.setField(mode);
  };
  for (const chunk of chunks) {
    if (pppd.bytes) {
      pppd.bytes.push(chunk);
      continue;
    }
    let ended = take(d.feed(chunk));
    // Each ended field opens the next one, which takes what was typed ahead.
    for (let guard = 0; ended && !pppd.bytes && guard < input.length + 2; guard++) {
      next();
      ended = take(d.resume());
    }
    (pppd.bytes as Buffer[] | undefined)?.push(d.takeHeld()); // take() may have handed over
  }
  if (pppd.bytes) t.outcomes.push(`ppp:${Buffer.concat(pppd.bytes).toString('hex')}`);
  checkEcho(mode, fieldEcho);
  t.echo += fieldEcho;
  return t;
}

export const terminal: FuzzTarget = {
  name: 'terminal',
  invariant: 'no throw; fields and lines within their cap in characters; no control characters in lines; password fields never echoed; held input bounded; chunking does not change the lines',
  dictionary: [
    Buffer.from('\r\n'),
    Buffer.from('\r'),
    Buffer.from('\n'),
    Buffer.from('\x1b[A'),
    Buffer.from('\x1b[1;5D'),
    Buffer.from('\x1bOP'),
    Buffer.from('\x1b[' + '9'.repeat(40)),
    Buffer.from([Byte.BS]),
    Buffer.from([Byte.DEL]),
    Buffer.from([Byte.NAK]),
    Buffer.from([Byte.ETX]),
    Buffer.from([Byte.XON, Byte.XOFF]),
    Buffer.from(PPP_FRAME_START),
    Buffer.from('CORP\\alice'),
    Buffer.from('alice@corp.example'),
    Buffer.from('p\u00e4ssw\u00f6rd', 'utf8'),
    Buffer.from([0xf0, 0x9f, 0x98, 0x80]), // a 4-byte UTF-8 character
    Buffer.from([0xc3]), // a lone UTF-8 lead byte
    Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80]),
  ],
  maxInput: 64 * 1024,
  generate(rand) {
    const n = rand.size(2000);
    const b = rand.bytes(n);
    // Mostly printable, with line ends and controls sprinkled in.
    for (let i = 0; i < n; i++) if (rand.chance(0.7)) b[i] = rand.chance(0.05) ? rand.pick([13, 10, 8, 127, 21, 3, 27]) : 0x20 + rand.int(95);
    return b;
  },
  run(input, plan) {
    const modes = fieldModes(plan);
    const options = {
      sevenBit: plan.chance(0.2),
      utf8: plan.chance(0.8),
      bellOnOverflow: plan.chance(0.3),
      maxEscapeLength: plan.pick([undefined, 1, 4, 16, 64]),
      maxHeldBytes: plan.pick([undefined, 0, 16, 4096]),
    };
    const seed = plan.u32();
    const a = drive(input, new Rand(seed).chunks(input), modes, options);
    const b = drive(input, [input], modes, options);
    if (!a.dropped && !b.dropped) invariant(a.outcomes.join('\u0000') === b.outcomes.join('\u0000'), 'the same bytes in other chunks gave other lines');
  },
};
