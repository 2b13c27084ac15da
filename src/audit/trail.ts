/**
 * The audit trail writer: each event one JSON line, appended (O_APPEND, one write per record, so
 * that the daemon and a CLI command can both append to the same file) to the day's file
 * (`%DATE%` in the pattern, UTC), created 0600 in a 0700 folder; files older than `maxFiles`
 * days are removed when a day's file is opened. Optionally also to journald's stdout stream,
 * with its own SYSLOG_IDENTIFIER (systemd journald-stream.c: a header of seven lines, then one
 * entry per line).
 *
 * Host faults never reach a call: a record that cannot be written (full disk, read-only, the
 * folder gone) is dropped and counted; the cause is logged once per ten minutes, and the next
 * record that can be written is preceded by an `audit-gap` record with the count.
 */
import { closeSync, fchmodSync, openSync, readdirSync, unlinkSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { makeFolders } from '../files/atomic.js';
import { describeCause } from '../files/errors.js';
import { writeFully } from '../files/lock.js';
import { nullLogger, type Logger } from '../logging.js';
import { LogThrottle } from '../observe/throttle.js';
import { noAudit, type Audit, type AuditEvent, type AuditRecord } from './events.js';
import type { AuditConfig } from './options.js';

/** journald's stream socket (sd_journal_stream_fd). */
export const JOURNAL_STREAM = '/run/systemd/journal/stdout';
/** Bytes queued to a journald that does not read before records are dropped. */
const JOURNAL_QUEUE_LIMIT = 1024 * 1024;
const RETRY_MS = 10_000;

export interface AuditTrailOptions {
  /** File pattern with `%DATE%` in the name; none: no file. */
  file?: string;
  /** Days of files kept. Default 90. */
  maxFiles?: number;
  /** Send to journald under this identifier. */
  journald?: { identifier: string; socket?: string };
  logger?: Logger;
  /** Default () => new Date(). */
  now?: () => Date;
}

/** The day's file of a pattern. */
export function auditFileOf(pattern: string, day: string): string {
  return pattern.replace(/%DATE%/g, day);
}

/** The files of a pattern that exist, oldest day first: [day, path]. */
export function auditFiles(pattern: string): Array<[string, string]> {
  const folder = dirname(pattern);
  const name = basename(pattern);
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`^${name.split('%DATE%').map(escape).join('(\\d{4}-\\d{2}-\\d{2})')}$`);
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return [];
  }
  return names
    .map((n) => [re.exec(n)?.[1], n] as const)
    .filter((e): e is readonly [string, string] => e[0] !== undefined)
    .map(([day, n]): [string, string] => [day, join(folder, n)])
    .sort((a, b) => a[0].localeCompare(b[0]));
}

export class AuditTrail implements Audit {
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly problems: LogThrottle;
  private fd: number | undefined;
  private day: string | undefined;
  private retryAt = 0;
  private dropped = 0;
  private droppedSince: string | undefined;
  private journal: Socket | undefined;
  private journalRetryAt = 0;
  private journalDropped = 0;
  private closed = false;

  constructor(private readonly o: AuditTrailOptions) {
    this.log = (o.logger ?? nullLogger()).child({ area: 'audit' });
    this.now = o.now ?? (() => new Date());
    this.problems = new LogThrottle(this.log, 10 * 60_000, () => Date.now());
  }

  record(event: AuditEvent): void {
    if (this.closed) return;
    const time = this.now().toISOString();
    const line = `${JSON.stringify({ time, ...event })}\n`;
    if (this.o.file) this.toFile(line, time);
    if (this.o.journald) this.toJournal(line);
  }

  /** Close the file and the journal stream (pending journal bytes are flushed first). */
  async close(): Promise<void> {
    this.closed = true;
    this.closeFile();
    const j = this.journal;
    this.journal = undefined;
    if (j && !j.destroyed) await new Promise<void>((resolve) => j.end(resolve));
  }

  private toFile(line: string, time: string): void {
    const day = time.slice(0, 10);
    const t = Date.now();
    if (this.fd === undefined || day !== this.day) {
      if (this.fd === undefined && t < this.retryAt) return this.drop(time);
      this.closeFile();
      if (!this.open(day)) {
        this.retryAt = t + RETRY_MS;
        return this.drop(time);
      }
    }
    try {
      if (this.dropped > 0) {
        writeFully(this.fd!, `${JSON.stringify({ time, event: 'audit-gap', dropped: this.dropped, since: this.droppedSince } satisfies AuditRecord)}\n`);
        this.log.warn('audit trail writable again', { file: this.path(), dropped: this.dropped });
        this.dropped = 0;
        this.droppedSince = undefined;
      }
      writeFully(this.fd!, line);
    } catch (err) {
      this.problems.note('error', 'write', 'audit record not written: dropped (counted)', { file: this.path(), error: describeCause(err) });
      this.closeFile();
      this.retryAt = t + RETRY_MS;
      this.drop(time);
    }
  }

  private path(): string {
    return auditFileOf(this.o.file!, this.day ?? '');
  }

  private open(day: string): boolean {
    const file = auditFileOf(this.o.file!, day);
    try {
      makeFolders(dirname(file));
      const fd = openSync(file, 'a', 0o600);
      // A file made by someone else (or before) is made private too.
      try {
        fchmodSync(fd, 0o600);
      } catch {
        // not ours to change: it stays as it is
      }
      this.fd = fd;
      this.day = day;
    } catch (err) {
      this.problems.note('error', 'open', 'audit file cannot be opened: records are dropped (counted) until it can', { file, error: describeCause(err) });
      return false;
    }
    this.prune(day);
    return true;
  }

  /** Remove the files older than maxFiles days before `today`. */
  private prune(today: string): void {
    const keep = this.o.maxFiles ?? 90;
    const oldest = new Date(Date.parse(`${today}T00:00:00Z`) - (keep - 1) * 86_400_000).toISOString().slice(0, 10);
    for (const [day, file] of auditFiles(this.o.file!)) {
      if (day >= oldest) break;
      try {
        unlinkSync(file);
        this.log.info('old audit file removed', { file, maxFiles: keep });
      } catch (err) {
        this.problems.note('warn', 'prune', 'old audit file not removed', { file, error: describeCause(err) });
      }
    }
  }

  private drop(time: string): void {
    this.dropped++;
    this.droppedSince ??= time;
  }

  private closeFile(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch {
      // the file is being given up anyway
    }
    this.fd = undefined;
  }

  private toJournal(line: string): void {
    const j = this.journal ?? this.connectJournal();
    if (!j) return;
    if (j.writableLength > JOURNAL_QUEUE_LIMIT) {
      this.journalDropped++;
      this.problems.note('warn', 'journal-full', 'journald does not read: audit records to it dropped', { dropped: this.journalDropped });
      return;
    }
    j.write(line);
  }

  private connectJournal(): Socket | undefined {
    const t = Date.now();
    if (t < this.journalRetryAt) return undefined;
    const { identifier, socket = JOURNAL_STREAM } = this.o.journald!;
    const s = connect(socket);
    // identifier, unit id, priority (6 info), level prefix, forward to syslog, kmsg, console.
    s.write(`${identifier}\n\n6\n0\n0\n0\n0\n`);
    s.on('error', (err) => {
      this.problems.note('error', 'journal', 'journald cannot be reached: audit records to it are dropped until it can', { socket, error: describeCause(err) });
    });
    s.on('close', () => {
      if (this.journal === s) this.journal = undefined;
      this.journalRetryAt = Date.now() + RETRY_MS;
    });
    s.unref();
    this.journal = s;
    return s;
  }
}

/** The trail a configuration asks for (`audit:`; `file` resolved), or one that keeps nothing. */
export function auditFromConfig(a: AuditConfig, logger?: Logger): Audit & { close(): Promise<void> } {
  if (!a.enabled) return { ...noAudit, close: async () => undefined };
  return new AuditTrail({ ...(a.file ? { file: a.file } : {}), maxFiles: a.maxFiles, ...(a.journald ? { journald: { identifier: a.identifier } } : {}), ...(logger ? { logger } : {}) });
}
