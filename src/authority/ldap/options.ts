/**
 * `authority: { type: ldap, ... }`: each setting's type, default and meaning, described once
 * (the gateway's schema and resolveLdapOptions() both read this), and what the connections
 * need made of them (files read, URLs parsed).
 */
import { readFileSync } from 'node:fs';
import { OptionError } from '../../errors.js';
import { bool, list, num, obj, oneOf, resolveOptions, str, type Infer, type Input } from '../../options/fields.js';
import type { DialinPolicy } from '../dialin.js';
import { parseLdapUrl, type LdapUrl } from './url.js';

function ldapUrlProblem(v: string): string | undefined {
  try {
    parseLdapUrl(v, '');
    return undefined;
  } catch (err) {
    return (err as Error).message.replace(/^"" /, '');
  }
}

const ms = <const D extends number>(doc: string, def: D) => num({ doc, default: def, min: 1, max: 3_600_000, unit: 'ms' });

export const ldapAuthorityFields = {
  type: oneOf(['ldap'], { doc: 'kind', required: true }),
  servers: list(str({ doc: '', required: true, check: ldapUrlProblem }), { doc: 'domain controllers, tried in order: ldap://HOST[:389] or ldaps://HOST[:636]', required: true, minItems: 1 }),
  mechanism: oneOf(['GSS-SPNEGO', 'NTLM'], { doc: 'SASL mechanism carrying the raw NTLMSSP tokens (NTLM also works with AD)', default: 'GSS-SPNEGO' }),
  connectTimeoutMs: ms('connecting to a DC', 5000),
  responseTimeoutMs: ms('per LDAP request', 10_000),
  retryDeadAfterMs: ms('a DC that failed is skipped this long before it is tried again', 30_000),
  caFile: str({ doc: 'PEM file of the CA(s) that signed the DCs\' certificates (default: the system store)' }),
  tlsServername: str({ doc: 'name the DC certificates must carry when it differs from the URL host' }),
  tlsVerify: bool({ doc: 'check DC certificates (turning it off is logged as a warning at start)', default: true }),
  bindDn: str({ doc: 'service account for policy lookups (groups, msNPAllowDialin, msRADIUSCallbackNumber), e.g. `CN=rasgate,CN=Users,DC=example,DC=com` or `rasgate@example.com`; without it nothing is looked up' }),
  bindPassword: str({ doc: "the service account's password (prefer bindPasswordFile)" }),
  bindPasswordFile: str({ doc: "file holding the service account's password (first line)" }),
  baseDn: str({ doc: "search base (default: the DC's defaultNamingContext)" }),
  maxMessageBytes: num({ doc: 'largest LDAP message accepted', default: 1 << 20, min: 1024, max: 1 << 30, integer: true, unit: 'bytes' }),
  requiredGroup: str({ doc: 'group (sAMAccountName or SID) the user must be in, nested membership included; needs bindDn' }),
  dialinDefault: oneOf(['allow', 'deny'], { doc: 'what an absent msNPAllowDialin means; needs bindDn', defaultText: '`allow`' }),
  warmConnections: num({ doc: 'connections kept ready per DC and transport (plain for clients that sign, TLS for the others), connected and StartTLS\'d ahead of need so that a logon pays only its two binds; each serves one relayed logon, as NTLM binds require (0: connect per logon)', default: 2, min: 0, max: 64, integer: true }),
  warmIdleMs: num({ doc: 'how long a ready connection may wait before it is replaced (DCs drop idle ones)', default: 60_000, min: 1, max: 3_600_000, integer: true, unit: 'ms' }),
  groupCacheMs: num({ doc: "how long an account's nested group membership, once read, is reused for the policy (0: read at every logon)", default: 60_000, min: 0, max: 86_400_000, integer: true, unit: 'ms' }),
};

export const ldapAuthorityField = obj(ldapAuthorityFields, {
  doc: 'ldap authority',
  unknownKey: 'unknown key for type ldap',
  check: (o, path, issues) => {
    const k = (name: string) => (path ? `${path}.${name}` : name);
    if (o.bindPassword !== undefined && o.bindPasswordFile !== undefined) issues.add(k('bindPassword'), 'and bindPasswordFile are exclusive');
    if (o.bindDn !== undefined && o.bindPassword === undefined && o.bindPasswordFile === undefined) issues.add(k('bindPassword'), 'or bindPasswordFile is required with bindDn');
    if (o.requiredGroup !== undefined && o.bindDn === undefined) issues.add(k('requiredGroup'), 'needs bindDn (a service account to read group membership)');
    if (o.dialinDefault !== undefined && o.bindDn === undefined) issues.add(k('dialinDefault'), 'needs bindDn (a service account to read msNPAllowDialin)');
  },
});

/** The ldap authority's settings, parsed. */
export type LdapAuthorityConfig = Infer<typeof ldapAuthorityFields>;
/** What a library caller passes (`type` may be left out). */
export type LdapAuthorityOptions = Omit<Input<LdapAuthorityConfig>, 'type'> & { type?: 'ldap'; servers: string[] };

export interface ResolvedLdapOptions {
  servers: LdapUrl[];
  mechanism: 'GSS-SPNEGO' | 'NTLM';
  connectTimeoutMs: number;
  responseTimeoutMs: number;
  retryDeadAfterMs: number;
  tls: { ca?: string; servername?: string; rejectUnauthorized: boolean };
  lookup?: { bindDn: string; password: string; baseDn?: string };
  policy: DialinPolicy & { dialinDefault: 'allow' | 'deny' };
  maxMessageBytes: number;
  warmConnections: number;
  warmIdleMs: number;
  groupCacheMs: number;
}

function readFirst(file: string, key: string, whole: boolean): string {
  try {
    const text = readFileSync(file, 'utf8');
    const first = whole ? text : text.split(/\r?\n/)[0]!;
    if (first === '') throw new OptionError(key, 'is empty');
    return first;
  } catch (err) {
    throw new OptionError(key, `cannot be read: ${(err as Error).message}`);
  }
}

/** Check and complete the options (keys named `prefix.KEY` in errors), and read the files they name. */
export function resolveLdapOptions(input: LdapAuthorityOptions, prefix = 'authority'): ResolvedLdapOptions {
  const o = resolveOptions(ldapAuthorityField, { type: 'ldap', ...input }, prefix);
  const k = (name: string): string => `${prefix}.${name}`;
  const password = o.bindPasswordFile !== undefined ? readFirst(o.bindPasswordFile, k('bindPasswordFile'), false) : o.bindPassword;
  const ca = o.caFile !== undefined ? readFirst(o.caFile, k('caFile'), true) : undefined;
  return {
    servers: o.servers.map((s, i) => parseLdapUrl(s, `${k('servers')}[${i}]`)),
    mechanism: o.mechanism,
    connectTimeoutMs: o.connectTimeoutMs,
    responseTimeoutMs: o.responseTimeoutMs,
    retryDeadAfterMs: o.retryDeadAfterMs,
    tls: { ...(ca ? { ca } : {}), ...(o.tlsServername ? { servername: o.tlsServername } : {}), rejectUnauthorized: o.tlsVerify },
    ...(o.bindDn !== undefined ? { lookup: { bindDn: o.bindDn, password: password!, ...(o.baseDn ? { baseDn: o.baseDn } : {}) } } : {}),
    policy: { ...(o.requiredGroup ? { requiredGroup: o.requiredGroup } : {}), dialinDefault: o.dialinDefault ?? 'allow' },
    maxMessageBytes: o.maxMessageBytes,
    warmConnections: o.warmConnections,
    warmIdleMs: o.warmIdleMs,
    groupCacheMs: o.groupCacheMs,
  };
}
