/**
 * `rasgate status [--json]`: the running daemon's lines and their states, who has a line out of
 * service, the calls in progress (user once accepted, caller ID or address, start, bytes), and
 * lockouts and penalties in force, as smbstatus shows a Samba server's sessions. Asked over the
 * control socket (src/control/).
 */
import type { GatewayStatus } from '../../gateway/operator.js';
import { printable } from '../../observe/pretty.js';
import { SOCKET_OPTIONS, UsageError, ask, parseCommon, withUsage } from '../operator.js';

const USAGE = `usage: rasgate status [--json] [--config FILE | --socket PATH]
  Show the running daemon's lines (state, calls, out of service), its calls in progress (user,
  caller ID or address, start time, bytes) and the lockouts and penalties in force.
  --json                  the daemon's answer as JSON (one object) instead of tables
${SOCKET_OPTIONS}
  Exit status: 0 shown, 1 refused, 2 bad usage, 3 no daemon reachable.
`;

/** Local HH:MM:SS of an ISO time, with the date when it is not today. */
function when(iso: string, now = new Date()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '?';
  const p = (n: number) => String(n).padStart(2, '0');
  const time = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  return d.toDateString() === now.toDateString() ? time : `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${time}`;
}

function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows].map((r) => r.map((c) => printable(c)));
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

export function formatStatus(s: GatewayStatus, now = new Date()): string {
  const out: string[] = [];
  out.push(`rasgate ${s.phase} since ${when(s.startedAt, now)} (${s.source})`);
  out.push('');
  out.push(
    table(
      ['LINE', 'KIND', 'STATE', 'CALLS', 'NOTE'],
      s.lines.map((l) => {
        const o = l.outOfService;
        const note = o ? `out of service since ${when(o.since, now)} by ${o.by}${o.reason ? `: ${o.reason}` : ''}` : (l.lastError ?? '');
        return [l.id, l.kind, o ? `${l.state} (disabled)` : l.state, String(l.activeCalls), note];
      }),
    ),
  );
  out.push('');
  if (s.calls.length === 0) out.push('no calls in progress');
  else
    out.push(
      table(
        ['CALL', 'LINE', 'USER', 'FROM', 'SINCE', 'BYTES IN/OUT'],
        s.calls.map((c) => [c.call, c.line, c.user ? (c.domain ? `${c.domain}\\${c.user}` : c.user) : '(logging in)', c.peer ?? '-', when(c.startedAt, now), `${c.bytesIn}/${c.bytesOut}`]),
      ),
    );
  out.push('');
  out.push(`lockouts: ${s.lockouts}  penalties: ${s.penalties}`);
  return `${out.join('\n')}\n`;
}

export async function run(argv: string[]): Promise<number> {
  return withUsage('rasgate status', USAGE, argv, async () => {
    const args = parseCommon(argv, { flags: ['--json'] });
    if (args.rest.length) throw new UsageError(`unexpected argument "${args.rest[0]}"`);
    const r = await ask('rasgate status', args, { op: 'status' });
    if ('exit' in r) return r.exit;
    process.stdout.write(args.flags.has('--json') ? `${JSON.stringify(r.result, null, 2)}\n` : formatStatus(r.result as GatewayStatus));
    return 0;
  });
}
