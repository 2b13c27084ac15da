/**
 * One call through the gateway (the RAS server's side of the security host model):
 *
 *   securing --SECURITY_MESSAGE(SUCCESS)--> authorized -> farewell (hangup line) | bridging | executing -> hangingUp -> done
 *   securing --SECURITY_MESSAGE(FAILURE|ERROR)--> hangingUp -> done
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
import { assign, fromCallback, fromPromise, setup } from 'xstate';
import { SECURITYMSG_FAILURE, SECURITYMSG_SUCCESS } from '../src/ras/codes.js';
import { END_REASON_OUTCOMES, type CallEndReason, type Outcome } from './outcome.js';
import type { TriedName } from './dialogue.js';

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

export interface CallInput {
  lineId: string;
  callId: string;
  action: CallAction;
  /** The line hands a PPP start to its exec action (`ppp: exec`). */
  pppToExec: boolean;
}

/** How the dialogue ended, as the security host reports it beside the SECURITY_MESSAGE. */
export type LoginOutcome = Outcome & { tried?: TriedName[] };

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
}

export interface SayInput {
  what: 'pppRefused' | 'bridgeFailed' | 'loginAccepted' | 'shutdown' | 'unavailable';
}

export interface ActionInput {
  lineId: string;
  callId: string;
  userName: string;
  domain: string;
  /** Bytes to give the program before the line's own (exec after a PPP start). */
  preface?: Uint8Array;
}

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
  },
  guards: {
    succeeded: ({ event }) => event.type === 'SECURITY_MESSAGE' && event.message.msgId === SECURITYMSG_SUCCESS,
    pppToExec: ({ context }) => context.pppToExec && context.action === 'exec',
    shuttingDown: ({ context }) => context.shuttingDown,
    actionIsBridge: ({ context }) => context.action === 'bridge',
    actionIsExec: ({ context }) => context.action === 'exec',
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
  },
}).createMachine({
  id: 'call',
  context: ({ input }) => ({ ...input, message: undefined, outcome: undefined, shuttingDown: false, farewell: undefined, pppBytes: undefined, detail: undefined }),
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
        input: ({ context }) => ({ what: context.farewell ?? 'unavailable' }),
        onDone: 'hangingUp',
        onError: 'hangingUp',
      },
      on: { HANGUP: { target: 'hangingUp' } },
    },
    bridging: {
      invoke: {
        id: 'bridge',
        src: 'bridge',
        input: ({ context }) => ({ lineId: context.lineId, callId: context.callId, userName: context.message!.userName, domain: context.message!.domain }),
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
        input: ({ context }) => ({ lineId: context.lineId, callId: context.callId, userName: context.message!.userName, domain: context.message!.domain }),
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
  output: ({ context }) => ({ outcome: context.outcome ?? { kind: 'operator-hangup' }, message: context.message, detail: context.detail }),
});

export type CallMachine = typeof callMachine;
