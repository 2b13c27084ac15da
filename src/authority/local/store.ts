/**
 * The smbpasswd file on disk: cached reads that follow the file's mtime, and locked, atomic
 * read-modify-write updates (lock file, temp file in the same directory, fsync, rename).
 * Lines the writer does not touch (comments, malformed lines) are kept byte for byte.
 * A write that fails (full disk, read-only, I/O error) leaves the old file whole and no temp
 * file; temp files of writers that were killed are removed by the next write.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../../logging.js';
import { nullLogger } from '../../logging.js';
import { formatLine, nameKey, parseLine, parseSmbpasswd, type LineProblem, type SmbpasswdEntry } from './smbpasswd.js';
import { withFileLock, type LockOptions } from '../../files/lock.js';
import { makeFolders, removeDeadTempFiles, writeFileAtomic } from '../../files/atomic.js';
import { FileIoError } from '../../files/errors.js';

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
  /** Add or replace (matched case-insensitively by name, as lookup). */
  put(entry: SmbpasswdEntry): void;
  delete(name: string): boolean;
}

/**
 * What the last read found. `absent`: no file yet, an empty store. `unreadable`: the file is
 * there but could not be read (`error` says why); the accounts read before stay in use.
 */
export interface StoreHealth {
  state: 'ok' | 'absent' | 'unreadable';
  accounts: number;
  error?: string;
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
  private state: StoreHealth['state'] = 'absent';
  private readError: FileIoError | undefined;

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

  /** Whether the file could be read, as of now (subject to recheckMs). */
  health(): StoreHealth {
    this.refresh();
    const accounts = this.byName.size;
    return this.state === 'unreadable' ? { state: this.state, accounts, error: this.readError!.message } : { state: this.state, accounts };
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
    let text: string;
    let mtime: number;
    let size: number;
    try {
      const st = statSync(this.path);
      [mtime, size] = [st.mtimeMs, st.size];
      if (this.state === 'ok' && mtime === this.loadedMtime && size === this.loadedSize) return;
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') this.load('', -1, -1, 'absent');
      else this.unreadable(new FileIoError(this.path, 'read', err));
      return;
    }
    this.load(text, mtime, size, 'ok');
  }

  private load(text: string, mtime: number, size: number, state: 'ok' | 'absent'): void {
    if (this.state === 'unreadable') this.logger.info('smbpasswd store readable again', { file: this.path });
    const parsed = parseSmbpasswd(text);
    for (const p of parsed.problems) this.logger.warn('smbpasswd line skipped', { file: this.path, line: p.line, reason: p.reason });
    this.lastProblems = parsed.problems;
    this.byName = new Map(parsed.entries.map((e) => [nameKey(e.name), e]));
    this.loadedMtime = mtime;
    this.loadedSize = size;
    this.state = state;
    this.readError = undefined;
  }

  /** Keep the accounts read before; log once per distinct cause, not on every lookup. */
  private unreadable(err: FileIoError): void {
    if (this.readError?.message !== err.message) this.logger.error('smbpasswd store unreadable; keeping the accounts loaded before', { file: this.path, error: err.message, accounts: this.byName.size });
    this.state = 'unreadable';
    this.readError = err;
  }

  /** Case-insensitive lookup, as Samba's strequal (nameKey). */
  lookup(name: string): SmbpasswdEntry | undefined {
    this.refresh();
    return this.byName.get(nameKey(name));
  }

  list(): SmbpasswdEntry[] {
    this.refresh();
    return [...this.byName.values()];
  }

  /**
   * Locked read-modify-write. `edit` runs on the file's current content. Throws FileIoError
   * (path and cause) when the file cannot be read, locked or written; the file is then as it was.
   */
  async update<T>(edit: (editor: StoreEditor) => T): Promise<T> {
    try {
      makeFolders(dirname(this.path));
    } catch (err) {
      throw new FileIoError(this.path, 'mkdir', err);
    }
    return withFileLock(
      this.path,
      () => {
        const lines = this.readRaw();
        const index = (name: string) => lines.findIndex((l) => l.entry !== undefined && nameKey(l.entry.name) === nameKey(name));
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
        this.removeLeftovers();
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
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new FileIoError(this.path, 'read', err);
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
      if (typeof parsed === 'string' || seen.has(nameKey(parsed.name))) lines.push({ text: textLine });
      else {
        seen.add(nameKey(parsed.name));
        lines.push({ text: textLine, entry: parsed });
      }
    }
    return lines;
  }

  /**
   * Temp files (`.<name>.<pid>.<hex>.tmp`, copies of the NT hashes) and set-aside locks whose
   * writer is dead. Run under the lock, so no live writer of this process is mid-write.
   */
  private removeLeftovers(): void {
    for (const file of removeDeadTempFiles(this.path)) this.logger.warn('removed a file a killed writer left', { file });
  }

  private writeAtomic(content: string): void {
    try {
      writeFileAtomic(this.path, content);
    } catch (err) {
      throw new FileIoError(this.path, 'write', err);
    }
  }
}
