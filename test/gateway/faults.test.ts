import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isContainedError } from '../../src/cli/commands/serve.js';
import { RasgateError } from '../../src/errors.js';

test('process-level last resort: typed errors and peer resets are contained, bugs stop the daemon', () => {
  assert.equal(isContainedError(new RasgateError('TELNET_BAD_SEQUENCE', 'x')), true);
  assert.equal(isContainedError(Object.assign(new Error('reset'), { code: 'ECONNRESET' })), true);
  assert.equal(isContainedError(Object.assign(new Error('pipe'), { code: 'EPIPE' })), true);
  assert.equal(isContainedError(new TypeError('cannot read properties of undefined')), false);
  assert.equal(isContainedError(new RangeError('x')), false);
  assert.equal(isContainedError('a string'), false);
});
