import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import winston from 'winston';
import { createLogger } from '../../src/observe/logger.js';

test('secrets never reach a transport', () => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
  const log = createLogger({ noStdout: true, transports: [new winston.transports.Stream({ stream: sink })] });
  log.child({ line: 'tcp0' }).info('verify', {
    password: 'Hunter2!', ntHash: 'a4f49c406510bdcab6824ee7c30fd852', user: 'alice',
    nested: { sessionKey: Buffer.alloc(16, 1), raw: Buffer.from('secret') },
    blob: 'TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw==',
  });
  const out = lines.join('');
  assert.doesNotMatch(out, /Hunter2|a4f49c40|TlRMTVNT|c2VjcmV0/);
  assert.match(out, /"user":"alice"/);
  assert.match(out, /"line":"tcp0"/);
});

test('words that only contain a secret word are not redacted (outcome counts, a bypass)', () => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
  const log = createLogger({ noStdout: true, transports: [new winston.transports.Stream({ stream: sink })] });
  log.info('stopped', { outcomes: { 'bad-credentials': 3, accepted: 2 }, bypass: 'no', bindPassword: 'S3cret', credentials: 'x', pass: 'y' });
  const out = lines.join('');
  assert.match(out, /"bad-credentials":3/);
  assert.match(out, /"bypass":"no"/);
  assert.doesNotMatch(out, /S3cret|"credentials":"x"|"pass":"y"/);
});
