/**
 * `authority:`: which kind checks credentials (`type: local | ldap | winbind`) and that kind's
 * settings, each described by its own module. The gateway's schema and createAuthority() read
 * this one field.
 */
import { closest, isPlainObject, Issues, show, type Field } from '../options/fields.js';
import { localAuthorityField, type LocalAuthorityConfig } from './local/options.js';
import { ldapAuthorityField, type LdapAuthorityConfig } from './ldap/options.js';
import { winbindAuthorityField, type WinbindAuthorityConfig } from './winbind/options.js';

export type AuthorityConfig = LocalAuthorityConfig | LdapAuthorityConfig | WinbindAuthorityConfig;

const KINDS = { local: localAuthorityField, ldap: ldapAuthorityField, winbind: winbindAuthorityField } as const;
const TYPES = Object.keys(KINDS) as (keyof typeof KINDS)[];

export const authorityField: Field<AuthorityConfig, true> = {
  type: 'mapping',
  doc: 'where credentials are checked: `type: local | ldap | winbind` and its settings',
  defaultValue: () => localAuthorityField.parse({ type: 'local' }, '', new Issues()) as AuthorityConfig,
  parse(v, path, issues) {
    if (v === null || v === undefined) v = { type: 'local' };
    if (!isPlainObject(v)) return issues.add(path, `${show(v)} is not a mapping`);
    const type = v.type ?? 'local';
    if (typeof type !== 'string' || !(TYPES as string[]).includes(type)) {
      return issues.add(`${path}.type`, `${show(type)} is not one of ${TYPES.join(', ')}`, typeof type === 'string' ? closest(type, TYPES) : undefined);
    }
    return KINDS[type as keyof typeof KINDS].parse({ ...v, type }, path, issues) as AuthorityConfig | undefined;
  },
  rows: (prefix) => [
    ...localAuthorityField.rows!(prefix).map((r) => (r.key.endsWith('.type') ? { ...r, type: '`local` \\| `ldap` \\| `winbind`', default: '`local`', doc: 'kind: `local` (settings below), `ldap` and `winbind` (their settings: docs/domain.md)' } : r)),
    ...ldapAuthorityField.rows!(prefix).filter((r) => !r.key.endsWith('.type')).map((r) => ({ ...r, doc: `ldap: ${r.doc}` })),
    ...winbindAuthorityField.rows!(prefix).filter((r) => !r.key.endsWith('.type')).map((r) => ({ ...r, doc: `winbind: ${r.doc}` })),
  ],
};
