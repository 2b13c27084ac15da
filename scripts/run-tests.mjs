#!/usr/bin/env node
// `npm test`: make sure the real peers the tests drive are installed, then run every
// test/**/*.test.ts with node's own runner (through tsx). Extra arguments narrow the set:
//   npm test -- test/ntlm          npm test -- test/ntlm/codec.test.ts
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve, dirname, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ci = process.env.CI === 'true' || process.env.CI === '1';

const check = spawnSync('bash', [join(root, 'scripts/install-test-deps.sh'), '--check'], { stdio: 'inherit' });
if (check.status !== 0) {
  const install = spawnSync('bash', [join(root, 'scripts/install-test-deps.sh')], { stdio: 'inherit' });
  if (install.status !== 0) {
    if (ci) {
      console.error('CI=true: a tool the tests need is missing and could not be installed; failing.');
      process.exit(1);
    }
    // Outside CI the suites that need a missing peer report themselves as skipped, by name.
    console.error('continuing without them: tests that need them will be SKIPPED (never under CI=true)');
    process.env.RASGATE_TEST_MISSING_DEPS = '1';
  }
}

function collect(path, out) {
  const st = statSync(path);
  if (st.isDirectory()) {
    for (const name of readdirSync(path).sort()) {
      if (name === 'node_modules' || name === 'fixtures') continue;
      collect(join(path, name), out);
    }
  } else if (path.endsWith('.test.ts')) {
    out.push(path);
  }
  return out;
}

const targets = process.argv.slice(2);
const files = (targets.length ? targets : ['test']).flatMap((t) => collect(resolve(root, t), []));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
// A hung test fails after 3 minutes instead of holding CI to its limit. node's --test-timeout
// also bounds each file as a whole, so the few files that legitimately run longer are listed
// here with their own bound and run first, apart (the main suite's summary stays the last word).
const DEFAULT_TIMEOUT_MS = 180_000;
const LONG_FILES = new Map([
  // debootstraps Debian and installs per docs/deployment.md: 2-4 minutes, more on a slow mirror
  ['test/deploy/deployment.test.ts', 45 * 60_000],
  // 50 rounds of killing `rasgate user` writers: about 2 minutes on a loaded machine
  ['test/cli/user-kill.test.ts', 15 * 60_000],
  // 30 s of callers, then up to 90 s for the gateway to come back to idle and 80 s to stop
  ['test/soak/soak.test.ts', 10 * 60_000],
]);
const timeoutOf = (file) => LONG_FILES.get(relative(root, file).split(sep).join('/')) ?? DEFAULT_TIMEOUT_MS;
const groups = new Map();
for (const file of files) groups.set(timeoutOf(file), [...(groups.get(timeoutOf(file)) ?? []), file]);
let status = 0;
for (const [timeout, group] of [...groups].sort(([a], [b]) => b - a)) {
  const res = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-concurrency=2', `--test-timeout=${timeout}`, ...group],
    { stdio: 'inherit', cwd: root, env: process.env },
  );
  if (res.status !== 0) status = res.status ?? 1;
}
process.exit(status);
