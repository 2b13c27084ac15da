/**
 * `npm run soak -- [--minutes N] [--lines N] [--callers N] [--seed N] [--sim-share F] [--sample-seconds S]
 *                   [--json FILE] [--log-file FILE] [--heap-snapshot PREFIX]`
 *
 * A long-running gateway under ordinary and hostile callers (scripts/soak/run.ts, callers.ts);
 * prints the figures and the verdict (report.ts) and exits 0 on PASS, 1 on FAIL.
 * Default: 10 minutes, 256 lines (half simulated modems), 64 callers at once, seed 1.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runSoak } from './run.js';
import { formatReport, verdict } from './report.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    lines: { type: 'string', default: '256' },
    callers: { type: 'string', default: '64' },
    seed: { type: 'string', default: '1' },
    'sim-share': { type: 'string', default: '0.5' },
    'sample-seconds': { type: 'string', default: '5' },
    json: { type: 'string' },
    'log-file': { type: 'string' },
    'heap-snapshot': { type: 'string' },
  },
});

function number(name: string, text: string | undefined, min: number, max: number): number {
  const v = Number(text);
  if (!Number.isFinite(v) || v < min || v > max) {
    process.stderr.write(`soak: --${name} must be a number from ${min} to ${max}, got ${JSON.stringify(text)}\n`);
    process.exit(2);
  }
  return v;
}

const minutes = number('minutes', values.minutes, 0.1, 24 * 60);
const started = new Date();
const stamp = () => `[${((Date.now() - started.getTime()) / 1000).toFixed(0).padStart(4)} s]`;
const run = await runSoak({
  seconds: minutes * 60,
  lines: number('lines', values.lines, 1, 4096),
  workers: number('callers', values.callers, 1, 4096),
  seed: number('seed', values.seed, 0, 2 ** 31),
  simShare: number('sim-share', values['sim-share'], 0, 1),
  sampleMs: number('sample-seconds', values['sample-seconds'], 0.2, 600) * 1000,
  progress: (line) => process.stdout.write(`${stamp()} ${line}\n`),
  ...(values['log-file'] ? { logFile: values['log-file'] } : {}),
  ...(values['heap-snapshot'] ? { heapSnapshot: values['heap-snapshot'] } : {}),
});
const v = verdict(run, true);
process.stdout.write(`\n${formatReport(run, v)}\n`);
if (values.json) writeFileSync(values.json, JSON.stringify({ verdict: v, options: run.options, samples: run.samples, baseline: run.baseline, drained: run.drained, faults: run.faults, logs: run.logs, queues: run.queues }, null, 2));
process.exit(v.ok ? 0 : 1);
