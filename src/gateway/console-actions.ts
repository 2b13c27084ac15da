/**
 * The console's operator actions on a running gateway: the same Gateway paths that
 * `rasgate hangup` and `rasgate line disable|enable` take through the control socket, with the
 * signed-in operator's `DOMAIN\user` as the name they are logged under.
 */
import type { ActionOutcome, ConsoleActions } from '../observe/console/actions.js';
import { operatorName, type Operator } from '../observe/console/sign-in.js';
import type { Gateway } from './daemon.js';
import { OperatorError } from './operator.js';

/** An operator's mistake (no such call, no such line) is said to them; anything else is the console's 500. */
async function attempt(work: () => Promise<string> | string): Promise<ActionOutcome> {
  try {
    return { ok: true, detail: await work() };
  } catch (err) {
    if (err instanceof OperatorError) return { ok: false, error: err.message };
    throw err;
  }
}

export function gatewayConsoleActions(gateway: Gateway): ConsoleActions {
  return {
    hangup: (call: string, by: Operator) =>
      attempt(async () => {
        const r = await gateway.hangupCall(call, operatorName(by));
        return r.outcome ? `${r.call} ended (${r.outcome})` : `${r.call} is hanging up`;
      }),
    setLineInService: (line: string, inService: boolean, by: Operator) =>
      attempt(() => {
        const r = gateway.setLineOutOfService(line, !inService, operatorName(by));
        const state = inService ? 'in service' : 'out of service';
        return r.changed ? `${r.line} is ${state}${r.activeCalls ? ` (${r.activeCalls} call${r.activeCalls === 1 ? '' : 's'} in progress go on)` : ''}` : `${r.line} was already ${state}`;
      }),
  };
}
