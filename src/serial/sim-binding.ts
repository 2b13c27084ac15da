/**
 * serialport BindingInterface over one registry of simulated modems: `path` is `sim://NAME`
 * (src/serial/sim-path.ts), looked up in the SimModems it was made for. Behaves like the Linux
 * binding where it matters to rasgate: a second open of the same modem fails as a lock would,
 * open of a missing (unplugged) modem fails with ENOENT, reads in progress reject with
 * `canceled` on close and with a plain error on unplug (which SerialPortStream turns into a
 * DisconnectedError close), set() resets flags not passed, and input the program does not read
 * is dropped past a bound, as a UART overruns.
 */
import type { BindingInterface, BindingPortInterface, OpenOptions, PortInfo, PortStatus, SetOptions, UpdateOptions } from '@serialport/bindings-cpp';
import type { SimModem, SimModems } from './sim-modem.js';
import { SIM_PREFIX, parseSimPath } from './sim-path.js';

/** Bytes from the modem waiting for the program to read; more are dropped (overrun). */
export const SIM_READ_QUEUE_LIMIT = 1024 * 1024;

function errno(code: string, message: string): NodeJS.ErrnoException {
  const e = new Error(message) as NodeJS.ErrnoException;
  e.code = code;
  return e;
}

class SimPort implements BindingPortInterface {
  readonly openOptions: Required<OpenOptions>;
  isOpen = true;
  private queue: Buffer[] = [];
  private queued = 0;
  private pending?: { buffer: Buffer; offset: number; length: number; resolve: (r: { buffer: Buffer; bytesRead: number }) => void; reject: (e: Error) => void };

  constructor(private readonly modem: SimModem, options: Required<OpenOptions>) {
    this.openOptions = options;
    modem.attach(
      (bytes) => this.push(bytes),
      () => this.unplugged(),
    );
  }

  private push(bytes: Buffer): void {
    if (this.queued + bytes.length > SIM_READ_QUEUE_LIMIT) return;
    this.queue.push(Buffer.from(bytes));
    this.queued += bytes.length;
    this.serve();
  }

  private serving = false;

  /**
   * Complete the pending read from the event loop, as a real port's read completes (libuv I/O),
   * never in the same run of promise callbacks: a DTE and the modem answering each other (an
   * echo, prompts answered by ERROR in command mode) would otherwise starve every timer.
   */
  private serve(): void {
    if (this.serving || !this.pending || this.queue.length === 0) return;
    this.serving = true;
    setImmediate(() => {
      this.serving = false;
      this.complete();
    });
  }

  private complete(): void {
    const p = this.pending;
    if (!p || this.queue.length === 0) return;
    this.pending = undefined;
    let n = 0;
    while (n < p.length && this.queue.length) {
      const head = this.queue[0]!;
      const take = Math.min(head.length, p.length - n);
      head.copy(p.buffer, p.offset + n, 0, take);
      n += take;
      this.queued -= take;
      if (take === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(take);
    }
    p.resolve({ buffer: p.buffer, bytesRead: n });
  }

  /** The device vanished: like Linux, the fd stays open but every read/write fails with EIO. */
  private gone = false;

  private unplugged(): void {
    this.gone = true;
    const p = this.pending;
    this.pending = undefined;
    p?.reject(errno('EIO', 'Input/output error: device disconnected'));
  }

  private check(): void {
    if (!this.isOpen) throw errno('EBADF', 'Port is not open');
    if (this.gone) throw errno('EIO', 'Input/output error: device disconnected');
  }

  async close(): Promise<void> {
    if (!this.isOpen) throw errno('EBADF', 'Port is not open');
    this.isOpen = false;
    if (!this.gone) this.modem.detach();
    const p = this.pending;
    this.pending = undefined;
    if (p) p.reject(Object.assign(new Error('Canceled'), { canceled: true }));
  }

  async read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    this.check();
    return new Promise((resolve, reject) => {
      this.pending = { buffer, offset, length, resolve, reject };
      this.serve();
    });
  }

  async write(buffer: Buffer): Promise<void> {
    this.check();
    const flushes = this.flushes;
    await this.modem.clearToSend();
    this.check();
    // Flushed while CTS held it: gone, as tcflush(TCOFLUSH) drops what the kernel still holds.
    if (flushes !== this.flushes) return;
    this.modem.fromDte(Buffer.from(buffer));
  }

  /** How many times output was flushed (a write waiting for CTS across a flush is dropped). */
  private flushes = 0;

  async update(options: UpdateOptions): Promise<void> {
    this.check();
    if (!Number.isInteger(options.baudRate) || options.baudRate <= 0) throw new TypeError('"baudRate" must be a positive integer');
  }

  async set(options: SetOptions): Promise<void> {
    this.check();
    // Like the real bindings: every flag not passed goes back to its default (DTR on, RTS on).
    this.modem.rts = options.rts ?? true;
    this.modem.setDtr(options.dtr ?? true);
  }

  async get(): Promise<PortStatus> {
    this.check();
    return { cts: this.modem.cts, dsr: this.modem.plugged, dcd: this.modem.dcd };
  }

  async getBaudRate(): Promise<{ baudRate: number }> {
    this.check();
    return { baudRate: this.openOptions.baudRate };
  }

  async flush(): Promise<void> {
    this.check();
    this.queue = [];
    this.queued = 0;
    this.flushes++;
  }

  async drain(): Promise<void> {
    this.check();
  }
}

/** The binding for `sim://NAME` paths, finding modems in `modems`. */
export function simModemBinding(modems: SimModems): BindingInterface<SimPort> {
  return {
    async list(): Promise<PortInfo[]> {
      return [];
    },
    async open(options: OpenOptions): Promise<SimPort> {
      if (!options.path.startsWith(SIM_PREFIX)) throw new TypeError(`"path" must start with ${SIM_PREFIX}`);
      const modem = modems.find(parseSimPath(options.path).name);
      if (!modem || !modem.plugged) throw errno('ENOENT', `Error: No such file or directory, cannot open ${options.path}`);
      if (modem.isOpen) throw errno('EBUSY', `Error Resource temporarily unavailable Cannot lock port`);
      const full: Required<OpenOptions> = {
        dataBits: 8, lock: true, stopBits: 1, parity: 'none', rtscts: false, xon: false, xoff: false, xany: false, hupcl: true,
        ...options,
      } as Required<OpenOptions>;
      return new SimPort(modem, full);
    },
  };
}
