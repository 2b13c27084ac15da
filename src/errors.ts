/**
 * One error base for rasgate, one subclass per failure family, each with a stable `code`
 * string that logs and handlers branch on (after undici's lib/core/errors.js).
 * Concern-specific subclasses live beside their concern (src/ntlm/errors.ts, ...).
 */
export class RasgateError extends Error {
  /** Stable, machine-readable code, e.g. `NTLM_TRUNCATED`, `CONFIG_INVALID`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A value from configuration or a caller-supplied option is wrong; `key` names it. */
export class OptionError extends RasgateError {
  readonly key: string;
  constructor(key: string, message: string) {
    super('OPTION_INVALID', `"${key}" ${message}`);
    this.key = key;
  }
}

/** Narrow an unknown thrown value to something loggable without leaking its payload. */
export function errorSummary(err: unknown): { code?: string; message: string } {
  if (err instanceof RasgateError) return { code: err.code, message: err.message };
  if (err instanceof Error) return { code: (err as NodeJS.ErrnoException).code, message: err.message };
  return { message: String(err) };
}

/** The first lines of an error's stack, for a log record that must say where a fault came from. */
export function errorStack(err: unknown, lines = 8): string | undefined {
  return err instanceof Error ? err.stack?.split('\n').slice(0, lines).join('\n') : undefined;
}
