/**
 * An exclusive lock file beside a file (`<file>.lock`), created with O_CREAT|O_EXCL so that
 * exactly one writer holds it. The holder writes "pid time" into it.
 *
 * A lock is stale when its pid is gone (same host), when it was last written more than
 * `staleMs` ago, or when it holds no pid (its writer died between creating and filling it)
 * and is older than `emptyStaleMs`. Ages come from the file's mtime, never from its content,
 * which may be empty or torn. A stale lock is broken by renaming it to a unique name (atomic)
 * and checking that the file moved is the one judged stale; if it is not (a new holder's, or
 * its holder just wrote its pid) it is put back. A holder checks after filling the lock in that
 * it is still the lock in place, and removes it on release only if it still is. (A third writer
 * creating a lock in the instant between a break's rename and its putting back is not caught.)
 */
import { closeSync, fstatSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { FileIoError, FileLockError } from './errors.js';

export interface LockOptions {
  /** Give up after this long. Default 10000 ms. */
  timeoutMs?: number;
  /** A lock not written for this long is stale even if its pid seems alive. Default 30000 ms. */
  staleMs?: number;
  /** A lock with no pid in it is stale after this long. Default 5000 ms. */
  emptyStaleMs?: number;
}

/** Is a process with this pid running on this host? (EPERM: it runs, as another user.) */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Name a stale lock is moved to before it is removed: `<lock>.stale-<pid>-<random>`. */
export const ASIDE_MARK = '.stale-';

/** Which file a lock is, and what it says. */
interface LockSeen {
  ino: number;
  mtimeMs: number;
  pid?: number;
}

function look(lockPath: string): LockSeen | undefined {
  let fd: number;
  try {
    fd = openSync(lockPath, 'r');
  } catch {
    return undefined; // vanished: just retry
  }
  try {
    const st = fstatSync(fd);
    const pid = /^(\d+)(?:\s|$)/.exec(readFileSync(fd, 'utf8'))?.[1];
    return { ino: st.ino, mtimeMs: st.mtimeMs, pid: pid === undefined ? undefined : Number(pid) };
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

function isStale(lock: LockSeen, staleMs: number, emptyStaleMs: number): boolean {
  const age = Date.now() - lock.mtimeMs;
  if (lock.pid === undefined) return age > emptyStaleMs;
  return !pidAlive(lock.pid) || age > staleMs;
}

const sameFile = (a: { ino: number; mtimeMs: number }, b: { ino: number; mtimeMs: number }) => a.ino === b.ino && a.mtimeMs === b.mtimeMs;

function statOrUndefined(path: string): { ino: number; mtimeMs: number } | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function breakStale(lockPath: string, judged: LockSeen): void {
  const aside = `${lockPath}${ASIDE_MARK}${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    renameSync(lockPath, aside);
  } catch {
    return; // someone else broke it first
  }
  const moved = statOrUndefined(aside);
  if (moved && !sameFile(moved, judged)) {
    try {
      linkSync(aside, lockPath);
    } catch {
      // a newer lock is in place already
    }
  }
  try {
    unlinkSync(aside);
  } catch {
    // removed by its owner's cleanup
  }
}

/** Write all of `data`: a short write (a filling disk) is continued, and fails only with an error. */
export function writeFully(fd: number, data: string | Buffer): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  for (let done = 0; done < bytes.length; ) {
    const n = writeSync(fd, bytes, done, bytes.length - done);
    if (n <= 0) throw new Error(`write stopped after ${done} of ${bytes.length} bytes`);
    done += n;
  }
}

/**
 * Create the lock and fill it in. Returns which file it is, or undefined when someone else holds
 * it, or when it was broken as stale while this writer was stalled before writing its pid.
 */
function tryAcquire(path: string, lockPath: string): { ino: number; mtimeMs: number } | undefined {
  let fd: number;
  try {
    fd = openSync(lockPath, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw new FileIoError(path, 'lock', err);
  }
  let mine: { ino: number; mtimeMs: number };
  try {
    writeFully(fd, `${process.pid} ${Date.now()}\n`);
    fsyncSync(fd);
    mine = fstatSync(fd);
  } catch (err) {
    // ENOSPC, EIO: no pid in it, so give it up rather than leave an empty lock behind.
    let created: { ino: number; mtimeMs: number } | undefined;
    try {
      created = fstatSync(fd);
    } catch {
      // cannot tell which file it is: leave it to the mtime rule
    }
    closeSync(fd);
    release(lockPath, created);
    throw new FileIoError(path, 'lock', err);
  }
  closeSync(fd);
  const inPlace = statOrUndefined(lockPath);
  return inPlace && sameFile(inPlace, mine) ? mine : undefined;
}

/** Remove the lock if it is still the one we created. */
function release(lockPath: string, mine: { ino: number; mtimeMs: number } | undefined): void {
  const now = statOrUndefined(lockPath);
  if (!now || !mine || !sameFile(now, mine)) return; // broken as stale by someone else: nothing to release
  try {
    unlinkSync(lockPath);
  } catch {
    // gone already
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Run `fn` while holding `<path>.lock`. */
export async function withFileLock<T>(path: string, fn: () => T | Promise<T>, options: LockOptions = {}): Promise<T> {
  const lockPath = `${path}.lock`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const staleMs = options.staleMs ?? 30_000;
  const emptyStaleMs = options.emptyStaleMs ?? 5_000;
  const deadline = Date.now() + timeoutMs;
  let wait = 2;
  for (;;) {
    const mine = tryAcquire(path, lockPath);
    if (mine) {
      try {
        return await fn();
      } finally {
        release(lockPath, mine);
      }
    }
    const held = look(lockPath);
    if (held && isStale(held, staleMs, emptyStaleMs)) {
      breakStale(lockPath, held);
      continue;
    }
    if (Date.now() > deadline) throw new FileLockError(`could not lock ${path} within ${timeoutMs} ms (held by ${lockPath}${held?.pid ? `, pid ${held.pid}` : ''})`);
    await sleep(wait + Math.random() * wait);
    wait = Math.min(wait * 2, 50);
  }
}
