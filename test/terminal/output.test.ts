import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crlf, printable } from '../../src/terminal/output.js';

test('crlf: every newline form becomes CRLF', () => {
  assert.equal(crlf('a\nb\r\nc\rd').toString(), 'a\r\nb\r\nc\r\nd');
});

test('crlf: control characters other than BEL/BS/TAB are removed', () => {
  assert.equal(crlf('a\x1b[2Jb\x00c\x07\x08\t\x9bd').toString('latin1'), 'a[2Jbc\x07\x08\td');
});

test('crlf: UTF-8 by default, ? on 7-bit lines', () => {
  assert.deepEqual([...crlf('é')], [0xc3, 0xa9]);
  assert.equal(crlf('é\n', { sevenBit: true }).toString(), '?\r\n');
});

test('printable strips every control character', () => {
  assert.equal(printable('Bob\x1b]0;x\x07\r\n'), 'Bob]0;x');
});
