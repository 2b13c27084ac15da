import { OptionError } from '../../errors.js';

export interface LdapUrl {
  /** As configured, for logs. */
  href: string;
  secure: boolean;
  host: string;
  port: number;
}

/** ldap://HOST[:PORT] (default 389) or ldaps://HOST[:PORT] (default 636); IPv6 in brackets. */
export function parseLdapUrl(href: string, key: string): LdapUrl {
  let u: URL;
  try {
    u = new URL(href);
  } catch {
    throw new OptionError(key, `"${href}" is not a URL (ldap://HOST[:PORT] or ldaps://HOST[:PORT])`);
  }
  if (u.protocol !== 'ldap:' && u.protocol !== 'ldaps:') throw new OptionError(key, `"${href}": scheme must be ldap:// or ldaps://`);
  if (!u.hostname) throw new OptionError(key, `"${href}" has no host`);
  // Never echo a URL with a password in it: the message would carry the secret.
  if (u.password) throw new OptionError(key, 'a server URL must not carry a password (use bindPassword or bindPasswordFile)');
  if ((u.pathname && u.pathname !== '/') || u.search || u.username) throw new OptionError(key, `"${href}": only scheme, host and port are allowed`);
  const secure = u.protocol === 'ldaps:';
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  return { href, secure, host, port: u.port ? Number(u.port) : secure ? 636 : 389 };
}
