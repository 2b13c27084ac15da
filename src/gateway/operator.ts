/**
 * What an operator sees and does through the Gateway (src/gateway/daemon.ts): the status
 * snapshot, lines out of service and back, hanging up a call, testing a password. The control
 * socket (`rasgate status|line|hangup|auth`, src/control/) and the console call the same
 * methods; each action carries the operator's name and is logged with it.
 */
import { RasgateError } from '../errors.js';
import type { OutcomeKind } from '../../machines/outcome.js';
import type { ActiveCallInfo } from './call-runner.js';
import type { OutOfService } from './out-of-service.js';

export type OperatorErrorCode = 'NO_SUCH_LINE' | 'NO_SUCH_CALL' | 'NOT_RUNNING' | 'STATE_WRITE_FAILED' | 'BAD_REQUEST';

/** An operator's request that cannot be done (its message says why, for the operator). */
export class OperatorError extends RasgateError {
  constructor(code: OperatorErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** Characters kept of an operator's name (it is logged with each action). */
export const MAX_OPERATOR_NAME = 64;

/** The operator's name as logged: printable, bounded ('unknown' when none was given). */
export function operatorName(name: unknown): string {
  const s = typeof name === 'string' ? name.replace(/[^\x21-\x7e]/g, '?').slice(0, MAX_OPERATOR_NAME) : '';
  return s || 'unknown';
}

export interface LineReport {
  id: string;
  /** `tcp`, `modem` (a serial device) or `sim` (the simulated modem). */
  kind: 'tcp' | 'modem' | 'sim';
  /** The line machine's state (src/serial/types.ts LineState), or `off` (enabled: false) / `not-running` (could not be made). */
  state: string;
  activeCalls: number;
  /** Set while an operator has it out of service. */
  outOfService?: OutOfService;
  lastError?: string;
}

export interface GatewayStatus {
  at: string;
  /** starting, running, reloading, stopping, stopped. */
  phase: string;
  startedAt: string;
  /** The configuration file (or the embedded default). */
  source: string;
  lines: LineReport[];
  calls: ActiveCallInfo[];
  /** Accounts locked out and sources or lines under a penalty now (the guard module; 0 until it is wired). */
  lockouts: number;
  penalties: number;
}

export interface LineChange {
  line: string;
  outOfService: boolean;
  /** False when it already was as asked. */
  changed: boolean;
  /** Calls on it now (they go on). */
  activeCalls: number;
}

export interface HangupResult {
  call: string;
  line: string;
  /** The call's outcome as its summary says (once it ended within the wait). */
  outcome?: OutcomeKind;
}

export interface AuthTestResult {
  outcome: OutcomeKind;
  /** raserror.h code (0 when accepted). */
  rasError: number;
  rasErrorName?: string;
  reason?: string;
  /** The identity the authority established (accepted), or the names it was asked with. */
  user: string;
  domain: string;
  ms: number;
}
