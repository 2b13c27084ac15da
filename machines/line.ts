/**
 * The Hayes modem line: open -> flush -> init chat -> idle (periodic AT) -> ringing (count,
 * caller ID, allow/deny) -> answering (ATA) -> connected (quiet period, then the call) ->
 * hanging up (DTR drop, else +++ / ATH0) -> init again; a lost device is reopened with
 * exponential backoff. Orchestration only: every byte, port and control line is handled by
 * actors and actions that src/serial/device-line.ts provides; the defaults here are inert.
 */
import { assign, fromCallback, fromPromise, setup, type ActorRefFrom } from 'xstate';

/** Result and caller-ID events as src/serial/hayes.ts produces them (structural copy: no src import). */
export type LineModemEvent =
  | { type: 'OK' | 'ERROR' | 'RING' | 'NO_CARRIER' | 'BUSY' | 'NO_DIALTONE' | 'NO_ANSWER' }
  | { type: 'CONNECT'; speed?: number; extras: string[] }
  | { type: 'CALLER_ID'; field: 'date' | 'time' | 'number' | 'name' | 'message'; value: string }
  | { type: 'ECHO' | 'TEXT'; text: string };

export interface LineCallerId {
  number?: string;
  name?: string;
  date?: string;
  time?: string;
}

export type InputMode = 'command' | 'quiet' | 'data';
export type LineEndReason = 'carrier-lost' | 'hangup' | 'device-lost' | 'shutdown';

/** Timings and chat of one modem line (all milliseconds). Defaults: src/serial/device-line.ts. */
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
}

export type LineEvent =
  | { type: 'START' }
  | { type: 'STOP' }
  | { type: 'PAUSE' }
  | { type: 'RESUME' }
  | { type: 'MODEM'; event: LineModemEvent }
  /** Input arrived while discarding (quiet period). */
  | { type: 'ACTIVITY' }
  | { type: 'DEVICE_LOST'; error: string }
  /** Our side ends the call (the gateway hung up). */
  | { type: 'HANGUP' };

type ModemEventOf<T extends LineModemEvent['type']> = Extract<LineModemEvent, { type: T }>;

const isModem = (e: LineEvent, t: LineModemEvent['type']) => e.type === 'MODEM' && e.event.type === t;

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

function notProvided(name: string): never {
  throw new Error(`line machine: actor "${name}" must be provided`);
}

export const lineMachine = setup({
  types: {
    context: {} as LineContext,
    events: {} as LineEvent,
    input: {} as { settings: LineSettings },
  },
  actors: {
    openDevice: fromPromise<void>(async () => notProvided('openDevice')),
    closeDevice: fromPromise<void>(async () => undefined),
    flushDevice: fromPromise<void>(async () => undefined),
    /** Wait until queued output has left (the last words to the caller before hang-up). */
    drainDevice: fromPromise<void>(async () => undefined),
    setDtr: fromPromise<void, { on: boolean }>(async () => notProvided('setDtr')),
    readSignals: fromPromise<{ dcd: boolean }>(async () => notProvided('readSignals')),
    /** Forwards MODEM / ACTIVITY / DEVICE_LOST events from the port. */
    portEvents: fromCallback<LineEvent>(() => () => undefined),
  },
  actions: {
    sendCommand: (_, _params: { text: string }) => undefined,
    sendEscape: () => undefined,
    setInputMode: (_, _params: { mode: InputMode }) => undefined,
    /** Hand the connected call to the gateway (context has caller ID and speed). */
    startCall: () => undefined,
    /** The call is over; no-op when none is active. */
    endCall: (_, _params: { reason: LineEndReason }) => undefined,
    log: (_, _params: { level: 'info' | 'warn' | 'error' | 'debug'; msg: string }) => undefined,
    countRing: assign({ rings: ({ context }) => context.rings + 1 }),
    resetCall: assign({ rings: 0, callerId: {}, connectSpeed: undefined }),
    rememberCallerId: assign({
      callerId: ({ context, event }) => {
        if (event.type !== 'MODEM' || event.event.type !== 'CALLER_ID') return context.callerId;
        const { field, value } = event.event as ModemEventOf<'CALLER_ID'>;
        return field === 'message' ? context.callerId : { ...context.callerId, [field]: value };
      },
    }),
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
      on: { START: 'opening' },
    },
    failed: {
      on: { START: 'opening' },
    },
    opening: {
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
      entry: assign({ attempt: ({ context }) => context.attempt + 1 }),
      invoke: { id: 'closeDevice', src: 'closeDevice', onDone: {}, onError: {} },
      after: { backoff: 'opening' },
      on: { STOP: 'closed' },
    },
    stopping: {
      invoke: { id: 'closeDevice', src: 'closeDevice', onDone: 'closed', onError: 'closed' },
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
      },
      initial: 'flushing',
      states: {
        flushing: {
          initial: 'settling',
          states: {
            settling: { after: { settle: 'flushing' } },
            flushing: {
              invoke: { id: 'flushDevice', src: 'flushDevice', onDone: '#line.open.initialising', onError: '#line.open.initialising' },
            },
          },
        },
        initialising: {
          entry: [assign({ chatIndex: 0 }), { type: 'setInputMode', params: { mode: 'command' } }],
          initial: 'chat',
          states: {
            chat: {
              entry: { type: 'sendCommand', params: ({ context }) => ({ text: context.settings.initChat[context.chatIndex] ?? 'AT' }) },
              on: {
                MODEM: [
                  { guard: ({ event }) => isModem(event, 'OK'), target: 'next' },
                  { guard: ({ event }) => isModem(event, 'ERROR'), target: 'failure', actions: { type: 'log', params: { level: 'warn', msg: 'modem answered ERROR to init chat' } } },
                ],
              },
              after: { chatTimeout: { target: 'failure', actions: { type: 'log', params: { level: 'warn', msg: 'no answer to init chat' } } } },
            },
            next: {
              always: [
                { guard: 'moreChat', target: 'chat', actions: assign({ chatIndex: ({ context }) => context.chatIndex + 1 }) },
                { target: '#line.open.idle' },
              ],
            },
            failure: {
              entry: assign({ initFailures: ({ context }) => context.initFailures + 1, lastError: 'modem did not answer the init chat' }),
              always: { guard: 'tooManyInitFailures', target: '#line.reopening', actions: { type: 'log', params: { level: 'error', msg: 'modem wedged: reopening the device' } } },
              after: { initRetry: { target: '#line.open.initialising', reenter: true } },
            },
          },
        },
        idle: {
          entry: [assign({ initFailures: 0, attempt: 0, lastError: undefined }), 'resetCall'],
          initial: 'waiting',
          on: {
            MODEM: { guard: ({ event }) => isModem(event, 'RING'), target: 'ringing' },
          },
          states: {
            waiting: {
              after: { healthInterval: { guard: 'healthOn', target: 'checking' } },
            },
            checking: {
              entry: { type: 'sendCommand', params: { text: 'AT' } },
              on: { MODEM: { guard: ({ event }) => isModem(event, 'OK'), target: 'waiting' } },
              after: {
                chatTimeout: {
                  target: '#line.open.initialising',
                  actions: [assign({ initFailures: 1 }), { type: 'log', params: { level: 'warn', msg: 'modem did not answer AT: re-initialising' } }],
                },
              },
            },
          },
        },
        ringing: {
          entry: 'countRing',
          initial: 'check',
          on: {
            MODEM: [
              { guard: ({ event }) => isModem(event, 'RING'), target: '.check', actions: 'countRing' },
              { guard: ({ event }) => isModem(event, 'CALLER_ID'), actions: 'rememberCallerId' },
            ],
          },
          states: {
            check: {
              always: [
                { guard: 'paused', target: 'ignoring' },
                { guard: { type: 'ringsReached' }, target: 'deciding' },
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
              on: { MODEM: { guard: ({ event }) => isModem(event, 'RING'), target: 'ignoring', reenter: true } },
              after: { ringTimeout: '#line.open.idle' },
            },
          },
        },
        answering: {
          entry: { type: 'sendCommand', params: { text: 'ATA' } },
          on: {
            MODEM: [
              {
                guard: ({ event }) => isModem(event, 'CONNECT'),
                target: 'connected',
                actions: assign({ connectSpeed: ({ event }) => (event.type === 'MODEM' && event.event.type === 'CONNECT' ? event.event.speed : undefined) }),
              },
              {
                guard: ({ event }) => event.type === 'MODEM' && ['NO_CARRIER', 'BUSY', 'NO_ANSWER', 'NO_DIALTONE', 'ERROR'].includes(event.event.type),
                target: 'initialising',
                actions: { type: 'log', params: { level: 'info', msg: 'answer failed' } },
              },
            ],
          },
          after: { answerTimeout: { target: 'hangingUp', actions: { type: 'log', params: { level: 'warn', msg: 'no CONNECT within the answer timeout' } } } },
        },
        connected: {
          initial: 'quiet',
          on: {
            MODEM: {
              guard: ({ event }) => isModem(event, 'NO_CARRIER'),
              target: 'hangingUp',
              actions: { type: 'endCall', params: { reason: 'carrier-lost' } },
            },
            HANGUP: { target: 'hangingUp', actions: { type: 'endCall', params: { reason: 'hangup' } } },
          },
          states: {
            quiet: {
              entry: { type: 'setInputMode', params: { mode: 'quiet' } },
              on: { ACTIVITY: { target: 'quiet', reenter: true } },
              after: { quiet: 'live' },
            },
            live: {
              entry: [{ type: 'setInputMode', params: { mode: 'data' } }, 'startCall'],
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
                        guard: ({ event }) => !event.output.dcd,
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
        hangingUp: {
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
              invoke: { id: 'raiseDtr', src: 'setDtr', input: { on: true }, onDone: 'verify', onError: 'escape' },
            },
            verify: {
              always: { guard: ({ context }) => !context.dcdSupported, target: '#line.open.initialising' },
              invoke: {
                id: 'readSignalsAfterHangup',
                src: 'readSignals',
                onDone: [
                  { guard: ({ event }) => event.output.dcd, target: 'escape', actions: { type: 'log', params: { level: 'warn', msg: 'carrier still up after DTR drop: trying +++ / ATH0' } } },
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
                  on: { MODEM: { guard: ({ event }) => isModem(event, 'OK'), target: 'hangup' } },
                  after: { chatTimeout: 'hangup' },
                },
                hangup: {
                  entry: { type: 'sendCommand', params: { text: 'ATH0' } },
                  on: { MODEM: { guard: ({ event }) => isModem(event, 'OK'), target: '#line.open.initialising' } },
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
