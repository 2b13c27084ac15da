/**
 * LineDiscipline table tests: every control byte the terminal dialogue handles, each input
 * fed whole, split in two at every position, and one byte at a time; plus a seeded random-input test.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LineDiscipline, type DisciplineEvent, type DisciplineOptions, type FieldMode } from '../../src/terminal/discipline.js';
import { PPP_FRAME_START } from '../../src/terminal/constants.js';
import { prng } from '../helpers/prng.js';

type Seen =
  | { type: 'echo'; text: string }
  | { type: 'line'; text: string }
  | { type: 'abort' }
  | { type: 'kill' }
  | { type: 'ppp-start'; hex: string }
  | { type: 'overflow' };

const ON: FieldMode = { echo: 'on', maxChars: 256 };
const OFF: FieldMode = { echo: 'off', maxChars: 256 };
const MASK: FieldMode = { echo: 'mask', maxChars: 256 };
const USER: FieldMode = { echo: 'on', maxChars: 256, detectPpp: true };

/** Feed `chunks`; after a field ends (line/abort) open the same field again, as the dialogue does. */
function run(mode: FieldMode, chunks: Uint8Array[], options: DisciplineOptions = {}): Seen[] {
  const d = new LineDiscipline(options);
  d.setField(mode);
  const seen: Seen[] = [];
  let ppp: Buffer | undefined;
  const take = (events: DisciplineEvent[]) => {
    for (const e of events) {
      if (e.type === 'echo') {
        const last = seen[seen.length - 1];
        if (last?.type === 'echo') last.text += e.bytes.toString('latin1');
        else seen.push({ type: 'echo', text: e.bytes.toString('latin1') });
      } else if (e.type === 'ppp-start') ppp = e.bytes;
      else if (e.type === 'line') seen.push({ type: 'line', text: e.text });
      else if (e.type === 'abort' || e.type === 'kill' || e.type === 'overflow') seen.push({ type: e.type });
    }
  };
  for (const chunk of chunks) {
    if (ppp) {
      ppp = Buffer.concat([ppp, chunk]); // after ppp-start the gateway takes the bytes
      continue;
    }
    take(d.feed(chunk));
    while (!ppp && !d.fieldOpen) {
      d.setField(mode);
      take(d.resume());
      if (d.pending === 0) break;
    }
  }
  if (ppp) seen.push({ type: 'ppp-start', hex: ppp.toString('hex') });
  return seen;
}

function splits(input: Buffer): Array<{ name: string; chunks: Buffer[] }> {
  const out = [{ name: 'whole', chunks: [input] }];
  for (let i = 1; i < input.length; i++) out.push({ name: `split@${i}`, chunks: [input.subarray(0, i), input.subarray(i)] });
  out.push({ name: 'bytewise', chunks: [...input].map((b) => Buffer.of(b)) });
  return out;
}

const b = (s: string) => Buffer.from(s, 'latin1');
const echo = (text: string): Seen => ({ type: 'echo', text });
const line = (text: string): Seen => ({ type: 'line', text });

interface Case {
  name: string;
  mode: FieldMode;
  input: Buffer;
  expect: Seen[];
  options?: DisciplineOptions;
}

const ERASE = '\b \b';
const cases: Case[] = [
  { name: 'CR ends the line', mode: ON, input: b('abc\r'), expect: [echo('abc\r\n'), line('abc')] },
  { name: 'LF ends the line', mode: ON, input: b('abc\n'), expect: [echo('abc\r\n'), line('abc')] },
  { name: 'CRLF: the LF is swallowed', mode: ON, input: b('abc\r\ndef\r\n'), expect: [echo('abc\r\n'), line('abc'), echo('def\r\n'), line('def')] },
  { name: 'LF CR gives two lines', mode: ON, input: b('a\n\r'), expect: [echo('a\r\n'), line('a'), echo('\r\n'), line('')] },
  { name: 'empty line', mode: ON, input: b('\r\n'), expect: [echo('\r\n'), line('')] },
  { name: 'BS erases with "\\b \\b"', mode: ON, input: b('ab\x08c\r'), expect: [echo(`ab${ERASE}c\r\n`), line('ac')] },
  { name: 'DEL erases with "\\b \\b"', mode: ON, input: b('ab\x7fc\r'), expect: [echo(`ab${ERASE}c\r\n`), line('ac')] },
  { name: 'erase on an empty field echoes nothing', mode: ON, input: b('\x08\x7fa\x7f\x7f\r'), expect: [echo(`a${ERASE}\r\n`), line('')] },
  { name: '^U kills the line (erase echo)', mode: ON, input: b('abc\x15d\r'), expect: [echo(`abc${ERASE}${ERASE}${ERASE}`), { type: 'kill' }, echo('d\r\n'), line('d')] },
  { name: '^C aborts', mode: ON, input: b('ab\x03'), expect: [echo('ab^C\r\n'), { type: 'abort' }] },
  { name: 'CSI sequence swallowed', mode: ON, input: b('a\x1b[Ab\r'), expect: [echo('ab\r\n'), line('ab')] },
  { name: 'CSI with parameters swallowed', mode: ON, input: b('a\x1b[1;5Cb\r'), expect: [echo('ab\r\n'), line('ab')] },
  { name: 'SS3 sequence swallowed', mode: ON, input: b('a\x1bOPb\r'), expect: [echo('ab\r\n'), line('ab')] },
  { name: 'two-character escape swallowed', mode: ON, input: b('a\x1bcb\r'), expect: [echo('ab\r\n'), line('ab')] },
  { name: 'CR cancels an escape and ends the line', mode: ON, input: b('a\x1b[1\r'), expect: [echo('a\r\n'), line('a')] },
  { name: 'unterminated CSI is abandoned after 16 bytes', mode: ON, input: b(`a\x1b[${'1'.repeat(17)}b\r`), expect: [echo('ab\r\n'), line('ab')] },
  { name: 'NUL, XON, XOFF swallowed', mode: ON, input: b('a\x00\x11\x13b\r'), expect: [echo('ab\r\n'), line('ab')] },
  { name: 'other control bytes dropped', mode: ON, input: b('a\x01\x02\x04\x07\x09\x0b\x0c\x1fb\r'), expect: [echo('ab\r\n'), line('ab')] },
  { name: 'password: nothing echoed but the newline', mode: OFF, input: b('se\x08cret\r'), expect: [echo('\r\n'), line('scret')] },
  { name: 'password: ^U kills silently', mode: OFF, input: b('abc\x15x\r'), expect: [{ type: 'kill' }, echo('\r\n'), line('x')] },
  { name: 'password: ^C aborts', mode: OFF, input: b('abc\x03'), expect: [echo('^C\r\n'), { type: 'abort' }] },
  { name: 'mask: one mask per character, erase echoed', mode: MASK, input: b('ab\x7fc\r'), expect: [echo(`**${ERASE}*\r\n`), line('ac')] },
  { name: '7-bit: bit 7 stripped', mode: ON, input: Buffer.from([0xe1, 0xe2, 0x8d]), options: { sevenBit: true }, expect: [echo('ab\r\n'), line('ab')] },
  { name: 'cap: excess dropped, reported once', mode: { echo: 'on', maxChars: 3 }, input: b('abcdef\r'), expect: [echo('abc'), { type: 'overflow' }, echo('\r\n'), line('abc')] },
  { name: 'cap with BEL', mode: { echo: 'on', maxChars: 2 }, input: b('abcd\r'), options: { bellOnOverflow: true }, expect: [echo('ab'), { type: 'overflow' }, echo('\x07\x07\r\n'), line('ab')] },
  { name: 'cap: no BEL in password mode', mode: { echo: 'off', maxChars: 2 }, input: b('abcd\r'), options: { bellOnOverflow: true }, expect: [{ type: 'overflow' }, echo('\r\n'), line('ab')] },
  { name: 'cap then erase then type', mode: { echo: 'on', maxChars: 2 }, input: b('abc\x7fd\r'), expect: [echo('ab'), { type: 'overflow' }, echo(`${ERASE}d\r\n`), line('ad')] },
  {
    name: 'PPP frame start at the beginning of the field',
    mode: USER,
    input: Buffer.from([...PPP_FRAME_START, 0x7d, 0x21, 0x7e]),
    expect: [{ type: 'ppp-start', hex: '7eff7d23c0217d217e' }],
  },
  { name: 'PPP bytes not at the start are text', mode: USER, input: Buffer.from([0x61, 0x7e, 0x7d, 0x23, 0x0d]), expect: [echo('a~}#\r\n'), line('a~}#')] },
  { name: 'PPP near miss is replayed as input', mode: USER, input: Buffer.from([0x7e, 0x41, 0x0d]), expect: [echo('~A\r\n'), line('~A')] },
  { name: 'PPP not detected without detectPpp', mode: ON, input: Buffer.from([0x7e, 0x0d]), expect: [echo('~\r\n'), line('~')] },
  { name: 'UTF-8 character is one character', mode: ON, input: Buffer.from([0xc3, 0xa9, 0x0d]), expect: [echo('\xc3\xa9\r\n'), line('é')] },
  { name: 'UTF-8: erase removes the whole character', mode: ON, input: Buffer.from([0xc3, 0xa9, 0x78, 0x7f, 0x7f, 0x79, 0x0d]), expect: [echo(`\xc3\xa9x${ERASE}${ERASE}y\r\n`), line('y')] },
  { name: 'UTF-8: cap counts characters', mode: { echo: 'on', maxChars: 2 }, input: Buffer.from([0xc3, 0xa9, 0xc3, 0xa9, 0xc3, 0xa9, 0x0d]), expect: [echo('\xc3\xa9\xc3\xa9'), { type: 'overflow' }, echo('\r\n'), line('éé')] },
  { name: 'invalid UTF-8 reads as Latin-1', mode: ON, input: Buffer.from([0xe9, 0x74, 0xe9, 0x0d]), expect: [echo('\xe9t\xe9\r\n'), line('été')] },
  { name: 'C1 controls never reach the text', mode: ON, input: Buffer.from([0x61, 0x85, 0x62, 0x0d]), expect: [echo('a\x85b\r\n'), line('ab')] },
];

describe('LineDiscipline table', () => {
  for (const c of cases) {
    test(c.name, () => {
      for (const s of splits(c.input)) assert.deepEqual(run(c.mode, s.chunks, c.options), c.expect, s.name);
    });
  }
});

describe('LineDiscipline fields', () => {
  test('input after a line is held until the next field opens (no echo under the old mode)', () => {
    const d = new LineDiscipline();
    d.setField(ON);
    const first = d.feed(b('bob\rsecret\r'));
    assert.deepEqual(first.map((e) => e.type), ['echo', 'line']);
    assert.equal(d.pending, 7);
    d.setField(OFF);
    const second = d.resume();
    assert.deepEqual(second, [{ type: 'echo', bytes: b('\r\n') }, { type: 'line', text: 'secret' }]);
  });

  test('LF after CR is swallowed across feed() calls and a new field', () => {
    const d = new LineDiscipline();
    d.setField(ON);
    assert.equal((d.feed(b('a\r')).at(-1) as { text: string }).text, 'a');
    d.setField(ON);
    assert.deepEqual(d.feed(b('\nb\r')).filter((e) => e.type === 'line'), [{ type: 'line', text: 'b' }]);
  });

  test('input while no field is open is held, bounded', () => {
    const d = new LineDiscipline({ maxHeldBytes: 8 });
    assert.deepEqual(d.feed(b('0123456789')), [{ type: 'dropped', bytes: 2 }]);
    assert.equal(d.pending, 8);
    d.flush();
    assert.equal(d.pending, 0);
  });

  test('redraw shows the field, never a hidden one', () => {
    const d = new LineDiscipline();
    d.setField(ON);
    d.feed(b('bob'));
    assert.equal(d.redraw().toString(), 'bob');
    d.setField(MASK);
    d.feed(b('pw'));
    assert.equal(d.redraw().toString(), '**');
    d.setField(OFF);
    d.feed(b('pw'));
    assert.equal(d.redraw().length, 0);
  });

  test('takeHeld returns what followed a PPP frame start', () => {
    const d = new LineDiscipline();
    d.setField(USER);
    const [ev] = d.feed(Buffer.from([...PPP_FRAME_START, 1, 2]));
    assert.equal(ev.type, 'ppp-start');
    d.feed(Buffer.from([3, 4]));
    assert.deepEqual([...d.takeHeld()], [3, 4]);
  });
});


describe('LineDiscipline random input', () => {
  test('5000 garbage buffers: never throws, never echoes a password, never exceeds a cap', () => {
    const rand = prng(0x5eed);
    const interesting = [0x00, 0x03, 0x08, 0x0a, 0x0d, 0x11, 0x13, 0x15, 0x1b, 0x5b, 0x4f, 0x7e, 0x7f, 0xff, 0x7d, 0x23, 0xc0, 0x21, 0xc3, 0xa9, 0x80];
    for (let round = 0; round < 5000; round++) {
      const sevenBit = rand() < 0.3;
      const d = new LineDiscipline({ sevenBit, bellOnOverflow: rand() < 0.5, maxHeldBytes: 64 });
      const maxChars = 1 + Math.floor(rand() * 20);
      const modes: FieldMode[] = [
        { echo: 'on', maxChars, detectPpp: true },
        { echo: 'off', maxChars },
        { echo: 'mask', maxChars, mask: '*' },
      ];
      let mode = modes[Math.floor(rand() * 3)];
      d.setField(mode);
      for (let chunk = 0; chunk < 4; chunk++) {
        const len = Math.floor(rand() * 40);
        const buf = Buffer.alloc(len);
        for (let i = 0; i < len; i++) buf[i] = rand() < 0.5 ? interesting[Math.floor(rand() * interesting.length)] : Math.floor(rand() * 256);
        let events = d.feed(buf);
        for (let guard = 0; guard < 100; guard++) {
          for (const e of events) {
            if (e.type === 'echo' && mode.echo === 'off') assert.match(e.bytes.toString('latin1'), /^(\r\n|\^C\r\n)*$/, `round ${round}: password echo`);
            if (e.type === 'echo' && mode.echo === 'mask') assert.match(e.bytes.toString('latin1'), /^(\*|\x08 \x08|\r\n|\^C\r\n|\x07)*$/, `round ${round}: mask echo`); // eslint-disable-line no-control-regex
            if (e.type === 'line') assert.ok(Array.from(e.text).length <= maxChars, `round ${round}: cap`);
            if (e.type === 'line') assert.doesNotMatch(e.text, /[\x00-\x1f\x7f-\x9f]/, `round ${round}: control in text`); // eslint-disable-line no-control-regex
          }
          if (d.fieldOpen || d.pending === 0 || rand() < 0.2) break;
          mode = modes[Math.floor(rand() * 3)];
          d.setField(mode);
          events = d.resume();
        }
        if (!d.fieldOpen) assert.ok(d.pending <= 64 + 40, `round ${round}: held input bounded`);
      }
    }
  });
});

test('echo: a NUL follows each echoed +, so the echo can never carry a Hayes +++ escape; the text keeps its +', () => {
  const d = new LineDiscipline();
  d.setField(USER);
  const echoed = [...d.feed(Buffer.from('a+')), ...d.feed(Buffer.from('+')), ...d.feed(Buffer.from('+b\r'))]
    .filter((e) => e.type === 'echo')
    .map((e) => (e as { bytes: Buffer }).bytes.toString('latin1'))
    .join('');
  assert.ok(!echoed.includes('++'), JSON.stringify(echoed));
  assert.equal(echoed.replace(/\0/g, '').slice(0, 5), 'a+++b');
  const line = run(USER, [Buffer.from('a+++b\r')]).find((e) => e.type === 'line');
  assert.deepEqual(line, { type: 'line', text: 'a+++b' });
});
