/** `authority: { type: ldap, ... }`: settings, defaults and their checks (bad keys fail at start). */
import { readFileSync } from 'node:fs';
import { OptionError } from '../../errors.js';
import type { DialinPolicy } from '../dialin.js';
import { parseLdapUrl, type LdapUrl } from './url.js';

export interface LdapAuthorityOptions extends DialinPolicy {
  /** Domain controllers, tried in order: ldap://HOST[:389] or ldaps://HOST[:636]. Required. */
  servers: string[];
  /** SASL mechanism carrying the raw NTLMSSP tokens. Default 'GSS-SPNEGO' ('NTLM' also works with AD). */
  mechanism?: 'GSS-SPNEGO' | 'NTLM';
  /** Default 5000. */
  connectTimeoutMs?: number;
  /** Per LDAP request. Default 10000. */
  responseTimeoutMs?: number;
  /** How long a DC that failed is skipped before being tried again. Default 30000. */
  retryDeadAfterMs?: number;
  /** PEM file of the CA(s) that signed the DCs' certificates. Default: the system store. */
  caFile?: string;
  /** Name the DC certificates must carry when it differs from the URL host. Default: the URL host. */
  tlsServername?: string;
  /** Check DC certificates. Default true. Turning it off is logged as a warning at start. */
  tlsVerify?: boolean;
  /**
   * Service account for policy lookups (groups, msNPAllowDialin, msRADIUSCallbackNumber), e.g.
   * `CN=rasgate,CN=Users,DC=example,DC=com` or `rasgate@example.com`. Default: none, in which
   * case no lookup happens: requiredGroup is then an error and the dial-in attribute is not read.
   */
  bindDn?: string;
  /** The service account's password. Prefer bindPasswordFile. */
  bindPassword?: string;
  /** File holding the service account's password (first line). */
  bindPasswordFile?: string;
  /** Search base. Default: the DC's defaultNamingContext. */
  baseDn?: string;
  /** Largest LDAP message accepted. Default 1 MiB. */
  maxMessageBytes?: number;
  /**
   * Connections kept ready per DC and transport (plain for clients that sign, TLS for the
   * others), connected (and StartTLS'd) ahead of need so that a logon pays only its two binds;
   * each serves one relayed logon, as NTLM binds require. 0 connects per logon. Default 2.
   */
  warmConnections?: number;
  /** How long a ready connection may wait before it is replaced (DCs drop idle ones). Default 60000. */
  warmIdleMs?: number;
  /** How long an account's nested group membership, once read, is reused for the policy. 0: read at every logon. Default 60000. */
  groupCacheMs?: number;
}

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

function wholeOrZero(v: unknown, key: string, dflt: number, max: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw new OptionError(key, `must be a whole number from 0 to ${max}`);
  return v;
}

function positive(v: unknown, key: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new OptionError(key, 'must be a positive number');
  return v;
}

function optString(v: unknown, key: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new OptionError(key, 'must be a non-empty string');
  return v;
}

const KNOWN_KEYS = new Set([
  'type', 'servers', 'mechanism', 'connectTimeoutMs', 'responseTimeoutMs', 'retryDeadAfterMs', 'caFile', 'tlsServername', 'tlsVerify',
  'bindDn', 'bindPassword', 'bindPasswordFile', 'baseDn', 'requiredGroup', 'dialinDefault', 'maxMessageBytes', 'warmConnections', 'warmIdleMs', 'groupCacheMs',
]);

/** Check and complete the options; `prefix` names keys in errors (e.g. "authority"). */
export function resolveLdapOptions(o: LdapAuthorityOptions, prefix = 'authority'): ResolvedLdapOptions {
  const k = (name: string): string => `${prefix}.${name}`;
  // A misspelt policy key (requiredGroup, dialinDefault) must not silently drop the policy.
  for (const key of Object.keys(o)) if (!KNOWN_KEYS.has(key)) throw new OptionError(k(key), `is not an ldap authority setting (known: ${[...KNOWN_KEYS].filter((x) => x !== 'type').join(', ')})`);
  if (!Array.isArray(o.servers) || o.servers.length === 0) throw new OptionError(k('servers'), 'must list at least one ldap:// or ldaps:// URL');
  const servers = o.servers.map((s, i) => {
    if (typeof s !== 'string') throw new OptionError(`${k('servers')}[${i}]`, 'must be a URL string');
    return parseLdapUrl(s, `${k('servers')}[${i}]`);
  });
  const mechanism = o.mechanism ?? 'GSS-SPNEGO';
  if (mechanism !== 'GSS-SPNEGO' && mechanism !== 'NTLM') throw new OptionError(k('mechanism'), 'must be GSS-SPNEGO or NTLM');
  const caFile = optString(o.caFile, k('caFile'));
  let ca: string | undefined;
  if (caFile) {
    try {
      ca = readFileSync(caFile, 'utf8');
    } catch (err) {
      throw new OptionError(k('caFile'), `cannot be read: ${(err as Error).message}`);
    }
  }
  if (o.tlsVerify !== undefined && typeof o.tlsVerify !== 'boolean') throw new OptionError(k('tlsVerify'), 'must be true or false');
  const bindDn = optString(o.bindDn, k('bindDn'));
  let password = optString(o.bindPassword, k('bindPassword'));
  const passwordFile = optString(o.bindPasswordFile, k('bindPasswordFile'));
  if (password && passwordFile) throw new OptionError(k('bindPassword'), 'and bindPasswordFile are exclusive');
  if (passwordFile) {
    try {
      password = readFileSync(passwordFile, 'utf8').split(/\r?\n/)[0];
    } catch (err) {
      throw new OptionError(k('bindPasswordFile'), `cannot be read: ${(err as Error).message}`);
    }
  }
  if (bindDn && !password) throw new OptionError(k('bindPassword'), 'or bindPasswordFile is required with bindDn');
  const requiredGroup = optString(o.requiredGroup, k('requiredGroup'));
  if (requiredGroup && !bindDn) throw new OptionError(k('requiredGroup'), 'needs bindDn (a service account to read group membership)');
  if (o.dialinDefault !== undefined && !bindDn) throw new OptionError(k('dialinDefault'), 'needs bindDn (a service account to read msNPAllowDialin)');
  const dialinDefault = o.dialinDefault ?? 'allow';
  if (dialinDefault !== 'allow' && dialinDefault !== 'deny') throw new OptionError(k('dialinDefault'), 'must be allow or deny');
  const baseDn = optString(o.baseDn, k('baseDn'));
  return {
    servers,
    mechanism,
    connectTimeoutMs: positive(o.connectTimeoutMs, k('connectTimeoutMs'), 5000),
    responseTimeoutMs: positive(o.responseTimeoutMs, k('responseTimeoutMs'), 10_000),
    retryDeadAfterMs: positive(o.retryDeadAfterMs, k('retryDeadAfterMs'), 30_000),
    tls: { ...(ca ? { ca } : {}), ...(o.tlsServername ? { servername: optString(o.tlsServername, k('tlsServername')) } : {}), rejectUnauthorized: o.tlsVerify ?? true },
    ...(bindDn ? { lookup: { bindDn, password: password!, ...(baseDn ? { baseDn } : {}) } } : {}),
    policy: { ...(requiredGroup ? { requiredGroup } : {}), dialinDefault },
    maxMessageBytes: positive(o.maxMessageBytes, k('maxMessageBytes'), 1 << 20),
    warmConnections: wholeOrZero(o.warmConnections, k('warmConnections'), 2, 64),
    warmIdleMs: positive(o.warmIdleMs, k('warmIdleMs'), 60_000),
    groupCacheMs: wholeOrZero(o.groupCacheMs, k('groupCacheMs'), 60_000, 86_400_000),
  };
}
