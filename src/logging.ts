/**
 * What rasgate's modules need of a logger: four levels, one record with a chosen level, and
 * child loggers that add fields (line, call, area). src/observe/logger.ts implements it with
 * winston for the daemon; a library user may pass anything of this shape (pino, console
 * wrappers), and importing the NTLM or RAS code loads no logging package.
 */
export type LogMeta = Record<string, unknown>;

/**
 * The areas records are filed under (the `area` field; `log.modules` sets a level per area).
 * A machine's transitions go under its own area (line, call, dialogue; ntlmAccept under ntlm).
 */
export const LOG_AREAS = ['gateway', 'line', 'call', 'dialogue', 'ntlm', 'authority', 'action', 'console', 'inspector', 'audit', 'guard'] as const;
export type LogArea = (typeof LOG_AREAS)[number];

export interface Logger {
  error(message: string, meta?: LogMeta): unknown;
  warn(message: string, meta?: LogMeta): unknown;
  info(message: string, meta?: LogMeta): unknown;
  debug(message: string, meta?: LogMeta): unknown;
  /** One record at `level` ('error' | 'warn' | 'info' | 'debug'). */
  log(level: string, message: string, meta?: LogMeta): unknown;
  /** A logger whose records all carry `meta`. */
  child(meta: LogMeta): Logger;
}

const silent: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
  log: () => undefined,
  child: () => silent,
};

/** A logger that drops everything: the default for library use and unit tests. */
export function nullLogger(): Logger {
  return silent;
}

/**
 * The same logger with its info and warn records moved to debug (errors stay errors): for a
 * component whose records repeat what its caller logs anyway (the acceptor inside a call).
 */
export function atDebug(logger: Logger): Logger {
  const debug = (message: string, meta?: LogMeta) => logger.debug(message, meta);
  return {
    error: (message, meta) => logger.error(message, meta),
    warn: debug,
    info: debug,
    debug,
    log: (level, message, meta) => (level === 'error' ? logger.error(message, meta) : logger.debug(message, meta)),
    child: (meta) => atDebug(logger.child(meta)),
  };
}
