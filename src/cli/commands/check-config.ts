/**
 * `rasgate check-config FILE`: validate a configuration, print every problem with its key
 * path and a hint, exit 1; or print a summary and exit 0. `serve` refuses an invalid file
 * with the same messages. A valid file is also checked against the host, as the user running
 * the command: the files it names must be usable (the local store readable, or creatable;
 * the log folder writable; exec programs runnable and their folders there). ldap's caFile and
 * bindPasswordFile are read by the ldap resolver while the file is validated.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError, formatIssue, loadConfigFile, summarize, type ActionConfig, type ConfigIssue, type RasgateConfig } from '../../gateway/config.js';
import { SmbpasswdStore, describeCause } from '../../authority/local/index.js';

/** Why no file can be created at `file` (nearest existing folder not writable), or undefined. */
function cannotCreate(file: string): string | undefined {
  let folder = dirname(file);
  for (;;) {
    try {
      if (!statSync(folder).isDirectory()) return `${folder} is not a directory`;
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(folder) === folder) return `cannot look at ${folder}: ${describeCause(err)}`;
      folder = dirname(folder);
    }
  }
  try {
    accessSync(folder, constants.W_OK | constants.X_OK);
    return undefined;
  } catch (err) {
    return `cannot create files in ${folder}: ${describeCause(err)}`;
  }
}

/** Why `program` cannot be started (as spawn finds it: PATH, or relative to cwd), or undefined. */
function cannotRun(program: string, cwd: string | undefined, path: string): string | undefined {
  const runnable = (file: string): string | undefined => {
    try {
      if (statSync(file).isDirectory()) return `cannot run ${file}: it is a directory`;
      accessSync(file, constants.X_OK);
      return undefined;
    } catch (err) {
      return `cannot run ${file}: ${describeCause(err)}`;
    }
  };
  if (program.includes('/')) return runnable(isAbsolute(program) ? program : resolve(cwd ?? process.cwd(), program));
  let found: string | undefined;
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const file = join(dir, program);
    try {
      statSync(file);
    } catch {
      continue;
    }
    const why = runnable(file);
    if (!why) return undefined;
    found ??= why;
  }
  return found ?? `${JSON.stringify(program)} is not a program in PATH`;
}

function execIssues(a: Extract<ActionConfig, { kind: 'exec' }>, key: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (a.cwd) {
    try {
      if (!statSync(a.cwd).isDirectory()) issues.push({ path: `${key}.cwd`, message: `${a.cwd} is not a directory` });
      else accessSync(a.cwd, constants.X_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      issues.push({ path: `${key}.cwd`, message: code === 'ENOENT' ? `${a.cwd} does not exist` : `cannot enter ${a.cwd}: ${describeCause(err)}` });
    }
  }
  // The daemon passes its own PATH on unless the action sets one (src/gateway/actions/exec.ts).
  const why = cannotRun(a.argv[0]!, a.cwd, a.env.PATH ?? process.env.PATH ?? '');
  if (why) issues.push({ path: `${key}.exec[0]`, message: why });
  return issues;
}

/** Problems with the files a valid configuration names, as the running user can use them. */
export function fileIssues(config: RasgateConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const a = config.authority;
  if (a.type === 'local') {
    const store = new SmbpasswdStore(a.file);
    const health = store.health();
    if (health.state === 'unreadable') issues.push({ path: 'authority.file', message: health.error! });
    else if (health.state === 'absent') {
      const why = cannotCreate(a.file);
      if (why) issues.push({ path: 'authority.file', message: `${a.file} does not exist and ${why.replace(/^cannot create files in/, 'cannot be created in')}` });
    }
  }
  if (config.log.file) {
    const why = cannotCreate(config.log.file.path);
    if (why) issues.push({ path: 'log.file.path', message: why });
  }
  const named = Object.entries(config.actions);
  for (const [name, action] of named) if (action.kind === 'exec') issues.push(...execIssues(action, `actions.${name}`));
  config.lines.forEach((l, i) => {
    // A line naming an action holds a copy of it: its problems are reported once, under actions.
    const same = (b: ActionConfig) => JSON.stringify(b) === JSON.stringify(l.action);
    if (l.action.kind === 'exec' && !named.some(([, b]) => same(b))) issues.push(...execIssues(l.action, `lines[${i}].action`));
  });
  return issues;
}

function printIssues(path: string, issues: ConfigIssue[]): void {
  process.stderr.write(`${path}: ${issues.length} problem${issues.length === 1 ? '' : 's'}\n`);
  for (const issue of issues) process.stderr.write(`  ${formatIssue(issue)}\n`);
}

export async function run(argv: string[]): Promise<number> {
  const files = argv.filter((a) => !a.startsWith('-'));
  if (argv.includes('--help') || argv.includes('-h') || files.length !== 1) {
    process.stderr.write('usage: rasgate check-config FILE\n');
    return argv.includes('--help') || argv.includes('-h') ? 0 : 2;
  }
  const path = resolve(files[0]!);
  try {
    const { config } = loadConfigFile(path);
    const issues = fileIssues(config);
    if (issues.length) {
      printIssues(path, issues);
      return 1;
    }
    process.stdout.write(`${path}: valid\n${summarize(config).map((l) => `  ${l}`).join('\n')}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    printIssues(path, err.issues);
    return 1;
  }
}
