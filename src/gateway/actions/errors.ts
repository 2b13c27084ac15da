/** Post-login action failures, each with a stable code (src/errors.ts). */
import { RasgateError } from '../../errors.js';

/** The bridge target refused, timed out or is unreachable. */
export class BridgeConnectError extends RasgateError {
  constructor(target: string, detail: string, options?: { cause?: unknown }) {
    super('BRIDGE_CONNECT_FAILED', `bridge to ${target} failed: ${detail}`, options);
  }
}

/** The exec program could not be started (missing, not executable). */
export class ExecStartError extends RasgateError {
  constructor(program: string, detail: string, options?: { cause?: unknown }) {
    super('EXEC_START_FAILED', `cannot run ${program}: ${detail}`, options);
  }
}
