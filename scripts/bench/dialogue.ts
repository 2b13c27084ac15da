/**
 * RAS dialogue benchmark. Figures as p50/p99 in microseconds, each with its ratio
 * to a baseline measured in the same run:
 *
 *  begin      time for RasSecurityHost.begin() to return (argument checks, port state, dialogue
 *             actor created and started, banner + `login: ` written to the channel) while N other
 *             calls sit at the login prompt with their timers armed (N = 1, 64, 256). Each sample
 *             ends its own call afterwards and yields to the event loop (neither timed), so N
 *             stays constant and ended calls are collected as they would be between real calls.
 *             Baseline: an empty function call timed the same way (the cost of the measurement).
 *             Target: p99 < 1 ms with 256 calls in progress.
 *  echo       one caller byte delivered to the channel -> its echo written back: RasPort queue,
 *             the pending receive's promise, the dialogue's receive loop, the discipline and the
 *             send path (N calls in progress). Baseline: LineDiscipline.feed() of one byte.
 *
 * Wall-clock (performance.now) per sample; a verifier that is never called; silent logger;
 * Node's own timers. Run alone: `node --import tsx scripts/bench/dialogue.ts`.
 */
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { RasSecurityHost } from '../../src/ras/host.js';
import { resolveDialogueOptions } from '../../src/ras/options.js';
import { BasicCallChannel } from '../../src/serial/call-channel.js';
import { LineDiscipline } from '../../src/terminal/discipline.js';

export const name = 'dialogue';

const BUF = 1024;
let callSeq = 0;

interface BenchCall {
  channel: BasicCallChannel;
  /** Resolves at the next write to the caller. */
  nextWrite(): Promise<void>;
}

function call(): BenchCall {
  let waiter: (() => void) | undefined;
  const channel = new BasicCallChannel({
    lineId: 'bench',
    callId: `bench-${++callSeq}`,
    deviceName: 'bench://',
    send: () => {
      const w = waiter;
      waiter = undefined;
      w?.();
    },
    hangup: async () => {},
  });
  return { channel, nextWrite: () => new Promise<void>((r) => (waiter = r)) };
}

function newHost(): RasSecurityHost {
  return new RasSecurityHost({ verifier: () => new Promise(() => {}), dialogue: resolveDialogueOptions({ banner: 'rasgate \\l \\d \\t\n' }) });
}

/** Collect garbage between phases so one phase's garbage does not land in the next one's p99. */
function gcNow(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

interface Stats {
  p50: number;
  p99: number;
}

function stats(samplesMs: number[]): Stats {
  const us = samplesMs.map((v) => v * 1000).sort((a, b) => a - b);
  return { p50: percentile(us, 50), p99: percentile(us, 99) };
}

const fmt = (s: Stats) => `p50 ${s.p50.toFixed(2).padStart(7)} us  p99 ${s.p99.toFixed(2).padStart(7)} us`;
const ratio = (s: Stats, base: Stats) => `(x${(s.p50 / Math.max(base.p50, 1e-3)).toFixed(0)} / x${(s.p99 / Math.max(base.p99, 1e-3)).toFixed(0)} baseline)`;

function emptyCallBaseline(samples: number): Stats {
  const noop = (a: number) => a;
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    noop(i);
    out.push(performance.now() - t0);
  }
  return stats(out);
}

function feedBaseline(samples: number): Stats {
  const d = new LineDiscipline();
  d.setField({ echo: 'on', maxChars: 256 });
  const byte = Buffer.from('a');
  const kill = Buffer.from([0x15]);
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    if (i % 200 === 199) d.feed(kill);
    const t0 = performance.now();
    d.feed(byte);
    out.push(performance.now() - t0);
  }
  return stats(out);
}

async function beginWithInProgress(n: number, samples: number): Promise<{ stats: Stats; ok: boolean }> {
  const host = newHost();
  const background: number[] = [];
  for (let i = 0; i < n; i++) {
    const { port, result } = host.beginCall(call().channel, () => {});
    if (result !== 0) throw new Error(`begin failed: ${result}`);
    background.push(port);
  }
  const out: number[] = [];
  let ok = true;
  for (let i = 0; i < samples + 200; i++) {
    const port = host.openPort(call().channel);
    const t0 = performance.now();
    const rc = host.begin(port, BUF, BUF, () => {});
    const t1 = performance.now();
    if (rc !== 0) ok = false;
    if (i >= 200) out.push(t1 - t0); // first 200: warm-up
    host.end(port);
    // Let the ended call's receive loop finish, as the event loop would between real calls.
    await new Promise((r) => setImmediate(r));
  }
  for (const port of background) host.end(port);
  return { stats: stats(out), ok };
}

async function echoLatency(n: number, samples: number): Promise<Stats> {
  const host = newHost();
  const background: number[] = [];
  for (let i = 0; i < n - 1; i++) background.push(host.beginCall(call().channel, () => {}).port);
  const c = call();
  const { port } = host.beginCall(c.channel, () => {});
  await new Promise((r) => setImmediate(r));
  const byte = Buffer.from('a');
  const kill = Buffer.from([0x15]);
  const out: number[] = [];
  for (let i = 0; i < samples + 500; i++) {
    if (i % 200 === 199) {
      const killed = c.nextWrite();
      c.channel.deliver(kill);
      await killed;
    }
    const echoed = c.nextWrite();
    const t0 = performance.now();
    c.channel.deliver(byte);
    await echoed;
    const t1 = performance.now();
    if (i >= 500) out.push(t1 - t0);
  }
  host.end(port);
  for (const p of background) host.end(p);
  return stats(out);
}

export async function run(): Promise<void> {
  const SAMPLES = 5000;
  const base = emptyCallBaseline(SAMPLES);
  process.stdout.write(`baseline  empty call              ${fmt(base)}\n`);
  await beginWithInProgress(16, 3000); // warm-up: JIT and the machine's first transitions, not measured
  let worstP99 = 0;
  for (const n of [1, 64, 256]) {
    gcNow();
    const r = await beginWithInProgress(n, SAMPLES);
    worstP99 = n === 256 ? r.stats.p99 : worstP99;
    process.stdout.write(`begin     ${String(n).padStart(3)} calls in progress  ${fmt(r.stats)}  ${ratio(r.stats, base)}${r.ok ? '' : '  (a begin FAILED)'}\n`);
  }
  process.stdout.write(`target    begin p99 < 1000 us with 256 in progress: ${worstP99 < 1000 ? 'met' : 'NOT met'} (${worstP99.toFixed(1)} us)\n`);
  feedBaseline(SAMPLES); // warm-up
  const feed = feedBaseline(SAMPLES);
  process.stdout.write(`baseline  discipline feed(1 byte)  ${fmt(feed)}\n`);
  for (const n of [1, 256]) {
    gcNow();
    const e = await echoLatency(n, SAMPLES);
    process.stdout.write(`echo      ${String(n).padStart(3)} calls in progress  ${fmt(e)}  ${ratio(e, feed)}\n`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
