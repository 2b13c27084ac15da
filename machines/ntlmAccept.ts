/**
 * The AcceptSecurityContext legs of one NTLM server context [MS-NLMP 3.2.5]:
 *
 *   awaitingNegotiate --NEGOTIATE--> issuingChallenge --done--> challengeSent (SEC_I_CONTINUE_NEEDED)
 *   challengeSent --AUTHENTICATE--> verifying --accepted--> established (SEC_E_OK)
 *   any failure --> failed (status + reason + DenyReason); ABORT --> aborted
 *
 * Orchestration only. Decoding, policy checks, crypto and the authority arrive as two actors
 * supplied by src/ntlm/server.ts with .provide():
 *   issueChallenge     NEGOTIATE -> IssuedChallenge (local build, or the authority's relay)
 *   verifyAuthenticate AUTHENTICATE + IssuedChallenge -> AcceptOutcome
 * An actor that throws an error carrying `status`/`reason` (AcceptError) fails with them;
 * anything else fails with SEC_E_INTERNAL_ERROR. Two named delays: `challengeExpiry` (the
 * challenge is void after it: Samba uses 30 minutes) and `authorityTimeout` (an authority
 * that does not answer is an outage: SEC_E_NO_AUTHENTICATING_AUTHORITY).
 */
import { assign, fromPromise, setup } from 'xstate';
import type { AcceptOutcome, IssuedChallenge, LegParams } from '../src/ntlm/context.js';

// SSPI codes the machine itself decides (winerror.h); the rest come from the actors.
const SEC_E_OK = 0x00000000;
const SEC_E_INTERNAL_ERROR = 0x80090304;
const SEC_E_INVALID_TOKEN = 0x80090308;
const SEC_E_INVALID_HANDLE = 0x80090301;
const SEC_E_NO_AUTHENTICATING_AUTHORITY = 0x80090311;
const SEC_E_CONTEXT_EXPIRED = 0x80090317;

export interface NtlmAcceptInput {
  /** How long a CHALLENGE stays valid, ms. */
  challengeLifetimeMs: number;
  /** How long the authority may take per leg, ms. */
  authorityTimeoutMs: number;
}

export interface NtlmAcceptContext extends NtlmAcceptInput {
  negotiate: Buffer | undefined;
  authenticate: Buffer | undefined;
  /** The current leg's call parameters (contextReq, channel bindings). */
  params: LegParams | undefined;
  issued: IssuedChallenge | undefined;
  outcome: AcceptOutcome | undefined;
}

export type NtlmAcceptEvent =
  | { type: 'NEGOTIATE'; token: Buffer; params: LegParams }
  | { type: 'AUTHENTICATE'; token: Buffer; params: LegParams }
  /** deleteSecurityContext: stop whatever runs (relays are aborted through their signal). */
  | { type: 'ABORT' };

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

/** Keep an actor error's SSPI status when it has one; anything else is our bug. */
function fromError(error: unknown): AcceptOutcome {
  const e = error as { status?: unknown; reason?: unknown } | null;
  if (e && typeof e.status === 'number') return failure(e.status, typeof e.reason === 'string' ? e.reason : 'error');
  return failure(SEC_E_INTERNAL_ERROR, 'internal-error');
}

/**
 * Record the outcome and drop the token bytes in the same step (one assign per transition
 * keeps the actor light: the benchmark counts every microstep).
 */
function conclude<E extends { type: string }>(outcome: (args: { event: E }) => AcceptOutcome) {
  return assign<NtlmAcceptContext, E, undefined, NtlmAcceptEvent, never>(({ event }) => ({ outcome: outcome({ event }), negotiate: undefined, authenticate: undefined, params: undefined }));
}

export const ntlmAcceptMachine = setup({
  types: {
    context: {} as NtlmAcceptContext,
    events: {} as NtlmAcceptEvent,
    input: {} as NtlmAcceptInput,
    output: {} as AcceptOutcome,
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
  context: ({ input }) => ({ ...input, negotiate: undefined, authenticate: undefined, params: undefined, issued: undefined, outcome: undefined }),
  initial: 'awaitingNegotiate',
  states: {
    awaitingNegotiate: {
      on: {
        NEGOTIATE: { target: 'issuingChallenge', actions: assign({ negotiate: ({ event }) => event.token, params: ({ event }) => event.params }) },
        AUTHENTICATE: { target: 'failed', actions: conclude(() => failure(SEC_E_INVALID_TOKEN, 'authenticate-before-negotiate')) },
        ABORT: { target: 'aborted', actions: conclude(() => failure(SEC_E_INVALID_HANDLE, 'deleted')) },
      },
    },
    issuingChallenge: {
      invoke: {
        id: 'issueChallenge',
        src: 'issueChallenge',
        input: ({ context }) => ({ negotiate: context.negotiate!, params: context.params! }),
        onDone: { target: 'challengeSent', actions: assign({ issued: ({ event }) => event.output }) },
        onError: { target: 'failed', actions: conclude(({ event }) => fromError(event.error)) },
      },
      after: {
        authorityTimeout: { target: 'failed', actions: conclude(() => failure(SEC_E_NO_AUTHENTICATING_AUTHORITY, 'authority-timeout')) },
      },
      on: {
        NEGOTIATE: { target: 'failed', actions: conclude(() => failure(SEC_E_INVALID_TOKEN, 'out-of-sequence')) },
        AUTHENTICATE: { target: 'failed', actions: conclude(() => failure(SEC_E_INVALID_TOKEN, 'out-of-sequence')) },
        ABORT: { target: 'aborted', actions: conclude(() => failure(SEC_E_INVALID_HANDLE, 'deleted')) },
      },
    },
    challengeSent: {
      after: {
        challengeExpiry: { target: 'failed', actions: conclude(() => failure(SEC_E_CONTEXT_EXPIRED, 'challenge-expired')) },
      },
      on: {
        AUTHENTICATE: { target: 'verifying', actions: assign({ authenticate: ({ event }) => event.token, params: ({ event }) => event.params }) },
        NEGOTIATE: { target: 'failed', actions: conclude(() => failure(SEC_E_INVALID_TOKEN, 'out-of-sequence')) },
        ABORT: { target: 'aborted', actions: conclude(() => failure(SEC_E_INVALID_HANDLE, 'deleted')) },
      },
    },
    verifying: {
      invoke: {
        id: 'verifyAuthenticate',
        src: 'verifyAuthenticate',
        input: ({ context }) => ({ authenticate: context.authenticate!, issued: context.issued!, params: context.params! }),
        onDone: [
          { guard: { type: 'accepted', params: ({ event }) => event.output }, target: 'established', actions: conclude(({ event }) => event.output) },
          { target: 'failed', actions: conclude(({ event }) => event.output) },
        ],
        onError: { target: 'failed', actions: conclude(({ event }) => fromError(event.error)) },
      },
      after: {
        authorityTimeout: { target: 'failed', actions: conclude(() => failure(SEC_E_NO_AUTHENTICATING_AUTHORITY, 'authority-timeout')) },
      },
      on: {
        NEGOTIATE: { target: 'failed', actions: conclude(() => failure(SEC_E_INVALID_TOKEN, 'out-of-sequence')) },
        AUTHENTICATE: { target: 'failed', actions: conclude(() => failure(SEC_E_INVALID_TOKEN, 'out-of-sequence')) },
        ABORT: { target: 'aborted', actions: conclude(() => failure(SEC_E_INVALID_HANDLE, 'deleted')) },
      },
    },
    established: { type: 'final' },
    failed: { type: 'final' },
    aborted: { type: 'final' },
  },
  output: ({ context }) => context.outcome ?? failure(SEC_E_INTERNAL_ERROR, 'no-outcome'),
});

export type NtlmAcceptMachine = typeof ntlmAcceptMachine;
