/**
 * The rasgate configuration: every key, its type, its default and its meaning, in one place.
 * validate() and docs/configuration.md (scripts/gen-machines-doc.ts renders configRows()) both
 * read this description, so the documentation cannot drift from what is accepted.
 */
import { parseTcpUrl, suggestTcpUrl, type TcpAddress } from './address.js';
import type { DenyReason } from '../../ntlm/authority.js';
import { DEFAULT_DENIED_MESSAGES, resolveDialogueOptions } from '../../ras/options.js';
import { bool, dict, Issues, isPlainObject, list, num, obj, oneOf, show, str, closest, defaultText, type DocRow, type Field } from './fields.js';

export type ActionConfig =
  | { kind: 'hangup' }
  | { kind: 'bridge'; target: TcpAddress; connectTimeout: number }
  | { kind: 'exec'; argv: string[]; killGrace: number; cwd?: string; env: Record<string, string> };

/** Hayes modem settings: the keys of src/serial ModemSettings, with their defaults filled in. */
export interface ModemConfig {
  init: string[];
  callerId?: string;
  answerOnRing: number;
  allow: string[];
  deny: string[];
  answerTimeoutSeconds: number;
  quietMs: number;
  healthCheckSeconds: number;
  chatTimeoutMs: number;
  ringTimeoutMs: number;
  dcdPollMs: number;
  dtrDropMs: number;
  guardMs: number;
  settleMs: number;
  maxInitFailures: number;
  reopenBaseMs: number;
  reopenMaxMs: number;
}

interface LineCommon {
  id: string;
  action: ActionConfig;
  ppp: 'refuse' | 'exec';
  enabled: boolean;
}

export interface TcpLineConfig extends LineCommon {
  kind: 'tcp';
  listen: TcpAddress;
  mode: 'telnet' | 'raw';
  maxCalls: number;
  maxCallsPerSource: number;
}

/** A serial device, or the simulated modem (`device: sim://NAME[?far=tcp://HOST:PORT]`). */
export interface DeviceLineConfig extends LineCommon {
  kind: 'device';
  device: string;
  /** Set for sim:// devices: where callers dial in over TCP, if anywhere. */
  simulated?: { name: string; far?: TcpAddress };
  baudRate: number;
  dataBits: 5 | 6 | 7 | 8;
  parity: 'none' | 'even' | 'odd' | 'mark' | 'space';
  stopBits: 1 | 1.5 | 2;
  rtscts: boolean;
  lockDir: string;
  modem: ModemConfig;
}

export type LineConfig = TcpLineConfig | DeviceLineConfig;

/** The keys of src/ras DialogueOptions, defaults filled in, plus the gateway's own messages. */
export interface DialogueConfig {
  banner: string;
  userPrompt: string;
  passwordPrompt: string;
  domainPrompt: string;
  askDomain: 'never' | 'always' | 'when-missing';
  defaultDomain: string;
  splitDomainForms: boolean;
  fieldTimeoutSeconds: number;
  fieldWarningSeconds: number;
  loginTimeoutSeconds: number;
  loginWarningSeconds: number;
  idleTimeoutSeconds: number;
  maxAttempts: number;
  failureDelaysSeconds: number[];
  passwordMask: string;
  sevenBit: boolean;
  bellOnOverflow: boolean;
  messages: {
    failure: string;
    error: string;
    timeout: string;
    fieldWarning: string;
    loginWarning: string;
    success: string;
    denied: string;
    deniedReasons: Partial<Record<DenyReason, string>>;
    pppRefused: string;
    bridgeFailed: string;
    loginAccepted: string;
    shutdown: string;
  };
}

export interface LocalAuthorityConfig {
  type: 'local';
  file: string;
  domain?: string;
  allowNtlmV1: boolean;
}

/** ldap / winbind: their keys are checked here (unknown keys) and their values by src/authority. */
export interface DomainAuthorityConfig {
  type: 'ldap' | 'winbind';
  [key: string]: unknown;
}

export type AuthorityConfigSection = LocalAuthorityConfig | DomainAuthorityConfig;

export const LOG_MODULES = ['gateway', 'line', 'call', 'dialogue', 'ntlm', 'authority', 'action', 'inspector'] as const;
export type LogModule = (typeof LOG_MODULES)[number];
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LogConfig {
  level: LogLevel;
  modules: Partial<Record<LogModule, LogLevel>>;
  transitions: boolean;
  file?: { path: string; datePattern: string; maxFiles: string; level?: LogLevel };
}

export interface RasgateConfig {
  lines: LineConfig[];
  authority: AuthorityConfigSection;
  dialogue: DialogueConfig;
  actions: Record<string, ActionConfig>;
  log: LogConfig;
  console: { listen: TcpAddress; enabled: boolean };
  inspector: { host: string; port: number };
  shutdown: { grace: number };
}

const tcpUrl = (doc: string, o: { default?: string; required?: boolean } = {}): Field<TcpAddress> => {
  const base = str({ doc, required: o.required, type: '`tcp://HOST:PORT`', check: (v) => (parseTcpUrl(v) ? undefined : `${show(v)} is not tcp://HOST:PORT`), hint: suggestTcpUrl });
  return {
    ...base,
    defaultValue: o.default ? () => parseTcpUrl(o.default!)! : undefined,
    defaultText: o.default ? `\`${o.default}\`` : undefined,
    parse: (v, path, issues) => {
      const s = base.parse(v, path, issues);
      return s === undefined ? undefined : parseTcpUrl(s);
    },
  };
};

const seconds = (doc: string, def: number, min = 0, max = 86_400): Field<number> => num({ doc, default: def, min, max, unit: 'seconds' });

const execArgv = list(str({ doc: 'program or argument', required: true }), { doc: '', minItems: 1 });

const actionDoc = '`hangup`, `{ bridge: tcp://HOST:PORT }`, `{ exec: [PROGRAM, ARGS...] }` or the name of an entry in `actions`';

/** One post-login action; names from `actions:` are resolved in validate(). */
const action: Field<ActionConfig | { kind: 'named'; name: string }> = {
  type: 'action',
  doc: `what happens after a successful login: ${actionDoc}`,
  defaultValue: () => ({ kind: 'hangup' }),
  defaultText: '`hangup`',
  parse(v, path, issues) {
    if (v === 'hangup') return { kind: 'hangup' };
    if (typeof v === 'string') return { kind: 'named', name: v };
    if (!isPlainObject(v)) return issues.add(path, `${show(v)} is not an action`, actionDoc);
    if ('bridge' in v) {
      const b = obj<{ bridge: TcpAddress; connectTimeout: number }>(
        { bridge: tcpUrl('TCP service the caller is joined to', { required: true }), connectTimeout: seconds('give up connecting after this long', 10, 1, 600) },
        { doc: '' },
      ).parse(v, path, issues);
      return b && { kind: 'bridge', target: b.bridge, connectTimeout: b.connectTimeout };
    }
    if ('exec' in v) {
      const e = obj<{ exec: string[]; killGrace: number; cwd?: string; env: Record<string, string> }>(
        {
          exec: execArgv,
          killGrace: seconds('after carrier loss: SIGHUP, then SIGKILL after this long', 5, 0, 600),
          cwd: str({ doc: 'working directory' }),
          env: dict(str({ doc: '', empty: true }), { doc: 'extra environment', default: {} }),
        },
        { doc: '' },
      ).parse(v, path, issues);
      return e && { kind: 'exec', argv: e.exec, killGrace: e.killGrace, cwd: e.cwd, env: e.env };
    }
    return issues.add(path, 'an action needs `bridge:` or `exec:`', actionDoc);
  },
};

const ms = (doc: string, def: number, min = 0, max = 3_600_000): Field<number> => num({ doc, default: def, min, max, unit: 'ms' });

const modemFields = {
  init: list(str({ doc: '', required: true, check: (v) => (/^AT/i.test(v) ? undefined : `${show(v)} is not an AT command`) }), { doc: 'init chat, one command per item; each must answer OK', default: ['ATZ', 'ATE0V1Q0&C1&D2S0=0'], minItems: 1 }),
  callerId: str({ doc: 'command enabling caller ID, appended to the init chat (`AT+VCID=1` or `AT#CID=1`)', check: (v) => (/^AT/i.test(v) ? undefined : `${show(v)} is not an AT command`), hint: () => 'AT+VCID=1' }),
  answerOnRing: num({ doc: 'answer on this RING (>= 2 with caller ID: it arrives after the first RING)', default: 1, min: 1, max: 20, integer: true }),
  allow: list(str({ doc: '', required: true }), { doc: 'only these caller numbers are answered (`*`, `?` wildcards or `/regex/`; empty = everyone)', default: [] }),
  deny: list(str({ doc: '', required: true }), { doc: 'caller numbers never answered (checked first)', default: [] }),
  answerTimeoutSeconds: num({ doc: 'ATA to CONNECT', default: 80, min: 1, max: 600, unit: 'seconds' }),
  quietMs: ms('after CONNECT, discard input until it was quiet this long', 300, 0, 10_000),
  healthCheckSeconds: num({ doc: '`AT` while idle this often (0 = never)', default: 60, min: 0, max: 86_400, unit: 'seconds' }),
  chatTimeoutMs: ms('wait for each chat answer', 5000, 100),
  ringTimeoutMs: ms('a ringing call is over without a RING for this long', 8000, 100),
  dcdPollMs: ms('poll DCD during a call this often', 1000, 50),
  dtrDropMs: ms('DTR low time for hang-up (at least 500)', 700, 500),
  guardMs: ms('`+++` guard time', 1100, 0),
  settleMs: ms('wait after open before flushing', 200, 0),
  maxInitFailures: num({ doc: 'failed init chats before the device is reopened', default: 3, min: 1, max: 100, integer: true }),
  reopenBaseMs: ms('first reopen delay after the device is lost, doubled per attempt', 1000, 10),
  reopenMaxMs: ms('longest reopen delay', 30_000, 10),
};

const lineCommon = {
  id: str({ doc: 'line name in logs and call ids (default: tcp0, dev0, sim0 ... by position)', check: (v) => (/^[A-Za-z0-9_.-]{1,32}$/.test(v) ? undefined : `${show(v)} is not a name (letters, digits, _ . -; at most 32)`) }),
  action,
  ppp: oneOf(['refuse', 'exec'] as const, { doc: 'a PPP frame at the login prompt: refuse with a message, or hand the line to the exec action (AutoPPP)', default: 'refuse' }),
  enabled: bool({ doc: 'answer on this line', default: true }),
};

const tcpLine = obj<TcpLineConfig>(
  {
    listen: tcpUrl('TCP line: accept calls here (one connection = one call)', { required: true }),
    mode: oneOf(['telnet', 'raw'] as const, { doc: 'TCP line: `telnet` answers option negotiation (we echo, the client does not); `raw` passes bytes untouched', default: 'telnet' }),
    maxCalls: num({ doc: 'TCP line: calls at once, excess callers told busy (0 = no limit)', default: 64, min: 0, max: 100_000, integer: true }),
    maxCallsPerSource: num({ doc: 'TCP line: calls at once from one address, excess callers told so and closed (0 = no limit); keeps one host from taking every slot', default: 4, min: 0, max: 100_000, integer: true }),
    ...lineCommon,
  },
  { doc: 'a TCP line' },
);

const SIM_PATH = /^sim:\/\/([A-Za-z0-9_.-]+)(?:\?far=(.*))?$/;

const deviceLine = obj<DeviceLineConfig>(
  {
    device: str({
      doc: 'device line: serial device (prefer /dev/serial/by-id/...), or `sim://NAME[?far=tcp://HOST:PORT]` for the simulated modem',
      required: true,
      check: (v) => {
        if (v.startsWith('sim://')) {
          const m = SIM_PATH.exec(v);
          if (!m) return `${show(v)} is not sim://NAME[?far=tcp://HOST:PORT]`;
          if (m[2] !== undefined && !parseTcpUrl(m[2])) return `${show(m[2])} (far side) is not tcp://HOST:PORT`;
          return undefined;
        }
        return v.startsWith('/') ? undefined : `${show(v)} is not an absolute device path`;
      },
      hint: (v) => (v.startsWith('sim') ? 'sim://demo?far=tcp://127.0.0.1:2424' : `/dev/${v.replace(/^\/*(dev\/)?/, '')}`),
    }),
    baudRate: num({ doc: 'device line: DTE speed, bits per second', default: 115200, min: 50, max: 4_000_000, integer: true }),
    dataBits: oneOf(['5', '6', '7', '8'] as const, { doc: 'device line: data bits', default: '8' }) as unknown as Field<number>,
    parity: oneOf(['none', 'even', 'odd', 'mark', 'space'] as const, { doc: 'device line: parity', default: 'none' }),
    stopBits: oneOf(['1', '1.5', '2'] as const, { doc: 'device line: stop bits', default: '1' }) as unknown as Field<number>,
    rtscts: bool({ doc: 'device line: RTS/CTS hardware flow control', default: true }),
    lockDir: str({ doc: 'device line: UUCP lock directory checked for LCK..NAME files', default: '/var/lock' }),
    modem: obj<ModemConfig>(modemFields, { doc: 'device line: Hayes modem settings', defaultEmpty: true }),
    ...lineCommon,
  },
  { doc: 'a serial device line' },
);

// dataBits / stopBits are checked as strings (for the message); YAML gives numbers.
function numericEnum(v: unknown): unknown {
  return typeof v === 'number' ? String(v) : v;
}

const LINE_KINDS = ['listen', 'device'] as const;
const TCP_ONLY = ['mode', 'maxCalls', 'maxCallsPerSource'];

const line: Field<LineConfig> = {
  type: 'line',
  doc: 'one line: `listen:` (TCP) or `device:` (serial device or simulated modem)',
  parse(v, path, issues) {
    if (!isPlainObject(v)) return issues.add(path, `${show(v)} is not a line mapping`, 'e.g. { listen: tcp://127.0.0.1:2323 }');
    const kinds = LINE_KINDS.filter((k) => k in v);
    if (kinds.length !== 1) {
      const near = Object.keys(v).map((k) => closest(k, LINE_KINDS)).find(Boolean);
      return issues.add(path, kinds.length ? 'has listen and device: a line is exactly one kind' : 'needs listen: or device:', kinds.length ? undefined : near ?? 'listen: tcp://127.0.0.1:2323');
    }
    if (kinds[0] === 'listen') {
      const r = tcpLine.parse(v, path, issues);
      return r && { ...r, kind: 'tcp' };
    }
    for (const k of TCP_ONLY) if (k in v) issues.add(`${path}.${k}`, 'applies to TCP lines (listen:) only');
    const fixed = Object.fromEntries(Object.entries(v).filter(([k]) => !TCP_ONLY.includes(k)));
    fixed.dataBits = numericEnum(v.dataBits);
    fixed.stopBits = numericEnum(v.stopBits);
    const r = deviceLine.parse(fixed, path, issues);
    if (!r) return undefined;
    const out = { ...r, kind: 'device', dataBits: Number(r.dataBits), stopBits: Number(r.stopBits) } as DeviceLineConfig;
    const sim = typeof r.device === 'string' ? SIM_PATH.exec(r.device) : null;
    if (sim) out.simulated = sim[2] ? { name: sim[1]!, far: parseTcpUrl(sim[2]) } : { name: sim[1]! };
    return out;
  },
  rows(prefix) {
    const isCommon = (key: string) => Object.keys(lineCommon).some((k) => key === `${prefix}.${k}`);
    const common = Object.entries(lineCommon).map(([k, f]) => ({ key: `${prefix}.${k}`, type: f.type, default: defaultText(f), doc: f.doc }));
    return [...common, ...tcpLine.rows!(prefix).filter((r) => !isCommon(r.key)), ...deviceLine.rows!(prefix).filter((r) => !isCommon(r.key))];
  },
};

const localAuthority = obj<LocalAuthorityConfig>(
  {
    type: oneOf(['local'] as const, { doc: 'kind', required: true }),
    file: str({ doc: 'smbpasswd-format NT-hash file (relative paths: from the config file\'s folder)', default: './var/smbpasswd' }),
    domain: str({ doc: 'NetBIOS domain reported for local accounts (1-15 characters)', defaultText: 'host name, upper-cased', check: (v) => (v.length >= 1 && v.length <= 15 ? undefined : 'must be 1 to 15 characters') }),
    allowNtlmV1: bool({ doc: 'accept NTLMv1 responses (crackable; logged loudly)', default: false }),
  },
  { doc: 'local authority' },
);

const AUTHORITY_TYPES = ['local', 'ldap', 'winbind'] as const;

/** Keys of src/authority/ldap LdapAuthorityOptions and winbind WinbindAuthorityOptions (docs/domain.md). */
const DOMAIN_KEYS: Record<'ldap' | 'winbind', string[]> = {
  ldap: ['type', 'servers', 'mechanism', 'connectTimeoutMs', 'responseTimeoutMs', 'retryDeadAfterMs', 'caFile', 'tlsServername', 'tlsVerify', 'bindDn', 'bindPassword', 'bindPasswordFile', 'baseDn', 'maxMessageBytes', 'requiredGroup', 'dialinDefault'],
  winbind: ['type', 'ntlmAuthPath', 'extraArgs', 'requiredGroup', 'domain', 'requestTimeoutMs', 'restartMinMs', 'restartMaxMs', 'queueLimit'],
};

const authority: Field<AuthorityConfigSection> = {
  type: 'mapping',
  doc: 'where credentials are checked: `type: local | ldap | winbind` and its settings',
  defaultValue: () => ({ type: 'local', file: './var/smbpasswd', allowNtlmV1: false }),
  parse(v, path, issues) {
    if (v === null || v === undefined) v = { type: 'local' };
    if (!isPlainObject(v)) return issues.add(path, `${show(v)} is not a mapping`);
    const type = v.type ?? 'local';
    if (type === 'local') return localAuthority.parse({ ...v, type }, path, issues);
    if (type === 'ldap' || type === 'winbind') {
      const known = DOMAIN_KEYS[type];
      for (const k of Object.keys(v)) if (!known.includes(k)) issues.add(`${path}.${k}`, `unknown key for type ${type}`, closest(k, known) ?? `known keys: ${known.join(', ')}`);
      return { ...v, type } as DomainAuthorityConfig;
    }
    return issues.add(`${path}.type`, `${show(type)} is not one of ${AUTHORITY_TYPES.join(', ')}`, typeof type === 'string' ? closest(type, AUTHORITY_TYPES) : undefined);
  },
  rows: (prefix) => localAuthority.rows!(prefix).map((r) => (r.key.endsWith('.type') ? { ...r, type: '`local` \\| `ldap` \\| `winbind`', default: '`local`' } : r)),
};

const DENY_REASONS = Object.keys(DEFAULT_DENIED_MESSAGES) as DenyReason[];

/** The dialogue's own defaults (src/ras/options.ts), so the config file's defaults cannot drift from them. */
const D = resolveDialogueOptions();

const message = (doc: string, def: string) => str({ doc, default: def, empty: true });

const dialogue = obj<DialogueConfig>(
  {
    banner: message('sent when the call is answered; escapes \\l line, \\L device, \\C call, \\d date, \\t time, \\N caller number, \\n caller name, \\b speed', D.banner),
    userPrompt: message('user name prompt', D.prompts.user),
    passwordPrompt: message('password prompt (typed characters are never echoed)', D.prompts.password),
    domainPrompt: message('domain prompt', D.prompts.domain),
    askDomain: oneOf(['never', 'always', 'when-missing'] as const, { doc: 'ask for the domain after the user name (`DOMAIN\\user` and `user@domain` always work)', default: D.machine.domainPrompt }),
    defaultDomain: str({ doc: 'domain used when none is typed (empty: the authority\'s own); at most 15 characters', default: D.machine.defaultDomain, empty: true, check: (v) => (v.length <= 15 ? undefined : 'must be at most 15 characters (DNLEN)') }),
    splitDomainForms: bool({ doc: 'split `DOMAIN\\user` and `user@DOMAIN` at the user name prompt', default: D.splitDomainForms }),
    fieldTimeoutSeconds: num({ doc: 'from a field\'s prompt to its Enter (0 = no limit)', default: D.machine.fieldTimeoutSeconds, min: 0, max: 86_400, unit: 'seconds' }),
    fieldWarningSeconds: num({ doc: 'warn this long before a field times out (0 = no warning)', default: D.machine.fieldWarningSeconds, min: 0, max: 86_400, unit: 'seconds' }),
    loginTimeoutSeconds: num({ doc: 'the whole login, all attempts (0 = no limit)', default: D.machine.loginTimeoutSeconds, min: 0, max: 86_400, unit: 'seconds' }),
    loginWarningSeconds: num({ doc: 'warn this long before the login time ends (0 = no warning)', default: D.machine.loginWarningSeconds, min: 0, max: 86_400, unit: 'seconds' }),
    idleTimeoutSeconds: num({ doc: 'a caller who has sent nothing at all since the call began is let go after this long (0 = never); keeps silent connections from holding a line for the whole field timeout', default: D.machine.idleTimeoutSeconds, min: 0, max: 86_400, unit: 'seconds' }),
    maxAttempts: num({ doc: 'failed attempts before the call is refused', default: D.machine.maxAttempts, min: 1, max: 20, integer: true }),
    failureDelaysSeconds: list(num({ doc: '', min: 0, max: 600, unit: 'seconds' }), { doc: 'pause after the 1st, 2nd, ... failure (the last value repeats)', default: D.machine.failureDelaysSeconds }),
    passwordMask: message('echoed per password character (empty: nothing)', D.passwordMask),
    sevenBit: bool({ doc: 'strip bit 7 of input and send 7-bit output', default: D.sevenBit }),
    bellOnOverflow: bool({ doc: 'ring the bell when a field is full (not in the password field)', default: D.bellOnOverflow }),
    messages: obj(
      {
        failure: message('after a wrong user name or password', D.messages.failure),
        error: message('when the authority cannot be reached', D.messages.error),
        timeout: message('when a field or the whole login timed out', D.messages.timeout),
        fieldWarning: message('before a field times out; `{seconds}` is replaced', D.messages.fieldWarning),
        loginWarning: message('before the login time ends; `{seconds}` is replaced', D.messages.loginWarning),
        success: message('after a successful login', D.messages.success),
        denied: message('a policy refusal without a more specific message', D.messages.denied),
        deniedReasons: dict(message('', ''), { doc: `per refusal reason (${DENY_REASONS.join(', ')}); defaults in src/ras/options.ts`, default: {}, keys: DENY_REASONS }),
        pppRefused: message('a PPP frame at the prompt on a line without `ppp: exec`', 'PPP is not available on this line'),
        bridgeFailed: message('the bridge target did not answer', 'The service is not reachable, please try again later'),
        loginAccepted: message('on a `hangup` line, said after a successful login before the line is dropped (empty: nothing)', 'Login accepted. Goodbye.'),
        shutdown: message('said to every caller whose call ends because rasgate is stopping', 'The service is going down, please call again later.'),
      },
      { doc: 'messages', defaultEmpty: true },
    ),
  },
  { doc: 'the login dialogue', defaultEmpty: true },
);

const level = oneOf(LOG_LEVELS, { doc: 'level' });

const log = obj<LogConfig>(
  {
    level: oneOf(LOG_LEVELS, { doc: 'minimum level of every module', default: 'info' }),
    modules: dict(level, { doc: `per-module level (modules: ${LOG_MODULES.join(', ')})`, default: {}, keys: LOG_MODULES }),
    transitions: bool({ doc: 'one JSON line per machine transition (at debug for the line machine while idle)', default: true }),
    file: obj(
      {
        path: str({ doc: 'file name; `%DATE%` is replaced by the date (daily rotation)', required: true }),
        datePattern: str({ doc: 'rotation pattern (moment.js)', default: 'YYYY-MM-DD' }),
        maxFiles: str({ doc: 'keep this many files or days (`14d`)', default: '14d' }),
        level: oneOf(LOG_LEVELS, { doc: 'minimum level in the file (default: log.level)' }),
      },
      { doc: 'optional JSON-lines file with daily rotation (absent: stdout only)' },
    ),
  },
  { doc: 'logs', defaultEmpty: true },
);

const consoleSection = obj<{ listen: TcpAddress; enabled: boolean }>(
  {
    listen: tcpUrl('rasgate\'s own read-only web console (no authentication: loopback only, reach it through SSH)', { default: 'tcp://127.0.0.1:8023' }),
    enabled: bool({ doc: 'serve the console (the embedded default does)', default: false }),
  },
  { doc: 'console', defaultEmpty: true },
);

const inspector = obj<{ host: string; port: number }>(
  {
    host: str({ doc: 'the inspector relay binds here with --inspect (keep loopback: it has no authentication)', default: '127.0.0.1' }),
    port: num({ doc: 'relay port used by --inspect without =PORT', default: 8081, min: 1, max: 65535, integer: true }),
  },
  { doc: 'inspector', defaultEmpty: true },
);

const shutdown = obj<{ grace: number }>({ grace: seconds('on SIGTERM, calls still in the login dialogue get this long to finish', 30, 0, 3600) }, { doc: 'shutdown', defaultEmpty: true });

export const TOP = {
  lines: list(line, { doc: 'the lines rasgate answers', minItems: 1, default: [] as LineConfig[] }),
  authority,
  dialogue,
  actions: dict(action, { doc: 'named post-login actions, used as `action: NAME` on lines', default: {} }),
  log,
  console: consoleSection,
  inspector,
  shutdown,
};

const top = obj<Record<string, unknown>>(TOP as Record<string, Field<unknown>>, { doc: 'rasgate configuration' });

/** Validate a parsed YAML document; every problem is returned, each with its key path. */
export function validate(doc: unknown): { config?: RasgateConfig; issues: Issues } {
  const issues = new Issues();
  if (doc === null || doc === undefined) doc = {};
  const raw = top.parse(doc, '', issues) as (Omit<RasgateConfig, 'lines' | 'actions'> & { lines: (LineConfig | (Omit<LineConfig, 'action'> & { action: { kind: 'named'; name: string } }))[]; actions: Record<string, ActionConfig | { kind: 'named'; name: string }> }) | undefined;
  if (!raw) return { issues };
  if (isPlainObject(doc) && !('lines' in doc)) issues.add('lines', 'is required: at least one line', 'lines: [{ listen: tcp://127.0.0.1:2323 }]');
  for (const [name, a] of Object.entries(raw.actions ?? {})) if (a?.kind === 'named') issues.add(`actions.${name}`, `${show(a.name)} is not an action`, actionDoc);
  const counters: Record<string, number> = { tcp: 0, dev: 0, sim: 0 };
  const ids = new Map<string, number>();
  const listens = new Map<string, number>();
  const devices = new Map<string, number>();
  (raw.lines ?? []).forEach((l, i) => {
    if (!l) return;
    const lc0 = l as LineConfig;
    const prefix = lc0.kind === 'tcp' ? 'tcp' : lc0.simulated ? 'sim' : 'dev';
    const n = counters[prefix]!++;
    if (!l.id) l.id = `${prefix}${n}`;
    if (ids.has(l.id)) issues.add(`lines[${i}].id`, `"${l.id}" is also lines[${ids.get(l.id)}]`, 'give every line its own id');
    ids.set(l.id, i);
    if (!l.action) return;
    if (l.action.kind === 'named') {
      const named = raw.actions?.[l.action.name];
      if (!named || named.kind === 'named') {
        if (!named) issues.add(`lines[${i}].action`, `${show(l.action.name)} is neither hangup nor a name in actions:`, closest(l.action.name, ["hangup", ...Object.keys(raw.actions ?? {})]) ?? actionDoc);
      } else l.action = named;
    }
    if (l.ppp === 'exec' && l.action.kind !== 'exec' && l.action.kind !== 'named') issues.add(`lines[${i}].ppp`, '`exec` needs an exec action on the line', 'action: { exec: [/usr/sbin/pppd, ...] }');
    const lc = l as LineConfig;
    if (lc.kind === 'device') {
      const device = lc.simulated ? `sim://${lc.simulated.name}` : lc.device;
      if (devices.has(device)) issues.add(`lines[${i}].device`, `${show(device)} is also lines[${devices.get(device)}]: one line per device`);
      devices.set(device, i);
    }
    const addr = lc.kind === 'tcp' ? lc.listen : lc.simulated?.far;
    if (addr) {
      const key = `${addr.host}:${addr.port}`;
      if (listens.has(key)) issues.add(`lines[${i}]`, `listens on ${key} like lines[${listens.get(key)}]`);
      listens.set(key, i);
    }
  });
  if (issues.list.length) return { issues };
  return { config: raw as RasgateConfig, issues };
}

/** Documentation rows for every key (docs/configuration.md). */
export function configRows(): DocRow[] {
  return top.rows!('');
}

export { Issues };
