#!/usr/bin/env node
// `npm start [-- ARGS]`: `rasgate serve ARGS` from dist/, built first only when a source is
// newer than its output (or has none): a current dist/ starts at once, without running tsc.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

/** Every .ts source that tsc turns into dist/ (tsconfig.json includes src and machines). */
function sources(dir, out = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) sources(path, out);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** The first source whose output is missing or older, or undefined when dist/ is current. */
function staleSource() {
  const settings = Math.max(statSync(join(root, 'tsconfig.json')).mtimeMs, statSync(join(root, 'package.json')).mtimeMs);
  for (const src of [...sources(join(root, 'src')), ...sources(join(root, 'machines'))]) {
    const out = join(dist, relative(root, src)).replace(/\.ts$/, '.js');
    if (!existsSync(out)) return src;
    const built = statSync(out).mtimeMs;
    if (built < statSync(src).mtimeMs || built < settings) return src;
  }
  return undefined;
}

const stale = staleSource();
if (stale) {
  process.stderr.write(`rasgate: building dist/ (${relative(root, stale)} is newer than its output)\n`);
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
}
process.argv = [process.argv[0], join(dist, 'src/cli/main.js'), 'serve', ...process.argv.slice(2)];
await import(pathToFileURL(process.argv[1]).href);
