/**
 * `rasgate/authority`: the authorities that implement the acceptor's Authority contract
 * (rasgate/ntlm): the local NT-hash store that `rasgate user add` writes (LocalAuthority), NTLM
 * relayed to domain controllers over LDAP (LdapAuthority), Samba winbind's ntlm_auth
 * (WinbindAuthority), and createAuthority(config, deps), the one place that turns the
 * `authority:` settings into one of them. `config` is checked against the one description of
 * the settings (src/authority/options.ts), so a library caller may pass partial settings as in YAML.
 */
import type { Authority } from '../ntlm/authority.js';
import type { Logger } from '../logging.js';
import { resolveOptions, type Input } from '../options/fields.js';
import { LocalAuthority } from './local/index.js';
import { createLdapAuthority } from './ldap/index.js';
import { createWinbindAuthority } from './winbind/index.js';
import { authorityField, type AuthorityConfig } from './options.js';

export type { Authority, AuthorityVerdict, AccountInfo, DenyReason, ResponseCheck, RelayExchange } from '../ntlm/authority.js';
export { LocalAuthority, defaultLocalDomain, type LocalAuthorityOptions, SmbpasswdStore, type SmbpasswdStoreOptions, type StoreHealth } from './local/index.js';
export { LdapAuthority, createLdapAuthority, type LdapAuthorityOptions, type LdapAuthorityDeps, LdapConnectionError, LdapProtocolError } from './ldap/index.js';
export { WinbindAuthority, createWinbindAuthority, type WinbindAuthorityOptions, type WinbindAuthorityDeps, WinbindHelperError, WinbindProtocolError } from './winbind/index.js';
export type { DialinPolicy } from './dialin.js';
export { authorityField, type AuthorityConfig } from './options.js';
export type { LocalAuthorityConfig } from './local/options.js';
export type { LdapAuthorityConfig } from './ldap/options.js';
export type { WinbindAuthorityConfig } from './winbind/options.js';

export interface AuthorityDeps {
  logger?: Logger;
}

export async function createAuthority(config: Input<AuthorityConfig> & { type?: string }, deps: AuthorityDeps = {}): Promise<Authority> {
  const c = resolveOptions(authorityField, config, 'authority');
  switch (c.type) {
    case 'local':
      return new LocalAuthority({ ...c, logger: deps.logger });
    case 'ldap':
      return createLdapAuthority(c, { logger: deps.logger });
    case 'winbind':
      return createWinbindAuthority(c, { logger: deps.logger });
  }
}
