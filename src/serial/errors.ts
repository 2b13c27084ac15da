/** Errors of the serial / TCP line layer, each with a stable code (see src/errors.ts). */
import { RasgateError } from '../errors.js';

/** The device is held by another program (flock or a UUCP LCK.. file). */
export class LineLockedError extends RasgateError {
  constructor(readonly device: string, detail: string, options?: { cause?: unknown }) {
    super('LINE_LOCKED', `device ${device} is locked by another program (another getty?)${detail ? `: ${detail}` : ''}`, options);
  }
}

/** The device could not be opened (missing, permissions, bad settings). */
export class LineOpenError extends RasgateError {
  /** errno name when known (ENOENT, EACCES, ...): the bindings give only strerror text. */
  readonly errno?: string;
  constructor(readonly device: string, message: string, options?: { cause?: unknown; errno?: string }) {
    super('LINE_OPEN_FAILED', `device ${device}: ${message}`, options);
    if (options?.errno) this.errno = options.errno;
  }
}

/** The device vanished under us (USB unplug, pty master closed). */
export class LineDisconnectedError extends RasgateError {
  constructor(readonly device: string, options?: { cause?: unknown }) {
    super('LINE_DISCONNECTED', `device ${device} disconnected`, options);
  }
}

/** A telnet peer sent something the option parser cannot accept (e.g. oversized subnegotiation). */
export class TelnetProtocolError extends RasgateError {
  constructor(code: 'TELNET_SB_TOO_LONG' | 'TELNET_BAD_SEQUENCE', message: string) {
    super(code, message);
  }
}
