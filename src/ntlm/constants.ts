/**
 * Every NTLM / SSPI wire constant rasgate uses, in one place, each with its source.
 *   [MS-NLMP] = Microsoft "NT LAN Manager (NTLM) Authentication Protocol", section given.
 *   winerror.h / sspi.h = Windows SDK headers (values checked against the SDK copies).
 */

/** "NTLMSSP\0" [MS-NLMP 2.2.1.1 Signature]. */
export const NTLMSSP_SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');

/** MessageType field [MS-NLMP 2.2.1.1-2.2.1.3]. */
export const MessageType = {
  NEGOTIATE: 1,
  CHALLENGE: 2,
  AUTHENTICATE: 3,
} as const;
export type MessageTypeValue = (typeof MessageType)[keyof typeof MessageType];

/** NEGOTIATE flags [MS-NLMP 2.2.2.5]; letters in the comments are the spec's bit names. */
export const NegotiateFlags = {
  NEGOTIATE_UNICODE: 0x00000001, // A
  NEGOTIATE_OEM: 0x00000002, // B
  REQUEST_TARGET: 0x00000004, // C
  NEGOTIATE_SIGN: 0x00000010, // D
  NEGOTIATE_SEAL: 0x00000020, // E
  NEGOTIATE_DATAGRAM: 0x00000040, // F
  NEGOTIATE_LM_KEY: 0x00000080, // G
  NEGOTIATE_NTLM: 0x00000200, // H
  NEGOTIATE_ANONYMOUS: 0x00000800, // J
  OEM_DOMAIN_SUPPLIED: 0x00001000, // K
  OEM_WORKSTATION_SUPPLIED: 0x00002000, // L
  NEGOTIATE_ALWAYS_SIGN: 0x00008000, // M
  TARGET_TYPE_DOMAIN: 0x00010000, // N
  TARGET_TYPE_SERVER: 0x00020000, // O
  NEGOTIATE_EXTENDED_SESSIONSECURITY: 0x00080000, // P
  NEGOTIATE_IDENTIFY: 0x00100000, // Q
  REQUEST_NON_NT_SESSION_KEY: 0x00400000, // R
  NEGOTIATE_TARGET_INFO: 0x00800000, // S
  NEGOTIATE_VERSION: 0x02000000, // T
  NEGOTIATE_128: 0x20000000, // U
  NEGOTIATE_KEY_EXCH: 0x40000000, // V
  NEGOTIATE_56: 0x80000000, // W
} as const;
export type NegotiateFlagName = keyof typeof NegotiateFlags;

/** Names of the set flags, lowest bit first; unknown bits as `0x...`. */
export function flagNames(flags: number): string[] {
  const out: string[] = [];
  let known = 0;
  for (const [name, bit] of Object.entries(NegotiateFlags)) {
    known |= bit;
    if ((flags & bit) >>> 0 === bit) out.push(name);
  }
  const unknown = (flags & ~known) >>> 0;
  for (let bit = 1; bit !== 0 && bit <= unknown; bit = (bit << 1) >>> 0) {
    if (unknown & bit) out.push(`0x${bit.toString(16).padStart(8, '0')}`);
  }
  return out;
}

/** AV_PAIR AvId values [MS-NLMP 2.2.2.1]. */
export const AvId = {
  MsvAvEOL: 0,
  MsvAvNbComputerName: 1,
  MsvAvNbDomainName: 2,
  MsvAvDnsComputerName: 3,
  MsvAvDnsDomainName: 4,
  MsvAvDnsTreeName: 5,
  MsvAvFlags: 6,
  MsvAvTimestamp: 7,
  MsvAvSingleHost: 8,
  MsvAvTargetName: 9,
  MsvAvChannelBindings: 10,
} as const;

/** Name of an AvId, or `AvId(n)` for ids the spec does not define. */
export function avIdName(id: number): string {
  for (const [name, value] of Object.entries(AvId)) if (value === id) return name;
  return `AvId(${id})`;
}

/** MsvAvFlags bits [MS-NLMP 2.2.2.1]. */
export const MsvAvFlag = {
  ACCOUNT_AUTH_CONSTRAINED: 0x1,
  MIC_PRESENT: 0x2,
  SPN_UNTRUSTED_SOURCE: 0x4,
} as const;

/** NTLMSSP_REVISION_W2K3 [MS-NLMP 2.2.2.10]: the only revision current clients send. */
export const NTLMSSP_REVISION_W2K3 = 0x0f;

/** Layout sizes [MS-NLMP 2.2.1.1-2.2.1.3, 2.2.2.7, 2.2.2.9]. */
export const Layout = {
  /** Minimal NEGOTIATE: signature, type, flags. Old clients send only these 16 bytes; accept them. */
  NEGOTIATE_MIN: 16,
  NEGOTIATE_FIXED: 32,
  NEGOTIATE_WITH_VERSION: 40,
  CHALLENGE_FIXED: 48,
  CHALLENGE_WITH_VERSION: 56,
  AUTHENTICATE_FIXED: 64,
  AUTHENTICATE_WITH_VERSION: 72,
  AUTHENTICATE_WITH_MIC: 88,
  MIC_OFFSET: 72,
  MIC_LENGTH: 16,
  VERSION_LENGTH: 8,
  /** NTLMv2_CLIENT_CHALLENGE fixed part before AvPairs [MS-NLMP 2.2.2.7]. */
  NTLMV2_BLOB_FIXED: 28,
  NTPROOFSTR_LENGTH: 16,
  /** NTLMSSP_MESSAGE_SIGNATURE with extended session security [MS-NLMP 2.2.2.9.1]. */
  SIGNATURE_LENGTH: 16,
  /** Tokens larger than this are refused before parsing (rasgate policy, not the spec). */
  MAX_TOKEN: 64 * 1024,
} as const;

/** NTLMSSP_MESSAGE_SIGNATURE Version field [MS-NLMP 2.2.2.9]. */
export const MESSAGE_SIGNATURE_VERSION = 1;

/** Key derivation magic constants, NUL included [MS-NLMP 3.4.5.2, 3.4.5.3]. */
export const KeyMagic = {
  CLIENT_SIGNING: Buffer.from('session key to client-to-server signing key magic constant\0', 'latin1'),
  SERVER_SIGNING: Buffer.from('session key to server-to-client signing key magic constant\0', 'latin1'),
  CLIENT_SEALING: Buffer.from('session key to client-to-server sealing key magic constant\0', 'latin1'),
  SERVER_SEALING: Buffer.from('session key to server-to-client sealing key magic constant\0', 'latin1'),
} as const;

// ---- SSPI status codes (winerror.h) ----------------------------------------------------------

export const SEC_E_OK = 0x00000000;
export const SEC_I_CONTINUE_NEEDED = 0x00090312;
export const SEC_I_COMPLETE_NEEDED = 0x00090313;
export const SEC_I_COMPLETE_AND_CONTINUE = 0x00090314;
export const SEC_E_INSUFFICIENT_MEMORY = 0x80090300;
/** winerror.h: 0x80090301 (not 0x80100003, which is SCARD_E_INVALID_HANDLE). */
export const SEC_E_INVALID_HANDLE = 0x80090301;
export const SEC_E_UNSUPPORTED_FUNCTION = 0x80090302;
export const SEC_E_INTERNAL_ERROR = 0x80090304;
export const SEC_E_INVALID_TOKEN = 0x80090308;
export const SEC_E_LOGON_DENIED = 0x8009030c;
export const SEC_E_UNKNOWN_CREDENTIALS = 0x8009030d;
export const SEC_E_NO_CREDENTIALS = 0x8009030e;
export const SEC_E_MESSAGE_ALTERED = 0x8009030f;
export const SEC_E_OUT_OF_SEQUENCE = 0x80090310;
export const SEC_E_NO_AUTHENTICATING_AUTHORITY = 0x80090311;
export const SEC_E_CONTEXT_EXPIRED = 0x80090317;
export const SEC_E_BAD_BINDINGS = 0x80090346;
/** An argument of the call itself is wrong (not the token): a caller's bug. */
export const SEC_E_INVALID_PARAMETER = 0x8009035d;

const STATUS_NAMES: Record<number, string> = {
  [SEC_E_OK]: 'SEC_E_OK',
  [SEC_I_CONTINUE_NEEDED]: 'SEC_I_CONTINUE_NEEDED',
  [SEC_I_COMPLETE_NEEDED]: 'SEC_I_COMPLETE_NEEDED',
  [SEC_I_COMPLETE_AND_CONTINUE]: 'SEC_I_COMPLETE_AND_CONTINUE',
  [SEC_E_INSUFFICIENT_MEMORY]: 'SEC_E_INSUFFICIENT_MEMORY',
  [SEC_E_INVALID_HANDLE]: 'SEC_E_INVALID_HANDLE',
  [SEC_E_UNSUPPORTED_FUNCTION]: 'SEC_E_UNSUPPORTED_FUNCTION',
  [SEC_E_INTERNAL_ERROR]: 'SEC_E_INTERNAL_ERROR',
  [SEC_E_INVALID_TOKEN]: 'SEC_E_INVALID_TOKEN',
  [SEC_E_LOGON_DENIED]: 'SEC_E_LOGON_DENIED',
  [SEC_E_UNKNOWN_CREDENTIALS]: 'SEC_E_UNKNOWN_CREDENTIALS',
  [SEC_E_NO_CREDENTIALS]: 'SEC_E_NO_CREDENTIALS',
  [SEC_E_MESSAGE_ALTERED]: 'SEC_E_MESSAGE_ALTERED',
  [SEC_E_OUT_OF_SEQUENCE]: 'SEC_E_OUT_OF_SEQUENCE',
  [SEC_E_NO_AUTHENTICATING_AUTHORITY]: 'SEC_E_NO_AUTHENTICATING_AUTHORITY',
  [SEC_E_CONTEXT_EXPIRED]: 'SEC_E_CONTEXT_EXPIRED',
  [SEC_E_BAD_BINDINGS]: 'SEC_E_BAD_BINDINGS',
  [SEC_E_INVALID_PARAMETER]: 'SEC_E_INVALID_PARAMETER',
};

/** A failure code (severity bit set, SEC_E_*), as opposed to SEC_E_OK and the SEC_I_* continuations. */
export function isFailureStatus(code: unknown): code is number {
  return typeof code === 'number' && Number.isInteger(code) && (code >>> 0) >= 0x80000000 && code <= 0xffffffff;
}

/** `SEC_E_LOGON_DENIED` etc., or `0x........` for codes not listed here. */
export function statusName(code: number): string {
  return STATUS_NAMES[code >>> 0] ?? `0x${(code >>> 0).toString(16).padStart(8, '0')}`;
}

// ---- Data representation (sspi.h) ----------------------------------------------------------

export const SECURITY_NATIVE_DREP = 0x00000010;
export const SECURITY_NETWORK_DREP = 0x00000000;

// ---- AcceptSecurityContext fContextReq / pfContextAttr (sspi.h) ----------------------------

export const ASC_REQ_DELEGATE = 0x00000001;
export const ASC_REQ_MUTUAL_AUTH = 0x00000002;
export const ASC_REQ_REPLAY_DETECT = 0x00000004;
export const ASC_REQ_SEQUENCE_DETECT = 0x00000008;
export const ASC_REQ_CONFIDENTIALITY = 0x00000010;
export const ASC_REQ_USE_SESSION_KEY = 0x00000020;
export const ASC_REQ_SESSION_TICKET = 0x00000040;
export const ASC_REQ_ALLOCATE_MEMORY = 0x00000100;
export const ASC_REQ_USE_DCE_STYLE = 0x00000200;
export const ASC_REQ_DATAGRAM = 0x00000400;
export const ASC_REQ_CONNECTION = 0x00000800;
export const ASC_REQ_CALL_LEVEL = 0x00001000;
export const ASC_REQ_FRAGMENT_SUPPLIED = 0x00002000;
export const ASC_REQ_EXTENDED_ERROR = 0x00008000;
export const ASC_REQ_STREAM = 0x00010000;
export const ASC_REQ_INTEGRITY = 0x00020000;
export const ASC_REQ_LICENSING = 0x00040000;
export const ASC_REQ_IDENTIFY = 0x00080000;
export const ASC_REQ_ALLOW_NULL_SESSION = 0x00100000;
export const ASC_REQ_ALLOW_NON_USER_LOGONS = 0x00200000;
export const ASC_REQ_ALLOW_CONTEXT_REPLAY = 0x00400000;
export const ASC_REQ_FRAGMENT_TO_FIT = 0x00800000;
export const ASC_REQ_NO_TOKEN = 0x01000000;
export const ASC_REQ_PROXY_BINDINGS = 0x04000000;
export const ASC_REQ_ALLOW_MISSING_BINDINGS = 0x10000000;

export const ASC_RET_DELEGATE = 0x00000001;
export const ASC_RET_MUTUAL_AUTH = 0x00000002;
export const ASC_RET_REPLAY_DETECT = 0x00000004;
export const ASC_RET_SEQUENCE_DETECT = 0x00000008;
export const ASC_RET_CONFIDENTIALITY = 0x00000010;
export const ASC_RET_USE_SESSION_KEY = 0x00000020;
export const ASC_RET_SESSION_TICKET = 0x00000040;
export const ASC_RET_ALLOCATED_MEMORY = 0x00000100;
export const ASC_RET_USED_DCE_STYLE = 0x00000200;
export const ASC_RET_DATAGRAM = 0x00000400;
export const ASC_RET_CONNECTION = 0x00000800;
export const ASC_RET_CALL_LEVEL = 0x00002000;
export const ASC_RET_THIRD_LEG_FAILED = 0x00004000;
export const ASC_RET_EXTENDED_ERROR = 0x00008000;
export const ASC_RET_STREAM = 0x00010000;
export const ASC_RET_INTEGRITY = 0x00020000;
export const ASC_RET_LICENSING = 0x00040000;
export const ASC_RET_IDENTIFY = 0x00080000;
export const ASC_RET_NULL_SESSION = 0x00100000;
export const ASC_RET_ALLOW_NON_USER_LOGONS = 0x00200000;
export const ASC_RET_ALLOW_CONTEXT_REPLAY = 0x00400000;
export const ASC_RET_FRAGMENT_ONLY = 0x00800000;
export const ASC_RET_NO_TOKEN = 0x01000000;
export const ASC_RET_NO_ADDITIONAL_TOKEN = 0x02000000;

// ---- InitializeSecurityContext fContextReq / pfContextAttr (sspi.h) ------------------------

export const ISC_REQ_DELEGATE = 0x00000001;
export const ISC_REQ_MUTUAL_AUTH = 0x00000002;
export const ISC_REQ_REPLAY_DETECT = 0x00000004;
export const ISC_REQ_SEQUENCE_DETECT = 0x00000008;
export const ISC_REQ_CONFIDENTIALITY = 0x00000010;
export const ISC_REQ_USE_SESSION_KEY = 0x00000020;
export const ISC_REQ_PROMPT_FOR_CREDS = 0x00000040;
export const ISC_REQ_USE_SUPPLIED_CREDS = 0x00000080;
export const ISC_REQ_ALLOCATE_MEMORY = 0x00000100;
export const ISC_REQ_USE_DCE_STYLE = 0x00000200;
export const ISC_REQ_DATAGRAM = 0x00000400;
export const ISC_REQ_CONNECTION = 0x00000800;
export const ISC_REQ_CALL_LEVEL = 0x00001000;
export const ISC_REQ_FRAGMENT_SUPPLIED = 0x00002000;
export const ISC_REQ_EXTENDED_ERROR = 0x00004000;
export const ISC_REQ_STREAM = 0x00008000;
export const ISC_REQ_INTEGRITY = 0x00010000;
export const ISC_REQ_IDENTIFY = 0x00020000;
export const ISC_REQ_NULL_SESSION = 0x00040000;
export const ISC_REQ_MANUAL_CRED_VALIDATION = 0x00080000;
export const ISC_REQ_RESERVED1 = 0x00100000;
export const ISC_REQ_FRAGMENT_TO_FIT = 0x00200000;
export const ISC_REQ_FORWARD_CREDENTIALS = 0x00400000;
export const ISC_REQ_NO_INTEGRITY = 0x00800000;
export const ISC_REQ_USE_HTTP_STYLE = 0x01000000;
export const ISC_REQ_UNVERIFIED_TARGET_NAME = 0x20000000;
export const ISC_REQ_CONFIDENTIALITY_ONLY = 0x40000000;

export const ISC_RET_DELEGATE = 0x00000001;
export const ISC_RET_MUTUAL_AUTH = 0x00000002;
export const ISC_RET_REPLAY_DETECT = 0x00000004;
export const ISC_RET_SEQUENCE_DETECT = 0x00000008;
export const ISC_RET_CONFIDENTIALITY = 0x00000010;
export const ISC_RET_USE_SESSION_KEY = 0x00000020;
export const ISC_RET_USED_COLLECTED_CREDS = 0x00000040;
export const ISC_RET_USED_SUPPLIED_CREDS = 0x00000080;
export const ISC_RET_ALLOCATED_MEMORY = 0x00000100;
export const ISC_RET_USED_DCE_STYLE = 0x00000200;
export const ISC_RET_DATAGRAM = 0x00000400;
export const ISC_RET_CONNECTION = 0x00000800;
export const ISC_RET_INTERMEDIATE_RETURN = 0x00001000;
export const ISC_RET_CALL_LEVEL = 0x00002000;
export const ISC_RET_EXTENDED_ERROR = 0x00004000;
export const ISC_RET_STREAM = 0x00008000;
export const ISC_RET_INTEGRITY = 0x00010000;
export const ISC_RET_IDENTIFY = 0x00020000;
export const ISC_RET_NULL_SESSION = 0x00040000;
export const ISC_RET_MANUAL_CRED_VALIDATION = 0x00080000;
export const ISC_RET_RESERVED1 = 0x00100000;
export const ISC_RET_FRAGMENT_ONLY = 0x00200000;
export const ISC_RET_FORWARD_CREDENTIALS = 0x00400000;
export const ISC_RET_USED_HTTP_STYLE = 0x01000000;
export const ISC_RET_NO_ADDITIONAL_TOKEN = 0x02000000;
export const ISC_RET_REAUTHENTICATION = 0x08000000;
export const ISC_RET_CONFIDENTIALITY_ONLY = 0x40000000;
