/**
 * What the operator commands share: who is running them (for the audit trail), flags, and the
 * configuration's state file and audit trail, found as `rasgate serve` finds them.
 */
import { userInfo } from 'node:os';
import { loadConfig, type RasgateConfig } from '../gateway/config.js';
import { auditFromConfig, type Audit, type Operator } from '../audit/index.js';

export class UsageError extends Error {}

/** The unix user running the command (and the sudo caller, when it came through sudo). */
export function cliOperator(env: NodeJS.ProcessEnv = process.env): Operator {
  let by: string;
  try {
    by = userInfo().username;
  } catch {
    by = `uid ${process.getuid?.() ?? '?'}`;
  }
  const sudo = env.SUDO_USER;
  return { by, via: 'cli', ...(sudo && sudo !== by ? { sudoUser: sudo.slice(0, 64) } : {}) };
}

/** `--name VALUE`, `--name=VALUE` and bare `--flag`s of `spec`; the rest are positional. Throws UsageError. */
export function parseFlags<S extends Record<string, 'value' | 'flag'>>(argv: string[], spec: S): { flags: { [K in keyof S]?: S[K] extends 'value' ? string : true }; rest: string[] } {
  const flags: Record<string, string | true> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      rest.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const kind = spec[name];
    if (!kind) throw new UsageError(`unknown option ${a}`);
    if (kind === 'flag') {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      flags[name] = true;
    } else {
      const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined || v === '') throw new UsageError(`--${name} needs a value`);
      flags[name] = v;
    }
  }
  return { flags: flags as { [K in keyof S]?: S[K] extends 'value' ? string : true }, rest };
}

/** The configuration `rasgate serve` would use (--config, $RASGATE_CONFIG, ./rasgate.yaml, the embedded default). */
export function operatorConfig(configFlag: string | undefined): RasgateConfig {
  return loadConfig({ path: configFlag }).config;
}

/** Record one operator event in the configured audit trail, then close it. */
export async function auditOperator(config: RasgateConfig, event: Parameters<Audit['record']>[0]): Promise<void> {
  const trail = auditFromConfig(config.audit);
  trail.record(event);
  await trail.close();
}

/**
 * A command's body with the common frame: --help prints `usage`; a UsageError is exit 2 with the
 * usage; any other error is exit 1 with its message, prefixed `rasgate NAME:`.
 */
export async function runCommand(command: string, usage: string, argv: string[], body: () => Promise<number>): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usage);
    return 0;
  }
  try {
    return await body();
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`rasgate ${command}: ${err.message}\n${usage}`);
      return 2;
    }
    process.stderr.write(`rasgate ${command}: ${(err as Error).message}\n`);
    return 1;
  }
}
