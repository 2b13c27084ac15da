/**
 * A simulated Hayes modem: the command interpreter (V.250 basic commands, S-registers,
 * `+++` escape with guard time), the control lines (DTR/RTS in, DCD/DSR/CTS out), ringing
 * with caller ID between the first and second RING, CONNECT and NO CARRIER, and a far-side
 * API for tests and demos: `dial()` returns a SimCaller that types, receives and hangs up.
 * Faults: `unplug()` (the device vanishes), `wedge()` (stops answering until DTR drops),
 * `ignoreDtr` (DTR drop does not hang up). src/serial/sim-binding.ts puts it behind
 * serialport's BindingInterface; all timing runs on an injectable clock.
 */
import type { Server } from 'node:net';
import type { Logger } from '../logging.js';
import { realClock, type LineClock } from './clock.js';
import { serveFarSide } from './sim-far-side.js';

export interface SimModemOptions {
  /** Default real time; tests pass xstate's SimulatedClock. */
  clock?: LineClock;
  /** Speed in CONNECT. Default 33600. */
  connectSpeed?: number;
  /** Text after the speed. Default '/ARQ/V34/LAPM/V42BIS'. */
  connectExtras?: string;
  /** RING cadence. Default 6000 ms (US: 2 s on, 4 s off). */
  ringIntervalMs?: number;
  /** Handshake time from ATA to CONNECT. Default 1500 ms. */
  connectDelayMs?: number;
  /** Rings before an unanswered caller gives up. Default 10. */
  maxRings?: number;
}

export interface DialOptions {
  /** NMBR; 'P' private, 'O' unavailable. Default '5551234'. */
  number?: string;
  name?: string;
  /** MMDD. Default '0321'. */
  date?: string;
  /** HHMM. Default '1405'. */
  time?: string;
}

type CallerState = 'ringing' | 'connected' | 'ended';

/** The person (or script) on the far side of the telephone line. */
export class SimCaller {
  state: CallerState = 'ringing';
  private readonly receivers = new Set<(bytes: Buffer) => void>();
  private readonly endListeners = new Set<() => void>();
  private chunks: Buffer[] = [];
  rings = 0;

  constructor(private readonly modem: SimModem, readonly options: Required<Pick<DialOptions, 'number' | 'date' | 'time'>> & DialOptions) {}

  /** Everything received in data mode so far, as latin1 text. */
  get received(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }

  /** Send keystrokes to the answering side (only once connected). */
  type(text: string | Uint8Array): void {
    if (this.state !== 'connected') return;
    this.modem.fromCaller(typeof text === 'string' ? Buffer.from(text, 'latin1') : Buffer.from(text));
  }

  onReceive(listener: (bytes: Buffer) => void): () => void {
    this.receivers.add(listener);
    return () => this.receivers.delete(listener);
  }

  onEnd(listener: () => void): () => void {
    this.endListeners.add(listener);
    return () => this.endListeners.delete(listener);
  }

  /** The caller puts the phone down (carrier drops). */
  hangup(): void {
    if (this.state === 'ended') return;
    this.modem.callerHungUp(this);
  }

  /** @internal modem side */
  deliver(bytes: Buffer): void {
    this.chunks.push(bytes);
    for (const l of this.receivers) l(bytes);
  }

  /** @internal modem side */
  end(): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    for (const l of this.endListeners) l();
    this.endListeners.clear();
  }
}

interface Settings {
  echo: boolean;
  verbose: boolean;
  quiet: boolean;
  /** &C: 0 DCD always on, 1 DCD follows carrier. */
  dcdFollows: boolean;
  /** &D: 0 ignore DTR, 1 to command mode, 2 hang up. */
  dtrMode: number;
  callerId: boolean;
  s: number[];
}

function factory(): Settings {
  const s = new Array<number>(40).fill(0);
  s[2] = 43; // escape character '+'
  s[12] = 50; // guard time, 1/50 s
  return { echo: true, verbose: true, quiet: false, dcdFollows: true, dtrMode: 2, callerId: false, s };
}

type Mode = 'command' | 'online' | 'online-command';

export class SimModem {
  readonly name: string;
  readonly clock: LineClock;
  private readonly opts: Required<Omit<SimModemOptions, 'clock'>>;
  private settings = factory();
  private mode: Mode = 'command';
  private cmdLine = '';
  private caller?: SimCaller;
  private ringTimer?: unknown;
  private cidTimer?: unknown;
  private answerTimer?: unknown;
  private escapeTimer?: unknown;
  private lastDteByteAt = -Infinity;
  private plusCount = 0;
  private plusStartedAt = 0;

  /** DTE-driven lines. */
  dtr = false;
  rts = false;
  /** Port open by a program (the binding). */
  isOpen = false;
  /** Faults. */
  plugged = true;
  wedged = false;
  ignoreDtr = false;
  /** Flow control held off: writes from the DTE wait until released (see releaseCts). */
  ctsHeld = false;
  private ctsWaiters: Array<() => void> = [];

  /** Hold CTS off: the DTE's writes stall (a slow or stuck far end). */
  holdCts(): void {
    this.ctsHeld = true;
  }

  releaseCts(): void {
    this.ctsHeld = false;
    for (const w of this.ctsWaiters.splice(0)) w();
  }

  /** @internal resolves when the DTE may send. */
  clearToSend(): Promise<void> {
    return this.ctsHeld ? new Promise((r) => this.ctsWaiters.push(r)) : Promise.resolve();
  }

  /** Print NO CARRIER when the caller hangs up (false: only DCD tells). */
  reportNoCarrier = true;
  /** Commands the modem received, newest last (for tests). */
  readonly commands: string[] = [];
  /** Count of hang-ups caused by DTR drops (for tests). */
  dtrHangups = 0;

  private outputListener?: (bytes: Buffer) => void;
  private unplugListener?: () => void;

  constructor(name: string, options: SimModemOptions = {}) {
    this.name = name;
    this.clock = options.clock ?? realClock;
    this.opts = {
      connectSpeed: options.connectSpeed ?? 33600,
      connectExtras: options.connectExtras ?? '/ARQ/V34/LAPM/V42BIS',
      ringIntervalMs: options.ringIntervalMs ?? 6000,
      connectDelayMs: options.connectDelayMs ?? 1500,
      maxRings: options.maxRings ?? 10,
    };
  }

  /** DCD as the DTE sees it. */
  get dcd(): boolean {
    return !this.settings.dcdFollows || this.caller?.state === 'connected';
  }

  get currentCaller(): SimCaller | undefined {
    return this.caller;
  }

  // ---- far side -------------------------------------------------------------------

  /** Ring this modem. Rings start at once; caller ID follows the first RING if enabled. */
  dial(options: DialOptions = {}): SimCaller {
    if (this.caller && this.caller.state !== 'ended') throw new Error(`sim modem ${this.name} is busy`);
    const caller = new SimCaller(this, { number: '5551234', date: '0321', time: '1405', ...options });
    this.caller = caller;
    this.ring();
    return caller;
  }

  private farSide?: Server;

  /** Let callers in other processes dial over TCP (see sim-far-side.ts). Once per modem. */
  listenFarSide(at: { host: string; port: number }, logger: Logger): void {
    this.farSide ??= serveFarSide(this, at, logger);
  }

  /** Stop the far-side listener, if any. */
  closeFarSide(): void {
    this.farSide?.close();
    this.farSide = undefined;
  }

  /** Pull the USB plug: the port errors, opens fail with ENOENT until replug(). */
  unplug(): void {
    this.plugged = false;
    this.dropCall(false);
    this.isOpen = false;
    this.unplugListener?.();
  }

  replug(): void {
    this.plugged = true;
    this.settings = factory();
    this.mode = 'command';
  }

  /** The modem stops answering (firmware hang) until DTR drops or it is power-cycled. */
  wedge(): void {
    this.wedged = true;
  }

  // ---- binding side ------------------------------------------------------------

  /** @internal the binding attaches on open. */
  attach(output: (bytes: Buffer) => void, unplugged: () => void): void {
    this.isOpen = true;
    this.outputListener = output;
    this.unplugListener = unplugged;
    this.setDtr(true);
    this.rts = true;
  }

  /** @internal the binding detaches on close (hupcl drops DTR). */
  detach(): void {
    this.outputListener = undefined;
    this.unplugListener = undefined;
    this.isOpen = false;
    this.setDtr(false);
  }

  /** @internal bytes from the DTE (the port's write). */
  fromDte(bytes: Buffer): void {
    if (this.wedged || !this.plugged) return;
    if (this.mode === 'online') return this.onlineBytes(bytes);
    for (const b of bytes) {
      const c = String.fromCharCode(b & 0x7f);
      if (this.settings.echo) this.out(Buffer.of(b));
      if (c === '\r') {
        const line = this.cmdLine.trim();
        this.cmdLine = '';
        if (line) this.command(line);
      } else if (c === '\b' || c === '\x7f') this.cmdLine = this.cmdLine.slice(0, -1);
      else if (c !== '\n' && this.cmdLine.length < 256) this.cmdLine += c;
    }
  }

  /** @internal DTR from set(). */
  setDtr(on: boolean): void {
    const was = this.dtr;
    this.dtr = on;
    if (was && !on) {
      this.wedged = false; // like &D3: a DTR pulse resets a hung modem
      if (this.ignoreDtr || this.settings.dtrMode === 0) return;
      if (this.mode !== 'command' || this.caller?.state === 'connected') {
        if (this.settings.dtrMode === 1) {
          this.mode = 'online-command';
          this.result('OK');
        } else {
          this.dtrHangups++;
          this.dropCall(true);
        }
      }
    }
  }

  // ---- internals -----------------------------------------------------------------

  /** @internal from SimCaller.type */
  fromCaller(bytes: Buffer): void {
    if (this.mode === 'online' && !this.wedged) this.out(bytes);
  }

  /** @internal from SimCaller.hangup */
  callerHungUp(caller: SimCaller): void {
    if (caller !== this.caller) return caller.end();
    const wasConnected = caller.state === 'connected';
    this.stopRinging();
    this.caller = undefined;
    caller.end();
    if (wasConnected) {
      this.mode = 'command';
      if (this.reportNoCarrier) this.result('NO CARRIER');
    }
  }

  private out(bytes: Buffer): void {
    if (!this.plugged || this.wedged) return;
    this.outputListener?.(bytes);
  }

  private result(text: string, numeric?: string): void {
    if (this.settings.quiet) return;
    const code = numeric ?? { OK: '0', RING: '2', 'NO CARRIER': '3', ERROR: '4', 'NO DIALTONE': '6' }[text] ?? '1';
    this.out(Buffer.from(this.settings.verbose ? `\r\n${text}\r\n` : `${code}\r`, 'latin1'));
  }

  private ring(): void {
    const caller = this.caller;
    if (!caller || caller.state !== 'ringing') return;
    caller.rings++;
    if (caller.rings > this.opts.maxRings) {
      this.stopRinging();
      this.caller = undefined;
      caller.end();
      return;
    }
    this.result('RING');
    if (caller.rings === 1 && this.settings.callerId) {
      this.cidTimer = this.clock.setTimeout(() => {
        const o = caller.options;
        const lines = [`DATE = ${o.date}`, `TIME = ${o.time}`, `NMBR = ${o.number}`, ...(o.name ? [`NAME = ${o.name}`] : [])];
        if (caller.state === 'ringing') this.out(Buffer.from(`\r\n${lines.join('\r\n')}\r\n`, 'latin1'));
      }, Math.min(1500, this.opts.ringIntervalMs / 2));
    }
    const autoAnswer = this.settings.s[0]!;
    if (autoAnswer > 0 && caller.rings >= autoAnswer) return this.answer();
    this.ringTimer = this.clock.setTimeout(() => this.ring(), this.opts.ringIntervalMs);
  }

  private stopRinging(): void {
    for (const t of [this.ringTimer, this.cidTimer, this.answerTimer]) if (t !== undefined) this.clock.clearTimeout(t);
    this.ringTimer = this.cidTimer = this.answerTimer = undefined;
  }

  private answer(): void {
    const caller = this.caller;
    this.stopRinging();
    this.answerTimer = this.clock.setTimeout(() => {
      this.answerTimer = undefined;
      if (!caller || caller.state !== 'ringing' || caller !== this.caller) return this.result('NO CARRIER');
      caller.state = 'connected';
      this.mode = 'online';
      this.lastDteByteAt = this.clock.now();
      this.result(`CONNECT ${this.opts.connectSpeed}${this.opts.connectExtras}`, '1');
    }, this.opts.connectDelayMs);
  }

  /** Hang up the telephone line. `report`: print NO CARRIER (DTR drop, ATH prints OK instead). */
  private dropCall(report: boolean): void {
    this.stopRinging();
    if (this.escapeTimer !== undefined) this.clock.clearTimeout(this.escapeTimer);
    const caller = this.caller;
    const wasOnline = caller?.state === 'connected';
    this.caller = undefined;
    this.mode = 'command';
    caller?.end();
    if (report && wasOnline) this.result('NO CARRIER');
  }

  /** Online data, watching for the `+++` escape: guard, three '+', guard (V.250 §6.3 / S2, S12). */
  private onlineBytes(bytes: Buffer): void {
    const now = this.clock.now();
    const guard = this.settings.s[12]! * 20;
    const esc = this.settings.s[2]!;
    for (const b of bytes) {
      if (b === esc && (this.plusCount > 0 ? now - this.plusStartedAt <= guard : now - this.lastDteByteAt >= guard) && this.plusCount < 3) {
        if (this.plusCount === 0) this.plusStartedAt = now;
        this.plusCount++;
      } else {
        this.plusCount = 0;
        if (this.escapeTimer !== undefined) this.clock.clearTimeout(this.escapeTimer);
        this.escapeTimer = undefined;
      }
      this.caller?.deliver(Buffer.of(b));
      this.lastDteByteAt = now;
    }
    if (this.plusCount === 3) {
      if (this.escapeTimer !== undefined) this.clock.clearTimeout(this.escapeTimer);
      this.escapeTimer = this.clock.setTimeout(() => {
        this.escapeTimer = undefined;
        this.plusCount = 0;
        if (this.mode !== 'online') return;
        this.mode = 'online-command';
        this.result('OK');
      }, guard);
    }
  }

  private command(line: string): void {
    this.commands.push(line);
    const up = line.toUpperCase();
    if (up === 'A/') return this.result('OK');
    if (!up.startsWith('AT')) return this.result('ERROR');
    let rest = up.slice(2).replace(/\s+/g, '');
    let ok = true;
    let deferResult = false;
    const num = () => {
      const m = /^\d*/.exec(rest)![0];
      rest = rest.slice(m.length);
      return m === '' ? 0 : Number(m);
    };
    while (rest.length && ok) {
      const c = rest[0]!;
      rest = rest.slice(1);
      switch (c) {
        case 'Z':
          num();
          this.dropCall(false);
          this.settings = factory();
          break;
        case 'E': this.settings.echo = num() === 1; break;
        case 'V': this.settings.verbose = num() === 1; break;
        case 'Q': this.settings.quiet = num() === 1; break;
        case 'L': case 'M': case 'X': num(); break;
        case 'I': num(); this.out(Buffer.from(`\r\nrasgate simulated modem ${this.name}\r\n`)); break;
        case 'H':
          num();
          this.dropCall(false);
          break;
        case 'O':
          num();
          if (this.caller?.state === 'connected') {
            this.mode = 'online';
            this.result(`CONNECT ${this.opts.connectSpeed}`, '1');
            return;
          }
          ok = false;
          break;
        case 'A':
          if (this.caller?.state === 'ringing') {
            this.answer();
          } else {
            this.answerTimer = this.clock.setTimeout(() => this.result('NO CARRIER'), this.opts.connectDelayMs);
          }
          deferResult = true;
          rest = '';
          break;
        case 'D':
          rest = '';
          this.result('NO DIALTONE');
          deferResult = true;
          break;
        case 'S': {
          const reg = num();
          if (rest[0] === '=') {
            rest = rest.slice(1);
            const v = num();
            if (reg < this.settings.s.length) this.settings.s[reg] = v & 0xff;
            else ok = false;
          } else if (rest[0] === '?') {
            rest = rest.slice(1);
            this.out(Buffer.from(`\r\n${String(this.settings.s[reg] ?? 0).padStart(3, '0')}\r\n`));
          } else ok = false;
          break;
        }
        case '&': {
          const k = rest[0];
          rest = rest.slice(1);
          const v = num();
          if (k === 'C') this.settings.dcdFollows = v === 1;
          else if (k === 'D') this.settings.dtrMode = v;
          else if (k === 'F') this.settings = factory();
          else if (!k || !'KWVQS'.includes(k)) ok = false;
          break;
        }
        case '+':
        case '#': {
          const m = /^(VCID|CID)=(\d)/.exec(rest);
          if (!m) { ok = false; break; }
          rest = rest.slice(m[0].length);
          this.settings.callerId = m[2] !== '0';
          break;
        }
        default:
          ok = false;
      }
    }
    if (!deferResult) this.result(ok ? 'OK' : 'ERROR');
  }
}

const registry = new Map<string, SimModem>();

/** The simulated modem called `name` (as in `device: sim://NAME`), created on first use. */
export function simModem(name: string, options?: SimModemOptions): SimModem {
  let m = registry.get(name);
  if (!m) {
    m = new SimModem(name, options);
    registry.set(name, m);
  }
  return m;
}

/** Forget a simulated modem (tests). */
export function removeSimModem(name: string): void {
  registry.delete(name);
}

export function findSimModem(name: string): SimModem | undefined {
  return registry.get(name);
}
