/**
 * The drawn statecharts: the generated layouts are current (elkjs from the machine definitions),
 * every state and transition of every machine is drawn, arrows start and end at their boxes,
 * and the SVG escapes what it prints. Call histories: bounded, named as the charts name events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createActor, createMachine } from 'xstate';
import { MACHINES, allTransitions, chartOf, type ChartState } from '../../src/observe/statecharts.js';
import { elkGraph, layoutAll, layoutChart, renderDiagramsModule } from '../../src/observe/diagram-layout.js';
import { renderSvg, type Diagram } from '../../src/observe/diagrams.js';
import { DIAGRAMS } from '../../src/observe/console/diagrams.generated.js';
import { CallHistories, chartEventName } from '../../src/observe/console/history.js';
import { LiveStates } from '../../src/observe/console/live.js';
import { labelActors } from '../../src/observe/inspector.js';

const root = join(import.meta.dirname, '../..');

test('src/observe/console/diagrams.generated.ts is laid out from the current machine definitions', { timeout: 120_000 }, async () => {
  const file = readFileSync(join(root, 'src/observe/console/diagrams.generated.ts'), 'utf8');
  assert.equal(file, renderDiagramsModule(await layoutAll()), 'stale: run `npx tsx scripts/gen-machines-doc.ts` and commit the result');
});

const states = (c: ChartState): ChartState[] => [c, ...c.states.flatMap(states)];
const inside = (outer: { x: number; y: number; width: number; height: number }, p: { x: number; y: number }, slack = 1.5) =>
  p.x >= outer.x - slack && p.x <= outer.x + outer.width + slack && p.y >= outer.y - slack && p.y <= outer.y + outer.height + slack;

test('every state is a box inside its parent, every transition an arrow from its box to its target with its event', () => {
  assert.deepEqual(DIAGRAMS.map((d) => d.machine), Object.keys(MACHINES));
  for (const d of DIAGRAMS) {
    const chart = chartOf(MACHINES[d.machine]!);
    const boxes = new Map(d.nodes.map((n) => [n.id, n]));
    for (const s of states(chart).slice(1)) {
      const box = boxes.get(s.id);
      assert.ok(box, `${s.id} drawn`);
      const parent = boxes.get(s.id.split('.').slice(0, -1).join('.'));
      if (parent) assert.ok(inside(parent, box) && inside(parent, { x: box.x + box.width, y: box.y + box.height }), `${s.id} inside ${parent.id}`);
    }
    for (const t of allTransitions(chart)) {
      for (const target of t.targets) {
        const source = t.source === chart.id ? `${chart.id}#any` : t.source;
        const edge = d.edges.find((e) => e.source === source && e.target === target);
        assert.ok(edge, `${d.machine}: ${source} -> ${target} on ${t.event}`);
        assert.ok(edge.events.includes(t.event), `${source} -> ${target} carries ${t.event}`);
        assert.ok(edge.points.length >= 2, 'routed');
        const from = boxes.get(source)!;
        const to = boxes.get(target)!;
        assert.ok(inside(from, edge.points[0]!, 3), `${d.machine} ${edge.id} starts at ${source}`);
        assert.ok(inside(to, edge.points[edge.points.length - 1]!, 3), `${d.machine} ${edge.id} ends at ${target}`);
      }
    }
    const svg = renderSvg(d);
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.ok(!/<script|<style|style=|href="http/.test(svg), 'no script, no inline style, no external reference');
    assert.equal((svg.match(/<g class="state /g) ?? []).length, d.nodes.length);
  }
});

test('elkGraph: an edge lives in the lowest common ancestor; renderSvg escapes names', async () => {
  const chart = chartOf(createMachine({
    id: 'm',
    initial: 'a',
    on: { RESET: '.a' },
    states: { a: { on: { GO: 'p.x' } }, p: { initial: 'x', on: { BACK: 'a', IN: '.y' }, states: { x: { on: { NEXT: 'y' } }, y: { on: { SELF: 'y' } } } } },
  }) as never);
  const { graph } = elkGraph(chart);
  const where = new Map<string, string>();
  const walk = (n: typeof graph) => {
    for (const e of n.edges ?? []) where.set(`${e.sources[0]}>${e.targets[0]}`, n.id);
    for (const c of n.children ?? []) walk(c);
  };
  walk(graph);
  assert.equal(where.get('m.a>m.p.x'), 'm');
  assert.equal(where.get('m.p.x>m.p.y'), 'm.p');
  assert.equal(where.get('m.p>m.p.y'), 'm.p', 'a compound state to its own child: in the compound');
  assert.equal(where.get('m.p.y>m.p.y'), 'm.p', 'a loop: in its parent');
  assert.equal(where.get('m#any>m.a'), 'm');
  const d: Diagram = await layoutChart('m', chart);
  d.nodes.find((n) => n.type === 'atomic')!.name = '<b onload="x">&';
  const svg = renderSvg(d);
  assert.ok(svg.includes('&#60;b onload=&#34;x&#34;&#62;&#38;'));
  assert.ok(!svg.includes('<b onload'));
});

test('call histories: steps named as the chart names events, bounded per call and in calls; line machines labelled', () => {
  assert.equal(chartEventName('xstate.after.loginTimeout.dialogue.collecting'), 'after loginTimeout');
  assert.equal(chartEventName('xstate.done.actor.verify'), 'done verify');
  assert.equal(chartEventName('xstate.error.actor.exec'), 'error exec');
  assert.equal(chartEventName('SECURITY_MESSAGE'), 'SECURITY_MESSAGE');
  const h = new CallHistories({ maxCalls: 2, maxSteps: 3 });
  let t = 0;
  const live = new LiveStates({ history: h, now: () => Date.UTC(2026, 0, 1) + t++ * 1000 });
  const m = createMachine({ id: 'mm', context: { callId: 'c1', lineId: 'l1' }, initial: 'a', states: { a: { on: { T: 'b' } }, b: { on: { T: 'a', END: 'z' } }, z: { type: 'final' } } });
  const one = createActor(m, { inspect: live.observer }).start();
  for (let i = 0; i < 3; i++) one.send({ type: 'T' });
  one.send({ type: 'END' });
  const kept = h.get('c1')!;
  assert.equal(kept.line, 'l1');
  assert.equal(kept.truncated, true);
  assert.deepEqual(kept.steps.map((s) => `${s.from}>${s.to} ${s.event}`), ['b>a T', 'a>b T', 'b>z END'], 'the final step is kept');
  assert.equal(kept.steps[0]!.at, '2026-01-01T00:00:02.000Z');
  for (const c of ['c2', 'c3']) createActor(createMachine({ id: 'n', context: { callId: c }, initial: 'a', states: { a: {} } }), { inspect: live.observer }).start();
  assert.deepEqual(h.list().map((c) => c.call), ['c3', 'c2']);
  // A line machine has no ids in its context: the gateway labels it.
  const line = createActor(createMachine({ id: 'tcpLine', initial: 'closed', states: { closed: {} } }), { inspect: labelActors(live.observer, { line: 'tcp7' }) }).start();
  assert.equal(live.snapshot().actors.find((a) => a.machine === 'tcpLine')?.line, 'tcp7');
  line.stop();
});
