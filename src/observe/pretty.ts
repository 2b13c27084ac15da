/**
 * The log for people (`log.format: pretty`): one short line per record, time, level, where
 * (the call id, which names its line, else the line, else the area) and a human message:
 *
 *   18:44:13.440 info  tcp0-3   alice@EXAMPLE accepted in 212 ms
 *
 * Records the daemon writes often have a sentence of their own (humanMessage); any other is its
 * message followed by its fields as key=value. It runs after redaction, like the JSON format:
 * it only rearranges what the JSON line would show.
 */

type Rec = Record<string, unknown>;

/** C0 and C1 controls and DEL (ECMA-48): escaped in the pretty line. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f]/g;

/** Fields shown in the columns or never worth a key=value. */
const SHOWN = new Set(['level', 'message', 'timestamp', 'line', 'call', 'area', 'splat']);

/** `text` with every control character as `\xNN`: safe to put on an operator's terminal. */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined);

/** `alice@EXAMPLE`, or `alice` when no domain was given. */
function who(r: Rec): string {
  const identity = str(r.identity);
  if (identity && identity.includes('\\')) {
    const [domain, user] = identity.split('\\', 2);
    return `${user}@${domain}`;
  }
  const user = str(r.user) ?? '?';
  const domain = str(r.domain);
  return domain ? `${user}@${domain}` : user;
}

const ms = (v: unknown) => (typeof v === 'number' ? ` in ${Math.round(v)} ms` : '');
const code = (r: Rec) => (typeof r.rasError === 'number' ? ` (raserror ${r.rasError})` : '');
const seconds = (v: unknown) => (typeof v === 'number' ? `${(v / 1000).toFixed(1)} s` : '?');

/** The sentence for a record the daemon writes on every call; undefined for the rest. */
export function humanMessage(r: Rec): string | undefined {
  switch (r.message) {
    case 'call answered': {
      const speed = typeof r.speed === 'number' ? ` at ${r.speed} bps` : '';
      return `call from ${str(r.peer) ?? 'unknown'}${speed}`;
    }
    case 'credentials accepted':
      return `${who(r)} accepted${ms(r.ms)}`;
    case 'credentials refused':
      return `${who(r)} refused: wrong user name or password${code(r)}${ms(r.ms)}`;
    case 'account refused by policy':
      return `${who(r)} refused by policy: ${str(r.reason) ?? 'policy'}${code(r)}${ms(r.ms)}`;
    case 'authority unavailable':
      return `${who(r)}: authority unavailable (${str(r.reason) ?? '?'})${code(r)}${ms(r.ms)}`;
    case 'verification failed inside rasgate':
      return `${who(r)}: verification failed inside rasgate (${str(r.reason) ?? '?'})${code(r)}${ms(r.ms)}`;
    case 'call summary': {
      const user = str(r.user) ? ` ${who(r)}` : '';
      const tried = Array.isArray(r.users) && !str(r.user) ? ` tried ${r.users.join(', ')}` : '';
      const detail = str(r.detail) ? `, ${str(r.detail)}` : '';
      return `call ended: ${str(r.outcome) ?? '?'}${user}${tried} from ${str(r.peer) ?? 'unknown'}, ${seconds(r.durationMs)}, ${r.bytesIn ?? 0}/${r.bytesOut ?? 0} bytes in/out${detail}`;
    }
    case 'transition':
      return `${str(r.machine) ?? 'machine'}: ${str(r.from) ?? '(start)'} -> ${str(r.to) ?? '?'} on ${str(r.event) ?? '?'}`;
    default:
      return undefined;
  }
}

function value(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

function clock(ts: unknown): string {
  const d = typeof ts === 'string' ? new Date(ts) : new Date();
  if (Number.isNaN(d.getTime())) return String(ts);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** One record as one line (no newline). */
export function prettyLine(r: Rec): string {
  const where = str(r.call) ?? str(r.line) ?? str(r.area) ?? '-';
  const human = humanMessage(r);
  let text = human ?? String(r.message ?? '');
  if (human === undefined) {
    const extra = Object.entries(r)
      .filter(([k, v]) => !SHOWN.has(k) && v !== undefined)
      .map(([k, v]) => `${k}=${value(v)}`);
    if (extra.length) text += ` ${extra.join(' ')}`;
  }
  // One record, one line, nothing for the terminal to obey: a caller types the user name, and a
  // newline or an escape sequence in it must not forge a record or drive the operator's terminal.
  text = printable(text.replace(/[\r\n]+/g, ' '));
  return `${clock(r.timestamp)} ${String(r.level).padEnd(5)} ${where.padEnd(8)} ${text}`;
}
