/**
 * Options of the lines, described once: a TCP line (`listen:`) or a device line (`device:`, a
 * serial device with a Hayes modem, or the simulated modem). The gateway's YAML `lines:` items
 * are these descriptions plus the gateway's own keys (action, ppp, enabled); createLine() takes
 * their parsed form; resolveLineOptions() checks a library caller's.
 */
import { tcpUrl } from '../options/address.js';
import { bool, closest, isPlainObject, list, num, numOneOf, obj, oneOf, resolveOptions, show, str, type Field, type Infer, type Input, type Issues, type Shape } from '../options/fields.js';
import { SIM_PREFIX, SimPathError, parseSimPath, type SimPath } from './sim-path.js';
import { OptionError } from '../errors.js';

/** Letters, digits, `-`, `_`, `.`: a line id goes into call ids (`tcp0-17`) and file names. */
export const LINE_ID = /^[A-Za-z0-9_.-]{1,32}$/;

export const lineIdField = str({ doc: 'line name in logs and call ids (default: tcp0, dev0, sim0 ... by position)', check: (v) => (LINE_ID.test(v) ? undefined : `${show(v)} is not a name (letters, digits, _ . -; at most 32)`) });

const ms = <const D extends number>(doc: string, def: D, min = 0, max = 3_600_000) => num({ doc, default: def, min, max, unit: 'ms' });
const atCommand = (v: string) => (/^AT/i.test(v) ? undefined : `${show(v)} is not an AT command`);

/** Hayes modem behaviour of a device line (mgetty's defaults where it has one). */
export const modemFields = {
  init: list(str({ doc: '', required: true, check: atCommand }), { doc: 'init chat, one command per item; each must answer OK', default: ['ATZ', 'ATE0V1Q0&C1&D2S0=0'], minItems: 1 }),
  callerId: str({ doc: 'command enabling caller ID, appended to the init chat (`AT+VCID=1` or `AT#CID=1`)', check: atCommand, hint: () => 'AT+VCID=1' }),
  answerOnRing: num({ doc: 'answer on this RING (>= 2 with caller ID: it arrives after the first RING)', default: 1, min: 1, max: 20, integer: true }),
  allow: list(str({ doc: '', required: true }), { doc: 'only these caller numbers are answered (`*`, `?` wildcards or `/regex/`; empty = everyone)', default: [] }),
  deny: list(str({ doc: '', required: true }), { doc: 'caller numbers never answered (checked first)', default: [] }),
  answerTimeoutSeconds: num({ doc: 'ATA to CONNECT', default: 80, min: 1, max: 600, unit: 'seconds' }),
  quietMs: ms('after CONNECT, discard input until it was quiet this long', 300, 0, 10_000),
  healthCheckSeconds: num({ doc: '`AT` while idle this often (0 = never)', default: 60, min: 0, max: 86_400, unit: 'seconds' }),
  chatTimeoutMs: ms('wait for each chat answer', 5000, 100),
  ringTimeoutMs: ms('a ringing call is over without a RING for this long', 8000, 100),
  dcdPollMs: ms('poll DCD during a call this often', 1000, 50),
  dtrDropMs: ms('DTR low time for hang-up (at least 500)', 700, 500),
  guardMs: ms('`+++` guard time', 1100, 0),
  settleMs: ms('wait after open before flushing', 200, 0),
  maxInitFailures: num({ doc: 'failed init chats before the device is reopened', default: 3, min: 1, max: 100, integer: true }),
  initRetryMs: ms('wait before retrying a failed init chat, times the failures so far (capped by initRetryMaxMs)', 1000, 0),
  initRetryMaxMs: ms('longest wait before retrying a failed init chat', 5000, 0),
  reopenBaseMs: ms('first reopen delay after the device is lost, doubled per attempt', 1000, 10),
  reopenMaxMs: ms('longest reopen delay', 30_000, 10),
};

export const tcpLineFields = {
  listen: tcpUrl({ doc: 'TCP line: accept calls here (one connection = one call)', required: true }),
  mode: oneOf(['telnet', 'raw'], { doc: 'TCP line: `telnet` answers option negotiation (we echo, the client does not); `raw` passes bytes untouched', default: 'telnet' }),
  maxCalls: num({ doc: 'TCP line: calls at once, excess callers told busy (0 = no limit)', default: 64, min: 0, max: 100_000, integer: true }),
  maxCallsPerSource: num({ doc: 'TCP line: calls at once from one address, excess callers told so and closed (0 = no limit); keeps one host from taking every slot', default: 4, min: 0, max: 100_000, integer: true }),
};

function checkDevice(v: string): string | undefined {
  if (v.startsWith(SIM_PREFIX)) {
    try {
      parseSimPath(v);
      return undefined;
    } catch (err) {
      if (err instanceof SimPathError) return err.message;
      throw err;
    }
  }
  return v.startsWith('/') ? undefined : `${show(v)} is not an absolute device path`;
}

export const deviceLineFields = {
  device: str({
    doc: 'device line: serial device (prefer /dev/serial/by-id/...), or `sim://NAME[?far=tcp://HOST:PORT&dial=NUMBER=tcp://HOST:PORT&dialtone=off]` for the simulated modem (src/serial/README.md)',
    required: true,
    check: checkDevice,
    hint: (v) => (v.startsWith('sim') ? 'sim://demo?far=tcp://127.0.0.1:2424' : `/dev/${v.replace(/^\/*(dev\/)?/, '')}`),
  }),
  baudRate: num({ doc: 'device line: DTE speed, bits per second', default: 115200, min: 50, max: 4_000_000, integer: true }),
  dataBits: numOneOf([5, 6, 7, 8], { doc: 'device line: data bits', default: 8 }),
  parity: oneOf(['none', 'even', 'odd', 'mark', 'space'], { doc: 'device line: parity', default: 'none' }),
  stopBits: numOneOf([1, 1.5, 2], { doc: 'device line: stop bits', default: 1 }),
  rtscts: bool({ doc: 'device line: RTS/CTS hardware flow control', default: true }),
  lockDir: str({ doc: 'device line: UUCP lock directory checked for LCK..NAME files', default: '/var/lock' }),
  modem: obj(modemFields, { doc: 'device line: Hayes modem settings', defaultEmpty: true }),
};

export type ModemSettings = Infer<typeof modemFields>;
export type TcpLineConfig = Infer<typeof tcpLineFields> & { kind: 'tcp'; id: string };
export type DeviceLineConfig = Infer<typeof deviceLineFields> & {
  kind: 'device';
  id: string;
  /** Set for sim:// devices: the path parsed (modem name, far side, dial plan: src/serial/sim-path.ts). */
  simulated?: SimPath;
};
/** A line's transport, parsed: what createLine() builds. */
export type LineConfig = TcpLineConfig | DeviceLineConfig;

const KINDS = ['listen', 'device'] as const;
const TCP_ONLY = Object.keys(tcpLineFields).filter((k) => k !== 'listen');

/**
 * One line: `listen:` (TCP) or `device:` (serial device or simulated modem), with `extra`
 * keys of the caller's own (the gateway's action, ppp, enabled), all checked in one mapping.
 */
export function lineField<E extends Shape>(extra: E, doc: string): Field<(TcpLineConfig | DeviceLineConfig) & Infer<E>, boolean> {
  // Typed by hand inside: the generic `extra` keys are opaque here, the result type says what comes out.
  const tcp = obj({ id: lineIdField, ...tcpLineFields, ...extra }, { doc: 'a TCP line' }) as unknown as Field<Omit<TcpLineConfig, 'kind'>, boolean>;
  const device = obj({ id: lineIdField, ...deviceLineFields, ...extra }, { doc: 'a serial device line' }) as unknown as Field<Omit<DeviceLineConfig, 'kind' | 'simulated'>, boolean>;
  const commonKeys = ['id', ...Object.keys(extra)];
  return {
    type: 'line',
    doc,
    parse(v, path, issues: Issues) {
      if (!isPlainObject(v)) return issues.add(path, `${show(v)} is not a line mapping`, 'e.g. { listen: tcp://127.0.0.1:2323 }');
      const kinds = KINDS.filter((k) => k in v);
      if (kinds.length !== 1) {
        const near = Object.keys(v).map((k) => closest(k, KINDS)).find(Boolean);
        return issues.add(path, kinds.length ? 'has listen and device: a line is exactly one kind' : 'needs listen: or device:', kinds.length ? undefined : near ?? 'listen: tcp://127.0.0.1:2323');
      }
      if (kinds[0] === 'listen') {
        const r = tcp.parse(v, path, issues);
        return r && ({ ...r, kind: 'tcp' } as TcpLineConfig & Infer<E>);
      }
      for (const k of TCP_ONLY) if (k in v) issues.add(`${path}.${k}`, 'applies to TCP lines (listen:) only');
      const r = device.parse(Object.fromEntries(Object.entries(v).filter(([k]) => !TCP_ONLY.includes(k))), path, issues);
      if (!r) return undefined;
      const out = { ...r, kind: 'device' } as DeviceLineConfig & Infer<E>;
      if (typeof r.device === 'string' && r.device.startsWith(SIM_PREFIX)) out.simulated = parseSimPath(r.device);
      return out;
    },
    rows(prefix) {
      const isCommon = (key: string) => commonKeys.some((k) => key === `${prefix}.${k}`);
      const common = tcp.rows!(prefix).filter((r) => isCommon(r.key));
      return [...common, ...tcp.rows!(prefix).filter((r) => !isCommon(r.key)), ...device.rows!(prefix).filter((r) => !isCommon(r.key))];
    },
  };
}

const plainLine = lineField({}, 'one line');
const modemField = obj(modemFields, { doc: 'modem settings', defaultEmpty: true });

/** A library caller's line options (YAML-shaped: `listen: 'tcp://...'`), checked and completed. */
export function resolveLineOptions(input: Input<{ id: string; listen?: string; device?: string }> & Record<string, unknown>): LineConfig {
  let parsed: LineConfig;
  try {
    parsed = resolveOptions(plainLine, input, '');
  } catch (err) {
    // Neither or both of listen/device: the key to name is `listen`.
    if (err instanceof OptionError && err.key === '') throw new OptionError('listen', err.message.replace(/^"" /, ''));
    throw err;
  }
  if (!parsed.id) throw new OptionError('id', 'is required');
  return parsed;
}

/** A TCP line's options for a library caller (`listen: 'tcp://HOST:PORT'`, port 0 picks a free one). */
export function resolveTcpLine(input: { id: string; listen: string } & Record<string, unknown>): TcpLineConfig {
  return resolveLineOptions(input) as TcpLineConfig;
}

/** A device line's options for a library caller (`device: '/dev/...'` or `'sim://NAME'`). */
export function resolveDeviceLine(input: { id: string; device: string } & Record<string, unknown>): DeviceLineConfig {
  return resolveLineOptions(input) as DeviceLineConfig;
}

/** Modem settings with every default filled in. */
export function resolveModemSettings(input: Input<ModemSettings> = {}): ModemSettings {
  return resolveOptions(modemField, input, 'modem');
}
