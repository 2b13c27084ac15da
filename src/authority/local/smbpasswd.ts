/**
 * Samba's smbpasswd line format, pure (no I/O). One account per line:
 *
 *   name:uid:LMHASH:NTHASH:[UX         ]:LCT-XXXXXXXX:
 *
 * Facts from Samba source3/passdb/pdb_smbpasswd.c and passdb.c (pdb_encode_acct_ctrl):
 *  - '#' lines and blank lines are skipped; the name ends at the first ':'; names compare
 *    case-insensitively (strequal: toupper_m through Samba's case table, the one NTOWFv2 uses;
 *    see nameKey).
 *  - uid is decimal digits.
 *  - each hash is 32 hex digits (written upper case), or 32 'X' (no password), or
 *    "NO PASSWORDXXXXXXXXXXXXXXXXXXXXX" (account flag N); a leading '*' also means disabled.
 *  - flags: '[' + letters + spaces to 11 characters + ']' (NEW_PW_FORMAT_SPACE_PADDED_LEN = 14
 *    with the NUL). Letters, in Samba's write order: N D H T U M W S L X I.
 *  - LCT-%08X: password last set, seconds since 1970, 8 hex digits. 0 (and an old-format line,
 *    which has none) means never: the password must be changed at the next logon, unless the
 *    account has X (source3/auth/check_samsec.c sam_account_ok; checked against smbd 4.17).
 * rasgate keeps NT hashes only: the LM field is always written as 32 'X'.
 */

import { windowsUppercase } from '../../ntlm/upcase.js';

/**
 * The key two spellings of one account name share: Samba's strequal compares names through
 * toupper_m, its case table (src/ntlm/upcase.ts), not full Unicode case folding. JavaScript's
 * toLowerCase would make U+212A KELVIN SIGN the letter k, and "\u212Aim" the account kim.
 */
export function nameKey(name: string): string {
  return windowsUppercase(name);
}

/** Account control letters (Samba ACB_*), in the order Samba writes them. */
export const ACCOUNT_FLAG_ORDER = ['N', 'D', 'H', 'T', 'U', 'M', 'W', 'S', 'L', 'X', 'I'] as const;
export type AccountFlag = (typeof ACCOUNT_FLAG_ORDER)[number];
/** N no password required, D disabled, H home dir required, T temp duplicate, U normal user,
 * M MNS logon, W workstation trust, S server trust, L auto-locked, X password never expires,
 * I interdomain trust. */
export const ACCOUNT_FLAG_MEANING: Record<AccountFlag, string> = {
  N: 'no password required',
  D: 'disabled',
  H: 'home directory required',
  T: 'temporary duplicate',
  U: 'normal user',
  M: 'MNS logon',
  W: 'workstation trust',
  S: 'server trust',
  L: 'locked',
  X: 'password never expires',
  I: 'interdomain trust',
};

export interface SmbpasswdEntry {
  /** As spelled in the file (the canonical spelling). */
  name: string;
  uid: number;
  /** 16 bytes, or undefined when the field is X'd out / NO PASSWORD. */
  ntHash?: Buffer;
  /** Whether the file carried a usable LM hash (we never use it; kept to report it). */
  hasLmHash: boolean;
  flags: Set<AccountFlag>;
  /** Password last set, seconds since 1970 (0 when absent: never set, must change unless X). */
  lastChange: number;
}

export interface LineProblem {
  /** 1-based line number. */
  line: number;
  reason: string;
}

export interface ParsedSmbpasswd {
  entries: SmbpasswdEntry[];
  problems: LineProblem[];
}

const HEX32 = /^[0-9A-Fa-f]{32}$/;
const NO_HASH = /^(?:X{32}|NO PASSWORDX{21}|\*.{31})$/i;
const FLAGS = /^\[([A-Z ]*)\]$/;
const LCT = /^LCT-([0-9A-Fa-f]{8})$/i;

function parseHash(field: string): Buffer | undefined | null {
  if (HEX32.test(field)) return Buffer.from(field, 'hex');
  if (NO_HASH.test(field)) return undefined;
  return null; // malformed
}

/** Parse one non-comment line; returns a reason string when malformed. */
export function parseLine(text: string): SmbpasswdEntry | string {
  const f = text.split(':');
  if (f.length < 4) return 'too few fields (want name:uid:LM:NT:[flags]:LCT-...:)';
  const [name, uidText, lm, nt] = f as [string, string, string, string];
  if (name.length === 0) return 'empty user name';
  if (/[\s\\/@]/.test(name)) return 'user name contains whitespace, "\\", "/" or "@"';
  if (!/^\d{1,10}$/.test(uidText)) return 'uid is not a number';
  const lmHash = parseHash(lm);
  if (lmHash === null) return 'LM hash field is not 32 hex digits or X\'d out';
  const ntHash = parseHash(nt);
  if (ntHash === null) return 'NT hash field is not 32 hex digits or X\'d out';
  const flags = new Set<AccountFlag>();
  let lastChange = 0;
  // Old format stops after NT; the new one has [flags] and LCT-.
  if (f.length > 4 && f[4] !== '') {
    const m = FLAGS.exec(f[4]!);
    if (!m) return 'account flags field is not [LETTERS]';
    for (const ch of m[1]!) {
      if (ch === ' ') continue;
      if (!(ACCOUNT_FLAG_ORDER as readonly string[]).includes(ch)) return `unknown account flag "${ch}"`;
      flags.add(ch as AccountFlag);
    }
    if (f.length > 5 && f[5] !== '') {
      const t = LCT.exec(f[5]!);
      if (!t) return 'last change field is not LCT-XXXXXXXX';
      lastChange = parseInt(t[1]!, 16);
    }
  }
  return { name, uid: Number(uidText), ntHash, hasLmHash: lmHash !== undefined, flags, lastChange };
}

/** Parse a whole file. Malformed lines are reported (1-based) and skipped; never throws. */
export function parseSmbpasswd(text: string): ParsedSmbpasswd {
  const entries: SmbpasswdEntry[] = [];
  const problems: LineProblem[] = [];
  const seen = new Set<string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line === '' || line.startsWith('#')) continue;
    const parsed = parseLine(line);
    if (typeof parsed === 'string') {
      problems.push({ line: i + 1, reason: parsed });
      continue;
    }
    const key = nameKey(parsed.name);
    if (seen.has(key)) {
      problems.push({ line: i + 1, reason: `duplicate user "${parsed.name}" (first one wins)` });
      continue;
    }
    seen.add(key);
    entries.push(parsed);
  }
  return { entries, problems };
}

export function formatFlags(flags: Iterable<AccountFlag>): string {
  const set = new Set(flags);
  const letters = ACCOUNT_FLAG_ORDER.filter((f) => set.has(f)).join('');
  return `[${letters.padEnd(11, ' ')}]`;
}

/** One line as Samba writes it, LM always X'd out, without the trailing newline. */
export function formatLine(e: SmbpasswdEntry): string {
  const nt = e.ntHash ? e.ntHash.toString('hex').toUpperCase() : e.flags.has('N') ? 'NO PASSWORD' + 'X'.repeat(21) : 'X'.repeat(32);
  const lct = (e.lastChange >>> 0).toString(16).toUpperCase().padStart(8, '0');
  return `${e.name}:${e.uid}:${'X'.repeat(32)}:${nt}:${formatFlags(e.flags)}:LCT-${lct}:`;
}
