/**
 * The smbpasswd file on disk: cached reads that follow the file's mtime, and locked, atomic
 * read-modify-write updates (lock file, temp file in the same directory, fsync, rename).
 * Lines the writer does not touch (comments, malformed lines) are kept byte for byte.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync, chmodSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../observe/logger.js';
import { nullLogger } from '../../observe/logger.js';
import { formatLine, parseLine, parseSmbpasswd, type LineProblem, type SmbpasswdEntry } from './smbpasswd.js';
import { withFileLock, type LockOptions } from './lock.js';

export interface SmbpasswdStoreOptions {
  logger?: Logger;
  /** Look at the file's mtime at most this often when reading. Default 1000 ms; 0 = every read. */
  recheckMs?: number;
  /** Milliseconds clock for the recheck throttle. Default Date.now. */
  now?: () => number;
  lock?: LockOptions;
}

/** What a writer sees and changes inside `update`. */
export interface StoreEditor {
  get(name: string): SmbpasswdEntry | undefined;
  list(): SmbpasswdEntry[];
  /** Add or replace (matched case-insensitively by name). */
  put(entry: SmbpasswdEntry): void;
  delete(name: string): boolean;
}

interface RawLine {
  text: string;
  entry?: SmbpasswdEntry;
}

export class SmbpasswdStore {
  readonly path: string;
  private readonly logger: Logger;
  private readonly recheckMs: number;
  private readonly now: () => number;
  private readonly lockOptions: LockOptions;
  private byName = new Map<string, SmbpasswdEntry>();
  private loadedMtime = -1;
  private loadedSize = -1;
  private lastCheck = -Infinity;
  private lastProblems: LineProblem[] = [];

  constructor(path: string, options: SmbpasswdStoreOptions = {}) {
    this.path = path;
    this.logger = options.logger ?? nullLogger();
    this.recheckMs = options.recheckMs ?? 1000;
    this.now = options.now ?? Date.now;
    this.lockOptions = options.lock ?? {};
  }

  /** Problems found by the last load (line numbers are 1-based). */
  get problems(): readonly LineProblem[] {
    return this.lastProblems;
  }

  /** Re-read the file now, whatever its mtime. A missing file is an empty store. */
  reload(): void {
    this.loadedMtime = -1;
    this.lastCheck = -Infinity;
    this.refresh();
  }

  /** Re-read when the file's mtime or size changed (checked at most every recheckMs). */
  private refresh(): void {
    const t = this.now();
    if (t - this.lastCheck < this.recheckMs) return;
    this.lastCheck = t;
    let mtime = 0;
    let size = 0;
    try {
      const st = statSync(this.path, { bigint: false });
      mtime = st.mtimeMs;
      size = st.size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.logger.error('smbpasswd store unreadable; keeping the accounts loaded before', { file: this.path, error: (err as Error).message });
        return;
      }
    }
    if (mtime === this.loadedMtime && size === this.loadedSize) return;
    let text = '';
    try {
      text = mtime === 0 && size === 0 ? '' : readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.logger.error('smbpasswd store unreadable; keeping the accounts loaded before', { file: this.path, error: (err as Error).message });
        return;
      }
    }
    const parsed = parseSmbpasswd(text);
    for (const p of parsed.problems) this.logger.warn('smbpasswd line skipped', { file: this.path, line: p.line, reason: p.reason });
    this.lastProblems = parsed.problems;
    this.byName = new Map(parsed.entries.map((e) => [e.name.toLowerCase(), e]));
    this.loadedMtime = mtime;
    this.loadedSize = size;
  }

  /** Case-insensitive lookup, as Samba's strequal. */
  lookup(name: string): SmbpasswdEntry | undefined {
    this.refresh();
    return this.byName.get(name.toLowerCase());
  }

  list(): SmbpasswdEntry[] {
    this.refresh();
    return [...this.byName.values()];
  }

  /** Locked read-modify-write. `edit` runs on the file's current content. */
  async update<T>(edit: (editor: StoreEditor) => T): Promise<T> {
    const dir = dirname(this.path);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return withFileLock(
      this.path,
      () => {
        const lines = this.readRaw();
        const index = (name: string) => lines.findIndex((l) => l.entry?.name.toLowerCase() === name.toLowerCase());
        const editor: StoreEditor = {
          get: (name) => lines[index(name)]?.entry,
          list: () => lines.flatMap((l) => (l.entry ? [l.entry] : [])),
          put: (entry) => {
            const line = { text: formatLine(entry), entry };
            const i = index(entry.name);
            if (i >= 0) lines[i] = line;
            else lines.push(line);
          },
          delete: (name) => {
            const i = index(name);
            if (i < 0) return false;
            lines.splice(i, 1);
            return true;
          },
        };
        const result = edit(editor);
        this.writeAtomic(lines.map((l) => l.text + '\n').join(''));
        this.reload();
        return result;
      },
      this.lockOptions,
    );
  }

  private readRaw(): RawLine[] {
    let text = '';
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const seen = new Set<string>();
    const lines: RawLine[] = [];
    for (const raw of text.split('\n')) {
      const textLine = raw.replace(/\r$/, '');
      if (textLine === '') continue;
      if (textLine.startsWith('#')) {
        lines.push({ text: textLine });
        continue;
      }
      const parsed = parseLine(textLine);
      if (typeof parsed === 'string' || seen.has(parsed.name.toLowerCase())) lines.push({ text: textLine });
      else {
        seen.add(parsed.name.toLowerCase());
        lines.push({ text: textLine, entry: parsed });
      }
    }
    return lines;
  }

  /** Temp file in the same directory, mode 0600, fsync, rename over, fsync the directory. */
  private writeAtomic(content: string): void {
    const dir = dirname(this.path);
    const tmp = join(dir, `.${basename(this.path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, content);
      fsyncSync(fd);
    } catch (err) {
      closeSync(fd);
      unlinkSync(tmp);
      throw err;
    }
    closeSync(fd);
    chmodSync(tmp, 0o600); // umask cannot widen it, but be explicit
    renameSync(tmp, this.path);
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
}
