/**
 * The soak in 30 seconds (npm run soak runs it for 10 minutes, with growth judged): a real
 * gateway in its own process with TCP (telnet, raw) and simulated-modem lines, every caller
 * behaviour of scripts/soak/callers.ts in a seeded mix. Asserted: no crash, no uncaught
 * exception or unhandled rejection, every call started ended in a summary, and once the callers
 * stop the gateway's active calls and handles come back to the idle baseline. The slopes and the
 * other figures are printed, not asserted (30 s is too short to judge growth).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSoak } from '../../scripts/soak/run.js';
import { BEHAVIOURS } from '../../scripts/soak/callers.js';
import { formatReport, verdict } from '../../scripts/soak/report.js';

test('soak (30 s): hostile and ordinary callers on 32 lines; no crash, every call accounted for, back to idle', { timeout: 10 * 60_000 }, async (t) => {
  const run = await runSoak({ seconds: 30, lines: 32, workers: 12, seed: 20_260_101, sampleMs: 1000, warmupSeconds: 10 });
  const v = verdict(run, false);
  for (const line of formatReport(run, v).split('\n')) t.diagnostic(line);

  const ran = new Set(run.outcomes.map((o) => o.behaviour));
  assert.deepEqual(BEHAVIOURS.filter((b) => !ran.has(b)), [], 'every caller behaviour ran');

  // No crash: the gateway process ran until asked to stop, no call crashed.
  assert.equal(run.exit.expected, true, `gateway process exit ${JSON.stringify(run.exit)}: ${run.stderr.join('\n')}`);
  assert.equal(v.callsByOutcome['internal-error'] ?? 0, 0, 'no call crashed (internal-error)');
  assert.equal(run.stopped?.metrics.crashes, 0);
  assert.deepEqual(run.faults.map((f) => `${f.kind}: ${f.message}\n${f.stack ?? ''}`), [], 'no uncaught exception or unhandled rejection');

  // Every call accounted for.
  assert.ok(run.stopped, 'the gateway reported its stop');
  assert.ok(v.callsStarted > 0);
  assert.equal(v.summariesReceived, v.callsStarted, 'one summary per call started');
  assert.deepEqual(v.openCalls, [], 'calls started without a summary');
  assert.equal(run.stopped.summariesWithoutStart, 0);

  // Back to idle: no call left, the same resources (by type) and fds as before the callers.
  assert.equal(run.drained.sample.activeCalls, 0);
  assert.equal(run.drained.sample.openCalls, 0);
  assert.deepEqual({ resources: run.drained.sample.resources, fds: run.drained.sample.fds }, { resources: run.baseline.resources, fds: run.baseline.fds }, 'handles back to the idle baseline');
});
