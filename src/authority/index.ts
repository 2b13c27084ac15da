/**
 * `rasgate/authority`: the authorities that implement the acceptor's Authority contract
 * (rasgate/ntlm): the local NT-hash store that `rasgate user add` writes (LocalAuthority), NTLM
 * relayed to domain controllers over LDAP (LdapAuthority), Samba winbind's ntlm_auth
 * (WinbindAuthority), and createAuthority(config, deps), the one place that turns an
 * `authority:` config section into one of them. A small switch: each kind lives in its own folder.
 */
import type { Authority } from '../ntlm/authority.js';
import type { Logger } from '../logging.js';
import { OptionError } from '../errors.js';
import { LocalAuthority } from './local/index.js';
import { createLdapAuthority, type LdapAuthorityOptions } from './ldap/index.js';
import { createWinbindAuthority, type WinbindAuthorityOptions } from './winbind/index.js';

export type { Authority, AuthorityVerdict, AccountInfo, DenyReason, ResponseCheck, RelayExchange } from '../ntlm/authority.js';
export { LocalAuthority, defaultLocalDomain, type LocalAuthorityOptions, SmbpasswdStore, type SmbpasswdStoreOptions, type StoreHealth } from './local/index.js';
export { LdapAuthority, createLdapAuthority, type LdapAuthorityOptions, type LdapAuthorityDeps, LdapConnectionError, LdapProtocolError } from './ldap/index.js';
export { WinbindAuthority, createWinbindAuthority, type WinbindAuthorityOptions, type WinbindAuthorityDeps, WinbindHelperError, WinbindProtocolError } from './winbind/index.js';
export type { DialinPolicy } from './dialin.js';

export interface LocalAuthorityConfig {
  type: 'local';
  /** smbpasswd-format file. Default ./var/smbpasswd. */
  file?: string;
  /** NetBIOS domain for local accounts. Default: host name upper-cased (see defaultLocalDomain). */
  domain?: string;
  /** Accept NTLMv1 responses (crackable). Default false. */
  allowNtlmV1?: boolean;
}

export type LdapAuthorityConfig = { type: 'ldap' } & LdapAuthorityOptions;
export type WinbindAuthorityConfig = { type: 'winbind' } & WinbindAuthorityOptions;

/** An `authority:` section: the kind and that kind's options. */
export type AuthorityConfig = LocalAuthorityConfig | LdapAuthorityConfig | WinbindAuthorityConfig | { type: string; [key: string]: unknown };

export interface AuthorityDeps {
  logger?: Logger;
}

export async function createAuthority(config: AuthorityConfig, deps: AuthorityDeps = {}): Promise<Authority> {
  switch (config.type) {
    case 'local': {
      const c = config as LocalAuthorityConfig;
      return new LocalAuthority({ file: c.file ?? 'var/smbpasswd', domain: c.domain, allowNtlmV1: c.allowNtlmV1, logger: deps.logger });
    }
    case 'ldap': return createLdapAuthority(config as unknown as LdapAuthorityOptions, { logger: deps.logger });
    case 'winbind': return createWinbindAuthority(config as unknown as WinbindAuthorityOptions, { logger: deps.logger });
    default:
      throw new OptionError('authority.type', `"${config.type}" is not a known authority (local, ldap, winbind)`);
  }
}
