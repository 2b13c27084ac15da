/**
 * The rasgate configuration: every key, its type, its default and its meaning, in one place.
 * validate() and docs/configuration.md (scripts/gen-machines-doc.ts renders configRows()) both
 * read this description, so the documentation cannot drift from what is accepted.
 */
import { parseTcpUrl, suggestTcpUrl, type TcpAddress } from './address.js';
import { bool, dict, Issues, isPlainObject, list, num, obj, oneOf, show, str, closest, type DocRow, type Field } from './fields.js';

export type ActionConfig =
  | { kind: 'hangup' }
  | { kind: 'bridge'; target: TcpAddress; connectTimeout: number }
  | { kind: 'exec'; argv: string[]; killGrace: number; cwd?: string; env: Record<string, string> };

export interface ModemConfig {
  init: string[];
  rings: number;
  answerTimeout: number;
  quietTime: number;
  healthCheck: number;
  callerId: boolean;
  allow: string[];
  deny: string[];
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
  telnet: boolean;
  maxCalls: number;
}

export interface DeviceLineConfig extends LineCommon {
  kind: 'device';
  device: string;
  baudRate: number;
  dataBits: 5 | 6 | 7 | 8;
  parity: 'none' | 'even' | 'odd';
  stopBits: 1 | 2;
  rtscts: boolean;
  modem: ModemConfig;
}

export interface SimulatedLineConfig extends LineCommon {
  kind: 'simulated';
  /** Callers reach the simulated modem's far side here (each connection dials in). */
  dialIn?: TcpAddress;
  callerNumber?: string;
  modem: ModemConfig;
}

export type LineConfig = TcpLineConfig | DeviceLineConfig | SimulatedLineConfig;

export interface DialogueConfig {
  banner: string;
  prompts: { user: string; password: string; domain: string };
  askDomain: boolean;
  defaultDomain: string;
  messages: { welcome: string; failure: string; error: string; denied: string; timeout: string; timeoutWarning: string; pppRefused: string; bridgeFailed: string };
  fieldTimeout: number;
  warnBefore: number;
  loginTime: number;
  attempts: number;
  failureDelay: number;
  sevenBit: boolean;
}

export interface LocalAuthorityConfig {
  type: 'local';
  file: string;
  domain?: string;
  allowNtlmV1: boolean;
}

/** ldap / winbind settings are validated by their owners' option parsers (src/authority/*). */
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

const modemFields = {
  init: list(str({ doc: '', required: true }), { doc: 'init chat, one command per item, each must answer OK', default: ['ATZ', 'ATE0V1Q0&C1&D2S0=0'] }),
  rings: num({ doc: 'answer on this ring (>= 2 to receive caller ID)', default: 1, min: 1, max: 20, integer: true }),
  answerTimeout: seconds('ATA to CONNECT', 80, 1, 600),
  quietTime: seconds('after CONNECT, discard input until the line is quiet this long', 0.3, 0, 10),
  healthCheck: seconds('`AT` while idle every this long (0 = never)', 60, 0, 3600),
  callerId: bool({ doc: 'ask the modem for caller ID (`AT+VCID=1`)', default: false }),
  allow: list(str({ doc: '', required: true }), { doc: 'caller numbers allowed (empty = all); `*` suffix matches a prefix', default: [] }),
  deny: list(str({ doc: '', required: true }), { doc: 'caller numbers refused (checked first)', default: [] }),
};

const lineCommon = {
  id: str({ doc: 'line name in logs (default: tcp0, dev0, sim0 ... by position)', check: (v) => (/^[A-Za-z0-9_.-]{1,32}$/.test(v) ? undefined : `${show(v)} is not a name (letters, digits, _ . -; at most 32)`) }),
  action,
  ppp: oneOf(['refuse', 'exec'] as const, { doc: 'a PPP frame at the login prompt: refuse with a message, or hand the line to the exec action (AutoPPP)', default: 'refuse' }),
  enabled: bool({ doc: 'answer on this line', default: true }),
};

const tcpLine = obj<TcpLineConfig>(
  {
    listen: tcpUrl('accept calls here (one connection = one call)', { required: true }),
    telnet: bool({ doc: 'negotiate telnet options (we echo, the client does not)', default: true }),
    maxCalls: num({ doc: 'calls in progress at once on this listener', default: 64, min: 1, max: 4096, integer: true }),
    ...lineCommon,
  },
  { doc: 'a TCP line' },
);

const deviceLine = obj<DeviceLineConfig>(
  {
    device: str({ doc: 'serial device; prefer /dev/serial/by-id/... names', required: true }),
    baudRate: num({ doc: 'bits per second', default: 115200, min: 50, max: 4_000_000, integer: true }),
    dataBits: oneOf(['5', '6', '7', '8'] as const, { doc: 'data bits', default: '8' }) as unknown as Field<number>,
    parity: oneOf(['none', 'even', 'odd'] as const, { doc: 'parity', default: 'none' }),
    stopBits: oneOf(['1', '2'] as const, { doc: 'stop bits', default: '1' }) as unknown as Field<number>,
    rtscts: bool({ doc: 'RTS/CTS hardware flow control', default: false }),
    modem: obj<ModemConfig>(modemFields, { doc: 'Hayes modem settings', defaultEmpty: true }),
    ...lineCommon,
  },
  { doc: 'a serial device line' },
);

const simulatedLine = obj<SimulatedLineConfig & { simulated: { dialIn?: TcpAddress; callerNumber?: string } }>(
  {
    simulated: obj(
      {
        dialIn: tcpUrl('each TCP connection here dials the simulated modem (demos, rehearsals)'),
        callerNumber: str({ doc: 'caller ID the simulated modem reports' }),
      },
      { doc: 'a simulated Hayes modem (no hardware)', defaultEmpty: true },
    ),
    modem: obj<ModemConfig>(modemFields, { doc: 'Hayes modem settings', defaultEmpty: true }),
    ...lineCommon,
  },
  { doc: 'a simulated modem line' },
);

// The numeric enums above are written as strings in oneOf for the message; YAML gives numbers.
function numericEnum(v: unknown): unknown {
  return typeof v === 'number' ? String(v) : v;
}

const LINE_KINDS = ['listen', 'device', 'simulated'] as const;

const line: Field<LineConfig> = {
  type: 'line',
  doc: 'one line: exactly one of `listen`, `device`, `simulated`',
  parse(v, path, issues) {
    if (!isPlainObject(v)) return issues.add(path, `${show(v)} is not a line mapping`, 'e.g. { listen: tcp://127.0.0.1:2323 }');
    const kinds = LINE_KINDS.filter((k) => k in v);
    if (kinds.length !== 1) {
      const near = Object.keys(v).map((k) => closest(k, LINE_KINDS)).find(Boolean);
      return issues.add(path, kinds.length ? `has ${kinds.join(' and ')}: a line is exactly one kind` : 'needs one of listen:, device:, simulated:', kinds.length ? undefined : near);
    }
    if (kinds[0] === 'listen') {
      const r = tcpLine.parse(v, path, issues);
      return r && { ...r, kind: 'tcp' };
    }
    if (kinds[0] === 'device') {
      const fixed = { ...v, dataBits: numericEnum(v.dataBits), stopBits: numericEnum(v.stopBits) };
      const r = deviceLine.parse(fixed, path, issues);
      return r && ({ ...r, kind: 'device', dataBits: Number(r.dataBits), stopBits: Number(r.stopBits) } as DeviceLineConfig);
    }
    const raw = v.simulated === true || v.simulated === null ? { ...v, simulated: {} } : v;
    const r = simulatedLine.parse(raw, path, issues);
    if (!r) return undefined;
    const { simulated, ...rest } = r;
    return { ...rest, kind: 'simulated', dialIn: simulated.dialIn, callerNumber: simulated.callerNumber };
  },
  rows(prefix) {
    const tcp = tcpLine.rows!(prefix).filter((r) => !r.key.endsWith('.id') && !Object.keys(lineCommon).some((k) => r.key === `${prefix}.${k}`));
    const dev = deviceLine.rows!(prefix).filter((r) => !Object.keys(lineCommon).some((k) => r.key === `${prefix}.${k}`));
    const sim = simulatedLine.rows!(prefix).filter((r) => !r.key.startsWith(`${prefix}.modem`) && !Object.keys(lineCommon).some((k) => r.key === `${prefix}.${k}`));
    const common = Object.entries(lineCommon).map(([k, f]) => ({ key: `${prefix}.${k}`, type: f.type, default: f.defaultText ?? (f.defaultValue ? JSON.stringify(f.defaultValue()) : '(none)'), doc: f.doc }));
    return [...common, ...tcp, ...dev, ...sim];
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

const authority: Field<AuthorityConfigSection> = {
  type: 'mapping',
  doc: 'where credentials are checked: `type: local | ldap | winbind` and its settings',
  defaultValue: () => ({ type: 'local', file: './var/smbpasswd', allowNtlmV1: false }),
  parse(v, path, issues) {
    if (v === null || v === undefined) v = { type: 'local' };
    if (!isPlainObject(v)) return issues.add(path, `${show(v)} is not a mapping`);
    const type = v.type ?? 'local';
    if (type === 'local') return localAuthority.parse({ ...v, type }, path, issues);
    if (type === 'ldap' || type === 'winbind') return { ...v, type } as DomainAuthorityConfig;
    return issues.add(`${path}.type`, `${show(type)} is not one of ${AUTHORITY_TYPES.join(', ')}`, typeof type === 'string' ? closest(type, AUTHORITY_TYPES) : undefined);
  },
  rows: (prefix) => localAuthority.rows!(prefix).map((r) => (r.key.endsWith('.type') ? { ...r, type: '`local` \\| `ldap` \\| `winbind`', default: '`local`' } : r)),
};

const dialogue = obj<DialogueConfig>(
  {
    banner: str({ doc: 'sent when the call is answered; `{line}`, `{date}`, `{caller}` are replaced', default: '\r\nrasgate {line}\r\n', empty: true }),
    prompts: obj(
      {
        user: str({ doc: 'user name prompt', default: 'login: ', empty: true }),
        password: str({ doc: 'password prompt (typed characters are never echoed)', default: 'Password: ', empty: true }),
        domain: str({ doc: 'domain prompt (with askDomain)', default: 'Domain: ', empty: true }),
      },
      { doc: 'prompts', defaultEmpty: true },
    ),
    askDomain: bool({ doc: 'ask for the domain after the password (DOMAIN\\user and user@domain always work)', default: false }),
    defaultDomain: str({ doc: 'domain used when none is typed (empty: the authority\'s own)', default: '', empty: true }),
    messages: obj(
      {
        welcome: str({ doc: 'after a successful login; `{user}`, `{domain}` are replaced', default: 'Welcome, {user}.', empty: true }),
        failure: str({ doc: 'after a wrong user name or password', default: 'Login incorrect.', empty: true }),
        error: str({ doc: 'when the authority cannot be reached', default: 'Service unavailable, please try again later.', empty: true }),
        denied: str({ doc: 'account refused by policy (disabled, locked, expired, no dial-in) when the authority gives no message', default: 'Access denied for this account. Contact your administrator.', empty: true }),
        timeout: str({ doc: 'when a field or the whole login times out', default: 'Timed out.', empty: true }),
        timeoutWarning: str({ doc: 'sent warnBefore seconds before a field times out', default: 'Please hurry: the login times out soon.', empty: true }),
        pppRefused: str({ doc: 'a PPP frame at the prompt on a line without `ppp: exec`', default: 'PPP is not available on this line.', empty: true }),
        bridgeFailed: str({ doc: 'the bridge target did not answer', default: 'The service is not reachable, please try again later.', empty: true }),
      },
      { doc: 'messages', defaultEmpty: true },
    ),
    fieldTimeout: seconds('per-field Receive timeout (0 = none)', 60, 0, 3600),
    warnBefore: seconds('warn this long before a field times out (0 = no warning)', 10, 0, 3600),
    loginTime: seconds('whole login, all attempts', 240, 0, 86_400),
    attempts: num({ doc: 'attempts before hanging up', default: 3, min: 1, max: 10, integer: true }),
    failureDelay: seconds('delay after the first failure; doubles after each further one', 2, 0, 60),
    sevenBit: bool({ doc: 'strip bit 7 from what the caller types', default: false }),
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
    listen: tcpUrl('address of rasgate\'s own console (reserved: the console is not built yet)', { default: 'tcp://127.0.0.1:8023' }),
    enabled: bool({ doc: 'start the console', default: false }),
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
  const counters: Record<string, number> = { tcp: 0, device: 0, simulated: 0 };
  const prefix: Record<string, string> = { tcp: 'tcp', device: 'dev', simulated: 'sim' };
  const ids = new Map<string, number>();
  const listens = new Map<string, number>();
  (raw.lines ?? []).forEach((l, i) => {
    if (!l) return;
    const n = counters[l.kind]!++;
    if (!l.id) l.id = `${prefix[l.kind]}${n}`;
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
    const addr = lc.kind === 'tcp' ? lc.listen : lc.kind === 'simulated' ? lc.dialIn : undefined;
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
