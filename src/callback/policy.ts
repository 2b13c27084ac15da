/**
 * Who is called back, and where: the per-user callback policy of Windows RAS (No Callback,
 * Preset, Set By Caller), from the directory or from the local policy file.
 *
 * The directory (Active Directory, Samba AD) keeps it, as the Dial-in tab writes it, in
 * msRADIUSServiceType (RADIUS Service-Type, RFC 2865 5.6: 3 Callback-Login, 4 Callback-Framed)
 * and msRADIUSCallbackNumber (RADIUS Callback-Number, RFC 2865 5.19):
 *   service type 3 or 4 with a number       Preset: always called back at that number
 *   service type 3 or 4 without a number    Set By Caller: the caller may give a number
 *   anything else (no type, 1 Login, 2 Framed, ..., a number alone)   No Callback
 * The MS-CBCP flags in userParameters (NT 4 era) are not read.
 */
import type { AccountInfo } from '../ntlm/authority.js';
import { RasgateError } from '../errors.js';
import { parseCallbackNumber } from './number.js';

export type CallbackPolicy =
  | { mode: 'none' }
  /** Always called back at `number` (the administrator's): no session without the callback. */
  | { mode: 'preset'; number: string }
  /** The caller may give a number (or none); an empty answer calls back at `defaultNumber` when there is one. */
  | { mode: 'caller'; defaultNumber?: string };

export const NO_CALLBACK: CallbackPolicy = { mode: 'none' };

/** RADIUS Service-Type values that mean callback (RFC 2865 5.6). */
export const SERVICE_TYPE_CALLBACK_LOGIN = 3;
export const SERVICE_TYPE_CALLBACK_FRAMED = 4;

/** The callback policy the directory keeps for an account, or undefined when nothing was read (no service account). */
export function directoryCallbackPolicy(account: AccountInfo | undefined): CallbackPolicy | undefined {
  if (!account) return undefined;
  const t = account.serviceType;
  if (t !== SERVICE_TYPE_CALLBACK_LOGIN && t !== SERVICE_TYPE_CALLBACK_FRAMED) return NO_CALLBACK;
  const number = account.callbackNumber?.trim();
  return number ? { mode: 'preset', number } : { mode: 'caller' };
}

/** A stored number that cannot be dialled: fail closed (the caller is not let in without the callback). */
export class CallbackNumberError extends RasgateError {
  constructor(message: string) {
    super('CALLBACK_NUMBER_INVALID', message);
  }
}

/** The policy with its numbers checked; throws CallbackNumberError for one that cannot be dialled. */
export function checkedPolicy(policy: CallbackPolicy, where: string): CallbackPolicy {
  if (policy.mode === 'preset' && !parseCallbackNumber(policy.number)) throw new CallbackNumberError(`${where}: the preset callback number cannot be dialled`);
  if (policy.mode === 'caller' && policy.defaultNumber !== undefined && !parseCallbackNumber(policy.defaultNumber)) throw new CallbackNumberError(`${where}: the default callback number cannot be dialled`);
  return policy;
}
