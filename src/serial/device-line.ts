/**
 * A modem on a serial device, as a Line: machines/line.ts orchestrates, this file supplies
 * the real work (ModemPort I/O, DTR, DCD, calls) and maps the machine to LineStatus.
 *
 * Config shape (the gateway maps YAML to DeviceLineConfig; see also src/serial/index.ts):
 *
 *   lines:
 *     - id: modem0
 *       device: /dev/serial/by-id/usb-USRobotics_56K-if00   # symlinks resolved, logged
 *       baudRate: 115200          # default 115200
 *       dataBits: 8               # 5|6|7|8, default 8
 *       parity: none              # none|even|odd|mark|space, default none
 *       stopBits: 1               # 1|1.5|2, default 1
 *       rtscts: true              # default true
 *       modem:                    # every key optional, defaults below (ModemSettings)
 *         init: [ATZ, ATE0V1Q0&C1&D2S0=0]
 *         callerId: AT+VCID=1     # sent after init; omit to leave caller ID off
 *         answerOnRing: 2
 *         allow: ['555*']         # caller numbers; * and ? wildcards, or /regex/
 *         deny: [P, O]            # P private, O unavailable
 *     - id: rehearsal
 *       device: sim://demo        # the simulated modem called "demo" (src/serial/sim-modem.ts);
 *                                 # same settings, no hardware: rehearse a configuration, demos
 */
import { EventEmitter } from 'node:events';
import { createActor, fromCallback, fromPromise, type InspectionEvent, type SnapshotFrom } from 'xstate';
import { lineMachine, type LineActor, type LineEvent, type LineModemEvent, type LineSettings } from '../../machines/line.js';
import type { Logger } from '../logging.js';
import { errorSummary } from '../errors.js';
import { BasicCallChannel } from './call-channel.js';
import { realClock, type LineClock } from './clock.js';
import { ModemPort, type SerialSettings } from './modem-port.js';
import { openAdvice } from './open-advice.js';
import { LogThrottle } from '../observe/throttle.js';
import type { CallerId, Line, LineState, LineStatus } from './types.js';

/** Modem behaviour of a device line. Every key is optional. */
export interface ModemSettings {
  /** Init chat, each command must answer OK. Default ['ATZ', 'ATE0V1Q0&C1&D2S0=0']. */
  init?: string[];
  /** Command enabling caller ID, appended to the init chat, e.g. 'AT+VCID=1' or 'AT#CID=1'. Default none. */
  callerId?: string;
  /** Answer on this RING. Default 1; use >= 2 with caller ID (it arrives after the first RING). */
  answerOnRing?: number;
  /** Only these caller numbers are answered (`*`, `?` wildcards or `/regex/`). Default: everyone. */
  allow?: string[];
  /** These caller numbers are never answered; checked first. Default none. */
  deny?: string[];
  /** Seconds from ATA to CONNECT before giving up. Default 80 (mgetty). */
  answerTimeoutSeconds?: number;
  /** Discard input after CONNECT until it was quiet this long. Default 300 ms (mgetty). */
  quietMs?: number;
  /** Send `AT` when idle this often; 0 = never. Default 60 s. */
  healthCheckSeconds?: number;
  /** Wait for each chat answer. Default 5000 ms. */
  chatTimeoutMs?: number;
  /** A ringing call is over without a RING for this long. Default 8000 ms. */
  ringTimeoutMs?: number;
  /** Poll DCD during a call this often. Default 1000 ms. */
  dcdPollMs?: number;
  /** DTR low time for hang-up, at least 500. Default 700 ms. */
  dtrDropMs?: number;
  /** +++ guard time. Default 1100 ms (S12=50 is 1 s). */
  guardMs?: number;
  /** Wait after open before flushing. Default 200 ms. */
  settleMs?: number;
  /** Failed init chats before the device is reopened. Default 3. */
  maxInitFailures?: number;
  /** First reopen delay, doubled per attempt. Default 1000 ms. */
  reopenBaseMs?: number;
  /** Longest reopen delay. Default 30000 ms. */
  reopenMaxMs?: number;
}

export interface DeviceLineOptions extends SerialSettings {
  id: string;
  modem?: ModemSettings;
  logger: Logger;
  /** Default real time; tests pass a SimulatedClock (also used by the machine). */
  clock?: LineClock;
  /** Receives the line machine's inspection events (observe/ bridges them to logs or the inspector). */
  inspect?: (event: InspectionEvent) => void;
}

export function lineSettings(m: ModemSettings = {}): LineSettings {
  return {
    initChat: [...(m.init ?? ['ATZ', 'ATE0V1Q0&C1&D2S0=0']), ...(m.callerId ? [m.callerId] : [])],
    chatTimeoutMs: m.chatTimeoutMs ?? 5000,
    answerOnRing: Math.max(1, m.answerOnRing ?? 1),
    ringTimeoutMs: m.ringTimeoutMs ?? 8000,
    answerTimeoutMs: (m.answerTimeoutSeconds ?? 80) * 1000,
    quietMs: m.quietMs ?? 300,
    healthIntervalMs: (m.healthCheckSeconds ?? 60) * 1000,
    dcdPollMs: m.dcdPollMs ?? 1000,
    dtrDropMs: Math.max(500, m.dtrDropMs ?? 700),
    guardMs: m.guardMs ?? 1100,
    settleMs: m.settleMs ?? 200,
    maxInitFailures: m.maxInitFailures ?? 3,
    backoffBaseMs: m.reopenBaseMs ?? 1000,
    backoffMaxMs: m.reopenMaxMs ?? 30_000,
  };
}

function patternMatches(pattern: string, value: string): boolean {
  if (pattern.length > 2 && pattern.startsWith('/') && pattern.endsWith('/')) return new RegExp(pattern.slice(1, -1)).test(value);
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(value);
}

/** mgetty-like decision: deny wins; with an allow list, an unknown number is not answered. */
export function callerAllowed(callerId: CallerId, allow: string[] = [], deny: string[] = []): boolean {
  const n = callerId.number;
  if (n !== undefined && deny.some((p) => patternMatches(p, n))) return false;
  if (allow.length === 0) return true;
  return n !== undefined && allow.some((p) => patternMatches(p, n));
}

const STATE_OF: Array<[string, LineState]> = [
  ['closed', 'closed'],
  ['failed', 'failed'],
  ['opening', 'opening'],
  ['reopening', 'reopening'],
  ['stopping', 'closed'],
  ['open.flushing', 'initialising'],
  ['open.initialising', 'initialising'],
  ['open.idle', 'idle'],
  ['open.ringing', 'ringing'],
  ['open.answering', 'answering'],
  ['open.connected', 'connected'],
  ['open.hangingUp', 'hanging-up'],
];

type Snapshot = SnapshotFrom<typeof lineMachine>;

export class DeviceLine extends EventEmitter implements Line {
  readonly id: string;
  private readonly port: ModemPort;
  private readonly actor: LineActor;
  private readonly log: Logger;
  private call?: BasicCallChannel;
  private callCount = 0;
  private state: LineState = 'closed';
  private lastOpenError?: unknown;
  /** Failed opens since the device was last open. */
  private failedOpens = 0;
  /** The same failure, retried with backoff, is logged again at most every ten minutes. */
  private readonly openFailures: LogThrottle;

  constructor(private readonly options: DeviceLineOptions) {
    super();
    this.id = options.id;
    this.log = options.logger.child({ line: options.id, machine: 'line' });
    this.port = new ModemPort(options, this.log);
    const clock = options.clock ?? realClock;
    this.openFailures = new LogThrottle(this.log, 10 * 60_000, () => clock.now());
    const port = this.port;
    const modem = options.modem ?? {};
    const machine = lineMachine.provide({
      actors: {
        openDevice: fromPromise(async () => {
          await port.close();
          try {
            await port.open();
          } catch (err) {
            this.openFailed(err);
            throw err;
          }
          this.log.info('device open', { device: port.device, ...(this.failedOpens > 0 ? { afterFailedAttempts: this.failedOpens } : {}) });
          this.failedOpens = 0;
          this.lastOpenError = undefined;
        }),
        closeDevice: fromPromise(() => port.close()),
        flushDevice: fromPromise(() => port.flush()),
        drainDevice: fromPromise(() => port.drain()),
        setDtr: fromPromise(({ input }: { input: { on: boolean } }) => port.setDtr(input.on)),
        readSignals: fromPromise(async () => ({ dcd: (await port.signals()).dcd })),
        portEvents: fromCallback<LineEvent>(({ sendBack }) => {
          const onModem = (event: LineModemEvent) => {
            this.log.debug('modem said', { result: event.type, ...(event.type === 'CALLER_ID' ? { field: event.field } : {}) });
            sendBack({ type: 'MODEM', event });
          };
          const onActivity = () => sendBack({ type: 'ACTIVITY' });
          const onLost = (error: Error) => sendBack({ type: 'DEVICE_LOST', error: error.message });
          const onData = (bytes: Buffer) => this.call?.deliver(bytes);
          port.on('modem', onModem);
          port.on('activity', onActivity);
          port.on('lost', onLost);
          port.on('data', onData);
          return () => {
            port.off('modem', onModem);
            port.off('activity', onActivity);
            port.off('lost', onLost);
            port.off('data', onData);
          };
        }),
      },
      actions: {
        sendCommand: (_, params) => port.command(params.text),
        sendEscape: () => port.write(Buffer.from('+++')),
        setInputMode: (_, params) => port.setMode(params.mode),
        startCall: ({ context }) => this.startCall(context.callerId, context.connectSpeed),
        endCall: (_, params) => this.endCall(params.reason),
        log: ({ context }, params) => this.log.log(params.level, params.msg, context.lastError ? { lastError: context.lastError } : {}),
      },
      guards: {
        callerAllowed: ({ context }) => {
          const ok = callerAllowed(context.callerId, modem.allow, modem.deny);
          this.log.info('caller ID decision', { callerNumber: context.callerId.number ?? 'unknown', answer: ok });
          return ok;
        },
        // A lock, a missing device or a permission can be put right while we wait (a getty
        // stopped, an adapter plugged in, a udev rule): only a device that can never work fails.
        fatalOpenError: ({ event }) => openAdvice((event as { error?: unknown }).error, this.options.path).hopeless,
      },
    });
    this.actor = createActor(machine, {
      input: { settings: lineSettings(modem) },
      clock,
      // Transitions are logged by whoever observes the machine (the gateway's transition log).
      ...(options.inspect ? { inspect: options.inspect } : {}),
    });
    this.actor.subscribe({
      next: (s) => this.onSnapshot(s),
      error: (err) => this.log.error('line machine failed', { error: errorSummary(err) }),
    });
    this.actor.start();
  }

  status(): LineStatus {
    const snap = this.actor.getSnapshot();
    const s: LineStatus = { id: this.id, state: this.state, activeCalls: this.call && !this.call.ended ? 1 : 0 };
    if (snap.context.lastError) s.lastError = snap.context.lastError;
    return s;
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const { state } = this;
        if (state === 'idle' || state === 'reopening') {
          if (state === 'reopening') this.log.warn('device not available yet: retrying in the background', { lastError: this.status().lastError });
          this.off('state', check);
          resolve();
        } else if (state === 'failed') {
          this.off('state', check);
          // the typed error (LineLockedError: code LINE_LOCKED, LineOpenError) for the caller to branch on
          reject(this.lastOpenError instanceof Error ? this.lastOpenError : new Error(this.status().lastError ?? 'line failed'));
        }
      };
      this.on('state', check);
      this.actor.send({ type: 'RESUME' }); // start() after pause() answers again
      this.actor.send({ type: 'START' });
      check();
    });
  }

  pause(): void {
    this.actor.send({ type: 'PAUSE' });
  }

  /** Answer calls again after pause(). */
  resume(): void {
    this.actor.send({ type: 'RESUME' });
  }

  /** Hang up any call, release the device; final (make a new line to start again). */
  async stop(): Promise<void> {
    const snap = this.actor.getSnapshot();
    if (snap.status === 'active' && !snap.matches('closed') && !snap.matches('failed')) {
      await new Promise<void>((resolve) => {
        const sub = this.actor.subscribe((s) => {
          if (s.matches('closed')) {
            sub.unsubscribe();
            resolve();
          }
        });
        this.actor.send({ type: 'STOP' });
      });
    }
    this.actor.stop();
    await this.port.close();
  }

  private onSnapshot(s: Snapshot): void {
    const state = STATE_OF.find(([path]) => s.matches(path as never))?.[1] ?? this.state;
    if (state !== this.state) {
      this.state = state;
      this.emit('state', this.status());
    }
  }

  /** One failed open: the cause and the fix, said once per kind of failure and then every ten minutes. */
  private openFailed(err: unknown): void {
    this.lastOpenError = err;
    this.failedOpens++;
    const advice = openAdvice(err, this.options.path);
    this.openFailures.note('error', advice.cause, advice.hopeless ? 'cannot open the device: the line is out of service' : 'cannot open the device: retrying with backoff', {
      device: this.options.path,
      cause: advice.cause,
      fix: advice.fix,
      error: errorSummary(err).message,
      failedAttempts: this.failedOpens,
    });
  }

  private startCall(callerId: CallerId, connectSpeed?: number): void {
    const callId = `${this.id}-${++this.callCount}`;
    const channel: BasicCallChannel = new BasicCallChannel({
      lineId: this.id,
      callId,
      deviceName: this.port.device,
      ...(Object.keys(callerId).length ? { callerId: { ...callerId } } : {}),
      ...(connectSpeed !== undefined ? { connectSpeed } : {}),
      send: (bytes) => this.port.write(bytes),
      hangup: () => this.hangupCall(channel),
    });
    this.call = channel;
    this.log.info('call connected', { call: callId, connectSpeed, callerNumber: callerId.number });
    this.emit('call', channel);
  }

  private hangupCall(channel: BasicCallChannel): Promise<void> {
    return new Promise((resolve) => {
      const snap = this.actor.getSnapshot();
      if (this.call !== channel || !snap.matches({ open: 'connected' })) {
        resolve();
        return;
      }
      const sub = this.actor.subscribe((s) => {
        if (!s.matches({ open: 'connected' }) && !s.matches({ open: 'hangingUp' })) {
          sub.unsubscribe();
          resolve();
        }
      });
      this.actor.send({ type: 'HANGUP' });
    });
  }

  private endCall(reason: 'carrier-lost' | 'hangup' | 'device-lost' | 'shutdown'): void {
    const call = this.call;
    if (!call) return;
    this.call = undefined;
    if (!call.ended) this.log.info('call ended', { call: call.callId, reason });
    call.finish(reason);
  }
}
