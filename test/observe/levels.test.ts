import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import winston from 'winston';
import { createLogger, underJournald } from '../../src/observe/logger.js';

function capture(options: Parameters<typeof createLogger>[0]) {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ ...options, noStdout: true, transports: [new winston.transports.Stream({ stream: new Writable({ write(c, _e, cb) { lines.push(JSON.parse(String(c))); cb(); } }) })] });
  return { logger, lines };
}

test('per-area levels: an area can be quieter or louder than the global level; `area` is the one key', () => {
  const { logger, lines } = capture({ level: 'info', modules: { ntlm: 'warn', call: 'debug' } });
  logger.child({ area: 'ntlm' }).info('ntlm info');
  logger.child({ area: 'ntlm' }).warn('ntlm warn');
  logger.child({ area: 'call' }).debug('call debug');
  logger.child({ area: 'dialogue' }).debug('dialogue debug');
  logger.child({ area: 'dialogue' }).info('dialogue info');
  logger.child({ module: 'ntlm' }).info('a `module` field is just a field');
  assert.deepEqual(lines.map((l) => l.message), ['ntlm warn', 'call debug', 'dialogue info', 'a `module` field is just a field']);
});

test('journald is detected from the environment systemd sets', () => {
  assert.equal(underJournald({ JOURNAL_STREAM: '8:1' }), true);
  assert.equal(underJournald({ INVOCATION_ID: 'abc' }), true);
  assert.equal(underJournald({}), false);
});
