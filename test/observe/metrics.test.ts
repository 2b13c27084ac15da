/** The metrics' own rules: snapshot and exposition agree, providers that fail read 0, health from the lines. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics } from '../../src/observe/metrics.js';
import { health } from '../../src/observe/metrics-http.js';

test('record() moves the counters by line and outcome; snapshot() says the same', async () => {
  const m = new Metrics();
  m.callStarted('tcp0');
  m.callStarted('sim0');
  m.record({ line: 'tcp0', outcome: 'accepted', bytesIn: 10, bytesOut: 20 });
  m.loginResult('accepted', 0.2, 'SEC_E_OK');
  const text = await m.text();
  assert.match(text, /^rasgate_calls_total\{line="tcp0",outcome="accepted"\} 1$/m);
  assert.match(text, /^rasgate_calls_active\{line="sim0"\} 1$/m);
  assert.match(text, /^rasgate_calls_active\{line="tcp0"\} 0$/m);
  assert.match(text, /^rasgate_call_bytes_total\{direction="out"\} 20$/m);
  assert.match(text, /^rasgate_ntlm_results_total\{status="SEC_E_OK"\} 1$/m);
  assert.match(text, /^rasgate_login_duration_seconds_bucket\{le="0.25",outcome="accepted"\} 1$/m);
  const s = m.snapshot();
  assert.equal(s.callsStarted, 2);
  assert.equal(s.callsActive, 1);
  assert.equal(s.loginsAccepted, 1);
});

test('lockout and penalty gauges read their provider at each scrape; a failing one reads 0', async () => {
  const m = new Metrics();
  assert.match(await m.text(), /^rasgate_lockouts_active 0$/m);
  let n = 3;
  m.useGuard({ lockoutsActive: () => n, penaltiesActive: () => { throw new Error('guard broke'); } });
  assert.match(await m.text(), /^rasgate_lockouts_active 3$/m);
  n = 1;
  const text = await m.text();
  assert.match(text, /^rasgate_lockouts_active 1$/m);
  assert.match(text, /^rasgate_penalties_active 0$/m);
});

test('lines by state, read at each scrape', async () => {
  const m = new Metrics();
  let lines = [{ id: 'a', state: 'idle' }, { id: 'b', state: 'idle' }];
  m.useLines({ lines: () => lines });
  assert.match(await m.text(), /^rasgate_lines\{state="idle"\} 2$/m);
  lines = [{ id: 'a', state: 'reopening' }];
  const text = await m.text();
  assert.match(text, /^rasgate_lines\{state="reopening"\} 1$/m);
  assert.doesNotMatch(text, /state="idle"/);
});

test('health: ok, degraded with the count down, down; out of service is not down', () => {
  const src = (phase: string, states: Array<[string, boolean?]>) => ({ phase, status: () => ({ lines: states.map(([state, out], i) => ({ id: `l${i}`, state, ...(out ? { outOfService: {} } : {}) })) }) });
  assert.equal(health(src('running', [['idle'], ['connected']])).status, 'ok');
  const d = health(src('running', [['idle'], ['reopening'], ['failed', true]]));
  assert.deepEqual([d.status, d.linesDown, d.linesOutOfService], ['degraded', 1, 1]);
  assert.equal(health(src('running', [['failed'], ['reopening']])).status, 'down');
  assert.equal(health(src('running', [['idle'], ['off']])).status, 'ok');
  assert.equal(health(src('stopping', [['idle']])).status, 'down');
});

test('the console serves /metrics and /healthz on its own listener when given the routes', async () => {
  const { startConsole } = await import('../../src/observe/console/index.js');
  const { metricsRoutes } = await import('../../src/observe/metrics-http.js');
  const { nullLogger } = await import('../../src/logging.js');
  const m = new Metrics();
  m.callStarted('tcp0');
  const lines = [{ id: 'tcp0', state: 'idle', activeCalls: 0 }];
  const routes = metricsRoutes({ metrics: m, health: { phase: 'running', status: () => ({ lines }) }, logger: nullLogger() });
  const c = await startConsole({ host: '127.0.0.1', port: 0, logger: nullLogger(), source: { status: () => ({ lines, calls: 0 }), metrics: () => m.snapshot() }, routes });
  try {
    const metrics = await fetch(new URL('/metrics', c.url));
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /^rasgate_calls_started_total\{line="tcp0"\} 1$/m);
    const h = await fetch(new URL('/healthz', c.url));
    assert.equal(h.status, 200);
    assert.match(await h.text(), /^ok\n/);
    assert.equal((await fetch(new URL('/api/status', c.url))).status, 200, 'the console itself still answers');
  } finally {
    await c.close();
  }
});
