/**
 * winston logger with redaction by construction. Every record passes through `redact`
 * before any transport sees it: keys that name secrets are replaced, Buffers are never
 * printed, and long hex/base64 runs (tokens, hashes, keys) in strings are masked.
 * Use `logger.child({ line, call, module })` for per-line / per-call loggers.
 */
import winston from 'winston';

export type Logger = winston.Logger;

/** Keys whose values are secrets wherever they appear (matched case-insensitively). */
const SECRET_KEY = /pass(word)?|secret|nt_?hash|lm_?hash|hash$|token|session_?key|sessionbasekey|exportedsessionkey|^key$|challenge_?response|ntresponse|lmresponse|authenticate|negotiate|^challenge$|credentials/i;

const REDACTED = '[redacted]';

function redactValue(value: unknown, depth: number): unknown {
  if (value === null || value === undefined) return value;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `[${value.length} bytes]`;
  if (typeof value === 'string') return value.length > 24 && /^(?:[0-9a-fA-F]{32,}|[A-Za-z0-9+/]{40,}={0,2})$/.test(value) ? REDACTED : value;
  if (depth > 6 || typeof value !== 'object') return value;
  if (value instanceof Error) return { name: value.name, message: value.message, code: (value as { code?: unknown }).code };
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

export interface LoggerOptions {
  /** Minimum level. Default 'info'. */
  level?: string;
  /** Silence every transport (tests). Default false. */
  silent?: boolean;
  /** Extra transports (file rotation, test capture). Default: stdout JSON lines only. */
  transports?: winston.transport[];
  /** Add no stdout transport. Default false. */
  noStdout?: boolean;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const transports: winston.transport[] = [...(options.transports ?? [])];
  if (!options.noStdout) transports.push(new winston.transports.Console());
  return winston.createLogger({
    level: options.level ?? 'info',
    silent: options.silent ?? false,
    format: winston.format.combine(redact(), winston.format.timestamp(), winston.format.json()),
    transports,
  });
}

/** A logger that drops everything: the default for library use and unit tests. */
export function nullLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}
