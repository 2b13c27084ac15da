/**
 * The NTLM acceptor, shaped after SSPI (AcceptSecurityContext (NTLM), sspi.h):
 *
 *   const cred = acquireCredentialsHandle({ authority });
 *   let r = await acceptSecurityContext(cred, null, negotiate, ASC_REQ_CONNECTION, SECURITY_NATIVE_DREP);
 *   // r.status === SEC_I_CONTINUE_NEEDED, send r.outputToken (the CHALLENGE)
 *   r = await acceptSecurityContext(cred, r.context, authenticate, ASC_REQ_CONNECTION, SECURITY_NATIVE_DREP);
 *   // r.status === SEC_E_OK | SEC_E_LOGON_DENIED | SEC_E_INVALID_TOKEN | ...
 *   querySecurityContextToken(r.context)  // { user, domain, workstation }
 *   deleteSecurityContext(r.context)
 *
 * Each context drives one ntlmAccept machine actor (machines/ntlmAccept.ts); the machine is
 * provided with this module's accept steps once per credential: synchronous actions for the CPU
 * work (our CHALLENGE; the whole AUTHENTICATE check when the authority has verifySync, as the
 * local store), invoked actors when the authority must be asked (relay, winbind, ldap). Statuses:
 *   authority verdict ok -> SEC_E_OK; denied -> SEC_E_LOGON_DENIED (the context keeps the
 *   DenyReason); unavailable, thrown, timed out -> SEC_E_NO_AUTHENTICATING_AUTHORITY;
 *   malformed token -> SEC_E_INVALID_TOKEN; challenge past its lifetime -> SEC_E_CONTEXT_EXPIRED;
 *   channel bindings absent or different -> SEC_E_BAD_BINDINGS; a client that cannot give what
 *   fContextReq asks (INTEGRITY without SIGN, CONFIDENTIALITY without SEAL, both need extended
 *   session security) -> SEC_E_LOGON_DENIED with reason integrity-/confidentiality-not-offered
 *   (our choice: the logon cannot be granted as asked; SEC_E_UNSUPPORTED_FUNCTION is what SSPI
 *   documents for invalid request flags, not for a client's shortfall).
 * Logs carry user, domain, workstation, status and reason only: never tokens or keys.
 */
import { createActor, type AnyActorRef, type InspectionEvent, type Observer, type SnapshotFrom } from 'xstate';
import { hostname } from 'node:os';
import {
  ntlmAcceptMachine, type AcceptOutcome, type EstablishedSession, type IssuedChallenge, type LegEvent, type LegParams, type NtlmAcceptEvent, type NtlmAcceptMachine,
  type NtlmAcceptResultEvent,
} from '../../machines/ntlmAccept.js';
import type { AccountInfo, Authority, DenyReason } from './authority.js';
import { nullLogger, type Logger } from '../logging.js';
import { OptionError, RasgateError } from '../errors.js';
import {
  ASC_REQ_ALLOCATE_MEMORY, ASC_REQ_CONNECTION, ASC_REQ_REPLAY_DETECT, ASC_REQ_SEQUENCE_DETECT, ASC_RET_ALLOCATED_MEMORY, ASC_RET_CONFIDENTIALITY,
  ASC_RET_CONNECTION, ASC_RET_IDENTIFY, ASC_RET_INTEGRITY, ASC_RET_REPLAY_DETECT, ASC_RET_SEQUENCE_DETECT, Layout, NegotiateFlags as F, SEC_E_BAD_BINDINGS,
  SEC_E_INSUFFICIENT_MEMORY, SEC_E_INTERNAL_ERROR, SEC_E_INVALID_HANDLE, SEC_E_INVALID_PARAMETER, SEC_E_INVALID_TOKEN, SEC_E_OK, SEC_E_CONTEXT_EXPIRED,
  SEC_I_CONTINUE_NEEDED, SEC_E_UNSUPPORTED_FUNCTION, statusName,
} from './constants.js';
import { NtlmSessionErrorCode } from './errors.js';
import { NtlmSessionSecurity } from './session.js';
import { buildChallenge, issueChallenge, relaysChallenge, retireChallenge, verifyAuthenticate, verifyAuthenticateNow, nowMs } from './accept.js';
import { resolvePolicy, type NtlmPolicyOptions } from './policy.js';
import { MachineHost, type MachineRun } from './runner.js';
import type { AcceptClock, CredentialState, ServerNames } from './context.js';

export interface AcquireCredentialsOptions {
  /** Who checks the responses (local store, winbind) or issues the challenges (a DC relay). Required. */
  authority: Authority;
  policy?: NtlmPolicyOptions;
  /** Default: a silent logger. */
  logger?: Logger;
  /** MsvAvNbDomainName and the CHALLENGE TargetName. Default: the authority's `domain` if it has one, else the NetBIOS computer name. */
  netbiosDomainName?: string;
  /** MsvAvNbComputerName. Default: this host's name up to the first dot, upper-cased, at most 15 characters. */
  netbiosComputerName?: string;
  /** MsvAvDnsComputerName. Default: os.hostname(). */
  dnsComputerName?: string;
  /** MsvAvDnsDomainName. Default: the part of dnsComputerName after the first dot, else the NetBIOS domain lower-cased. */
  dnsDomainName?: string;
  /** Timers and time (xstate SimulatedClock in tests). Default: the real clock. */
  clock?: AcceptClock;
}

/** An inbound (SECPKG_CRED_INBOUND) credential handle. Opaque. */
export interface CredentialHandle {
  readonly kind: 'ntlm-inbound';
}

/** A server security context handle. Opaque; pass it back on the next leg. */
export interface SecurityContext {
  readonly id: number;
}

export interface AcceptOptions {
  /**
   * The expected MsvAvChannelBindings value: 16 bytes, channelBindingsHash(applicationData).
   * Given on either leg; once given it is bound to the context (a different value later is
   * refused with SEC_E_BAD_BINDINGS).
   */
  channelBindings?: Buffer;
  /**
   * First leg only: an xstate inspection observer for this context's ntlmAccept machine, so that
   * its transitions reach the transition log and the inspector. The context then runs in an
   * xstate actor; without one it runs on the machine's transition function (no actor, faster).
   */
  inspect?: Observer<InspectionEvent>;
  /**
   * First leg only: the logger for this context's records (e.g. a child carrying the caller's
   * line and call), in place of the credential's. Default: the credential's logger.
   */
  logger?: Logger;
}

export interface AcceptResult {
  /** SEC_I_CONTINUE_NEEDED, SEC_E_OK or a SEC_E_* failure. */
  status: number;
  /**
   * The context (new on the first leg). Present even on failure, so that the caller can delete
   * it; null when none was made (bad arguments, SEC_E_INSUFFICIENT_MEMORY).
   */
  context: SecurityContext | null;
  /** The CHALLENGE on the first leg. */
  outputToken?: Buffer;
  /** ASC_RET_* granted; meaningful on the last leg only. */
  contextAttr: number;
  /** When the established context lapses; set on the last leg only. */
  expiry?: Date;
  /** Short stable word for logs ('ok', 'bad-mic', ...). */
  reason: string;
  /** The authority's reason when it denied the logon. */
  denyReason?: DenyReason;
}

/** One context's machine: a run on the machine's transition function, or (observed) an actor. */
interface LegMachine {
  send(event: NtlmAcceptEvent): void;
  getSnapshot(): SnapshotFrom<NtlmAcceptMachine>;
  stop(): void;
}

interface CredentialInternal extends CredentialState {
  machine: NtlmAcceptMachine;
  host: MachineHost<NtlmAcceptMachine>;
  nextId: number;
  /** Contexts made and not yet finished or deleted (capped by policy.maxPendingContexts). */
  pending: number;
  /** NEGOTIATEs refused for the cap since it was last logged. */
  refused: number;
  refusedLoggedAt: number;
}

/** One context: its machine, what the legs left, and the observer of the machine's snapshots. */
class ContextInternal implements Observer<SnapshotFrom<NtlmAcceptMachine>> {
  machine!: LegMachine;
  wake: (() => void) | undefined = undefined;
  outcome: AcceptOutcome | undefined = undefined;
  session: EstablishedSession | undefined = undefined;
  security: NtlmSessionSecurity | undefined = undefined;
  /** Counted in cred.pending. */
  pending = true;
  deleted = false;

  constructor(
    readonly cred: CredentialInternal,
    public contextReq: number,
    /** Bound on the leg that first gave them. */
    public channelBindings: Buffer | undefined,
    /** This context's records go here (AcceptOptions.logger, else the credential's). */
    readonly logger: Logger = cred.logger,
  ) {}

  next(snap: SnapshotFrom<NtlmAcceptMachine>): void {
    if (snap.status === 'done') {
      this.outcome = snap.output;
      settlePending(this);
      retireChallenge(this.cred, snap.context.issued);
    }
    if (this.wake && rests(snap)) {
      const wake = this.wake;
      this.wake = undefined;
      wake();
    }
  }

  error(err: unknown): void {
    this.outcome = { status: SEC_E_INTERNAL_ERROR, reason: 'internal-error' };
    settlePending(this);
    this.logger.error('ntlm accept machine failed', { error: err instanceof Error ? err.message : String(err) });
    this.wake?.();
  }
}

const credentials = new WeakMap<CredentialHandle, CredentialInternal>();
const SILENT = nullLogger();
const contexts = new WeakMap<SecurityContext, ContextInternal>();
/** The question an asking state has put to the authority, by the machine's `self`: stopAsking aborts it. */
const asking = new WeakMap<object, AbortController>();

function defaultNames(options: AcquireCredentialsOptions): ServerNames {
  const host = options.dnsComputerName ?? hostname();
  const label = host.split('.')[0]!.toUpperCase().slice(0, 15) || 'RASGATE';
  const netbiosComputer = options.netbiosComputerName ?? label;
  const authorityDomain = (options.authority as { domain?: unknown }).domain;
  const netbiosDomain = options.netbiosDomainName ?? (typeof authorityDomain === 'string' && authorityDomain ? authorityDomain : netbiosComputer);
  const dot = host.indexOf('.');
  const dnsDomain = options.dnsDomainName ?? (dot > 0 ? host.slice(dot + 1) : netbiosDomain.toLowerCase());
  for (const [key, value] of [['netbiosComputerName', netbiosComputer], ['netbiosDomainName', netbiosDomain]] as const) {
    if (value.length === 0 || value.length > 15) throw new OptionError(key, 'must be 1 to 15 characters (a NetBIOS name)');
  }
  return { netbiosComputer, netbiosDomain, dnsComputer: host, dnsDomain };
}

/** Real timers that do not keep the process alive: a pending challenge is no reason to stay up. */
const unrefClock: AcceptClock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (id) => clearTimeout(id as NodeJS.Timeout),
};

/**
 * AcquireCredentialsHandle(SECPKG_CRED_INBOUND) for NTLM, bound to an authority. Throws
 * OptionError (code OPTION_INVALID, `key` naming the option) for options it cannot use.
 */
export function acquireCredentialsHandle(options: AcquireCredentialsOptions): CredentialHandle {
  const authority = options?.authority;
  if (!authority || (typeof authority.verify !== 'function' && typeof authority.relay !== 'function')) {
    throw new OptionError('authority', 'must implement verify() or relay()');
  }
  const policy = resolvePolicy(options.policy);
  const logger = options.logger ?? nullLogger();
  const allowNtlmV1 = authority.allowNtlmV1 === true;
  if (allowNtlmV1) {
    logger.warn('NTLMv1 responses are ALLOWED by the authority (allowNtlmV1: true): they can be cracked offline; turn this off unless a legacy client needs it', { authority: authority.type });
  }
  const clock = options.clock ?? unrefClock;
  const state: CredentialState = { authority, policy, logger, names: defaultNames(options), clock: options.clock, allowNtlmV1, liveChallenges: new Set() };
  const machine = ntlmAcceptMachine.provide({
    actions: {
      // Entry actions of the asking states: `event` is the NEGOTIATE / AUTHENTICATE that entered it.
      issueChallenge: ({ self, event }) => ask(self, (signal) => issueChallenge(state, (event as LegEvent).token, (event as LegEvent).params, signal).then((issued) => ({ type: 'ISSUED', issued }))),
      verifyAuthenticate: ({ self, context, event }) =>
        ask(self, (signal) => verifyAuthenticate(state, (event as LegEvent).token, context.issued!, (event as LegEvent).params, signal).then((outcome) => ({ type: 'VERDICT', outcome }))),
      stopAsking: ({ self }) => {
        asking.get(self)?.abort();
        asking.delete(self);
      },
    },
  });
  const host = new MachineHost(machine, { challengeLifetimeMs: policy.challengeLifetimeMs, authorityTimeoutMs: policy.authorityTimeoutMs }, clock);
  const handle: CredentialHandle = Object.freeze({ kind: 'ntlm-inbound' as const });
  credentials.set(handle, { ...state, liveChallenges: state.liveChallenges, machine, host, nextId: 1, pending: 0, refused: 0, refusedLoggedAt: -Infinity });
  return handle;
}

const ASK_AUTHORITY: NtlmAcceptResultEvent = { type: 'ASK_AUTHORITY' };

/** Leg 1's work, sent with the NEGOTIATE: our CHALLENGE, or the relay authority is to be asked. */
function challengeNow(state: CredentialState, token: Buffer): NtlmAcceptResultEvent {
  if (relaysChallenge(state.authority)) return ASK_AUTHORITY;
  try {
    return { type: 'ISSUED', issued: buildChallenge(state, token) };
  } catch (error) {
    return { type: 'LEG_FAILED', error };
  }
}

/** Leg 3's work, sent with the AUTHENTICATE: the outcome when the authority answers at once, else it is to be asked. */
function verdictNow(state: CredentialState, token: Buffer, issued: IssuedChallenge, params: LegParams): NtlmAcceptResultEvent {
  try {
    const outcome = verifyAuthenticateNow(state, token, issued, params);
    return outcome ? { type: 'VERDICT', outcome } : ASK_AUTHORITY;
  } catch (error) {
    return { type: 'LEG_FAILED', error };
  }
}

/** Put the leg to the authority; its answer (or failure) goes back to the machine unless stopAsking came first. */
function ask(self: Pick<AnyActorRef, 'send'>, question: (signal: AbortSignal) => Promise<NtlmAcceptEvent>): void {
  const controller = new AbortController();
  asking.set(self, controller);
  const { signal } = controller;
  const answer = (event: NtlmAcceptEvent): void => {
    if (signal.aborted) return;
    asking.delete(self);
    self.send(event);
  };
  question(signal).then(answer, (error: unknown) => answer({ type: 'LEG_FAILED', error }));
}

/** FreeCredentialsHandle: contexts already made keep working; no new ones. */
export function freeCredentialsHandle(credential: CredentialHandle): number {
  return credentials.delete(credential) ? SEC_E_OK : SEC_E_INVALID_HANDLE;
}

function result(status: number, context: SecurityContext | null, reason: string, extra: Partial<AcceptResult> = {}): AcceptResult {
  return { status, context, contextAttr: 0, reason, ...extra };
}

function startContext(cred: CredentialInternal, contextReq: number, channelBindings: Buffer | undefined, inspect: Observer<InspectionEvent> | undefined, logger: Logger | undefined): { handle: SecurityContext; internal: ContextInternal } {
  const internal = new ContextInternal(cred, contextReq, channelBindings, logger ?? cred.logger);
  if (inspect) {
    const actor = createActor(cred.machine, {
      input: { challengeLifetimeMs: cred.policy.challengeLifetimeMs, authorityTimeoutMs: cred.policy.authorityTimeoutMs },
      clock: cred.clock ?? unrefClock,
      inspect,
    });
    actor.subscribe(internal);
    internal.machine = actor;
    actor.start();
  } else {
    internal.machine = cred.host.run(internal) satisfies MachineRun<NtlmAcceptMachine>;
  }
  cred.pending++;
  const handle: SecurityContext = Object.freeze({ id: cred.nextId++ });
  contexts.set(handle, internal);
  return { handle, internal };
}

/** The context no longer waits: it frees its place under policy.maxPendingContexts. */
function settlePending(internal: ContextInternal): void {
  if (!internal.pending) return;
  internal.pending = false;
  internal.cred.pending--;
}

/** The cap is reached: refuse, and say so in the log at most every 10 s (a flood must not flood the log). */
function refuseForCap(cred: CredentialInternal): AcceptResult {
  cred.refused++;
  const now = nowMs(cred);
  if (now - cred.refusedLoggedAt >= 10_000) {
    cred.logger.warn('ntlm NEGOTIATE refused: too many contexts wait for their AUTHENTICATE', {
      status: statusName(SEC_E_INSUFFICIENT_MEMORY), reason: 'too-many-pending-contexts', pending: cred.pending, maxPendingContexts: cred.policy.maxPendingContexts, refused: cred.refused,
    });
    cred.refused = 0;
    cred.refusedLoggedAt = now;
  }
  return result(SEC_E_INSUFFICIENT_MEMORY, null, 'too-many-pending-contexts');
}

/** Does the machine rest (CHALLENGE sent, or finished)? Synchronous legs rest within the send. */
function rests(snap: SnapshotFrom<NtlmAcceptMachine>): boolean {
  return snap.status !== 'active' || snap.hasTag('continueNeeded');
}

/** Resolves when the machine rests (an authority is being asked until then). */
function settled(internal: ContextInternal): Promise<void> {
  return new Promise((resolve) => {
    internal.wake = resolve;
  });
}

function grantedAttributes(contextReq: number, flags: number): number {
  let attr = 0;
  const sign = (flags & F.NEGOTIATE_SIGN) !== 0 && (flags & F.NEGOTIATE_EXTENDED_SESSIONSECURITY) !== 0;
  if (sign) attr |= ASC_RET_INTEGRITY;
  if (sign && flags & F.NEGOTIATE_SEAL) attr |= ASC_RET_CONFIDENTIALITY;
  if (sign && contextReq & ASC_REQ_REPLAY_DETECT) attr |= ASC_RET_REPLAY_DETECT;
  if (sign && contextReq & ASC_REQ_SEQUENCE_DETECT) attr |= ASC_RET_SEQUENCE_DETECT;
  if (contextReq & ASC_REQ_CONNECTION) attr |= ASC_RET_CONNECTION;
  if (contextReq & ASC_REQ_ALLOCATE_MEMORY) attr |= ASC_RET_ALLOCATED_MEMORY;
  if (flags & F.NEGOTIATE_IDENTIFY) attr |= ASC_RET_IDENTIFY;
  return attr >>> 0;
}

function logOutcome(internal: ContextInternal, handle: SecurityContext, outcome: AcceptOutcome): void {
  const { logger } = internal;
  if (logger === SILENT) return;
  const meta = { context: handle.id, user: outcome.user, domain: outcome.domain, workstation: outcome.session?.workstation, status: statusName(outcome.status), reason: outcome.reason, denyReason: outcome.denyReason };
  if (outcome.status === SEC_E_OK) logger.info('ntlm logon accepted', meta);
  else logger.warn('ntlm logon refused', meta);
}

function isObserver(x: unknown): x is Observer<InspectionEvent> {
  return typeof x === 'object' && x !== null && (typeof (x as Observer<InspectionEvent>).next === 'function' || typeof (x as Observer<InspectionEvent>).next === 'undefined');
}

/** The caller's arguments, checked: a LegParams, or why not (SEC_E_INVALID_PARAMETER). */
function legParams(contextReq: unknown, options: unknown): { params: LegParams; inspect: Observer<InspectionEvent> | undefined; logger: Logger | undefined } | string {
  if (typeof contextReq !== 'number' || !Number.isInteger(contextReq)) return 'bad-context-req-argument';
  if (options !== undefined && options !== null && typeof options !== 'object') return 'bad-options-argument';
  const o = (options ?? {}) as AcceptOptions;
  const cb = o.channelBindings;
  if (cb !== undefined && !(Buffer.isBuffer(cb) && cb.length === 16)) return 'bad-channel-bindings-argument';
  if (o.inspect !== undefined && !isObserver(o.inspect)) return 'bad-inspect-argument';
  if (o.logger !== undefined && (typeof o.logger !== 'object' || o.logger === null || typeof o.logger.warn !== 'function')) return 'bad-logger-argument';
  return { params: { contextReq: contextReq >>> 0, channelBindings: cb }, inspect: o.inspect, logger: o.logger };
}

/**
 * AcceptSecurityContext. `context` is null on the first leg. `targetDataRep` is accepted for
 * shape (SECURITY_NATIVE_DREP / SECURITY_NETWORK_DREP) and ignored: NTLM is little-endian.
 * Never throws: every failure is a status. The caller's own mistakes (a contextReq that is not
 * an integer, options that are not an object, channel bindings that are not 16 bytes, an
 * inspect that is not an observer) are SEC_E_INVALID_PARAMETER; an unknown or deleted handle is
 * SEC_E_INVALID_HANDLE; a token that is not an NTLM message of the expected kind is
 * SEC_E_INVALID_TOKEN. The token is copied: the caller may reuse its buffer at once.
 */
export async function acceptSecurityContext(
  credential: CredentialHandle,
  context: SecurityContext | null,
  inputToken: Uint8Array | null | undefined,
  contextReq: number,
  _targetDataRep: number,
  options?: AcceptOptions,
): Promise<AcceptResult> {
  const cred = credentials.get(credential);
  if (!cred) return result(SEC_E_INVALID_HANDLE, context, 'bad-credential-handle');
  const args = legParams(contextReq, options);
  if (typeof args === 'string') return result(SEC_E_INVALID_PARAMETER, context, args);
  if (!(inputToken instanceof Uint8Array)) return result(SEC_E_INVALID_TOKEN, context, 'no-input-token');
  if (inputToken.byteLength > Layout.MAX_TOKEN) return result(SEC_E_INVALID_TOKEN, context, 'NTLM_TOO_LARGE');
  // Our own copy: the MIC needs the NEGOTIATE later, and an asked authority the AUTHENTICATE.
  const token = Buffer.from(inputToken);
  const { params } = args;

  if (context === null) {
    if (cred.pending >= cred.policy.maxPendingContexts) return refuseForCap(cred);
    const { handle, internal } = startContext(cred, params.contextReq, params.channelBindings, args.inspect, args.logger);
    internal.machine.send({ type: 'NEGOTIATE', token, params, step: challengeNow(cred, token) });
    if (!rests(internal.machine.getSnapshot())) await settled(internal);
    const snap = internal.machine.getSnapshot();
    if (snap.status === 'active' && snap.hasTag('continueNeeded')) {
      return result(SEC_I_CONTINUE_NEEDED, handle, 'continue', { outputToken: snap.context.issued!.challengeToken });
    }
    return finish(internal, handle);
  }

  const internal = typeof context === 'object' ? contexts.get(context) : undefined;
  if (!internal || internal.deleted || internal.cred !== cred) return result(SEC_E_INVALID_HANDLE, context, 'bad-context-handle');
  const snap = internal.machine.getSnapshot();
  if (snap.status !== 'active' || !snap.hasTag('continueNeeded')) {
    if (internal.outcome?.status === SEC_E_CONTEXT_EXPIRED) {
      internal.logger.warn('ntlm logon refused', { context: context.id, status: statusName(SEC_E_CONTEXT_EXPIRED), reason: internal.outcome.reason });
      return result(SEC_E_CONTEXT_EXPIRED, context, internal.outcome.reason);
    }
    // A finished context takes no more tokens: a replayed AUTHENTICATE is refused here.
    internal.logger.warn('ntlm token on a finished context refused', { context: context.id, status: 'SEC_E_INVALID_TOKEN', reason: 'context-complete' });
    return result(SEC_E_INVALID_TOKEN, context, 'context-complete');
  }
  if (params.channelBindings && internal.channelBindings && !params.channelBindings.equals(internal.channelBindings)) {
    internal.logger.warn('ntlm logon refused', { context: context.id, status: statusName(SEC_E_BAD_BINDINGS), reason: 'bindings-changed' });
    deleteSecurityContext(context);
    return result(SEC_E_BAD_BINDINGS, context, 'bindings-changed');
  }
  internal.channelBindings ??= params.channelBindings;
  internal.contextReq = params.contextReq;
  const lastLeg = { contextReq: params.contextReq, channelBindings: internal.channelBindings };
  internal.machine.send({ type: 'AUTHENTICATE', token, params: lastLeg, step: verdictNow(cred, token, snap.context.issued!, lastLeg) });
  if (!rests(internal.machine.getSnapshot())) await settled(internal);
  return finish(internal, context);
}

function finish(internal: ContextInternal, handle: SecurityContext): AcceptResult {
  let outcome = internal.outcome ?? { status: SEC_E_INTERNAL_ERROR, reason: 'no-outcome' };
  // Success needs a session; anything else that is not a failure code is our bug.
  if (outcome.status === SEC_E_OK ? !outcome.session : (outcome.status >>> 0) < 0x80000000) outcome = { ...outcome, status: SEC_E_INTERNAL_ERROR, reason: 'internal-error' };
  logOutcome(internal, handle, outcome);
  if (outcome.status !== SEC_E_OK) return result(outcome.status, handle, outcome.reason, { denyReason: outcome.denyReason });
  internal.session = outcome.session;
  const expiry = new Date(nowMs(internal.cred) + internal.cred.policy.contextLifetimeMs);
  return result(SEC_E_OK, handle, 'ok', { contextAttr: grantedAttributes(internal.contextReq, outcome.session!.flags), expiry });
}

/** DeleteSecurityContext: stops the context's machine (aborting a relay), wipes its keys. */
export function deleteSecurityContext(context: SecurityContext | null | undefined): number {
  const internal = context && typeof context === 'object' ? contexts.get(context) : undefined;
  if (!internal || internal.deleted) return SEC_E_INVALID_HANDLE;
  internal.deleted = true;
  const snap = internal.machine.getSnapshot();
  const issued = snap.context.issued;
  if (snap.status === 'active') internal.machine.send({ type: 'ABORT' });
  internal.machine.stop();
  settlePending(internal);
  retireChallenge(internal.cred, issued);
  try {
    issued?.relay?.abort();
  } catch {
    // the authority's cleanup failing changes nothing here
  }
  internal.session?.exportedSessionKey?.fill(0);
  internal.security = undefined;
  internal.session = undefined;
  contexts.delete(context!);
  return SEC_E_OK;
}

export interface ContextIdentity {
  user: string;
  domain: string;
  workstation: string;
  /** What the directory keeps for the account, when the authority read it (ldap with a service account). */
  account?: AccountInfo;
}

/** Who logged on (as the authority spells it). Throws NtlmContextError(SEC_E_INVALID_HANDLE) before SEC_E_OK. */
export function querySecurityContextToken(context: SecurityContext): ContextIdentity {
  const session = established(context);
  return { user: session.user, domain: session.domain, workstation: session.workstation, ...(session.account ? { account: session.account } : {}) };
}

/** Why a finished context failed: status, reason, the authority's DenyReason and the names it gave (when it gave them). */
export function querySecurityContextOutcome(context: SecurityContext): { status: number; reason: string; denyReason?: DenyReason; user?: string; domain?: string } | undefined {
  const o = contexts.get(context)?.outcome;
  if (!o) return undefined;
  return { status: o.status, reason: o.reason, denyReason: o.denyReason, ...(o.user !== undefined ? { user: o.user } : {}), ...(o.domain !== undefined ? { domain: o.domain } : {}) };
}

/** What the authority said about the account of an established context (groups, dial-in), when it said anything (ldap). */
export function querySecurityContextAccount(context: SecurityContext): AccountInfo | undefined {
  return established(context).account;
}

/** A context call that cannot proceed; `status` is the SSPI code. */
export class NtlmContextError extends RasgateError {
  readonly status: number;
  constructor(status: number, message: string) {
    super(status === SEC_E_INVALID_HANDLE ? 'NTLM_INVALID_HANDLE' : NtlmSessionErrorCode.UNSUPPORTED, message);
    this.status = status;
  }
}

function established(context: SecurityContext): EstablishedSession {
  const internal = contexts.get(context);
  if (!internal || internal.deleted || !internal.session) throw new NtlmContextError(SEC_E_INVALID_HANDLE, 'context is not established');
  return internal.session;
}

function security(context: SecurityContext): NtlmSessionSecurity {
  const session = established(context);
  const internal = contexts.get(context)!;
  if (!internal.security) {
    if (!session.exportedSessionKey || !(session.flags & F.NEGOTIATE_SIGN)) throw new NtlmContextError(SEC_E_UNSUPPORTED_FUNCTION, 'signing was not negotiated on this context');
    internal.security = new NtlmSessionSecurity(session.exportedSessionKey, session.flags, 'server');
  }
  return internal.security;
}

/** MakeSignature: 16-byte NTLMSSP_MESSAGE_SIGNATURE over `message` (server-to-client). */
export function makeSignature(context: SecurityContext, message: Uint8Array): Buffer {
  return security(context).sign(message);
}

/** VerifySignature: throws NtlmSessionError (status SEC_E_MESSAGE_ALTERED / SEC_E_OUT_OF_SEQUENCE). */
export function verifySignature(context: SecurityContext, message: Uint8Array, signature: Uint8Array): void {
  security(context).verify(message, signature);
}

/** EncryptMessage: needs NEGOTIATE_SEAL. */
export function encryptMessage(context: SecurityContext, message: Uint8Array): { sealed: Buffer; signature: Buffer } {
  const sec = security(context);
  if (!(sec.flags & F.NEGOTIATE_SEAL)) throw new NtlmContextError(SEC_E_UNSUPPORTED_FUNCTION, 'sealing was not negotiated on this context');
  return sec.seal(message);
}

/** DecryptMessage: throws NtlmSessionError when altered or out of sequence. */
export function decryptMessage(context: SecurityContext, sealed: Uint8Array, signature: Uint8Array): Buffer {
  const sec = security(context);
  if (!(sec.flags & F.NEGOTIATE_SEAL)) throw new NtlmContextError(SEC_E_UNSUPPORTED_FUNCTION, 'sealing was not negotiated on this context');
  return sec.unseal(sealed, signature);
}

export { channelBindingsHash } from './ntlmv2.js';
