/**
 * `authority: { type: winbind }`: on a domain-joined host, winbind checks the NT response to
 * our own challenge through long-running `ntlm_auth --helper-protocol=ntlm-server-1` processes
 * (Samba's ntlm_auth(1); the FreeRADIUS and Squid pattern) and returns the user session key, so
 * that the acceptor can check the MIC and offer signing. A helper answers one request at a time:
 * a small pool of them (`helpers`, default 4) keeps logons from queueing behind one another;
 * each request goes to the least busy helper.
 */
import type { Authority, AuthorityVerdict, ResponseCheck } from '../../ntlm/authority.js';
import { OptionError, errorSummary } from '../../errors.js';
import { nullLogger, type Logger } from '../../logging.js';
import { NtlmAuthHelper } from './helper.js';
import { denyReasonForStatus, encodeRequest } from './protocol.js';

export interface WinbindAuthorityOptions {
  /** The ntlm_auth program. Default 'ntlm_auth' (from PATH). */
  ntlmAuthPath?: string;
  /** More arguments for ntlm_auth (e.g. ['--configfile=/etc/samba/smb.conf']). Default none. */
  extraArgs?: string[];
  /** Group (name as winbind resolves it, e.g. 'EXAMPLE\\dialin-users', or a SID) the user must be in: --require-membership-of. Default none. */
  requiredGroup?: string;
  /** NetBIOS domain put in our CHALLENGE and used when the client sends none. Default: the acceptor's default. */
  domain?: string;
  /** Per request, queue time included. Default 10000. */
  requestTimeoutMs?: number;
  /** First restart delay after the helper dies; doubles up to restartMaxMs. Default 100. */
  restartMinMs?: number;
  /** Default 10000. */
  restartMaxMs?: number;
  /** Requests allowed to wait for a helper, across the pool. Default 256. */
  queueLimit?: number;
  /** ntlm_auth helper processes run side by side, 1 to 32. Default 4. */
  helpers?: number;
}

export interface WinbindAuthorityDeps {
  logger?: Logger;
}

function num(v: unknown, key: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new OptionError(`authority.${key}`, 'must be a positive number');
  return v;
}

export class WinbindAuthority implements Authority {
  readonly type = 'winbind';
  readonly domain: string | undefined;
  private readonly helpers: NtlmAuthHelper[];
  private readonly logger: Logger;
  private readonly requiredGroup: string | undefined;

  constructor(options: WinbindAuthorityOptions = {}, deps: WinbindAuthorityDeps = {}) {
    const known = ['type', 'ntlmAuthPath', 'extraArgs', 'requiredGroup', 'domain', 'requestTimeoutMs', 'restartMinMs', 'restartMaxMs', 'queueLimit', 'helpers'];
    for (const key of Object.keys(options)) {
      if (!known.includes(key)) throw new OptionError(`authority.${key}`, `is not a winbind authority setting (known: ${known.slice(1).join(', ')})`);
    }
    const path = options.ntlmAuthPath ?? 'ntlm_auth';
    if (typeof path !== 'string' || path === '') throw new OptionError('authority.ntlmAuthPath', 'must be a program path');
    const extra = options.extraArgs ?? [];
    if (!Array.isArray(extra) || extra.some((a) => typeof a !== 'string')) throw new OptionError('authority.extraArgs', 'must be a list of strings');
    if (options.requiredGroup !== undefined && (typeof options.requiredGroup !== 'string' || !options.requiredGroup)) throw new OptionError('authority.requiredGroup', 'must be a group name or SID');
    if (options.domain !== undefined && (typeof options.domain !== 'string' || options.domain.length > 15)) throw new OptionError('authority.domain', 'must be a NetBIOS domain name (1-15 characters)');
    this.domain = options.domain;
    this.requiredGroup = options.requiredGroup;
    this.logger = deps.logger ?? nullLogger();
    const argv = [path, '--helper-protocol=ntlm-server-1', ...(options.requiredGroup ? [`--require-membership-of=${options.requiredGroup}`] : []), ...extra];
    const restartMinMs = num(options.restartMinMs, 'restartMinMs', 100);
    const count = num(options.helpers, 'helpers', 4);
    if (!Number.isInteger(count) || count > 32) throw new OptionError('authority.helpers', 'must be a whole number from 1 to 32');
    const queueLimit = num(options.queueLimit, 'queueLimit', 256);
    const helperOptions = {
      argv,
      requestTimeoutMs: num(options.requestTimeoutMs, 'requestTimeoutMs', 10_000),
      restartMinMs,
      restartMaxMs: Math.max(restartMinMs, num(options.restartMaxMs, 'restartMaxMs', 10_000)),
      queueLimit: Math.max(1, Math.ceil(queueLimit / count)),
      logger: this.logger,
    };
    this.helpers = Array.from({ length: count }, () => new NtlmAuthHelper(helperOptions));
  }

  /** The first helper child's pid (tests kill it). */
  get helperPid(): number | undefined {
    return this.helpers[0]!.pid;
  }

  /** Every helper child's pid, in pool order. */
  get helperPids(): Array<number | undefined> {
    return this.helpers.map((h) => h.pid);
  }

  /** The helper with the fewest requests on it (the first of equals). */
  private leastBusy(): NtlmAuthHelper {
    let best = this.helpers[0]!;
    for (const h of this.helpers) if (h.load < best.load) best = h;
    return best;
  }

  async verify(check: ResponseCheck, signal: AbortSignal): Promise<AuthorityVerdict> {
    const domain = check.domain || this.domain || '';
    let answer;
    try {
      answer = await this.leastBusy().ask(encodeRequest({ ...check, domain }), signal);
    } catch (err) {
      const s = errorSummary(err);
      this.logger.warn('winbind authority: no answer from ntlm_auth', { user: check.user, domain, code: s.code, error: s.message });
      return { result: 'unavailable', detail: s.message };
    }
    if (answer.authenticated) {
      return { result: 'ok', user: check.user, domain, ...(answer.userSessionKey ? { sessionBaseKey: answer.userSessionKey } : {}) };
    }
    const status = denyReasonForStatus(answer.error);
    const reason = status === 'logon-failure' ? (this.requiredGroup ? 'not-member' : 'bad-credentials') : status;
    this.logger.info('winbind authority: logon refused', { user: check.user, domain, error: answer.error, reason: reason ?? 'unknown' });
    if (reason) return { result: 'denied', reason, user: check.user, domain };
    return { result: 'unavailable', detail: `ntlm_auth: ${answer.error}` };
  }

  async close(): Promise<void> {
    await Promise.all(this.helpers.map((h) => h.close()));
  }
}

export function createWinbindAuthority(options: WinbindAuthorityOptions = {}, deps: WinbindAuthorityDeps = {}): WinbindAuthority {
  return new WinbindAuthority(options, deps);
}
