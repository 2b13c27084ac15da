/**
 * From the NTLM acceptor's last leg to what the dialogue is told (machines/dialogue.ts
 * VerifyOutcome): SSPI status + the authority's DenyReason -> the outcome kind with its raserror
 * code, decided here once (the log, metrics and audit keep it as it is).
 *
 *  - wrong user or password                       -> bad-credentials (SECURITYMSG_FAILURE; 691 in logs)
 *  - policy refusals (disabled, locked, ...)      -> policy + raserror.h code (SECURITYMSG_ERROR)
 *  - authority unreachable / nonsense / timeout   -> outage (SECURITYMSG_ERROR): "try later"
 *  - our own client or acceptor at fault          -> internal-error (a bug, never the caller's)
 *
 * raserror.h has no code for a locked-out account: we use ERROR_ACCT_DISABLED (647), as MS-CHAP
 * servers do (RFC 2433 lists 646/647/648/649/691 as the failure codes a RAS client knows), and
 * keep `account-locked` as the reason. Workstation restrictions and a missing group become
 * ERROR_NO_DIALIN_PERMISSION (649): not allowed in through this path.
 */
import type { AccountInfo, DenyReason } from '../ntlm/authority.js';
import { directoryCallbackPolicy } from '../callback/policy.js';
import {
  ERROR_ACCT_DISABLED,
  ERROR_ACCT_EXPIRED,
  ERROR_AUTHENTICATION_FAILURE,
  ERROR_NO_DIALIN_PERMISSION,
  ERROR_PASSWD_EXPIRED,
  ERROR_REQUEST_TIMEOUT,
  ERROR_RESTRICTED_LOGON_HOURS,
} from '../ras/codes.js';
import type { VerifyOutcome } from '../ras/verify.js';
import { SEC_E_LOGON_DENIED, SEC_E_NO_AUTHENTICATING_AUTHORITY, SEC_E_OK } from '../ntlm/constants.js';

/** winerror.h ERROR_NO_LOGON_SERVERS: no authority could serve the logon (outage). */
export const ERROR_NO_LOGON_SERVERS = 1311;
/** winerror.h ERROR_INTERNAL_ERROR: our own fault (a bug), never the caller's. */
export const ERROR_INTERNAL_ERROR = 1359;

/** raserror.h code for each policy refusal. `bad-credentials` is a failure, not a denial. */
export const DENY_RAS_ERROR: Record<Exclude<DenyReason, 'bad-credentials'>, number> = {
  'account-disabled': ERROR_ACCT_DISABLED,
  'account-locked': ERROR_ACCT_DISABLED,
  'account-expired': ERROR_ACCT_EXPIRED,
  'password-expired': ERROR_PASSWD_EXPIRED,
  'password-must-change': ERROR_PASSWD_EXPIRED,
  'logon-hours': ERROR_RESTRICTED_LOGON_HOURS,
  'workstation-restricted': ERROR_NO_DIALIN_PERMISSION,
  'no-dialin-permission': ERROR_NO_DIALIN_PERMISSION,
  'not-member': ERROR_NO_DIALIN_PERMISSION,
};

export interface LastLeg {
  status: number;
  /** Stable word from the acceptor ('ok', 'authority-timeout', 'bad-mic', ...). */
  reason?: string;
  denyReason?: DenyReason;
  user?: string;
  domain?: string;
}

/** An outage (`reason` says which) or our own fault, with its code. */
export function unavailable(kind: 'outage' | 'internal-error', reason: string, rasError = kind === 'outage' ? ERROR_NO_LOGON_SERVERS : ERROR_INTERNAL_ERROR): VerifyOutcome {
  return { kind, reason, rasError };
}

/**
 * Map the final acceptSecurityContext result. `identity` is what querySecurityContextToken
 * returned for an established context (the authority's spelling, and what the directory keeps
 * for the account: its callback policy goes with the accepted outcome).
 */
export function toVerifyOutcome(leg: LastLeg, identity: { user: string; domain: string; account?: AccountInfo } | undefined): VerifyOutcome {
  if (leg.status === SEC_E_OK) {
    if (!identity || !identity.user) return unavailable('internal-error', 'established context without identity');
    const callback = directoryCallbackPolicy(identity.account);
    return { kind: 'accepted', user: identity.user, domain: identity.domain, ...(callback ? { callback } : {}) };
  }
  if (leg.denyReason && leg.denyReason !== 'bad-credentials') {
    return {
      kind: 'policy',
      reason: leg.denyReason,
      rasError: DENY_RAS_ERROR[leg.denyReason] ?? ERROR_AUTHENTICATION_FAILURE,
      ...(leg.user ? { user: leg.user } : {}),
      ...(leg.domain ? { domain: leg.domain } : {}),
    };
  }
  if (leg.status === SEC_E_LOGON_DENIED) return { kind: 'bad-credentials' };
  if (leg.status === SEC_E_NO_AUTHENTICATING_AUTHORITY) {
    const timeout = /timeout|timed.?out/i.test(leg.reason ?? '');
    return unavailable('outage', leg.reason ?? 'no authenticating authority', timeout ? ERROR_REQUEST_TIMEOUT : ERROR_NO_LOGON_SERVERS);
  }
  // Our own client made the tokens: anything else (invalid token, bad MIC, expired challenge,
  // internal error) is our fault or the authority's nonsense, never the caller's password.
  return unavailable('internal-error', `${leg.reason ?? 'ntlm'} (0x${(leg.status >>> 0).toString(16)})`);
}
