/**
 * Finding, reading and validating the configuration. Lookup order: --config FILE,
 * $RASGATE_CONFIG, ./rasgate.yaml, else the embedded default. Relative paths in a file are
 * taken from the file's folder; in the embedded default, from the working directory.
 */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve, isAbsolute } from 'node:path';
import { DEFAULT_AUDIT_FILE } from '../../audit/options.js';
import { parseDocument } from 'yaml';
import { RasgateError } from '../../errors.js';
import { formatIssue, type ConfigIssue } from '../../options/fields.js';
import { validate, type RasgateConfig } from './schema.js';
import { policyFilePath } from '../../callback/user-policy.js';

/** What `npm start` runs with no configuration at all. */
export const EMBEDDED_DEFAULT = `# rasgate embedded default: one TCP line (telnet or raw), local accounts in ./var
lines:
  - id: tcp0
    listen: tcp://127.0.0.1:2323
    mode: telnet
    action: hangup
authority:
  type: local
  file: ./var/smbpasswd
console:
  listen: tcp://127.0.0.1:8023
  enabled: true
`;

export const EMBEDDED_SOURCE = '(embedded default)';

export class ConfigError extends RasgateError {
  constructor(readonly source: string, readonly issues: ConfigIssue[]) {
    super('CONFIG_INVALID', `${source}: ${issues.length} problem${issues.length === 1 ? '' : 's'}\n${issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`);
  }
}

export interface LoadedConfig {
  config: RasgateConfig;
  /** File path, or EMBEDDED_SOURCE. */
  source: string;
  /** Folder relative paths were resolved against. */
  baseDir: string;
}

export interface FindOptions {
  /** --config FILE */
  path?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** The file to read, or undefined for the embedded default. */
export function findConfigPath(o: FindOptions = {}): string | undefined {
  const cwd = o.cwd ?? process.cwd();
  const env = o.env ?? process.env;
  if (o.path) return resolve(cwd, o.path);
  if (env.RASGATE_CONFIG) return resolve(cwd, env.RASGATE_CONFIG);
  const local = resolve(cwd, 'rasgate.yaml');
  return existsSync(local) ? local : undefined;
}

/** A YAML failure the parser throws instead of reporting: one issue at the file. */
function yamlFailure(source: string, err: unknown): { issues: ConfigIssue[] } {
  return { issues: [{ path: source, message: `YAML: ${err instanceof Error ? err.message : String(err)}` }] };
}

/** Parse and validate YAML text; never throws. */
export function parseConfig(text: string, source: string, baseDir: string): { config?: RasgateConfig; issues: ConfigIssue[] } {
  let doc: ReturnType<typeof parseDocument>;
  try {
    doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  } catch (err) {
    // The parser recurses per nesting level: some deep documents overflow the stack (RangeError).
    return yamlFailure(source, err);
  }
  if (doc.errors.length) {
    return {
      issues: doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return { path: pos ? `${source}:${pos.line}:${pos.col}` : source, message: `YAML: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}` };
      }),
    };
  }
  let data: unknown;
  try {
    // Aliases resolve here, not in parseDocument: an unresolved one or an alias bomb (more than
    // the package's maxAliasCount expansions) throws a ReferenceError from toJS().
    data = doc.toJS();
  } catch (err) {
    return yamlFailure(source, err);
  }
  const { config, issues } = validate(data);
  if (!config) return { issues: issues.list };
  return { config: resolvePaths(config, baseDir), issues: [] };
}

export function resolvePaths(config: RasgateConfig, baseDir: string): RasgateConfig {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  config.stateDirectory = abs(config.stateDirectory);
  if (config.authority.type === 'local') {
    config.authority.file = abs(config.authority.file);
    config.authority.policyFile = abs(policyFilePath(config.authority));
  }
  if (config.authority.type === 'ldap') {
    const a = config.authority;
    if (a.caFile) a.caFile = abs(a.caFile);
    if (a.bindPasswordFile) a.bindPasswordFile = abs(a.bindPasswordFile);
  }
  if (config.log.file) config.log.file.path = abs(config.log.file.path);
  if (config.console.tls) config.console.tls = { cert: abs(config.console.tls.cert), key: abs(config.console.tls.key) };
  config.audit.file = config.audit.file === undefined ? join(config.stateDirectory, DEFAULT_AUDIT_FILE) : abs(config.audit.file);
  const fixAction = (a: RasgateConfig['actions'][string]) => (a.kind === 'exec' && a.cwd ? { ...a, cwd: abs(a.cwd) } : a);
  for (const l of config.lines) {
    l.action = fixAction(l.action);
    if (l.kind === 'device') l.lockDir = abs(l.lockDir);
  }
  for (const k of Object.keys(config.actions)) config.actions[k] = fixAction(config.actions[k]!);
  return config;
}

/** Find, read and validate; throws ConfigError listing every problem. */
export function loadConfig(o: FindOptions = {}): LoadedConfig {
  const path = findConfigPath(o);
  if (!path) {
    const baseDir = o.cwd ?? process.cwd();
    const r = parseConfig(EMBEDDED_DEFAULT, EMBEDDED_SOURCE, baseDir);
    if (!r.config) throw new ConfigError(EMBEDDED_SOURCE, r.issues);
    return { config: r.config, source: EMBEDDED_SOURCE, baseDir };
  }
  return loadConfigFile(path);
}

export function loadConfigFile(path: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(path, [{ path, message: code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(err)})` }]);
  }
  const baseDir = dirname(path);
  const r = parseConfig(text, path, baseDir);
  if (!r.config) throw new ConfigError(path, r.issues);
  return { config: r.config, source: path, baseDir };
}
