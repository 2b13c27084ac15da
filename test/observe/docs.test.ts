import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderMachinesDoc, MACHINES, chartOf, allTransitions, toMermaid } from '../../src/observe/statecharts.js';
import { withConfigTable } from '../../src/gateway/config/docs.js';

const root = join(import.meta.dirname, '../..');
const HOW = 'run `npx tsx scripts/gen-machines-doc.ts` and commit the result';

test('docs/machines.md is generated from the current machine definitions', () => {
  assert.equal(readFileSync(join(root, 'docs/machines.md'), 'utf8'), renderMachinesDoc(), `docs/machines.md is stale: ${HOW}`);
});

test('the key table of docs/configuration.md matches the configuration schema', () => {
  const doc = readFileSync(join(root, 'docs/configuration.md'), 'utf8');
  assert.equal(doc, withConfigTable(doc), `docs/configuration.md is stale: ${HOW}`);
});

test('every machine exports with states, transitions and its invoked actors', () => {
  for (const [name, m] of Object.entries(MACHINES)) {
    const chart = chartOf(m);
    assert.ok(chart.states.length > 2, name);
    assert.ok(allTransitions(chart).length > 3, name);
    assert.match(toMermaid(chart), /^stateDiagram-v2\n/);
  }
  const call = chartOf(MACHINES.call!);
  assert.deepEqual(call.invoke.map((i) => i.src), ['carrier']);
  assert.ok(allTransitions(call).some((t) => t.source === 'call.securing' && t.event === 'SECURITY_MESSAGE' && t.guard === 'succeeded' && t.targets[0] === 'call.authorized'));
  assert.ok(allTransitions(chartOf(MACHINES.ntlmAccept!)).some((t) => t.event === 'after challengeExpiry'));
});
