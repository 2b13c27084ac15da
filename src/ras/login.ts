/** Splitting what was typed at the user-name prompt into user and domain. */
import { DNLEN } from './codes.js';

export interface ParsedLogin {
  user: string;
  /** undefined: no domain typed. '' : a UPN (`user@dns.name`), verified with an empty domain. */
  domain?: string;
  /** false: the typed domain is longer than DNLEN or the user part is empty. */
  valid: boolean;
}

/**
 * `DOMAIN\user` (down-level logon name) and `user@DOMAIN` (NetBIOS domain) split; `user@dns.name`
 * (a dot, or longer than DNLEN) is kept whole as a UPN with an empty domain, which NTLM accepts in
 * the user field (MS-NLMP 3.1.5.1.2 leaves UPN handling to the authority).
 */
export function parseLogin(text: string, splitDomainForms = true): ParsedLogin {
  if (!splitDomainForms) return { user: text, valid: true };
  const slash = text.indexOf('\\');
  if (slash >= 0) {
    const domain = text.slice(0, slash);
    const user = text.slice(slash + 1);
    // An empty user part keeps the whole text as the (invalid) user: FAILURE needs a user name.
    if (user.length === 0) return { user: text, domain, valid: false };
    return { user, domain, valid: domain.length <= DNLEN };
  }
  const at = text.lastIndexOf('@');
  if (at >= 0) {
    const user = text.slice(0, at);
    const domain = text.slice(at + 1);
    if (user.length === 0) return { user: text, domain, valid: false };
    if (domain.length > 0 && domain.length <= DNLEN && !domain.includes('.')) return { user, domain, valid: true };
    return { user: text, domain: '', valid: true };
  }
  return { user: text, valid: true };
}
