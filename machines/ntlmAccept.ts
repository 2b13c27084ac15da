/**
 * The AcceptSecurityContext legs of one NTLM server context [MS-NLMP 3.2.5]:
 *
 *   awaitingNegotiate --NEGOTIATE--> preparingChallenge
 *     --ISSUED--> challengeSent (SEC_I_CONTINUE_NEEDED)          our own challenge (verifiers)
 *     --ASK_AUTHORITY--> issuingChallenge --done--> challengeSent  the authority's (relay to a DC)
 *   challengeSent --AUTHENTICATE--> checking
 *     --VERDICT--> established (SEC_E_OK) | failed               the authority answered at once
 *     --ASK_AUTHORITY--> verifying --done--> established | failed  the authority is asked (async)
 *   any failure --> failed (status + reason + DenyReason); ABORT --> aborted
 *
 * Orchestration only. Decoding, policy checks, crypto and the authority arrive from
 * src/ntlm/server.ts through .provide():
 *   actions (synchronous CPU work, no I/O; each raises ISSUED/VERDICT, LEG_FAILED or ASK_AUTHORITY):
 *     prepareChallenge   build our CHALLENGE now, unless the authority issues it (relay)
 *     checkNow           run every check and take the authority's synchronous verdict
 *                        (Authority.verifySync, e.g. the local store), unless it has none
 *   actors (invoked only when the authority must be asked: a DC relay, winbind, ldap):
 *     issueChallenge     NEGOTIATE -> IssuedChallenge (the authority's relay)
 *     verifyAuthenticate AUTHENTICATE + IssuedChallenge -> AcceptOutcome
 * The defaults of both actions say ASK_AUTHORITY, so that a machine given only the actors
 * invokes them for everything. Work that cannot wait has no reason to be an actor, while an
 * authority on the network still is one, with its timeout, abort and error handling.
 * A leg that fails (an actor's error, LEG_FAILED) carrying `status`/`reason` ends with them;
 * anything else fails with SEC_E_INTERNAL_ERROR.
 * Two named delays: `challengeExpiry` (the challenge is void after it) and `authorityTimeout`
 * (an authority that does not answer is an outage: SEC_E_NO_AUTHENTICATING_AUTHORITY).
 *
 * Tags tell the acceptor where the context rests without naming states: `continueNeeded` (the
 * CHALLENGE is out, the AUTHENTICATE is awaited) and `askingAuthority` (an authority actor runs).
 */
import { assign, fromPromise, raise, setup } from 'xstate';
import type { AccountInfo, DenyReason, RelayExchange } from '../src/ntlm/authority.js';
import { SEC_E_CONTEXT_EXPIRED, SEC_E_INTERNAL_ERROR, SEC_E_INVALID_HANDLE, SEC_E_INVALID_TOKEN, SEC_E_NO_AUTHENTICATING_AUTHORITY, SEC_E_OK } from '../src/ntlm/constants.js';

/** Leg 1 result: our CHALLENGE (or the relay authority's) and what leg 3 needs to check it. */
export interface IssuedChallenge {
  /** The CHALLENGE token bytes exactly as sent (MIC input). */
  challengeToken: Buffer;
  /** NEGOTIATE bytes exactly as received (MIC input). */
  negotiateToken: Buffer;
  /** 8 random bytes (verifier authorities); empty for relays (the DC knows its own). */
  serverChallenge: Buffer;
  /** Flags we answered with (NEGOTIATE flags & what we support). */
  flags: number;
  /** Raw TargetInfo AV pairs we sent, by AvId (value bytes), to check they come back unchanged. */
  sentAvPairs: Map<number, Buffer>;
  /** Set when a relay authority issued the challenge. */
  relay?: RelayExchange;
}

/** Per-call parameters of acceptSecurityContext that a leg needs. */
export interface LegParams {
  /** fContextReq (ASC_REQ_*). */
  contextReq: number;
  /** Expected MsvAvChannelBindings value (16 bytes), when the caller binds the channel. */
  channelBindings?: Buffer;
}

/** What an established context knows (kept out of logs; keys are wiped on delete). */
export interface EstablishedSession {
  user: string;
  domain: string;
  workstation: string;
  /** Negotiated flags from the AUTHENTICATE message. */
  flags: number;
  /** ExportedSessionKey (16 bytes) when known (verifier authorities). */
  exportedSessionKey?: Buffer;
  account?: AccountInfo;
}

/** The last leg's result: the machine's output. */
export interface AcceptOutcome {
  /** SSPI status (SEC_E_OK, SEC_E_LOGON_DENIED, ...). */
  status: number;
  /** Short stable word for logs: 'ok', 'bad-mic', 'ntlmv1-refused', 'expired', ... */
  reason: string;
  /** The authority's reason when it said no (gateway maps it to a raserror code). */
  denyReason?: DenyReason;
  /** User/domain the authority named, when it named them (denied ones too). */
  user?: string;
  domain?: string;
  session?: EstablishedSession;
}

export interface NtlmAcceptInput {
  /** How long a CHALLENGE stays valid, ms. */
  challengeLifetimeMs: number;
  /** How long the authority may take per leg, ms. */
  authorityTimeoutMs: number;
}

/**
 * No token bytes here: a leg's token and parameters travel in its events (NEGOTIATE /
 * AUTHENTICATE, then ASK_AUTHORITY to the invoked actor), so nothing is left to wipe.
 */
export interface NtlmAcceptContext extends NtlmAcceptInput {
  issued: IssuedChallenge | undefined;
  outcome: AcceptOutcome | undefined;
}

/** What the provided actions raise (never sent from outside). */
export type NtlmAcceptResultEvent =
  /** Our CHALLENGE is built. */
  | { type: 'ISSUED'; issued: IssuedChallenge }
  /** The AUTHENTICATE is decided without waiting (any outcome, ok or not). */
  | { type: 'VERDICT'; outcome: AcceptOutcome }
  /** The leg's work threw (an AcceptError keeps its status). */
  | { type: 'LEG_FAILED'; error: unknown }
  /** Only the authority can do this leg: invoke it with the leg's token and parameters. */
  | { type: 'ASK_AUTHORITY'; token: Buffer; params: LegParams };

/** continueNeeded: the CHALLENGE is out, the AUTHENTICATE awaited; askingAuthority: an authority actor runs. */
export type NtlmAcceptTag = 'continueNeeded' | 'askingAuthority';

export type NtlmAcceptEvent =
  | { type: 'NEGOTIATE'; token: Buffer; params: LegParams }
  | { type: 'AUTHENTICATE'; token: Buffer; params: LegParams }
  /** deleteSecurityContext: stop whatever runs (relays are aborted through their signal). */
  | { type: 'ABORT' }
  | NtlmAcceptResultEvent;

type AskAuthority = Extract<NtlmAcceptEvent, { type: 'ASK_AUTHORITY' }>;
/** The event that enters preparingChallenge / checking. */
export type LegEvent = Extract<NtlmAcceptEvent, { type: 'NEGOTIATE' | 'AUTHENTICATE' }>;

export interface IssueChallengeInput {
  negotiate: Buffer;
  params: LegParams;
}

export interface VerifyAuthenticateInput {
  authenticate: Buffer;
  issued: IssuedChallenge;
  params: LegParams;
}

function failure(status: number, reason: string): AcceptOutcome {
  return { status, reason };
}

/** Keep a failed leg's SSPI status when it has one; anything else is our bug. */
function fromError(error: unknown): AcceptOutcome {
  const e = error as { status?: unknown; reason?: unknown } | null;
  if (e && typeof e.status === 'number') return failure(e.status, typeof e.reason === 'string' ? e.reason : 'error');
  return failure(SEC_E_INTERNAL_ERROR, 'internal-error');
}

/** Record the outcome. */
function conclude<E extends { type: string }>(outcome: (args: { event: E }) => AcceptOutcome) {
  return assign<NtlmAcceptContext, E, undefined, NtlmAcceptEvent, never>(({ event }) => ({ outcome: outcome({ event }) }));
}

/** Hand a leg (token, parameters) to the authority actor: what a synchronous action raises when it cannot decide. */
export function askAuthorityFor(leg: LegEvent): AskAuthority {
  return { type: 'ASK_AUTHORITY', token: leg.token, params: leg.params };
}

/** The default of both synchronous actions: always ask the authority. */
const askAuthority = raise<NtlmAcceptContext, NtlmAcceptEvent, NtlmAcceptEvent, undefined>(
  ({ event }) => askAuthorityFor(event as LegEvent), // entry actions see the event that entered the state
);

/**
 * The one decision of leg 3, whether the authority answered at once (VERDICT) or was asked
 * (the verifying actor's done event): established when accepted, else failed.
 */
function decided<E extends { type: string }>(outcomeOf: (event: E) => AcceptOutcome) {
  return [
    { guard: { type: 'accepted', params: ({ event }: { event: E }) => outcomeOf(event) }, target: 'established', actions: conclude<E>(({ event }) => outcomeOf(event)) },
    { target: 'failed', actions: conclude<E>(({ event }) => outcomeOf(event)) },
  ] as const;
}

const outOfSequence = conclude(() => failure(SEC_E_INVALID_TOKEN, 'out-of-sequence'));
const deleted = conclude(() => failure(SEC_E_INVALID_HANDLE, 'deleted'));
const authorityTimedOut = conclude(() => failure(SEC_E_NO_AUTHENTICATING_AUTHORITY, 'authority-timeout'));

export const ntlmAcceptMachine = setup({
  types: {
    context: {} as NtlmAcceptContext,
    events: {} as NtlmAcceptEvent,
    input: {} as NtlmAcceptInput,
    output: {} as AcceptOutcome,
    tags: {} as NtlmAcceptTag,
  },
  actions: {
    // Fail-safe defaults: without a synchronous path, every leg goes to the authority actors.
    prepareChallenge: askAuthority,
    checkNow: askAuthority,
  },
  actors: {
    issueChallenge: fromPromise<IssuedChallenge, IssueChallengeInput>(async () => {
      throw new Error('ntlmAccept: issueChallenge actor not provided');
    }),
    verifyAuthenticate: fromPromise<AcceptOutcome, VerifyAuthenticateInput>(async () => {
      throw new Error('ntlmAccept: verifyAuthenticate actor not provided');
    }),
  },
  delays: {
    challengeExpiry: ({ context }) => context.challengeLifetimeMs,
    authorityTimeout: ({ context }) => context.authorityTimeoutMs,
  },
  guards: {
    accepted: (_, outcome: AcceptOutcome) => outcome.status === SEC_E_OK,
  },
}).createMachine({
  id: 'ntlmAccept',
  context: ({ input }) => ({
    challengeLifetimeMs: input.challengeLifetimeMs,
    authorityTimeoutMs: input.authorityTimeoutMs,
    issued: undefined,
    outcome: undefined,
  }),
  initial: 'awaitingNegotiate',
  states: {
    awaitingNegotiate: {
      on: {
        NEGOTIATE: { target: 'preparingChallenge' },
        AUTHENTICATE: { target: 'failed', actions: conclude(() => failure(SEC_E_INVALID_TOKEN, 'authenticate-before-negotiate')) },
        ABORT: { target: 'aborted', actions: deleted },
      },
    },
    /** Transient: the provided action answers in the same macrostep. */
    preparingChallenge: {
      entry: 'prepareChallenge',
      on: {
        ISSUED: { target: 'challengeSent', actions: assign({ issued: ({ event }) => event.issued }) },
        LEG_FAILED: { target: 'failed', actions: conclude(({ event }) => fromError(event.error)) },
        ASK_AUTHORITY: { target: 'issuingChallenge' },
        ABORT: { target: 'aborted', actions: deleted },
      },
    },
    issuingChallenge: {
      tags: ['askingAuthority'],
      invoke: {
        id: 'issueChallenge',
        src: 'issueChallenge',
        input: ({ event }) => ({ negotiate: (event as AskAuthority).token, params: (event as AskAuthority).params }),
        onDone: { target: 'challengeSent', actions: assign({ issued: ({ event }) => event.output }) },
        onError: { target: 'failed', actions: conclude(({ event }) => fromError(event.error)) },
      },
      after: {
        authorityTimeout: { target: 'failed', actions: authorityTimedOut },
      },
      on: {
        NEGOTIATE: { target: 'failed', actions: outOfSequence },
        AUTHENTICATE: { target: 'failed', actions: outOfSequence },
        ABORT: { target: 'aborted', actions: deleted },
      },
    },
    challengeSent: {
      tags: ['continueNeeded'],
      after: {
        challengeExpiry: { target: 'failed', actions: conclude(() => failure(SEC_E_CONTEXT_EXPIRED, 'challenge-expired')) },
      },
      on: {
        AUTHENTICATE: { target: 'checking' },
        NEGOTIATE: { target: 'failed', actions: outOfSequence },
        ABORT: { target: 'aborted', actions: deleted },
      },
    },
    /** Transient, like preparingChallenge. */
    checking: {
      entry: 'checkNow',
      on: {
        VERDICT: decided<Extract<NtlmAcceptEvent, { type: 'VERDICT' }>>((event) => event.outcome),
        LEG_FAILED: { target: 'failed', actions: conclude(({ event }) => fromError(event.error)) },
        ASK_AUTHORITY: { target: 'verifying' },
        ABORT: { target: 'aborted', actions: deleted },
      },
    },
    verifying: {
      tags: ['askingAuthority'],
      invoke: {
        id: 'verifyAuthenticate',
        src: 'verifyAuthenticate',
        input: ({ context, event }) => ({ authenticate: (event as AskAuthority).token, issued: context.issued!, params: (event as AskAuthority).params }),
        onDone: decided<{ type: string; output: AcceptOutcome }>((event) => event.output),
        onError: { target: 'failed', actions: conclude(({ event }) => fromError(event.error)) },
      },
      after: {
        authorityTimeout: { target: 'failed', actions: authorityTimedOut },
      },
      on: {
        NEGOTIATE: { target: 'failed', actions: outOfSequence },
        AUTHENTICATE: { target: 'failed', actions: outOfSequence },
        ABORT: { target: 'aborted', actions: deleted },
      },
    },
    established: { type: 'final' },
    failed: { type: 'final' },
    aborted: { type: 'final' },
  },
  output: ({ context }) => context.outcome ?? failure(SEC_E_INTERNAL_ERROR, 'no-outcome'),
});

export type NtlmAcceptMachine = typeof ntlmAcceptMachine;
