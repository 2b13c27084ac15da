/**
 * `npm run bench`: runs every bench module listed below, in order, in one process.
 * A module exports `name` and `run(): Promise<void>` and prints its own lines.
 * Add a module by appending one line to BENCHES.
 */
interface BenchModule {
  name: string;
  run(): Promise<void>;
}

const BENCHES: Array<() => Promise<BenchModule>> = [
  () => import('./ntlm.js'),
  () => import('./dialogue.js'),
  () => import('./domain.js'),
  () => import('./gateway.js'),
  () => import('./console.js'),
  () => import('./guard.js'),
];

let failed = 0;
for (const load of BENCHES) {
  const bench = await load();
  process.stdout.write(`\n== ${bench.name} ==\n`);
  try {
    await bench.run();
  } catch (err) {
    failed++;
    process.stdout.write(`bench ${bench.name} failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  }
}
process.exitCode = failed ? 1 : 0;
