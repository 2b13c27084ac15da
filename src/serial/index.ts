/**
 * Lines from configuration: `createLine(config, deps)` returns a TCP line or a modem line
 * (a real device or the simulated modem). The gateway maps YAML onto LineConfig.
 */
import type { InspectionEvent } from 'xstate';
import { OptionError } from '../errors.js';
import type { Logger } from '../logging.js';
import type { LineClock } from './clock.js';
import { DeviceLine, type DeviceLineOptions, type ModemSettings } from './device-line.js';
import type { SerialSettings } from './modem-port.js';
import { TcpLine } from './tcp-line.js';
import type { Line } from './types.js';
import { parseListen } from './address.js';
import { createSimModemLine } from './sim-line.js';
import type { SimModems } from './sim-modem.js';

export type { Line, CallChannel, LineStatus, LineState, CallerId, CallEndReason } from './types.js';
export type { ModemSettings } from './device-line.js';
export { DeviceLine } from './device-line.js';
export { TcpLine } from './tcp-line.js';
export { SimModem, SimModems } from './sim-modem.js';
export { SimModemLine } from './sim-line.js';
export { parseListen } from './address.js';

/**
 * One line of the configuration. Exactly one of `listen` or `device`. The serial keys
 * (baudRate, dataBits, parity, stopBits, rtscts, lockDir) apply to modem lines and are
 * documented, with their defaults, on SerialSettings.
 */
export interface LineConfig extends Pick<SerialSettings, 'baudRate' | 'dataBits' | 'parity' | 'stopBits' | 'rtscts' | 'lockDir'> {
  /** Line name in logs, status and call IDs (`<id>-<n>`). Required; letters, digits, `-`, `_`, `.`. */
  id: string;
  /** TCP line: `tcp://HOST:PORT` (IPv6 as `tcp://[::1]:2323`). Each connection is one call. */
  listen?: string;
  /** TCP line: 'telnet' (default) answers option negotiation; 'raw' passes bytes untouched. */
  mode?: 'telnet' | 'raw';
  /** TCP line: most calls at once, excess told busy. Default 0 = no limit (modem lines: always 1). */
  maxCalls?: number;
  /** TCP line: most calls at once from one address. Default 0 = no limit. */
  maxCallsPerSource?: number;
  /**
   * Modem line: serial device path (`/dev/ttyS0`, `/dev/serial/by-id/...`, symlinks resolved),
   * or `sim://NAME` for the simulated Hayes modem NAME (demos, rehearsing a configuration);
   * `sim://NAME?far=tcp://127.0.0.1:2424` also lets callers dial it over TCP
   * (scripts/sim-caller.ts; first line `DIAL <number> [name]`); `&dial=NUMBER=tcp://HOST:PORT`
   * and `&dialtone=off` set up its outgoing calls (src/serial/sim-path.ts, sim-dial.ts).
   */
  device?: string;
  /** Modem line: Hayes behaviour, see ModemSettings (every key optional with documented defaults). */
  modem?: ModemSettings;
}

export interface LineDeps {
  logger: Logger;
  /** Default real time; tests pass xstate's SimulatedClock. */
  clock?: LineClock;
  /** Modem lines: inspection events of their line machine (for observe/ and the inspector). */
  inspect?: (event: InspectionEvent) => void;
  /** `sim://NAME` lines: the simulated modems they use (the daemon has one registry per Gateway). */
  simModems?: SimModems;
}

function check(cond: boolean, key: string, message: string): void {
  if (!cond) throw new OptionError(key, message);
}

function validateModem(m: ModemSettings, prefix: string): void {
  const positive = (k: keyof ModemSettings, min = 0) => {
    const v = m[k];
    if (v !== undefined) check(typeof v === 'number' && Number.isFinite(v) && v >= min, `${prefix}.${k}`, `must be a number >= ${min}`);
  };
  if (m.init !== undefined) check(Array.isArray(m.init) && m.init.length > 0 && m.init.every((s) => typeof s === 'string' && /^AT/i.test(s)), `${prefix}.init`, 'must be a non-empty list of AT commands');
  if (m.callerId !== undefined) check(typeof m.callerId === 'string' && /^AT/i.test(m.callerId), `${prefix}.callerId`, 'must be an AT command, e.g. AT+VCID=1');
  positive('answerOnRing', 1);
  for (const k of ['answerTimeoutSeconds', 'quietMs', 'healthCheckSeconds', 'chatTimeoutMs', 'ringTimeoutMs', 'dcdPollMs', 'dtrDropMs', 'guardMs', 'settleMs', 'maxInitFailures', 'reopenBaseMs', 'reopenMaxMs'] as const) positive(k);
  for (const k of ['allow', 'deny'] as const) {
    const list = m[k];
    if (list !== undefined) check(Array.isArray(list) && list.every((s) => typeof s === 'string' && s.length > 0), `${prefix}.${k}`, 'must be a list of numbers or patterns');
  }
}

/** Build a line from its configuration; bad options throw OptionError naming the key. */
export function createLine(config: LineConfig, deps: LineDeps): Line {
  check(typeof config.id === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(config.id), 'id', 'must be 1-64 letters, digits, "-", "_" or "."');
  check((config.listen === undefined) !== (config.device === undefined), 'listen', 'give exactly one of "listen" or "device"');
  if (config.listen !== undefined) {
    const { host, port } = parseListen(config.listen);
    check(config.mode === undefined || config.mode === 'telnet' || config.mode === 'raw', 'mode', 'must be "telnet" or "raw"');
    check(config.maxCalls === undefined || (Number.isInteger(config.maxCalls) && config.maxCalls >= 0), 'maxCalls', 'must be an integer >= 0');
    check(config.maxCallsPerSource === undefined || (Number.isInteger(config.maxCallsPerSource) && config.maxCallsPerSource >= 0), 'maxCallsPerSource', 'must be an integer >= 0');
    return new TcpLine({
      id: config.id,
      host,
      port,
      mode: config.mode ?? 'telnet',
      maxCalls: config.maxCalls ?? 0,
      maxCallsPerSource: config.maxCallsPerSource ?? 0,
      logger: deps.logger,
      ...(deps.clock ? { clock: deps.clock } : {}),
    });
  }
  const device = config.device!;
  check(typeof device === 'string' && device.length > 0 && (device.startsWith('/') || device.startsWith('sim://')), 'device', 'must be an absolute device path or sim://NAME');
  check(config.baudRate === undefined || (Number.isInteger(config.baudRate) && config.baudRate > 0), 'baudRate', 'must be a positive integer');
  check(config.dataBits === undefined || [5, 6, 7, 8].includes(config.dataBits), 'dataBits', 'must be 5, 6, 7 or 8');
  check(config.parity === undefined || ['none', 'even', 'odd', 'mark', 'space'].includes(config.parity), 'parity', 'must be none, even, odd, mark or space');
  check(config.stopBits === undefined || [1, 1.5, 2].includes(config.stopBits), 'stopBits', 'must be 1, 1.5 or 2');
  check(config.rtscts === undefined || typeof config.rtscts === 'boolean', 'rtscts', 'must be true or false');
  check(config.mode === undefined && config.maxCalls === undefined && config.maxCallsPerSource === undefined, 'mode', '"mode", "maxCalls" and "maxCallsPerSource" apply to TCP lines only');
  if (config.modem !== undefined) validateModem(config.modem, 'modem');
  const sim = device.startsWith('sim://');
  check(!sim || deps.simModems !== undefined, 'device', 'sim:// needs the simulated modems (deps.simModems)');
  const options: DeviceLineOptions = {
    id: config.id,
    path: device,
    ...(config.baudRate !== undefined ? { baudRate: config.baudRate } : {}),
    ...(config.dataBits !== undefined ? { dataBits: config.dataBits } : {}),
    ...(config.parity !== undefined ? { parity: config.parity } : {}),
    ...(config.stopBits !== undefined ? { stopBits: config.stopBits } : {}),
    ...(config.rtscts !== undefined ? { rtscts: config.rtscts } : {}),
    ...(config.lockDir !== undefined ? { lockDir: config.lockDir } : {}),
    ...(config.modem !== undefined ? { modem: config.modem } : {}),
    logger: deps.logger,
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.inspect ? { inspect: deps.inspect } : {}),
  };
  return sim ? createSimModemLine(options, deps.simModems!) : new DeviceLine(options);
}
