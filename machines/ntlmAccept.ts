/**
 * The AcceptSecurityContext legs of one NTLM server context [MS-NLMP 3.2.5]:
 *
 *   awaitingNegotiate --NEGOTIATE--> preparingChallenge
 *     --ISSUED--> challengeSent (SEC_I_CONTINUE_NEEDED)          our own challenge (verifiers)
 *     --ASK_AUTHORITY--> issuingChallenge --ISSUED--> challengeSent   the authority's (relay to a DC)
 *   challengeSent --AUTHENTICATE--> checking
 *     --VERDICT--> established (SEC_E_OK) | failed               the authority answered at once
 *     --ASK_AUTHORITY--> verifying --VERDICT--> established | failed  the authority is asked (async)
 *   any failure --> failed (status + reason + DenyReason); ABORT --> aborted
 *
 * Orchestration only. Decoding, policy checks, crypto and the authority arrive from
 * src/ntlm/server.ts through .provide():
 *   entry actions of the transient states (synchronous CPU work, no I/O; each raises
 *   ISSUED/VERDICT, LEG_FAILED or ASK_AUTHORITY in the same macrostep):
 *     prepareChallenge    build our CHALLENGE now, unless the authority issues it (relay)
 *     checkNow            run every check and take the authority's synchronous verdict
 *                         (Authority.verifySync, e.g. the local store), unless it has none
 *   entry actions of the asking states (the authority on the network: a DC relay, winbind):
 *     issueChallenge      start asking for the CHALLENGE; its answer comes back as ISSUED
 *     verifyAuthenticate  start asking for the verdict; it comes back as VERDICT
 *                         (either fails as LEG_FAILED), sent to the context by the provider
 *     stopAsking          exit action: abort the question (timeout, ABORT, out of sequence)
 * The defaults of the synchronous actions say ASK_AUTHORITY and those of the asking ones fail,
 * so that a machine given nothing fails closed. The asking states hold the leg under the
 * `authorityTimeout` delay (an authority that does not answer is an outage:
 * SEC_E_NO_AUTHENTICATING_AUTHORITY); `challengeExpiry` voids an unanswered CHALLENGE.
 * The machine runs without an actor per context (src/ntlm/runner.ts computes its transitions
 * with the machine's own transition function) or, when observed, in an actor: it uses nothing
 * but raise, assign, delays and these actions, which both execute alike.
 *
 * A failed leg (LEG_FAILED) keeps its error's `status` and `reason` only when the status is an
 * SSPI failure code; anything else, SEC_E_OK included, is SEC_E_INTERNAL_ERROR. Only an
 * outcome with status SEC_E_OK and a session establishes the context.
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
 * No token bytes here: a leg's token and parameters travel in its events (NEGOTIATE /
 * AUTHENTICATE, then ASK_AUTHORITY to the asking action), so nothing is left to wipe.
 */
export interface NtlmAcceptContext extends NtlmAcceptInput {
  issued: IssuedChallenge | undefined;
  outcome: AcceptOutcome | undefined;
}

/** What the provided actions raise, or send back when the authority answers (never sent by callers). */
export type NtlmAcceptResultEvent =
  /** The CHALLENGE is built (ours), or the relay authority gave its own. */
  | { type: 'ISSUED'; issued: IssuedChallenge }
  /** The AUTHENTICATE is decided (any outcome, ok or not). */
  | { type: 'VERDICT'; outcome: AcceptOutcome }
  /** The leg's work threw (an error with an SSPI failure `status` keeps it). */
  | { type: 'LEG_FAILED'; error: unknown }
  /** Only the authority can do this leg: ask it with the leg's token and parameters. */
  | { type: 'ASK_AUTHORITY'; token: Buffer; params: LegParams };

/** continueNeeded: the CHALLENGE is out, the AUTHENTICATE awaited; askingAuthority: an authority is asked. */
export type NtlmAcceptTag = 'continueNeeded' | 'askingAuthority';

export type NtlmAcceptEvent =
  | { type: 'NEGOTIATE'; token: Buffer; params: LegParams }
  | { type: 'AUTHENTICATE'; token: Buffer; params: LegParams }
  /** deleteSecurityContext: stop whatever runs (relays are aborted through their signal). */
  | { type: 'ABORT' }
  | NtlmAcceptResultEvent;

export type AskAuthority = Extract<NtlmAcceptEvent, { type: 'ASK_AUTHORITY' }>;
/** The event that enters preparingChallenge / checking. */
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

/** Hand a leg (token, parameters) to the authority: what a synchronous action raises when it cannot decide. */
export function askAuthorityFor(leg: LegEvent): AskAuthority {
  return { type: 'ASK_AUTHORITY', token: leg.token, params: leg.params };
}

/** The default of both synchronous actions: always ask the authority. */
const askAuthority = raise<NtlmAcceptContext, NtlmAcceptEvent, NtlmAcceptEvent, undefined>(
  ({ event }) => askAuthorityFor(event as LegEvent), // entry actions see the event that entered the state
);

type Verdict = Extract<NtlmAcceptEvent, { type: 'VERDICT' }>;

/**
 * The one decision of leg 3, whether the authority answered at once or was asked: established
 * when accepted (SEC_E_OK with a session), else failed with a failure status.
 */
const decided = [
  { guard: { type: 'accepted', params: ({ event }: { event: Verdict }) => event.outcome }, target: 'established', actions: conclude<Verdict>(({ event }) => event.outcome) },
  { target: 'failed', actions: conclude<Verdict>(({ event }) => asFailure(event.outcome)) },
] as const;

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
    // Fail-safe defaults: without a synchronous path every leg goes to the authority, and
    // without an authority every leg fails (SEC_E_INTERNAL_ERROR).
    prepareChallenge: askAuthority,
    checkNow: askAuthority,
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
        LEG_FAILED: { target: 'failed', actions: legFailed },
        ASK_AUTHORITY: { target: 'issuingChallenge' },
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
        AUTHENTICATE: { target: 'checking' },
        NEGOTIATE: { target: 'failed', actions: outOfSequence },
        ABORT: { target: 'aborted', actions: deleted },
      },
    },
    /** Transient, like preparingChallenge. */
    checking: {
      entry: 'checkNow',
      on: {
        VERDICT: decided,
        LEG_FAILED: { target: 'failed', actions: legFailed },
        ASK_AUTHORITY: { target: 'verifying' },
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
        VERDICT: decided,
        LEG_FAILED: { target: 'failed', actions: legFailed },
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
