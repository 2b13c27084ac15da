/**
 * The fuzzing engine shared by every target in ./targets: seeded random generation and
 * mutation of a corpus of real samples, a failure minimizer, and the run loop with its figures.
 *
 * Determinism: case `i` of a run with seed `S` draws everything from mulberry32(mix(S, i)), so
 * one case replays alone (`--seed S --case i`). A target gets the input bytes and a second,
 * separate PRNG (the plan: chunk splits, field modes, options); the minimizer shrinks the input
 * and keeps the plan, so the minimal input still reproduces with the printed plan seed.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { prng } from '../../test/helpers/prng.js';

// ---- randomness ----------------------------------------------------------------------------

export class Rand {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  /** 0 <= n < max */
  int(max: number): number {
    return Math.floor(this.next() * max);
  }
  /** lo <= n <= hi */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  u32(): number {
    return (this.next() * 0x1_0000_0000) >>> 0;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  /** Small sizes most of the time, now and then a large one (for floods). */
  size(max: number): number {
    const r = this.next();
    if (r < 0.6) return this.int(Math.min(max, 16) + 1);
    if (r < 0.9) return this.int(Math.min(max, 256) + 1);
    return this.int(max + 1);
  }
  /** Split `input` into consecutive chunks (1 byte ... all of it), for stream parsers. */
  chunks(input: Buffer): Buffer[] {
    const out: Buffer[] = [];
    const mode = this.int(4);
    for (let at = 0; at < input.length; ) {
      const n = mode === 0 ? input.length : mode === 1 ? 1 : mode === 2 ? 1 + this.int(8) : 1 + this.int(512);
      out.push(input.subarray(at, at + n));
      at += n;
    }
    return out;
  }
}

/** The seed of case `index` in a run seeded `seed` (splitmix-style mixing of both). */
export function caseSeed(seed: number, index: number): number {
  let x = (seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

// ---- targets -------------------------------------------------------------------------------

/** A fixed-width integer inside an input (a length, an offset, a count) for boundary mutation. */
export interface NumericField {
  at: number;
  width: 1 | 2 | 4;
  bigEndian?: boolean;
}

export interface FuzzTarget {
  readonly name: string;
  /** The invariant, one line, shown by --list and in the report. */
  readonly invariant: string;
  /** Tokens inserted or overwritten by the dictionary mutation. */
  readonly dictionary: readonly Buffer[];
  /** Longest input built; mutations never grow past it. */
  readonly maxInput: number;
  /** Fresh random input (structure-aware where it helps). */
  generate(rand: Rand): Buffer;
  /** Length / offset fields of an input for boundary values. */
  numericFields?(input: Buffer): NumericField[];
  /** Extra structure-aware mutations (e.g. re-encode a BER length); undefined when none applies. */
  mutateStructure?(input: Buffer, rand: Rand): Buffer | undefined;
  /** Samples the target adds to its committed corpus at run time (e.g. a live handshake). */
  extraCorpus?(): Buffer[] | Promise<Buffer[]>;
  setup?(): void | Promise<void>;
  teardown?(): void | Promise<void>;
  /** Check one input. Throws (anything) when an invariant is broken. */
  run(input: Buffer, plan: Rand): void | Promise<void>;
  /** Outcome counters the target keeps (statuses, scenarios), printed after a run to show what it reached. */
  readonly stats?: Map<string, number>;
  /** A case slower than this fails (overrides RunOptions.slowMs: whole-line targets take seconds). */
  readonly slowMs?: number;
  /** How many minimizer runs a failure may cost (slow targets ask for fewer). Default 3000. */
  readonly minimizeBudget?: number;
}

/** An invariant the target checks was broken (as opposed to something it called throwing). */
export class InvariantError extends Error {
  override name = 'InvariantError';
}

/** Count one outcome in a target's stats. */
export function tally(stats: Map<string, number>, key: string): void {
  stats.set(key, (stats.get(key) ?? 0) + 1);
}

export function invariant(ok: unknown, message: string): asserts ok {
  if (!ok) throw new InvariantError(message);
}

// ---- corpus --------------------------------------------------------------------------------

export const CORPUS_ROOT = new URL('./corpus/', import.meta.url).pathname;

/** Every file under corpus/NAME (sorted, so the run is the same on every machine). */
export function loadCorpus(name: string): Buffer[] {
  const dir = join(CORPUS_ROOT, name);
  let files: string[];
  try {
    files = readdirSync(dir).sort();
  } catch {
    return [];
  }
  return files.filter((f) => !f.startsWith('.')).map((f) => readFileSync(join(dir, f)));
}

// ---- mutation ------------------------------------------------------------------------------

const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x0d, 0x0a, 0x20, 0x1b];

function boundaryValues(width: 1 | 2 | 4, input: Buffer, current: number): number[] {
  const max = width === 1 ? 0xff : width === 2 ? 0xffff : 0xffffffff;
  const half = Math.floor(max / 2);
  return [0, 1, 2, max, max - 1, half, half + 1, input.length, input.length - 1, input.length + 1, current + 1, current - 1, current * 2, 0x80, 0x7f, 0x100, 0x10000, 88, 72, 64, 48, 40, 32, 16].map((v) => (v < 0 ? 0 : v > max ? max : v));
}

function writeField(b: Buffer, f: NumericField, v: number): void {
  if (f.at + f.width > b.length) return;
  if (f.width === 1) b[f.at] = v & 0xff;
  else if (f.width === 2) b[f.bigEndian ? 'writeUInt16BE' : 'writeUInt16LE'](v & 0xffff, f.at);
  else b[f.bigEndian ? 'writeUInt32BE' : 'writeUInt32LE'](v >>> 0, f.at);
}

function readField(b: Buffer, f: NumericField): number {
  if (f.at + f.width > b.length) return 0;
  if (f.width === 1) return b[f.at]!;
  if (f.width === 2) return f.bigEndian ? b.readUInt16BE(f.at) : b.readUInt16LE(f.at);
  return f.bigEndian ? b.readUInt32BE(f.at) : b.readUInt32LE(f.at);
}

function insertAt(b: Buffer, at: number, what: Buffer): Buffer {
  return Buffer.concat([b.subarray(0, at), what, b.subarray(at)]);
}

/** One mutation step. `corpus` feeds splices; the result is cut to `max` bytes. */
export function mutateOnce(target: FuzzTarget, input: Buffer, corpus: readonly Buffer[], rand: Rand): Buffer {
  let b: Buffer = Buffer.from(input);
  const pos = () => rand.int(b.length + 1);
  switch (rand.int(12)) {
    case 0: // bit flips
      for (let n = 1 + rand.int(4); n > 0 && b.length; n--) b[rand.int(b.length)]! ^= 1 << rand.int(8);
      break;
    case 1: // interesting or random byte values
      for (let n = 1 + rand.int(3); n > 0 && b.length; n--) b[rand.int(b.length)] = rand.chance(0.5) ? rand.pick(INTERESTING_BYTES) : rand.int(256);
      break;
    case 2: // insert random bytes
      b = insertAt(b, pos(), rand.bytes(1 + rand.int(16)));
      break;
    case 3: { // delete a range
      const at = pos();
      b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + rand.size(64))]);
      break;
    }
    case 4: { // duplicate a range, sometimes many times (floods)
      if (!b.length) break;
      const at = rand.int(b.length);
      const piece = b.subarray(at, at + 1 + rand.size(32));
      const times = rand.chance(0.8) ? 1 : 1 + rand.size(4096);
      b = insertAt(b, pos(), Buffer.concat(Array.from({ length: Math.min(times, Math.ceil(target.maxInput / piece.length)) }, () => piece)));
      break;
    }
    case 5: { // splice with another sample: our head, its tail
      const other = rand.pick(corpus);
      if (!other?.length) break;
      b = Buffer.concat([b.subarray(0, pos()), other.subarray(rand.int(other.length))]);
      break;
    }
    case 6: { // insert a chunk of another sample
      const other = rand.pick(corpus);
      if (!other?.length) break;
      const at = rand.int(other.length);
      b = insertAt(b, pos(), other.subarray(at, at + 1 + rand.size(64)));
      break;
    }
    case 7: // insert a dictionary token
    case 8: { // overwrite with a dictionary token
      if (!target.dictionary.length) break;
      const token = rand.pick(target.dictionary);
      const times = rand.chance(0.9) ? 1 : 1 + rand.size(2048);
      const run = Buffer.concat(Array.from({ length: Math.min(times, Math.ceil(target.maxInput / Math.max(1, token.length))) }, () => token));
      const at = pos();
      b = rand.chance(0.5) ? insertAt(b, at, run) : Buffer.concat([b.subarray(0, at), run, b.subarray(at + run.length)]);
      break;
    }
    case 9: { // boundary values in length / offset fields
      const fields = target.numericFields?.(b) ?? [];
      if (fields.length) {
        const f = rand.pick(fields);
        writeField(b, f, rand.chance(0.85) ? rand.pick(boundaryValues(f.width, b, readField(b, f))) : rand.u32());
      } else if (b.length >= 2) {
        const at = rand.int(b.length - 1);
        b.writeUInt16LE(rand.pick([0, 1, 0xff, 0xffff, 0x7fff, 0x8000, b.length]) & 0xffff, at);
      }
      break;
    }
    case 10: { // structure-aware
      const out = target.mutateStructure?.(b, rand);
      if (out) b = out;
      break;
    }
    case 11: // truncate
      b = b.subarray(0, pos());
      break;
  }
  return b.length > target.maxInput ? b.subarray(0, target.maxInput) : b;
}

export function mutate(target: FuzzTarget, input: Buffer, corpus: readonly Buffer[], rand: Rand): Buffer {
  let b: Buffer = input;
  for (let n = 1 + rand.int(rand.chance(0.7) ? 3 : 8); n > 0; n--) b = mutateOnce(target, b, corpus, rand);
  return b;
}

/** Case `index`: its input (generated or a mutated sample) and its plan seed. */
export function makeCase(target: FuzzTarget, corpus: readonly Buffer[], seed: number, index: number): { input: Buffer; planSeed: number } {
  const rand = new Rand(caseSeed(seed, index));
  const planSeed = rand.u32();
  const input = !corpus.length || rand.chance(0.25) ? target.generate(rand) : rand.chance(0.1) ? Buffer.from(rand.pick(corpus)) : mutate(target, rand.pick(corpus), corpus, rand);
  return { input: input.length > target.maxInput ? input.subarray(0, target.maxInput) : input, planSeed };
}

// ---- failures ------------------------------------------------------------------------------

/** What a failure is, without the parts that change with the input (numbers, quoted text). */
export function signature(err: unknown): string {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: unknown }).code;
  const first = (e.message.split('\n')[0] ?? '').replace(/"[^"]*"/g, '"…"').replace(/0x[0-9a-f]+|\d+/gi, 'N').slice(0, 100);
  return `${e.name}${typeof code === 'string' ? `[${code}]` : ''}: ${first}`;
}

async function failsWith(target: FuzzTarget, input: Buffer, planSeed: number, sig: string): Promise<boolean> {
  try {
    await target.run(input, new Rand(planSeed));
    return false;
  } catch (err) {
    return signature(err) === sig;
  }
}

/** Shrink a failing input while it fails the same way: cut ranges, then simplify bytes (bounded in runs and time). */
export async function minimize(target: FuzzTarget, input: Buffer, planSeed: number, sig: string): Promise<Buffer> {
  let best = input;
  let budget = target.minimizeBudget ?? 3000;
  // Slow cases (a parser near its limits) would make the full budget last hours: a minute at most.
  const until = performance.now() + 60_000;
  const attempt = async (candidate: Buffer): Promise<boolean> => {
    if (budget-- <= 0 || performance.now() > until) {
      budget = 0;
      return false;
    }
    if (await failsWith(target, candidate, planSeed, sig)) {
      best = candidate;
      return true;
    }
    return false;
  };
  for (let chunk = Math.max(1, best.length >> 1); chunk >= 1 && budget > 0; chunk >>= 1) {
    for (let at = 0; at < best.length && budget > 0; ) {
      if (!(await attempt(Buffer.concat([best.subarray(0, at), best.subarray(at + chunk)])))) at += chunk;
    }
  }
  for (let at = 0; at < best.length && budget > 0; at++) {
    if (best[at] === 0) continue;
    const candidate = Buffer.from(best);
    candidate[at] = 0;
    await attempt(candidate);
  }
  return best;
}

export interface Failure {
  target: string;
  seed: number;
  case: number;
  planSeed: number;
  signature: string;
  message: string;
  input: Buffer;
  minimal: Buffer;
  file?: string;
}

export interface RunOptions {
  seed: number;
  /** Stop after this many cases... */
  cases?: number;
  /** ...or after this many seconds, whichever comes first. */
  seconds?: number;
  /** Only this case (replay). */
  onlyCase?: number;
  /** Go on after a failure, collecting distinct ones. Default false: stop at the first. */
  keepGoing?: boolean;
  /** Where failures are written (NAME-SEED-CASE.json). Default: not written. */
  outDir?: string;
  /** Progress lines (cases/s) every this many ms; 0 = none. */
  progressMs?: number;
  log?: (line: string) => void;
  /** A case slower than this is a failure (catastrophic regex backtracking, quadratic loops). */
  slowMs?: number;
  /** Say each case before it runs (to find one that hangs). */
  trace?: boolean;
}

export interface RunReport {
  target: string;
  seed: number;
  cases: number;
  seconds: number;
  casesPerSecond: number;
  failures: Failure[];
}

function hexDump(b: Buffer, max = 4096): string {
  const h = b.subarray(0, max).toString('hex');
  return b.length > max ? `${h}… (${b.length} bytes)` : h;
}

/** Run one target; resolves with its figures and failures (never throws for a failing case). */
export async function runTarget(target: FuzzTarget, o: RunOptions): Promise<RunReport> {
  const log = o.log ?? ((line: string) => console.log(line));
  await target.setup?.();
  const corpus = [...loadCorpus(target.name), ...((await target.extraCorpus?.()) ?? [])];
  const failures: Failure[] = [];
  const seen = new Set<string>();
  const started = performance.now();
  const deadline = o.seconds === undefined ? Infinity : started + o.seconds * 1000;
  const maxCases = o.onlyCase !== undefined ? 1 : o.cases ?? Infinity;
  let lastProgress = started;
  let done = 0;
  try {
    for (let n = 0; n < maxCases; n++) {
      const index = o.onlyCase ?? n;
      const { input, planSeed } = makeCase(target, corpus, o.seed, index);
      if (o.trace) process.stderr.write(`case ${index} (${input.length} bytes)\n`);
      const t0 = performance.now();
      let error: unknown;
      try {
        await target.run(input, new Rand(planSeed));
      } catch (err) {
        error = err;
      }
      done++;
      const took = performance.now() - t0;
      const slowMs = target.slowMs ?? o.slowMs;
      if (error === undefined && slowMs !== undefined && took > slowMs) error = new InvariantError(`case took ${Math.round(took)} ms (limit ${slowMs} ms)`);
      if (error !== undefined) {
        const sig = signature(error);
        if (!seen.has(sig)) {
          seen.add(sig);
          const isSlow = sig.includes('case took');
          const minimal = isSlow ? input : await minimize(target, input, planSeed, sig);
          const f: Failure = { target: target.name, seed: o.seed, case: index, planSeed, signature: sig, message: error instanceof Error ? error.stack ?? error.message : String(error), input, minimal };
          if (o.outDir) {
            mkdirSync(o.outDir, { recursive: true });
            f.file = join(o.outDir, `${target.name}-${o.seed}-${index}.json`);
            writeFileSync(f.file, `${JSON.stringify({ target: f.target, seed: f.seed, case: f.case, planSeed, signature: sig, message: f.message, minimalHex: minimal.toString('hex'), inputHex: input.toString('hex') }, null, 2)}\n`);
          }
          failures.push(f);
          log(`FAIL ${target.name} seed ${o.seed} case ${index} (plan ${planSeed}): ${sig}`);
          log(`  minimal input (${minimal.length} bytes, hex): ${hexDump(minimal)}`);
          if (f.file) log(`  written to ${f.file}; replay: npm run fuzz -- --replay ${f.file}`);
          else log(`  replay: npm run fuzz -- --target ${target.name} --seed ${o.seed} --case ${index}`);
          if (!o.keepGoing) break;
        }
      }
      const now = performance.now();
      if (now >= deadline) break;
      if (o.progressMs && now - lastProgress >= o.progressMs) {
        lastProgress = now;
        const s = (now - started) / 1000;
        log(`  ${target.name}: ${done} cases, ${Math.round(done / s)} cases/s`);
      }
    }
  } finally {
    await target.teardown?.();
  }
  const seconds = (performance.now() - started) / 1000;
  if (target.stats?.size) log(`  ${target.name} reached: ${[...target.stats].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  return { target: target.name, seed: o.seed, cases: done, seconds, casesPerSecond: done / Math.max(seconds, 1e-9), failures };
}

/** Run one saved failure again (the minimal input with its plan seed). */
export async function replay(target: FuzzTarget, file: { minimalHex: string; planSeed: number }): Promise<unknown> {
  await target.setup?.();
  try {
    await target.run(Buffer.from(file.minimalHex, 'hex'), new Rand(file.planSeed));
    return undefined;
  } catch (err) {
    return err;
  } finally {
    await target.teardown?.();
  }
}
