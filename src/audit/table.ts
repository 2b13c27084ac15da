/**
 * The audit trail as a table for people (`rasgate audit` without --json). Whatever a caller
 * typed (user names, domains) is shown with control characters escaped: a name must not be
 * able to move the operator's cursor or clear the screen.
 */
import { rasErrorName } from '../ras/codes.js';
import type { AuditRecord } from './events.js';

const UNPRINTABLE = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/g; // eslint-disable-line no-control-regex

/** Control characters (C0, DEL, C1) and the line/paragraph separators as \xNN / \uNNNN. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

const COLUMNS = [
  ['TIME (UTC)', 19],
  ['EVENT', 13],
  ['LINE', 8],
  ['CALL', 12],
  ['SOURCE', 20],
  ['USER', 20],
  ['RESULT', 16],
  ['DETAIL', 0],
] as const;

function cell(text: string, width: number): string {
  const t = printable(text);
  if (width === 0) return t;
  return t.length > width ? `${t.slice(0, width - 1)}~` : t.padEnd(width);
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** What the DETAIL column says of one record. */
function detail(r: AuditRecord): string {
  const parts: string[] = [];
  const add = (k: string, v: unknown) => {
    if (v !== undefined && v !== null && v !== '') parts.push(`${k} ${String(v)}`);
  };
  switch (r.event) {
    case 'call-start':
      add('device', r.device);
      break;
    case 'login':
      if (r.domain) add('domain', r.domain);
      if (r.rasError) add('raserror', `${r.rasError} ${rasErrorName(r.rasError)}`);
      add('reason', r.reason);
      add('as', r.identity);
      break;
    case 'call-end':
      if (r.rasError) add('raserror', `${r.rasError} ${rasErrorName(r.rasError)}`);
      add('reason', r.reason);
      add('attempts', r.attempts);
      add('duration', seconds(r.durationMs));
      add('bytes', `${r.bytesIn}/${r.bytesOut}`);
      if (r.callback) add('callback', `${r.callback.number} (${r.callback.source}${r.callback.attempts !== undefined ? `, ${r.callback.attempts} dialled` : ''})`);
      break;
    case 'refused':
      add('count', r.count);
      break;
    case 'lockout-start':
      add('denials', r.denials);
      add('until', r.until ?? 'cleared by an operator');
      break;
    case 'penalty-start':
      add('seconds', r.seconds);
      add('until', r.until);
      add('reason', r.reason);
      break;
    case 'line-paused':
      add('failed calls', r.failedCalls);
      add('until', r.until);
      break;
    case 'audit-gap':
      add('dropped', r.dropped);
      add('since', r.since);
      break;
    case 'operator':
      add('action', r.action);
      add('target', r.target);
      add('result', r.result);
      break;
    default:
      break;
  }
  if ('why' in r) add('why', r.why);
  if ('by' in r && r.by) add('by', `${r.by}${r.via ? ` (${r.via}${r.sudoUser ? `, sudo from ${r.sudoUser}` : ''})` : ''}`);
  return parts.join(', ');
}

/** Records as a table, one line each, header first. */
export function formatTable(records: AuditRecord[]): string {
  const row = (cells: string[]) => cells.map((c, i) => cell(c, COLUMNS[i]![1])).join('  ').trimEnd();
  const lines = [row(COLUMNS.map(([h]) => h))];
  for (const r of records) {
    const f = r as unknown as Record<string, unknown>;
    const s = (k: string) => (typeof f[k] === 'string' ? (f[k] as string) : '');
    const user = s('user') || (r.event === 'operator' && r.action?.startsWith('user-') ? r.target : '');
    lines.push(row([r.time.replace('T', ' ').slice(0, 19), r.event, s('line'), s('call'), s('source'), user, s('result'), detail(r)]));
  }
  return `${lines.join('\n')}\n`;
}
