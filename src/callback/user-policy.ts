/**
 * The per-user policy file of the local authority (`authority.policyFile`, YAML, beside the
 * smbpasswd store, whose format has no room for it). One mapping per user, so that other
 * per-user policy (the lines a user may call) can join the callback later:
 *
 *   users:
 *     alice: { callback: { mode: preset, number: "555-1234" } }
 *     bob:   { callback: { mode: caller, default: "5550000" } }
 *
 * Checked with the option kit (src/options/fields.ts) like the configuration, every problem
 * with its key path. Names match case-insensitively (as the store's). Reads follow the file's
 * mtime; a file that turns unreadable or invalid keeps the policies read before (logged), and
 * one that never could be read fails every lookup: a Preset user is never let in without the
 * callback because a file could not be read. `rasgate user callback` writes it whole, locked,
 * atomically, mode 0600 (src/files).
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseDocument, stringify } from 'yaml';
import { dict, Issues, num, obj, oneOf, str, formatIssue, type Infer, type ValueOf } from '../options/fields.js';
import { FileIoError } from '../files/errors.js';
import { makeFolders, removeDeadTempFiles, writeFileAtomic } from '../files/atomic.js';
import { withFileLock, type LockOptions } from '../files/lock.js';
import { RasgateError } from '../errors.js';
import { nullLogger, type Logger } from '../logging.js';
import { callbackNumberProblem } from './number.js';
import { NO_CALLBACK, type CallbackPolicy } from './policy.js';

/** The policy file of a local authority: `policyFile`, else user-policy.yaml beside the store. */
export function policyFilePath(local: { file: string; policyFile?: string }): string {
  return local.policyFile ?? join(dirname(local.file), 'user-policy.yaml');
}

/** Users one file holds at most, and the largest file read. */
export const MAX_POLICY_USERS = 100_000;
export const MAX_POLICY_FILE_BYTES = 16 * 1024 * 1024;
/** UNLEN (lmcons.h). */
const MAX_NAME = 256;

const callbackField = obj(
  {
    mode: oneOf(['none', 'preset', 'caller'], { doc: '`none`, `preset` (always called back at `number`) or `caller` (Set By Caller)', required: true }),
    number: str({ doc: 'preset: the number called back', check: callbackNumberProblem }),
    default: str({ doc: 'caller: called back here when the caller gives no number', check: callbackNumberProblem }),
  },
  {
    doc: 'callback policy',
    check: (v, path, issues) => {
      if (v.mode === 'preset' && v.number === undefined) issues.add(`${path}.number`, 'is required with mode: preset');
      if (v.mode !== 'preset' && v.number !== undefined) issues.add(`${path}.number`, 'goes with mode: preset only', v.mode === 'caller' ? 'default:' : undefined);
      if (v.mode !== 'caller' && v.default !== undefined) issues.add(`${path}.default`, 'goes with mode: caller only');
    },
  },
);

/** One user's policy. New per-user keys go here. */
const userPolicyFields = { callback: callbackField };

function userNameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > MAX_NAME || /[\s:\\/@]/.test(name) || [...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
    return `${JSON.stringify(name.slice(0, 40))} is not a user name (no spaces, ':', '\\', '/', '@', control characters; at most ${MAX_NAME})`;
  }
  return undefined;
}

const policyFileField = obj(
  {
    version: num({ doc: 'format version', default: 1, min: 1, max: 1, integer: true }),
    users: dict(obj(userPolicyFields, { doc: 'one user' }), { doc: 'per user name (matched case-insensitively)', default: {}, keyName: 'user' }),
  },
  {
    doc: 'per-user policy',
    check: (v, path, issues) => {
      const names = Object.keys(v.users);
      if (names.length > MAX_POLICY_USERS) issues.add('users', `has more than ${MAX_POLICY_USERS} users`);
      const seen = new Map<string, string>();
      for (const name of names) {
        const bad = userNameProblem(name);
        if (bad) issues.add(`users.${name.slice(0, 40)}`, bad);
        const folded = name.toLowerCase();
        const other = seen.get(folded);
        if (other !== undefined) issues.add(`users.${name}`, `is also users.${other} (names match case-insensitively)`);
        seen.set(folded, name);
      }
    },
  },
);

/** The file as read: its users' policies by name as written. */
export type PolicyFile = ValueOf<typeof policyFileField>;
export type UserPolicy = Infer<typeof userPolicyFields>;

/** A policy file that cannot be used; the message lists every problem with its key. */
export class UserPolicyError extends RasgateError {
  constructor(readonly path: string, readonly problems: string[]) {
    super('USER_POLICY_INVALID', `${path}: ${problems.length} problem${problems.length === 1 ? '' : 's'}: ${problems.join('; ')}`);
  }
}

/** Parse and check a policy file's text; throws UserPolicyError. An empty text is an empty policy. */
export function parseUserPolicy(text: string, path: string): PolicyFile {
  let data: unknown;
  try {
    const doc = parseDocument(text, { uniqueKeys: true });
    if (doc.errors.length) throw new UserPolicyError(path, doc.errors.map((e) => `YAML: ${e.message.split('\n')[0]}`));
    // An alias bomb throws here (the package's maxAliasCount), as in the configuration.
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    if (err instanceof UserPolicyError) throw err;
    throw new UserPolicyError(path, [`YAML: ${(err as Error).message}`]);
  }
  const issues = new Issues();
  const parsed = policyFileField.parse(data ?? {}, '', issues);
  if (issues.list.length || !parsed) throw new UserPolicyError(path, issues.list.map(formatIssue));
  return parsed;
}

/** The file's text for `policy`: a header, then the users in name order. */
export function formatUserPolicy(policy: PolicyFile): string {
  const users = Object.fromEntries(Object.entries(policy.users).sort(([a], [b]) => a.localeCompare(b)));
  return `# rasgate per-user policy, written by \`rasgate user callback\` (docs/configuration.md)\n${stringify({ version: 1, users }, { lineWidth: 0 })}`;
}

/** A user's callback policy as the file keeps it. */
export function callbackPolicyOf(p: UserPolicy | undefined): CallbackPolicy {
  const c = p?.callback;
  if (!c || c.mode === 'none') return NO_CALLBACK;
  if (c.mode === 'preset') return { mode: 'preset', number: c.number! };
  return c.default !== undefined ? { mode: 'caller', defaultNumber: c.default } : { mode: 'caller' };
}

export interface UserPolicyHealth {
  state: 'ok' | 'absent' | 'unreadable';
  users: number;
  error?: string;
}

export interface UserPolicyFileOptions {
  logger?: Logger;
  /** Look at the file's mtime at most this often. Default 1000 ms; 0 = every lookup. */
  recheckMs?: number;
  now?: () => number;
  lock?: LockOptions;
}

export class UserPolicyFile {
  private byName = new Map<string, UserPolicy>();
  private state: UserPolicyHealth['state'] = 'absent';
  private error: Error | undefined;
  /** Something was read once (or the file was absent): lookups can answer. */
  private known = false;
  private loadedMtime = -1;
  private loadedSize = -1;
  private lastCheck = -Infinity;
  private readonly logger: Logger;
  private readonly recheckMs: number;
  private readonly now: () => number;

  constructor(
    readonly path: string,
    private readonly options: UserPolicyFileOptions = {},
  ) {
    this.logger = options.logger ?? nullLogger();
    this.recheckMs = options.recheckMs ?? 1000;
    this.now = options.now ?? Date.now;
  }

  health(): UserPolicyHealth {
    this.refresh();
    return { state: this.state, users: this.byName.size, ...(this.error ? { error: this.error.message } : {}) };
  }

  /** The user's policy; throws the read error when the file never could be read (fail closed). */
  lookup(name: string): UserPolicy | undefined {
    this.refresh();
    if (!this.known) throw this.error ?? new FileIoError(this.path, 'read', new Error('not read'));
    return this.byName.get(name.toLowerCase());
  }

  /** The user's callback policy (none when the file does not name them). */
  callback(name: string): CallbackPolicy {
    return callbackPolicyOf(this.lookup(name));
  }

  private refresh(): void {
    const t = this.now();
    if (t - this.lastCheck < this.recheckMs) return;
    this.lastCheck = t;
    try {
      const st = statSync(this.path);
      if (this.known && this.state === 'ok' && st.mtimeMs === this.loadedMtime && st.size === this.loadedSize) return;
      const policy = parseUserPolicy(readText(this.path, st.size), this.path);
      if (this.state === 'unreadable') this.logger.info('user policy file usable again', { file: this.path });
      this.byName = new Map(Object.entries(policy.users).map(([n, p]) => [n.toLowerCase(), p]));
      [this.loadedMtime, this.loadedSize, this.state, this.error, this.known] = [st.mtimeMs, st.size, 'ok', undefined, true];
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.byName = new Map();
        [this.loadedMtime, this.loadedSize, this.state, this.error, this.known] = [-1, -1, 'absent', undefined, true];
        return;
      }
      const e = err instanceof RasgateError ? err : new FileIoError(this.path, 'read', err);
      if (this.error?.message !== e.message) {
        this.logger.error(this.known ? 'user policy file unusable; keeping the policies read before' : 'user policy file unusable; callback policies cannot be decided', { file: this.path, error: e.message, users: this.byName.size });
      }
      this.state = 'unreadable';
      this.error = e;
    }
  }

  /**
   * Locked read-modify-write of the whole file: `edit` changes the users' policies as read now
   * (a file that is there must be valid); written atomically, mode 0600. Throws FileIoError or
   * UserPolicyError; the file is then as it was.
   */
  async update<T>(edit: (users: Map<string, { name: string; policy: UserPolicy }>) => T): Promise<T> {
    try {
      makeFolders(dirname(this.path));
    } catch (err) {
      throw new FileIoError(this.path, 'mkdir', err);
    }
    return withFileLock(
      this.path,
      () => {
        let current: PolicyFile = { version: 1, users: {} };
        try {
          current = parseUserPolicy(readText(this.path, statSync(this.path).size), this.path);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err instanceof RasgateError ? err : new FileIoError(this.path, 'read', err);
        }
        const users = new Map(Object.entries(current.users).map(([name, policy]) => [name.toLowerCase(), { name, policy }]));
        const result = edit(users);
        const next: PolicyFile = { version: 1, users: Object.fromEntries([...users.values()].map((u) => [u.name, u.policy])) };
        // What is written must read back: the same check as every read.
        const text = formatUserPolicy(next);
        parseUserPolicy(text, this.path);
        removeDeadTempFiles(this.path);
        try {
          writeFileAtomic(this.path, text);
        } catch (err) {
          throw new FileIoError(this.path, 'write', err);
        }
        this.lastCheck = -Infinity;
        return result;
      },
      this.options.lock,
    );
  }
}

function readText(path: string, size: number): string {
  if (size > MAX_POLICY_FILE_BYTES) throw new UserPolicyError(path, [`larger than ${MAX_POLICY_FILE_BYTES} bytes`]);
  return readFileSync(path, 'utf8');
}
