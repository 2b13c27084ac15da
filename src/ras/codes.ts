/**
 * RAS security host wire constants: the raserror.h codes rasgate uses (RASBASE 600), the
 * SECURITY_MESSAGE ids (rasshost.h) and the buffer limits (lmcons.h UNLEN/DNLEN/PWLEN,
 * rasshost.h MAX_DEVICE_NAME). One table: names and descriptions come from here.
 */

export const RASBASE = 600;

/** Every code rasgate returns or reports, by raserror.h / winerror.h name. */
export const RAS_ERRORS = {
  NO_ERROR: { code: 0, text: 'The operation succeeded.' },
  /** winerror.h: returned by complete() for a malformed SECURITY_MESSAGE. */
  ERROR_INVALID_PARAMETER: { code: 87, text: 'A parameter is invalid.' },
  PENDING: { code: RASBASE + 0, text: 'An operation is pending.' },
  ERROR_INVALID_PORT_HANDLE: { code: RASBASE + 1, text: 'The port handle is invalid.' },
  ERROR_BUFFER_TOO_SMALL: { code: RASBASE + 3, text: 'The buffer is too small.' },
  ERROR_PORT_NOT_CONNECTED: { code: RASBASE + 6, text: 'The port is not connected.' },
  ERROR_PORT_NOT_OPEN: { code: RASBASE + 18, text: 'The port is not open.' },
  ERROR_PORT_DISCONNECTED: { code: RASBASE + 19, text: 'The port is disconnected.' },
  ERROR_DISCONNECTION: { code: RASBASE + 28, text: 'The connection was terminated.' },
  ERROR_REMOTE_DISCONNECTION: { code: RASBASE + 29, text: 'The port was disconnected by the remote machine.' },
  ERROR_HARDWARE_FAILURE: { code: RASBASE + 30, text: 'The port was disconnected due to hardware failure.' },
  ERROR_USER_DISCONNECTION: { code: RASBASE + 31, text: 'The port was disconnected by the user.' },
  ERROR_REQUEST_TIMEOUT: { code: RASBASE + 38, text: 'The request has timed out.' },
  ERROR_RESTRICTED_LOGON_HOURS: { code: RASBASE + 46, text: 'The account is not permitted to log on at this time of day.' },
  ERROR_ACCT_DISABLED: { code: RASBASE + 47, text: 'The account is disabled.' },
  ERROR_PASSWD_EXPIRED: { code: RASBASE + 48, text: 'The password has expired.' },
  ERROR_NO_DIALIN_PERMISSION: { code: RASBASE + 49, text: 'The account does not have remote access permission.' },
  ERROR_LINE_BUSY: { code: RASBASE + 76, text: 'The phone line is busy.' },
  ERROR_NO_ANSWER: { code: RASBASE + 78, text: 'The remote computer did not respond.' },
  ERROR_NO_CARRIER: { code: RASBASE + 79, text: 'Cannot detect carrier.' },
  ERROR_NO_DIALTONE: { code: RASBASE + 80, text: 'There was no dial tone.' },
  ERROR_IN_COMMAND: { code: RASBASE + 81, text: 'The modem (or other connecting device) reported a general error.' },
  ERROR_AUTHENTICATION_FAILURE: { code: RASBASE + 91, text: 'Access denied because the user name and/or password is invalid on the domain.' },
  ERROR_BAD_CALLBACK_NUMBER: { code: RASBASE + 104, text: 'The callback number is invalid.' },
  ERROR_ACCT_EXPIRED: { code: RASBASE + 108, text: 'The account has expired.' },
  /** raserror.h marks it obsolete (internal modem-script timeout); rasgate does not use it. */
  ERROR_SMM_TIMEOUT: { code: RASBASE + 148, text: 'ERROR_SMM_TIMEOUT (obsolete).' },
} as const;

export type RasErrorName = keyof typeof RAS_ERRORS;

const byCode = new Map<number, RasErrorName>(
  (Object.keys(RAS_ERRORS) as RasErrorName[]).map((name) => [RAS_ERRORS[name].code, name]),
);

/** 'ERROR_PORT_DISCONNECTED' for 619; `RAS_<n>` for a code not in the table. */
export function rasErrorName(code: number): string {
  return byCode.get(code) ?? `RAS_${code}`;
}

/** Human description of a code (for logs). */
export function describeRasError(code: number): string {
  const name = byCode.get(code);
  return name ? RAS_ERRORS[name].text : `Unknown error ${code}.`;
}

// Named values, derived from the table (never written twice).
export const NO_ERROR = RAS_ERRORS.NO_ERROR.code;
export const ERROR_INVALID_PARAMETER = RAS_ERRORS.ERROR_INVALID_PARAMETER.code;
export const PENDING = RAS_ERRORS.PENDING.code;
export const ERROR_INVALID_PORT_HANDLE = RAS_ERRORS.ERROR_INVALID_PORT_HANDLE.code;
export const ERROR_BUFFER_TOO_SMALL = RAS_ERRORS.ERROR_BUFFER_TOO_SMALL.code;
export const ERROR_PORT_NOT_CONNECTED = RAS_ERRORS.ERROR_PORT_NOT_CONNECTED.code;
export const ERROR_PORT_NOT_OPEN = RAS_ERRORS.ERROR_PORT_NOT_OPEN.code;
export const ERROR_PORT_DISCONNECTED = RAS_ERRORS.ERROR_PORT_DISCONNECTED.code;
export const ERROR_DISCONNECTION = RAS_ERRORS.ERROR_DISCONNECTION.code;
export const ERROR_REMOTE_DISCONNECTION = RAS_ERRORS.ERROR_REMOTE_DISCONNECTION.code;
export const ERROR_HARDWARE_FAILURE = RAS_ERRORS.ERROR_HARDWARE_FAILURE.code;
export const ERROR_USER_DISCONNECTION = RAS_ERRORS.ERROR_USER_DISCONNECTION.code;
export const ERROR_REQUEST_TIMEOUT = RAS_ERRORS.ERROR_REQUEST_TIMEOUT.code;
export const ERROR_RESTRICTED_LOGON_HOURS = RAS_ERRORS.ERROR_RESTRICTED_LOGON_HOURS.code;
export const ERROR_ACCT_DISABLED = RAS_ERRORS.ERROR_ACCT_DISABLED.code;
export const ERROR_PASSWD_EXPIRED = RAS_ERRORS.ERROR_PASSWD_EXPIRED.code;
export const ERROR_NO_DIALIN_PERMISSION = RAS_ERRORS.ERROR_NO_DIALIN_PERMISSION.code;
export const ERROR_LINE_BUSY = RAS_ERRORS.ERROR_LINE_BUSY.code;
export const ERROR_NO_ANSWER = RAS_ERRORS.ERROR_NO_ANSWER.code;
export const ERROR_NO_CARRIER = RAS_ERRORS.ERROR_NO_CARRIER.code;
export const ERROR_NO_DIALTONE = RAS_ERRORS.ERROR_NO_DIALTONE.code;
export const ERROR_IN_COMMAND = RAS_ERRORS.ERROR_IN_COMMAND.code;
export const ERROR_BAD_CALLBACK_NUMBER = RAS_ERRORS.ERROR_BAD_CALLBACK_NUMBER.code;
export const ERROR_AUTHENTICATION_FAILURE = RAS_ERRORS.ERROR_AUTHENTICATION_FAILURE.code;
export const ERROR_ACCT_EXPIRED = RAS_ERRORS.ERROR_ACCT_EXPIRED.code;
export const ERROR_SMM_TIMEOUT = RAS_ERRORS.ERROR_SMM_TIMEOUT.code;

/** SECURITY_MESSAGE.dwMsgId (rasshost.h). */
export const SECURITYMSG_SUCCESS = 1;
/** Hang up and log: the user failed to authenticate. */
export const SECURITYMSG_FAILURE = 2;
/** Hang up and log dwError. */
export const SECURITYMSG_ERROR = 3;
export type SecurityMsgId = typeof SECURITYMSG_SUCCESS | typeof SECURITYMSG_FAILURE | typeof SECURITYMSG_ERROR;

/** lmcons.h: maximum user name length. */
export const UNLEN = 256;
/** lmcons.h: maximum (NetBIOS) domain name length. */
export const DNLEN = 15;
/** lmcons.h: maximum password length. */
export const PWLEN = 256;
/** rasshost.h: RAS_SECURITY_INFO.DeviceName holds at most this many characters. */
export const MAX_DEVICE_NAME = 128;
