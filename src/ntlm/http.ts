/**
 * NTLM over HTTP for node:http and Express: `ntlmHandler(credential)` is a request handler of the
 * `(req, res, next)` shape. NTLM authenticates the TCP connection, not the request [MS-NTHT 2]:
 * one security context per connection, the legs carried in `Authorization` / `WWW-Authenticate`
 * headers (`NTLM <base64>`, or `Negotiate <base64>` carrying a raw NTLMSSP token), and every
 * later request on that connection is the same user.
 *
 *   401 WWW-Authenticate: Negotiate / NTLM     no token yet (or a token we cannot use)
 *   401 WWW-Authenticate: NTLM <CHALLENGE>     after the NEGOTIATE (the connection is kept)
 *   next(), req.ntlm = { user, domain, ... }   after an AUTHENTICATE that logs on, and on every
 *                                              later request of that connection
 *   401 + Connection: close                    after one that does not (a wrong password, ...)
 *   503 + Connection: close                    the authority is down or too many handshakes wait
 *
 * SPNEGO-wrapped tokens (Kerberos, or NTLM inside SPNEGO) are not understood: the answer offers
 * NTLM alone, and clients fall back to it. Every context is deleted when its connection closes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { acceptSecurityContext, deleteSecurityContext, querySecurityContextToken, type CredentialHandle, type SecurityContext } from './server.js';
import type { DenyReason } from './authority.js';
import { ASC_REQ_CONNECTION, NTLMSSP_SIGNATURE, SECURITY_NATIVE_DREP, SEC_E_INSUFFICIENT_MEMORY, SEC_E_NO_AUTHENTICATING_AUTHORITY, SEC_E_OK, SEC_I_CONTINUE_NEEDED } from './constants.js';

/** Who logged on to this request's connection. */
export interface NtlmIdentity {
  user: string;
  domain: string;
  workstation: string;
}

export type NtlmScheme = 'Negotiate' | 'NTLM';

/** The outcome of a last leg that did not log on, for logs and audit. */
export interface NtlmRefusal {
  /** SSPI status (SEC_E_LOGON_DENIED, ...). */
  status: number;
  /** The acceptor's stable word ('bad-mic', 'ntlmv1-refused', ...). */
  reason: string;
  denyReason?: DenyReason;
}

export interface NtlmHandlerOptions {
  /** Schemes offered in WWW-Authenticate and accepted in Authorization, in order. Default ['Negotiate', 'NTLM']. */
  schemes?: NtlmScheme[];
  /** fContextReq for every context (ASC_REQ_*). Default ASC_REQ_CONNECTION. */
  contextReq?: number;
  /**
   * The channel bindings of this request's connection (MsvAvChannelBindings, e.g.
   * channelBindingsHash of "tls-server-end-point:" + the certificate hash): when given, a client
   * whose AUTHENTICATE does not carry them is refused. Default: none.
   */
  channelBindings?: (req: IncomingMessage) => Buffer | undefined;
  /** Told of every refused logon (a wrong password, a bad MIC, ...). Default: nothing. */
  onRefused?: (req: IncomingMessage, refusal: NtlmRefusal) => void;
}

/** Called once the connection is logged on; with an error only for a fault of the handler itself (Express's `next`). */
export type NextFunction = (err?: unknown) => void;

export type NtlmRequest = IncomingMessage & { ntlm?: NtlmIdentity };

export type NtlmRequestHandler = (req: NtlmRequest, res: ServerResponse, next: NextFunction) => Promise<void>;

interface ConnectionState {
  context: SecurityContext | null;
  scheme: NtlmScheme;
  identity: NtlmIdentity | undefined;
}

const AUTHORIZATION = /^\s*(NTLM|Negotiate)\s+([A-Za-z0-9+/]+={0,2})\s*$/i;

/**
 * A request handler that logs the connection on with NTLM before calling `next()` with
 * `req.ntlm` set. Works as Express middleware (`app.use(ntlmHandler(cred))`) and with node:http
 * (`handler(req, res, () => { ...answer the request... })`).
 */
export function ntlmHandler(credential: CredentialHandle, options: NtlmHandlerOptions = {}): NtlmRequestHandler {
  const schemes = options.schemes ?? ['Negotiate', 'NTLM'];
  if (!Array.isArray(schemes) || schemes.length === 0 || schemes.some((s) => s !== 'Negotiate' && s !== 'NTLM')) throw new TypeError('ntlmHandler: schemes must list Negotiate and/or NTLM');
  const contextReq = options.contextReq ?? ASC_REQ_CONNECTION;
  const connections = new WeakMap<Socket, ConnectionState>();

  const challenge = (res: ServerResponse, offer: string[], status = 401, close = false): void => {
    res.statusCode = status;
    res.setHeader('WWW-Authenticate', offer);
    res.setHeader('Content-Length', '0');
    if (close) res.setHeader('Connection', 'close');
    res.end();
  };
  const offerAll = schemes.slice();

  const stateOf = (socket: Socket): ConnectionState => {
    let state = connections.get(socket);
    if (!state) {
      const fresh: ConnectionState = { context: null, scheme: 'NTLM', identity: undefined };
      connections.set(socket, fresh);
      socket.once('close', () => {
        if (fresh.context) deleteSecurityContext(fresh.context);
        fresh.context = null;
      });
      state = fresh;
    }
    return state;
  };

  return async (req, res, next) => {
    try {
      const socket = req.socket;
      const state = stateOf(socket);
      if (state.identity) {
        req.ntlm = state.identity;
        return next();
      }
      const m = AUTHORIZATION.exec(req.headers.authorization ?? '');
      const scheme = m && schemes.find((s) => s.toLowerCase() === m[1]!.toLowerCase());
      if (!m || !scheme) return challenge(res, offerAll);
      const token = Buffer.from(m[2]!, 'base64');
      // A raw NTLMSSP token only; SPNEGO (Kerberos) is not ours: offer NTLM alone.
      if (token.length < 12 || !token.subarray(0, 8).equals(NTLMSSP_SIGNATURE)) return challenge(res, schemes.includes('NTLM') ? ['NTLM'] : offerAll);
      const type = token.readUInt32LE(8);
      req.resume(); // a body sent with a handshake leg is not read
      if (type === 1) {
        if (state.context) deleteSecurityContext(state.context);
        state.context = null;
        const first = await acceptSecurityContext(credential, null, token, contextReq, SECURITY_NATIVE_DREP, { channelBindings: options.channelBindings?.(req) });
        if (first.status === SEC_I_CONTINUE_NEEDED) {
          state.context = first.context;
          state.scheme = scheme;
          return challenge(res, [`${scheme} ${first.outputToken!.toString('base64')}`]);
        }
        if (first.context) deleteSecurityContext(first.context);
        options.onRefused?.(req, { status: first.status, reason: first.reason });
        return challenge(res, offerAll, unavailable(first.status) ? 503 : 401, true);
      }
      if (type !== 3 || !state.context) return challenge(res, offerAll, 401, true);
      const context = state.context;
      state.context = null;
      const last = await acceptSecurityContext(credential, context, token, contextReq, SECURITY_NATIVE_DREP, { channelBindings: options.channelBindings?.(req) });
      if (last.status === SEC_E_OK) {
        state.identity = querySecurityContextToken(context);
        deleteSecurityContext(context);
        req.ntlm = state.identity;
        return next();
      }
      deleteSecurityContext(context);
      options.onRefused?.(req, { status: last.status, reason: last.reason, ...(last.denyReason ? { denyReason: last.denyReason } : {}) });
      return challenge(res, offerAll, unavailable(last.status) ? 503 : 401, true);
    } catch (err) {
      // Never the client's doing (every client mistake is a status above): hand it on.
      if (res.headersSent) return void res.destroy(err as Error);
      next(err);
    }
  };
}

/** An outage or a full house, not a refusal: the client may try again later. */
function unavailable(status: number): boolean {
  return status === SEC_E_NO_AUTHENTICATING_AUTHORITY || status === SEC_E_INSUFFICIENT_MEMORY;
}
