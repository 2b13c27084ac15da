import { RasgateError } from '../errors.js';
import { SEC_E_INVALID_TOKEN, SEC_E_MESSAGE_ALTERED, SEC_E_OUT_OF_SEQUENCE, SEC_E_UNSUPPORTED_FUNCTION } from './constants.js';

/**
 * Stable codes of malformed NTLM tokens. Every decoder in src/ntlm throws only NtlmTokenError
 * with one of these codes (anything unexpected is wrapped as NTLM_MALFORMED).
 */
export const NtlmTokenErrorCode = {
  /** The token ends before a fixed field or the header it announces. */
  TRUNCATED: 'NTLM_TRUNCATED',
  /** The first 8 bytes are not "NTLMSSP\0". */
  BAD_SIGNATURE: 'NTLM_BAD_SIGNATURE',
  /** MessageType is not the one expected (or not 1..3). */
  BAD_TYPE: 'NTLM_BAD_TYPE',
  /** A Len/MaxLen/Offset field points past the end of the token or into its fixed header. */
  FIELD_OUT_OF_RANGE: 'NTLM_FIELD_OUT_OF_RANGE',
  /** AV pairs overrun their field, lack MsvAvEOL, or carry a value of the wrong size. */
  BAD_AVPAIRS: 'NTLM_BAD_AVPAIRS',
  /** A Unicode string has an odd byte length. */
  BAD_STRING: 'NTLM_BAD_STRING',
  /** The NTLMv2 response / client blob is malformed (too short, not 01 01, no EOL) or NTLMv1. */
  BAD_BLOB: 'NTLM_BAD_BLOB',
  /** A key field has the wrong length (EncryptedRandomSessionKey must be 16 bytes). */
  BAD_KEY: 'NTLM_BAD_KEY',
  /** The token is larger than Layout.MAX_TOKEN (64 KiB). */
  TOO_LARGE: 'NTLM_TOO_LARGE',
  /** The input is not a token at all (not bytes, bad base64/hex in the CLI). */
  BAD_ENCODING: 'NTLM_BAD_ENCODING',
  /** Anything else that went wrong while decoding (a bug: wrapped so callers see one type). */
  MALFORMED: 'NTLM_MALFORMED',
} as const;
export type NtlmTokenErrorCodeValue = (typeof NtlmTokenErrorCode)[keyof typeof NtlmTokenErrorCode];

/** A malformed or unacceptable NTLM token. `offset` is where decoding failed, when known. */
export class NtlmTokenError extends RasgateError {
  declare readonly code: NtlmTokenErrorCodeValue;
  readonly offset: number | undefined;
  /** The SSPI status an acceptor should return for this failure. */
  readonly status = SEC_E_INVALID_TOKEN;

  constructor(code: NtlmTokenErrorCodeValue, message: string, offset?: number, options?: { cause?: unknown }) {
    super(code, offset === undefined ? message : `${message} (at byte ${offset})`, options);
    this.offset = offset;
  }
}

/** Run a decoder so that only NtlmTokenError escapes it. */
export function decoding<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof NtlmTokenError) throw err;
    throw new NtlmTokenError(NtlmTokenErrorCode.MALFORMED, `malformed token: ${err instanceof Error ? err.message : String(err)}`, undefined, { cause: err });
  }
}

/** Stable codes of session security (sign/seal) failures [MS-NLMP 3.4]. */
export const NtlmSessionErrorCode = {
  /** The signature is not 16 bytes or its Version is not 1. */
  BAD_SIGNATURE: 'NTLM_BAD_MESSAGE_SIGNATURE',
  /** The checksum does not match: the message or signature was altered. */
  MESSAGE_ALTERED: 'NTLM_MESSAGE_ALTERED',
  /** The sequence number is not the one expected (replay, reorder or loss). */
  OUT_OF_SEQUENCE: 'NTLM_OUT_OF_SEQUENCE',
  /** Signing or sealing was not negotiated, or only without extended session security. */
  UNSUPPORTED: 'NTLM_SESSION_UNSUPPORTED',
} as const;
export type NtlmSessionErrorCodeValue = (typeof NtlmSessionErrorCode)[keyof typeof NtlmSessionErrorCode];

const SESSION_STATUS: Record<NtlmSessionErrorCodeValue, number> = {
  NTLM_BAD_MESSAGE_SIGNATURE: SEC_E_MESSAGE_ALTERED,
  NTLM_MESSAGE_ALTERED: SEC_E_MESSAGE_ALTERED,
  NTLM_OUT_OF_SEQUENCE: SEC_E_OUT_OF_SEQUENCE,
  NTLM_SESSION_UNSUPPORTED: SEC_E_UNSUPPORTED_FUNCTION,
};

/** A sign/verify/seal/unseal failure; `status` is the SSPI code (SEC_E_MESSAGE_ALTERED, ...). */
export class NtlmSessionError extends RasgateError {
  declare readonly code: NtlmSessionErrorCodeValue;
  readonly status: number;
  constructor(code: NtlmSessionErrorCodeValue, message: string) {
    super(code, message);
    this.status = SESSION_STATUS[code];
  }
}
