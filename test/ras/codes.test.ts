/** The raserror.h table against raserror.h, and the small pure helpers of src/ras. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RasgateError } from '../../src/errors.js';
import * as codes from '../../src/ras/codes.js';
import { RasError } from '../../src/ras/errors.js';
import { expandIssue } from '../../src/ras/issue.js';
import { parseLogin } from '../../src/ras/login.js';

test('raserror.h values', () => {
  const expected: Record<string, number> = {
    PENDING: 600, ERROR_INVALID_PORT_HANDLE: 601, ERROR_BUFFER_TOO_SMALL: 603, ERROR_PORT_NOT_CONNECTED: 606,
    ERROR_PORT_NOT_OPEN: 618, ERROR_PORT_DISCONNECTED: 619, ERROR_DISCONNECTION: 628, ERROR_REMOTE_DISCONNECTION: 629,
    ERROR_HARDWARE_FAILURE: 630, ERROR_USER_DISCONNECTION: 631, ERROR_REQUEST_TIMEOUT: 638, ERROR_RESTRICTED_LOGON_HOURS: 646,
    ERROR_ACCT_DISABLED: 647, ERROR_PASSWD_EXPIRED: 648, ERROR_NO_DIALIN_PERMISSION: 649, ERROR_LINE_BUSY: 676, ERROR_NO_ANSWER: 678, ERROR_NO_CARRIER: 679,
    ERROR_NO_DIALTONE: 680, ERROR_IN_COMMAND: 681, ERROR_BAD_CALLBACK_NUMBER: 704,
    ERROR_AUTHENTICATION_FAILURE: 691, ERROR_ACCT_EXPIRED: 708, ERROR_SMM_TIMEOUT: 748,
  };
  for (const [name, code] of Object.entries(expected)) {
    assert.equal(codes.RAS_ERRORS[name as codes.RasErrorName].code, code, name);
    assert.equal((codes as unknown as Record<string, number>)[name], code, `named export ${name}`);
    assert.equal(codes.rasErrorName(code), name);
  }
  const all = Object.values(codes.RAS_ERRORS).map((e) => e.code);
  assert.equal(new Set(all).size, all.length, 'codes are unique');
  assert.equal(codes.rasErrorName(12345), 'RAS_12345');
  assert.deepEqual([codes.SECURITYMSG_SUCCESS, codes.SECURITYMSG_FAILURE, codes.SECURITYMSG_ERROR], [1, 2, 3]);
  assert.deepEqual([codes.UNLEN, codes.DNLEN, codes.PWLEN, codes.MAX_DEVICE_NAME], [256, 15, 256, 128]);
});

test('RasError carries the number and a stable string code', () => {
  const e = new RasError(619, 'port 3');
  assert.ok(e instanceof RasgateError);
  assert.equal(e.rasError, 619);
  assert.equal(e.code, 'RAS_ERROR_PORT_DISCONNECTED');
  assert.equal(e.message, 'The port is disconnected. port 3');
  assert.equal(new RasError(600).code, 'RAS_PENDING');
  assert.equal(new RasError(4242).code, 'RAS_4242');
});

test('parseLogin table', () => {
  const cases: Array<[string, ReturnType<typeof parseLogin>]> = [
    ['bob', { user: 'bob', valid: true }],
    ['EXAMPLE\\bob', { user: 'bob', domain: 'EXAMPLE', valid: true }],
    ['\\bob', { user: 'bob', domain: '', valid: true }],
    ['EXAMPLE\\', { user: 'EXAMPLE\\', domain: 'EXAMPLE', valid: false }],
    [`${'D'.repeat(16)}\\bob`, { user: 'bob', domain: 'D'.repeat(16), valid: false }],
    ['bob@EXAMPLE', { user: 'bob', domain: 'EXAMPLE', valid: true }],
    ['bob@example.test', { user: 'bob@example.test', domain: '', valid: true }],
    [`bob@${'D'.repeat(16)}`, { user: `bob@${'D'.repeat(16)}`, domain: '', valid: true }],
    ['a@b@EXAMPLE', { user: 'a@b', domain: 'EXAMPLE', valid: true }],
    ['@EXAMPLE', { user: '@EXAMPLE', domain: 'EXAMPLE', valid: false }],
  ];
  for (const [typed, want] of cases) assert.deepEqual(parseLogin(typed), want, typed);
  assert.deepEqual(parseLogin('EXAMPLE\\bob', false), { user: 'EXAMPLE\\bob', valid: true });
});

test('issue escapes', () => {
  const now = new Date(2026, 10, 21, 9, 8, 7);
  const v = { lineId: 'modem0', deviceName: '/dev/ttyS0', callId: 'modem0-4', callerId: { number: '5551234', name: 'BOB\x07' }, connectSpeed: 33600, now };
  assert.equal(expandIssue('\\l \\L \\C \\d \\t \\N \\n \\b \\\\ \\x', v), 'modem0 /dev/ttyS0 modem0-4 2026-11-21 09:08:07 5551234 BOB 33600 \\ \\x');
  assert.equal(expandIssue('[\\N][\\n][\\b]', { lineId: 'l', deviceName: 'd', callId: 'c', now }), '[][][]');
  assert.equal(expandIssue('trailing \\', { lineId: 'l', deviceName: 'd', callId: 'c', now }), 'trailing \\');
});
