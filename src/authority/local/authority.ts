/**
 * LocalAuthority: checks NTLMv2 responses against NT hashes in an smbpasswd-format file.
 *
 * The password is checked before the account flags, so that a password guesser learns
 * nothing about an account's state; unknown users cost the same HMAC work as known ones.
 * Identity returned: the user as spelled in the file, and `domain` as configured (the local
 * host's NetBIOS domain: this is a standalone server, like Samba's `security = user`).
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Authority, AuthorityVerdict, ResponseCheck } from '../../ntlm/authority.js';
import type { Logger } from '../../logging.js';
import { nullLogger } from '../../logging.js';
import { resolveOptions } from '../../options/fields.js';
import { localAuthorityField, type LocalAuthorityInput } from './options.js';
import { verifyNtlmV2 } from '../../ntlm/ntlmv2.js';
import { verifyNtlmV1 } from './ntlmv1.js';
import { SmbpasswdStore, type SmbpasswdStoreOptions, type StoreHealth } from './store.js';

/** The settings (src/authority/local/options.ts) with what a running authority needs besides. */
export type LocalAuthorityOptions = LocalAuthorityInput & {
  logger?: Logger;
  /** Store tuning (mtime recheck interval, lock timeouts). */
  store?: Omit<SmbpasswdStoreOptions, 'logger'>;
};

/** The default local NetBIOS domain (see LocalAuthorityOptions.domain). */
export function defaultLocalDomain(host = hostname()): string {
  const label = host.split('.')[0]!.toUpperCase().slice(0, 15);
  return /^[A-Z0-9][A-Z0-9_-]*$/.test(label) ? label : 'RASGATE';
}

const DENIED: AuthorityVerdict = { result: 'denied', reason: 'bad-credentials' };

export class LocalAuthority implements Authority {
  readonly type = 'local';
  readonly store: SmbpasswdStore;
  readonly domain: string;
  /** NTLMv1 responses reach this store (Authority.allowNtlmV1: the one switch). */
  readonly allowNtlmV1: boolean;
  private readonly logger: Logger;
  /** Verifies unknown users against this, so both paths cost the same. */
  private readonly decoyHash = randomBytes(16);

  constructor(options: LocalAuthorityOptions) {
    const { logger: _logger, store: _store, ...settings } = options;
    const o = resolveOptions(localAuthorityField, { ...settings, type: 'local' }, 'authority');
    // The host's own name unless configured: a standalone server, like Samba's `security = user`.
    this.domain = o.domain ?? defaultLocalDomain();
    this.allowNtlmV1 = o.allowNtlmV1;
    this.logger = options.logger ?? nullLogger();
    this.store = new SmbpasswdStore(o.file, { ...options.store, logger: this.logger });
    this.store.reload();
  }

  async verify(check: ResponseCheck, _signal: AbortSignal): Promise<AuthorityVerdict> {
    return this.verifySync(check);
  }

  /**
   * The same check without the promise: Authority.verifySync, which the acceptor's machine takes
   * in the same step (CPU work and an occasional stat of the file: nothing to wait for).
   */
  verifySync(check: ResponseCheck): AuthorityVerdict {
    // Anonymous / LM-only: no NT response means nothing to check.
    if (check.user.length === 0 || check.ntResponse.length === 0) return DENIED;
    const entry = this.store.lookup(check.user);
    const ntHash = entry?.ntHash ?? this.decoyHash;
    let sessionBaseKey: Buffer | undefined;
    if (check.ntResponse.length === 24) {
      if (!this.allowNtlmV1) return { result: 'denied', reason: 'bad-credentials', detail: 'ntlmv1-refused' };
      const v1 = verifyNtlmV1(ntHash, check.serverChallenge, check.ntResponse, check.lmResponse);
      if (!v1.ok) return DENIED;
      sessionBaseKey = v1.sessionBaseKey;
    } else {
      const v2 = verifyNtlmV2({ ntHash, user: check.user, domain: check.domain, serverChallenge: check.serverChallenge, ntResponse: check.ntResponse });
      if (!v2.ok) return DENIED;
      sessionBaseKey = v2.sessionBaseKey;
    }
    // A match against the decoy or an X'd-out hash is impossible in practice; still refuse.
    if (!entry || !entry.ntHash) return DENIED;
    // Trust accounts and no-password accounts never log in on a line (no guest).
    if (entry.flags.has('W') || entry.flags.has('S') || entry.flags.has('I') || entry.flags.has('N')) return DENIED;
    if (entry.flags.has('D')) return { result: 'denied', reason: 'account-disabled', user: entry.name, domain: this.domain };
    if (entry.flags.has('L')) return { result: 'denied', reason: 'account-locked', user: entry.name, domain: this.domain };
    // Password last set never (LCT-00000000): Samba's "must change at next logon", unless X.
    if (entry.lastChange === 0 && !entry.flags.has('X')) return { result: 'denied', reason: 'password-must-change', user: entry.name, domain: this.domain };
    return { result: 'ok', user: entry.name, domain: this.domain, sessionBaseKey };
  }

  /**
   * Whether the account file could be read: `unreadable` (with the cause) is not the same as
   * `absent` or no accounts, and start-up and status output must say which.
   */
  health(): StoreHealth {
    return this.store.health();
  }

  async reload(): Promise<void> {
    this.store.reload();
  }

  async close(): Promise<void> {
    // nothing held open: reads are on demand
  }
}
