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
 *   403 + Connection: close                    logged on, but `authorize` said no (not in a group, ...)
 *   503 + Connection: close                    the authority is down or too many handshakes wait
 *
 * SPNEGO-wrapped tokens (Kerberos, or NTLM inside SPNEGO) are not understood: the answer offers
 * NTLM alone, and clients fall back to it. Every context is deleted when its connection closes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import {
  acceptSecurityContext, deleteSecurityContext, querySecurityContextAccount, querySecurityContextOutcome, querySecurityContextToken, type CredentialHandle, type SecurityContext,
} from './server.js';
import type { AccountInfo, DenyReason } from './authority.js';
import { ASC_REQ_CONNECTION, NTLMSSP_SIGNATURE, SECURITY_NATIVE_DREP, SEC_E_INSUFFICIENT_MEMORY, SEC_E_LOGON_DENIED, SEC_E_NO_AUTHENTICATING_AUTHORITY, SEC_E_OK, SEC_I_CONTINUE_NEEDED } from './constants.js';

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
  /** The names the authority gave (a wrong password for a known user, a denied account), when it gave them. */
  user?: string;
  domain?: string;
}

/**
 * A credential lent for one context (from its NEGOTIATE until it ends), for a server whose
 * authority may be replaced while it runs (a daemon's reload): release() is called once.
 */
export type CredentialLender = () => { credential: CredentialHandle; release(): void };

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
  /**
   * Asked once per connection after a logon succeeds, with what the authority said about the
   * account (groups, when it read them): true lets the connection in; a reason string refuses
   * it (403, the connection is closed, onRefused is told with SEC_E_LOGON_DENIED and that reason);
   * `{ reason, asLogonFailure: true }` refuses it as a wrong password would be (401 with the
   * challenges offered again), for refusals that must not tell that the password was right (a
   * locked account). Default: everyone who logs on.
   */
  authorize?: (req: IncomingMessage, identity: NtlmIdentity, account: AccountInfo | undefined) => Verdict | Promise<Verdict>;
  /** Told once per connection when it is logged on (and authorized). Default: nothing. */
  onLogon?: (req: IncomingMessage, identity: NtlmIdentity) => void;
}

/** What `authorize` says of a logged-on connection. */
export type Verdict = true | string | { reason: string; asLogonFailure: true };

/** Called once the connection is logged on; with an error only for a fault of the handler itself (Express's `next`). */
export type NextFunction = (err?: unknown) => void;

export type NtlmRequest = IncomingMessage & { ntlm?: NtlmIdentity };

export type NtlmRequestHandler = (req: NtlmRequest, res: ServerResponse, next: NextFunction) => Promise<void>;

interface ConnectionState {
  context: SecurityContext | null;
  /** The lent credential of `context`, returned when the context ends. */
  release: (() => void) | undefined;
  /** The credential `context` was made with (the last leg must use the same one). */
  credential?: CredentialHandle;
  scheme: NtlmScheme;
  identity: NtlmIdentity | undefined;
}

const AUTHORIZATION = /^\s*(NTLM|Negotiate)\s+([A-Za-z0-9+/]+={0,2})\s*$/i;

/**
 * A request handler that logs the connection on with NTLM before calling `next()` with
 * `req.ntlm` set. Works as Express middleware (`app.use(ntlmHandler(cred))`) and with node:http
 * (`handler(req, res, () => { ...answer the request... })`).
 */
export function ntlmHandler(credential: CredentialHandle | CredentialLender, options: NtlmHandlerOptions = {}): NtlmRequestHandler {
  const schemes = options.schemes ?? ['Negotiate', 'NTLM'];
  if (!Array.isArray(schemes) || schemes.length === 0 || schemes.some((s) => s !== 'Negotiate' && s !== 'NTLM')) throw new TypeError('ntlmHandler: schemes must list Negotiate and/or NTLM');
  const contextReq = options.contextReq ?? ASC_REQ_CONNECTION;
  const connections = new WeakMap<Socket, ConnectionState>();
  const lend = typeof credential === 'function' ? credential : () => ({ credential, release: () => undefined });
  /** End the connection's context (if any) and give its credential back. */
  const endContext = (state: ConnectionState): void => {
    if (state.context) deleteSecurityContext(state.context);
    state.context = null;
    const release = state.release;
    state.release = undefined;
    release?.();
  };

  const challenge = (res: ServerResponse, offer: string[], status = 401, close = false): void => {
    res.statusCode = status;
    if (offer.length) res.setHeader('WWW-Authenticate', offer);
    res.setHeader('Content-Length', '0');
    if (close) res.setHeader('Connection', 'close');
    res.end();
  };
  const offerAll = schemes.slice();

  const stateOf = (socket: Socket): ConnectionState => {
    let state = connections.get(socket);
    if (!state) {
      const fresh: ConnectionState = { context: null, release: undefined, scheme: 'NTLM', identity: undefined };
      connections.set(socket, fresh);
      socket.once('close', () => endContext(fresh));
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
        endContext(state);
        const lent = lend();
        const first = await acceptSecurityContext(lent.credential, null, token, contextReq, SECURITY_NATIVE_DREP, { channelBindings: options.channelBindings?.(req) });
        if (first.status === SEC_I_CONTINUE_NEEDED && socket.destroyed) {
          // The client left while we made the CHALLENGE: nobody will send the AUTHENTICATE.
          deleteSecurityContext(first.context);
          lent.release();
          return;
        }
        if (first.status === SEC_I_CONTINUE_NEEDED) {
          endContext(state); // a second NEGOTIATE pipelined on this connection
          state.context = first.context;
          state.release = lent.release;
          state.credential = lent.credential;
          state.scheme = scheme;
          return challenge(res, [`${scheme} ${first.outputToken!.toString('base64')}`]);
        }
        if (first.context) deleteSecurityContext(first.context);
        lent.release();
        options.onRefused?.(req, { status: first.status, reason: first.reason });
        return challenge(res, offerAll, unavailable(first.status) ? 503 : 401, true);
      }
      // An AUTHENTICATE is taken only on the connection whose NEGOTIATE made the context.
      if (type !== 3 || !state.context) return challenge(res, offerAll, 401, true);
      const context = state.context;
      const release = state.release;
      const held = state.credential!;
      state.context = null;
      state.release = undefined;
      try {
        const last = await acceptSecurityContext(held, context, token, contextReq, SECURITY_NATIVE_DREP, { channelBindings: options.channelBindings?.(req) });
        if (last.status === SEC_E_OK) {
          const identity = querySecurityContextToken(context);
          const account = querySecurityContextAccount(context);
          deleteSecurityContext(context);
          const verdict = options.authorize ? await options.authorize(req, identity, account) : true;
          if (verdict !== true) {
            const reason = typeof verdict === 'string' ? verdict : verdict.reason;
            options.onRefused?.(req, { status: SEC_E_LOGON_DENIED, reason, user: identity.user, domain: identity.domain });
            return typeof verdict === 'string' ? challenge(res, [], 403, true) : challenge(res, offerAll, 401, true);
          }
          state.identity = identity;
          options.onLogon?.(req, identity);
          req.ntlm = identity;
          return next();
        }
        const named = querySecurityContextOutcome(context);
        deleteSecurityContext(context);
        options.onRefused?.(req, {
          status: last.status, reason: last.reason, ...(last.denyReason ? { denyReason: last.denyReason } : {}), ...(named?.user ? { user: named.user } : {}), ...(named?.domain !== undefined ? { domain: named.domain } : {}),
        });
        return challenge(res, offerAll, unavailable(last.status) ? 503 : 401, true);
      } finally {
        release?.();
      }
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
