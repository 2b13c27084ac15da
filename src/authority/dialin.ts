/**
 * Dial-in policy after a successful logon, from what the directory said about the account:
 * a required group (by name or SID, nested membership already resolved by the lookup) and the
 * dial-in permission attribute msNPAllowDialin ([MS-ADA2] "ms-NPAllowDialin": TRUE allow,
 * FALSE deny, absent = "control access through policy", which here is `dialinDefault`).
 */
import type { DenyReason } from '../ntlm/authority.js';

export interface DialinPolicy {
  /** Group name (sAMAccountName, case-insensitive) or SID (S-1-5-21-...). Default: none required. */
  requiredGroup?: string;
  /** What an absent msNPAllowDialin means. Default 'allow'. */
  dialinDefault?: 'allow' | 'deny';
}

export interface GroupRef {
  name: string;
  sid?: string;
}

export interface DirectoryAccount {
  groups: GroupRef[];
  dialin?: boolean;
}

export function isSid(s: string): boolean {
  return /^S-1-\d+(-\d+)+$/i.test(s);
}

export function inGroup(groups: GroupRef[], wanted: string): boolean {
  if (isSid(wanted)) return groups.some((g) => g.sid?.toUpperCase() === wanted.toUpperCase());
  const w = wanted.toLowerCase();
  return groups.some((g) => g.name.toLowerCase() === w);
}

/** undefined = allowed; otherwise why not. Group is checked first (the stronger statement). */
export function dialinDenial(account: DirectoryAccount, policy: DialinPolicy): DenyReason | undefined {
  if (policy.requiredGroup && !inGroup(account.groups, policy.requiredGroup)) return 'not-member';
  const allowed = account.dialin ?? (policy.dialinDefault ?? 'allow') === 'allow';
  return allowed ? undefined : 'no-dialin-permission';
}
