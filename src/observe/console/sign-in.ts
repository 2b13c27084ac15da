/**
 * Console sign-in: HTTP NTLM [MS-NTHT] through our own acceptor (src/ntlm/http.ts ntlmHandler)
 * and the gateway's authority, so that operators sign in with the accounts the lines know.
 * NTLM authenticates the TCP connection: the identity is kept on the connection by ntlmHandler
 * (never in a cookie), and a handshake begun on one connection cannot be finished on another.
 * `requireGroup` says who may sign in. Every sign-in and refusal is logged and handed to
 * `hooks.record` (the audit trail and the lockout count).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ntlmHandler, type CredentialLender } from '../../ntlm/http.js';
import type { AccountInfo } from '../../ntlm/authority.js';
import type { CredentialHandle } from '../../ntlm/server.js';
import { SEC_E_NO_AUTHENTICATING_AUTHORITY, statusName } from '../../ntlm/constants.js';
import type { Logger } from '../../logging.js';
import { errorSummary } from '../../errors.js';

/** The signed-in operator of a request: what every action is logged with. */
export interface Operator {
  user: string;
  domain: string;
  workstation: string;
  /** The peer address of the connection. */
  source: string;
}

/** `DOMAIN\user` (or `user` when the authority names no domain). */
export function operatorName(o: { user: string; domain: string }): string {
  return o.domain ? `${o.domain}\\${o.user}` : o.user;
}

/** One sign-in, one refusal, or one operator action: what the audit trail records. */
export type ConsoleRecord =
  | { type: 'console-sign-in'; user: string; domain: string; workstation: string; source: string }
  | { type: 'console-sign-in-refused'; source: string; status: string; reason: string; user?: string; domain?: string }
  | { type: 'console-action'; operator: string; source: string; action: string; target: string; result: 'done' | 'failed'; detail?: string };

/**
 * Where the console's records go besides the log. The lead wires these to the guessing defence
 * (src/audit Audit.record and src/guard's lockout count) where it exists.
 */
export interface ConsoleHooks {
  /** Every sign-in, refusal and action, as it happens. Must not throw (a throw is logged and ignored). */
  record?(record: ConsoleRecord): void;
  /**
   * Asked before a connection that is not signed in may start a handshake: true, or why not (a
   * source under penalty). Default: everyone may try.
   */
  admit?(source: string): true | string;
  /**
   * Every sign-in's verdict, as the lockout counts logins (a refusal counts against the name, a
   * success resets it): true when the name is locked, and then the sign-in is refused as a wrong
   * password is. Must not throw (a throw is logged and the sign-in goes on).
   */
  counted?(s: { user: string; domain: string; address: string; accepted: boolean }): boolean;
}

export interface SignInOptions {
  /** The gateway's credential, lent per handshake (Gateway.lendCredential), or a fixed one. */
  credential: CredentialHandle | CredentialLender;
  /** User names, or group names / SIDs the authority reported (ldap). Empty: whoever logs on. */
  requireGroup?: readonly string[];
}

/** Does this account pass `requireGroup`? A user name, `DOMAIN\user`, a group name or a SID (any case). */
export function mayOperate(requireGroup: readonly string[], who: { user: string; domain: string }, account: AccountInfo | undefined): boolean {
  if (requireGroup.length === 0) return true;
  const mine = new Set([who.user, operatorName(who), ...(account?.groups ?? [])].map((n) => n.toLowerCase()));
  return requireGroup.some((g) => mine.has(g.toLowerCase()));
}

export interface SignIn {
  /** Sign the request's connection in (answering the handshake legs itself), then `next(operator)`. */
  handle(req: IncomingMessage, res: ServerResponse, next: (operator: Operator) => void): void;
}

export function createSignIn(o: SignInOptions, hooks: ConsoleHooks, log: Logger): SignIn {
  const requireGroup = o.requireGroup ?? [];
  const operators = new WeakMap<Socket, Operator>();
  const record = (r: ConsoleRecord) => {
    try {
      hooks.record?.(r);
    } catch (err) {
      log.error('console: the record hook failed', { err: errorSummary(err), record: r.type });
    }
  };
  const sourceOf = (req: IncomingMessage) => req.socket.remoteAddress ?? 'unknown';
  const count = (s: { user: string; domain: string; address: string; accepted: boolean }): boolean => {
    try {
      return hooks.counted?.(s) ?? false;
    } catch (err) {
      log.error('console: the lockout hook failed', { err: errorSummary(err) });
      return false;
    }
  };
  const handler = ntlmHandler(o.credential, {
    authorize: (req, identity, account) => {
      if (count({ ...identity, address: sourceOf(req), accepted: true })) return { reason: 'account-locked', asLogonFailure: true };
      return mayOperate(requireGroup, identity, account) ? true : 'not-in-require-group';
    },
    onLogon: (req, identity) => {
      const op: Operator = { ...identity, source: sourceOf(req) };
      operators.set(req.socket, op);
      log.info('console sign-in', { operator: operatorName(op), workstation: op.workstation, source: op.source });
      record({ type: 'console-sign-in', ...op });
    },
    onRefused: (req, r) => {
      const who = r.user !== undefined ? { user: r.user, domain: r.domain ?? '' } : undefined;
      const meta = { source: sourceOf(req), status: statusName(r.status), reason: r.reason, ...(r.denyReason ? { denyReason: r.denyReason } : {}), ...(who ? { operator: operatorName(who) } : {}) };
      if (who && r.reason !== 'account-locked' && r.status !== SEC_E_NO_AUTHENTICATING_AUTHORITY) count({ ...who, address: meta.source, accepted: false });
      log.warn('console sign-in refused', meta);
      record({ type: 'console-sign-in-refused', source: meta.source, status: meta.status, reason: r.denyReason ?? r.reason, ...(who ?? {}) });
    },
  });
  return {
    handle(req, res, next) {
      const known = operators.get(req.socket);
      if (!known && hooks.admit) {
        let verdict: true | string;
        try {
          verdict = hooks.admit(sourceOf(req));
        } catch (err) {
          log.error('console: the admit hook failed', { err: errorSummary(err) });
          verdict = true;
        }
        if (verdict !== true) {
          log.warn('console sign-in refused', { source: sourceOf(req), reason: verdict });
          res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
          res.end('sign-in refused for now\n');
          return;
        }
      }
      void handler(req, res, (err) => {
        if (err) {
          log.error('console sign-in failed', { err: errorSummary(err) });
          if (!res.headersSent) res.writeHead(500, { Connection: 'close' });
          res.end();
          return;
        }
        next(operators.get(req.socket)!);
      });
    },
  };
}
