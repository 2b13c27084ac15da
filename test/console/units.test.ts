import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createActor, createMachine, fromPromise, type InspectionEvent } from 'xstate';
import { LiveStates, RecentCalls, gatewaySource, startConsole } from '../../src/observe/console/index.js';
import { occupiedNodes } from '../../src/observe/console/live.js';
import { hostName } from '../../src/observe/console/http-guard.js';
import { sseFrame } from '../../src/observe/console/hub.js';
import { nullLogger } from '../../src/observe/logger.js';
import type { Gateway } from '../../src/gateway/daemon.js';
import { waitFor } from '../helpers/net.js';
import { captureLogger, fakeSource, openEvents, request } from './harness.js';

test('RecentCalls keeps the newest N, copies named fields only', () => {
  const r = new RecentCalls(3);
  for (let i = 1; i <= 5; i++) r.add({ line: 'tcp1', call: `c${i}`, outcome: 'bad-credentials', user: 'bob', durationMs: i, bytesIn: 0, bytesOut: 0, password: 'pw', ntHash: 'ab'.repeat(16) } as never, new Date(Date.UTC(2026, 0, 1, 0, 0, i)));
  assert.deepEqual(r.list().map((c) => c.call), ['c5', 'c4', 'c3']);
  assert.deepEqual(Object.keys(r.list()[0]).sort(), ['bytesIn', 'bytesOut', 'call', 'durationMs', 'endedAt', 'line', 'outcome', 'user']);
  assert.equal(r.list()[0].endedAt, '2026-01-01T00:00:05.000Z');
  assert.deepEqual(r.recentCalls(), r.list());
  assert.throws(() => new RecentCalls(0), RangeError);
});

test('occupiedNodes: nested and parallel state values become node ids', () => {
  assert.deepEqual(occupiedNodes('line', 'closed'), ['line.closed']);
  assert.deepEqual(occupiedNodes('line', { open: { connected: { live: 'waiting' } } }), ['line.open', 'line.open.connected', 'line.open.connected.live', 'line.open.connected.live.waiting']);
  assert.deepEqual(occupiedNodes('p', { a: 'x', b: { c: 'y' } }), ['p.a', 'p.a.x', 'p.b', 'p.b.c', 'p.b.c.y']);
});

test('LiveStates: machines only, dropped on stop or done, swept when missed, bounded, never throws', () => {
  let changes = 0;
  const live = new LiveStates({ onChange: () => changes++, maxActors: 2 });
  const m = createMachine({
    id: 'm',
    initial: 'a',
    states: { a: { invoke: { id: 'job', src: fromPromise(() => new Promise<void>(() => {})) }, on: { GO: 'b' } }, b: { on: { END: 'z' } }, z: { type: 'final' } },
  });
  const one = createActor(m, { inspect: live.observer }).start();
  assert.equal(live.size, 1, 'the promise child is not counted');
  one.send({ type: 'GO' });
  assert.deepEqual(live.snapshot().counts, [{ state: 'm.b', count: 1 }]);
  one.send({ type: 'END' });
  assert.equal(live.size, 0, 'done leaves');
  const two = createActor(m, { inspect: live.observer }).start();
  two.stop();
  assert.equal(live.size, 0, 'stopped leaves');
  // An actor whose stop we never saw (inspected only at start) is swept.
  let seen = true;
  const three = createActor(m, { inspect: (ev) => seen && live.observer.next?.(ev) }).start();
  seen = false;
  three.stop();
  assert.equal(live.size, 1);
  assert.equal(live.sweep(), true);
  assert.equal(live.size, 0);
  // Bounded: the oldest go first.
  const actors = [1, 2, 3].map(() => createActor(m, { inspect: live.observer }).start());
  assert.equal(live.size, 2);
  for (const a of actors) a.stop();
  assert.ok(changes > 0);
  // Garbage from a broken inspector chain does not throw into the machine.
  assert.doesNotThrow(() => live.observer.next?.({ type: '@xstate.snapshot', actorRef: null, snapshot: null } as unknown as InspectionEvent));
});

test('hostName and sseFrame', () => {
  assert.equal(hostName('[::1]:8023'), '::1');
  assert.equal(hostName('LocalHost:8023'), 'localhost');
  assert.equal(hostName('127.0.0.1'), '127.0.0.1');
  assert.equal(hostName('::1'), '::1');
  assert.equal(sseFrame('live', { a: 'x\ny' }), 'event: live\ndata: {"a":"x\\ny"}\n\n');
});

test('console: SSE heartbeat comments; a failing source is logged, not fatal', async (t) => {
  const source = fakeSource();
  const { logger, lines } = captureLogger();
  const con = await startConsole({ host: '127.0.0.1', port: 0, logger, source, heartbeatMs: 30 });
  t.after(() => con.close());
  const es = await openEvents(con.url);
  t.after(() => es.close());
  await waitFor(() => es.raw().includes(': heartbeat\n\n'), 'a heartbeat comment', 5_000);
  source.status = () => {
    throw new Error('boom');
  };
  const r = await request(con.url, { path: '/api/status' });
  assert.equal(r.status, 500);
  assert.ok(lines.some((l) => l.message === 'console: reading the gateway status failed'));
  assert.equal((await request(con.url, { path: '/api/machines' })).status, 200, 'still serving');
});

test('console: close() ends open event streams and frees the port', async () => {
  const con = await startConsole({ host: '127.0.0.1', port: 0, logger: nullLogger(), source: fakeSource() });
  const es = await openEvents(con.url);
  await con.close();
  es.close();
  await assert.rejects(request(con.url, { path: '/' }), /ECONNREFUSED/);
});

test('gatewaySource adapts the daemon Gateway (metrics is a Metrics object there)', () => {
  const recent = new RecentCalls(5);
  type GatewayLike = Parameters<typeof gatewaySource>[0];
  // Compile-time: the real Gateway fits; run-time: a stand-in with the same shape.
  const fits: (g: Gateway) => GatewayLike = (g) => g;
  assert.equal(typeof fits, 'function');
  const src = fakeSource();
  const s = gatewaySource({ status: src.status, metrics: src.metricsObj }, recent);
  assert.equal(s.metrics().callsStarted, 3);
  assert.equal(s.status().lines.length, 2);
  assert.deepEqual(s.recentCalls?.(), []);
});
