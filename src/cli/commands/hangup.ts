/**
 * `rasgate hangup CALL`: hang up a call in progress on the running daemon (the control socket);
 * the call ends as `operator-hangup`, logged with your user name. CALL is its id as
 * `rasgate status` shows it (`tcp0-3`).
 */
import type { HangupResult } from '../../gateway/operator.js';
import { SOCKET_OPTIONS, UsageError, ask, parseCommon, withUsage } from '../operator.js';

const USAGE = `usage: rasgate hangup CALL [--config FILE | --socket PATH]
  Hang up call CALL (its id in rasgate status, e.g. tcp0-3); it ends as operator-hangup.
${SOCKET_OPTIONS}
  Exit status: 0 hung up, 1 no such call, 2 bad usage, 3 no daemon reachable.
`;

export async function run(argv: string[]): Promise<number> {
  return withUsage('rasgate hangup', USAGE, argv, async () => {
    const args = parseCommon(argv);
    const [call, extra] = args.rest;
    if (!call) throw new UsageError('missing CALL');
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
    const r = await ask('rasgate hangup', args, { op: 'hangup', call });
    if ('exit' in r) return r.exit;
    const h = r.result as HangupResult;
    process.stdout.write(`call ${h.call} on ${h.line}: ${h.outcome ? `hung up (${h.outcome})` : 'hang-up asked; it has not ended yet'}\n`);
    return 0;
  });
}
