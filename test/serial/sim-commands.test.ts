/** The simulated modem's command interpreter: one row per command line, malformed lines, result framing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callProgress, executeCommandLine, factorySettings, formatInfo, formatResult, parseDialString, type AtEffect, type AtSettings, type LineContext } from '../../src/serial/sim-commands.js';
import { prng } from '../helpers/prng.js';

const F = factorySettings();
const sReg = (changes: Record<number, number>): readonly number[] => F.s.map((v, i) => changes[i] ?? v);

interface Row {
  line: string;
  /** Settings before (changes from the factory ones). Default factory. */
  from?: Partial<AtSettings>;
  call?: LineContext['call'];
  /** Settings after, as changes from `from`. Default unchanged. */
  changes?: Partial<AtSettings>;
  effects?: AtEffect[];
  /** Default 'OK'; null: reported later by the effect. */
  result?: 'OK' | 'ERROR' | null;
}

const cases: Array<[string, Row]> = [
  ['bare AT', { line: 'AT' }],
  ['lower case', { line: 'at&c1&d2' }],
  ['echo off', { line: 'ATE0', changes: { echo: false } }],
  ['numeric results', { line: 'ATV0', changes: { verbose: false } }],
  ['quiet', { line: 'ATQ1', changes: { quiet: true } }],
  ['the default init chat', { line: 'ATE0V1Q0&C1&D2S0=0', changes: { echo: false } }],
  ['spaces are ignored', { line: 'AT E0 V1 S0 = 2', changes: { echo: false, s: sReg({ 0: 2 }) } }],
  ['a missing digit is 0', { line: 'ATE', changes: { echo: false } }],
  ['auto-answer on ring 2', { line: 'ATS0=2', changes: { s: sReg({ 0: 2 }) } }],
  ['S-register read', { line: 'ATS7?', effects: [{ type: 'info', text: '050' }] }],
  ['read after write on one line', { line: 'ATS0=3S0?', changes: { s: sReg({ 0: 3 }) }, effects: [{ type: 'info', text: '003' }] }],
  ['DCD always on', { line: 'AT&C0', changes: { dcdFollowsCarrier: false } }],
  ['DTR to online command', { line: 'AT&D1', changes: { dtrMode: 1 } }],
  ['DTR hang up and reset', { line: 'AT&D3', changes: { dtrMode: 3 } }],
  ['flow control, store, accepted', { line: 'AT&K3&W0' }],
  ['factory settings', { line: 'AT&F', from: { echo: false, dtrMode: 0 }, changes: { echo: true, dtrMode: 2 } }],
  ['reset hangs up', { line: 'ATZ', from: { echo: false }, changes: { echo: true }, effects: [{ type: 'reset' }] }],
  ['result sets', { line: 'ATX3', changes: { resultSet: 3 } }],
  ['speaker', { line: 'ATL2M0' }],
  ['caller ID +VCID', { line: 'AT+VCID=1', changes: { callerId: true } }],
  ['caller ID #CID off', { line: 'AT#CID=0', from: { callerId: true }, changes: { callerId: false } }],
  ['caller ID after basic commands', { line: 'ATE0S0=0+VCID=1', changes: { echo: false, callerId: true } }],
  ['extended commands separated by ;', { line: 'AT+VCID=1;E0', changes: { callerId: true, echo: false } }],
  ['identity', { line: 'ATI', effects: [{ type: 'info', text: 'rasgate simulated modem m0' }] }],
  ['hang up', { line: 'ATH0', effects: [{ type: 'hangup' }] }],
  ['hang up, bare H', { line: 'ATH', call: 'connected', effects: [{ type: 'hangup' }] }],
  ['answer', { line: 'ATA', call: 'ringing', effects: [{ type: 'answer' }], result: null }],
  ['answer with nobody ringing (the modem reports NO CARRIER)', { line: 'ATA', effects: [{ type: 'answer' }], result: null }],
  ['commands after A are ignored', { line: 'ATAE0', call: 'ringing', effects: [{ type: 'answer' }], result: null }],
  ['settings before A apply', { line: 'ATE0A', call: 'ringing', changes: { echo: false }, effects: [{ type: 'answer' }], result: null }],
  ['back online', { line: 'ATO', call: 'connected', effects: [{ type: 'online' }], result: null }],
  ['dial tone', { line: 'ATDT5551234', effects: [{ type: 'dial', to: { number: '5551234' }, method: 'tone' }], result: null }],
  ['dial pulse', { line: 'ATDP5551234', effects: [{ type: 'dial', to: { number: '5551234' }, method: 'pulse' }], result: null }],
  ['dial with the default method', { line: 'ATPD5551234', changes: { dialMethod: 'pulse' }, effects: [{ type: 'dial', to: { number: '5551234' }, method: 'pulse' }], result: null }],
  ['dial punctuation and waits', { line: 'ATD T 9W,(555) 123-4567', effects: [{ type: 'dial', to: { number: '95551234567' }, method: 'tone' }], result: null }],
  ['dial * and #', { line: 'ATDT*70,555#', effects: [{ type: 'dial', to: { number: '*70555#' }, method: 'tone' }], result: null }],
  ['dial an IPv4 address', { line: 'ATDT127.0.0.1:6400', effects: [{ type: 'dial', to: { host: '127.0.0.1', port: 6400 }, method: 'tone' }], result: null }],
  ['dial an IPv6 address', { line: 'ATD[::1]:6400', effects: [{ type: 'dial', to: { host: '::1', port: 6400 }, method: 'tone' }], result: null }],
  ['dial with nobody ringing in', { line: 'ATDT5551234', call: 'ringing', effects: [{ type: 'dial', to: { number: '5551234' }, method: 'tone' }], result: null }],
  // malformed
  ['not a command line', { line: 'HELLO', result: 'ERROR' }],
  ['unknown command', { line: 'ATBOGUS', result: 'ERROR' }],
  ['E out of range', { line: 'ATE2', result: 'ERROR' }],
  ['H1 (off hook) is not supported', { line: 'ATH1', result: 'ERROR' }],
  ['X out of range', { line: 'ATX5', result: 'ERROR' }],
  ['&C out of range', { line: 'AT&C2', result: 'ERROR' }],
  ['& alone', { line: 'AT&', result: 'ERROR' }],
  ['unknown & command', { line: 'AT&Z', result: 'ERROR' }],
  ['S without = or ?', { line: 'ATS0', result: 'ERROR' }],
  ['S register out of range', { line: 'ATS40=1', result: 'ERROR' }],
  ['S value out of range', { line: 'ATS0=256', result: 'ERROR' }],
  ['S3 is a 7-bit character', { line: 'ATS3=200', result: 'ERROR' }],
  ['a number too long', { line: 'ATS0=0001', result: 'ERROR' }],
  ['+VCID without a value', { line: 'AT+VCID', result: 'ERROR' }],
  ['+VCID out of range', { line: 'AT+VCID=3', result: 'ERROR' }],
  ['unknown extended command', { line: 'AT+FCLASS=1', result: 'ERROR' }],
  ['commands before an error keep their effect', { line: 'ATE0H0BOGUS', changes: { echo: false }, effects: [{ type: 'hangup' }], result: 'ERROR' }],
  ['online without a call', { line: 'ATO', result: 'ERROR' }],
  ['answer during a call', { line: 'ATA', call: 'connected', result: 'ERROR' }],
  ['dial during a call', { line: 'ATDT5551234', call: 'connected', result: 'ERROR' }],
  ['dial nothing', { line: 'ATDT', result: 'ERROR' }],
  ['dial only punctuation', { line: 'ATD-,W', result: 'ERROR' }],
  ['dial a voice call (;)', { line: 'ATDT5551234;', result: 'ERROR' }],
  ['dial an address with port 0', { line: 'ATDT127.0.0.1:0', result: 'ERROR' }],
  ['dial an address with a bad port', { line: 'ATDT127.0.0.1:70000', result: 'ERROR' }],
  ['dial an address that is not one', { line: 'ATDT999.0.0.1:6400', result: 'ERROR' }],
];

for (const [name, row] of cases) {
  test(`sim commands: ${name}`, () => {
    const from: AtSettings = { ...F, ...row.from };
    const got = executeCommandLine(from, row.line, { call: row.call ?? 'idle', identity: 'rasgate simulated modem m0' });
    const result = row.result === undefined ? 'OK' : row.result ?? undefined;
    assert.deepEqual(got, { settings: { ...from, ...row.changes }, effects: row.effects ?? [], ...(result ? { result } : {}) });
  });
}

test('sim commands: result framing follows V, Q, S3 and S4', () => {
  const table: Array<[Partial<AtSettings>, Parameters<typeof formatResult>[1], string | undefined, string]> = [
    [{}, 'OK', undefined, '\r\nOK\r\n'],
    [{}, 'NO_CARRIER', undefined, '\r\nNO CARRIER\r\n'],
    [{}, 'NO_DIALTONE', undefined, '\r\nNO DIALTONE\r\n'],
    [{}, 'NO_ANSWER', undefined, '\r\nNO ANSWER\r\n'],
    [{}, 'CONNECT', '33600/ARQ', '\r\nCONNECT 33600/ARQ\r\n'],
    [{}, 'CONNECT', undefined, '\r\nCONNECT\r\n'],
    [{ verbose: false }, 'OK', undefined, '0\r'],
    [{ verbose: false }, 'CONNECT', '33600', '1\r'],
    [{ verbose: false }, 'BUSY', undefined, '7\r'],
    [{ verbose: false }, 'NO_ANSWER', undefined, '8\r'],
    [{ quiet: true }, 'OK', undefined, ''],
    [{ s: sReg({ 3: 0x0a, 4: 0x0d }) }, 'OK', undefined, '\n\rOK\n\r'],
  ];
  for (const [changes, result, connectText, expected] of table) assert.equal(formatResult({ ...F, ...changes }, result, connectText), expected, `${JSON.stringify(changes)} ${result}`);
  assert.equal(formatInfo(F, '050'), '\r\n050\r\n');
  assert.equal(formatInfo({ ...F, verbose: false }, '050'), '050\r\n');
});

test('sim commands: call progress results by result set (X0-X4)', () => {
  const conditions = ['NO_DIALTONE', 'BUSY', 'NO_ANSWER', 'NO_CARRIER'] as const;
  const expected: Record<number, string[]> = {
    0: ['NO_CARRIER', 'NO_CARRIER', 'NO_CARRIER', 'NO_CARRIER'],
    1: ['NO_CARRIER', 'NO_CARRIER', 'NO_CARRIER', 'NO_CARRIER'],
    2: ['NO_DIALTONE', 'NO_CARRIER', 'NO_CARRIER', 'NO_CARRIER'],
    3: ['NO_CARRIER', 'BUSY', 'NO_ANSWER', 'NO_CARRIER'],
    4: ['NO_DIALTONE', 'BUSY', 'NO_ANSWER', 'NO_CARRIER'],
  };
  for (let x = 0; x <= 4; x++) assert.deepEqual(conditions.map((c) => callProgress({ ...F, resultSet: x }, c)), expected[x], `X${x}`);
});

test('sim commands: a dial string parses alike however it is written', () => {
  assert.deepEqual(parseDialString('t 555 1234', 'pulse'), { to: { number: '5551234' }, method: 'tone' });
  assert.deepEqual(parseDialString('TP5551234', 'tone'), { to: { number: '5551234' }, method: 'pulse' });
  assert.deepEqual(parseDialString('[FE80::1]:23', 'tone'), { to: { host: 'fe80::1', port: 23 }, method: 'tone' });
});

test('sim commands: random lines never throw, and the settings stay well-formed', () => {
  const rnd = prng(250);
  const alphabet = 'ATEVQXZHOIDSLMP&CDFKW+#=?;:.,[]0123456789 atdsvq\x00\xff';
  let settings = factorySettings();
  for (let i = 0; i < 5000; i++) {
    const len = Math.floor(rnd() * 24);
    let line = rnd() < 0.8 ? 'AT' : '';
    for (let j = 0; j < len; j++) line += alphabet[Math.floor(rnd() * alphabet.length)];
    const out = executeCommandLine(settings, line, { call: (['idle', 'ringing', 'connected'] as const)[i % 3]!, identity: 'x' });
    settings = out.settings;
    assert.equal(settings.s.length, 40);
    assert.ok(settings.s.every((v) => Number.isInteger(v) && v >= 0 && v <= 255), line);
    assert.ok([0, 1, 2, 3].includes(settings.dtrMode) && settings.resultSet >= 0 && settings.resultSet <= 4, line);
    assert.ok(out.result !== undefined || ['answer', 'dial', 'online'].includes(out.effects.at(-1)?.type ?? ''), line);
  }
});
