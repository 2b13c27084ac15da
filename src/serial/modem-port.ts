/**
 * One serial device under a modem line: opening (symlinks resolved, locks reported),
 * writing, control lines, and routing of received bytes by input mode:
 *   command  -> Hayes result events
 *   quiet    -> 'activity' only (discarded: the line settles after CONNECT)
 *   data     -> caller bytes, plus `NO CARRIER` recognised at a line boundary
 * The device vanishing (USB unplug, pty master closed) is reported once as 'lost'.
 */
import { EventEmitter } from 'node:events';
import { realpath, readFile, unlink, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { SerialPortStream } from '@serialport/stream';
import { autoDetect, type BindingInterface, type PortStatus } from '@serialport/bindings-cpp';
import type { Logger } from '../logging.js';
import { errorSummary } from '../errors.js';
import { LineDisconnectedError, LineLockedError, LineOpenError } from './errors.js';
import { HayesParser, type ModemEvent } from './hayes.js';
import { simModemBinding } from './sim-binding.js';
import type { SimModems } from './sim-modem.js';
import { SIM_PREFIX } from './sim-path.js';
import type { DeviceLineConfig } from './options.js';

export type InputMode = 'command' | 'quiet' | 'data';

/** Bytes queued to a serial device (flow control held off, a wedged modem) before output is dropped. */
export const SERIAL_WRITE_LIMIT = 64 * 1024;
/** Bytes handed to the device at a time. */
const MAX_CHUNK = 256;

/** The serial side of a device line: its config keys (defaults in src/serial/options.ts), resolved. */
export type SerialSettings = { path: string } & Pick<DeviceLineConfig, 'baudRate' | 'dataBits' | 'parity' | 'stopBits' | 'rtscts' | 'lockDir'> & {
  /** Bytes queued to the device before further output is dropped. Default SERIAL_WRITE_LIMIT. */
  maxWriteQueue?: number;
  /** Binding override (tests). Default: `simModems` for sim://, else the platform binding. */
  binding?: BindingInterface;
  /** Where `sim://NAME` paths are found; required for them unless `binding` is given. */
  simModems?: SimModems;
};

/** Read a UUCP lock file: PID as ASCII (HDB, 10 chars) or a 4-byte binary int (old style). */
export function parseUucpLock(bytes: Buffer): number | undefined {
  const text = bytes.toString('latin1').trim();
  if (/^\d+$/.test(text)) return Number(text);
  if (bytes.length === 4) return bytes.readInt32LE(0);
  return undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** strerror(3) texts (glibc) of the errors an open or its termios setup can give. */
const STRERROR: Array<[RegExp, string]> = [
  [/No such file or directory/i, 'ENOENT'],
  [/Permission denied/i, 'EACCES'],
  [/Operation not permitted/i, 'EPERM'],
  [/No such device or address/i, 'ENXIO'],
  [/No such device/i, 'ENODEV'],
  [/Device or resource busy/i, 'EBUSY'],
  [/Input\/output error/i, 'EIO'],
  [/Inappropriate ioctl for device/i, 'ENOTTY'],
  [/Invalid argument/i, 'EINVAL'],
];

/** errno name of an open failure: serialport's C++ binding reports only strerror text. */
export function errnoOf(err: unknown): string | undefined {
  const e = err as NodeJS.ErrnoException;
  if (e?.code) return e.code;
  const m = e?.message ?? '';
  for (const [re, errno] of STRERROR) if (re.test(m)) return errno;
  return undefined;
}

export function isLockError(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException;
  return e?.code === 'EBUSY' || e?.code === 'EAGAIN' || /Cannot lock port|Resource temporarily unavailable|Resource busy/i.test(e?.message ?? '');
}

export class ModemPort extends EventEmitter {
  private port?: SerialPortStream;
  private mode: InputMode = 'command';
  private readonly commandParser = new HayesParser();
  private readonly dataParser = new HayesParser(false);
  /** The resolved device name (after symlinks), for logs and CallChannel.deviceName. */
  device: string;

  private readonly binding: BindingInterface;

  constructor(private readonly settings: SerialSettings, private readonly log: Logger) {
    super();
    this.device = settings.path;
    const sim = settings.path.startsWith(SIM_PREFIX);
    if (sim && !settings.binding && !settings.simModems) throw new TypeError('"simModems" is required for sim:// paths');
    this.binding = settings.binding ?? (sim ? simModemBinding(settings.simModems!) : autoDetect());
  }

  get isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  async open(): Promise<void> {
    const s = this.settings;
    const sim = s.path.startsWith(SIM_PREFIX);
    let device = s.path;
    if (!sim) {
      try {
        device = await realpath(s.path);
      } catch (err) {
        const errno = errnoOf(err);
        throw new LineOpenError(s.path, errno === 'ENOENT' ? 'no such device' : (err as Error).message, { cause: err, ...(errno ? { errno } : {}) });
      }
      if (device !== s.path) this.log.info('device resolved', { path: s.path, device });
      await this.checkUucpLock(device);
    }
    this.device = device;
    const port = new SerialPortStream({
      binding: this.binding,
      path: device,
      baudRate: s.baudRate,
      dataBits: s.dataBits,
      parity: s.parity,
      stopBits: s.stopBits,
      rtscts: s.rtscts,
      autoOpen: false,
    });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve()))).catch((err: unknown) => {
      if (isLockError(err)) throw new LineLockedError(device, '', { cause: err });
      const errno = errnoOf(err);
      throw new LineOpenError(device, errno === 'ENOENT' ? 'no such device' : (err as Error).message, { cause: err, ...(errno ? { errno } : {}) });
    });
    if (!sim) await this.takeUucpLock(device, port);
    this.port = port;
    this.resetOutput();
    this.commandParser.reset();
    port.on('data', (chunk: Buffer) => this.received(chunk));
    port.on('error', (err) => this.log.warn('serial port error', { error: errorSummary(err) }));
    port.on('close', (err?: { disconnected?: boolean }) => {
      if (this.port !== port) return;
      this.port = undefined;
      this.resetOutput();
      if (err?.disconnected) this.emit('lost', new LineDisconnectedError(device, { cause: err }));
    });
  }

  /** The UUCP lock file we hold, removed on close. */
  private lockFile?: string;

  private uucpLockFile(device: string): string {
    // ttyS0 for /dev/ttyS0; pts_5 for /dev/pts/5 (a lock name has no slash)
    const name = device.startsWith('/dev/') ? device.slice(5).replace(/\//g, '_') : basename(device);
    return `${this.settings.lockDir}/LCK..${name}`;
  }

  /**
   * Write our own HDB-style UUCP lock (PID in 10 ASCII columns) so cu, minicom and getty
   * that honour LCK.. files keep off. Best effort: a missing or read-only lock dir is logged.
   */
  private async takeUucpLock(device: string, port: SerialPortStream): Promise<void> {
    const file = this.uucpLockFile(device);
    await unlink(file).catch(() => undefined); // absent or stale: checkUucpLock said so
    try {
      await writeFile(file, `${String(process.pid).padStart(10)}\n`, { flag: 'wx', mode: 0o644 });
      this.lockFile = file;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        await new Promise<void>((r) => port.close(() => r()));
        throw new LineLockedError(device, `UUCP lock ${file} appeared while opening`);
      }
      this.log.debug('no UUCP lock written', { file, error: errorSummary(err) });
    }
  }

  private async checkUucpLock(device: string): Promise<void> {
    const file = this.uucpLockFile(device);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch {
      return;
    }
    const pid = parseUucpLock(bytes);
    if (pid !== undefined && pid !== process.pid && alive(pid)) throw new LineLockedError(device, `UUCP lock ${file} held by PID ${pid}`);
    this.log.warn('stale UUCP lock ignored', { file, pid });
  }

  async close(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    this.resetOutput();
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    const lock = this.lockFile;
    this.lockFile = undefined;
    if (lock) await unlink(lock).catch(() => undefined);
  }

  setMode(mode: InputMode): void {
    if (mode === this.mode) return;
    this.mode = mode;
    this.commandParser.reset();
    this.dataParser.reset();
  }

  /**
   * Queue bytes to the modem. Past `maxWriteQueue` (flow control held off by CTS, a wedged
   * device) bytes are dropped and logged instead of growing memory. The queue is ours, not the
   * stream's: one chunk at a time goes to the device, so that discardOutput() can take back
   * everything not yet written (see there).
   */
  write(bytes: Uint8Array): void {
    if (!this.port) return;
    const queued = this.outQueued + this.inFlight;
    if (queued + bytes.length > (this.settings.maxWriteQueue ?? SERIAL_WRITE_LIMIT)) {
      if (!this.dropping) this.log.warn('serial output not draining: dropping output', { queued });
      this.dropping = true;
      return;
    }
    this.dropping = false;
    this.outQueue.push(Buffer.from(bytes));
    this.outQueued += bytes.length;
    this.pump();
  }

  private dropping = false;

  /** A closed port writes nothing more; whoever waits for a drain is let go. */
  private resetOutput(): void {
    this.outQueue = [];
    this.outQueued = 0;
    this.inFlight = 0;
    for (const w of this.drainWaiters.splice(0)) w();
  }

  private outQueue: Buffer[] = [];
  private outQueued = 0;
  /** Bytes handed to the device and not yet written (at most one chunk). */
  private inFlight = 0;
  private drainWaiters: Array<() => void> = [];

  private pump(): void {
    const port = this.port;
    if (this.inFlight > 0 || !port) return;
    if (this.outQueue.length === 0) {
      for (const w of this.drainWaiters.splice(0)) w();
      return;
    }
    // A small chunk: what is in the device when the carrier drops is all discardOutput() cannot take back.
    const all = this.outQueue.length === 1 ? this.outQueue[0]! : Buffer.concat(this.outQueue);
    const chunk = all.subarray(0, MAX_CHUNK);
    this.outQueue = all.length > MAX_CHUNK ? [all.subarray(MAX_CHUNK)] : [];
    this.outQueued -= chunk.length;
    this.inFlight = chunk.length;
    port.write(chunk, () => {
      if (this.port !== port) return; // closed meanwhile: resetOutput() did the rest
      this.inFlight = 0;
      this.pump();
    });
  }

  /**
   * The carrier is gone: the modem is in command mode, and whatever we still send it would be
   * read as a command line (a caller's echoed "ATDT..." would dial). Drop our queue and flush the
   * device (tcflush TCIOFLUSH also takes back what the kernel holds for CTS).
   */
  discardOutput(): Promise<void> {
    this.outQueue = [];
    this.outQueued = 0;
    return this.flush();
  }

  command(text: string): void {
    this.log.debug('modem command', { command: text });
    this.write(Buffer.from(`${text}\r`, 'latin1'));
  }

  /** DTR on or off; RTS kept on (set() resets every flag not passed). */
  setDtr(on: boolean): Promise<void> {
    const port = this.port;
    if (!port) return Promise.reject(new Error('port not open'));
    return new Promise((resolve, reject) => port.set({ dtr: on, rts: true }, (err) => (err ? reject(err) : resolve())));
  }

  signals(): Promise<PortStatus> {
    const port = this.port;
    if (!port) return Promise.reject(new Error('port not open'));
    return new Promise((resolve, reject) => port.get((err, status) => (err || !status ? reject(err ?? new Error('no status')) : resolve(status))));
  }

  flush(): Promise<void> {
    const port = this.port;
    if (!port) return Promise.resolve();
    this.commandParser.reset();
    return new Promise((resolve, reject) => port.flush((err) => (err ? reject(err) : resolve())));
  }

  /** Resolve when queued output has been handed to the device. */
  async drain(): Promise<void> {
    if (this.port?.isOpen && (this.inFlight > 0 || this.outQueue.length > 0)) await new Promise<void>((r) => this.drainWaiters.push(r));
    const port = this.port;
    // A port closing (a device gone) would never answer a drain.
    if (!port?.isOpen) return;
    await new Promise<void>((resolve, reject) => port.drain((err) => (err ? reject(err) : resolve())));
  }

  private received(chunk: Buffer): void {
    switch (this.mode) {
      case 'command':
        for (const ev of this.commandParser.feed(chunk)) this.emit('modem', ev satisfies ModemEvent);
        break;
      case 'quiet':
        // Line noise is discarded, the modem's NO CARRIER is not: the caller may be gone
        // before the call starts (a call started now would talk to the modem's command mode).
        for (const ev of this.dataParser.feed(chunk)) if (ev.type === 'NO_CARRIER') this.emit('modem', ev);
        if (this.mode === 'quiet') this.emit('activity');
        break;
      case 'data':
        // The result first: once the call has ended, `NO CARRIER` itself is not caller data.
        for (const ev of this.dataParser.feed(chunk)) if (ev.type === 'NO_CARRIER') this.emit('modem', ev);
        if (this.mode === 'data') this.emit('data', chunk);
        break;
    }
  }
}
