/**
 * One call through the gateway (the RAS server's side of the security host model):
 *
 *   securing --SECURITY_MESSAGE(SUCCESS)--> authorized -> callback -> session -> farewell (hangup line) | bridging | executing -> hangingUp -> done
 *   securing --SECURITY_MESSAGE(FAILURE|ERROR)--> hangingUp -> done
 *   callback: deciding (the user's policy) -> no callback: session
 *     Preset: announcing ("Calling you back at ...-1234") -> calling (the line hangs up, waits,
 *       dials, retries: machines/line.ts) -> verifying (the login dialogue again: the same account
 *       only; `reauthenticate: false` skips it) -> session; the line gave up: hangingUp with the
 *       last attempt's outcome (callback-busy, -no-answer, -no-carrier, -no-dialtone, -timeout)
 *     Set By Caller: asking (a number; empty: session now) -> announcing ... as Preset; a number
 *       the line may not call: farewell (callback-refused-number)
 *     Preset on a line that does not offer callback: farewell (callback-failed, not-offered)
 *   securing --PPP_START--> pppExec (line allows it) | farewell (PPP refused) -> hangingUp
 *   any --CARRIER_LOST--> done (children stopped: the dialogue ends, the bridge closes, exec is killed)
 *   any --HANGUP (operator)--> hangingUp
 *   any --FAULT (a provided actor failed inside)--> farewell ("service unavailable") -> hangingUp: internal-error
 *   SHUTDOWN: a session (bridge, exec) says the shutdown line and hangs up at once; a dialogue may
 *     finish (its result is logged as it was), but a login that succeeds now is refused with the
 *     shutdown line; HANGUP during shutdown (the grace is over) says it too.
 * The call's outcome (machines/outcome.ts) is the dialogue's, then what this machine decides:
 * shutdown, action-failed, protocol (PPP refused), ppp (handed on), operator-hangup,
 * internal-error; a line lost before a result ends as the way it went (caller-hangup, ...).
 *
 * `farewell` is the one place the caller hears the last line before the line drops; the line to
 * say is chosen by the transition that leads there (context.farewell).
 *
 * Orchestration only. Real work arrives as actors supplied by src/gateway/call-runner.ts:
 *   securityDialogue  rasBegin .. rasEnd around the dialogue; sends SECURITY_MESSAGE / PPP_START
 *   carrier           watches the line; sends CARRIER_LOST
 *   say               writes a message to the caller
 *   bridge / exec     the post-login actions; resolve when the session is over
 *   hangup            drops the line
 * The line re-arms on its own once the call has hung up.
 */
import { and, assign, fromCallback, fromPromise, setup } from 'xstate';
import { ERROR_BAD_CALLBACK_NUMBER, ERROR_IN_COMMAND, SECURITYMSG_FAILURE, SECURITYMSG_SUCCESS } from '../src/ras/codes.js';
import { END_REASON_OUTCOMES, type CallEndReason, type Outcome, type OutcomeKind } from './outcome.js';
import type { TriedName } from './dialogue.js';
import type { CallbackFailure, CallbackResult } from './line.js';
import type { CallbackPolicy } from '../src/callback/policy.js';
import type { NumberAnswer } from '../src/callback/ask.js';

/** SECURITY_MESSAGE (rasshost.h) as the call sees it. */
export interface CallSecurityMessage {
  /** SECURITYMSG_SUCCESS 1, FAILURE 2, ERROR 3. */
  msgId: number;
  /** raserror code, 0 unless ERROR. */
  error: number;
  userName: string;
  domain: string;
}

export type CallAction = 'hangup' | 'bridge' | 'exec';

/** What the line offers for callback (its `callback:` settings, src/callback/options.ts). */
export interface CallCallbackInput {
  /** The line can call back and does. */
  offered: boolean;
  /** The callback leg logs in again (the same account only). */
  reauthenticate: boolean;
  /** Set By Caller: how long the caller has to give a number (0 = no limit). */
  askTimeoutMs: number;
}

export interface CallInput {
  lineId: string;
  callId: string;
  action: CallAction;
  /** The line hands a PPP start to its exec action (`ppp: exec`). */
  pppToExec: boolean;
  /** What the line offers for callback. */
  offer: CallCallbackInput;
}

/** How the dialogue ended, as the security host reports it beside the SECURITY_MESSAGE (`callback`: the directory's policy). */
export type LoginOutcome = Outcome & { tried?: TriedName[]; callback?: CallbackPolicy };

/** The callback of this call: the number and whose it is, and the attempts the line made. */
export interface CallCallback {
  number: string;
  source: 'preset' | 'caller' | 'default';
  attempts?: number;
}

export interface CallContext extends CallInput {
  message: CallSecurityMessage | undefined;
  /** The call's outcome as decided so far (the dialogue's, then this machine's own decisions). */
  outcome: LoginOutcome | undefined;
  /** The gateway is stopping (SHUTDOWN came). */
  shuttingDown: boolean;
  /** What `farewell` says. */
  farewell: SayInput['what'] | undefined;
  /** The PPP frame bytes already received: the exec action gets them first. */
  pppBytes: Uint8Array | undefined;
  /** Short stable word for the summary (carrier-lost reason, actor error code). */
  detail: string | undefined;
  /** The user's callback policy, once decided. */
  policy: CallbackPolicy | undefined;
  /** The callback being made (or made). */
  callback: CallCallback | undefined;
}

export type CallEvent =
  /** The dialogue's result; `outcome` as the dialogue decided it (absent from a plain RAS security host). */
  | { type: 'SECURITY_MESSAGE'; message: CallSecurityMessage; outcome?: LoginOutcome }
  | { type: 'PPP_START'; bytes: Uint8Array }
  | { type: 'CARRIER_LOST'; reason: CallEndReason }
  | { type: 'HANGUP'; reason: string }
  /** The gateway is stopping. */
  | { type: 'SHUTDOWN' }
  /** A provided actor failed in a way it could only report (the dialogue crashed). */
  | { type: 'FAULT'; detail: string };

export interface CallOutput {
  outcome: LoginOutcome;
  message: CallSecurityMessage | undefined;
  /** Short stable word on how the call ended when something ended it (shutdown, carrier-lost, an error code). */
  detail: string | undefined;
  /** The callback, when one was made (or tried). */
  callback?: CallCallback;
}

export interface SayInput {
  what: 'pppRefused' | 'bridgeFailed' | 'loginAccepted' | 'shutdown' | 'unavailable' | 'callbackAnnounce' | 'callbackRefused' | 'callbackWrongAccount' | 'callbackNotOffered';
  /** The callback number (callbackAnnounce: shown masked). */
  number?: string;
}

export interface ActionInput {
  lineId: string;
  callId: string;
  userName: string;
  domain: string;
  /** Bytes to give the program before the line's own (exec after a PPP start). */
  preface?: Uint8Array;
  /** The session runs on a callback to this number (exec: RASGATE_CALLBACK=1, RASGATE_CALLBACK_NUMBER). */
  callbackNumber?: string;
}

/** The outcome of a callback the line gave up on: the last attempt's failure (V.250 results, our timeout). */
const CALLBACK_FAILURES: Record<CallbackFailure, Outcome> = {
  busy: { kind: 'callback-busy' },
  'no-answer': { kind: 'callback-no-answer' },
  'no-carrier': { kind: 'callback-no-carrier' },
  'no-dialtone': { kind: 'callback-no-dialtone' },
  timeout: { kind: 'callback-timeout' },
  'modem-error': { kind: 'callback-failed', reason: 'modem-error', rasError: ERROR_IN_COMMAND },
};

/** Two names of one account (the authority spells them; Windows names are case-insensitive). */
function sameAccount(a: CallSecurityMessage | undefined, b: CallSecurityMessage): boolean {
  return a !== undefined && a.userName.toLowerCase() === b.userName.toLowerCase() && a.domain.toLowerCase() === b.domain.toLowerCase();
}

const callbackOutcome = (kind: OutcomeKind, reason?: string, rasError?: number): Outcome => ({ kind, ...(reason ? { reason } : {}), ...(rasError ? { rasError } : {}) });

const notProvided = (name: string) => () => {
  throw new Error(`call: ${name} actor not provided`);
};

function errorWord(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown } | null;
  return typeof e?.code === 'string' ? e.code : 'actor-error';
}

/** The stable word for a fault event: a FAULT's detail, an actor error's code. */
function faultWord(event: { type: string; detail?: string; error?: unknown }): string {
  return event.type === 'FAULT' && event.detail ? event.detail : errorWord(event.error);
}

export const callMachine = setup({
  types: {
    context: {} as CallContext,
    events: {} as CallEvent,
    input: {} as CallInput,
    output: {} as CallOutput,
  },
  actors: {
    securityDialogue: fromCallback<CallEvent, { lineId: string; callId: string }>(notProvided('securityDialogue')),
    carrier: fromCallback<CallEvent, { lineId: string; callId: string }>(notProvided('carrier')),
    say: fromPromise<void, SayInput>(notProvided('say')),
    bridge: fromPromise<void, ActionInput>(notProvided('bridge')),
    exec: fromPromise<void, ActionInput>(notProvided('exec')),
    hangup: fromPromise<void, { lineId: string; callId: string }>(notProvided('hangup')),
    /** The user's callback policy: the directory's (`directory`) or the local policy file's. Not provided: the directory's, else no callback. */
    callbackPolicy: fromPromise<CallbackPolicy, { userName: string; domain: string; directory: CallbackPolicy | undefined }>(async ({ input }) => input.directory ?? { mode: 'none' }),
    /** Set By Caller: ask for a number and decide on the answer. */
    askNumber: fromPromise<NumberAnswer, { defaultNumber: string | undefined }>(notProvided('askNumber')),
    /** Have the line call `number` back (hang up, wait, dial, retry); resolves when connected or given up. */
    callBack: fromPromise<CallbackResult, { lineId: string; callId: string; number: string }>(notProvided('callBack')),
  },
  guards: {
    succeeded: ({ event }) => event.type === 'SECURITY_MESSAGE' && event.message.msgId === SECURITYMSG_SUCCESS,
    /** The callback leg: the account called back logged in again. */
    sameAccountAgain: ({ context, event }) => event.type === 'SECURITY_MESSAGE' && event.message.msgId === SECURITYMSG_SUCCESS && sameAccount(context.message, event.message),
    lineOffersCallback: ({ context }) => context.offer.offered,
    presetCallback: ({ context }) => context.policy?.mode === 'preset',
    callerSetCallback: ({ context }) => context.policy?.mode === 'caller',
    answeredNone: (_, answer: NumberAnswer) => answer.kind === 'none',
    answeredNumber: (_, answer: NumberAnswer) => answer.kind === 'number',
    callbackConnected: (_, result: CallbackResult) => result.result === 'connected',
    reauthenticate: ({ context }) => context.offer.reauthenticate,
    askTimeoutOn: ({ context }) => context.offer.askTimeoutMs > 0,
    pppToExec: ({ context }) => context.pppToExec && context.action === 'exec',
    shuttingDown: ({ context }) => context.shuttingDown,
    actionIsBridge: ({ context }) => context.action === 'bridge',
    actionIsExec: ({ context }) => context.action === 'exec',
  },
  delays: {
    askTimeout: ({ context }) => context.offer.askTimeoutMs,
  },
  actions: {
    /** The dialogue's result: the message, and its outcome (or what the message alone says). */
    keepResult: assign(({ event }) => {
      if (event.type !== 'SECURITY_MESSAGE') return {};
      const m = event.message;
      const fallback: LoginOutcome = m.msgId === SECURITYMSG_SUCCESS ? { kind: 'accepted' } : m.msgId === SECURITYMSG_FAILURE ? { kind: 'bad-credentials' } : { kind: 'internal-error', rasError: m.error };
      return { message: m, outcome: event.outcome ?? fallback };
    }),
    /** The line went: a call without a result ends as the way it went; a session keeps its outcome. */
    carrierLost: assign(({ context, event }) => (event.type === 'CARRIER_LOST' ? { detail: context.detail ?? event.reason, outcome: context.outcome ?? END_REASON_OUTCOMES[event.reason] } : {})),
    /** A login that succeeds while the gateway stops is refused: say so, then hang up. */
    refuseForShutdown: assign(({ context }) => ({ outcome: { ...context.outcome, kind: 'shutdown' as const }, detail: 'shutdown', farewell: 'shutdown' as const })),
    /** A session in progress is ended by the shutdown (its login stays accepted). */
    endSessionForShutdown: assign({ detail: 'shutdown', farewell: 'shutdown' }),
    /** rasgate failed inside: the call ends, told the service is unavailable. */
    crashed: assign(({ event }) => ({ outcome: { kind: 'internal-error' as const }, detail: faultWord(event) })),
    /** The call ends for a callback reason; the login stays in the summary (message, every name tried, the callback leg's too). */
    callbackEnds: assign(({ context }, params: { outcome: LoginOutcome; farewell?: SayInput['what'] }) => {
      const tried = [...(context.outcome?.tried ?? []), ...(params.outcome.tried ?? [])];
      return { outcome: { ...params.outcome, ...(tried.length ? { tried } : {}) }, ...(params.farewell ? { farewell: params.farewell } : {}) };
    }),
  },
}).createMachine({
  id: 'call',
  context: ({ input }) => ({ ...input, message: undefined, outcome: undefined, shuttingDown: false, farewell: undefined, pppBytes: undefined, detail: undefined, policy: undefined, callback: undefined }),
  invoke: {
    id: 'carrier',
    src: 'carrier',
    input: ({ context }) => ({ lineId: context.lineId, callId: context.callId }),
    // Without a carrier watch the call cannot see the caller go: end it like any crashed actor.
    onError: { target: '.hangingUp', actions: 'crashed' },
  },
  on: {
    // A carrier loss ends the call wherever it is; leaving a state stops its actors (the dialogue
    // gets rasEnd, the bridge closes its socket, exec is killed).
    // After a successful login the caller hanging up is the normal end of the session.
    CARRIER_LOST: { target: '.done', actions: 'carrierLost' },
    FAULT: { target: '.farewell', actions: ['crashed', assign({ farewell: 'unavailable' })] },
    SHUTDOWN: { actions: assign({ shuttingDown: true }) },
  },
  initial: 'securing',
  states: {
    securing: {
      invoke: {
        id: 'securityDialogue',
        src: 'securityDialogue',
        input: ({ context }) => ({ lineId: context.lineId, callId: context.callId }),
        onError: { target: 'hangingUp', actions: 'crashed' },
      },
      on: {
        SECURITY_MESSAGE: [
          { guard: 'succeeded', target: 'authorized', actions: 'keepResult' },
          { target: 'hangingUp', actions: 'keepResult' },
        ],
        PPP_START: [
          { guard: 'pppToExec', target: 'pppExec', actions: assign({ pppBytes: ({ event }) => event.bytes, outcome: { kind: 'ppp' } }) },
          { target: 'farewell', actions: assign({ outcome: { kind: 'protocol', reason: 'ppp-refused' }, farewell: 'pppRefused' }) },
        ],
        HANGUP: [
          // The shutdown's grace is over: the caller hears why the line drops.
          { guard: 'shuttingDown', target: 'farewell', actions: assign({ outcome: { kind: 'shutdown' }, detail: 'shutdown', farewell: 'shutdown' }) },
          { target: 'hangingUp', actions: assign({ outcome: { kind: 'operator-hangup' }, detail: ({ event }) => event.reason }) },
        ],
      },
    },
    authorized: {
      always: [
        // A login that completes while the gateway stops is refused: no session starts now.
        { guard: 'shuttingDown', target: 'farewell', actions: 'refuseForShutdown' },
        { target: 'callback' },
      ],
    },
    callback: {
      initial: 'deciding',
      on: {
        // No session yet: a line that goes now ends the call as the way it went, not as accepted.
        CARRIER_LOST: {
          target: 'done',
          actions: [{ type: 'callbackEnds', params: ({ event }) => ({ outcome: END_REASON_OUTCOMES[event.reason] }) }, assign({ detail: ({ context, event }) => context.detail ?? event.reason })],
        },
        // Before the session: the shutdown refuses the login, the operator hangs up.
        SHUTDOWN: { target: 'farewell', actions: 'refuseForShutdown' },
        HANGUP: { target: 'hangingUp', actions: assign({ outcome: ({ context }) => ({ ...context.outcome, kind: 'operator-hangup' as const }), detail: ({ event }) => event.reason }) },
      },
      states: {
        deciding: {
          invoke: {
            id: 'callbackPolicy',
            src: 'callbackPolicy',
            input: ({ context }) => ({ userName: context.message!.userName, domain: context.message!.domain, directory: context.outcome?.callback }),
            onDone: { target: 'choosing', actions: assign({ policy: ({ event }) => event.output }) },
            // Unknown policy (the file unreadable, a stored number that cannot be dialled): no session.
            onError: { target: '#call.farewell', actions: [{ type: 'callbackEnds', params: ({ event }) => ({ outcome: callbackOutcome('callback-failed', errorWord(event.error)), farewell: 'unavailable' }) }] },
          },
        },
        choosing: {
          always: [
            {
              guard: and(['presetCallback', 'lineOffersCallback']),
              target: 'announcing',
              actions: assign({ callback: ({ context }) => ({ number: (context.policy as { number: string }).number, source: 'preset' as const }) }),
            },
            // Preset means no connection without the callback.
            { guard: 'presetCallback', target: '#call.farewell', actions: { type: 'callbackEnds', params: { outcome: callbackOutcome('callback-failed', 'not-offered'), farewell: 'callbackNotOffered' } } },
            { guard: and(['callerSetCallback', 'lineOffersCallback']), target: 'asking' },
            // No callback, or Set By Caller where the line offers none: the session starts.
            { target: '#call.session' },
          ],
        },
        asking: {
          invoke: {
            id: 'askNumber',
            src: 'askNumber',
            input: ({ context }) => ({ defaultNumber: context.policy?.mode === 'caller' ? context.policy.defaultNumber : undefined }),
            onDone: [
              { guard: { type: 'answeredNone', params: ({ event }) => event.output }, target: '#call.session' },
              {
                guard: { type: 'answeredNumber', params: ({ event }) => event.output },
                target: 'announcing',
                actions: assign({ callback: ({ event }) => (event.output.kind === 'number' ? { number: event.output.number, source: event.output.source } : undefined) }),
              },
              {
                target: '#call.farewell',
                actions: [
                  { type: 'callbackEnds', params: { outcome: callbackOutcome('callback-refused-number', undefined, ERROR_BAD_CALLBACK_NUMBER), farewell: 'callbackRefused' } },
                  assign({ detail: ({ event }) => (event.output.kind === 'refused' ? `refused number ${JSON.stringify(event.output.text)}` : undefined) }),
                ],
              },
            ],
            onError: { target: '#call.hangingUp', actions: 'crashed' },
          },
          after: {
            askTimeout: { guard: 'askTimeoutOn', target: '#call.hangingUp', actions: { type: 'callbackEnds', params: { outcome: { kind: 'caller-timeout', reason: 'callback-number' } } } },
          },
        },
        announcing: {
          invoke: {
            id: 'announce',
            src: 'say',
            input: ({ context }) => ({ what: 'callbackAnnounce' as const, number: context.callback!.number }),
            onDone: 'calling',
            onError: 'calling',
          },
        },
        calling: {
          invoke: {
            id: 'callBack',
            src: 'callBack',
            input: ({ context }) => ({ lineId: context.lineId, callId: context.callId, number: context.callback!.number }),
            onDone: [
              {
                guard: { type: 'callbackConnected', params: ({ event }) => event.output },
                target: 'connected',
                actions: assign({ callback: ({ context, event }) => ({ ...context.callback!, attempts: event.output.attempts }) }),
              },
              {
                target: '#call.hangingUp',
                actions: [
                  assign({ callback: ({ context, event }) => ({ ...context.callback!, attempts: event.output.attempts }) }),
                  { type: 'callbackEnds', params: ({ event }) => ({ outcome: event.output.result === 'connected' ? { kind: 'internal-error' } : CALLBACK_FAILURES[event.output.result] }) },
                ],
              },
            ],
            onError: { target: '#call.hangingUp', actions: 'crashed' },
          },
          // The line is hung up: nobody hears anything now.
          on: { SHUTDOWN: { target: '#call.hangingUp', actions: 'refuseForShutdown' } },
        },
        connected: {
          always: [{ guard: 'reauthenticate', target: 'verifying' }, { target: '#call.session' }],
        },
        verifying: {
          invoke: {
            id: 'callbackDialogue',
            src: 'securityDialogue',
            input: ({ context }) => ({ lineId: context.lineId, callId: context.callId }),
            onError: { target: '#call.hangingUp', actions: 'crashed' },
          },
          on: {
            SECURITY_MESSAGE: [
              { guard: 'sameAccountAgain', target: '#call.session' },
              {
                guard: 'succeeded',
                target: '#call.farewell',
                actions: {
                  type: 'callbackEnds',
                  params: ({ event }) => ({ outcome: { ...callbackOutcome('callback-wrong-account'), tried: (event as { outcome?: LoginOutcome }).outcome?.tried ?? [] }, farewell: 'callbackWrongAccount' }),
                },
              },
              { target: '#call.hangingUp', actions: 'keepResult' },
            ],
            // AutoPPP would skip the login the callback needs.
            PPP_START: { target: '#call.farewell', actions: assign({ outcome: { kind: 'protocol', reason: 'ppp-refused' }, farewell: 'pppRefused' }) },
            // As in securing: the dialogue may finish; a success is refused by the session.
            SHUTDOWN: { actions: assign({ shuttingDown: true }) },
            HANGUP: [
              { guard: 'shuttingDown', target: '#call.farewell', actions: assign({ outcome: { kind: 'shutdown' }, detail: 'shutdown', farewell: 'shutdown' }) },
              { target: '#call.hangingUp', actions: assign({ outcome: { kind: 'operator-hangup' }, detail: ({ event }) => event.reason }) },
            ],
          },
        },
      },
    },
    session: {
      always: [
        { guard: 'shuttingDown', target: 'farewell', actions: 'refuseForShutdown' },
        { guard: 'actionIsBridge', target: 'bridging' },
        { guard: 'actionIsExec', target: 'executing' },
        // A `hangup` line tells the caller the result before it drops the line.
        { target: 'farewell', actions: assign({ farewell: 'loginAccepted' }) },
      ],
    },
    farewell: {
      invoke: {
        id: 'farewell',
        src: 'say',
        input: ({ context }) => ({ what: context.farewell ?? 'unavailable', ...(context.callback ? { number: context.callback.number } : {}) }),
        onDone: 'hangingUp',
        onError: 'hangingUp',
      },
      on: { HANGUP: { target: 'hangingUp' } },
    },
    bridging: {
      invoke: {
        id: 'bridge',
        src: 'bridge',
        input: ({ context }) => actionInput(context),
        onDone: 'hangingUp',
        onError: { target: 'farewell', actions: assign({ outcome: ({ event }) => ({ kind: 'action-failed' as const, reason: errorWord(event.error) }), farewell: 'bridgeFailed' }) },
      },
      on: {
        HANGUP: { target: 'hangingUp', actions: assign({ detail: ({ event }) => event.reason }) },
        SHUTDOWN: { target: 'farewell', actions: 'endSessionForShutdown' },
      },
    },
    executing: {
      invoke: {
        id: 'exec',
        src: 'exec',
        input: ({ context }) => actionInput(context),
        onDone: 'hangingUp',
        onError: { target: 'hangingUp', actions: assign({ outcome: ({ event }) => ({ kind: 'action-failed' as const, reason: errorWord(event.error) }) }) },
      },
      on: {
        HANGUP: { target: 'hangingUp', actions: assign({ detail: ({ event }) => event.reason }) },
        SHUTDOWN: { target: 'farewell', actions: 'endSessionForShutdown' },
      },
    },
    pppExec: {
      // AutoPPP: no login happened; the program (pppd) authenticates the peer itself.
      invoke: {
        id: 'pppExec',
        src: 'exec',
        input: ({ context }) => ({ lineId: context.lineId, callId: context.callId, userName: '', domain: '', preface: context.pppBytes }),
        onDone: { target: 'hangingUp', actions: assign({ pppBytes: undefined }) },
        onError: { target: 'hangingUp', actions: assign({ outcome: ({ event }) => ({ kind: 'action-failed' as const, reason: errorWord(event.error) }), pppBytes: undefined }) },
      },
      on: {
        HANGUP: { target: 'hangingUp', actions: assign({ detail: ({ event }) => event.reason }) },
        SHUTDOWN: { target: 'farewell', actions: ['endSessionForShutdown', assign({ pppBytes: undefined })] },
      },
    },
    hangingUp: {
      invoke: {
        id: 'hangup',
        src: 'hangup',
        input: ({ context }) => ({ lineId: context.lineId, callId: context.callId }),
        onDone: 'done',
        onError: { target: 'done', actions: assign({ detail: ({ event }) => errorWord(event.error) }) },
      },
    },
    done: { type: 'final' },
  },
  output: ({ context }) => ({ outcome: context.outcome ?? { kind: 'operator-hangup' }, message: context.message, detail: context.detail, ...(context.callback ? { callback: context.callback } : {}) }),
});

/** The session's input: who logged in, and the callback it runs on. */
function actionInput(context: CallContext): ActionInput {
  const reached = context.callback?.attempts !== undefined;
  return {
    lineId: context.lineId,
    callId: context.callId,
    userName: context.message!.userName,
    domain: context.message!.domain,
    ...(reached ? { callbackNumber: context.callback!.number } : {}),
  };
}

export type CallMachine = typeof callMachine;
