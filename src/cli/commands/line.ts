/**
 * `rasgate line disable|enable ID [--reason TEXT]`: take a line out of service or put it back,
 * on the running daemon (the control socket). Kept across restarts in the state directory, as
 * mgetty's per-line nologin files: a disabled modem line does not answer, a disabled TCP line
 * tells each caller one line of text and closes. Calls in progress go on (`rasgate hangup`).
 */
import type { LineChange } from '../../gateway/operator.js';
import { SOCKET_OPTIONS, UsageError, ask, parseCommon, withUsage } from '../operator.js';

const USAGE = `usage: rasgate line disable|enable ID [--reason TEXT] [--config FILE | --socket PATH]
  disable ID   take line ID out of service: a modem line stops answering, a TCP line tells each
               caller dialogue.messages.outOfService and closes; calls in progress go on
  enable ID    put it back in service
  Kept across restarts (STATE_DIRECTORY/lines-out-of-service.json); logged with your user name.
  --reason TEXT           why (shown by rasgate status and logged)
${SOCKET_OPTIONS}
  Exit status: 0 done (or already so), 1 refused (no such line, state not saved), 2 bad usage,
  3 no daemon reachable.
`;

export async function run(argv: string[]): Promise<number> {
  return withUsage('rasgate line', USAGE, argv, async () => {
    const args = parseCommon(argv, { valued: ['--reason'] });
    const [action, id, extra] = args.rest;
    if (action !== 'disable' && action !== 'enable') throw new UsageError(action ? `unknown action "${action}"` : 'missing action');
    if (!id) throw new UsageError('missing line ID');
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
    const reason = args.values.get('--reason');
    if (reason !== undefined && action === 'enable') throw new UsageError('--reason goes with disable');
    const r = await ask('rasgate line', args, action === 'disable' ? { op: 'line-disable', line: id, ...(reason ? { reason } : {}) } : { op: 'line-enable', line: id });
    if ('exit' in r) return r.exit;
    const c = r.result as LineChange;
    const state = c.outOfService ? 'out of service' : 'in service';
    const calls = c.activeCalls ? ` (${c.activeCalls} call${c.activeCalls === 1 ? '' : 's'} in progress go on)` : '';
    process.stdout.write(c.changed ? `line ${c.line}: ${state}${calls}\n` : `line ${c.line} was already ${state}\n`);
    return 0;
  });
}
