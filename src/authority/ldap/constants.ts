/** LDAP wire constants (RFC 4511) and the Active Directory values rasgate relies on. */

/** protocolOp tags: [APPLICATION n], constructed unless noted (RFC 4511 section 4.2-4.12). */
export const enum Op {
  BindRequest = 0x60,
  BindResponse = 0x61,
  UnbindRequest = 0x42, // [APPLICATION 2] NULL, primitive
  SearchRequest = 0x63,
  SearchResultEntry = 0x64,
  SearchResultDone = 0x65,
  SearchResultReference = 0x73,
  ExtendedRequest = 0x77,
  ExtendedResponse = 0x78,
}

/** Context tags inside operations. */
export const enum Ctx {
  /** BindRequest authentication: simple [0] OCTET STRING. */
  AuthSimple = 0x80,
  /** BindRequest authentication: sasl [3] SaslCredentials. */
  AuthSasl = 0xa3,
  /** BindResponse serverSaslCreds [7] OCTET STRING. */
  ServerSaslCreds = 0x87,
  /** LDAPMessage controls [0]. */
  Controls = 0xa0,
  /** ExtendedResponse responseName [10], responseValue [11]. */
  ExtResponseName = 0x8a,
  ExtResponseValue = 0x8b,
}

/** ExtendedRequest requestName [0], requestValue [1] (RFC 4511 section 4.12). */
export const enum ExtTag {
  RequestName = 0x80,
  RequestValue = 0x81,
}

/** Filter CHOICE tags (RFC 4511 section 4.5.1). */
export const enum FilterTag {
  And = 0xa0,
  Or = 0xa1,
  Not = 0xa2,
  EqualityMatch = 0xa3,
  Present = 0x87,
  ExtensibleMatch = 0xa9,
  MatchingRule = 0x81,
  MatchingType = 0x82,
  MatchValue = 0x83,
  DnAttributes = 0x84,
}

/** resultCode values we branch on (RFC 4511 appendix A). */
export const enum ResultCode {
  Success = 0,
  OperationsError = 1,
  ProtocolError = 2,
  StrongerAuthRequired = 8,
  SaslBindInProgress = 14,
  InvalidCredentials = 49,
  InsufficientAccessRights = 50,
  Busy = 51,
  Unavailable = 52,
  UnwillingToPerform = 53,
}

export const enum Scope {
  BaseObject = 0,
  SingleLevel = 1,
  WholeSubtree = 2,
}

export const OID = {
  /** RFC 4511 section 4.14.1. */
  StartTls: '1.3.6.1.4.1.1466.20037',
  /** RFC 4511 section 4.4.1: unsolicited notification of disconnection. */
  NoticeOfDisconnection: '1.3.6.1.4.1.1466.20036',
  /** AD LDAP_MATCHING_RULE_IN_CHAIN: transitive (nested) membership (MS-ADTS 3.1.1.3.4.4.3). */
  MatchingRuleInChain: '1.2.840.113556.1.4.1941',
} as const;

/**
 * AD "data" codes in the diagnosticMessage of resultCode 49 (MS-ADTS / [MS-ERREF] Win32 codes in
 * hex): `80090308: LdapErr: DSID-..., comment: AcceptSecurityContext error, data 52e, v4563`.
 */
export const AD_DATA_CODES = {
  '52e': 'bad-credentials', // ERROR_LOGON_FAILURE 1326
  '525': 'bad-credentials', // ERROR_NO_SUCH_USER 1317: never told apart to the caller
  '530': 'logon-hours', // ERROR_INVALID_LOGON_HOURS 1328
  '531': 'workstation-restricted', // ERROR_INVALID_WORKSTATION 1329
  '532': 'password-expired', // ERROR_PASSWORD_EXPIRED 1330
  '533': 'account-disabled', // ERROR_ACCOUNT_DISABLED 1331
  '701': 'account-expired', // ERROR_ACCOUNT_EXPIRED 1793
  '773': 'password-must-change', // ERROR_PASSWORD_MUST_CHANGE 1907
  '775': 'account-locked', // ERROR_ACCOUNT_LOCKED_OUT 1909
} as const;
