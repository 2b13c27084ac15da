/**
 * createAuthority(config, deps): the one place that turns the `authority:` settings into an
 * Authority. `config` is checked against the one description of the settings
 * (src/authority/options.ts), so a library caller may pass partial settings as in YAML.
 */
import type { Authority } from './types.js';
import type { Logger } from '../logging.js';
import { resolveOptions, type Input } from '../options/fields.js';
import { LocalAuthority } from './local/index.js';
import { createLdapAuthority } from './ldap/index.js';
import { createWinbindAuthority } from './winbind/index.js';
import { authorityField, type AuthorityConfig } from './options.js';

export type { Authority } from './types.js';
export { authorityField, type AuthorityConfig } from './options.js';

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
