/**
 * A modem on a serial device, as a Line: machines/line.ts orchestrates, this file supplies
 * the real work (ModemPort I/O, DTR, DCD, calls) and maps the machine to LineStatus. Its
 * options are the device line's config (src/serial/options.ts: every key, default and doc).
 */
import { EventEmitter } from 'node:events';
import { createActor, fromCallback, fromPromise, type InspectionEvent, type Observer, type SnapshotFrom } from 'xstate';
import { LINE_TAGS, lineMachine, modemEvent, type CallbackRequest, type CallbackResult, type LineActor, type LineCallback, type LineEvent, type LineSettings, type ModemResult } from '../../machines/line.js';
import type { Logger } from '../logging.js';
import { errorSummary } from '../errors.js';
import { BasicCallChannel } from './call-channel.js';
import { realClock, type LineClock } from './clock.js';
import { ModemPort, type SerialSettings } from './modem-port.js';
import { openAdvice } from './open-advice.js';
import type { DeviceLineConfig, ModemSettings } from './options.js';
import { LogThrottle } from '../observe/throttle.js';
import { patternMatches } from '../options/patterns.js';
import type { CallerId, CallScreen, Line, LineState, LineStatus } from './types.js';

export interface DeviceLineDeps {
  logger: Logger;
  /** Default real time; tests pass a SimulatedClock (also used by the machine). */
  clock?: LineClock;
  /** Receives the line machine's inspection events (observe/ bridges them to logs or the inspector). */
  inspect?: Observer<InspectionEvent>;
  /** Serial port tuning and test bindings. */
  serial?: Pick<SerialSettings, 'maxWriteQueue' | 'binding' | 'simModems'>;
  /** Asked before a ringing caller is answered (after allow/deny): a refused caller ID is let ring. */
  screen?: CallScreen;
}

/** The machine's timings, in its own units (milliseconds), from the modem settings. */
export function lineSettings(m: ModemSettings): LineSettings {
  return {
    initChat: [...m.init, ...(m.callerId ? [m.callerId] : [])],
    chatTimeoutMs: m.chatTimeoutMs,
    answerOnRing: m.answerOnRing,
    ringTimeoutMs: m.ringTimeoutMs,
    answerTimeoutMs: m.answerTimeoutSeconds * 1000,
    quietMs: m.quietMs,
    healthIntervalMs: m.healthCheckSeconds * 1000,
    dcdPollMs: m.dcdPollMs,
    dtrDropMs: m.dtrDropMs,
    guardMs: m.guardMs,
    settleMs: m.settleMs,
    maxInitFailures: m.maxInitFailures,
    initRetryMs: m.initRetryMs,
    initRetryMaxMs: m.initRetryMaxMs,
    backoffBaseMs: m.reopenBaseMs,
    backoffMaxMs: m.reopenMaxMs,
  };
}

/** mgetty-like decision: deny wins; with an allow list, an unknown number is not answered. */
export function callerAllowed(callerId: CallerId, allow: readonly string[] = [], deny: readonly string[] = []): boolean {
  const n = callerId.number;
  if (n !== undefined && deny.some((p) => patternMatches(p, n))) return false;
  if (allow.length === 0) return true;
  return n !== undefined && allow.some((p) => patternMatches(p, n));
}


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
  /** The call waiting for its callback, and how to tell it the result. Nothing is written to it meanwhile. */
  private pendingCallback?: { channel: BasicCallChannel; settle(result: CallbackResult): void };

  constructor(private readonly config: DeviceLineConfig, deps: DeviceLineDeps) {
    super();
    this.id = config.id;
    this.log = deps.logger.child({ line: config.id, area: 'line' });
    this.port = new ModemPort({ path: config.device, baudRate: config.baudRate, dataBits: config.dataBits, parity: config.parity, stopBits: config.stopBits, rtscts: config.rtscts, lockDir: config.lockDir, ...deps.serial }, this.log);
    const clock = deps.clock ?? realClock;
    this.openFailures = new LogThrottle(this.log, 10 * 60_000, () => clock.now());
    const port = this.port;
    const modem = config.modem;
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
          const onModem = (result: ModemResult) => {
            this.log.debug('modem said', { result: result.type, ...(result.type === 'CALLER_ID' ? { field: result.field } : {}) });
            sendBack(modemEvent(result));
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
        resumeCall: ({ context }) => this.callbackOver(context.callback, true),
        callbackFailed: ({ context }) => this.callbackOver(context.callback, false),
        callbackDialling: ({ context }) => {
          const cb = context.callback;
          if (cb) this.log.info('dialling the callback', { call: this.call?.callId, dial: cb.request.dial, attempt: cb.attempts, of: cb.request.attempts });
        },
        log: ({ context }, params) => {
          const cb = context.callback;
          const meta = { ...(context.lastError ? { lastError: context.lastError } : {}), ...(cb ? { call: this.call?.callId, attempts: cb.attempts, lastFailure: cb.lastFailure } : {}) };
          this.log.log(params.level, params.msg, meta);
        },
      },
      guards: {
        callerAllowed: ({ context }) => {
          const listed = callerAllowed(context.callerId, modem.allow, modem.deny);
          const screened = listed ? deps.screen?.(config.id, { kind: 'modem', ...(context.callerId.number ? { number: context.callerId.number } : {}) }) : undefined;
          const ok = listed && (screened?.answer ?? true);
          this.log.log(ok ? 'debug' : 'info', 'caller ID decision', { callerNumber: context.callerId.number ?? 'unknown', answer: ok, ...(screened && !screened.answer ? { why: 'penalised' } : {}) });
          return ok;
        },
        // A lock, a missing device or a permission can be put right while we wait (a getty
        // stopped, an adapter plugged in, a udev rule): only a device that can never work fails.
        fatalOpenError: ({ event }) => openAdvice((event as { error?: unknown }).error, this.config.device).hopeless,
      },
    });
    this.actor = createActor(machine, {
      input: { settings: lineSettings(modem) },
      clock,
      // Transitions are logged by whoever observes the machine (the gateway's transition log).
      ...(deps.inspect ? { inspect: deps.inspect } : {}),
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

  /**
   * Out of service (an operator's `rasgate line disable`): the modem is not told to answer, as
   * with mgetty's nologin file; the device stays open and a call in progress goes on. The far
   * side of a simulated modem stays too (a caller hears it ring, unanswered).
   */
  setOutOfService(text: string | undefined): void {
    this.actor.send({ type: text === undefined ? 'RESUME' : 'PAUSE' });
  }

  /** Hang up any call, release the device; final (make a new line to start again). */
  async stop(): Promise<void> {
    const snap = this.actor.getSnapshot();
    if (snap.status === 'active' && !snap.hasTag('released')) {
      await new Promise<void>((resolve) => {
        const sub = this.actor.subscribe((s) => {
          if (s.hasTag('released')) {
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
    const state: LineState = LINE_TAGS.find((tag) => s.hasTag(tag)) ?? this.state;
    if (state !== this.state) {
      this.state = state;
      this.emit('state', this.status());
    }
  }

  /** One failed open: the cause and the fix, said once per kind of failure and then every ten minutes. */
  private openFailed(err: unknown): void {
    this.lastOpenError = err;
    this.failedOpens++;
    const advice = openAdvice(err, this.config.device);
    this.openFailures.note('error', advice.cause, advice.hopeless ? 'cannot open the device: the line is out of service' : 'cannot open the device: retrying with backoff', {
      device: this.config.device,
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
      ...(callerId.number ? { peer: callerId.number } : {}),
      ...(Object.keys(callerId).length ? { callerId: { ...callerId } } : {}),
      ...(connectSpeed !== undefined ? { connectSpeed } : {}),
      // While the line calls back, nothing the call writes may reach the modem's command line.
      send: (bytes) => {
        if (this.call === channel && this.pendingCallback?.channel !== channel) this.port.write(bytes);
      },
      hangup: () => this.hangupCall(channel),
      callBack: (request, signal) => this.callBack(channel, request, signal),
    });
    this.call = channel;
    this.log.debug('call connected', { call: callId, connectSpeed, callerNumber: callerId.number });
    this.emit('call', channel);
  }

  private hangupCall(channel: BasicCallChannel): Promise<void> {
    return new Promise((resolve) => {
      const snap = this.actor.getSnapshot();
      if (this.call !== channel || !snap.hasTag('connected')) {
        resolve();
        return;
      }
      const sub = this.actor.subscribe((s) => {
        if (!s.hasTag('connected') && !s.hasTag('hanging-up')) {
          sub.unsubscribe();
          resolve();
        }
      });
      this.actor.send({ type: 'HANGUP' });
    });
  }

  /**
   * Hang up and dial `channel`'s caller back (machines/line.ts, CALL_BACK). Resolves when the
   * callback connected (the call goes on) or was given up; `signal` abandons it.
   */
  private callBack(channel: BasicCallChannel, request: CallbackRequest, signal: AbortSignal): Promise<CallbackResult> {
    if (this.call !== channel || channel.ended || this.pendingCallback || !this.actor.getSnapshot().hasTag('connected')) {
      return Promise.reject(new Error('callback: the call is not connected on this line'));
    }
    return new Promise((resolve) => {
      const abandon = () => {
        if (this.pendingCallback?.channel !== channel) return;
        this.pendingCallback = undefined;
        this.log.info('callback abandoned by the call', { call: channel.callId });
        this.actor.send({ type: 'CANCEL_CALLBACK' });
      };
      this.pendingCallback = {
        channel,
        settle: (result) => {
          signal.removeEventListener('abort', abandon);
          resolve(result);
        },
      };
      signal.addEventListener('abort', abandon, { once: true });
      this.actor.send({ type: 'CALL_BACK', request });
    });
  }

  /** The callback connected (the call goes on) or was given up: tell the call that asked. */
  private callbackOver(callback: LineCallback | undefined, connected: boolean): void {
    const pending = this.pendingCallback;
    this.pendingCallback = undefined;
    if (!pending || !callback) return;
    // Given up: the line is the modem's again (init chat); the call only hangs up from here.
    if (!connected && this.call === pending.channel) this.call = undefined;
    pending.settle(connected ? { result: 'connected', attempts: callback.attempts } : { result: callback.lastFailure ?? 'no-carrier', attempts: callback.attempts });
  }

  private endCall(reason: 'carrier-lost' | 'hangup' | 'device-lost' | 'shutdown'): void {
    // The modem is back in command mode: what the call still had queued must not reach it.
    if (reason === 'carrier-lost') this.port.discardOutput().catch((err: unknown) => this.log.debug('output not flushed after carrier loss', { error: errorSummary(err) }));
    // A call waiting for its callback hears the end instead (its callBack() is abandoned with it).
    this.pendingCallback = undefined;
    const call = this.call;
    if (!call) return;
    this.call = undefined;
    if (!call.ended) this.log.debug('call ended', { call: call.callId, reason });
    call.finish(reason);
  }
}
