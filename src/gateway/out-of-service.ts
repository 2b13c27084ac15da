/**
 * Lines an operator took out of service (`rasgate line disable ID`), kept in the state
 * directory so that a restart does not put them back, as mgetty's per-line nologin files do.
 * One JSON file, written whole and atomically (src/files/atomic.ts) before the change applies:
 * a disk that refuses the write refuses the change.
 *
 *   { "version": 1, "lines": { "tcp0": { "since": "2026-...Z", "by": "alice", "reason": "..." } } }
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../files/atomic.js';
import { describeCause } from '../files/errors.js';

export const OUT_OF_SERVICE_FILE = 'lines-out-of-service.json';

/** Entries kept at most (line ids are the operator's, but the file may be edited by hand). */
export const MAX_OUT_OF_SERVICE = 1024;
/** Characters kept of a reason and of an operator's name. */
export const MAX_NOTE = 200;

export interface OutOfService {
  /** ISO time it was taken out of service. */
  since: string;
  /** The operator who did it. */
  by: string;
  reason?: string;
}

export function outOfServicePath(stateDirectory: string): string {
  return join(stateDirectory, OUT_OF_SERVICE_FILE);
}

const text = (v: unknown, max = MAX_NOTE): string | undefined => (typeof v === 'string' && v !== '' ? v.slice(0, max) : undefined);

/**
 * Read the file: the lines out of service, and a problem when the file is there but unusable
 * (then none is out of service until an operator acts, which writes a good file).
 */
export function loadOutOfService(stateDirectory: string): { lines: Map<string, OutOfService>; problem?: string } {
  const path = outOfServicePath(stateDirectory);
  const lines = new Map<string, OutOfService>();
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { lines };
    return { lines, problem: `${path}: ${describeCause(err)}` };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch {
    return { lines, problem: `${path}: not JSON` };
  }
  const entries = (doc as { lines?: unknown } | null)?.lines;
  if (!entries || typeof entries !== 'object' || Array.isArray(entries)) return { lines, problem: `${path}: no "lines" object` };
  for (const [id, e] of Object.entries(entries as Record<string, unknown>).slice(0, MAX_OUT_OF_SERVICE)) {
    if (!e || typeof e !== 'object') continue;
    const r = e as Record<string, unknown>;
    const reason = text(r.reason);
    lines.set(id.slice(0, MAX_NOTE), { since: text(r.since, 40) ?? new Date(0).toISOString(), by: text(r.by) ?? 'unknown', ...(reason ? { reason } : {}) });
  }
  return { lines };
}

/** Write the whole table (0600, atomic). Throws the system error: nothing changed then. */
export function saveOutOfService(stateDirectory: string, lines: ReadonlyMap<string, OutOfService>): void {
  const doc = { version: 1, lines: Object.fromEntries([...lines].slice(0, MAX_OUT_OF_SERVICE)) };
  writeFileAtomic(outOfServicePath(stateDirectory), `${JSON.stringify(doc, null, 2)}\n`);
}
