export { LdapAuthority, createLdapAuthority, type LdapAuthorityDeps } from './authority.js';
export type { LdapAuthorityOptions } from './options.js';
export { LdapProtocolError, LdapConnectionError } from './errors.js';
