/**
 * Options of the guessing defence, each key described once (src/gateway/config/schema.ts puts
 * them under `lockout:` and `penalties:`). Defaults are on and safe: RRAS remote access account
 * lockout (MaxDenials within ResetTime, all lines), OpenSSH's PerSourcePenalties (authfail 5 s,
 * noauth 1 s, min 15 s, max 600 s, IPv4 /32, IPv6 /64, a bounded table) and a per-line pause
 * against war-diallers.
 */
import { isIP } from 'node:net';
import { bool, list, num, obj, oneOf, show, str, type Infer } from '../options/fields.js';

const minutes = <const D extends number>(doc: string, def: D, min = 0) => num({ doc, default: def, min, max: 525_600, unit: 'minutes' });
const seconds = <const D extends number>(doc: string, def: D, min = 0) => num({ doc, default: def, min, max: 86_400, unit: 'seconds' });

export const lockoutFields = {
  maxDenials: num({ doc: 'bad-password refusals of one user name, on all lines together, that lock it (unknown names are counted alike; 0 = no lockout)', default: 10, min: 0, max: 10_000, integer: true }),
  resetMinutes: minutes('a count is forgotten this long after its last refusal (RRAS ResetTime, Samba "reset count minutes")', 30, 1),
  lockMinutes: minutes('a lock ends by itself after this long (0 = only an operator ends it: `rasgate lockout clear NAME`)', 30),
  maxAccounts: num({ doc: 'user names counted at once; beyond it the one counted least recently is forgotten (locked names are kept before counting ones)', default: 10_000, min: 10, max: 1_000_000, integer: true }),
};

/** An allow-list entry: an address or CIDR prefix (IPv4, IPv6), or a caller number with `*` / `?` wildcards. */
function allowEntry(v: string): string | undefined {
  const [addr, bits, extra] = v.split('/');
  if (extra === undefined && addr && isIP(addr)) {
    if (bits === undefined) return undefined;
    const max = isIP(addr) === 4 ? 32 : 128;
    return /^\d{1,3}$/.test(bits) && Number(bits) <= max ? undefined : `${show(v)}: the prefix length must be 0..${max}`;
  }
  return /^[0-9+*?#]+$/.test(v) ? undefined : `${show(v)} is neither an address (or ADDRESS/BITS) nor a caller number (digits, +, *, ?)`;
}

export const linePauseFields = {
  maxFailedCalls: num({ doc: 'failed calls on one line (no login: refused, timed out, hung up, garbage) within the window that pause answering on it (0 = never)', default: 10, min: 0, max: 100_000, integer: true }),
  windowMinutes: minutes('the window the failed calls are counted in', 10, 1),
  pauseMinutes: minutes('how long the line does not answer; it answers again by itself', 5, 1),
  tcp: bool({ doc: 'pause TCP lines too (off: one host could shut a TCP line for everyone; per-source penalties cover TCP)', default: false }),
};

export const penaltyFields = {
  enabled: bool({ doc: 'penalise sources (caller ID numbers, addresses) that fail: refused at once while penalised', default: true }),
  authfailSeconds: seconds('penalty per refused login attempt', 5),
  noauthSeconds: seconds('penalty per call that ends without a login attempt (hung up, timed out)', 1),
  abuseSeconds: seconds('penalty per call that broke the protocol (a PPP frame where PPP is refused, a caller not reading)', 10),
  minSeconds: seconds('a source is refused once its penalty exceeds this (OpenSSH `min`)', 15),
  unknownCallerMinSeconds: seconds('the same for the one bucket every modem caller without caller ID shares (larger: they are many people)', 60),
  maxSeconds: seconds('a penalty never exceeds this (OpenSSH `max`)', 600, 1),
  ipv4Bits: num({ doc: 'TCP sources: IPv4 addresses count by this prefix', default: 32, min: 8, max: 32, integer: true }),
  ipv6Bits: num({ doc: 'TCP sources: IPv6 addresses count by this prefix (a host usually has a whole /64)', default: 64, min: 16, max: 128, integer: true }),
  maxSources: num({ doc: 'sources tracked at once; beyond it the least recently penalised one is forgotten (active penalties are kept before pending ones)', default: 65_536, min: 16, max: 4_000_000, integer: true }),
  allow: list(str({ doc: '', required: true, check: allowEntry }), { doc: 'sources never penalised: addresses, `ADDRESS/BITS` prefixes, caller numbers (`*`, `?` wildcards)', default: [] }),
  modemRefusal: oneOf(['ignore', 'answer'], { doc: 'a penalised caller ID on a modem line: `ignore` lets it ring, `answer` answers, says `refusal` and hangs up', default: 'ignore' }),
  refusal: str({ doc: 'the one line a penalised source hears before the line closes (TCP lines; modem lines with `modemRefusal: answer`)', default: 'Too many failed logins: try again later', empty: true }),
  line: obj(linePauseFields, { doc: 'per line: too many failed calls pause answering for a while (war-diallers)', defaultEmpty: true }),
};

export const lockoutOptionsField = obj(lockoutFields, { doc: 'account lockout', defaultEmpty: true });
export const penaltyOptionsField = obj(penaltyFields, { doc: 'per-source and per-line penalties', defaultEmpty: true });

export type LockoutSettings = Infer<typeof lockoutFields>;
export type PenaltySettings = Infer<typeof penaltyFields>;
export type LinePauseSettings = Infer<typeof linePauseFields>;
