/**
 * Options of what watches the gateway: the log, the console and the inspector relay, each key
 * described once (the gateway's schema composes them; the console and the inspector read
 * their parsed form).
 */
import { LOG_AREAS } from '../logging.js';
import { isLoopbackHost, tcpUrl } from '../options/address.js';
import { bool, dict, num, obj, oneOf, str, type Infer } from '../options/fields.js';

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const level = oneOf(LOG_LEVELS, { doc: 'level' });

export const logFields = {
  level: oneOf(LOG_LEVELS, { doc: 'minimum level of every area', default: 'info' }),
  modules: dict(level, { doc: `per-area level (areas: ${LOG_AREAS.join(', ')})`, default: {}, keys: LOG_AREAS, keyName: 'area' }),
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
};

const loopbackOnly = (what: string) => (a: { host: string }) =>
  isLoopbackHost(a.host) ? undefined : `${a.host} is not a loopback address: ${what} has no authentication (reach it through an SSH tunnel)`;

export const consoleFields = {
  listen: tcpUrl({ doc: "rasgate's own read-only web console (no authentication: loopback only, reach it through SSH)", default: 'tcp://127.0.0.1:8023', check: loopbackOnly('the console') }),
  enabled: bool({ doc: 'serve the console (the embedded default does)', default: false }),
};

export const inspectorFields = {
  host: str({ doc: 'the inspector relay binds here with --inspect (loopback only: it has no authentication)', default: '127.0.0.1', check: (v) => loopbackOnly('the inspector relay')({ host: v }) }),
  port: num({ doc: 'relay port used by --inspect without =PORT', default: 8081, min: 0, max: 65535, integer: true }),
};

export type LogConfig = Infer<typeof logFields>;
export type ConsoleConfig = Infer<typeof consoleFields>;
export type InspectorConfig = Infer<typeof inspectorFields>;
