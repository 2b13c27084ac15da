/**
 * A short, fixed-seed run of one fuzz target (scripts/fuzz) as a test: the same cases every
 * time; a failure names its signature, minimal input and the command that replays it.
 */
import assert from 'node:assert/strict';
import { runTarget, type FuzzTarget } from '../../scripts/fuzz/engine.js';

export const FUZZ_SEED = Number(process.env.RASGATE_FUZZ_SEED ?? 20260115) >>> 0;

export async function fuzzCases(target: FuzzTarget, cases: number): Promise<void> {
  const lines: string[] = [];
  const r = await runTarget(target, { seed: FUZZ_SEED, cases, log: (l) => lines.push(l) });
  const failure = r.failures[0];
  assert.equal(failure, undefined, failure && `${lines.join('\n')}\n${failure.message}\nreplay: npm run fuzz -- --target ${target.name} --seed ${FUZZ_SEED} --case ${failure.case}`);
  assert.equal(r.cases, cases);
}
