/**
 * The NTLM client (initiator): typed credentials in, NEGOTIATE and AUTHENTICATE out, as
 * [MS-NLMP 3.1.5.1] lays it out: NTLMv2 response, MIC (MsvAvFlags 0x2), KEY_EXCH, SIGN
 * (+ SEAL when asked), extended session security, 128-bit, Unicode, Version. The gateway uses
 * it to turn a caller's typed password into tokens; tests use it against our own acceptor
 * and real ones. Secrets live in private fields so a logged context shows none of them.
 */
import { RasgateError, OptionError } from '../errors.js';
import {
  AvId,
  ISC_REQ_ALLOCATE_MEMORY,
  ISC_REQ_CONFIDENTIALITY,
  ISC_REQ_CONNECTION,
  ISC_REQ_INTEGRITY,
  ISC_REQ_REPLAY_DETECT,
  ISC_REQ_SEQUENCE_DETECT,
  ISC_RET_ALLOCATED_MEMORY,
  ISC_RET_CONFIDENTIALITY,
  ISC_RET_CONNECTION,
  ISC_RET_INTEGRITY,
  ISC_RET_REPLAY_DETECT,
  ISC_RET_SEQUENCE_DETECT,
  MsvAvFlag,
  NegotiateFlags as F,
  SEC_E_INTERNAL_ERROR,
  SEC_E_INVALID_HANDLE,
  SEC_E_INVALID_TOKEN,
  SEC_E_OK,
  SEC_E_UNKNOWN_CREDENTIALS,
  SEC_I_CONTINUE_NEEDED,
} from './constants.js';
import { ntowfv1, ntowfv2, randomBytes } from './crypto.js';
import { rc4 } from './rc4.js';
import { avTimestamp, dateToFiletime, flagsPair, stringPair, type AvPair } from './avpairs.js';
import { decodeChallenge, encodeAuthenticate, encodeNegotiate, RASGATE_VERSION, type ChallengeMessage, type Version } from './messages.js';
import { computeMic, computeNtlmV2Response, lmv2Response } from './ntlmv2.js';
import { md5 } from './crypto.js';
import { NtlmTokenError } from './errors.js';
import { NtlmSessionSecurity } from './session.js';

export { channelBindingsHash, channelBindingsStruct } from './ntlmv2.js';

/** What rasgate offers by default [MS-NLMP 2.2.2.5]; SEAL is added when `seal` is asked for. */
export const DEFAULT_CLIENT_FLAGS =
  F.NEGOTIATE_UNICODE |
  F.NEGOTIATE_OEM |
  F.REQUEST_TARGET |
  F.NEGOTIATE_SIGN |
  F.NEGOTIATE_NTLM |
  F.NEGOTIATE_ALWAYS_SIGN |
  F.NEGOTIATE_EXTENDED_SESSIONSECURITY |
  F.NEGOTIATE_VERSION |
  F.NEGOTIATE_128 |
  F.NEGOTIATE_KEY_EXCH |
  F.NEGOTIATE_56;

export interface ClientContextOptions {
  /** User name as typed (sent as is; uppercased only inside NTOWFv2). */
  user: string;
  /** Domain as typed; '' for a local account. */
  domain: string;
  /** Clear password: hashed at once (NTOWFv1) and dropped. One of password / ntHash is required. */
  password?: string;
  /** The NT hash (16 bytes) instead of a password. */
  ntHash?: Uint8Array;
  /** Workstation name sent in the AUTHENTICATE. Default ''. */
  workstation?: string;
  /** NEGOTIATE flags to offer. Default DEFAULT_CLIENT_FLAGS (| NEGOTIATE_SEAL when `seal`). */
  flags?: number;
  /** Ask for sealing (NEGOTIATE_SEAL). Default false. */
  seal?: boolean;
  /**
   * The flat gss_channel_bindings_struct (see channelBindingsStruct()) — NOT its hash; the
   * client hashes it (MD5) into MsvAvChannelBindings. Default: none, sent as Z(16).
   */
  channelBindings?: Uint8Array;
  /** SPN of the server (e.g. "HOST/rasgate"), sent as MsvAvTargetName. Default: not sent. */
  targetName?: string;
  /** FILETIME used when the server's CHALLENGE has no MsvAvTimestamp. Default: now. */
  timestamp?: bigint;
  /** 8 bytes. Default: random. (Test injection.) */
  clientChallenge?: Uint8Array;
  /** 16 bytes sent under KEY_EXCH. Default: random. (Test injection.) */
  exportedSessionKey?: Uint8Array;
  /** Version sent in NEGOTIATE and AUTHENTICATE. Default RASGATE_VERSION (10.0.19041, rev 15). */
  version?: Version;
}

export interface AuthenticateResult {
  token: Buffer;
  exportedSessionKey: Buffer;
  /** The flags of the AUTHENTICATE (negotiated). */
  flags: number;
  /** Sign/seal for the established context when SIGN or SEAL was negotiated with ESS. */
  session?: NtlmSessionSecurity;
}

/** A client context that is used in the wrong order (authenticate before negotiate, twice, ...). */
export class NtlmClientStateError extends RasgateError {
  constructor(message: string) {
    super('NTLM_CLIENT_STATE', message);
  }
}

export class NtlmClientContext {
  readonly user: string;
  readonly domain: string;
  readonly workstation: string;
  readonly offeredFlags: number;
  #ntHash: Buffer;
  #options: ClientContextOptions;
  #negotiate: Buffer | undefined;
  #done = false;

  constructor(options: ClientContextOptions) {
    if (typeof options.user !== 'string') throw new OptionError('user', 'must be a string');
    if (typeof options.domain !== 'string') throw new OptionError('domain', 'must be a string');
    if (options.ntHash !== undefined) {
      if (options.ntHash.length !== 16) throw new OptionError('ntHash', 'must be 16 bytes');
      this.#ntHash = Buffer.from(options.ntHash);
    } else if (typeof options.password === 'string') {
      this.#ntHash = ntowfv1(options.password);
    } else {
      throw new OptionError('password', 'or "ntHash" is required');
    }
    if (options.clientChallenge && options.clientChallenge.length !== 8) throw new OptionError('clientChallenge', 'must be 8 bytes');
    if (options.exportedSessionKey && options.exportedSessionKey.length !== 16) throw new OptionError('exportedSessionKey', 'must be 16 bytes');
    this.user = options.user;
    this.domain = options.domain;
    this.workstation = options.workstation ?? '';
    this.offeredFlags = ((options.flags ?? DEFAULT_CLIENT_FLAGS) | (options.seal ? F.NEGOTIATE_SEAL : 0)) >>> 0;
    this.#options = { ...options, password: undefined };
  }

  /** The NEGOTIATE (40 bytes, with Version). */
  negotiate(): Buffer {
    if (this.#negotiate) throw new NtlmClientStateError('negotiate() was already called on this context');
    this.#negotiate = encodeNegotiate({ flags: this.offeredFlags, version: this.#options.version ?? RASGATE_VERSION });
    return this.#negotiate;
  }

  /** The AUTHENTICATE for a server's CHALLENGE. Throws NtlmTokenError if the CHALLENGE is malformed. */
  authenticate(challengeToken: Uint8Array): AuthenticateResult {
    if (!this.#negotiate) throw new NtlmClientStateError('authenticate() needs negotiate() first (the MIC covers the NEGOTIATE)');
    if (this.#done) throw new NtlmClientStateError('authenticate() was already called on this context');
    const challenge = decodeChallenge(challengeToken);
    this.#done = true;
    return this.#build(this.#negotiate, challenge);
  }

  #build(negotiateRaw: Buffer, challenge: ChallengeMessage): AuthenticateResult {
    const o = this.#options;
    let flags = (challenge.flags & this.offeredFlags) >>> 0;
    // One character set [MS-NLMP 3.1.5.1.2]: Unicode if the server chose it, else OEM.
    flags = flags & F.NEGOTIATE_UNICODE ? flags & ~F.NEGOTIATE_OEM : flags | F.NEGOTIATE_OEM;
    // Otherwise a subset of what the server chose (gss-ntlmssp checks this). The Version bytes
    // are always present: the MIC slot at 72 needs them, whatever NEGOTIATE_VERSION says.
    flags >>>= 0;
    const version = o.version ?? RASGATE_VERSION;

    // AV pairs: the server's, unchanged and in order (minus any MsvAvFlags), then ours [3.1.5.1.2].
    const serverTime = avTimestamp(challenge.targetInfo.pairs);
    const pairs: AvPair[] = challenge.targetInfo.pairs.filter((p) => p.id !== AvId.MsvAvFlags);
    pairs.push(flagsPair(MsvAvFlag.MIC_PRESENT));
    pairs.push({ id: AvId.MsvAvChannelBindings, value: o.channelBindings ? md5(o.channelBindings) : Buffer.alloc(16) });
    if (o.targetName !== undefined) pairs.push(stringPair(AvId.MsvAvTargetName, o.targetName));

    const clientChallenge = o.clientChallenge ? Buffer.from(o.clientChallenge) : randomBytes(8);
    const timestamp = serverTime ?? o.timestamp ?? dateToFiletime(new Date());
    const responseKey = ntowfv2(this.#ntHash, this.user, this.domain);
    const v2 = computeNtlmV2Response({ responseKeyNT: responseKey, serverChallenge: challenge.serverChallenge, clientChallenge, timestamp, targetInfo: pairs });
    // With a server timestamp the LM response is Z(24) [MS-NLMP 3.1.5.1.2]; else LMv2.
    const lmResponse = serverTime !== undefined ? Buffer.alloc(24) : lmv2Response(responseKey, challenge.serverChallenge, clientChallenge);

    // KeyExchangeKey = SessionBaseKey for NTLMv2 [MS-NLMP 3.4.5.1].
    let exportedSessionKey: Buffer = v2.sessionBaseKey;
    let encryptedRandomSessionKey: Buffer = Buffer.alloc(0);
    if (flags & F.NEGOTIATE_KEY_EXCH) {
      exportedSessionKey = o.exportedSessionKey ? Buffer.from(o.exportedSessionKey) : randomBytes(16);
      encryptedRandomSessionKey = rc4(v2.sessionBaseKey, exportedSessionKey);
    }

    const token = encodeAuthenticate({
      flags,
      lmResponse,
      ntResponse: v2.ntResponse,
      domain: this.domain,
      user: this.user,
      workstation: this.workstation,
      encryptedRandomSessionKey,
      version,
      mic: Buffer.alloc(16),
    });
    computeMic(exportedSessionKey, negotiateRaw, challenge.raw, token, 72).copy(token, 72);

    const result: AuthenticateResult = { token, exportedSessionKey, flags };
    if (flags & (F.NEGOTIATE_SIGN | F.NEGOTIATE_SEAL) && flags & F.NEGOTIATE_EXTENDED_SESSIONSECURITY) {
      result.session = new NtlmSessionSecurity(exportedSessionKey, flags, 'client');
    }
    return result;
  }

  toJSON(): object {
    return { user: this.user, domain: this.domain, workstation: this.workstation, offeredFlags: this.offeredFlags };
  }
}

/** A client context for one handshake: `negotiate()`, then `authenticate(challenge)`. */
export function createClientContext(options: ClientContextOptions): NtlmClientContext {
  return new NtlmClientContext(options);
}

// ---- SSPI-shaped wrapper -------------------------------------------------------------------

/** Outbound credentials: what the caller typed. */
export interface ClientCredential {
  user: string;
  domain: string;
  password?: string;
  ntHash?: Uint8Array;
  workstation?: string;
}

/** The SSPI-style client context handle. */
export interface ClientSecurityContext {
  readonly kind: 'ntlm-client';
  state: 'negotiate-sent' | 'established' | 'failed';
  /** The negotiated NEGOTIATE flags (after the second leg). */
  flags: number;
  /** Sign/verify/seal/unseal when established with SIGN/SEAL. */
  session?: NtlmSessionSecurity;
  /** @internal */
  readonly engine: NtlmClientContext;
  readonly contextReq: number;
}

export interface InitializeResult {
  status: number;
  context: ClientSecurityContext | null;
  outputToken?: Buffer;
  /** ISC_RET_* flags; meaningful on the final leg. */
  contextAttr: number;
  /** The error when status is not a success code (never contains secrets). */
  error?: Error;
}

/** Extra inputs of the client that SSPI passes in other ways (channel bindings buffer, ...). */
export type InitializeExtras = Pick<ClientContextOptions, 'channelBindings' | 'timestamp' | 'clientChallenge' | 'exportedSessionKey' | 'version' | 'flags'>;

function contextAttrFor(contextReq: number, flags: number): number {
  let attr = 0;
  if (flags & (F.NEGOTIATE_SIGN | F.NEGOTIATE_SEAL)) {
    if (contextReq & ISC_REQ_INTEGRITY) attr |= ISC_RET_INTEGRITY;
    if (contextReq & ISC_REQ_REPLAY_DETECT) attr |= ISC_RET_REPLAY_DETECT;
    if (contextReq & ISC_REQ_SEQUENCE_DETECT) attr |= ISC_RET_SEQUENCE_DETECT;
  }
  if (flags & F.NEGOTIATE_SEAL && contextReq & ISC_REQ_CONFIDENTIALITY) attr |= ISC_RET_CONFIDENTIALITY;
  if (contextReq & ISC_REQ_CONNECTION) attr |= ISC_RET_CONNECTION;
  if (contextReq & ISC_REQ_ALLOCATE_MEMORY) attr |= ISC_RET_ALLOCATED_MEMORY;
  return attr >>> 0;
}

/**
 * InitializeSecurityContext (NTLM), shaped after SSPI: first call with `context` null gives the
 * NEGOTIATE and SEC_I_CONTINUE_NEEDED; the second, with the server's CHALLENGE as `inputToken`,
 * gives the AUTHENTICATE and SEC_E_OK. `targetName` is the SPN (MsvAvTargetName). Failures come
 * back as a status (SEC_E_INVALID_TOKEN, SEC_E_INVALID_HANDLE, ...), never as a throw.
 */
export function initializeSecurityContext(
  credential: ClientCredential,
  context: ClientSecurityContext | null,
  targetName: string | undefined,
  contextReq: number,
  inputToken?: Uint8Array,
  extras: InitializeExtras = {},
): InitializeResult {
  try {
    if (context === null) {
      const engine = createClientContext({
        user: credential.user,
        domain: credential.domain,
        password: credential.password,
        ntHash: credential.ntHash,
        workstation: credential.workstation,
        seal: (contextReq & ISC_REQ_CONFIDENTIALITY) !== 0,
        targetName,
        ...extras,
      });
      const outputToken = engine.negotiate();
      const ctx: ClientSecurityContext = { kind: 'ntlm-client', state: 'negotiate-sent', flags: 0, engine, contextReq };
      return { status: SEC_I_CONTINUE_NEEDED, context: ctx, outputToken, contextAttr: contextAttrFor(contextReq, engine.offeredFlags) };
    }
    if (context.kind !== 'ntlm-client' || context.state !== 'negotiate-sent') {
      return { status: SEC_E_INVALID_HANDLE, context, contextAttr: 0, error: new NtlmClientStateError(`context is ${context.state}`) };
    }
    if (!inputToken || inputToken.length === 0) {
      return { status: SEC_E_INVALID_TOKEN, context, contextAttr: 0, error: new NtlmClientStateError('the second leg needs the CHALLENGE token') };
    }
    const r = context.engine.authenticate(inputToken);
    context.state = 'established';
    context.flags = r.flags;
    if (r.session) context.session = r.session;
    return { status: SEC_E_OK, context, outputToken: r.token, contextAttr: contextAttrFor(context.contextReq, r.flags) };
  } catch (err) {
    if (context) context.state = 'failed';
    const status =
      err instanceof NtlmTokenError ? SEC_E_INVALID_TOKEN
      : err instanceof NtlmClientStateError ? SEC_E_INVALID_HANDLE
      : err instanceof OptionError ? SEC_E_UNKNOWN_CREDENTIALS
      : SEC_E_INTERNAL_ERROR;
    return { status, context, contextAttr: 0, error: err instanceof Error ? err : new Error(String(err)) };
  }
}
