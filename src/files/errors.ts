/**
 * Failures of the files rasgate keeps (the account store, its state files). Each names the path
 * and the cause in words and errno name ("no space left on device (ENOSPC)"), so that an
 * operator knows which file and what to fix; writes say that nothing changed.
 */
import { getSystemErrorMap } from 'node:util';
import { RasgateError } from '../errors.js';

/** "permission denied (EACCES)" for a system error, else the error's message. */
export function describeCause(err: unknown): string {
  const e = err as NodeJS.ErrnoException | undefined;
  const text = typeof e?.errno === 'number' ? getSystemErrorMap().get(e.errno)?.[1] : undefined;
  if (e?.code && text) return `${text} (${e.code})`;
  return err instanceof Error ? err.message : String(err);
}

/** Waited `timeoutMs` for a lock that stayed held by a live writer. */
export class FileLockError extends RasgateError {
  constructor(message: string) {
    super('FILE_LOCK_TIMEOUT', message);
  }
}

export type FileOperation = 'read' | 'write' | 'lock' | 'mkdir';

const WHAT: Record<FileOperation, (path: string) => string> = {
  read: (path) => `cannot read ${path}`,
  write: (path) => `cannot write ${path}`,
  lock: (path) => `cannot lock ${path} (${path}.lock)`,
  mkdir: (path) => `cannot create the folder of ${path}`,
};

/** Reading, locking or writing a file failed; `errno` is the system error's name, if any. */
export class FileIoError extends RasgateError {
  readonly errno: string | undefined;
  constructor(
    readonly path: string,
    readonly operation: FileOperation,
    cause: unknown,
  ) {
    super('FILE_IO', `${WHAT[operation](path)}: ${describeCause(cause)}${operation === 'read' ? '' : '; nothing changed'}`, { cause });
    this.errno = (cause as NodeJS.ErrnoException | undefined)?.code;
  }
}
