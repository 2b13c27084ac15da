/**
 * Options of what watches the gateway: the log, the console and the inspector relay, each key
 * described once (the gateway's schema composes them; the console and the inspector read
 * their parsed form).
 */
import { LOG_AREAS } from '../logging.js';
import { isLoopbackHost, tcpUrl } from '../options/address.js';
import { bool, dict, list, num, obj, oneOf, str, type Field, type Infer } from '../options/fields.js';

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const level = oneOf(LOG_LEVELS, { doc: 'level' });

export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export const logFields = {
  level: oneOf(LOG_LEVELS, { doc: 'minimum level of every area', default: 'info' }),
  modules: dict(level, { doc: `per-area level (areas: ${LOG_AREAS.join(', ')})`, default: {}, keys: LOG_AREAS, keyName: 'area' }),
  format: oneOf(LOG_FORMATS, { doc: 'standard output: `json` (one JSON object a line, for journald and collectors) or `pretty` (one short line a record, for people); default: pretty on a terminal, json otherwise (the log file is always json)' }),
  transitions: bool({ doc: 'machine transitions at info (default: at debug, so that a call is a handful of records; the console and the inspector see every transition either way)', default: false }),
  file: obj(
    {
      path: str({ doc: 'file name; `%DATE%` is replaced by the date (daily rotation)', required: true }),
      datePattern: str({ doc: 'rotation pattern (moment.js)', default: 'YYYY-MM-DD' }),
      maxFiles: str({ doc: 'keep this many files or days (`14d`)', default: '14d' }),
      level: oneOf(LOG_LEVELS, { doc: 'minimum level in the file (default: log.level)' }),
    },
    { doc: 'optional JSON-lines file with daily rotation (absent: stdout only)' },
  ),
};

const loopbackOnly = (what: string) => (a: { host: string }) =>
  isLoopbackHost(a.host) ? undefined : `${a.host} is not a loopback address: ${what} has no authentication (reach it through an SSH tunnel)`;

/** One name, or a list of names (`requireGroup: Dialin-Admins` or `requireGroup: [alice, bob]`). */
function names(doc: string): Field<string[], true> {
  const item = str({ doc: 'name', required: true });
  const many = list(item, { doc, maxItems: 256 });
  return {
    type: 'string or list of strings',
    doc,
    defaultValue: () => [],
    defaultText: '`[]`',
    parse: (v, path, issues) => (typeof v === 'string' ? (item.parse(v, path, issues) === undefined ? undefined : [v]) : many.parse(v, path, issues)),
  };
}

export const consoleFields = {
  listen: tcpUrl({ doc: "rasgate's own web console; beyond loopback it needs `tls` and `signIn: true` (NTLM over plain HTTP gives an eavesdropper a response to crack offline)", default: 'tcp://127.0.0.1:8023' }),
  enabled: bool({ doc: 'serve the console (the embedded default does)', default: false }),
  signIn: bool({ doc: "every request signs in with HTTP NTLM (`Negotiate` / `NTLM`) against the gateway's authority, as the lines do; the actions (hang up, out of service, unlock, clear a penalty) need it. false: read-only, loopback only", default: true }),
  requireGroup: names('who may sign in: user names (any authority), or domain group names or SIDs (the ldap authority with `bindDn`, which reads nested groups; the local store and winbind tell no groups). Empty: every account the authority accepts'),
  tls: obj(
    {
      cert: str({ doc: 'PEM certificate (chain) file', required: true }),
      key: str({ doc: 'PEM private key file (keep it 0600)', required: true }),
    },
    { doc: 'serve HTTPS (node:https) with this certificate and key; needed beyond loopback' },
  ),
  allowedHosts: list(str({ doc: 'host name', required: true }), { doc: "Host header names answered besides IP literals and `localhost` (the gateway's DNS name when operators use it); others get 403 (DNS rebinding)", default: [], maxItems: 64 }),
};

/** Beyond loopback the console must sign in over TLS: the issue, or undefined. */
export function consoleExposure(c: { listen: { host: string }; signIn: boolean; tls?: unknown }): string | undefined {
  if (isLoopbackHost(c.listen.host)) return undefined;
  const missing = [c.tls ? undefined : '`console.tls: { cert, key }`', c.signIn ? undefined : '`console.signIn: true`'].filter(Boolean);
  return missing.length ? `${c.listen.host} is not a loopback address: beyond loopback the console needs ${missing.join(' and ')} (NTLM over plain HTTP gives an eavesdropper a response to crack offline)` : undefined;
}

/** The `console:` section, with its exposure rule checked (check-config reports it at console.listen). */
export const consoleSection = obj(consoleFields, {
  doc: 'console',
  defaultEmpty: true,
  check: (c, path, issues) => {
    const bad = consoleExposure(c);
    if (bad) issues.add(path ? `${path}.listen` : 'listen', bad, c.tls ? 'signIn: true' : 'tls: { cert: /etc/rasgate/console.crt, key: /etc/rasgate/console.key }');
  },
});

export const inspectorFields = {
  host: str({ doc: 'the inspector relay binds here with --inspect (loopback only: it has no authentication)', default: '127.0.0.1', check: (v) => loopbackOnly('the inspector relay')({ host: v }) }),
  port: num({ doc: 'relay port used by --inspect without =PORT', default: 8081, min: 0, max: 65535, integer: true }),
};

export const metricsFields = {
  listen: tcpUrl({
    doc: '`/metrics` and `/healthz` on a listener of their own (absent: served on the console when it is enabled, else not at all); loopback unless `public: true`',
  }),
  public: bool({ doc: 'no authentication for `/metrics` on the console (once it has sign-in) and allow a non-loopback `listen`: the metrics carry no names, caller IDs or secrets', default: false }),
};

/** `metrics.listen` off loopback needs `metrics.public` (checked with the whole section: it reads both keys). */
export function metricsListenIssue(m: { listen?: { host: string }; public?: boolean }): string | undefined {
  if (!m.listen || m.public || isLoopbackHost(m.listen.host)) return undefined;
  return loopbackOnly('/metrics')(m.listen)?.replace('reach it through an SSH tunnel', 'set metrics.public: true to serve it there');
}

export type LogConfig = Infer<typeof logFields>;
export type MetricsConfig = Infer<typeof metricsFields>;
export type ConsoleConfig = Infer<typeof consoleFields>;
export type InspectorConfig = Infer<typeof inspectorFields>;
