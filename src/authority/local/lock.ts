/**
 * An exclusive lock file beside the store (`<file>.lock`), created with O_CREAT|O_EXCL so that
 * exactly one writer holds it. The holder writes "pid time" into it. A lock is stale when its
 * pid is gone (same host) or it is older than `staleMs`; a stale lock is broken by renaming it
 * to a unique name first (atomic), so two waiters cannot both delete a fresh lock by accident.
 */
import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeSync, fsyncSync } from 'node:fs';
import { RasgateError } from '../../errors.js';

export class StoreLockError extends RasgateError {
  constructor(message: string) {
    super('STORE_LOCK_TIMEOUT', message);
  }
}

export interface LockOptions {
  /** Give up after this long. Default 10000 ms. */
  timeoutMs?: number;
  /** A lock older than this is stale even if its pid seems alive. Default 30000 ms. */
  staleMs?: number;
}

/** Whether a process with this pid exists on this host (EPERM: it does, owned by someone else). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isStale(lockPath: string, staleMs: number): boolean {
  let text: string;
  try {
    text = readFileSync(lockPath, 'utf8');
  } catch {
    return false; // vanished: just retry
  }
  const [pidText, timeText] = text.trim().split(' ');
  const since = Date.now() - Number(timeText);
  // An empty file is a lock being written right now unless it lingers.
  if (!pidText) return Number.isFinite(since) ? since > staleMs : false;
  return !pidAlive(Number(pidText)) || !(since < staleMs);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Run `fn` while holding `<path>.lock`. */
export async function withFileLock<T>(path: string, fn: () => T | Promise<T>, options: LockOptions = {}): Promise<T> {
  const lockPath = `${path}.lock`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const staleMs = options.staleMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let wait = 2;
  for (;;) {
    let fd: number | undefined;
    try {
      fd = openSync(lockPath, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (fd !== undefined) {
      try {
        writeSync(fd, `${process.pid} ${Date.now()}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      try {
        return await fn();
      } finally {
        try {
          unlinkSync(lockPath);
        } catch {
          // already broken as stale by someone else: nothing to release
        }
      }
    }
    if (isStale(lockPath, staleMs)) {
      const aside = `${lockPath}.stale-${process.pid}-${Math.random().toString(36).slice(2)}`;
      try {
        renameSync(lockPath, aside);
        unlinkSync(aside);
      } catch {
        // someone else broke it first
      }
      continue;
    }
    if (Date.now() > deadline) throw new StoreLockError(`could not lock ${path} within ${timeoutMs} ms (held by ${lockPath})`);
    await sleep(wait + Math.random() * wait);
    wait = Math.min(wait * 2, 50);
  }
}
