/**
 * What the operator commands share. Those that ask the running daemon (`rasgate
 * status|line|hangup|auth`): the options that find its control socket (--config FILE as `serve`
 * reads it, or --socket PATH), one request to it, and the exit codes: 0 done, 1 refused or
 * failed, 2 bad usage, 3 the daemon cannot be reached. Those that work on the files (`rasgate
 * lockout|audit|user`): who is running them (for the audit trail), flags, and the
 * configuration's state file and audit trail, found as `rasgate serve` finds them.
 */
import { loadConfig, type RasgateConfig } from '../gateway/config.js';
import { auditFromConfig, type Audit } from '../audit/index.js';
import { ControlUnavailable, controlRequest } from '../control/client.js';
import { controlSocketPath } from '../control/server.js';
import type { ControlRequest } from '../control/protocol.js';

export const EXIT_UNREACHABLE = 3;

export const SOCKET_OPTIONS = `  --config FILE, -c FILE  the configuration the daemon runs with, to find its state directory
                          (default: $RASGATE_CONFIG, ./rasgate.yaml, else the embedded default)
  --socket PATH           the control socket itself (default: STATE_DIRECTORY/control.sock)`;

export class UsageError extends Error {}

export interface CommonArgs {
  config?: string;
  socket?: string;
  /** Arguments that are not these options, in order. */
  rest: string[];
  /** Flags seen (`--json`, `--password-stdin`, ...), as given. */
  flags: Set<string>;
  /** Options with a value, other than --config and --socket (`--domain D`). */
  values: Map<string, string>;
}

/** Split argv: --config and --socket, the `valued` options (`--domain D` or `--domain=D`), `flags`, the rest. */
export function parseCommon(argv: string[], o: { flags?: string[]; valued?: string[] } = {}): CommonArgs {
  const out: CommonArgs = { rest: [], flags: new Set(), values: new Map() };
  const valued = new Set(['--config', '-c', '--socket', ...(o.valued ?? [])]);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const name = eq > 0 ? a.slice(0, eq) : a;
    if (valued.has(name)) {
      const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined || (v === '' && (name === '--config' || name === '-c' || name === '--socket'))) throw new UsageError(`${name} needs a value`);
      if (name === '--config' || name === '-c') out.config = v;
      else if (name === '--socket') out.socket = v;
      else out.values.set(name, v);
    } else if (o.flags?.includes(a)) out.flags.add(a);
    else if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option ${a}`);
    else out.rest.push(a);
  }
  return out;
}

/** The control socket the daemon of this configuration listens on. */
export function socketPath(args: Pick<CommonArgs, 'config' | 'socket'>): string {
  if (args.socket) return args.socket;
  return controlSocketPath(loadConfig({ path: args.config }).config.stateDirectory);
}

type Request = ControlRequest extends infer R ? (R extends ControlRequest ? Omit<R, 'id' | 'operator'> : never) : never;

/**
 * Ask the daemon; the result, or an exit code after saying why on stderr (`who`: the command's
 * name for the message).
 */
export async function ask(who: string, args: Pick<CommonArgs, 'config' | 'socket'>, request: Request): Promise<{ result: unknown } | { exit: number }> {
  let path: string;
  try {
    path = socketPath(args);
  } catch (err) {
    process.stderr.write(`${who}: ${(err as Error).message}\n`);
    return { exit: 1 };
  }
  try {
    const answer = await controlRequest(path, request);
    if (answer.ok) return { result: answer.result };
    process.stderr.write(`${who}: ${answer.error.message}\n`);
    return { exit: 1 };
  } catch (err) {
    if (!(err instanceof ControlUnavailable)) throw err;
    process.stderr.write(`${who}: ${err.message}\n`);
    return { exit: EXIT_UNREACHABLE };
  }
}

/** Run a command body: --help prints `usage`; a UsageError prints it and exits 2; other errors go to the caller. */
export async function withUsage(who: string, usage: string, argv: string[], body: () => Promise<number>): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usage);
    return 0;
  }
  try {
    return await body();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${who}: ${err.message}\n${usage}`);
    return 2;
  }
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
 * A command's body with the common frame: withUsage's, and any other error is exit 1 with its
 * message, prefixed `rasgate NAME:`.
 */
export function runCommand(command: string, usage: string, argv: string[], body: () => Promise<number>): Promise<number> {
  const who = `rasgate ${command}`;
  return withUsage(who, usage, argv, async () => {
    try {
      return await body();
    } catch (err) {
      if (err instanceof UsageError) throw err;
      process.stderr.write(`${who}: ${(err as Error).message}\n`);
      return 1;
    }
  });
}
