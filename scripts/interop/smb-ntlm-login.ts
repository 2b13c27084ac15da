/**
 * One NTLM login to an SMB2 server: NEGOTIATE (2.1, signing required), then SESSION_SETUP legs
 * carrying the client's NTLM tokens in SPNEGO, with a mechListMIC on the last leg when signing
 * was negotiated [RFC 4178 5; MS-SPNG 3.1.5.1]. Success alone proves nothing (smbd lets
 * anonymous in), so the result carries what does: the session flags, the server's SMB2
 * signature checked under our exported session key, and the server's mechListMIC checked the
 * same way.
 */
import { NegotiateFlags } from '../../src/ntlm/constants.js';
import { ntlmGssMic } from './ntlm-gss-mic.js';
import { Dialect, NtStatus, Smb2Connection, Smb2Flags, smb2Signature } from './smb2-client.js';
import { NegState, negTokenInit, negTokenRespOut, ntlmMechTypeList, parseNegTokenResp } from './spnego.js';

/** The engine's session security, when the initiator has one (src/ntlm/session.ts). */
export interface InitiatorSession {
  sign(message: Uint8Array): Buffer;
  /** Throws when the signature is wrong. */
  verify(message: Uint8Array, signature: Uint8Array): void;
}

/** The client side of a handshake, whoever implements it. */
export interface NtlmInitiator {
  negotiate(): Promise<Buffer>;
  authenticate(challenge: Buffer): Promise<{ token: Buffer; exportedSessionKey?: Buffer; flags: number; session?: InitiatorSession }>;
}

export interface SmbLoginResult {
  /** NT status of the last SESSION_SETUP. */
  status: number;
  dialect: number;
  sessionFlags: number;
  /** SMB2_FLAGS_SIGNED on the final response. */
  responseSigned: boolean;
  /** Server's SMB2 signature equals HMAC-SHA256(our key, response); undefined when not signed or no key. */
  signatureValid?: boolean;
  /** Server's SPNEGO mechListMIC matches our key; undefined when it sent none. */
  serverMechListMicValid?: boolean;
  negState?: number;
  /** The initiator's own session.sign(mechTypeList) equals the spec computation here. */
  engineMicMatches?: boolean;
  /** The initiator's session.verify accepted the server's mechListMIC. */
  engineVerifiedServerMic?: boolean;
  challenge: Buffer;
  authenticate: Buffer;
}

/** `dialect`: SMB 2.0.2 or 2.1 (both sign with HMAC-SHA256 under the session key). Default 2.1. */
export async function smbNtlmLogin(port: number, client: NtlmInitiator, dialect: number = Dialect.SMB210): Promise<SmbLoginResult> {
  const conn = await Smb2Connection.connect(port);
  try {
    const neg = await conn.negotiate(dialect);
    const first = await conn.sessionSetup(negTokenInit(await client.negotiate()), 0n);
    if (first.status !== NtStatus.MORE_PROCESSING_REQUIRED) throw new Error(`SESSION_SETUP leg 1: NT status 0x${first.status.toString(16)}`);
    const resp1 = parseNegTokenResp(first.securityBlob);
    if (!resp1.responseToken) throw new Error('SESSION_SETUP leg 1: no CHALLENGE in the NegTokenResp');
    const auth = await client.authenticate(resp1.responseToken);
    const key = auth.exportedSessionKey;
    const signing = key !== undefined && (auth.flags & NegotiateFlags.NEGOTIATE_SIGN) !== 0;
    const mechList = ntlmMechTypeList();
    const mic = signing ? ntlmGssMic(key, auth.flags, 'client-to-server', mechList) : undefined;
    const engineMic = mic && auth.session ? auth.session.sign(mechList) : undefined;
    const last = await conn.sessionSetup(negTokenRespOut(auth.token, mic), first.sessionId);
    const result: SmbLoginResult = {
      status: last.status,
      dialect: neg.dialect,
      sessionFlags: last.sessionFlags,
      responseSigned: (last.message.flags & Smb2Flags.SIGNED) !== 0,
      challenge: resp1.responseToken,
      authenticate: auth.token,
    };
    if (engineMic && mic) result.engineMicMatches = engineMic.equals(mic);
    if (last.securityBlob.length > 0) {
      const resp2 = parseNegTokenResp(last.securityBlob);
      if (resp2.negState !== undefined) result.negState = resp2.negState;
      if (resp2.mechListMic && signing) {
        result.serverMechListMicValid = resp2.mechListMic.equals(ntlmGssMic(key, auth.flags, 'server-to-client', mechList));
        if (auth.session) {
          try {
            auth.session.verify(mechList, resp2.mechListMic);
            result.engineVerifiedServerMic = true;
          } catch {
            result.engineVerifiedServerMic = false;
          }
        }
      }
    }
    if (result.responseSigned && key) result.signatureValid = last.message.signature.equals(smb2Signature(last.message.raw, key));
    return result;
  } finally {
    conn.close();
  }
}

export { NegState };
