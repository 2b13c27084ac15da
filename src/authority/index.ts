/**
 * createAuthority(config, deps): the one place that turns the `authority:` config section into
 * an Authority. A small switch: each kind lives in its own folder.
 */
import type { Authority } from '../ntlm/authority.js';
import type { Logger } from '../logging.js';
import { OptionError } from '../errors.js';
import { LocalAuthority } from './local/index.js';
import { createLdapAuthority, type LdapAuthorityOptions } from './ldap/index.js';
import { createWinbindAuthority, type WinbindAuthorityOptions } from './winbind/index.js';

export type { Authority } from '../ntlm/authority.js';

export interface LocalAuthorityConfig {
  type: 'local';
  /** smbpasswd-format file. Default ./var/smbpasswd. */
  file?: string;
  /** NetBIOS domain for local accounts. Default: host name upper-cased (see defaultLocalDomain). */
  domain?: string;
  /** Accept NTLMv1 responses (crackable). Default false. */
  allowNtlmV1?: boolean;
}

/** Other kinds ('ldap', 'winbind') are added here by their owners. */
export type AuthorityConfig = LocalAuthorityConfig | { type: string; [key: string]: unknown };

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
