/**
 * A simulated Hayes modem and the telephone line behind it. src/serial/sim-commands.ts
 * interprets the commands; this file carries them out: the command line editor and echo,
 * ringing with caller ID between the first and second RING, answering, CONNECT and NO CARRIER,
 * outgoing calls over TCP (ATD, src/serial/sim-dial.ts), the `+++` escape, the control lines
 * (DTR/RTS in, DCD/DSR/CTS out), and a far-side API for tests and demos: `dial()` returns a
 * SimCaller that types, receives and hangs up.
 * Faults: `unplug()` (the device vanishes), `wedge()` (stops answering until DTR drops),
 * `ignoreDtr` (DTR drop does not hang up), `holdCts()`.
 *
 * Modems are kept by name in a SimModems registry that whoever builds lines owns (the daemon
 * has one per Gateway): src/serial/sim-binding.ts opens `sim://NAME` through it. All timing
 * runs on an injectable clock.
 */
import { realClock, type LineClock } from './clock.js';
import { callProgress, executeCommandLine, factorySettings, formatInfo, formatResult, MAX_COMMAND_LINE, type AtEffect, type AtSettings, type DialTarget, type ResultName } from './sim-commands.js';
import { OutgoingCall, resolveDialTarget, type DialFailure } from './sim-dial.js';
import type { DialPlan } from './sim-path.js';

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
  /** Where outgoing calls go: number -> TCP address (sim-dial.ts). Default none. */
  dialPlan?: DialPlan;
  /** false: the telephone line is dead, ATD reports NO DIALTONE. Default true. */
  dialTone?: boolean;
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

/** How much of what it received a SimCaller keeps (`received`, for tests and demos). */
const RECEIVED_KEPT = 64 * 1024;

/** The person (or script) on the far side of the telephone line. */
export class SimCaller {
  state: CallerState = 'ringing';
  private readonly receivers = new Set<(bytes: Buffer) => void>();
  private readonly connectListeners = new Set<() => void>();
  private readonly endListeners = new Set<() => void>();
  /** The last RECEIVED_KEPT bytes received (a call may carry any amount). */
  private kept: Buffer[] = [];
  private keptBytes = 0;
  /** Every byte received in data mode, counted. */
  receivedBytes = 0;
  rings = 0;

  constructor(private readonly modem: SimModem, readonly options: Required<Pick<DialOptions, 'number' | 'date' | 'time'>> & DialOptions) {}

  /** What was received in data mode, as latin1 text: the last RECEIVED_KEPT bytes of it. */
  get received(): string {
    const all = Buffer.concat(this.kept);
    return all.subarray(Math.max(0, all.length - RECEIVED_KEPT)).toString('latin1');
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

  /** Called once when the modem answered and the carrier is up. */
  onConnect(listener: () => void): () => void {
    this.connectListeners.add(listener);
    return () => this.connectListeners.delete(listener);
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

  /** @internal modem side: answered, carrier up. */
  connect(): void {
    this.state = 'connected';
    for (const l of this.connectListeners) l();
    this.connectListeners.clear();
  }

  /** @internal modem side */
  deliver(bytes: Buffer): void {
    this.receivedBytes += bytes.length;
    this.kept.push(bytes);
    this.keptBytes += bytes.length;
    while (this.keptBytes - this.kept[0]!.length >= RECEIVED_KEPT) this.keptBytes -= this.kept.shift()!.length;
    for (const l of this.receivers) l(bytes);
  }

  /** @internal modem side */
  end(): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.connectListeners.clear();
    for (const l of this.endListeners) l();
    this.endListeners.clear();
  }
}

/** Command lines kept in SimModem.commands for tests; older ones are dropped. */
const COMMAND_HISTORY = 1000;

type Mode = 'command' | 'online' | 'online-command';

export class SimModem {
  readonly name: string;
  readonly clock: LineClock;
  private readonly opts: Required<Omit<SimModemOptions, 'clock' | 'dialPlan' | 'dialTone'>>;
  private settings: AtSettings = factorySettings();
  private mode: Mode = 'command';
  private cmdLine = '';
  private cmdOverflow = false;
  private lastLine = '';
  private caller?: SimCaller;
  private outgoing?: OutgoingCall;
  /** ATA or ATD under way: any character from the DTE aborts it (V.250 §5.6.1). */
  private attempt = false;
  /** ATD that fails without a call: NO DIALTONE, an unobtainable number. */
  private dialTimer?: unknown;
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
  /** Where outgoing calls go: number -> TCP address (sim-dial.ts). */
  dialPlan: DialPlan;
  /** false: the telephone line is dead, ATD reports NO DIALTONE. */
  dialTone: boolean;

  /** Hold CTS off: the DTE's writes stall (a slow or stuck far end). */
  holdCts(): void {
    this.ctsHeld = true;
  }

  releaseCts(): void {
    this.ctsHeld = false;
    this.wakeWriters();
  }

  /** CTS as the DTE sees it: off while held, or while an outgoing call's far side lags behind. */
  get cts(): boolean {
    return !this.ctsHeld && !this.outgoing?.backedUp;
  }

  /** @internal resolves when the DTE may send. */
  clearToSend(): Promise<void> {
    return this.cts ? Promise.resolve() : new Promise((r) => this.ctsWaiters.push(r));
  }

  private wakeWriters(): void {
    if (this.cts) for (const w of this.ctsWaiters.splice(0)) w();
  }

  /** Print NO CARRIER when the caller hangs up (false: only DCD tells). */
  reportNoCarrier = true;
  /** Command lines the modem received, newest last (for tests; the last 1000). */
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
    this.dialPlan = options.dialPlan ?? new Map();
    this.dialTone = options.dialTone ?? true;
  }

  /** DCD as the DTE sees it (&C, V.250 §6.2.8). */
  get dcd(): boolean {
    return !this.settings.dcdFollowsCarrier || this.carrier;
  }

  get currentCaller(): SimCaller | undefined {
    return this.caller;
  }

  /** The call ATD placed, while it lasts. */
  get outgoingCall(): OutgoingCall | undefined {
    return this.outgoing;
  }

  private get carrier(): boolean {
    return this.caller?.state === 'connected' || this.outgoing?.state === 'connected';
  }

  // ---- far side -------------------------------------------------------------------

  /** Ring this modem. Rings start at once; caller ID follows the first RING if enabled. */
  dial(options: DialOptions = {}): SimCaller {
    if ((this.caller && this.caller.state !== 'ended') || this.outgoing || this.attempt) throw new Error(`sim modem ${this.name} is busy`);
    const caller = new SimCaller(this, { number: '5551234', date: '0321', time: '1405', ...options });
    this.caller = caller;
    this.ring();
    return caller;
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
    this.settings = factorySettings();
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
      // A character while answering or dialling aborts the attempt, and is discarded (V.250 §5.6.1).
      // CR and LF do not: a DTE that ends its ATA or ATD with CR LF must not abort it.
      if (this.attempt) {
        if (b !== 0x0d && b !== 0x0a) this.dropCall(true);
        continue;
      }
      const c = b & 0x7f;
      const s = this.settings.s; // a command line may have changed S3 or S5
      if (this.settings.echo) this.out(Buffer.of(b)); // V.250 §5.2.3
      if (c === s[3]) {
        const line = this.cmdLine.trim();
        const overflow = this.cmdOverflow;
        this.cmdLine = '';
        this.cmdOverflow = false;
        if (overflow) this.result('ERROR');
        else if (line) this.command(line);
      } else if (c === s[5] || c === 0x7f) {
        this.cmdLine = this.cmdLine.slice(0, -1); // V.250 §5.2.2
      } else if (c === 0x2f && /^A$/i.test(this.cmdLine)) {
        // A/ repeats the last command line, without S3 (V.250 §5.2.4).
        this.cmdLine = '';
        if (this.lastLine) this.command(this.lastLine);
      } else if (c >= 0x20) {
        if (this.cmdLine.length < MAX_COMMAND_LINE) this.cmdLine += String.fromCharCode(c);
        else this.cmdOverflow = true;
      }
    }
  }

  /** @internal DTR from set() (&D, V.250 §6.2.9). */
  setDtr(on: boolean): void {
    const was = this.dtr;
    this.dtr = on;
    if (was && !on) {
      this.wedged = false; // a DTR pulse resets a hung modem
      const mode = this.settings.dtrMode;
      if (this.ignoreDtr || mode === 0) return;
      if (this.mode !== 'command' || this.carrier || this.attempt) {
        if (mode === 1 && this.mode === 'online') {
          this.mode = 'online-command';
          this.result('OK');
        } else if (mode >= 2) {
          this.dtrHangups++;
          this.dropCall(true);
          if (mode === 3) this.settings = factorySettings();
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
    // An answer in progress (ATA) runs on: its handshake fails with NO CARRIER, as a real
    // modem's would, instead of leaving the DTE waiting for a result that never comes.
    this.stopRinging({ keepAnswer: true });
    this.caller = undefined;
    caller.end();
    if (wasConnected) {
      this.mode = 'command';
      if (this.reportNoCarrier) this.result('NO_CARRIER');
    }
  }

  private out(bytes: Buffer | string): void {
    if (!this.plugged || this.wedged || bytes.length === 0) return;
    this.outputListener?.(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  private result(result: ResultName, connectText?: string): void {
    this.out(formatResult(this.settings, result, connectText));
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
        if (caller.state === 'ringing') this.out(`\r\n${lines.join('\r\n')}\r\n`);
      }, Math.min(1500, this.opts.ringIntervalMs / 2));
    }
    const autoAnswer = this.settings.s[0]!; // S0 (V.250 §6.3.8)
    if (autoAnswer > 0 && caller.rings >= autoAnswer) return this.answer();
    this.ringTimer = this.clock.setTimeout(() => this.ring(), this.opts.ringIntervalMs);
  }

  private stopRinging(o: { keepAnswer?: boolean } = {}): void {
    for (const t of [this.ringTimer, this.cidTimer, ...(o.keepAnswer ? [] : [this.answerTimer])]) if (t !== undefined) this.clock.clearTimeout(t);
    this.ringTimer = this.cidTimer = undefined;
    if (!o.keepAnswer) this.answerTimer = undefined;
  }

  private connectText(): string | undefined {
    return this.settings.resultSet === 0 ? undefined : `${this.opts.connectSpeed}${this.opts.connectExtras}`;
  }

  /** ATA or S0: off hook, handshake, CONNECT; NO CARRIER when no caller is there by then. */
  private answer(): void {
    const caller = this.caller;
    this.stopRinging();
    this.attempt = true;
    this.answerTimer = this.clock.setTimeout(() => {
      this.answerTimer = undefined;
      this.attempt = false;
      if (!caller || caller.state !== 'ringing' || caller !== this.caller) return this.result('NO_CARRIER');
      caller.connect();
      this.mode = 'online';
      this.lastDteByteAt = this.clock.now();
      this.result('CONNECT', this.connectText());
    }, this.opts.connectDelayMs);
  }

  /** Hang up the telephone line. `report`: print NO CARRIER if a call or attempt was cut (DTR drop; ATH prints OK). */
  private dropCall(report: boolean): void {
    if (this.caller?.state === 'ringing' && !this.attempt) {
      // Not answered: the modem is on hook already and the telephone rings on (ATZ or ATH while
      // a line re-initialises must not hang up a caller it never answered).
      if (this.escapeTimer !== undefined) this.clock.clearTimeout(this.escapeTimer);
      this.escapeTimer = undefined;
      this.mode = 'command';
      return;
    }
    this.stopRinging();
    for (const t of [this.escapeTimer, this.dialTimer]) if (t !== undefined) this.clock.clearTimeout(t);
    this.escapeTimer = this.dialTimer = undefined;
    const { caller, outgoing } = this;
    const cut = this.carrier || this.attempt;
    this.caller = this.outgoing = undefined;
    this.mode = 'command';
    this.attempt = false;
    caller?.end();
    outgoing?.end();
    this.wakeWriters();
    if (report && cut) this.result('NO_CARRIER');
  }

  /** ATD: off hook, dial, wait S7 for the carrier (what each network condition gives: sim-dial.ts). */
  private dialOut(to: DialTarget): void {
    this.attempt = true;
    const s = this.settings.s;
    const fail = (result: DialFailure | 'NO_DIALTONE', afterMs: number) => {
      this.dialTimer = this.clock.setTimeout(() => {
        this.dialTimer = undefined;
        this.attempt = false;
        this.result(callProgress(this.settings, result));
      }, afterMs);
    };
    // A dead line, or a caller ringing in (off hook, the line is theirs): no dial tone within S6.
    if (!this.dialTone || this.caller) return fail('NO_DIALTONE', Math.max(1, s[6]!) * 1000);
    const target = resolveDialTarget(to, this.dialPlan);
    if (!target) return fail('NO_CARRIER', this.opts.connectDelayMs);
    const call: OutgoingCall = new OutgoingCall(target, { clock: this.clock, waitMs: Math.max(1, s[7]!) * 1000, handshakeMs: this.opts.connectDelayMs }, {
      connected: () => {
        if (call !== this.outgoing) return;
        this.attempt = false;
        this.mode = 'online';
        this.lastDteByteAt = this.clock.now();
        this.result('CONNECT', this.connectText());
      },
      data: (bytes) => {
        if (call === this.outgoing) this.fromCaller(bytes);
      },
      drained: () => this.wakeWriters(),
      ended: (result) => this.outgoingEnded(call, result),
    });
    this.outgoing = call;
  }

  /** The outgoing call failed, or its carrier was lost. */
  private outgoingEnded(call: OutgoingCall, result: DialFailure): void {
    if (call !== this.outgoing) return;
    const wasConnected = !this.attempt;
    this.outgoing = undefined;
    this.attempt = false;
    this.mode = 'command';
    if (this.escapeTimer !== undefined) this.clock.clearTimeout(this.escapeTimer);
    this.escapeTimer = undefined;
    this.wakeWriters();
    if (wasConnected && !this.reportNoCarrier) return;
    this.result(callProgress(this.settings, result));
  }

  /** Online data, watching for the `+++` escape: guard, three S2, guard (Hayes S2, S12). */
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
      this.lastDteByteAt = now;
    }
    // The escape characters are data too: they reach the far side.
    this.caller?.deliver(bytes);
    this.outgoing?.deliver(bytes);
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
    if (this.commands.length > COMMAND_HISTORY) this.commands.splice(0, this.commands.length - COMMAND_HISTORY);
    this.lastLine = line;
    const call = this.carrier ? 'connected' : this.caller?.state === 'ringing' ? 'ringing' : 'idle';
    const outcome = executeCommandLine(this.settings, line, { call, identity: `rasgate simulated modem ${this.name}` });
    this.settings = outcome.settings;
    for (const effect of outcome.effects) this.apply(effect);
    if (outcome.result) this.result(outcome.result);
  }

  private apply(effect: AtEffect): void {
    switch (effect.type) {
      case 'info':
        return this.out(formatInfo(this.settings, effect.text));
      case 'hangup':
      case 'reset':
        return this.dropCall(false);
      case 'answer':
        return this.answer();
      case 'online':
        this.mode = 'online';
        this.lastDteByteAt = this.clock.now();
        return this.result('CONNECT', this.connectText());
      case 'dial':
        return this.dialOut(effect.to);
    }
  }
}

/** Simulated modems one registry holds at most (names come from configuration). */
export const MAX_SIM_MODEMS = 1024;

/**
 * The simulated modems of one owner (a Gateway, a test), by name as in `sim://NAME`. Two
 * registries never share a modem, so two gateways in one process have separate lines.
 */
export class SimModems {
  private readonly modems = new Map<string, SimModem>();

  /** `defaults`: options of every modem this registry creates (e.g. the clock). */
  constructor(private readonly defaults: SimModemOptions = {}) {}

  /** The modem called `name`, created on first use with the defaults and `options`. */
  get(name: string, options: SimModemOptions = {}): SimModem {
    let m = this.modems.get(name);
    if (!m) {
      if (this.modems.size >= MAX_SIM_MODEMS) throw new RangeError(`at most ${MAX_SIM_MODEMS} simulated modems`);
      m = new SimModem(name, { ...this.defaults, ...options });
      this.modems.set(name, m);
    }
    return m;
  }

  find(name: string): SimModem | undefined {
    return this.modems.get(name);
  }

  /** Forget a modem (its next get() makes a new one). */
  delete(name: string): boolean {
    return this.modems.delete(name);
  }

  get size(): number {
    return this.modems.size;
  }
}
