/**
 * Terminal wire constants for the login dialogue (ASCII, ECMA-48).
 * One place for every byte value the discipline reacts to.
 */
export const Byte = {
  NUL: 0x00,
  /** ^C: abandon the field (abort). */
  ETX: 0x03,
  BEL: 0x07,
  /** ^H: erase one character. */
  BS: 0x08,
  LF: 0x0a,
  CR: 0x0d,
  /** ^Q XON, ^S XOFF: software flow control, never data. */
  XON: 0x11,
  XOFF: 0x13,
  /** ^U: kill the line. */
  NAK: 0x15,
  ESC: 0x1b,
  SPACE: 0x20,
  /** `+`: the Hayes escape character (S2), never echoed three in a row (discipline.ts). */
  PLUS: 0x2b,
  /** `[` after ESC opens a CSI sequence (ECMA-48 §5.4). */
  CSI_INTRO: 0x5b,
  /** `O` after ESC is SS3 (one following character: application keypad / cursor keys). */
  SS3_INTRO: 0x4f,
  /** DEL: erase one character (what most terminals send for Backspace). */
  DEL: 0x7f,
} as const;

/** CSI final bytes are 0x40..0x7E (ECMA-48 §5.4). */
export const CSI_FINAL_MIN = 0x40;
export const CSI_FINAL_MAX = 0x7e;

/**
 * The start of a PPP LCP Configure-Request in async HDLC framing (RFC 1662): flag 7E, address FF,
 * control 03 escaped as 7D 23, protocol C0 21. mgetty's AutoPPP keys on the same bytes.
 */
export const PPP_FRAME_START = Uint8Array.of(0x7e, 0xff, 0x7d, 0x23, 0xc0, 0x21);

/** Erase one echoed character: back, overwrite with a space, back again. */
export const ERASE_ECHO = Uint8Array.of(Byte.BS, Byte.SPACE, Byte.BS);
/** What the host sends for a newline. */
export const NEWLINE = Uint8Array.of(Byte.CR, Byte.LF);
/** Echo of ^C before the line is abandoned. */
export const ABORT_ECHO = Uint8Array.of(0x5e, 0x43, Byte.CR, Byte.LF); // "^C\r\n"

/** Longest CSI sequence we swallow before giving up on it (line noise must not stall input). */
export const DEFAULT_MAX_ESCAPE_LENGTH = 16;
/** Input kept while no field is open (between prompts, during verify). Excess is dropped. */
export const DEFAULT_MAX_HELD_BYTES = 4096;
