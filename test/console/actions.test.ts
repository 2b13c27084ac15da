/**
 * Operator actions through POST /api/actions: signed in, same Origin, JSON, confirmed; carried out
 * through ConsoleActions (a fake here: the Gateway's operator paths are wired by the lead), logged
 * with the operator's name and recorded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startConsole, type ConsoleActions, type Operator } from '../../src/observe/console/index.js';
import { parseActionRequest } from '../../src/observe/console/actions.js';
import { sameOrigin } from '../../src/observe/console/http-guard.js';
import { OPERATORS, captureLogger, fakeSource, ntlmSession, signInFixture } from './harness.js';

test('parseActionRequest: known actions, a sane target, confirmed', () => {
  assert.deepEqual(parseActionRequest('{"action":"hangup","target":"tcp0-3","confirmed":true}'), { action: 'hangup', target: 'tcp0-3' });
  assert.match(String(parseActionRequest('{"action":"hangup","target":"tcp0-3"}')), /not confirmed/);
  assert.match(String(parseActionRequest('{"action":"format-disk","target":"x","confirmed":true}')), /unknown action/);
  assert.match(String(parseActionRequest('{"action":"unlock","target":"","confirmed":true}')), /target/);
  assert.match(String(parseActionRequest(`{"action":"unlock","target":"${'a'.repeat(300)}","confirmed":true}`)), /target/);
  assert.match(String(parseActionRequest('{"action":"unlock","target":"a\\u0000b","confirmed":true}')), /target/);
  assert.match(String(parseActionRequest('[1]')), /object/);
  assert.match(String(parseActionRequest('{')), /JSON/);
  assert.equal(sameOrigin('http://127.0.0.1:8023', '127.0.0.1:8023', false), true);
  assert.equal(sameOrigin('http://localhost:9023', 'localhost:9023', false), true, 'through a tunnel: the port the browser used');
  assert.equal(sameOrigin('https://127.0.0.1:8023', '127.0.0.1:8023', false), false);
  assert.equal(sameOrigin('http://evil.example', '127.0.0.1:8023', false), false);
  assert.equal(sameOrigin(undefined, '127.0.0.1:8023', false), false);
});

test('actions: each carried out with the operator, logged and recorded; cross-origin, unconfirmed and unknown refused; a throwing action is a failure', async (t) => {
  const fx = signInFixture();
  const { logger, lines } = captureLogger();
  const done: { what: string; target: string; by: Operator }[] = [];
  const actions: ConsoleActions = {
    hangup: (call, by) => (done.push({ what: 'hangup', target: call, by }), call === 'c-404' ? { ok: false, error: 'no such call' } : { ok: true }),
    setLineInService: (line, inService, by) => (done.push({ what: inService ? 'in' : 'out', target: line, by }), { ok: true }),
    unlock: () => {
      throw new Error('store is read-only');
    },
  };
  const source = fakeSource();
  const con = await startConsole({ host: '127.0.0.1', port: 0, logger, source, signIn: { credential: fx.credential }, actions, hooks: fx.hooks });
  t.after(async () => {
    await con.close();
    await fx.cleanup();
  });
  const origin = con.url.slice(0, -1);
  const s = ntlmSession(con.url, 'alice', OPERATORS.alice);
  t.after(() => s.close());
  assert.equal((await s.signIn()).status, 200);
  const session = JSON.parse((await s.request('/api/session')).body) as { operator: string; actions: Record<string, boolean> };
  assert.equal(session.operator, 'GATE\\alice');
  assert.deepEqual(session.actions, { hangup: true, 'line-out-of-service': true, 'line-in-service': true, unlock: true, 'clear-penalty': false });

  const post = (body: unknown, headers: Record<string, string> = { Origin: origin, 'Content-Type': 'application/json' }) => s.request('/api/actions', { method: 'POST', headers, body: JSON.stringify(body) });
  const ok = await post({ action: 'hangup', target: 'c-0001', confirmed: true });
  assert.equal(ok.status, 200, ok.body);
  assert.deepEqual(JSON.parse(ok.body), { ok: true });
  assert.equal(done[0]?.by.user, 'alice');
  assert.equal(done[0]?.by.source, '127.0.0.1');
  assert.equal((await post({ action: 'line-out-of-service', target: 'tcp1', confirmed: true })).status, 200);
  assert.equal((await post({ action: 'line-in-service', target: 'tcp1', confirmed: true })).status, 200);
  assert.deepEqual(done.map((d) => `${d.what} ${d.target}`), ['hangup c-0001', 'out tcp1', 'in tcp1']);

  const failed = await post({ action: 'hangup', target: 'c-404', confirmed: true });
  assert.equal(failed.status, 409);
  assert.deepEqual(JSON.parse(failed.body), { ok: false, error: 'no such call' });
  const thrown = await post({ action: 'unlock', target: 'bob', confirmed: true });
  assert.equal(thrown.status, 409);
  assert.match(thrown.body, /read-only/);
  assert.equal((await post({ action: 'clear-penalty', target: '10.0.0.9', confirmed: true })).status, 409, 'not offered');

  // A page elsewhere, or no page at all, may not act, even on a signed-in connection.
  assert.equal((await post({ action: 'hangup', target: 'c-0002', confirmed: true }, { Origin: 'http://evil.example', 'Content-Type': 'application/json' })).status, 403);
  assert.equal((await post({ action: 'hangup', target: 'c-0002', confirmed: true }, { 'Content-Type': 'application/json' })).status, 403);
  assert.equal((await post({ action: 'hangup', target: 'c-0002', confirmed: true }, { Origin: origin, 'Content-Type': 'text/plain' })).status, 415);
  assert.equal((await post({ action: 'hangup', target: 'c-0002' })).status, 400);
  const big = await s.request('/api/actions', { method: 'POST', headers: { Origin: origin, 'Content-Type': 'application/json' }, body: JSON.stringify({ action: 'hangup', target: 'x', confirmed: true, pad: 'x'.repeat(10_000) }) });
  assert.equal(big.status, 413);
  assert.equal(done.filter((d) => d.target === 'c-0002').length, 0);

  const logged = lines.filter((l) => l.message === 'console action');
  assert.deepEqual(logged.map((l) => [l.operator, l.action, l.target, l.result]), [
    ['GATE\\alice', 'hangup', 'c-0001', 'done'],
    ['GATE\\alice', 'line-out-of-service', 'tcp1', 'done'],
    ['GATE\\alice', 'line-in-service', 'tcp1', 'done'],
  ]);
  assert.ok(lines.some((l) => l.message === 'console action failed' && l.target === 'c-404' && l.error === 'no such call'));
  assert.ok(lines.some((l) => l.message === 'console action refused: not from the console page'));
  const recorded = fx.records.filter((r) => r.type === 'console-action');
  assert.equal(recorded.length, 6);
  assert.ok(recorded.every((r) => r.type === 'console-action' && r.operator === 'GATE\\alice'));
});
