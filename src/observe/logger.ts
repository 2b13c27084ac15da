/**
 * winston logger with redaction by construction. Every record passes through `redact`
 * before any transport sees it: keys that name secrets are replaced, Buffers are never
 * printed, and a string that is wholly a long hex/base64 run (token, hash, key) is masked
 * (a run inside a longer text is not: keep secrets out of messages).
 * Use `logger.child({ line, call, module })` for per-line / per-call loggers.
 */
import winston from 'winston';
import DailyRotateFile from 'winston-daily-rotate-file';
import { StdoutTransport, guardStderr } from './stdout-transport.js';
import { prettyLine } from './pretty.js';


/** The winston logger the daemon runs with; modules take the plain Logger interface (src/logging.ts). */
export type WinstonLogger = winston.Logger;
export type { Logger } from '../logging.js';
export { nullLogger } from '../logging.js';

/** Keys whose values are secrets wherever they appear (matched case-insensitively). */
const SECRET_KEY = /password|^pass$|^pw$|secret|nt_?hash|lm_?hash|hash$|token|session_?key|sessionbasekey|exportedsessionkey|^key$|challenge_?response|ntresponse|lmresponse|authenticate|negotiate|^challenge$|^credentials?$/i;

const REDACTED = '[redacted]';

/** A Buffer after JSON.stringify: `{ type: 'Buffer', data: [...] }`. */
export function isJsonBuffer(value: object): value is { type: 'Buffer'; data: unknown[] } {
  return (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data);
}

/**
 * The same redaction as the log format, for any value (the inspector's sanitizers use it):
 * secret keys replaced, bytes reduced to their length, token-like strings masked.
 */
export function redactDeep(value: unknown): unknown {
  return redactValue(value, 0);
}

function redactValue(value: unknown, depth: number): unknown {
  if (value === null || value === undefined) return value;
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return `[${(value as ArrayBufferView).byteLength} bytes]`;
  if (value instanceof ArrayBuffer) return `[${value.byteLength} bytes]`;
  if (typeof value === 'object' && isJsonBuffer(value)) return `[${value.data.length} bytes]`;
  if (typeof value === 'string') return value.length > 24 && /^(?:[0-9a-fA-F]{32,}|[A-Za-z0-9+/]{40,}={0,2})$/.test(value) ? REDACTED : value;
  if (typeof value !== 'object') return value;
  // Never pass a deep object through unredacted: cut it instead.
  if (depth > 8) return '[nested]';
  // An Error's message is a string like any other: the same token masking applies.
  if (value instanceof Error) return { name: value.name, message: redactValue(value.message, depth + 1), code: (value as { code?: unknown }).code };
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? REDACTED : redactValue(v, depth + 1);
  return out;
}

/** winston format: mutate string keys in place (Symbol keys carry winston's level/message). */
export const redact = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (key === 'level' || key === 'message') continue;
    info[key] = SECRET_KEY.test(key) ? REDACTED : redactValue(info[key], 0);
  }
  return info;
});

/** syslog priorities for journald's `<N>` prefix (sd-daemon(3)). */
const SYSLOG_PRIORITY: Record<string, number> = { error: 3, warn: 4, info: 6, http: 6, verbose: 7, debug: 7, silly: 7 };

/** True when stdout goes to journald (systemd sets these for services). */
export function underJournald(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.JOURNAL_STREAM || env.INVOCATION_ID);
}

/** Prefix the finished JSON line with `<N>` so journald files it at the right priority. */
const journaldPrefix = (line: string, level: string) => `<${SYSLOG_PRIORITY[level] ?? 6}>${line}`;

const LEVEL_RANK: Record<string, number> = { error: 0, warn: 1, info: 2, http: 3, verbose: 4, debug: 5, silly: 6 };

/**
 * Per-area levels: a record passes if its level is within its area's level (or the global
 * one). The area is the record's `area` field (src/logging.ts LOG_AREAS).
 */
const moduleLevels = (global: string, modules: Record<string, string>) =>
  winston.format((info) => {
    const area = info.area as string | undefined;
    const limit = (area !== undefined && modules[area]) || global;
    return (LEVEL_RANK[info.level] ?? 2) <= (LEVEL_RANK[limit] ?? 2) ? info : false;
  });

export interface FileLogOptions {
  /** File name; `%DATE%` is replaced by the date. Required. */
  path: string;
  /** moment.js pattern deciding the rotation. Default 'YYYY-MM-DD' (daily). */
  datePattern?: string;
  /** Files or days (`14d`) to keep. Default '14d'. */
  maxFiles?: string;
  /** Minimum level in the file. Default: the logger's level. */
  level?: string;
}

export interface LoggerOptions {
  /** Minimum level. Default 'info'. */
  level?: string;
  /** Per-module minimum levels, keyed by a record's `area` or `module`. Default none. */
  modules?: Record<string, string>;
  /** Prefix stdout lines with journald's `<N>` priority. Default: underJournald(). */
  journald?: boolean;
  /** Also write to a file with daily rotation. Default none. */
  file?: FileLogOptions;
  /** Silence every transport (tests). Default false. */
  silent?: boolean;
  /** Extra transports (file rotation, test capture). Default: stdout JSON lines only. */
  transports?: winston.transport[];
  /** Add no stdout transport. Default false. */
  noStdout?: boolean;
  /** Standard output as JSON lines or pretty lines (src/observe/pretty.ts). Default: defaultLogFormat(). */
  format?: 'json' | 'pretty';
}

/** pretty for a person at a terminal, json for journald, files and pipes. */
export function defaultLogFormat(stream: { isTTY?: boolean } = process.stdout): 'json' | 'pretty' {
  return stream.isTTY ? 'pretty' : 'json';
}

const MESSAGE = Symbol.for('message');

/** winston format: the record's line as prettyLine() writes it (after redaction, like the JSON). */
export const prettyFormat = winston.format((info) => {
  (info as Record<symbol, unknown>)[MESSAGE] = prettyLine(info as Record<string, unknown>);
  return info;
});

export function createLogger(options: LoggerOptions = {}): WinstonLogger {
  const level = options.level ?? 'info';
  const modules = options.modules ?? {};
  const transports: winston.transport[] = [...(options.transports ?? [])];
  let stdout: StdoutTransport | undefined;
  if (!options.noStdout) {
    const journald = options.journald ?? underJournald();
    guardStderr();
    const pretty = (options.format ?? defaultLogFormat()) === 'pretty';
    stdout = new StdoutTransport({ ...(journald ? { decorate: journaldPrefix } : {}), ...(pretty ? { format: prettyFormat() } : {}) });
    transports.push(stdout);
  }
  if (options.file) {
    const slash = options.file.path.lastIndexOf('/');
    transports.push(
      new DailyRotateFile({
        dirname: slash >= 0 ? options.file.path.slice(0, slash) || '/' : '.',
        filename: slash >= 0 ? options.file.path.slice(slash + 1) : options.file.path,
        datePattern: options.file.datePattern ?? 'YYYY-MM-DD',
        maxFiles: options.file.maxFiles ?? '14d',
        level: options.file.level,
        auditFile: `${options.file.path.replace(/%DATE%/g, '')}.audit.json`,
      }),
    );
  }
  // The logger's own level is the most verbose one asked for; moduleLevels() does the rest.
  const levels = [level, ...Object.values(modules)];
  const lowest = levels.reduce((a, b) => ((LEVEL_RANK[b] ?? 2) > (LEVEL_RANK[a] ?? 2) ? b : a));
  const logger = winston.createLogger({
    level: lowest,
    silent: options.silent ?? false,
    format: winston.format.combine(moduleLevels(level, modules)(), redact(), winston.format.timestamp(), winston.format.json()),
    transports,
  });
  // stdout went away: take it out of the logger (outside the failing write), and say so once
  // through whatever is left (a log file).
  stdout?.once('lost', (err: unknown) =>
    queueMicrotask(() => {
      logger.remove(stdout);
      if (logger.transports.length > 0) logger.warn('standard output is gone: logging to it stopped', { area: 'gateway', code: (err as { code?: unknown } | null)?.code });
    }),
  );
  return logger;
}

/** End every transport (flushes files) and resolve when done or after `timeoutMs`. */
export function closeLogger(logger: WinstonLogger, timeoutMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, timeoutMs);
    t.unref?.();
    logger.once('finish', () => {
      clearTimeout(t);
      resolve();
    });
    // A late record (a socket closing after shutdown) must not become an unhandled 'error'.
    logger.on('error', () => {});
    logger.end();
  });
}
