/**
 * Reading an account's policy data from the directory, on a service-account connection.
 *
 * Why a separate connection: the relayed NTLM bind negotiates signing, after which the DC
 * expects SASL-wrapped (signed) LDAP on that connection ([MS-ADTS 5.1.1.1.2], Samba does the
 * same); signing needs the session key, which only the client and the DC hold. So the relay
 * connection is closed after its verdict and lookups run as a configured service account,
 * with a simple bind protected by TLS (ldaps:// or StartTLS; never a clear password on the wire).
 */
import type { LdapConnection } from './connection.js';
import { OID, Scope } from './constants.js';
import { LdapConnectionError } from './errors.js';
import type { GroupRef } from '../dialin.js';

/** msRADIUSServiceType and msRADIUSCallbackNumber: the callback policy (src/callback/policy.ts). AD and Samba have no msNPCallbackNumber. */
export const ACCOUNT_ATTRIBUTES = ['sAMAccountName', 'objectSid', 'msNPAllowDialin', 'msRADIUSServiceType', 'msRADIUSCallbackNumber'];

export interface AccountRecord {
  dn: string;
  sAMAccountName: string;
  sid?: string;
  dialin?: boolean;
  callbackNumber?: string;
  /** msRADIUSServiceType, when it is a number. */
  serviceType?: number;
  groups: GroupRef[];
}

/** A binary SID (MS-DTYP 2.4.2) as S-R-I-S-S... */
export function sidToString(b: Buffer): string | undefined {
  if (b.length < 8) return undefined;
  const count = b[1]!;
  if (b.length !== 8 + 4 * count) return undefined;
  const authority = b.readUIntBE(2, 6);
  const subs: number[] = [];
  for (let i = 0; i < count; i++) subs.push(b.readUInt32LE(8 + 4 * i));
  return ['S', b[0]!, authority, ...subs].join('-');
}

function first(attrs: Map<string, Buffer[]>, name: string): Buffer | undefined {
  return attrs.get(name.toLowerCase())?.[0];
}

/** Default naming context from the rootDSE (RFC 4512 section 5.1; AD's defaultNamingContext). */
export async function defaultNamingContext(conn: LdapConnection, signal?: AbortSignal): Promise<string> {
  const r = await conn.search({ base: '', scope: Scope.BaseObject, filter: { present: 'objectClass' }, attributes: ['defaultNamingContext'] }, signal);
  const nc = r.entries[0] && first(r.entries[0].attributes, 'defaultNamingContext');
  if (!nc) throw new LdapConnectionError('LDAP_RESULT', `${conn.url.href}: rootDSE has no defaultNamingContext (set authority.baseDn)`);
  return nc.toString('utf8');
}

/** Where nested group memberships, once read, may be kept for a while (by the account's DN). */
export interface GroupCache {
  get(dn: string): GroupRef[] | undefined;
  set(dn: string, groups: GroupRef[]): void;
}

/**
 * The account by sAMAccountName (or UPN) and its groups, nested ones included
 * (LDAP_MATCHING_RULE_IN_CHAIN): two searches, or one when `groups` still knows the account's.
 */
export async function lookupAccount(conn: LdapConnection, baseDn: string, user: string, signal?: AbortSignal, cache?: GroupCache): Promise<AccountRecord | undefined> {
  const found = await conn.search(
    {
      base: baseDn,
      scope: Scope.WholeSubtree,
      // NTLM carries either the account name or a UPN (user@realm, domain empty) [MS-NLMP 3.1.5.1.2].
      filter: { and: [{ equal: ['objectClass', 'user'] }, { or: [{ equal: ['sAMAccountName', user] }, { equal: ['userPrincipalName', user] }] }] },
      attributes: ACCOUNT_ATTRIBUTES,
      sizeLimit: 2,
    },
    signal,
  );
  checkDone(conn, found.result.resultCode, found.result.diagnosticMessage);
  if (found.entries.length !== 1) return undefined;
  const e = found.entries[0]!;
  const dialin = first(e.attributes, 'msNPAllowDialin')?.toString('utf8').toUpperCase();
  const callback = first(e.attributes, 'msRADIUSCallbackNumber');
  const serviceType = Number(first(e.attributes, 'msRADIUSServiceType')?.toString('utf8') ?? NaN);
  const sidBytes = first(e.attributes, 'objectSid');
  let groupRefs = cache?.get(e.objectName);
  if (!groupRefs) {
    groupRefs = await memberOf(conn, baseDn, e.objectName, signal);
    cache?.set(e.objectName, groupRefs);
  }
  return {
    dn: e.objectName,
    sAMAccountName: first(e.attributes, 'sAMAccountName')?.toString('utf8') ?? user,
    ...(sidBytes ? { sid: sidToString(sidBytes) } : {}),
    ...(dialin === 'TRUE' ? { dialin: true } : dialin === 'FALSE' ? { dialin: false } : {}),
    ...(callback ? { callbackNumber: callback.toString('utf8') } : {}),
    ...(Number.isInteger(serviceType) ? { serviceType } : {}),
    groups: groupRefs,
  };
}

/** Every group `dn` is a member of, nested ones included. */
async function memberOf(conn: LdapConnection, baseDn: string, dn: string, signal?: AbortSignal): Promise<GroupRef[]> {
  const groups = await conn.search(
    {
      base: baseDn,
      scope: Scope.WholeSubtree,
      filter: {
        and: [{ equal: ['objectClass', 'group'] }, { extensible: { rule: OID.MatchingRuleInChain, attribute: 'member', value: dn } }],
      },
      attributes: ['sAMAccountName', 'objectSid'],
    },
    signal,
  );
  checkDone(conn, groups.result.resultCode, groups.result.diagnosticMessage);
  return groups.entries.map((g) => {
    const sid = first(g.attributes, 'objectSid');
    const name = first(g.attributes, 'sAMAccountName')?.toString('utf8') ?? g.objectName;
    return sid ? { name, sid: sidToString(sid) } : { name };
  });
}

function checkDone(conn: LdapConnection, code: number, diag: string): void {
  if (code !== 0) throw new LdapConnectionError('LDAP_RESULT', `${conn.url.href}: search failed, resultCode ${code} ${diag}`);
}
