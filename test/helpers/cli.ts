/**
 * The real `rasgate` command as a user runs it: `node --import tsx src/cli/main.ts ...` in a
 * child process, with $RASGATE_CONFIG cleared so that only what a test passes counts.
 * `asUid` runs it as another user (setpriv), since root reads and writes every file.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const tsx = fileURLToPath(import.meta.resolve('tsx'));

/** The command line of `rasgate ARGS...` (program first). */
export function rasgateArgv(args: string[], asUid?: number): string[] {
  const argv = [process.execPath, '--import', tsx, join(ROOT, 'src/cli/main.ts'), ...args];
  return asUid === undefined ? argv : ['setpriv', `--reuid=${asUid}`, `--regid=${asUid}`, '--clear-groups', ...argv];
}

export interface CliOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Run as this uid (and gid), no supplementary groups. */
  asUid?: number;
}

export interface CliResult {
  code: number | null;
  out: string;
  err: string;
}

/** Run to completion; `input` is standard input (e.g. the password for --password-stdin). */
export function rasgate(args: string[], input?: string, o: CliOptions = {}): CliResult {
  const [program, ...rest] = rasgateArgv(args, o.asUid);
  const r = spawnSync(program!, rest, { input, encoding: 'utf8', cwd: o.cwd ?? ROOT, env: { ...process.env, RASGATE_CONFIG: '', ...o.env }, timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Start without waiting (a test that kills it midway). */
export function spawnRasgate(args: string[], o: CliOptions = {}): ChildProcess {
  const [program, ...rest] = rasgateArgv(args, o.asUid);
  return spawn(program!, rest, { cwd: o.cwd ?? ROOT, env: { ...process.env, RASGATE_CONFIG: '', ...o.env }, stdio: ['pipe', 'pipe', 'pipe'] });
}
