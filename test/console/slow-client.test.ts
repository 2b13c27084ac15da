import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startConsole, type StatusPayload } from '../../src/observe/console/index.js';
import { waitFor } from '../helpers/net.js';
import { captureLogger, fakeSource, lastOf, openEvents } from './harness.js';

test('console: a client that stops reading is dropped; other clients keep their updates', async (t) => {
  const source = fakeSource();
  // ~150 KB per status frame, different at every poll: a stalled reader falls behind fast.
  let tick = 0;
  const lines = () => Array.from({ length: 1500 }, (_, i) => ({ id: `line-${i}`, state: `state-${tick}`, activeCalls: i % 3, lastError: 'x'.repeat(40) }));
  source.status = () => ({ lines: lines(), calls: tick });
  const { logger, lines: log } = captureLogger();
  const con = await startConsole({ host: '127.0.0.1', port: 0, logger, source, coalesceMs: 5, pollMs: 10, maxBufferBytes: 1024 * 1024 });
  t.after(() => con.close());
  const bump = setInterval(() => tick++, 10);
  t.after(() => clearInterval(bump));

  const port = Number(new URL(con.url).port);
  const stalled = connect(port, '127.0.0.1', () => {
    stalled.write(`GET /events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    stalled.pause(); // never read: the kernel buffers fill, then ours
  });
  stalled.on('error', () => {});
  t.after(() => stalled.destroy());
  const reader = await openEvents(con.url);
  t.after(() => reader.close());

  await waitFor(() => log.some((l) => l.message === 'console client too slow, dropped'), 'the stalled client dropped', 12_000);
  const drop = log.find((l) => l.message === 'console client too slow, dropped')!;
  assert.ok(Number(drop.queuedBytes) <= 1024 * 1024 + 200_000, `queued ${String(drop.queuedBytes)} bytes when dropped`);
  // The reading client is still served, with fresh frames.
  const seen = (lastOf(reader.frames, 'status') as StatusPayload).calls;
  await waitFor(() => (lastOf(reader.frames, 'status') as StatusPayload).calls > seen, 'the reading client still gets updates', 5_000);
  assert.equal(log.filter((l) => l.message === 'console client too slow, dropped').length, 1, 'only the stalled client was dropped');
});
