import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RasgateError, OptionError, errorSummary } from '../src/errors.js';

test('errors carry stable codes and name the bad key', () => {
  const e = new OptionError('lines[0].listen', 'must be tcp://HOST:PORT');
  assert.ok(e instanceof RasgateError);
  assert.equal(e.code, 'OPTION_INVALID');
  assert.equal(e.name, 'OptionError');
  assert.match(e.message, /"lines\[0\]\.listen" must be/);
  assert.deepEqual(errorSummary(e), { code: 'OPTION_INVALID', message: e.message });
});
