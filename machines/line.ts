/**
 * The Hayes modem line: open -> flush -> init chat -> idle (periodic AT) -> ringing (count,
 * caller ID, allow/deny) -> answering (ATA) -> connected (quiet period, then the call) ->
 * hanging up (DTR drop, else +++ / ATH0) -> init again; a lost device is reopened with
 * exponential backoff.
 *
 * Callback (the call asks with CALL_BACK): connected -> hanging up -> init chat -> calling back
 * (wait the callback time, ATDT<number>, wait for CONNECT within the answer timeout; BUSY, NO
 * ANSWER, NO CARRIER, NO DIALTONE or the timeout: wait, dial again, up to `attempts`) ->
 * connected again, where the same call goes on (resumeCall), or gave up (callbackFailed) -> init.
 * The line answers no one while a callback is pending: RING is heard in idle only. Orchestration only: every byte, port and control line is handled by
 * actors and actions that src/serial/device-line.ts provides; the defaults here are inert.
 *
 * The modem's result codes (ITU-T V.250 5.7) arrive as their own events, `MODEM.OK`,
 * `MODEM.RING`, `MODEM.CONNECT`, ..., so that each edge of the chart names what the modem said.
 * Each state carries a tag naming the line's state as src reports it (LINE_TAGS): src reads
 * tags, never state names.
 */
import { assign, fromCallback, fromPromise, setup, type ActorRefFrom } from 'xstate';
import type { CallEndReason } from './outcome.js';

export interface LineCallerId {
  number?: string;
  name?: string;
  date?: string;
  time?: string;
}

/** A modem result as src/serial/hayes.ts parses it (the machine's input shape for modemEvent()). */
export type ModemResult =
  | { type: 'OK' | 'ERROR' | 'RING' | 'NO_CARRIER' | 'BUSY' | 'NO_DIALTONE' | 'NO_ANSWER' }
  | { type: 'CONNECT'; speed?: number; extras: string[] }
  | { type: 'CALLER_ID'; field: 'date' | 'time' | 'number' | 'name' | 'message'; value: string }
  | { type: 'ECHO' | 'TEXT'; text: string };

/** The same results as the machine's events: `MODEM.<result>`. */
export type LineModemEvent =
  | { type: 'MODEM.OK' | 'MODEM.ERROR' | 'MODEM.RING' | 'MODEM.NO_CARRIER' | 'MODEM.BUSY' | 'MODEM.NO_DIALTONE' | 'MODEM.NO_ANSWER' }
  | { type: 'MODEM.CONNECT'; speed?: number; extras: string[] }
  | { type: 'MODEM.CALLER_ID'; field: 'date' | 'time' | 'number' | 'name' | 'message'; value: string }
  | { type: 'MODEM.ECHO' | 'MODEM.TEXT'; text: string };

/** A modem result as the event the line machine takes. */
export function modemEvent(result: ModemResult): LineModemEvent {
  return { ...result, type: `MODEM.${result.type}` } as LineModemEvent;
}

export type InputMode = 'command' | 'quiet' | 'data';
/** Why the line ends a call (a subset of the call endings, machines/outcome.ts). */
export type LineEndReason = Extract<CallEndReason, 'carrier-lost' | 'hangup' | 'device-lost' | 'shutdown'>;

/** The line's state as src reports it (LineStatus.state): one tag per machine state. */
export const LINE_TAGS = ['closed', 'failed', 'opening', 'reopening', 'initialising', 'idle', 'ringing', 'answering', 'connected', 'hanging-up', 'calling-back'] as const;
/** `released`: the device is closed and nothing runs (closed, failed): what stop() waits for. */
export type LineTag = (typeof LINE_TAGS)[number] | 'released' | 'routine';

/** Timings and chat of one modem line (all milliseconds). From src/serial/device-line.ts lineSettings(). */
export interface LineSettings {
  initChat: string[];
  chatTimeoutMs: number;
  /** Answer on this RING (mgetty `rings`). */
  answerOnRing: number;
  /** A ringing call is over when no RING came for this long. */
  ringTimeoutMs: number;
  answerTimeoutMs: number;
  /** Discard input after CONNECT until the line was quiet this long. */
  quietMs: number;
  /** Idle health check period (`AT`); 0 = off. */
  healthIntervalMs: number;
  dcdPollMs: number;
  dtrDropMs: number;
  /** +++ guard time (S12). */
  guardMs: number;
  /** Wait after open before flushing (modems that print OK when DTR rises). */
  settleMs: number;
  maxInitFailures: number;
  /** Wait before retrying a failed init chat: this times the failures so far, at most initRetryMaxMs. */
  initRetryMs: number;
  initRetryMaxMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

/** The call asks the line to call its caller back (src/gateway/call-runner.ts builds it from the line's `callback:` settings). */
export interface CallbackRequest {
  /** The dial string after ATDT: the line's dial prefix and the number. */
  dial: string;
  /** Wait after the hang-up before the first dial (RAS's callback time). */
  delayMs: number;
  /** ATDT to CONNECT; past it the attempt is abandoned (DTR drop). */
  answerTimeoutMs: number;
  /** Dial attempts in all. */
  attempts: number;
  /** Wait between attempts. */
  retryDelayMs: number;
}

/** Why one dial attempt failed (V.250 5.7.1 results, our timeout, ERROR to the dial command). */
export type CallbackFailure = 'busy' | 'no-answer' | 'no-carrier' | 'no-dialtone' | 'timeout' | 'modem-error';

/** How a callback ended: connected (the call goes on), or the last attempt's failure. */
export type CallbackResult = { result: 'connected'; attempts: number } | { result: CallbackFailure; attempts: number };

export interface LineCallback {
  request: CallbackRequest;
  /** Dial attempts made so far. */
  attempts: number;
  lastFailure?: CallbackFailure;
  /** CONNECT came: the call goes on over the callback. */
  connected: boolean;
}

export interface LineContext {
  settings: LineSettings;
  chatIndex: number;
  rings: number;
  callerId: LineCallerId;
  connectSpeed?: number;
  /** Reopen attempts since the line last reached idle. */
  attempt: number;
  initFailures: number;
  lastError?: string;
  /** False once reading DCD failed (ENOTTY on a pty): we rely on NO CARRIER alone. */
  dcdSupported: boolean;
  /** False once setting DTR failed: hang up with +++ / ATH0 directly. */
  dtrSupported: boolean;
  paused: boolean;
  /** A callback asked for by the call, from CALL_BACK until the line is idle again. */
  callback?: LineCallback;
}

export type LineEvent =
  | { type: 'START' }
  | { type: 'STOP' }
  | { type: 'PAUSE' }
  | { type: 'RESUME' }
  | LineModemEvent
  /** Input arrived while discarding (quiet period). */
  | { type: 'ACTIVITY' }
  | { type: 'DEVICE_LOST'; error: string }
  /** Our side ends the call (the gateway hung up). */
  | { type: 'HANGUP' }
  /** The call asks to be called back: hang up, dial the caller, go on with the call when they answer. */
  | { type: 'CALL_BACK'; request: CallbackRequest }
  /** The call no longer wants its callback (it ended, the gateway stops). */
  | { type: 'CANCEL_CALLBACK' };

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

function notProvided(name: string): never {
  throw new Error(`line machine: actor "${name}" must be provided`);
}

/** The results that end an answer attempt without a connection (V.250 5.7.1). */
const ANSWER_FAILED = ['MODEM.NO_CARRIER', 'MODEM.BUSY', 'MODEM.NO_ANSWER', 'MODEM.NO_DIALTONE', 'MODEM.ERROR'] as const;

/** What each result that ends a dial attempt means for the callback (V.250 5.7.1 Table 1). */
const DIAL_FAILED: Record<(typeof ANSWER_FAILED)[number], CallbackFailure> = {
  'MODEM.BUSY': 'busy',
  'MODEM.NO_ANSWER': 'no-answer',
  'MODEM.NO_CARRIER': 'no-carrier',
  'MODEM.NO_DIALTONE': 'no-dialtone',
  'MODEM.ERROR': 'modem-error',
};

export const lineMachine = setup({
  types: {
    context: {} as LineContext,
    events: {} as LineEvent,
    input: {} as { settings: LineSettings },
    tags: {} as LineTag,
  },
  actors: {
    openDevice: fromPromise<void>(async () => notProvided('openDevice')),
    closeDevice: fromPromise<void>(async () => undefined),
    flushDevice: fromPromise<void>(async () => undefined),
    /** Wait until queued output has left (the last words to the caller before hang-up). */
    drainDevice: fromPromise<void>(async () => undefined),
    setDtr: fromPromise<void, { on: boolean }>(async () => notProvided('setDtr')),
    readSignals: fromPromise<{ dcd: boolean }>(async () => notProvided('readSignals')),
    /** Forwards MODEM.* / ACTIVITY / DEVICE_LOST events from the port. */
    portEvents: fromCallback<LineEvent>(() => () => undefined),
  },
  actions: {
    sendCommand: (_, _params: { text: string }) => undefined,
    sendEscape: () => undefined,
    setInputMode: (_, _params: { mode: InputMode }) => undefined,
    /** Hand the connected call to the gateway (context has caller ID and speed). */
    startCall: () => undefined,
    /** The callback connected: the call that asked for it goes on (context.callback says after how many attempts). */
    resumeCall: () => undefined,
    /** The callback gave up: tell the call that asked for it (context.callback has the attempts and the last failure). */
    callbackFailed: () => undefined,
    /** A callback dial attempt begins (for the log: context.callback). */
    callbackDialling: () => undefined,
    /** The call is over; no-op when none is active. */
    endCall: (_, _params: { reason: LineEndReason }) => undefined,
    log: (_, _params: { level: 'info' | 'warn' | 'error' | 'debug'; msg: string }) => undefined,
    countRing: assign({ rings: ({ context }) => context.rings + 1 }),
    countInitFailure: assign({ initFailures: ({ context }) => context.initFailures + 1 }),
    resetCall: assign({ rings: 0, callerId: {}, connectSpeed: undefined, callback: undefined }),
    startCallback: assign({ callback: ({ event }) => (event.type === 'CALL_BACK' ? { request: event.request, attempts: 0, connected: false } : undefined) }),
    forgetCallback: assign({ callback: undefined }),
    countCallbackAttempt: assign({ callback: ({ context }) => context.callback && { ...context.callback, attempts: context.callback.attempts + 1 } }),
    callbackAttemptFailed: assign({ callback: ({ context }, params: { failure: CallbackFailure }) => context.callback && { ...context.callback, lastFailure: params.failure } }),
    callbackConnected: assign({ callback: ({ context }) => context.callback && { ...context.callback, connected: true } }),
    rememberCallerId: assign({
      callerId: ({ context, event }) => {
        if (event.type !== 'MODEM.CALLER_ID' || event.field === 'message') return context.callerId;
        return { ...context.callerId, [event.field]: event.value };
      },
    }),
    rememberSpeed: assign({ connectSpeed: ({ event }) => (event.type === 'MODEM.CONNECT' ? event.speed : undefined) }),
    rememberError: assign({ lastError: ({ event }) => ('error' in event ? errorText(event.error) : undefined) }),
  },
  guards: {
    /** The allow/deny decision on the caller ID collected so far; src provides the lists. */
    callerAllowed: () => true,
    /** Errors that retrying cannot fix (not a serial device, settings the device refuses); src decides. */
    fatalOpenError: () => false,
    ringsReached: ({ context }) => context.rings >= context.settings.answerOnRing,
    moreChat: ({ context }) => context.chatIndex + 1 < context.settings.initChat.length,
    tooManyInitFailures: ({ context }) => context.initFailures >= context.settings.maxInitFailures,
    paused: ({ context }) => context.paused,
    dcdSupported: ({ context }) => context.dcdSupported,
    dtrSupported: ({ context }) => context.dtrSupported,
    healthOn: ({ context }) => context.settings.healthIntervalMs > 0,
    carrierDropped: (_, signals: { dcd: boolean }) => !signals.dcd,
    carrierUp: (_, signals: { dcd: boolean }) => signals.dcd,
    /** A callback is asked for and not yet connected. */
    callbackPending: ({ context }) => context.callback !== undefined && !context.callback.connected,
    /** This connection is the callback's. */
    callbackConnected: ({ context }) => context.callback?.connected === true,
    noCallbackYet: ({ context }) => context.callback === undefined,
    firstCallbackAttempt: ({ context }) => context.callback?.attempts === 0,
    callbackAttemptsLeft: ({ context }) => context.callback !== undefined && context.callback.attempts < context.callback.request.attempts,
  },
  delays: {
    chatTimeout: ({ context }) => context.settings.chatTimeoutMs,
    ringTimeout: ({ context }) => context.settings.ringTimeoutMs,
    answerTimeout: ({ context }) => context.settings.answerTimeoutMs,
    quiet: ({ context }) => context.settings.quietMs,
    healthInterval: ({ context }) => context.settings.healthIntervalMs,
    dcdPoll: ({ context }) => context.settings.dcdPollMs,
    dtrDrop: ({ context }) => context.settings.dtrDropMs,
    guard: ({ context }) => context.settings.guardMs,
    settle: ({ context }) => context.settings.settleMs,
    initRetry: ({ context }) => Math.min(context.settings.initRetryMs * context.initFailures, context.settings.initRetryMaxMs),
    backoff: ({ context }) => Math.min(context.settings.backoffBaseMs * 2 ** Math.max(0, context.attempt - 1), context.settings.backoffMaxMs),
    callbackDelay: ({ context }) => context.callback?.request.delayMs ?? 0,
    callbackRetryDelay: ({ context }) => context.callback?.request.retryDelayMs ?? 0,
    callbackAnswerTimeout: ({ context }) => context.callback?.request.answerTimeoutMs ?? 0,
  },
}).createMachine({
  id: 'line',
  context: ({ input }) => ({
    settings: input.settings,
    chatIndex: 0,
    rings: 0,
    callerId: {},
    attempt: 0,
    initFailures: 0,
    dcdSupported: true,
    dtrSupported: true,
    paused: false,
  }),
  initial: 'closed',
  on: {
    PAUSE: { actions: assign({ paused: true }) },
    RESUME: { actions: assign({ paused: false }) },
  },
  states: {
    closed: {
      tags: ['closed', 'released'],
      on: { START: 'opening' },
    },
    failed: {
      tags: ['failed', 'released'],
      on: { START: 'opening' },
    },
    opening: {
      tags: 'opening',
      invoke: {
        id: 'openDevice',
        src: 'openDevice',
        onDone: 'open',
        onError: [
          { guard: 'fatalOpenError', target: 'failed', actions: 'rememberError' },
          { target: 'reopening', actions: ['rememberError', { type: 'log', params: { level: 'debug', msg: 'open failed, will retry' } }] },
        ],
      },
      on: { STOP: 'closed' },
    },
    reopening: {
      tags: 'reopening',
      // A call waiting for its callback ends with the device (a wedged modem during the callback's init chat).
      entry: [assign({ attempt: ({ context }) => context.attempt + 1 }), { type: 'endCall', params: { reason: 'device-lost' } }, 'forgetCallback'],
      invoke: {
        id: 'closeDevice',
        src: 'closeDevice',
        onError: { actions: { type: 'log', params: { level: 'warn', msg: 'closing the lost device failed; reopening it anyway' } } },
      },
      after: { backoff: 'opening' },
      on: { STOP: 'closed' },
    },
    stopping: {
      tags: 'closed',
      invoke: {
        id: 'closeDevice',
        src: 'closeDevice',
        onDone: 'closed',
        onError: { target: 'closed', actions: { type: 'log', params: { level: 'warn', msg: 'closing the device failed' } } },
      },
    },
    open: {
      invoke: {
        id: 'portEvents',
        src: 'portEvents',
        onError: { target: 'reopening', actions: [{ type: 'endCall', params: { reason: 'device-lost' } }, 'rememberError'] },
      },
      on: {
        DEVICE_LOST: {
          target: 'reopening',
          actions: [{ type: 'endCall', params: { reason: 'device-lost' } }, 'rememberError', { type: 'log', params: { level: 'warn', msg: 'device lost' } }],
        },
        STOP: { target: 'stopping', actions: { type: 'endCall', params: { reason: 'shutdown' } } },
        CANCEL_CALLBACK: { actions: 'forgetCallback' },
      },
      initial: 'flushing',
      states: {
        flushing: {
          tags: 'initialising',
          initial: 'settling',
          states: {
            settling: { after: { settle: 'flushing' } },
            flushing: {
              invoke: { id: 'flushDevice', src: 'flushDevice', onDone: '#line.open.initialising', onError: '#line.open.initialising' },
            },
          },
        },
        initialising: {
          tags: 'initialising',
          entry: [assign({ chatIndex: 0 }), { type: 'setInputMode', params: { mode: 'command' } }],
          initial: 'chat',
          states: {
            chat: {
              entry: { type: 'sendCommand', params: ({ context }) => ({ text: context.settings.initChat[context.chatIndex] ?? 'AT' }) },
              on: {
                'MODEM.OK': 'next',
                'MODEM.ERROR': { target: 'failure', actions: { type: 'log', params: { level: 'warn', msg: 'modem answered ERROR to init chat' } } },
              },
              after: { chatTimeout: { target: 'failure', actions: { type: 'log', params: { level: 'warn', msg: 'no answer to init chat' } } } },
            },
            next: {
              always: [
                { guard: 'moreChat', target: 'chat', actions: assign({ chatIndex: ({ context }) => context.chatIndex + 1 }) },
                { guard: 'callbackPending', target: '#line.open.callingBack' },
                { target: '#line.open.idle' },
              ],
            },
            failure: {
              entry: ['countInitFailure', assign({ lastError: 'modem did not answer the init chat' })],
              always: { guard: 'tooManyInitFailures', target: '#line.reopening', actions: { type: 'log', params: { level: 'error', msg: 'modem wedged: reopening the device' } } },
              after: { initRetry: { target: '#line.open.initialising', reenter: true } },
            },
          },
        },
        idle: {
          // routine: the periodic health check's comings and goings are logged at debug.
          tags: ['idle', 'routine'],
          entry: [assign({ initFailures: 0, attempt: 0, lastError: undefined }), 'resetCall'],
          initial: 'waiting',
          on: { 'MODEM.RING': 'ringing' },
          states: {
            waiting: {
              after: { healthInterval: { guard: 'healthOn', target: 'checking' } },
            },
            checking: {
              entry: { type: 'sendCommand', params: { text: 'AT' } },
              on: { 'MODEM.OK': 'waiting' },
              after: {
                // A modem that does not answer AT is re-initialised; that counts as one init failure.
                chatTimeout: { target: '#line.open.initialising', actions: ['countInitFailure', { type: 'log', params: { level: 'warn', msg: 'modem did not answer AT: re-initialising' } }] },
              },
            },
          },
        },
        ringing: {
          tags: 'ringing',
          entry: 'countRing',
          initial: 'check',
          on: {
            'MODEM.RING': { target: '.check', actions: 'countRing' },
            'MODEM.CALLER_ID': { actions: 'rememberCallerId' },
          },
          states: {
            check: {
              always: [
                { guard: 'paused', target: 'ignoring' },
                { guard: 'ringsReached', target: 'deciding' },
                { target: 'counting' },
              ],
            },
            deciding: {
              always: [
                { guard: 'callerAllowed', target: '#line.open.answering' },
                { target: 'ignoring', actions: { type: 'log', params: { level: 'warn', msg: 'caller not allowed: not answering' } } },
              ],
            },
            counting: {
              after: { ringTimeout: { target: '#line.open.idle', actions: { type: 'log', params: { level: 'info', msg: 'caller gave up before we answered' } } } },
            },
            ignoring: {
              on: { 'MODEM.RING': { target: 'ignoring', reenter: true } },
              after: { ringTimeout: '#line.open.idle' },
            },
          },
        },
        answering: {
          tags: 'answering',
          entry: { type: 'sendCommand', params: { text: 'ATA' } },
          on: {
            'MODEM.CONNECT': { target: 'connected', actions: 'rememberSpeed' },
            ...Object.fromEntries(ANSWER_FAILED.map((t) => [t, { target: 'initialising', actions: { type: 'log', params: { level: 'info', msg: 'answer failed' } } }])),
          },
          after: { answerTimeout: { target: 'hangingUp', actions: { type: 'log', params: { level: 'warn', msg: 'no CONNECT within the answer timeout' } } } },
        },
        connected: {
          tags: 'connected',
          initial: 'quiet',
          on: {
            'MODEM.NO_CARRIER': { target: 'hangingUp', actions: { type: 'endCall', params: { reason: 'carrier-lost' } } },
            HANGUP: { target: 'hangingUp', actions: { type: 'endCall', params: { reason: 'hangup' } } },
            // The call stays: the line hangs up, dials its caller back and goes on with it.
            CALL_BACK: { guard: 'noCallbackYet', target: 'hangingUp', actions: ['startCallback', { type: 'log', params: { level: 'info', msg: 'hanging up to call back' } }] },
          },
          states: {
            quiet: {
              entry: { type: 'setInputMode', params: { mode: 'quiet' } },
              on: { ACTIVITY: { target: 'quiet', reenter: true } },
              after: {
                quiet: [
                  { guard: 'callbackConnected', target: 'live', actions: [{ type: 'setInputMode', params: { mode: 'data' } }, 'resumeCall'] },
                  { target: 'live', actions: [{ type: 'setInputMode', params: { mode: 'data' } }, 'startCall'] },
                ],
              },
            },
            live: {
              initial: 'start',
              states: {
                start: { always: [{ guard: 'dcdSupported', target: 'waiting' }, { target: 'unpolled' }] },
                waiting: { after: { dcdPoll: 'polling' } },
                polling: {
                  invoke: {
                    id: 'readSignals',
                    src: 'readSignals',
                    onDone: [
                      {
                        guard: { type: 'carrierDropped', params: ({ event }) => event.output },
                        target: '#line.open.hangingUp',
                        actions: [{ type: 'endCall', params: { reason: 'carrier-lost' } }, { type: 'log', params: { level: 'info', msg: 'DCD dropped' } }],
                      },
                      { target: 'waiting' },
                    ],
                    onError: {
                      target: 'unpolled',
                      actions: [assign({ dcdSupported: false }), { type: 'log', params: { level: 'warn', msg: 'cannot read DCD on this device: relying on NO CARRIER' } }],
                    },
                  },
                },
                unpolled: {},
              },
            },
          },
        },
        callingBack: {
          tags: 'calling-back',
          initial: 'next',
          // Abandoned by the call: whatever the modem is doing, hang up.
          on: { CANCEL_CALLBACK: { target: 'hangingUp', actions: 'forgetCallback' } },
          states: {
            next: {
              always: [
                { guard: 'firstCallbackAttempt', target: 'waiting' },
                { guard: 'callbackAttemptsLeft', target: 'waitingToRedial' },
                { target: 'gaveUp' },
              ],
            },
            /** RAS's callback time: the caller's modem goes back to answering. */
            waiting: { after: { callbackDelay: 'dialling' } },
            waitingToRedial: { after: { callbackRetryDelay: 'dialling' } },
            dialling: {
              entry: ['countCallbackAttempt', 'callbackDialling', { type: 'sendCommand', params: ({ context }) => ({ text: `ATDT${context.callback?.request.dial ?? ''}` }) }],
              on: {
                'MODEM.CONNECT': { target: '#line.open.connected', actions: ['rememberSpeed', 'callbackConnected', { type: 'log', params: { level: 'info', msg: 'callback connected' } }] },
                ...Object.fromEntries(
                  ANSWER_FAILED.map((t) => [t, { target: 'next', actions: [{ type: 'callbackAttemptFailed', params: { failure: DIAL_FAILED[t] } }, { type: 'log', params: { level: 'info', msg: 'callback attempt failed' } }] }]),
                ),
              },
              after: {
                // The modem is still dialling: abandon the attempt with a hang-up.
                callbackAnswerTimeout: {
                  target: '#line.open.hangingUp',
                  actions: [{ type: 'callbackAttemptFailed', params: { failure: 'timeout' } }, { type: 'log', params: { level: 'warn', msg: 'no CONNECT within the callback answer timeout' } }],
                },
              },
            },
            gaveUp: {
              entry: ['callbackFailed', { type: 'log', params: { level: 'warn', msg: 'callback given up' } }],
              always: { target: '#line.open.initialising', actions: 'forgetCallback' },
            },
          },
        },
        hangingUp: {
          tags: 'hanging-up',
          entry: { type: 'setInputMode', params: { mode: 'command' } },
          initial: 'draining',
          states: {
            draining: {
              invoke: { id: 'drainDevice', src: 'drainDevice', onDone: 'start', onError: 'start' },
              after: { chatTimeout: 'start' },
            },
            start: { always: [{ guard: 'dtrSupported', target: 'dtrDown' }, { target: 'escape' }] },
            dtrDown: {
              invoke: {
                id: 'dropDtr',
                src: 'setDtr',
                input: { on: false },
                onDone: 'dtrLow',
                onError: {
                  target: 'escape',
                  actions: [assign({ dtrSupported: false }), { type: 'log', params: { level: 'warn', msg: 'cannot drop DTR on this device: hanging up with +++ and ATH0' } }],
                },
              },
            },
            dtrLow: { after: { dtrDrop: 'dtrUp' } },
            dtrUp: {
              invoke: {
                id: 'raiseDtr',
                src: 'setDtr',
                input: { on: true },
                // Where DCD can be read, check that the carrier really dropped.
                onDone: [{ guard: 'dcdSupported', target: 'verify' }, { target: '#line.open.initialising' }],
                onError: 'escape',
              },
            },
            verify: {
              invoke: {
                id: 'readSignalsAfterHangup',
                src: 'readSignals',
                onDone: [
                  {
                    guard: { type: 'carrierUp', params: ({ event }) => event.output },
                    target: 'escape',
                    actions: { type: 'log', params: { level: 'warn', msg: 'carrier still up after DTR drop: trying +++ / ATH0' } },
                  },
                  { target: '#line.open.initialising' },
                ],
                onError: '#line.open.initialising',
              },
            },
            escape: {
              initial: 'guardBefore',
              states: {
                guardBefore: { after: { guard: 'guardAfter' } },
                guardAfter: {
                  entry: 'sendEscape',
                  on: { 'MODEM.OK': 'hangup' },
                  after: { chatTimeout: 'hangup' },
                },
                hangup: {
                  entry: { type: 'sendCommand', params: { text: 'ATH0' } },
                  on: { 'MODEM.OK': '#line.open.initialising' },
                  after: { chatTimeout: '#line.open.initialising' },
                },
              },
            },
          },
        },
      },
    },
  },
});

export type LineActor = ActorRefFrom<typeof lineMachine>;
