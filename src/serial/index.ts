/**
 * Lines from configuration: `createLine(config, deps)` returns a TCP line or a modem line (a
 * real device or the simulated modem). `config` is the parsed line (src/serial/options.ts:
 * the gateway's config schema, or resolveLineOptions() for a library caller): it is not
 * checked again here.
 */
import type { InspectionEvent, Observer } from 'xstate';
import { OptionError } from '../errors.js';
import type { Logger } from '../logging.js';
import type { LineClock } from './clock.js';
import { DeviceLine } from './device-line.js';
import type { LineConfig } from './options.js';
import { SimModemLine } from './sim-line.js';
import type { SimModems } from './sim-modem.js';
import { TcpLine } from './tcp-line.js';
import type { CallScreen, Line } from './types.js';

export type { Line, CallChannel, LineStatus, LineState, CallerId, CallEndReason, Caller, CallScreen, ScreenVerdict } from './types.js';
export type { LineConfig, TcpLineConfig, DeviceLineConfig, ModemSettings } from './options.js';
export { resolveLineOptions, resolveTcpLine, resolveDeviceLine, resolveModemSettings, lineField, tcpLineFields, deviceLineFields, modemFields, LINE_ID } from './options.js';
export { DeviceLine } from './device-line.js';
export { TcpLine } from './tcp-line.js';
export { SimModem, SimModems } from './sim-modem.js';
export { SimModemLine } from './sim-line.js';

export interface LineDeps {
  logger: Logger;
  /** Default real time; tests pass xstate's SimulatedClock. */
  clock?: LineClock;
  /** Inspection events of the line's machine (for observe/ and the inspector). */
  inspect?: Observer<InspectionEvent>;
  /** `sim://NAME` lines: the simulated modems they use (the daemon has one registry per Gateway). */
  simModems?: SimModems;
  /** Asked before a caller is answered (the guessing defence). Default: everyone is answered. */
  screen?: CallScreen;
}

/** Build a line from its parsed configuration. */
export function createLine(config: LineConfig, deps: LineDeps): Line {
  const common = { logger: deps.logger, ...(deps.clock ? { clock: deps.clock } : {}) };
  const lineDeps = { ...common, ...(deps.inspect ? { inspect: deps.inspect } : {}), ...(deps.screen ? { screen: deps.screen } : {}) };
  if (config.kind === 'tcp') return new TcpLine(config, lineDeps);
  if (!config.simulated) return new DeviceLine(config, lineDeps);
  if (!deps.simModems) throw new OptionError('device', 'a sim:// line needs the simulated modems it lives among (LineDeps.simModems)');
  return new SimModemLine({ ...config, simulated: config.simulated }, { ...lineDeps, simModems: deps.simModems });
}
