/**
 * What a valid configuration needs of the host, checked as the user running the check: the
 * files it names must be usable (the local store readable, or creatable; the log folder
 * writable; ldap's CA and password files readable; exec programs runnable and their folders
 * there). `rasgate check-config` and `rasgate serve` (at start and on SIGHUP) both run it, so
 * they accept the same configurations.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { SmbpasswdStore } from '../../authority/local/index.js';
import { UserPolicyFile, policyFilePath } from '../../callback/user-policy.js';
import { describeCause } from '../../files/errors.js';
import type { ConfigIssue } from '../../options/fields.js';
import type { ActionConfig, RasgateConfig } from './schema.js';

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
export function hostIssues(config: RasgateConfig): ConfigIssue[] {
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
    // An absent policy file is no policy; one that is there must be readable and valid.
    const policy = new UserPolicyFile(policyFilePath(a)).health();
    if (policy.state === 'unreadable') issues.push({ path: 'authority.policyFile', message: policy.error! });
  }
  if (a.type === 'ldap') {
    for (const key of ['caFile', 'bindPasswordFile'] as const) {
      const file = a[key];
      if (file === undefined) continue;
      try {
        readFileSync(file);
      } catch (err) {
        issues.push({ path: `authority.${key}`, message: `cannot be read: ${(err as Error).message}` });
      }
    }
  }
  const state = config.stateDirectory;
  try {
    if (!statSync(state).isDirectory()) issues.push({ path: 'stateDirectory', message: `${state} is not a directory` });
    else accessSync(state, constants.W_OK | constants.X_OK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') issues.push({ path: 'stateDirectory', message: `cannot write in ${state}: ${describeCause(err)}` });
    else {
      const why = cannotCreate(join(state, 'x'));
      if (why) issues.push({ path: 'stateDirectory', message: `${state} does not exist and ${why.replace(/^cannot create files in/, 'cannot be created in')}` });
    }
  }
  if (config.console.enabled && config.console.tls) {
    for (const key of ['cert', 'key'] as const) {
      try {
        readFileSync(config.console.tls[key]);
      } catch (err) {
        issues.push({ path: `console.tls.${key}`, message: `cannot be read: ${describeCause(err)}` });
      }
    }
  }
  if (config.log.file) {
    const why = cannotCreate(config.log.file.path);
    if (why) issues.push({ path: 'log.file.path', message: why });
  }
  // The audit trail's default folder is inside stateDirectory, checked above.
  if (config.audit.enabled && config.audit.file && !config.audit.file.startsWith(join(state, '/'))) {
    const why = cannotCreate(config.audit.file);
    if (why) issues.push({ path: 'audit.file', message: why });
  }
  const named = Object.entries(config.actions);
  for (const [name, action] of named) if (action.kind === 'exec') issues.push(...execIssues(action, `actions.${name}`));
  config.lines.forEach((l, i) => {
    // A line naming an action holds a copy of it: its problems are reported once, under actions.
    const same = (b: ActionConfig) => isDeepStrictEqual(b, l.action);
    if (l.action.kind === 'exec' && !named.some(([, b]) => same(b))) issues.push(...execIssues(l.action, `lines[${i}].action`));
  });
  return issues;
}

