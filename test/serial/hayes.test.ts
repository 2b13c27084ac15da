import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HayesParser, parseResultLine, type ModemEvent } from '../../src/serial/hayes.js';

const cases: Array<[string, string, ModemEvent[]]> = [
  ['OK', '\r\nOK\r\n', [{ type: 'OK' }]],
  ['ERROR', '\r\nERROR\r\n', [{ type: 'ERROR' }]],
  ['RING', '\r\nRING\r\n', [{ type: 'RING' }]],
  ['NO CARRIER', '\r\nNO CARRIER\r\n', [{ type: 'NO_CARRIER' }]],
  ['BUSY', '\r\nBUSY\r\n', [{ type: 'BUSY' }]],
  ['NO DIALTONE', '\r\nNO DIALTONE\r\n', [{ type: 'NO_DIALTONE' }]],
  ['NO DIAL TONE', '\r\nNO DIAL TONE\r\n', [{ type: 'NO_DIALTONE' }]],
  ['NO ANSWER', '\r\nNO ANSWER\r\n', [{ type: 'NO_ANSWER' }]],
  ['CONNECT bare', '\r\nCONNECT\r\n', [{ type: 'CONNECT', extras: [] }]],
  ['CONNECT speed', '\r\nCONNECT 2400\r\n', [{ type: 'CONNECT', speed: 2400, extras: [] }]],
  ['CONNECT extras', '\r\nCONNECT 33600/ARQ/V34/LAPM/V42BIS\r\n', [{ type: 'CONNECT', speed: 33600, extras: ['ARQ', 'V34', 'LAPM', 'V42BIS'] }]],
  ['CONNECT space extras', '\r\nCONNECT 9600 V42bis\r\n', [{ type: 'CONNECT', speed: 9600, extras: ['V42bis'] }]],
  ['CONNECTED is text', '\r\nCONNECTED\r\n', [{ type: 'TEXT', text: 'CONNECTED' }]],
  ['V0 numeric codes', '0\r1\r2\r3\r4\r6\r7\r8\r', [
    { type: 'OK' }, { type: 'CONNECT', extras: [] }, { type: 'RING' }, { type: 'NO_CARRIER' },
    { type: 'ERROR' }, { type: 'NO_DIALTONE' }, { type: 'BUSY' }, { type: 'NO_ANSWER' },
  ]],
  ['5 is not a code here', '5\r', [{ type: 'TEXT', text: '5' }]],
  ['LF only', 'OK\n', [{ type: 'OK' }]],
  ['LFCR', '\n\rOK\n\r', [{ type: 'OK' }]],
  ['lowercase', '\r\nok\r\n', [{ type: 'OK' }]],
  ['echo then OK', 'ATE0V1Q0&C1&D2S0=0\r\r\nOK\r\n', [{ type: 'ECHO', text: 'ATE0V1Q0&C1&D2S0=0' }, { type: 'OK' }]],
  ['caller ID spaced', '\r\nDATE = 0321\r\nTIME = 1405\r\nNMBR = 5551234\r\nNAME = JOHN DOE\r\n', [
    { type: 'CALLER_ID', field: 'date', value: '0321' },
    { type: 'CALLER_ID', field: 'time', value: '1405' },
    { type: 'CALLER_ID', field: 'number', value: '5551234' },
    { type: 'CALLER_ID', field: 'name', value: 'JOHN DOE' },
  ]],
  ['caller ID tight', 'DATE=0321\r\nTIME=1405\r\nNMBR=5551234\r\nNAME=JANE\r\n', [
    { type: 'CALLER_ID', field: 'date', value: '0321' },
    { type: 'CALLER_ID', field: 'time', value: '1405' },
    { type: 'CALLER_ID', field: 'number', value: '5551234' },
    { type: 'CALLER_ID', field: 'name', value: 'JANE' },
  ]],
  ['caller ID private/unavailable', 'NMBR = P\r\nNAME = O\r\n', [
    { type: 'CALLER_ID', field: 'number', value: 'P' },
    { type: 'CALLER_ID', field: 'name', value: 'O' },
  ]],
  ['DDN_NMBR and MESG', 'DDN_NMBR= 12345\r\nMESG = 060342\r\n', [
    { type: 'CALLER_ID', field: 'number', value: '12345' },
    { type: 'CALLER_ID', field: 'message', value: '060342' },
  ]],
  ['parity bit stripped', '\xcf\xcb\r\n', [{ type: 'OK' }]],
  ['control bytes dropped', 'O\x00K\x07\r\n', [{ type: 'OK' }]],
  ['text', 'U.S. Robotics\r\n', [{ type: 'TEXT', text: 'U.S. Robotics' }]],
];

for (const [name, input, expected] of cases) {
  const bytes = Buffer.from(input, 'latin1');
  test(`hayes: ${name}`, () => {
    assert.deepEqual(new HayesParser().feed(bytes), expected);
  });
  test(`hayes: ${name}, split at every position`, () => {
    for (let i = 0; i <= bytes.length; i++) {
      const p = new HayesParser();
      const got = [...p.feed(bytes.subarray(0, i)), ...p.feed(bytes.subarray(i))];
      assert.deepEqual(got, expected, `split at ${i}`);
    }
  });
  test(`hayes: ${name}, one byte at a time`, () => {
    const p = new HayesParser();
    const got = [...bytes].flatMap((b) => p.feed(Uint8Array.of(b)));
    assert.deepEqual(got, expected);
  });
}

test('hayes: numeric codes off in data mode', () => {
  const p = new HayesParser(false);
  assert.deepEqual(p.feed(Buffer.from('3\r\nNO CARRIER\r\n')), [{ type: 'TEXT', text: '3' }, { type: 'NO_CARRIER' }]);
});

test('hayes: an overlong line is dropped, parsing resumes after the line end', () => {
  const p = new HayesParser();
  assert.deepEqual(p.feed(Buffer.alloc(10_000, 0x41)), []);
  assert.deepEqual(p.feed(Buffer.from('\r\nOK\r\n')), [{ type: 'OK' }]);
});

test('hayes: parseResultLine of blank is undefined', () => {
  assert.equal(parseResultLine('   '), undefined);
});

test('hayes: random garbage never throws and yields well-formed events', () => {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  const p = new HayesParser();
  for (let i = 0; i < 2000; i++) {
    const len = rnd() % 64;
    const buf = Buffer.alloc(len);
    for (let j = 0; j < len; j++) buf[j] = rnd() % 5 === 0 ? 0x0d : rnd();
    for (const ev of p.feed(buf)) assert.equal(typeof ev.type, 'string');
  }
  assert.deepEqual(p.feed(Buffer.from('\r\nOK\r\n')), [{ type: 'OK' }]);
});
