/**
 * What an operator can do from the console, through the same daemon paths as the command line:
 * hang up a call, take a line out of service and back, unlock an account, clear a source's
 * penalty. The console only knows this interface; the daemon provides it (each method is
 * optional: what is not provided is not offered on the page).
 *
 *   POST /api/actions  { action, target, confirmed: true }   (JSON, same origin, signed in)
 *
 * Each request is checked (signed in, same Origin, JSON, a known action with a target of sane
 * length, `confirmed`), carried out, logged with the operator's name and handed to the record
 * hook (the audit trail).
 */
import type { Operator } from './sign-in.js';

/** What an action did: done, or why not (shown to the operator as it is). */
export type ActionOutcome = { ok: true; detail?: string } | { ok: false; error: string };

export interface ConsoleActions {
  /** Hang up call `call` (a call id as the lines page shows it). */
  hangup?(call: string, by: Operator): ActionOutcome | Promise<ActionOutcome>;
  /** Take line `line` out of service (false: stop answering; its calls go on) or back (true). */
  setLineInService?(line: string, inService: boolean, by: Operator): ActionOutcome | Promise<ActionOutcome>;
  /** Unlock account `name` (the guessing defence's lockout). */
  unlock?(name: string, by: Operator): ActionOutcome | Promise<ActionOutcome>;
  /** Clear the penalty of `source` (an address or caller ID). */
  clearPenalty?(source: string, by: Operator): ActionOutcome | Promise<ActionOutcome>;
}

export const ACTION_NAMES = ['hangup', 'line-out-of-service', 'line-in-service', 'unlock', 'clear-penalty'] as const;
export type ActionName = (typeof ACTION_NAMES)[number];

export interface ActionRequest {
  action: ActionName;
  target: string;
}

/** Which actions the page may offer. */
export function actionsOffered(actions: ConsoleActions | undefined): Record<ActionName, boolean> {
  return {
    hangup: typeof actions?.hangup === 'function',
    'line-out-of-service': typeof actions?.setLineInService === 'function',
    'line-in-service': typeof actions?.setLineInService === 'function',
    unlock: typeof actions?.unlock === 'function',
    'clear-penalty': typeof actions?.clearPenalty === 'function',
  };
}

/** A request body, checked: the request, or why it is refused (400). */
export function parseActionRequest(body: string): ActionRequest | string {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return 'the body is not JSON';
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return 'the body is not a JSON object';
  const { action, target, confirmed } = v as Record<string, unknown>;
  if (typeof action !== 'string' || !(ACTION_NAMES as readonly string[]).includes(action)) return `unknown action (known: ${ACTION_NAMES.join(', ')})`;
  if (typeof target !== 'string' || target.length === 0 || target.length > 256 || [...target].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) return 'target must be 1..256 printable characters';
  if (confirmed !== true) return 'the action was not confirmed';
  return { action: action as ActionName, target };
}

/** Carry one request out. A method that throws is a failure with its message, never a crash. */
export async function runAction(actions: ConsoleActions | undefined, r: ActionRequest, by: Operator): Promise<ActionOutcome> {
  const a = actions ?? {};
  switch (r.action) {
    case 'hangup':
      return a.hangup ? a.hangup(r.target, by) : notOffered;
    case 'line-out-of-service':
      return a.setLineInService ? a.setLineInService(r.target, false, by) : notOffered;
    case 'line-in-service':
      return a.setLineInService ? a.setLineInService(r.target, true, by) : notOffered;
    case 'unlock':
      return a.unlock ? a.unlock(r.target, by) : notOffered;
    case 'clear-penalty':
      return a.clearPenalty ? a.clearPenalty(r.target, by) : notOffered;
  }
}

const notOffered: ActionOutcome = { ok: false, error: 'this gateway does not offer that action' };
