/**
 * The RAS security dialogue of one call (issue 3 §2): banner -> user name -> [domain] -> password
 * -> verify -> complete. Orchestration only: caller input arrives as events that src/ras derives
 * from the terminal discipline; output leaves through the `prompt` / `tell` / `holdInput` actions;
 * credentials are checked by the invoked `verify` actor (src/ras/verify.ts contract). The final
 * state's output is a DialogueOutcome; src/ras maps it to a SECURITY_MESSAGE.
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
import type { VerifyInput, VerifyOutcome } from '../src/ras/verify.js';
import type { CallEndReason } from '../src/serial/types.js';

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

export type DialogueOutcome =
  | { kind: 'success'; user: string; domain: string; attempts: number }
  | { kind: 'failure'; user: string; domain: string; attempts: number }
  | { kind: 'denied'; user: string; domain: string; rasError: number; reason: string }
  /** rasError undefined: the verifier threw. */
  | { kind: 'error'; user: string; domain: string; rasError?: number; detail: string }
  | { kind: 'timeout'; scope: 'field' | 'login' | 'idle'; field?: LoginField; user: string; domain: string }
  | { kind: 'disconnected'; reason: CallEndReason; user: string; domain: string }
  | { kind: 'ended'; user: string; domain: string }
  | { kind: 'ppp-start'; frame: Uint8Array };

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
  /** The caller has sent something (FIRST_INPUT). */
  heard: boolean;
  outcome?: DialogueOutcome;
}

/** Seconds (as configured, and as Receive takes them) to the milliseconds `after` wants. */
const toMs = (seconds: number) => Math.max(0, seconds) * 1000;

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
    countFailure: assign({ attempts: ({ context }) => context.attempts + 1 }),
    fieldTimedOut: assign(({ context }, params: { field: LoginField }) => ({
      outcome: { kind: 'timeout', scope: 'field', field: params.field, user: context.user, domain: context.domain } satisfies DialogueOutcome,
    })),
  },
  guards: {
    fieldWarningEnabled: ({ context: { config } }) => config.fieldWarningSeconds > 0 && config.fieldWarningSeconds < config.fieldTimeoutSeconds,
    fieldTimeoutEnabled: ({ context: { config } }) => config.fieldTimeoutSeconds > 0,
    loginWarningEnabled: ({ context: { config } }) => config.loginWarningSeconds > 0 && config.loginWarningSeconds < config.loginTimeoutSeconds,
    loginTimeoutEnabled: ({ context: { config } }) => config.loginTimeoutSeconds > 0,
    callerSilent: ({ context }) => context.config.idleTimeoutSeconds > 0 && !context.heard,
    attemptsLeft: ({ context }) => context.attempts < context.config.maxAttempts,
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
        loginTimeout: {
          guard: 'loginTimeoutEnabled',
          target: 'timedOut',
          actions: assign({ outcome: ({ context }) => ({ kind: 'timeout', scope: 'login', user: context.user, domain: context.domain }) }),
        },
        idleTimeout: {
          guard: 'callerSilent',
          target: 'timedOut',
          actions: assign({ outcome: ({ context }) => ({ kind: 'timeout', scope: 'idle', user: context.user, domain: context.domain }) }),
        },
      },
      on: {
        FIRST_INPUT: { actions: assign({ heard: true }) },
        CARRIER_LOST: {
          target: 'disconnected',
          actions: assign({ outcome: ({ context, event }) => ({ kind: 'disconnected', reason: event.reason, user: context.user, domain: context.domain }) }),
        },
        END: {
          target: 'ended',
          actions: assign({ outcome: ({ context }) => ({ kind: 'ended', user: context.user, domain: context.domain }) }),
        },
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
            fieldTimeout: { guard: 'fieldTimeoutEnabled', target: '#dialogue.timedOut', actions: { type: 'fieldTimedOut', params: { field: 'user' } } },
          },
          on: {
            USER: [
              { guard: ({ event }) => event.user === '' && event.domain === undefined, target: 'username', reenter: true },
              {
                guard: ({ context, event }) =>
                  event.valid && (context.config.askDomain === 'always' || (context.config.askDomain === 'when-missing' && event.domain === undefined)),
                target: 'domain',
                actions: 'rememberUser',
              },
              { target: 'password', actions: 'rememberUser' },
            ],
            PPP: { target: '#dialogue.ppp', actions: assign({ outcome: ({ event }) => ({ kind: 'ppp-start', frame: event.frame }) }) },
            ABORT: { target: 'username', reenter: true },
          },
        },
        domain: {
          entry: { type: 'prompt', params: { field: 'domain' } },
          after: {
            fieldWarning: { guard: 'fieldWarningEnabled', actions: { type: 'tell', params: ({ context }) => ({ message: 'fieldWarning', seconds: context.config.fieldWarningSeconds }) } },
            fieldTimeout: { guard: 'fieldTimeoutEnabled', target: '#dialogue.timedOut', actions: { type: 'fieldTimedOut', params: { field: 'domain' } } },
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
            fieldTimeout: { guard: 'fieldTimeoutEnabled', target: '#dialogue.timedOut', actions: { type: 'fieldTimedOut', params: { field: 'password' } } },
          },
          on: {
            PASSWORD: [
              { guard: ({ context }) => !context.userValid, target: 'rejected', actions: 'countFailure' },
              { target: 'verifying' },
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
                guard: ({ event }) => event.output.kind === 'success',
                target: '#dialogue.success',
                actions: [
                  assign({
                    outcome: ({ context, event }) => {
                      const o = event.output as Extract<VerifyOutcome, { kind: 'success' }>;
                      return { kind: 'success', user: o.user, domain: o.domain, attempts: context.attempts + 1 };
                    },
                  }),
                  { type: 'tell', params: { message: 'success' } },
                ],
              },
              { guard: ({ event }) => event.output.kind === 'failure', target: 'rejected', actions: 'countFailure' },
              {
                guard: ({ event }) => event.output.kind === 'denied',
                target: '#dialogue.denied',
                actions: [
                  assign({
                    outcome: ({ context, event }) => {
                      const o = event.output as Extract<VerifyOutcome, { kind: 'denied' }>;
                      return { kind: 'denied', user: o.user ?? context.user, domain: o.domain ?? context.domain, rasError: o.rasError, reason: o.reason };
                    },
                  }),
                  {
                    type: 'tell',
                    params: ({ event }) => {
                      const o = event.output as Extract<VerifyOutcome, { kind: 'denied' }>;
                      return { message: 'denied', reason: o.reason, text: o.message };
                    },
                  },
                ],
              },
              {
                target: '#dialogue.error',
                actions: [
                  assign({
                    outcome: ({ context, event }) => {
                      const o = event.output as Extract<VerifyOutcome, { kind: 'error' }>;
                      return { kind: 'error', user: context.user, domain: context.domain, rasError: o.rasError, detail: o.detail };
                    },
                  }),
                  { type: 'tell', params: { message: 'error' } },
                ],
              },
            ],
            onError: {
              target: '#dialogue.error',
              actions: [
                assign({
                  outcome: ({ context, event }) => ({
                    kind: 'error',
                    user: context.user,
                    domain: context.domain,
                    detail: event.error instanceof Error ? event.error.message : String(event.error),
                  }),
                }),
                { type: 'tell', params: { message: 'error' } },
              ],
            },
          },
        },
        rejected: {
          entry: [{ type: 'tell', params: { message: 'failure' } }, 'holdInput'],
          after: {
            failureDelay: [
              { guard: 'attemptsLeft', target: 'username' },
              {
                target: '#dialogue.failed',
                actions: assign({ outcome: ({ context }) => ({ kind: 'failure', user: context.user, domain: context.domain, attempts: context.attempts }) }),
              },
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
