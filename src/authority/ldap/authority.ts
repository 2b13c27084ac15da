/**
 * `authority: { type: ldap }`: NTLM relayed to a domain controller by LDAP SASL bind
 * ([MS-ADTS 5.1.1.1.2], RFC 4511 4.2). The client's NEGOTIATE goes to the DC in a BindRequest (SASL
 * GSS-SPNEGO carrying raw NTLMSSP); the DC's CHALLENGE comes back in serverSaslCreds with
 * saslBindInProgress (14); the AUTHENTICATE goes in a second bind on the same connection and
 * its resultCode is the verdict (0 ok, 49 + AD data code denied, anything else an outage).
 *
 * Tokens pass through unchanged: the MIC covers the NEGOTIATE's bytes, so flags cannot be
 * changed on the way. Which transport a relay uses therefore follows the client's NEGOTIATE
 * (checked against Samba 4.17; AD behaves alike):
 *  - NEGOTIATE_SIGN offered (rasgate's own client, Windows): plain LDAP. DCs require signing
 *    or TLS on binds ("ldap server require strong auth"), and refuse SIGN/SEAL inside TLS
 *    (unwillingToPerform 53 "Sign or Seal are not allowed if TLS is used").
 *  - SIGN not offered: TLS, by StartTLS on an ldap:// server or directly on ldaps://. Samba's
 *    default ("require strong auth = yes") still refuses that (strongerAuthRequired 8, "Sign or
 *    Seal are required"); `allow_sasl_over_tls` on the DC allows it.
 * So ldap:// URLs serve both kinds of client; ldaps:// only clients without SIGN. A refusal for
 * the transport is an outage with the reason logged, never a denial.
 *
 * Speed: `warmConnections` per DC and transport are connected (and StartTLS'd) ahead of need, so
 * a logon pays its two binds only; each serves one logon (a relayed NTLM bind leaves its
 * connection signed with a key we do not have) and is replaced in the background. The policy
 * lookup runs beside the second bind, on one long-lived service connection bound once, and
 * reuses an account's nested groups for `groupCacheMs`.
 */
import type { Authority, AuthorityVerdict, RelayExchange } from '../../ntlm/authority.js';
import { nullLogger, type Logger } from '../../logging.js';
import { errorSummary } from '../../errors.js';
import { decodeAuthenticate, decodeChallenge, decodeNegotiate } from '../../ntlm/messages.js';
import { AvId, NegotiateFlags } from '../../ntlm/constants.js';
import { dialinDenial } from '../dialin.js';
import { LdapConnection, type LdapConnectOptions } from './connection.js';
import { ResultCode } from './constants.js';
import { denyReasonFor, adDataCode } from './diagnostic.js';
import { defaultNamingContext, lookupAccount, type GroupCache } from './directory.js';
import type { GroupRef } from '../dialin.js';
import { LdapConnectionError, LdapProtocolError } from './errors.js';
import { bindRequest, type LdapResponse } from './messages.js';
import { resolveLdapOptions, type LdapAuthorityOptions, type ResolvedLdapOptions } from './options.js';
import type { LdapUrl } from './url.js';

export interface LdapAuthorityDeps {
  logger?: Logger;
  /** Milliseconds clock for DC health. Default Date.now. */
  now?: () => number;
}

/** A connection made ahead of need: 'plain' for clients that sign, 'tls' for the others. */
type Transport = 'plain' | 'tls';

interface Spare {
  conn: LdapConnection;
  at: number;
}

interface DcHealth {
  url: LdapUrl;
  /** Skipped until then after a failure. */
  deadUntil: number;
  /** Cached base for lookups (from the rootDSE). */
  baseDn?: string;
  /** The service-account connection, kept open between lookups (LDAP runs requests concurrently on it). */
  service?: Promise<LdapConnection>;
  /** Ready, unbound connections by transport, and how many are being made. */
  spares: Record<Transport, Spare[]>;
  filling: Record<Transport, number>;
}

/** Group memberships by account DN for a while; bounded (oldest dropped first). */
class TimedGroupCache implements GroupCache {
  private readonly entries = new Map<string, { groups: GroupRef[]; until: number }>();
  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
    private readonly max = 10_000,
  ) {}

  get(dn: string): GroupRef[] | undefined {
    const e = this.entries.get(dn);
    if (!e) return undefined;
    if (e.until > this.now()) return e.groups;
    this.entries.delete(dn);
    return undefined;
  }

  set(dn: string, groups: GroupRef[]): void {
    this.entries.delete(dn);
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(dn, { groups, until: this.now() + this.ttlMs });
  }

  clear(): void {
    this.entries.clear();
  }
}

export class LdapAuthority implements Authority {
  readonly type = 'ldap';
  private readonly o: ResolvedLdapOptions;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly dcs: DcHealth[];
  private readonly open = new Set<LdapConnection>();
  private readonly groups: TimedGroupCache | undefined;
  private closed = false;

  constructor(options: LdapAuthorityOptions, deps: LdapAuthorityDeps = {}) {
    this.o = resolveLdapOptions(options);
    this.logger = deps.logger ?? nullLogger();
    this.now = deps.now ?? Date.now;
    this.dcs = this.o.servers.map((url) => ({ url, deadUntil: 0, spares: { plain: [], tls: [] }, filling: { plain: 0, tls: 0 } }));
    this.groups = this.o.groupCacheMs > 0 ? new TimedGroupCache(this.o.groupCacheMs, this.now) : undefined;
    if (!this.o.tls.rejectUnauthorized) this.logger.warn('ldap authority: DC certificates are NOT checked (tlsVerify: false)', { authority: 'ldap' });
  }

  /** Health of each DC, for logs and tests. */
  health(): Array<{ server: string; up: boolean }> {
    const t = this.now();
    return this.dcs.map((d) => ({ server: d.url.href, up: d.deadUntil <= t }));
  }

  async relay(negotiate: Buffer, signal: AbortSignal): Promise<RelayExchange> {
    const signs = (decodeNegotiate(negotiate).flags & NegotiateFlags.NEGOTIATE_SIGN) !== 0;
    const t = this.now();
    // Live DCs first in configured order; dead ones after, so that an all-dead list is still tried.
    const order = [...this.dcs.filter((d) => d.deadUntil <= t), ...this.dcs.filter((d) => d.deadUntil > t)];
    const failures: string[] = [];
    const transport: Transport = signs ? 'plain' : 'tls';
    for (const dc of order) {
      if (signal.aborted) break;
      let conn: LdapConnection | undefined;
      try {
        let r: LdapResponse;
        const spare = this.takeSpare(dc, transport);
        try {
          conn = spare?.conn ?? (await this.connectFor(dc, transport, signal));
          r = await this.firstBind(conn, negotiate, signal);
        } catch (err) {
          // A ready connection the DC dropped while it waited says nothing about the DC: try a fresh one.
          if (!spare || signal.aborted || (err instanceof LdapConnectionError && err.code === 'LDAP_RESULT')) throw err;
          this.drop(spare);
          conn = await this.connectFor(dc, transport, signal);
          r = await this.firstBind(conn, negotiate, signal);
        }
        const { challenge, nbDomain } = this.challengeFrom(r);
        dc.deadUntil = 0;
        this.refill(dc, transport);
        return this.exchange(dc, conn, challenge, nbDomain, signs);
      } catch (err) {
        conn?.destroy();
        if (conn) this.open.delete(conn);
        const s = errorSummary(err);
        failures.push(`${dc.url.href}: ${s.message}`);
        // An answer we can read (a result code) says the DC is alive; anything else marks it dead.
        if (!(err instanceof LdapConnectionError && err.code === 'LDAP_RESULT') && !signal.aborted) {
          dc.deadUntil = this.now() + this.o.retryDeadAfterMs;
          this.logger.warn('ldap authority: domain controller failed, skipping it for a while', { server: dc.url.href, code: s.code, error: s.message, retryInMs: this.o.retryDeadAfterMs });
        } else {
          this.logger.warn('ldap authority: domain controller refused the NEGOTIATE', { server: dc.url.href, code: s.code, error: s.message });
        }
      }
    }
    throw new LdapConnectionError(signal.aborted ? 'LDAP_ABORTED' : 'LDAP_CONNECT', `no domain controller gave a challenge (${failures.join('; ') || 'aborted'})`);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const dc of this.dcs) {
      dc.service = undefined;
      dc.spares = { plain: [], tls: [] };
    }
    this.groups?.clear();
    for (const c of this.open) c.close();
    this.open.clear();
  }

  /** Re-read nothing, but start over: cached group memberships go (SIGHUP). */
  async reload(): Promise<void> {
    this.groups?.clear();
  }

  private firstBind(conn: LdapConnection, negotiate: Buffer, signal: AbortSignal): Promise<LdapResponse> {
    return conn.request((id) => bindRequest(id, '', { sasl: { mechanism: this.o.mechanism, credentials: negotiate } }), signal);
  }

  /** A connection for one relayed logon: TCP (or ldaps), StartTLS'd when the transport needs TLS. */
  private async connectFor(dc: DcHealth, transport: Transport, signal: AbortSignal): Promise<LdapConnection> {
    const conn = await this.connect(dc.url, signal);
    try {
      if (transport === 'tls' && !dc.url.secure) await conn.startTls(this.o.tls, signal);
    } catch (err) {
      this.drop({ conn, at: 0 });
      throw err;
    }
    return conn;
  }

  /** A ready connection that is still open and not too old, or undefined. */
  private takeSpare(dc: DcHealth, transport: Transport): Spare | undefined {
    const list = dc.spares[transport];
    const now = this.now();
    for (let s = list.shift(); s; s = list.shift()) {
      if (!s.conn.isClosed && now - s.at < this.o.warmIdleMs) {
        s.conn.setIdle(false);
        return s;
      }
      this.drop(s);
    }
    return undefined;
  }

  /** Make ready connections up to warmConnections, in the background (after a logon showed the DC works). */
  private refill(dc: DcHealth, transport: Transport): void {
    while (!this.closed && dc.spares[transport].length + dc.filling[transport] < this.o.warmConnections) {
      dc.filling[transport]++;
      // Not tied to a caller's signal: the connection outlives the logon that asked for it.
      this.connectFor(dc, transport, new AbortController().signal).then(
        (conn) => {
          dc.filling[transport]--;
          if (this.closed) return this.drop({ conn, at: 0 });
          conn.setIdle(true);
          dc.spares[transport].push({ conn, at: this.now() });
        },
        (err: unknown) => {
          dc.filling[transport]--;
          this.logger.debug('ldap authority: a ready connection could not be made', { server: dc.url.href, error: errorSummary(err).message });
        },
      );
    }
  }

  private drop(spare: Spare): void {
    spare.conn.destroy();
    this.open.delete(spare.conn);
  }

  private async connect(url: LdapUrl, signal: AbortSignal): Promise<LdapConnection> {
    const opts: LdapConnectOptions = {
      connectTimeoutMs: this.o.connectTimeoutMs,
      responseTimeoutMs: this.o.responseTimeoutMs,
      tls: this.o.tls,
      maxMessageBytes: this.o.maxMessageBytes,
      signal,
    };
    const conn = await LdapConnection.connect(url, opts);
    this.open.add(conn);
    return conn;
  }

  /** The CHALLENGE bytes and the DC's NetBIOS domain from its target info (decoded once). */
  private challengeFrom(r: LdapResponse): { challenge: Buffer; nbDomain: string | undefined } {
    if (r.type !== 'bindResponse') throw new LdapProtocolError('LDAP_BAD_MESSAGE', `bind answered with ${r.type}`);
    if (r.result.resultCode !== ResultCode.SaslBindInProgress || !r.serverSaslCreds) {
      throw new LdapConnectionError('LDAP_RESULT', `bind step 1: resultCode ${r.result.resultCode} ${r.result.diagnosticMessage}`.trim());
    }
    // A malformed CHALLENGE is the DC's fault: decodeChallenge throws and relay() fails over.
    const nbDomain = decodeChallenge(r.serverSaslCreds).targetInfo.pairs.find((p) => p.id === AvId.MsvAvNbDomainName)?.value.toString('utf16le');
    return { challenge: r.serverSaslCreds, nbDomain };
  }

  private exchange(dc: DcHealth, conn: LdapConnection, challenge: Buffer, nbDomain: string | undefined, signs: boolean): RelayExchange {
    const done = (): void => {
      conn.close();
      this.open.delete(conn);
    };
    return {
      challenge,
      server: dc.url.href,
      authenticate: async (authenticate, signal) => {
        try {
          return await this.secondLeg(dc, conn, nbDomain, authenticate, signs, signal);
        } finally {
          done();
        }
      },
      abort: () => {
        conn.destroy();
        this.open.delete(conn);
      },
    };
  }

  private async secondLeg(dc: DcHealth, conn: LdapConnection, nbDomain: string | undefined, authenticate: Buffer, signs: boolean, signal: AbortSignal): Promise<AuthorityVerdict> {
    const auth = decodeAuthenticate(authenticate);
    const domain = nbDomain || auth.domain;
    // The policy lookup runs beside the bind (the user is named in the AUTHENTICATE already): a
    // logon then waits for the slower of the two, not for both. Its answer counts only if the
    // bind succeeds; withPolicy never rejects.
    const policy = this.o.lookup ? this.withPolicy(dc, auth.user, domain, signal) : undefined;
    let r: LdapResponse;
    try {
      r = await conn.request((id) => bindRequest(id, '', { sasl: { mechanism: this.o.mechanism, credentials: authenticate } }), signal);
    } catch (err) {
      const s = errorSummary(err);
      if (err instanceof LdapConnectionError && err.code === 'LDAP_TIMEOUT') dc.deadUntil = this.now() + this.o.retryDeadAfterMs;
      this.logger.warn('ldap authority: bind step 2 failed', { server: dc.url.href, code: s.code, error: s.message });
      return { result: 'unavailable', detail: `${dc.url.href}: ${s.message}` };
    }
    if (r.type !== 'bindResponse') return { result: 'unavailable', detail: `${dc.url.href}: bind answered with ${r.type}` };
    const { resultCode, diagnosticMessage } = r.result;
    if (resultCode === ResultCode.InvalidCredentials) {
      const reason = denyReasonFor(diagnosticMessage);
      this.logger.info('ldap authority: domain controller refused the logon', { server: dc.url.href, user: auth.user, domain, adData: adDataCode(diagnosticMessage), reason: reason ?? 'unknown' });
      if (reason) return { result: 'denied', reason, user: auth.user, domain };
      return { result: 'unavailable', detail: `${dc.url.href}: invalidCredentials with an unknown data code (${diagnosticMessage})` };
    }
    if (resultCode === ResultCode.StrongerAuthRequired || resultCode === ResultCode.UnwillingToPerform) {
      const why = signs
        ? 'the DC refuses NTLM signing inside TLS: configure ldap:// URLs for clients that offer NEGOTIATE_SIGN'
        : 'the client did not offer NEGOTIATE_SIGN and the DC requires SASL signing even over TLS (Samba: ldap server require strong auth = allow_sasl_over_tls relaxes it)';
      this.logger.warn('ldap authority: domain controller refused the bind for its transport', { server: dc.url.href, resultCode, why });
      return { result: 'unavailable', detail: `${dc.url.href}: resultCode ${resultCode} ${diagnosticMessage} (${why})` };
    }
    if (resultCode !== ResultCode.Success) return { result: 'unavailable', detail: `${dc.url.href}: bind resultCode ${resultCode} ${diagnosticMessage}`.trim() };
    conn.close();
    this.open.delete(conn);
    if (!policy) return { result: 'ok', user: auth.user, domain };
    const verdict = await policy;
    if (verdict.result === 'denied') this.logger.info('ldap authority: dial-in policy refused the logon', { server: dc.url.href, user: verdict.user, domain, reason: verdict.reason });
    return verdict;
  }

  /** A bound service-account connection to `dc`, reused while it stays open. */
  private service(dc: DcHealth): Promise<LdapConnection> {
    const lookup = this.o.lookup!;
    const existing = dc.service;
    if (existing) {
      return existing.then((c) => {
        if (!c.isClosed) return c;
        this.open.delete(c);
        dc.service = undefined;
        return this.service(dc);
      });
    }
    const made = (async () => {
      // Not tied to one caller's abort signal: the connection outlives the request that opened it.
      const conn = await this.connect(dc.url, new AbortController().signal);
      try {
        if (!dc.url.secure) await conn.startTls(this.o.tls);
        const b = await conn.request((id) => bindRequest(id, lookup.bindDn, { simple: lookup.password }));
        if (b.type !== 'bindResponse' || b.result.resultCode !== ResultCode.Success) {
          const code = b.type === 'bindResponse' ? `${b.result.resultCode} ${b.result.diagnosticMessage}` : b.type;
          throw new LdapConnectionError('LDAP_RESULT', `service account bind failed: resultCode ${code}`);
        }
        dc.baseDn ??= lookup.baseDn ?? (await defaultNamingContext(conn));
        return conn;
      } catch (err) {
        conn.destroy();
        this.open.delete(conn);
        throw err;
      }
    })();
    dc.service = made;
    made.catch(() => {
      if (dc.service === made) dc.service = undefined;
    });
    return made;
  }

  /** Service-account lookup and dial-in policy (see directory.ts for why a second connection). */
  private async withPolicy(dc: DcHealth, user: string, domain: string, signal: AbortSignal): Promise<AuthorityVerdict> {
    try {
      const conn = await this.service(dc);
      let account;
      try {
        account = await lookupAccount(conn, dc.baseDn!, user, signal, this.groups);
      } catch (err) {
        if (dc.service) void dc.service.then((c) => c.destroy(), () => undefined);
        dc.service = undefined;
        throw err;
      }
      if (!account) return { result: 'unavailable', detail: `${dc.url.href}: ${user} authenticated but was not found under ${dc.baseDn}` };
      const info = {
        // Names and SIDs both: a group may be named either way (console.requireGroup).
        groups: account.groups.flatMap((g) => (g.sid ? [g.name, g.sid] : [g.name])),
        ...(account.dialin !== undefined ? { dialin: account.dialin } : {}),
        ...(account.callbackNumber !== undefined ? { callbackNumber: account.callbackNumber } : {}),
        ...(account.serviceType !== undefined ? { serviceType: account.serviceType } : {}),
      };
      const denial = dialinDenial(account, this.o.policy);
      if (denial) return { result: 'denied', reason: denial, user: account.sAMAccountName, domain };
      return { result: 'ok', user: account.sAMAccountName, domain, account: info };
    } catch (err) {
      const s = errorSummary(err);
      this.logger.warn('ldap authority: policy lookup failed', { server: dc.url.href, code: s.code, error: s.message });
      return { result: 'unavailable', detail: `${dc.url.href}: policy lookup: ${s.message}` };
    }
  }
}

/** Factory used by src/authority/index.ts. */
export function createLdapAuthority(options: LdapAuthorityOptions, deps: LdapAuthorityDeps = {}): LdapAuthority {
  return new LdapAuthority(options, deps);
}
