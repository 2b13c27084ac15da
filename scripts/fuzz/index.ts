/**
 * `npm run fuzz -- --target NAME [--seconds N | --cases N] [--seed S] [--case I] [--keep-going]
 *                 [--out DIR] [--slow-ms MS] [--trace]`
 * `npm run fuzz -- --replay FILE.json`      run a saved failure again
 * `npm run fuzz -- --list`                  targets and their invariants
 * `--target all` runs every target in turn. Exit status 1 when any case failed.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { replay, runTarget, type RunReport } from './engine.js';
import { TARGETS } from './targets/index.js';

const { values } = parseArgs({
  options: {
    target: { type: 'string' },
    seconds: { type: 'string' },
    cases: { type: 'string' },
    seed: { type: 'string' },
    case: { type: 'string' },
    'keep-going': { type: 'boolean', default: false },
    out: { type: 'string', default: 'var/fuzz' },
    'slow-ms': { type: 'string' },
    replay: { type: 'string' },
    list: { type: 'boolean', default: false },
    trace: { type: 'boolean', default: false },
  },
});

const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));

async function main(): Promise<number> {
  if (values.list) {
    for (const [name, make] of Object.entries(TARGETS)) console.log(`${name.padEnd(12)} ${(await make()).invariant}`);
    return 0;
  }
  if (values.replay) {
    const file = JSON.parse(readFileSync(values.replay, 'utf8')) as { target: string; minimalHex: string; planSeed: number };
    const make = TARGETS[file.target];
    if (!make) throw new Error(`unknown target ${file.target}`);
    const err = await replay(await make(), file);
    console.log(err === undefined ? 'replay: passes now' : `replay: fails: ${err instanceof Error ? err.stack : String(err)}`);
    return err === undefined ? 0 : 1;
  }
  const names = values.target === 'all' ? Object.keys(TARGETS) : values.target ? [values.target] : [];
  if (!names.length || names.some((n) => !TARGETS[n])) {
    console.error(`--target NAME required: ${Object.keys(TARGETS).join(', ')}, or all`);
    return 2;
  }
  const seed = (num(values.seed) ?? (Date.now() & 0x7fffffff)) >>> 0;
  const seconds = num(values.seconds) ?? (values.cases ? undefined : 10);
  const reports: RunReport[] = [];
  for (const name of names) {
    const target = await TARGETS[name]!();
    console.log(`fuzz ${name} seed ${seed}${seconds !== undefined ? ` for ${seconds} s` : ''}${values.cases ? ` up to ${values.cases} cases` : ''}: ${target.invariant}`);
    const r = await runTarget(target, {
      seed,
      seconds,
      cases: num(values.cases),
      onlyCase: num(values.case),
      keepGoing: values['keep-going'],
      outDir: values.out,
      progressMs: 10_000,
      slowMs: num(values['slow-ms']) ?? 2000,
      trace: values.trace,
    });
    reports.push(r);
    console.log(`${name}: ${r.cases} cases in ${r.seconds.toFixed(1)} s (${Math.round(r.casesPerSecond)} cases/s), ${r.failures.length} failure${r.failures.length === 1 ? '' : 's'}`);
  }
  if (reports.length > 1) {
    console.log('\ntarget        cases   cases/s  failures');
    for (const r of reports) console.log(`${r.target.padEnd(12)} ${String(r.cases).padStart(8)} ${String(Math.round(r.casesPerSecond)).padStart(8)}  ${r.failures.length}`);
  }
  return reports.some((r) => r.failures.length) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(2);
  },
);
