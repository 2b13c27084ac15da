/**
 * Reading the audit trail back (`rasgate audit`): the day files of the pattern (rotated ones
 * included) in order, one record per line, filtered. A line that is not a record (a torn last
 * line after a crash, a hand edit) is counted and skipped.
 */
import { BlockList, isIP } from 'node:net';
import { closeSync, openSync, readSync } from 'node:fs';
import { nameKey } from '../authority/local/smbpasswd.js';
import { accountKey } from '../guard/lockout.js';
import { auditFiles } from './trail.js';
import type { AuditRecord } from './events.js';

export interface AuditFilter {
  /** Epoch ms, inclusive. */
  since?: number;
  until?: number;
  /** A user name, compared as the lockout counts names (case, domain and UPN suffix aside). */
  user?: string;
  line?: string;
  /** A caller number, an address (found inside a penalised prefix too) or a prefix. */
  source?: string;
  /** An outcome kind (`bad-credentials`, ...) or an event name (`lockout-start`, ...). */
  result?: string;
}

/** Lines of a file, read in pieces (a busy day's file need not fit in memory at once). */
function* linesOf(path: string): Generator<string> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return;
  }
  try {
    const buf = Buffer.alloc(64 * 1024);
    let rest = '';
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      const parts = (rest + buf.toString('utf8', 0, n)).split('\n');
      rest = parts.pop()!;
      yield* parts;
    }
    if (rest) yield rest;
  } finally {
    closeSync(fd);
  }
}

export interface AuditReading {
  records: AuditRecord[];
  /** Lines that were not records. */
  skipped: number;
  files: string[];
}

/** Every record of the pattern's files that passes `filter`, oldest first. */
export function readAudit(pattern: string, filter: AuditFilter = {}): AuditReading {
  const match = recordFilter(filter);
  const day = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString().slice(0, 10));
  const [from, to] = [day(filter.since), day(filter.until)];
  const out: AuditReading = { records: [], skipped: 0, files: [] };
  for (const [d, file] of auditFiles(pattern)) {
    if ((from && d < from) || (to && d > to)) continue;
    out.files.push(file);
    for (const line of linesOf(file)) {
      if (!line.trim()) continue;
      let rec: AuditRecord;
      try {
        rec = JSON.parse(line) as AuditRecord;
      } catch {
        out.skipped++;
        continue;
      }
      if (typeof rec !== 'object' || rec === null || typeof rec.time !== 'string' || typeof rec.event !== 'string') {
        out.skipped++;
        continue;
      }
      if (match(rec)) out.records.push(rec);
    }
  }
  return out;
}

/** The field of a record, when it has it as a string. */
const field = (rec: AuditRecord, key: string): string | undefined => {
  const v = (rec as unknown as Record<string, unknown>)[key];
  return typeof v === 'string' ? v : undefined;
};

export function recordFilter(f: AuditFilter): (rec: AuditRecord) => boolean {
  const user = f.user === undefined ? undefined : accountKey(f.user);
  const source = f.source === undefined ? undefined : sourceMatcher(f.source);
  return (rec) => {
    const t = Date.parse(rec.time);
    if (f.since !== undefined && !(t >= f.since)) return false;
    if (f.until !== undefined && !(t <= f.until)) return false;
    if (f.line !== undefined && field(rec, 'line') !== f.line && !(rec.event === 'operator' && rec.action === 'line-resume' && rec.target === f.line)) return false;
    if (f.result !== undefined && field(rec, 'result') !== f.result && rec.event !== f.result) return false;
    if (user !== undefined) {
      const identity = field(rec, 'identity');
      const targetIsUser = rec.event === 'operator' && (rec.action?.startsWith('user-') || rec.action === 'lockout-clear');
      const names = [field(rec, 'user'), identity?.slice(identity.indexOf('\\') + 1), targetIsUser ? field(rec, 'target') : undefined];
      if (!names.some((n) => n !== undefined && accountKey(n) === user)) return false;
    }
    if (source !== undefined) {
      const s = field(rec, 'source') ?? (rec.event === 'operator' && rec.action === 'penalty-clear' ? rec.target : undefined);
      if (s === undefined || !source(s)) return false;
    }
    return true;
  };
}

/**
 * `--source`: a caller number matches `tel:NUMBER`; an address matches itself and the prefix it
 * was penalised under (`192.0.2.0/24`); a prefix matches the addresses inside it.
 */
function sourceMatcher(wanted: string): (source: string) => boolean {
  const [addr, bits] = wanted.split('/');
  const family = addr ? isIP(addr) : 0;
  if (family === 0) {
    const number = wanted.replace(/^tel:/, '').replace(/[^0-9+*#a-z]/gi, '');
    return (s) => s === `tel:${number}` || nameKey(s) === nameKey(wanted);
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const inWanted = new BlockList();
  if (bits === undefined) inWanted.addAddress(addr!, type);
  else inWanted.addSubnet(addr!, Number(bits), type);
  return (s) => {
    const [sAddr, sBits] = s.split('/');
    const sFamily = sAddr ? isIP(sAddr) : 0;
    if (sFamily !== family) return false;
    if (inWanted.check(sAddr!, type)) return true;
    if (sBits === undefined) return false;
    const inSource = new BlockList();
    inSource.addSubnet(sAddr!, Number(sBits), type);
    return inSource.check(addr!, type);
  };
}

/** `--since` / `--until`: ISO 8601 (a date alone is midnight UTC), or a span before now: 30m, 12h, 7d. */
export function parseTime(text: string, now = Date.now()): number | undefined {
  const span = /^(\d+)\s*([smhdw])$/.exec(text.trim());
  // A time no Date can hold (`1000000000d`) is no time: a usage error, not a RangeError later.
  const t = span ? now - Number(span[1]) * { s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5 }[span[2] as 's']! : /^\d{4}-\d{2}-\d{2}/.test(text.trim()) ? Date.parse(text.trim()) : NaN;
  return Number.isFinite(new Date(t).getTime()) ? t : undefined;
}
