/**
 * The pure parts of callback: numbers (what may reach the modem's command line, masking, allow
 * patterns), the directory's attributes, the policy file's format, the typed answer, and the
 * per-line settings in the configuration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskNumber, numberAllowed, parseCallbackNumber } from '../../src/callback/number.js';
import { checkedPolicy, directoryCallbackPolicy } from '../../src/callback/policy.js';
import { callbackPolicyOf, formatUserPolicy, parseUserPolicy, UserPolicyError } from '../../src/callback/user-policy.js';
import { decideAnswer } from '../../src/callback/ask.js';
import { parseConfig, formatIssue } from '../../src/gateway/config.js';
import { prng } from '../helpers/prng.js';

test('callback numbers: phone numbers keep their dial characters, IP:PORT is kept whole, anything else is refused', () => {
  const ok: Array<[string, { dial: string; digits: string; kind: string }]> = [
    ['555-1234', { dial: '5551234', digits: '5551234', kind: 'phone' }],
    [' (555) 123.4567 ', { dial: '5551234567', digits: '5551234567', kind: 'phone' }],
    ['9w555,1234', { dial: '9W555,1234', digits: '95551234', kind: 'phone' }],
    ['*70#5551234', { dial: '*70#5551234', digits: '*70#5551234', kind: 'phone' }],
    ['127.0.0.1:6400', { dial: '127.0.0.1:6400', digits: '127.0.0.1:6400', kind: 'address' }],
    ['[::1]:6400', { dial: '[::1]:6400', digits: '[::1]:6400', kind: 'address' }],
  ];
  for (const [text, want] of ok) assert.deepEqual(parseCallbackNumber(text), want, text);
  for (const bad of ['', '   ', 'TPW', '555;', '555\r\nATZ', '555+1', 'ATDT555', '1'.repeat(129), '300.0.0.1:80', '127.0.0.1:0', '127.0.0.1:70000', '\u0000555', 'five five five']) {
    assert.equal(parseCallbackNumber(bad), undefined, JSON.stringify(bad));
  }
});

test('callback numbers: random input never yields a dial string with a character outside the dial set', () => {
  const rnd = prng(1414);
  const alphabet = '0123456789*#TPW,@!() .-;:+ATDZHO\r\n\u0000[]abcdef\u00ff';
  for (let i = 0; i < 20_000; i++) {
    const text = Array.from({ length: Math.floor(rnd() * 24) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');
    const n = parseCallbackNumber(text);
    if (n) assert.match(n.dial, /^([0-9*#TPW,@!]+|[0-9.]+:\d+|\[[0-9a-f:.]+\]:\d+)$/, JSON.stringify(text));
  }
});

test('callback numbers: the caller hears the last digits only; allow patterns match the digits', () => {
  assert.equal(maskNumber(parseCallbackNumber('555-1234')!), '...-1234');
  assert.equal(maskNumber(parseCallbackNumber('127.0.0.1:6400')!), '...-6400');
  assert.equal(maskNumber(parseCallbackNumber('123')!), '...-3');
  const n = parseCallbackNumber('(555) 777-0000')!;
  assert.ok(numberAllowed(n, ['555*']));
  assert.ok(numberAllowed(n, ['/^5557770{4}$/']));
  assert.ok(!numberAllowed(n, []), 'no pattern: nothing allowed');
  assert.ok(!numberAllowed(n, ['0900*', '555']));
});

test('the typed answer: empty takes the default or none; a number must parse and be allowed', () => {
  assert.deepEqual(decideAnswer('  ', ['555*'], undefined), { kind: 'none' });
  assert.deepEqual(decideAnswer('', [], '5550000'), { kind: 'number', number: '5550000', source: 'default' });
  assert.deepEqual(decideAnswer('555-1234', ['555*'], undefined), { kind: 'number', number: '555-1234', source: 'caller' });
  assert.deepEqual(decideAnswer('0900 666', ['555*'], undefined), { kind: 'refused', text: '0900 666' });
  assert.deepEqual(decideAnswer('\u001b[31m555', ['555*'], undefined), { kind: 'refused', text: '[31m555' }, 'control characters never reach the log');
  assert.equal((decideAnswer('9'.repeat(500), ['9*'], undefined) as { text: string }).text.length, 64);
});

test('the directory: service type 3/4 with a number is Preset, without one Set By Caller, anything else none', () => {
  assert.equal(directoryCallbackPolicy(undefined), undefined, 'nothing read: the local rules decide');
  assert.deepEqual(directoryCallbackPolicy({ serviceType: 4, callbackNumber: '5551234' }), { mode: 'preset', number: '5551234' });
  assert.deepEqual(directoryCallbackPolicy({ serviceType: 3, callbackNumber: ' 5551234 ' }), { mode: 'preset', number: '5551234' });
  assert.deepEqual(directoryCallbackPolicy({ serviceType: 4 }), { mode: 'caller' });
  assert.deepEqual(directoryCallbackPolicy({ serviceType: 4, callbackNumber: '' }), { mode: 'caller' });
  assert.deepEqual(directoryCallbackPolicy({ callbackNumber: '5551234' }), { mode: 'none' }, 'a number alone asks for nothing');
  assert.deepEqual(directoryCallbackPolicy({ serviceType: 2, callbackNumber: '5551234' }), { mode: 'none' });
  assert.throws(() => checkedPolicy({ mode: 'preset', number: '555;ATH' }, 'x'), { code: 'CALLBACK_NUMBER_INVALID' });
});

test('the policy file: parsed and checked with key paths; written back the same', () => {
  const text = 'users:\n  alice: { callback: { mode: preset, number: "555-1234" } }\n  Bob: { callback: { mode: caller, default: "5550000" } }\n  carol: {}\n';
  const p = parseUserPolicy(text, 'f');
  assert.deepEqual(callbackPolicyOf(p.users.alice), { mode: 'preset', number: '555-1234' });
  assert.deepEqual(callbackPolicyOf(p.users.Bob), { mode: 'caller', defaultNumber: '5550000' });
  assert.deepEqual(callbackPolicyOf(p.users.carol), { mode: 'none' });
  assert.deepEqual(parseUserPolicy(formatUserPolicy(p), 'f'), p);
  assert.deepEqual(parseUserPolicy('', 'f').users, {});
  const problems = (t: string) => {
    try {
      parseUserPolicy(t, 'f');
      return [];
    } catch (err) {
      assert.ok(err instanceof UserPolicyError);
      return err.problems;
    }
  };
  assert.deepEqual(problems('users: { alice: { callback: { mode: preset } } }'), ['users.alice.callback.number: is required with mode: preset']);
  assert.deepEqual(problems('users: { alice: { callback: { mode: none, number: "5" } } }'), ['users.alice.callback.number: goes with mode: preset only']);
  assert.match(problems('users: { alice: { callback: { mode: preset, number: "5;ATH" } } }')[0]!, /users\.alice\.callback\.number: "5;ATH" is not a callback number/);
  assert.deepEqual(problems('users: { alice: {}, ALICE: {} }'), ['users.ALICE: is also users.alice (names match case-insensitively)']);
  assert.match(problems('users: { "a b": {} }')[0]!, /is not a user name/);
  assert.match(problems('users: { alice: { lines: [x] } }')[0]!, /users\.alice\.lines: unknown key/);
  assert.match(problems('version: 2')[0]!, /version: 2 is above the maximum 1/);
  assert.match(problems('a: &a [*a, *a]\nb: [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]')[0]!, /YAML|unknown key/);
  assert.match(problems('users: [')[0]!, /^YAML/);
});

test('configuration: callback on a TCP line is refused with the reason; on a modem line every key is checked', () => {
  const issues = (yaml: string) => parseConfig(yaml, 't.yaml', '/srv').issues.map(formatIssue);
  assert.deepEqual(issues('lines: [{ listen: tcp://127.0.0.1:2323, callback: {} }]'), [
    'lines[0].callback: a TCP line cannot call back: it has no telephone line to dial on (hint: remove callback:, or offer it on a modem line (device:))',
  ]);
  assert.deepEqual(issues('lines: [{ listen: tcp://127.0.0.1:2323, callback: { offered: false } }]'), []);
  assert.deepEqual(issues("lines: [{ device: 'sim://a', callback: { attempts: 0, dialPrefix: '9;', allow: ['/(/'], delaySeconds: -1, reauthenticate: 'yes' } }]"), [
    'lines[0].callback.attempts: 0 is below the minimum 1',
    'lines[0].callback.dialPrefix: "9;" is not a dial prefix (at most 16 of 0-9 * # T P W , @ !)',
    'lines[0].callback.allow[0]: "/(/" is not a regular expression: Invalid regular expression: /(/: Unterminated group',
    'lines[0].callback.delaySeconds: -1 is below the minimum 0',
    'lines[0].callback.reauthenticate: "yes" is not true or false (hint: write true (YAML 1.2 reads "yes" as a string))',
  ]);
  const c = parseConfig("lines: [{ device: 'sim://a', callback: { allow: ['555*'] } }, { device: 'sim://b' }]\nauthority: { file: ./var/smbpasswd }", 't.yaml', '/srv').config!;
  assert.deepEqual(c.lines[0]!.callback, { offered: true, delaySeconds: 5, answerTimeoutSeconds: 60, attempts: 3, retryDelaySeconds: 10, dialPrefix: '', allow: ['555*'], reauthenticate: true });
  assert.equal(c.lines[1]!.callback, undefined, 'no callback: key, no callback');
  assert.equal(c.authority.type === 'local' && c.authority.policyFile, '/srv/var/user-policy.yaml', 'beside the store');
});
