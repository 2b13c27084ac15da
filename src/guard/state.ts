/**
 * The guard's state file (`<stateDirectory>/lockout.json`, mode 0600): locked and counted user
 * names, active source penalties and paused lines, so that a restart keeps them. Written whole
 * and atomically under its lock file (src/files), by the daemon and by the CLI.
 *
 * The CLI (`rasgate lockout clear`, `rasgate user unlock`) never has to reach the daemon: it
 * removes the entry from the file and adds a `clear` record there; the daemon, which looks at the
 * file every second and re-reads it before each write, applies every clear it has not applied
 * yet to what it holds in memory. Clears are kept for a day (at most MAX_CLEARS), long enough
 * for any daemon that runs to see them.
 */
import { readFileSync, renameSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { removeDeadTempFiles, writeFileAtomic } from '../files/atomic.js';
import { FileIoError } from '../files/errors.js';
import { withFileLock } from '../files/lock.js';
import type { Operator } from '../audit/events.js';
import type { AccountEntry } from './lockout.js';
import type { LinePause } from './line-pause.js';
import type { PenaltyEntry } from './penalties.js';

export const STATE_FILE = 'lockout.json';
const VERSION = 1;
const CLEAR_KEPT_MS = 24 * 3600_000;
const MAX_CLEARS = 200;

export type ClearTarget = { what: 'account'; key: string } | { what: 'source'; key: string } | { what: 'line'; key: string } | { what: 'all' };
export type ClearRecord = ClearTarget & { id: string; at: number } & Operator;

export interface GuardState {
  accounts: AccountEntry[];
  penalties: PenaltyEntry[];
  lines: LinePause[];
  clears: ClearRecord[];
}

export const emptyState = (): GuardState => ({ accounts: [], penalties: [], lines: [], clears: [] });

export function statePath(stateDirectory: string): string {
  return join(stateDirectory, STATE_FILE);
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === 'string';

/** Entries that are not what we write are skipped (a hand-edited or damaged file must not stop the daemon). */
function validAccount(v: unknown): v is AccountEntry {
  return isObj(v) && isStr(v.key) && isStr(v.name) && isNum(v.denials) && isNum(v.firstAt) && isNum(v.lastAt) && (v.until === undefined || v.until === null || isNum(v.until));
}
function validPenalty(v: unknown): v is PenaltyEntry {
  return isObj(v) && isStr(v.source) && isNum(v.expiresAt) && typeof v.active === 'boolean' && isNum(v.since) && isStr(v.reason);
}
function validLine(v: unknown): v is LinePause {
  return isObj(v) && isStr(v.line) && isNum(v.since) && isNum(v.until) && isNum(v.failedCalls);
}
function validClear(v: unknown): v is ClearRecord {
  return isObj(v) && isStr(v.id) && isNum(v.at) && isStr(v.by) && ['account', 'source', 'line', 'all'].includes(v.what as string) && (v.what === 'all' || isStr(v.key));
}

/** The state in `text` (JSON as written here). Throws SyntaxError when it is not JSON of that shape. */
export function parseState(text: string): GuardState {
  const doc: unknown = JSON.parse(text);
  if (!isObj(doc) || doc.version !== VERSION) throw new SyntaxError(`not a version ${VERSION} lockout state`);
  const arr = (v: unknown) => (Array.isArray(v) ? v : []);
  return {
    accounts: arr(doc.accounts).filter(validAccount),
    penalties: arr(doc.penalties).filter(validPenalty),
    lines: arr(doc.lines).filter(validLine),
    clears: arr(doc.clears).filter(validClear),
  };
}

export function formatState(s: GuardState, now: number): string {
  const clears = s.clears.filter((c) => now - c.at < CLEAR_KEPT_MS).slice(-MAX_CLEARS);
  return `${JSON.stringify({ version: VERSION, savedAt: new Date(now).toISOString(), accounts: s.accounts, penalties: s.penalties, lines: s.lines, clears }, null, 1)}\n`;
}

/** The file's identity: a change of it means someone else wrote it. */
export function fileStamp(path: string): string | undefined {
  try {
    const st = statSync(path);
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return undefined;
  }
}

/** Read the state; a missing file is an empty state. Throws FileIoError (unreadable) or SyntaxError (damaged). */
export function readState(path: string): GuardState {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
    throw new FileIoError(path, 'read', err);
  }
  return parseState(text);
}

/** Write the whole state (call under the file's lock: what killed writers left is removed first). */
export function writeState(path: string, state: GuardState, now: number): void {
  removeDeadTempFiles(path);
  try {
    writeFileAtomic(path, formatState(state, now));
  } catch (err) {
    throw new FileIoError(path, 'write', err);
  }
}

/** Move a damaged file out of the way (kept for a look): its new name, or undefined when it could not be moved. */
export function setAside(path: string, now: number): string | undefined {
  const aside = `${path}.damaged-${new Date(now).toISOString().replace(/[:.]/g, '-')}`;
  try {
    renameSync(path, aside);
    return aside;
  } catch {
    return undefined;
  }
}

/** Does `entry`'s key fall under `clear`? */
export function clears(clear: ClearTarget, what: 'account' | 'source' | 'line', key: string): boolean {
  return clear.what === 'all' || (clear.what === what && clear.key === key);
}

/**
 * The CLI's edit: under the lock, remove what `target` names from the file and add the clear
 * record the daemon applies. Returns what was in the file under it (for the operator's answer).
 */
export async function clearInFile(path: string, target: ClearTarget, who: Operator, now = Date.now()): Promise<{ accounts: AccountEntry[]; penalties: PenaltyEntry[]; lines: LinePause[] }> {
  return withFileLock(path, () => {
    const s = readState(path);
    const hit = {
      accounts: s.accounts.filter((e) => clears(target, 'account', e.key)),
      penalties: s.penalties.filter((e) => clears(target, 'source', e.source)),
      lines: s.lines.filter((e) => clears(target, 'line', e.line)),
    };
    const kept: GuardState = {
      accounts: s.accounts.filter((e) => !hit.accounts.includes(e)),
      penalties: s.penalties.filter((e) => !hit.penalties.includes(e)),
      lines: s.lines.filter((e) => !hit.lines.includes(e)),
      clears: [...s.clears, { ...target, id: randomBytes(8).toString('hex'), at: now, ...who }],
    };
    writeState(path, kept, now);
    return hit;
  });
}
