import { RasgateError } from '../../errors.js';

/**
 * Malformed or unexpected bytes from an LDAP peer. Stable codes:
 *  LDAP_TRUNCATED       an element runs past the end of its container
 *  LDAP_BAD_LENGTH      a length is malformed (too many length octets, non-minimal is accepted)
 *  LDAP_INDEFINITE      indefinite length (LDAP forbids it: RFC 4511 section 5.1)
 *  LDAP_TOO_LARGE       a message bigger than the configured bound
 *  LDAP_TOO_DEEP        nesting deeper than the bound
 *  LDAP_BAD_TAG         a high-tag-number form or a tag we did not expect here
 *  LDAP_BAD_INTEGER     an INTEGER/ENUMERATED/BOOLEAN of the wrong size
 *  LDAP_BAD_MESSAGE     a well-formed element that is not the LDAP message we expected
 */
export type LdapProtocolErrorCode =
  | 'LDAP_TRUNCATED'
  | 'LDAP_BAD_LENGTH'
  | 'LDAP_INDEFINITE'
  | 'LDAP_TOO_LARGE'
  | 'LDAP_TOO_DEEP'
  | 'LDAP_BAD_TAG'
  | 'LDAP_BAD_INTEGER'
  | 'LDAP_BAD_MESSAGE';

export class LdapProtocolError extends RasgateError {
  declare readonly code: LdapProtocolErrorCode;
  constructor(code: LdapProtocolErrorCode, message: string) {
    super(code, message);
  }
}

/**
 * The LDAP conversation failed for a reason that is not the peer's bytes: refused, timed
 * out, closed, TLS. `code` is LDAP_CONNECT, LDAP_TIMEOUT, LDAP_CLOSED, LDAP_TLS or LDAP_RESULT
 * (an operation answered with an unexpected resultCode).
 */
export class LdapConnectionError extends RasgateError {
  constructor(
    code: 'LDAP_CONNECT' | 'LDAP_TIMEOUT' | 'LDAP_CLOSED' | 'LDAP_TLS' | 'LDAP_RESULT' | 'LDAP_ABORTED',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}
