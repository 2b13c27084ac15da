/** Telnet wire constants: RFC 854 (commands), RFC 855 (options), option RFCs as noted. */
export const enum Cmd {
  SE = 240, // end of subnegotiation (RFC 855)
  NOP = 241,
  DM = 242, // data mark
  BRK = 243,
  IP = 244, // interrupt process
  AO = 245, // abort output
  AYT = 246, // are you there
  EC = 247, // erase character
  EL = 248, // erase line
  GA = 249, // go ahead
  SB = 250, // begin subnegotiation (RFC 855)
  WILL = 251,
  WONT = 252,
  DO = 253,
  DONT = 254,
  IAC = 255,
}

export const enum Opt {
  BINARY = 0, // RFC 856
  ECHO = 1, // RFC 857
  SGA = 3, // suppress go-ahead, RFC 858
  TTYPE = 24, // terminal type, RFC 1091
  NAWS = 31, // window size, RFC 1073
  LINEMODE = 34, // RFC 1184 (refused: we want character mode)
}

/** RFC 1091 §3: TTYPE subnegotiation codes. */
export const TTYPE_IS = 0;
export const TTYPE_SEND = 1;
