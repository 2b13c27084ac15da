/**
 * Lines from configuration: `createLine(config, deps)` returns a TCP line or a modem line (a
 * real device or the simulated modem). `config` is the parsed line (src/serial/options.ts:
 * the gateway's config schema, or resolveLineOptions() for a library caller): it is not
 * checked again here.
 */
import type { InspectionEvent } from 'xstate';
import type { Logger } from '../logging.js';
import type { LineClock } from './clock.js';
import { DeviceLine } from './device-line.js';
import type { LineConfig } from './options.js';
import { TcpLine } from './tcp-line.js';
import type { Line } from './types.js';
import { simModem } from './sim-modem.js';

export type { Line, CallChannel, LineStatus, LineState, CallerId, CallEndReason } from './types.js';
export type { LineConfig, TcpLineConfig, DeviceLineConfig, ModemSettings } from './options.js';
export { resolveLineOptions, resolveTcpLine, resolveDeviceLine, resolveModemSettings, lineField, tcpLineFields, deviceLineFields, modemFields, LINE_ID } from './options.js';
export { DeviceLine } from './device-line.js';
export { TcpLine } from './tcp-line.js';
export { SimModem, simModem, findSimModem, removeSimModem } from './sim-modem.js';

export interface LineDeps {
  logger: Logger;
  /** Default real time; tests pass xstate's SimulatedClock. */
  clock?: LineClock;
  /** Modem lines: inspection events of their line machine (for observe/ and the inspector). */
  inspect?: (event: InspectionEvent) => void;
}

/** Build a line from its parsed configuration. */
export function createLine(config: LineConfig, deps: LineDeps): Line {
  if (config.kind === 'tcp') return new TcpLine(config, { logger: deps.logger, ...(deps.clock ? { clock: deps.clock } : {}) });
  if (config.simulated) {
    const modem = simModem(config.simulated.name, deps.clock ? { clock: deps.clock } : {});
    if (config.simulated.far) modem.listenFarSide(config.simulated.far, deps.logger);
  }
  return new DeviceLine(config, { logger: deps.logger, ...(deps.clock ? { clock: deps.clock } : {}), ...(deps.inspect ? { inspect: deps.inspect } : {}) });
}
