/**
 * The RAS security dialogue of one call: banner -> user name -> [domain] -> password -> verify
 * -> complete. Orchestration only: caller input arrives as events that src/ras derives from the
 * terminal discipline; output leaves through the `prompt` / `tell` / `holdInput` actions;
 * credentials are checked by the invoked `verify` actor. The final state's output is a
 * DialogueOutcome (machines/outcome.ts vocabulary); src/ras maps it to a SECURITY_MESSAGE.
 *
 * Decisions (documented in src/ras/README.md):
 *  - The domain prompt comes BEFORE the password prompt, so the password never has to be kept
 *    while more input is awaited: it exists only in the PASSWORD event and the verify actor's input
 *    (both keyed `password`, which the logger and the inspector sanitizer redact). It is never
 *    assigned to context.
 *  - Field timeout: seconds from a field's prompt to its Enter (0 = none), warning
 *    `fieldWarningSeconds` before the end. Login timeout: seconds for the whole dialogue (mgetty
 *    login-time, 240), warning `loginWarningSeconds` before the end. Idle timeout: a caller who
 *    has sent nothing at all since the call began is let go sooner (`idleTimeoutSeconds`): a
 *    connection that only holds a line open must not keep it for the whole field timeout.
 */
import { assign, fromPromise, setup } from 'xstate';
import { END_REASON_OUTCOMES, type CallEndReason, type Outcome } from './outcome.js';
import type { CallbackPolicy } from '../src/callback/policy.js';

export type DomainPromptMode = 'never' | 'always' | 'when-missing';
export type LoginField = 'user' | 'domain' | 'password';

/** Timing and flow settings the machine reads (messages and prompts stay in src/ras). */
export interface DialogueMachineConfig {
  askDomain: DomainPromptMode;
  defaultDomain: string;
  fieldTimeoutSeconds: number;
  fieldWarningSeconds: number;
  loginTimeoutSeconds: number;
  loginWarningSeconds: number;
  /** A caller who has sent nothing since the call began times out after this long (0 = never). */
  idleTimeoutSeconds: number;
  maxAttempts: number;
  failureDelaysSeconds: number[];
}

export interface DialogueInput {
  config: DialogueMachineConfig;
  lineId: string;
  callId: string;
}

/** What the verify actor is given: credentials as typed (after `DOMAIN\user` splitting). */
export interface VerifyInput {
  user: string;
  /** Typed or the configured default domain; may be ''. */
  domain: string;
  /** Never logged, never kept beyond the verify call. */
  password: string;
  /** Line id and call id, for logs. */
  lineId: string;
  callId: string;
}

/** What the verify actor answers: an outcome as the verifier decided it. */
export type VerifyOutcome =
  /** Identity as the authority established it (spelling from the directory), and the callback policy the directory keeps. */
  | { kind: 'accepted'; user: string; domain: string; callback?: CallbackPolicy }
  /** Wrong user or password: another attempt, or SECURITYMSG_FAILURE after the last. */
  | { kind: 'bad-credentials' }
  /** Refused without asking further: policy (reason = DenyReason), a locked account, an outage, our own fault. */
  | { kind: 'policy' | 'refused-locked' | 'outage' | 'internal-error'; reason: string; rasError: number; message?: string; user?: string; domain?: string };

export type DialogueEvent =
  /** A user-name line, already split (`DOMAIN\user`, `user@domain`). `valid` false: a typed domain was too long. */
  | { type: 'USER'; user: string; domain?: string; valid: boolean }
  | { type: 'DOMAIN'; domain: string }
  | { type: 'PASSWORD'; password: string }
  /** The caller's first byte of the call (anything at all: a keystroke, noise). */
  | { type: 'FIRST_INPUT' }
  /** ^C: start again at the user-name prompt (no attempt is counted: nothing was verified). */
  | { type: 'ABORT' }
  | { type: 'PPP'; frame: Uint8Array }
  /** The call ended under us (carrier lost, device gone). */
  | { type: 'CARRIER_LOST'; reason: CallEndReason }
  /** The RAS server called end(port): stop without completing. */
  | { type: 'END' };

export interface TriedName {
  user: string;
  domain: string;
}

/** How the dialogue ended: the outcome, the identity (accepted) or last typed names, every name tried. */
export interface DialogueOutcome extends Outcome {
  user: string;
  domain: string;
  /** Every user name an attempt was made with, in order (at most maxAttempts). */
  tried: TriedName[];
  /** Failed attempts. */
  attempts: number;
  /** Caller-facing text the verifier chose for a refusal. */
  message?: string;
  /** A PPP frame started the user-name field (kind 'ppp'): its bytes. */
  frame?: Uint8Array;
  /** end(port) stopped the dialogue: there is no completion. */
  ended?: true;
  /** Accepted: the callback policy the directory keeps for the account (absent: none was read). */
  callback?: CallbackPolicy;
}

export type DialogueMessage = 'banner' | 'failure' | 'denied' | 'error' | 'timeout' | 'fieldWarning' | 'loginWarning' | 'success';

export interface TellParams {
  message: DialogueMessage;
  /** denied: the DenyReason; the verifier's own `text` wins when given. */
  reason?: string;
  text?: string;
  /** Warnings: seconds left. */
  seconds?: number;
}

export interface DialogueContext {
  config: DialogueMachineConfig;
  lineId: string;
  callId: string;
  /** Failed attempts so far. */
  attempts: number;
  user: string;
  /** Domain as it will be verified (typed, answered or default). */
  domain: string;
  typedDomain?: string;
  userValid: boolean;
  tried: TriedName[];
  /** The caller has sent something (FIRST_INPUT). */
  heard: boolean;
  /** The last refused attempt when it was more than a wrong password (a locked account): how the call ends if it ends now. */
  lastRefusal?: Ended;
  outcome?: DialogueOutcome;
}

/** Seconds (as configured, and as Receive takes them) to the milliseconds `after` wants. */
const toMs = (seconds: number) => Math.max(0, seconds) * 1000;

type Ended = Outcome & { message?: string; frame?: Uint8Array; ended?: true; user?: string; domain?: string; callback?: CallbackPolicy };

/** The outcome of the dialogue as it stands, with how it ended. */
function ending(context: DialogueContext, end: Ended): DialogueOutcome {
  return { user: context.user, domain: context.domain, tried: context.tried, attempts: context.attempts, ...end };
}

export const dialogueMachine = setup({
  types: {
    context: {} as DialogueContext,
    events: {} as DialogueEvent,
    input: {} as DialogueInput,
    output: {} as DialogueOutcome,
  },
  actors: {
    verify: fromPromise<VerifyOutcome, VerifyInput>(async () => {
      throw new Error('no verifier provided');
    }),
  },
  actions: {
    /** Open a field: send its prompt and set the discipline's mode (echo, cap, PPP detection). */
    prompt: (_, _params: { field: LoginField }) => {},
    /** Say one of the configured messages. */
    tell: (_, _params: TellParams) => {},
    /** Stop interpreting input (during verify and after the end). */
    holdInput: () => {},
    rememberUser: assign(({ context, event }) =>
      event.type === 'USER'
        ? { user: event.user, typedDomain: event.domain, domain: event.domain ?? context.config.defaultDomain, userValid: event.valid }
        : {},
    ),
    /** An attempt is made with the names typed (the password is in the event, never here). */
    recordAttempt: assign({ tried: ({ context }) => [...context.tried, { user: context.user, domain: context.domain }] }),
    countFailure: assign({ attempts: ({ context }) => context.attempts + 1, lastRefusal: undefined }),
    /** A refusal heard as a wrong password (a locked account): counted as one, remembered as what it was. */
    countRefusal: assign({ attempts: ({ context }) => context.attempts + 1, lastRefusal: (_, params: { output: VerifyOutcome }) => refusal(params.output) }),
    /** The dialogue ends with this outcome. */
    end: assign({ outcome: ({ context }, params: Ended) => ending(context, params) }),
  },
  guards: {
    fieldWarningEnabled: ({ context: { config } }) => config.fieldWarningSeconds > 0 && config.fieldWarningSeconds < config.fieldTimeoutSeconds,
    fieldTimeoutEnabled: ({ context: { config } }) => config.fieldTimeoutSeconds > 0,
    loginWarningEnabled: ({ context: { config } }) => config.loginWarningSeconds > 0 && config.loginWarningSeconds < config.loginTimeoutSeconds,
    loginTimeoutEnabled: ({ context: { config } }) => config.loginTimeoutSeconds > 0,
    callerSilent: ({ context }) => context.config.idleTimeoutSeconds > 0 && !context.heard,
    attemptsLeft: ({ context }) => context.attempts < context.config.maxAttempts,
    emptyUserName: ({ event }) => event.type === 'USER' && event.user === '' && event.domain === undefined,
    asksForDomain: ({ context, event }) =>
      event.type === 'USER' && event.valid && (context.config.askDomain === 'always' || (context.config.askDomain === 'when-missing' && event.domain === undefined)),
    typedDomainInvalid: ({ context }) => !context.userValid,
    verdictIs: (_, params: { output: VerifyOutcome; kind: VerifyOutcome['kind'] }) => params.output.kind === params.kind,
  },
  delays: {
    fieldWarning: ({ context: { config } }) => toMs(config.fieldTimeoutSeconds - config.fieldWarningSeconds),
    fieldTimeout: ({ context: { config } }) => toMs(config.fieldTimeoutSeconds),
    loginWarning: ({ context: { config } }) => toMs(config.loginTimeoutSeconds - config.loginWarningSeconds),
    loginTimeout: ({ context: { config } }) => toMs(config.loginTimeoutSeconds),
    idleTimeout: ({ context: { config } }) => toMs(config.idleTimeoutSeconds),
    failureDelay: ({ context: { config, attempts } }) => {
      const delays = config.failureDelaysSeconds;
      return delays.length === 0 ? 0 : toMs(delays[Math.min(attempts, delays.length) - 1] ?? 0);
    },
  },
}).createMachine({
  id: 'dialogue',
  context: ({ input }) => ({
    config: input.config,
    lineId: input.lineId,
    callId: input.callId,
    attempts: 0,
    user: '',
    domain: '',
    userValid: true,
    tried: [],
    heard: false,
  }),
  initial: 'session',
  output: ({ context }) => context.outcome!,
  states: {
    session: {
      after: {
        loginWarning: {
          guard: 'loginWarningEnabled',
          actions: { type: 'tell', params: ({ context }) => ({ message: 'loginWarning', seconds: context.config.loginWarningSeconds }) },
        },
        loginTimeout: { guard: 'loginTimeoutEnabled', target: 'timedOut', actions: { type: 'end', params: { kind: 'caller-timeout', reason: 'login' } } },
        idleTimeout: { guard: 'callerSilent', target: 'timedOut', actions: { type: 'end', params: { kind: 'caller-timeout', reason: 'idle' } } },
      },
      on: {
        FIRST_INPUT: { actions: assign({ heard: true }) },
        CARRIER_LOST: { target: 'disconnected', actions: { type: 'end', params: ({ event }) => END_REASON_OUTCOMES[event.reason] } },
        END: { target: 'ended', actions: { type: 'end', params: { kind: 'caller-hangup', ended: true } } },
      },
      initial: 'banner',
      states: {
        banner: {
          entry: { type: 'tell', params: { message: 'banner' } },
          always: 'username',
        },
        username: {
          entry: { type: 'prompt', params: { field: 'user' } },
          after: {
            fieldWarning: { guard: 'fieldWarningEnabled', actions: { type: 'tell', params: ({ context }) => ({ message: 'fieldWarning', seconds: context.config.fieldWarningSeconds }) } },
            fieldTimeout: { guard: 'fieldTimeoutEnabled', target: '#dialogue.timedOut', actions: { type: 'end', params: { kind: 'caller-timeout', reason: 'field:user' } } },
          },
          on: {
            USER: [
              { guard: 'emptyUserName', target: 'username', reenter: true },
              { guard: 'asksForDomain', target: 'domain', actions: 'rememberUser' },
              { target: 'password', actions: 'rememberUser' },
            ],
            PPP: { target: '#dialogue.ppp', actions: { type: 'end', params: ({ event }) => ({ kind: 'ppp', frame: event.frame }) } },
            ABORT: { target: 'username', reenter: true },
          },
        },
        domain: {
          entry: { type: 'prompt', params: { field: 'domain' } },
          after: {
            fieldWarning: { guard: 'fieldWarningEnabled', actions: { type: 'tell', params: ({ context }) => ({ message: 'fieldWarning', seconds: context.config.fieldWarningSeconds }) } },
            fieldTimeout: { guard: 'fieldTimeoutEnabled', target: '#dialogue.timedOut', actions: { type: 'end', params: { kind: 'caller-timeout', reason: 'field:domain' } } },
          },
          on: {
            DOMAIN: {
              target: 'password',
              actions: assign({ domain: ({ context, event }) => event.domain || context.typedDomain || context.config.defaultDomain }),
            },
            ABORT: { target: 'username', reenter: true },
          },
        },
        password: {
          entry: { type: 'prompt', params: { field: 'password' } },
          after: {
            fieldWarning: { guard: 'fieldWarningEnabled', actions: { type: 'tell', params: ({ context }) => ({ message: 'fieldWarning', seconds: context.config.fieldWarningSeconds }) } },
            fieldTimeout: { guard: 'fieldTimeoutEnabled', target: '#dialogue.timedOut', actions: { type: 'end', params: { kind: 'caller-timeout', reason: 'field:password' } } },
          },
          on: {
            PASSWORD: [
              // A typed domain longer than DNLEN fails the attempt without asking anyone (no hint).
              { guard: 'typedDomainInvalid', target: 'rejected', actions: ['recordAttempt', 'countFailure'] },
              { target: 'verifying', actions: 'recordAttempt' },
            ],
            ABORT: { target: 'username', reenter: true },
          },
        },
        verifying: {
          entry: 'holdInput',
          invoke: {
            id: 'verify',
            src: 'verify',
            // The password is taken from the PASSWORD event that entered this state: never from context.
            input: ({ context, event }) => ({
              user: context.user,
              domain: context.domain,
              password: event.type === 'PASSWORD' ? event.password : '',
              lineId: context.lineId,
              callId: context.callId,
            }),
            onDone: [
              {
                guard: { type: 'verdictIs', params: ({ event }) => ({ output: event.output, kind: 'accepted' }) },
                target: '#dialogue.success',
                actions: [
                  { type: 'end', params: ({ event }) => accepted(event.output) },
                  { type: 'tell', params: { message: 'success' } },
                ],
              },
              { guard: { type: 'verdictIs', params: ({ event }) => ({ output: event.output, kind: 'bad-credentials' }) }, target: 'rejected', actions: 'countFailure' },
              {
                guard: { type: 'verdictIs', params: ({ event }) => ({ output: event.output, kind: 'policy' }) },
                target: '#dialogue.denied',
                actions: [
                  { type: 'end', params: ({ event }) => refusal(event.output) },
                  { type: 'tell', params: ({ event }) => ({ message: 'denied', ...deniedText(event.output) }) },
                ],
              },
              {
                // A locked account is heard as a wrong password: the same delay, text and next prompt
                // (the operator may say more: dialogue.messages.deniedReasons).
                guard: { type: 'verdictIs', params: ({ event }) => ({ output: event.output, kind: 'refused-locked' }) },
                target: 'rejected',
                actions: { type: 'countRefusal', params: ({ event }) => ({ output: event.output }) },
              },
              {
                target: '#dialogue.error',
                actions: [{ type: 'end', params: ({ event }) => refusal(event.output) }, { type: 'tell', params: { message: 'error' } }],
              },
            ],
            onError: {
              target: '#dialogue.error',
              actions: [
                { type: 'end', params: { kind: 'internal-error', reason: 'verifier-failed' } },
                { type: 'tell', params: { message: 'error' } },
              ],
            },
          },
        },
        rejected: {
          // The delay runs before the refusal is said: the result costs the caller the delay. A
          // caller who hangs up during it is refused all the same (the verdict stands).
          entry: 'holdInput',
          on: {
            CARRIER_LOST: { target: '#dialogue.failed', actions: { type: 'end', params: ({ context }) => context.lastRefusal ?? { kind: 'bad-credentials', reason: 'ended-in-delay' } } },
          },
          after: {
            failureDelay: [
              { guard: 'attemptsLeft', target: 'username', actions: { type: 'tell', params: ({ context }) => refusalText(context) } },
              { target: '#dialogue.failed', actions: [{ type: 'tell', params: ({ context }) => refusalText(context) }, { type: 'end', params: ({ context }) => context.lastRefusal ?? { kind: 'bad-credentials' } }] },
            ],
          },
        },
      },
    },
    success: { type: 'final' },
    failed: { type: 'final' },
    denied: { type: 'final' },
    error: { type: 'final' },
    timedOut: { type: 'final', entry: { type: 'tell', params: { message: 'timeout' } } },
    disconnected: { type: 'final' },
    ended: { type: 'final' },
    ppp: { type: 'final' },
  },
});

/** An accepted login's outcome: the identity, and the directory's callback policy when there is one. */
function accepted(o: VerifyOutcome): Ended {
  if (o.kind !== 'accepted') return { kind: 'internal-error', reason: 'not-accepted' };
  return { kind: 'accepted', user: o.user, domain: o.domain, ...(o.callback ? { callback: o.callback } : {}) };
}

/** A refusal's outcome: the verifier's kind, reason and code, with the names it gave. */
function refusal(o: VerifyOutcome): Ended {
  if (o.kind === 'accepted' || o.kind === 'bad-credentials') return { kind: o.kind };
  return {
    kind: o.kind,
    reason: o.reason,
    rasError: o.rasError,
    ...(o.message !== undefined ? { message: o.message } : {}),
    ...(o.user ? { user: o.user } : {}),
    ...(o.domain ? { domain: o.domain } : {}),
  };
}

/** What a refused attempt says: the failure text, or the operator's own for the reason of a refusal heard as one. */
function refusalText(context: DialogueContext): TellParams {
  const r = context.lastRefusal;
  return { message: 'failure', ...(r?.reason !== undefined ? { reason: r.reason } : {}), ...(r?.message !== undefined ? { text: r.message } : {}) };
}

/** What a refusal tells the caller: its reason (the configured text for it) or the verifier's own text. */
function deniedText(o: VerifyOutcome): { reason?: string; text?: string } {
  if (o.kind === 'accepted' || o.kind === 'bad-credentials') return {};
  return { reason: o.reason, ...(o.message !== undefined ? { text: o.message } : {}) };
}
