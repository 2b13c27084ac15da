/**
 * The AcceptSecurityContext legs of one NTLM server context [MS-NLMP 3.2.5]:
 *
 *   awaitingNegotiate --NEGOTIATE(ISSUED)--> challengeSent (SEC_I_CONTINUE_NEEDED)   our own challenge
 *     --NEGOTIATE(ASK_AUTHORITY)--> issuingChallenge --ISSUED--> challengeSent   a relay authority's
 *   challengeSent --AUTHENTICATE(VERDICT)--> established (SEC_E_OK) | failed  the authority answered at once
 *     --AUTHENTICATE(ASK_AUTHORITY)--> verifying --VERDICT--> established | failed   the authority is asked
 *   any failure --> failed (status + reason + DenyReason); ABORT --> aborted
 *
 * Orchestration only. The acceptor (src/ntlm/server.ts) does a leg's CPU work (decoding, policy
 * checks, crypto, an authority's synchronous verdict) and sends the leg with what it came to,
 * its `step`: ISSUED (our CHALLENGE), VERDICT (an outcome), LEG_FAILED (the work threw) or
 * ASK_AUTHORITY (only the authority can do this leg). The machine decides what that means:
 * which state follows, which status the context ends with, when the authority is asked, how
 * long it may take and how long a CHALLENGE stays valid. Its transitions are pure (they assign
 * data from events, nothing else), so that it can run on its transition function alone.
 *
 * Asking the authority (a DC relay, winbind) is the work of provided actions:
 *   issueChallenge      entry of issuingChallenge: ask for the CHALLENGE; the answer comes back
 *                       as ISSUED (or LEG_FAILED), sent to the context
 *   verifyAuthenticate  entry of verifying: ask for the verdict; it comes back as VERDICT
 *   stopAsking          exit of both: abort the question (timeout, ABORT, out of sequence)
 * Their defaults fail the leg, so that a machine given nothing fails closed. The asking states
 * hold the leg under the `authorityTimeout` delay (an authority that does not answer is an
 * outage: SEC_E_NO_AUTHENTICATING_AUTHORITY); `challengeExpiry` voids an unanswered CHALLENGE.
 * The machine runs without an actor per context (src/ntlm/runner.ts) or, when observed, in an
 * actor: it uses nothing but assign, raise, delays and these actions, which both execute alike.
 *
 * A failed leg keeps its error's `status` and `reason` only when the status is an SSPI failure
 * code; anything else, SEC_E_OK included, is SEC_E_INTERNAL_ERROR. Only an outcome with status
 * SEC_E_OK and a session establishes the context.
 *
 * Tags tell the acceptor where the context rests without naming states: `continueNeeded` (the
 * CHALLENGE is out, the AUTHENTICATE is awaited) and `askingAuthority` (an authority is asked).
 */
import { assign, raise, setup } from 'xstate';
import type { AccountInfo, DenyReason, RelayExchange } from '../src/ntlm/authority.js';
import { isFailureStatus, SEC_E_CONTEXT_EXPIRED, SEC_E_INTERNAL_ERROR, SEC_E_INVALID_HANDLE, SEC_E_INVALID_TOKEN, SEC_E_NO_AUTHENTICATING_AUTHORITY, SEC_E_OK } from '../src/ntlm/constants.js';

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
 * No token bytes here: a leg's token and parameters travel in its event (NEGOTIATE /
 * AUTHENTICATE, seen by the asking action that the event enters), so nothing is left to wipe.
 */
export interface NtlmAcceptContext extends NtlmAcceptInput {
  issued: IssuedChallenge | undefined;
  outcome: AcceptOutcome | undefined;
}

/** What a leg's work came to (the `step` of NEGOTIATE / AUTHENTICATE), and what an asked authority sends back. */
export type NtlmAcceptResultEvent =
  /** The CHALLENGE is built (ours), or the relay authority gave its own. */
  | { type: 'ISSUED'; issued: IssuedChallenge }
  /** The AUTHENTICATE is decided (any outcome, ok or not). */
  | { type: 'VERDICT'; outcome: AcceptOutcome }
  /** The leg's work threw (an error with an SSPI failure `status` keeps it). */
  | { type: 'LEG_FAILED'; error: unknown }
  /** Only the authority can do this leg (a step only: never sent on its own). */
  | { type: 'ASK_AUTHORITY' };

/** continueNeeded: the CHALLENGE is out, the AUTHENTICATE awaited; askingAuthority: an authority is asked. */
export type NtlmAcceptTag = 'continueNeeded' | 'askingAuthority';

export type NtlmAcceptEvent =
  | { type: 'NEGOTIATE'; token: Buffer; params: LegParams; step: NtlmAcceptResultEvent }
  | { type: 'AUTHENTICATE'; token: Buffer; params: LegParams; step: NtlmAcceptResultEvent }
  /** deleteSecurityContext: stop whatever runs (relays are aborted through stopAsking). */
  | { type: 'ABORT' }
  | Exclude<NtlmAcceptResultEvent, { type: 'ASK_AUTHORITY' }>;

/** NEGOTIATE or AUTHENTICATE: the event that enters an asking state. */
export type LegEvent = Extract<NtlmAcceptEvent, { type: 'NEGOTIATE' | 'AUTHENTICATE' }>;

function failure(status: number, reason: string): AcceptOutcome {
  return { status, reason };
}

/** Keep a failed leg's SSPI failure status when it has one; anything else (a success code too) is our bug. */
function fromError(error: unknown): AcceptOutcome {
  const e = error as { status?: unknown; reason?: unknown } | null;
  if (e && isFailureStatus(e.status)) return failure(e.status, typeof e.reason === 'string' ? e.reason : 'error');
  return failure(SEC_E_INTERNAL_ERROR, 'internal-error');
}

/** What a failed context reports: the outcome when it is a failure, else an internal error (never a success without a session). */
function asFailure(outcome: AcceptOutcome): AcceptOutcome {
  return isFailureStatus(outcome.status) ? outcome : { ...outcome, status: SEC_E_INTERNAL_ERROR, reason: outcome.status === SEC_E_OK ? 'no-session' : 'internal-error' };
}

/** Record the outcome. */
function conclude<E extends { type: string }>(outcome: (args: { event: E }) => AcceptOutcome) {
  return assign<NtlmAcceptContext, E, undefined, NtlmAcceptEvent, never>(({ event }) => ({ outcome: outcome({ event }) }));
}

/** A leg's outcome when its step (or the authority's answer) decides it. */
function outcomeOf(step: NtlmAcceptResultEvent): AcceptOutcome {
  if (step.type === 'VERDICT') return step.outcome;
  if (step.type === 'LEG_FAILED') return fromError(step.error);
  return failure(SEC_E_INTERNAL_ERROR, 'internal-error');
}

type Authenticate = Extract<NtlmAcceptEvent, { type: 'AUTHENTICATE' }>;
type Verdict = Extract<NtlmAcceptEvent, { type: 'VERDICT' | 'LEG_FAILED' }>;

/**
 * The one decision of leg 3, whether the authority answered at once (the AUTHENTICATE's step)
 * or was asked (its VERDICT): established when accepted (SEC_E_OK with a session), else failed
 * with a failure status.
 */
function decided<E extends Authenticate | Verdict>(stepOf: (event: E) => NtlmAcceptResultEvent) {
  return [
    { guard: { type: 'accepted', params: ({ event }: { event: E }) => outcomeOf(stepOf(event)) }, target: 'established', actions: conclude<E>(({ event }) => outcomeOf(stepOf(event))) },
    { target: 'failed', actions: conclude<E>(({ event }) => asFailure(outcomeOf(stepOf(event)))) },
  ] as const;
}

const legFailed = conclude<Extract<NtlmAcceptEvent, { type: 'LEG_FAILED' }>>(({ event }) => fromError(event.error));

/** The default of the asking actions: the leg fails (raised, so it is decided in the same macrostep). */
function notProvided(name: string) {
  return raise<NtlmAcceptContext, NtlmAcceptEvent, NtlmAcceptEvent, undefined>(() => ({ type: 'LEG_FAILED', error: new Error(`ntlmAccept: ${name} not provided`) }));
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
    // Fail-safe defaults: without an authority every asked leg fails (SEC_E_INTERNAL_ERROR).
    issueChallenge: notProvided('issueChallenge'),
    verifyAuthenticate: notProvided('verifyAuthenticate'),
    stopAsking: () => undefined,
  },
  delays: {
    challengeExpiry: ({ context }) => context.challengeLifetimeMs,
    authorityTimeout: ({ context }) => context.authorityTimeoutMs,
  },
  guards: {
    accepted: (_, outcome: AcceptOutcome) => outcome.status === SEC_E_OK && outcome.session !== undefined,
    stepIs: ({ event }, type: NtlmAcceptResultEvent['type']) => (event as LegEvent).step?.type === type,
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
        NEGOTIATE: [
          { guard: { type: 'stepIs', params: 'ISSUED' }, target: 'challengeSent', actions: assign({ issued: ({ event }) => (event.step as Extract<NtlmAcceptResultEvent, { type: 'ISSUED' }>).issued }) },
          { guard: { type: 'stepIs', params: 'ASK_AUTHORITY' }, target: 'issuingChallenge' },
          { target: 'failed', actions: conclude(({ event }) => asFailure(outcomeOf(event.step))) },
        ],
        AUTHENTICATE: { target: 'failed', actions: conclude(() => failure(SEC_E_INVALID_TOKEN, 'authenticate-before-negotiate')) },
        ABORT: { target: 'aborted', actions: deleted },
      },
    },
    issuingChallenge: {
      tags: ['askingAuthority'],
      entry: 'issueChallenge',
      exit: 'stopAsking',
      after: {
        authorityTimeout: { target: 'failed', actions: authorityTimedOut },
      },
      on: {
        ISSUED: { target: 'challengeSent', actions: assign({ issued: ({ event }) => event.issued }) },
        LEG_FAILED: { target: 'failed', actions: legFailed },
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
        AUTHENTICATE: [{ guard: { type: 'stepIs', params: 'ASK_AUTHORITY' }, target: 'verifying' }, ...decided<Authenticate>((event) => event.step)],
        NEGOTIATE: { target: 'failed', actions: outOfSequence },
        ABORT: { target: 'aborted', actions: deleted },
      },
    },
    verifying: {
      tags: ['askingAuthority'],
      entry: 'verifyAuthenticate',
      exit: 'stopAsking',
      after: {
        authorityTimeout: { target: 'failed', actions: authorityTimedOut },
      },
      on: {
        VERDICT: decided<Verdict>((event) => event),
        LEG_FAILED: decided<Verdict>((event) => event),
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
