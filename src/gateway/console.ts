/**
 * The console on a running gateway: its operator actions take the same Gateway paths as
 * `rasgate hangup`, `rasgate line disable|enable` and `rasgate lockout clear` (the signed-in
 * operator's `DOMAIN\user` is the name they are logged and audited under), and its sign-ins go
 * to the audit trail and are counted by the lockout as the lines' logins are.
 */
import type { ActionOutcome, ConsoleActions } from '../observe/console/actions.js';
import type { GuardView } from '../observe/console/payloads.js';
import { operatorName, type ConsoleHooks, type Operator as ConsoleOperator } from '../observe/console/sign-in.js';
import type { Operator } from '../audit/index.js';
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

const asOperator = (by: ConsoleOperator): Operator => ({ by: operatorName(by).slice(0, 64), via: 'console' });

export function gatewayConsoleActions(gateway: Gateway): ConsoleActions {
  return {
    hangup: (call, by) =>
      attempt(async () => {
        const r = await gateway.hangupCall(call, asOperator(by));
        return r.outcome ? `${r.call} ended (${r.outcome})` : `${r.call} is hanging up`;
      }),
    setLineInService: (line, inService, by) =>
      attempt(() => {
        const r = gateway.setLineOutOfService(line, !inService, asOperator(by));
        const state = inService ? 'in service' : 'out of service';
        return r.changed ? `${r.line} is ${state}${r.activeCalls ? ` (${r.activeCalls} call${r.activeCalls === 1 ? '' : 's'} in progress go on)` : ''}` : `${r.line} was already ${state}`;
      }),
    unlock: (name, by) =>
      attempt(async () => {
        const r = await gateway.unlock(name, asOperator(by));
        return r.lockout || r.flag ? `${name} unlocked${r.flag ? ' (and its L flag cleared)' : ''}` : `${name} was not locked`;
      }),
    clearPenalty: (source, by) => attempt(() => (gateway.clearPenalty(source, asOperator(by)) ? `the penalty of ${source} is cleared` : `${source} had no penalty`)),
  };
}

/** Sign-ins to the audit trail; penalised sources kept out; sign-ins counted by the lockout. */
export function gatewayConsoleHooks(gateway: Gateway): ConsoleHooks {
  return {
    record: (r) => {
      if (r.type === 'console-sign-in') gateway.audit.record({ event: 'console-sign-in', user: r.user, domain: r.domain, source: r.source, result: 'accepted' });
      else if (r.type === 'console-sign-in-refused') {
        const result = r.reason === 'not-in-require-group' ? 'forbidden' : 'refused';
        gateway.audit.record({ event: 'console-sign-in', user: r.user ?? '', domain: r.domain ?? '', source: r.source, result, reason: r.reason });
      }
      // console-action: the gateway's operator paths audit the actions themselves.
    },
    admit: (source) => gateway.guard.admitConsole(source),
    counted: (s) => gateway.guard.consoleSignIn(s),
  };
}

/** The guessing defence as the console's lines page shows it: locked names and sources under penalty. */
export function gatewayGuardView(gateway: Gateway): GuardView {
  const iso = (ms: number | null | undefined) => (typeof ms === 'number' ? { until: new Date(ms).toISOString() } : {});
  return {
    lockouts: gateway.lockouts().filter((e) => e.lockedAt !== undefined).map((e) => ({ name: e.name, failures: e.denials, ...iso(e.until) })),
    penalties: gateway.activePenalties().map((p) => ({ source: p.source, ...iso(p.expiresAt) })),
  };
}
