/**
 * `authority: { type: winbind }`: on a domain-joined host, winbind checks the NT response to
 * our own challenge through one long-running `ntlm_auth --helper-protocol=ntlm-server-1`
 * (FACTS.md section 3; the FreeRADIUS/Squid pattern) and returns the user session key, so
 * that the acceptor can check the MIC and offer signing.
 */
import type { Authority, AuthorityVerdict, ResponseCheck } from '../types.js';
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
  private readonly helper: NtlmAuthHelper;
  private readonly logger: Logger;
  private readonly requiredGroup: string | undefined;

  constructor(options: WinbindAuthorityOptions = {}, deps: WinbindAuthorityDeps = {}) {
    const o = resolveOptions(winbindAuthorityField, { type: 'winbind', ...options }, 'authority');
    this.domain = o.domain;
    this.requiredGroup = o.requiredGroup;
    this.logger = deps.logger ?? nullLogger();
    const argv = [o.ntlmAuthPath, '--helper-protocol=ntlm-server-1', ...(o.requiredGroup ? [`--require-membership-of=${o.requiredGroup}`] : []), ...o.extraArgs];
    this.helper = new NtlmAuthHelper({
      argv,
      requestTimeoutMs: o.requestTimeoutMs,
      restartMinMs: o.restartMinMs,
      restartMaxMs: Math.max(o.restartMinMs, o.restartMaxMs),
      queueLimit: o.queueLimit,
      logger: this.logger,
    });
  }

  /** The helper child's pid (tests kill it). */
  get helperPid(): number | undefined {
    return this.helper.pid;
  }

  async verify(check: ResponseCheck, signal: AbortSignal): Promise<AuthorityVerdict> {
    const domain = check.domain || this.domain || '';
    let answer;
    try {
      answer = await this.helper.ask(encodeRequest({ ...check, domain }), signal);
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

  close(): Promise<void> {
    return this.helper.close();
  }
}

export function createWinbindAuthority(options: WinbindAuthorityOptions = {}, deps: WinbindAuthorityDeps = {}): WinbindAuthority {
  return new WinbindAuthority(options, deps);
}
