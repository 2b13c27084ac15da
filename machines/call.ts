/**
 * One call through the gateway (the RAS server's side of the security host model):
 *
 *   securing --SECURITY_MESSAGE(SUCCESS)--> authorized -> farewell (hangup line) | bridging | executing -> hangingUp -> done
 *   securing --SECURITY_MESSAGE(FAILURE|ERROR)--> hangingUp -> done
 *   securing --PPP_START--> pppExec (line allows it) | farewell (PPP refused) -> hangingUp
 *   any --CARRIER_LOST--> done (children stopped: the dialogue ends, the bridge closes, exec is killed)
 *   any --HANGUP (operator)--> hangingUp
 *   any --FAULT (a provided actor failed inside)--> farewell ("service unavailable") -> hangingUp, result crashed
 *   SHUTDOWN: a session (bridge, exec) says the shutdown line and hangs up at once; a dialogue may
 *     finish (its result is logged as it was), but a login that succeeds now is refused with the
 *     shutdown line; HANGUP during shutdown (the grace is over) says it too.
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

export type CallResult =
  | 'success' // logged in, action ran to its end
  | 'failure' // wrong credentials (SECURITYMSG_FAILURE)
  | 'error' // SECURITYMSG_ERROR: policy refusal or authority outage (see rasError)
  | 'ppp-refused'
  | 'action-failed' // e.g. the bridge target did not answer
  | 'carrier-lost' // the caller went away before a result
  | 'hung-up' // we hung up (operator)
  | 'shutdown' // the gateway was stopping: refused, or the session ended by the shutdown
  | 'crashed'; // an actor failed: contained to this call

export interface CallInput {
  lineId: string;
  callId: string;
  action: CallAction;
  /** The line hands a PPP start to its exec action (`ppp: exec`). */
  pppToExec: boolean;
}

export interface CallContext extends CallInput {
  message: CallSecurityMessage | undefined;
  result: CallResult | undefined;
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
  | { type: 'SECURITY_MESSAGE'; message: CallSecurityMessage }
  | { type: 'PPP_START'; bytes: Uint8Array }
  | { type: 'CARRIER_LOST'; reason: string }
  | { type: 'HANGUP'; reason: string }
  /** The gateway is stopping. */
  | { type: 'SHUTDOWN' }
  /** A provided actor failed in a way it could only report (the dialogue crashed). */
  | { type: 'FAULT'; detail: string };

export interface CallOutput {
  result: CallResult;
  message: CallSecurityMessage | undefined;
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

const SECURITYMSG_SUCCESS = 1;
const SECURITYMSG_FAILURE = 2;

const notProvided = (name: string) => () => {
  throw new Error(`call: ${name} actor not provided`);
};

function errorWord(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown } | null;
  return typeof e?.code === 'string' ? e.code : 'actor-error';
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
    failed: ({ event }) => event.type === 'SECURITY_MESSAGE' && event.message.msgId === SECURITYMSG_FAILURE,
    pppToExec: ({ context }) => context.pppToExec && context.action === 'exec',
    shuttingDown: ({ context }) => context.shuttingDown,
    actionIsBridge: ({ context }) => context.action === 'bridge',
    actionIsExec: ({ context }) => context.action === 'exec',
  },
  actions: {
    keepMessage: assign({ message: ({ event }) => (event.type === 'SECURITY_MESSAGE' ? event.message : undefined) }),
    carrierLost: assign({ detail: ({ context, event }) => context.detail ?? (event.type === 'CARRIER_LOST' ? event.reason : undefined) }),
    /** The session in progress is ended by the shutdown: say so, then hang up. */
    endForShutdown: assign({ result: 'shutdown', detail: 'shutdown', farewell: 'shutdown' }),
  },
}).createMachine({
  id: 'call',
  context: ({ input }) => ({ ...input, message: undefined, result: undefined, shuttingDown: false, farewell: undefined, pppBytes: undefined, detail: undefined }),
  invoke: {
    id: 'carrier',
    src: 'carrier',
    input: ({ context }) => ({ lineId: context.lineId, callId: context.callId }),
    // Without a carrier watch the call cannot see the caller go: end it like any crashed actor.
    onError: { target: '.hangingUp', actions: assign({ result: 'crashed', detail: ({ event }) => errorWord(event.error) }) },
  },
  on: {
    // A carrier loss ends the call wherever it is; leaving a state stops its actors (the dialogue
    // gets rasEnd, the bridge closes its socket, exec is killed).
    // After a successful login the caller hanging up is the normal end of the session.
    CARRIER_LOST: { target: '.done', actions: ['carrierLost', assign({ result: ({ context }) => context.result ?? (context.message?.msgId === SECURITYMSG_SUCCESS ? 'success' : 'carrier-lost') })] },
    FAULT: { target: '.farewell', actions: assign({ result: 'crashed', detail: ({ event }) => event.detail, farewell: 'unavailable' }) },
    SHUTDOWN: { actions: assign({ shuttingDown: true }) },
  },
  initial: 'securing',
  states: {
    securing: {
      invoke: {
        id: 'securityDialogue',
        src: 'securityDialogue',
        input: ({ context }) => ({ lineId: context.lineId, callId: context.callId }),
        onError: { target: 'hangingUp', actions: assign({ result: 'crashed', detail: ({ event }) => errorWord(event.error) }) },
      },
      on: {
        SECURITY_MESSAGE: [
          { guard: 'succeeded', target: 'authorized', actions: 'keepMessage' },
          { guard: 'failed', target: 'hangingUp', actions: ['keepMessage', assign({ result: 'failure' })] },
          { target: 'hangingUp', actions: ['keepMessage', assign({ result: 'error' })] },
        ],
        PPP_START: [
          { guard: 'pppToExec', target: 'pppExec', actions: assign({ pppBytes: ({ event }) => event.bytes }) },
          { target: 'farewell', actions: assign({ result: 'ppp-refused', farewell: 'pppRefused' }) },
        ],
        HANGUP: [
          // The shutdown's grace is over: the caller hears why the line drops.
          { guard: 'shuttingDown', target: 'farewell', actions: 'endForShutdown' },
          { target: 'hangingUp', actions: assign({ result: 'hung-up', detail: ({ event }) => event.reason }) },
        ],
      },
    },
    authorized: {
      always: [
        // A login that completes while the gateway stops is refused: no session starts now.
        { guard: 'shuttingDown', target: 'farewell', actions: 'endForShutdown' },
        { guard: 'actionIsBridge', target: 'bridging' },
        { guard: 'actionIsExec', target: 'executing' },
        // A `hangup` line tells the caller the result before it drops the line.
        { target: 'farewell', actions: assign({ result: 'success', farewell: 'loginAccepted' }) },
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
        onDone: { target: 'hangingUp', actions: assign({ result: 'success' }) },
        onError: { target: 'farewell', actions: assign({ result: 'action-failed', detail: ({ event }) => errorWord(event.error), farewell: 'bridgeFailed' }) },
      },
      on: {
        HANGUP: { target: 'hangingUp', actions: assign({ result: 'hung-up', detail: ({ event }) => event.reason }) },
        SHUTDOWN: { target: 'farewell', actions: 'endForShutdown' },
      },
    },
    executing: {
      invoke: {
        id: 'exec',
        src: 'exec',
        input: ({ context }) => ({ lineId: context.lineId, callId: context.callId, userName: context.message!.userName, domain: context.message!.domain }),
        onDone: { target: 'hangingUp', actions: assign({ result: 'success' }) },
        onError: { target: 'hangingUp', actions: assign({ result: 'action-failed', detail: ({ event }) => errorWord(event.error) }) },
      },
      on: {
        HANGUP: { target: 'hangingUp', actions: assign({ result: 'hung-up', detail: ({ event }) => event.reason }) },
        SHUTDOWN: { target: 'farewell', actions: 'endForShutdown' },
      },
    },
    pppExec: {
      // AutoPPP: no login happened; the program (pppd) authenticates the peer itself.
      invoke: {
        id: 'pppExec',
        src: 'exec',
        input: ({ context }) => ({ lineId: context.lineId, callId: context.callId, userName: '', domain: '', preface: context.pppBytes }),
        onDone: { target: 'hangingUp', actions: assign({ result: 'success', detail: 'ppp', pppBytes: undefined }) },
        onError: { target: 'hangingUp', actions: assign({ result: 'action-failed', detail: ({ event }) => errorWord(event.error), pppBytes: undefined }) },
      },
      on: {
        HANGUP: { target: 'hangingUp', actions: assign({ result: 'hung-up', detail: ({ event }) => event.reason }) },
        SHUTDOWN: { target: 'farewell', actions: ['endForShutdown', assign({ pppBytes: undefined })] },
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
  output: ({ context }) => ({ result: context.result ?? 'hung-up', message: context.message, detail: context.detail }),
});

export type CallMachine = typeof callMachine;
