/**
 * `authority: { type: winbind }`: on a domain-joined host, winbind checks the NT response to
 * our own challenge through long-running `ntlm_auth --helper-protocol=ntlm-server-1` processes
 * (Samba's ntlm_auth(1); the FreeRADIUS and Squid pattern) and returns the user session key, so
 * that the acceptor can check the MIC and offer signing. A helper answers one request at a time:
 * a small pool of them (`helpers`, default 4) keeps logons from queueing behind one another;
 * each request goes to the least busy helper.
 */
import type { Authority, AuthorityVerdict, ResponseCheck } from '../../ntlm/authority.js';
import { errorSummary } from '../../errors.js';
import { resolveOptions } from '../../options/fields.js';
import { winbindAuthorityField, type WinbindAuthorityOptions } from './options.js';
import { nullLogger, type Logger } from '../../logging.js';
import { NtlmAuthHelper } from './helper.js';
import { denyReasonForStatus, encodeRequest } from './protocol.js';

export interface WinbindAuthorityDeps {
  logger?: Logger;
}

export class WinbindAuthority implements Authority {
  readonly type = 'winbind';
  readonly domain: string | undefined;
  private readonly helpers: NtlmAuthHelper[];
  private readonly logger: Logger;
  private readonly requiredGroup: string | undefined;

  constructor(options: WinbindAuthorityOptions = {}, deps: WinbindAuthorityDeps = {}) {
    const o = resolveOptions(winbindAuthorityField, { type: 'winbind', ...options }, 'authority');
    this.domain = o.domain;
    this.requiredGroup = o.requiredGroup;
    this.logger = deps.logger ?? nullLogger();
    const argv = [o.ntlmAuthPath, '--helper-protocol=ntlm-server-1', ...(o.requiredGroup ? [`--require-membership-of=${o.requiredGroup}`] : []), ...o.extraArgs];
    const count = o.helpers;
    const helperOptions = {
      argv,
      requestTimeoutMs: o.requestTimeoutMs,
      restartMinMs: o.restartMinMs,
      restartMaxMs: Math.max(o.restartMinMs, o.restartMaxMs),
      queueLimit: Math.max(1, Math.ceil(o.queueLimit / count)),
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
