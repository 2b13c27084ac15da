/**
 * Map a failed NTLM bind (resultCode 49) to a DenyReason from the AD "data" code in its
 * diagnosticMessage (Active Directory's bind error text; the `data` field is a winerror.h code), e.g.
 *   80090308: LdapErr: DSID-0C0904DC, comment: AcceptSecurityContext error, data 52e, v1db1
 * Unknown codes are not a verdict about the user: the caller treats them as an outage.
 */
import type { DenyReason } from '../../ntlm/authority.js';
import { AD_DATA_CODES } from './constants.js';

export function adDataCode(diagnosticMessage: string): string | undefined {
  return /\bdata ([0-9a-f]{1,8})\b/i.exec(diagnosticMessage)?.[1]?.toLowerCase();
}

export function denyReasonFor(diagnosticMessage: string): DenyReason | undefined {
  const code = adDataCode(diagnosticMessage);
  return code !== undefined && code in AD_DATA_CODES ? AD_DATA_CODES[code as keyof typeof AD_DATA_CODES] : undefined;
}
