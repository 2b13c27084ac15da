/**
 * Outgoing text: newlines become CRLF (the host always sends CRLF, the NVT end of line, RFC 854) and control
 * characters other than BEL, BS and TAB are removed, so that configured prompts and caller-ID
 * text can never smuggle terminal control sequences to the caller.
 */
export interface OutputOptions {
  /** Replace non-ASCII characters with `?` (7-bit lines). Default false: UTF-8. */
  sevenBit?: boolean;
}

// BEL, BS, TAB survive; CR and LF are normalised below; every other C0, DEL and C1 goes.
const DROPPED = /[\x00-\x06\x0b\x0c\x0e-\x1f\x7f-\x9f]/g; // eslint-disable-line no-control-regex

/** Text for the line: CRLF newlines, control characters filtered. */
export function crlf(text: string, options: OutputOptions = {}): Buffer {
  let out = text.replace(/\r\n|\r|\n/g, '\n').replace(DROPPED, '').replace(/\n/g, '\r\n');
  if (options.sevenBit) out = out.replace(/[^\x00-\x7f]/gu, '?'); // eslint-disable-line no-control-regex
  return Buffer.from(out, 'utf8');
}

/** Printable-only form of untrusted text (caller ID, device names) for prompts and banners. */
export function printable(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, ''); // eslint-disable-line no-control-regex
}
