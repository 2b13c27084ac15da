/**
 * Files written completely, atomically and privately, or not at all: a temp file in the same
 * folder (`.<name>.<pid>.<hex>.tmp`, mode 0600), written fully, fsync'd, renamed over the file,
 * and the folder fsync'd. A failure (full disk, read-only, I/O error) removes the temp file and
 * leaves the old file whole. Temp files of writers that were killed are found by their pid.
 */
import { closeSync, fchmodSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, unlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { ASIDE_MARK, pidAlive, writeFully } from './lock.js';

/** mkdir -p with mode 0700, a level at a time: Node's recursive mkdir reports EROFS as ENOENT. */
export function makeFolders(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT' || dirname(dir) === dir) throw err;
    makeFolders(dirname(dir));
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code !== 'EEXIST') throw again;
    }
  }
}

/** Replace `path` with `content` (see the file comment). Throws the system error; nothing changed then. */
export function writeFileAtomic(path: string, content: string | Buffer, mode = 0o600): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', mode);
    fchmodSync(fd, mode); // the umask cannot widen it, but be explicit
    writeFully(fd, content);
    fsyncSync(fd);
    const done = fd;
    fd = undefined;
    closeSync(done);
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) closeQuietly(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // never created
    }
    throw err;
  }
  try {
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // some filesystems refuse fsync on a directory; the rename itself is atomic
  }
}

/** The pid that wrote a temp file of `path`, if `name` is one. */
export function tempFileOwner(path: string, name: string): number | undefined {
  const base = basename(path);
  if (!name.startsWith(`.${base}.`) || !name.endsWith('.tmp')) return undefined;
  const pid = /^(\d+)\.[0-9a-f]+\.tmp$/.exec(name.slice(base.length + 2))?.[1];
  return pid === undefined ? undefined : Number(pid);
}

/**
 * The pid that left `name` beside `path`: a temp file of writeFileAtomic, or a lock file that
 * withFileLock set aside (`.lock.stale-PID-...`). Either is left by a writer killed midway.
 */
export function leftoverOwner(path: string, name: string): number | undefined {
  const aside = `${basename(path)}.lock${ASIDE_MARK}`;
  if (name.startsWith(aside)) return Number(/^(\d+)-/.exec(name.slice(aside.length))?.[1]) || undefined;
  return tempFileOwner(path, name);
}

/** Remove what dead writers left beside `path` (leftoverOwner); returns the files removed. Call under the file's lock. */
export function removeDeadTempFiles(path: string, owner: (name: string) => number | undefined = (n) => leftoverOwner(path, n)): string[] {
  const dir = dirname(path);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return []; // the write that follows reports what is wrong with the folder
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = owner(name);
    if (!pid || pidAlive(pid)) continue;
    try {
      unlinkSync(join(dir, name));
      removed.push(join(dir, name));
    } catch {
      // removed by another writer, or the folder is read-only: the write will say so
    }
  }
  return removed;
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // the error being reported is the one that matters
  }
}
