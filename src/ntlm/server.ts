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
import { createActor, fromPromise, raise, type Actor, type InspectionEvent, type Observer, type SnapshotFrom } from 'xstate';
import { hostname } from 'node:os';
import { askAuthorityFor, ntlmAcceptMachine, type AcceptOutcome, type EstablishedSession, type IssuedChallenge, type LegEvent, type NtlmAcceptMachine, type NtlmAcceptResultEvent } from '../../machines/ntlmAccept.js';
import type { Authority, DenyReason } from './authority.js';
import { nullLogger, type Logger } from '../logging.js';
import { OptionError, RasgateError } from '../errors.js';
import {
  ASC_REQ_ALLOCATE_MEMORY, ASC_REQ_CONNECTION, ASC_REQ_REPLAY_DETECT, ASC_REQ_SEQUENCE_DETECT, ASC_RET_ALLOCATED_MEMORY, ASC_RET_CONFIDENTIALITY,
  ASC_RET_CONNECTION, ASC_RET_IDENTIFY, ASC_RET_INTEGRITY, ASC_RET_REPLAY_DETECT, ASC_RET_SEQUENCE_DETECT, NegotiateFlags as F, SEC_E_INTERNAL_ERROR,
  SEC_E_INVALID_HANDLE, SEC_E_INVALID_TOKEN, SEC_E_OK, SEC_E_CONTEXT_EXPIRED, SEC_I_CONTINUE_NEEDED, SEC_E_UNSUPPORTED_FUNCTION, statusName,
} from './constants.js';
import { NtlmSessionErrorCode } from './errors.js';
import { NtlmSessionSecurity } from './session.js';
import { buildChallenge, issueChallenge, relaysChallenge, retireChallenge, verifyAuthenticate, verifyAuthenticateNow, nowMs } from './accept.js';
import { resolvePolicy, type NtlmPolicyOptions } from './policy.js';
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
  /** The expected MsvAvChannelBindings value: 16 bytes, channelBindingsHash(applicationData). */
  channelBindings?: Buffer;
  /**
   * First leg only: an xstate inspection observer for this context's ntlmAccept actor, so that
   * its transitions reach the transition log and the inspector. Default: none (no cost).
   */
  inspect?: Observer<InspectionEvent>;
}

export interface AcceptResult {
  /** SEC_I_CONTINUE_NEEDED, SEC_E_OK or a SEC_E_* failure. */
  status: number;
  /** The context (new on the first leg). Present even on failure, so that the caller can delete it. */
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

interface CredentialInternal extends CredentialState {
  machine: NtlmAcceptMachine;
  nextId: number;
}

interface ContextInternal {
  cred: CredentialInternal;
  actor: Actor<NtlmAcceptMachine>;
  wake: (() => void) | undefined;
  contextReq: number;
  outcome: AcceptOutcome | undefined;
  session: EstablishedSession | undefined;
  security: NtlmSessionSecurity | undefined;
  deleted: boolean;
}

const credentials = new WeakMap<CredentialHandle, CredentialInternal>();
const contexts = new WeakMap<SecurityContext, ContextInternal>();

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

/** AcquireCredentialsHandle(SECPKG_CRED_INBOUND) for NTLM, bound to an authority. */
export function acquireCredentialsHandle(options: AcquireCredentialsOptions): CredentialHandle {
  const authority = options?.authority;
  if (!authority || (typeof authority.verify !== 'function' && typeof authority.relay !== 'function')) {
    throw new OptionError('authority', 'must implement verify() or relay()');
  }
  const policy = resolvePolicy(options.policy);
  const logger = options.logger ?? nullLogger();
  if (policy.allowNtlmV1) {
    logger.warn('NTLMv1 responses are ALLOWED by policy (allowNtlmV1: true): they can be cracked offline; turn this off unless a legacy client needs it', { authority: authority.type });
  }
  const state: CredentialState = { authority, policy, logger, names: defaultNames(options), clock: options.clock, liveChallenges: new Set() };
  const machine = ntlmAcceptMachine.provide({
    actions: {
      // Entry actions: `event` is the NEGOTIATE / AUTHENTICATE that entered the state.
      prepareChallenge: raise(({ event }) => challengeNow(state, event as LegEvent)),
      checkNow: raise(({ context, event }) => verdictNow(state, event as LegEvent, context.issued!)),
    },
    actors: {
      issueChallenge: fromPromise(({ input, signal }) => issueChallenge(state, input.negotiate, input.params, signal)),
      verifyAuthenticate: fromPromise(({ input, signal }) => verifyAuthenticate(state, input.authenticate, input.issued, input.params, signal)),
    },
  });
  const handle: CredentialHandle = Object.freeze({ kind: 'ntlm-inbound' as const });
  credentials.set(handle, { ...state, liveChallenges: state.liveChallenges, machine, nextId: 1 });
  return handle;
}

/** Leg 1 in the machine's step: our CHALLENGE, or the relay authority is asked. */
function challengeNow(state: CredentialState, leg: LegEvent): NtlmAcceptResultEvent {
  if (relaysChallenge(state.authority)) return askAuthorityFor(leg);
  try {
    return { type: 'ISSUED', issued: buildChallenge(state, leg.token) };
  } catch (error) {
    return { type: 'LEG_FAILED', error };
  }
}

/** Leg 3 in the machine's step when the authority answers synchronously; else it is asked. */
function verdictNow(state: CredentialState, leg: LegEvent, issued: IssuedChallenge): NtlmAcceptResultEvent {
  try {
    const outcome = verifyAuthenticateNow(state, leg.token, issued, leg.params);
    return outcome ? { type: 'VERDICT', outcome } : askAuthorityFor(leg);
  } catch (error) {
    return { type: 'LEG_FAILED', error };
  }
}

/** FreeCredentialsHandle: contexts already made keep working; no new ones. */
export function freeCredentialsHandle(credential: CredentialHandle): number {
  return credentials.delete(credential) ? SEC_E_OK : SEC_E_INVALID_HANDLE;
}

function result(status: number, context: SecurityContext | null, reason: string, extra: Partial<AcceptResult> = {}): AcceptResult {
  return { status, context, contextAttr: 0, reason, ...extra };
}

/** Real timers that do not keep the process alive: a pending challenge is no reason to stay up. */
const unrefClock: AcceptClock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (id) => clearTimeout(id as NodeJS.Timeout),
};

function startContext(cred: CredentialInternal, contextReq: number, inspect: Observer<InspectionEvent> | undefined): { handle: SecurityContext; internal: ContextInternal } {
  const actor = createActor(cred.machine, {
    input: { challengeLifetimeMs: cred.policy.challengeLifetimeMs, authorityTimeoutMs: cred.policy.authorityTimeoutMs },
    clock: cred.clock ?? unrefClock,
    ...(inspect ? { inspect } : {}),
  });
  const internal: ContextInternal = { cred, actor, wake: undefined, contextReq, outcome: undefined, session: undefined, security: undefined, deleted: false };
  actor.subscribe({
    next: (snap) => {
      if (snap.status === 'done') {
        internal.outcome = snap.output;
        retireChallenge(cred, snap.context.issued);
      }
      if (internal.wake && rests(snap)) {
        const wake = internal.wake;
        internal.wake = undefined;
        wake();
      }
    },
    error: (err) => {
      internal.outcome = { status: SEC_E_INTERNAL_ERROR, reason: 'internal-error' };
      cred.logger.error('ntlm accept machine failed', { error: err instanceof Error ? err.message : String(err) });
      internal.wake?.();
    },
  });
  actor.start();
  const handle: SecurityContext = Object.freeze({ id: cred.nextId++ });
  contexts.set(handle, internal);
  return { handle, internal };
}

/** Does the machine rest (CHALLENGE sent, or finished)? Synchronous legs rest within the send. */
function rests(snap: SnapshotFrom<NtlmAcceptMachine>): boolean {
  return snap.status !== 'active' || snap.hasTag('continueNeeded');
}

function resting(internal: ContextInternal): boolean {
  return rests(internal.actor.getSnapshot());
}

/** Resolves when the machine rests (an authority actor is running until then). */
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
  const { logger } = internal.cred;
  const meta = { context: handle.id, user: outcome.user, domain: outcome.domain, workstation: outcome.session?.workstation, status: statusName(outcome.status), reason: outcome.reason, denyReason: outcome.denyReason };
  if (outcome.status === SEC_E_OK) logger.info('ntlm logon accepted', meta);
  else logger.warn('ntlm logon refused', meta);
}

/**
 * AcceptSecurityContext. `context` is null on the first leg. `targetDataRep` is accepted for
 * shape (SECURITY_NATIVE_DREP / SECURITY_NETWORK_DREP) and ignored: NTLM is little-endian.
 * Never throws for bad input: every failure is a status.
 */
export async function acceptSecurityContext(
  credential: CredentialHandle,
  context: SecurityContext | null,
  inputToken: Uint8Array | null | undefined,
  contextReq: number,
  _targetDataRep: number,
  options: AcceptOptions = {},
): Promise<AcceptResult> {
  const cred = credentials.get(credential);
  if (!cred) return result(SEC_E_INVALID_HANDLE, context, 'bad-credential-handle');
  if (!(inputToken instanceof Uint8Array)) return result(SEC_E_INVALID_TOKEN, context, 'no-input-token');
  const token = Buffer.isBuffer(inputToken) ? inputToken : Buffer.from(inputToken.buffer, inputToken.byteOffset, inputToken.byteLength);
  const cb = options.channelBindings;
  if (cb !== undefined && !(Buffer.isBuffer(cb) && cb.length === 16)) return result(SEC_E_INVALID_TOKEN, context, 'bad-channel-bindings-argument');
  const params = { contextReq: contextReq >>> 0, channelBindings: cb };

  if (context === null) {
    const { handle, internal } = startContext(cred, params.contextReq, options.inspect);
    internal.actor.send({ type: 'NEGOTIATE', token, params });
    if (!resting(internal)) await settled(internal);
    const snap = internal.actor.getSnapshot();
    if (snap.status === 'active' && snap.hasTag('continueNeeded')) {
      return result(SEC_I_CONTINUE_NEEDED, handle, 'continue', { outputToken: snap.context.issued!.challengeToken });
    }
    return finish(internal, handle);
  }

  const internal = contexts.get(context);
  if (!internal || internal.deleted || internal.cred !== cred) return result(SEC_E_INVALID_HANDLE, context, 'bad-context-handle');
  const snap = internal.actor.getSnapshot();
  if (snap.status !== 'active' || !snap.hasTag('continueNeeded')) {
    if (internal.outcome?.status === SEC_E_CONTEXT_EXPIRED) {
      cred.logger.warn('ntlm logon refused', { context: context.id, status: statusName(SEC_E_CONTEXT_EXPIRED), reason: internal.outcome.reason });
      return result(SEC_E_CONTEXT_EXPIRED, context, internal.outcome.reason);
    }
    // A finished context takes no more tokens: a replayed AUTHENTICATE is refused here.
    cred.logger.warn('ntlm token on a finished context refused', { context: context.id, status: 'SEC_E_INVALID_TOKEN', reason: 'context-complete' });
    return result(SEC_E_INVALID_TOKEN, context, 'context-complete');
  }
  internal.contextReq = params.contextReq;
  internal.actor.send({ type: 'AUTHENTICATE', token, params });
  if (!resting(internal)) await settled(internal);
  return finish(internal, context);
}

function finish(internal: ContextInternal, handle: SecurityContext): AcceptResult {
  const outcome = internal.outcome ?? { status: SEC_E_INTERNAL_ERROR, reason: 'no-outcome' };
  logOutcome(internal, handle, outcome);
  if (outcome.status !== SEC_E_OK || !outcome.session) {
    return result(outcome.status, handle, outcome.reason, { denyReason: outcome.denyReason });
  }
  internal.session = outcome.session;
  const expiry = new Date(nowMs(internal.cred) + internal.cred.policy.contextLifetimeMs);
  return result(SEC_E_OK, handle, 'ok', { contextAttr: grantedAttributes(internal.contextReq, outcome.session.flags), expiry });
}

/** DeleteSecurityContext: stops the context's machine (aborting a relay), wipes its keys. */
export function deleteSecurityContext(context: SecurityContext | null | undefined): number {
  const internal = context ? contexts.get(context) : undefined;
  if (!internal || internal.deleted) return SEC_E_INVALID_HANDLE;
  internal.deleted = true;
  const snap = internal.actor.getSnapshot();
  const issued = snap.context.issued;
  if (snap.status === 'active') internal.actor.send({ type: 'ABORT' });
  internal.actor.stop();
  retireChallenge(internal.cred, issued);
  issued?.relay?.abort();
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
}

/** Who logged on (as the authority spells it). Throws NtlmContextError(SEC_E_INVALID_HANDLE) before SEC_E_OK. */
export function querySecurityContextToken(context: SecurityContext): ContextIdentity {
  const session = established(context);
  return { user: session.user, domain: session.domain, workstation: session.workstation };
}

/** Why a finished context failed: status, reason and the authority's DenyReason. */
export function querySecurityContextOutcome(context: SecurityContext): { status: number; reason: string; denyReason?: DenyReason } | undefined {
  const o = contexts.get(context)?.outcome;
  return o ? { status: o.status, reason: o.reason, denyReason: o.denyReason } : undefined;
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
