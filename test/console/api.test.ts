import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createActor, createMachine } from 'xstate';
import { startConsole, type StatusPayload } from '../../src/observe/console/index.js';
import { occupiedNodes, type LiveSnapshot } from '../../src/observe/console/live.js';
import { nullLogger } from '../../src/observe/logger.js';
import { waitFor } from '../helpers/net.js';
import { SECRET, fakeSource, lastOf, liveCall, openEvents } from './harness.js';

const countOf = (live: unknown, state: string) => (live as LiveSnapshot | undefined)?.counts.find((c) => c.state === state)?.count ?? 0;

test('console API: status, machines, and live states from a real actor over SSE; no secret anywhere', async (t) => {
  const source = fakeSource();
  const con = await startConsole({ host: '127.0.0.1', port: 0, logger: nullLogger(), source, coalesceMs: 10, pollMs: 50 });
  t.after(() => con.close());
  assert.match(con.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);

  const machines = (await (await fetch(new URL('/api/machines', con.url))).json()) as { machines: { name: string; chart: { id: string } }[] };
  assert.deepEqual(machines.machines.map((m) => m.name).sort(), ['call', 'dialogue', 'gateway', 'line', 'ntlmAccept', 'tcpLine']);
  // Node ids the live view counts are the chart's own ids.
  const ids = new Set<string>();
  const walk = (n: { id: string; states?: unknown[] }) => {
    ids.add(n.id);
    for (const c of (n.states ?? []) as { id: string }[]) walk(c);
  };
  for (const m of machines.machines) walk(m.chart);
  for (const id of occupiedNodes('line', { open: { idle: 'waiting' } })) assert.ok(ids.has(id), id);

  const es = await openEvents(con.url);
  t.after(() => es.close());
  assert.equal(es.status, 200);
  await waitFor(() => lastOf(es.frames, 'status'), 'first status frame');
  const st = lastOf(es.frames, 'status') as StatusPayload;
  assert.deepEqual(st.lines.map((l) => [l.id, l.state, l.activeCalls]), [['tcp1', 'listening', 1], ['modem0', 'idle', 0]]);
  assert.equal(st.metrics.callsStarted, 3);
  assert.equal(st.recent[0].user, 'alice');
  assert.equal(st.recent[0].peer, '5551234');

  const a = liveCall(con.observer, 'c-0002');
  await waitFor(() => countOf(lastOf(es.frames, 'live'), 'call.securing') === 1, 'call.securing live');
  const b = liveCall(con.observer, 'c-0003');
  await waitFor(() => countOf(lastOf(es.frames, 'live'), 'call.securing') === 2, 'two actors in call.securing');
  a.login();
  await waitFor(() => countOf(lastOf(es.frames, 'live'), 'call.executing') === 1 && countOf(lastOf(es.frames, 'live'), 'call.securing') === 1, 'one moved to call.executing');
  const live = lastOf(es.frames, 'live') as LiveSnapshot;
  const moved = live.actors.find((x) => x.call === 'c-0002');
  assert.deepEqual({ machine: moved?.machine, line: moved?.line, state: moved?.state }, { machine: 'call', line: 'tcp1', state: 'executing' });

  // The same through the JSON snapshot.
  const snap = (await (await fetch(new URL('/api/status', con.url))).json()) as StatusPayload & { live: LiveSnapshot };
  assert.equal(countOf(snap.live, 'call.executing'), 1);
  assert.equal(snap.lines.length, 2);

  // Finished and stopped actors disappear.
  a.hangUp();
  b.actor.stop();
  await waitFor(() => (lastOf(es.frames, 'live') as LiveSnapshot).actors.length === 0, 'live actors gone');
  assert.equal(countOf(lastOf(es.frames, 'live'), 'call.executing'), 0);

  // A status change reaches the browser on the next poll.
  source.lines[1] = { id: 'modem0', state: 'ringing', activeCalls: 0 };
  await waitFor(() => (lastOf(es.frames, 'status') as StatusPayload).lines[1].state === 'ringing', 'status update');

  const everything = es.raw() + JSON.stringify(snap) + JSON.stringify(machines);
  assert.ok(!everything.includes(SECRET), 'the password never reaches the browser');
  assert.ok(!/"(context|password)":/.test(everything), `no context, no password field: ${/.{80}"(context|password)":.{80}/.exec(everything)?.[0]}`);
});

test('console SSE coalesces a burst of transitions into few frames', async (t) => {
  const con = await startConsole({ host: '127.0.0.1', port: 0, logger: nullLogger(), source: fakeSource(), coalesceMs: 50, pollMs: 60_000 });
  t.after(() => con.close());
  const es = await openEvents(con.url);
  t.after(() => es.close());
  await waitFor(() => lastOf(es.frames, 'live'), 'first live frame');
  const toggler = createActor(createMachine({ id: 'toggle', initial: 'a', states: { a: { on: { T: 'b' } }, b: { on: { T: 'a' } } } }), { inspect: con.observer });
  toggler.start();
  const before = es.frames.filter((f) => f.event === 'live').length;
  for (let i = 0; i < 1001; i++) toggler.send({ type: 'T' }); // ends in b
  await waitFor(() => countOf(lastOf(es.frames, 'live'), 'toggle.b') === 1, 'final state b');
  const sent = es.frames.filter((f) => f.event === 'live').length - before;
  assert.ok(sent <= 2, `1001 transitions in one tick gave ${sent} live frames`);
  toggler.stop();
});
