/**
 * The host side of a terminal login line: bytes in, events out, partial state kept between
 * calls (pg-protocol style: pure, no I/O). Control bytes as ECMA-48 and the telnet NVT (RFC 854) define them.
 *
 * One field (user name, domain, password) is open at a time. `feed()` processes input until the
 * field ends (`line`, `abort`, `ppp-start`) and HOLDS the rest: the caller opens the next field
 * with its own echo mode before resuming, so a password typed ahead is never echoed under the
 * user-name field's mode. While no field is open, input is held (bounded), not interpreted.
 *
 * Character set: with `sevenBit` bit 7 is stripped (parity noise). Otherwise bytes are kept as
 * typed; a field's text is decoded as UTF-8 when it is valid UTF-8 and as Latin-1 otherwise, and
 * C0/C1 control characters never reach the text. Caps count characters (a UTF-8 sequence is one),
 * with at most 4 bytes per character.
 */
import {
  ABORT_ECHO,
  Byte,
  CSI_FINAL_MAX,
  CSI_FINAL_MIN,
  DEFAULT_MAX_ESCAPE_LENGTH,
  DEFAULT_MAX_HELD_BYTES,
  ERASE_ECHO,
  NEWLINE,
  PPP_FRAME_START,
} from './constants.js';

/** 'on' echoes typed characters; 'off' echoes nothing (passwords); 'mask' echoes `mask` per character. */
export type EchoMode = 'on' | 'off' | 'mask';

export interface FieldMode {
  echo: EchoMode;
  /** Characters kept; the excess is dropped. */
  maxChars: number;
  /** Recognise a PPP frame start at the beginning of the field. Default false. */
  detectPpp?: boolean;
  /** Echoed per character in 'mask' mode. Default '*'. */
  mask?: string;
}

export interface DisciplineOptions {
  /** Strip bit 7 of every byte (7-bit callers, parity noise). Default false. */
  sevenBit?: boolean;
  /** Decode fields as UTF-8 when valid (else Latin-1). Default true; ignored with sevenBit. */
  utf8?: boolean;
  /** Echo BEL when a character is dropped at the cap (never in 'off' echo mode). Default false. */
  bellOnOverflow?: boolean;
  /** Longest CSI sequence swallowed before it is abandoned. Default 16. */
  maxEscapeLength?: number;
  /** Bytes held while no field is open; the excess is dropped. Default 4096. */
  maxHeldBytes?: number;
}

export type DisciplineEvent =
  /** Bytes to send back to the caller, in order with the other events. */
  | { type: 'echo'; bytes: Buffer }
  /** The field ended with CR, LF or CRLF. */
  | { type: 'line'; text: string }
  /** ^C: the field was abandoned. */
  | { type: 'abort' }
  /** ^U: the field was emptied (it stays open). */
  | { type: 'kill' }
  /** A PPP frame began the field: `bytes` are the frame start and every byte after it. */
  | { type: 'ppp-start'; bytes: Buffer }
  /** The field reached its cap; reported once per field. */
  | { type: 'overflow'; maxChars: number }
  /** Held input exceeded `maxHeldBytes`; that many bytes were dropped. */
  | { type: 'dropped'; bytes: number };

const enum Esc {
  None,
  Esc,
  Csi,
  Ss3,
}

const MAX_BYTES_PER_CHAR = 4;
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
// Control characters (C0, DEL, C1) never become part of a field's text.
const CONTROL_CHARS = /[\x00-\x1f\x7f-\x9f]/g; // eslint-disable-line no-control-regex

export class LineDiscipline {
  private readonly sevenBit: boolean;
  private readonly utf8: boolean;
  private readonly bellOnOverflow: boolean;
  private readonly maxEscapeLength: number;
  private readonly maxHeldBytes: number;

  private field: Required<FieldMode> | null = null;
  private bytes: number[] = [];
  /** Start offset of each character in `bytes`. */
  private starts: number[] = [];
  private droppingSequence = false;
  private overflowReported = false;
  private esc = Esc.None;
  private escLength = 0;
  private swallowLf = false;
  private pppMatched = 0;

  private held: Buffer = Buffer.alloc(0);
  private heldOffset = 0;

  private out: DisciplineEvent[] = [];
  private echoBuf: number[] = [];

  constructor(options: DisciplineOptions = {}) {
    this.sevenBit = options.sevenBit ?? false;
    this.utf8 = !this.sevenBit && (options.utf8 ?? true);
    this.bellOnOverflow = options.bellOnOverflow ?? false;
    this.maxEscapeLength = options.maxEscapeLength ?? DEFAULT_MAX_ESCAPE_LENGTH;
    this.maxHeldBytes = options.maxHeldBytes ?? DEFAULT_MAX_HELD_BYTES;
  }

  /** Open a new, empty field. Held input is processed by the next `feed()` / `resume()`. */
  setField(mode: FieldMode): void {
    this.field = { detectPpp: false, mask: '*', ...mode };
    this.clearField();
  }

  /** Close the field without an event (input is held from now on). */
  closeField(): void {
    this.field = null;
    this.clearField();
  }

  /** Drop held input and the partial field (before a prompt after a failure, like tcflush). */
  flush(): void {
    this.held = Buffer.alloc(0);
    this.heldOffset = 0;
    this.clearField();
  }

  get fieldOpen(): boolean {
    return this.field !== null;
  }

  /** Characters in the open field. */
  get length(): number {
    return this.starts.length;
  }

  /** Bytes waiting to be processed. */
  get pending(): number {
    return this.held.length - this.heldOffset;
  }

  /** Take the held, unprocessed input (e.g. what followed a PPP frame start, for pppd). */
  takeHeld(): Buffer {
    const rest = Buffer.from(this.held.subarray(this.heldOffset));
    this.held = Buffer.alloc(0);
    this.heldOffset = 0;
    return rest;
  }

  /** What to send to show the field again after an interruption (nothing for a hidden field). */
  redraw(): Buffer {
    if (!this.field || this.field.echo === 'off') return Buffer.alloc(0);
    if (this.field.echo === 'mask') return breakModemEscape([...Buffer.from(this.field.mask.repeat(this.starts.length), 'latin1')]);
    return breakModemEscape(this.bytes);
  }

  /** Add caller bytes and process them until the open field ends; the rest is held. */
  feed(input: Uint8Array): DisciplineEvent[] {
    if (input.length > 0) this.hold(input);
    return this.run();
  }

  /** Process held input (after opening the next field). */
  resume(): DisciplineEvent[] {
    return this.run();
  }

  private hold(input: Uint8Array): void {
    const room = this.maxHeldBytes - this.pending;
    // Bytes a field will consume now are not "held"; only what exceeds the cap while closed is dropped.
    const take = this.field ? input.length : Math.max(0, Math.min(input.length, room));
    if (take < input.length) this.out.push({ type: 'dropped', bytes: input.length - take });
    const rest = this.held.subarray(this.heldOffset);
    this.held = rest.length === 0 ? Buffer.from(input.subarray(0, take)) : Buffer.concat([rest, input.subarray(0, take)]);
    this.heldOffset = 0;
  }

  private run(): DisciplineEvent[] {
    while (this.field && this.heldOffset < this.held.length) {
      const b = this.held[this.heldOffset++];
      this.step(b);
    }
    if (this.heldOffset >= this.held.length && this.held.length > 0) {
      this.held = Buffer.alloc(0);
      this.heldOffset = 0;
    } else if (!this.field && this.pending > this.maxHeldBytes) {
      const excess = this.pending - this.maxHeldBytes;
      this.held = this.held.subarray(this.heldOffset, this.held.length - excess);
      this.heldOffset = 0;
      this.flushEcho();
      this.out.push({ type: 'dropped', bytes: excess });
    }
    this.flushEcho();
    const events = this.out;
    this.out = [];
    return events;
  }

  private step(raw: number): void {
    if (this.swallowLf) {
      this.swallowLf = false;
      if ((raw & 0x7f) === Byte.LF) return;
    }
    const field = this.field!;
    // PPP is 8-bit: match on raw bytes, before any stripping.
    if (field.detectPpp && this.bytes.length === 0 && this.esc === Esc.None && (this.pppMatched > 0 || raw === PPP_FRAME_START[0])) {
      if (raw === PPP_FRAME_START[this.pppMatched]) {
        this.pppMatched++;
        if (this.pppMatched === PPP_FRAME_START.length) this.pppStart();
        return;
      }
      const replay = PPP_FRAME_START.subarray(0, this.pppMatched);
      this.pppMatched = 0;
      for (const r of replay) {
        this.interpret(this.sevenBit ? r & 0x7f : r);
        if (!this.field) {
          // The replay ended the field (e.g. ^C cannot occur here, but stay safe): hold the rest.
          this.heldOffset--;
          return;
        }
      }
    }
    this.interpret(this.sevenBit ? raw & 0x7f : raw);
  }

  private pppStart(): void {
    const frame = Buffer.concat([PPP_FRAME_START, this.held.subarray(this.heldOffset)]);
    this.held = Buffer.alloc(0);
    this.heldOffset = 0;
    this.pppMatched = 0;
    this.field = null;
    this.clearField();
    this.emit({ type: 'ppp-start', bytes: frame });
  }

  private interpret(b: number): void {
    if (this.esc !== Esc.None && this.escape(b)) return;
    switch (b) {
      case Byte.NUL:
      case Byte.XON:
      case Byte.XOFF:
        return;
      case Byte.ESC:
        this.esc = Esc.Esc;
        this.escLength = 0;
        return;
      case Byte.CR:
        this.swallowLf = true;
        this.endLine();
        return;
      case Byte.LF:
        this.endLine();
        return;
      case Byte.BS:
      case Byte.DEL:
        this.erase();
        return;
      case Byte.NAK:
        this.kill();
        return;
      case Byte.ETX:
        this.abort();
        return;
    }
    if (b < Byte.SPACE) return; // other C0 controls: not data
    this.insert(b);
  }

  /** Returns true when the byte belonged to an escape sequence. */
  private escape(b: number): boolean {
    if (this.esc === Esc.Esc) {
      if (b === Byte.CSI_INTRO) this.esc = Esc.Csi;
      else if (b === Byte.SS3_INTRO) this.esc = Esc.Ss3;
      else if (b < Byte.SPACE) {
        this.esc = Esc.None; // a control cancels the sequence and is acted on
        return false;
      } else this.esc = Esc.None; // two-character escape: swallowed
      return true;
    }
    if (b < Byte.SPACE) {
      this.esc = Esc.None;
      return false;
    }
    if (this.esc === Esc.Ss3) {
      this.esc = Esc.None;
      return true;
    }
    // CSI: parameter and intermediate bytes until a final byte, bounded.
    if ((b >= CSI_FINAL_MIN && b <= CSI_FINAL_MAX) || ++this.escLength > this.maxEscapeLength) this.esc = Esc.None;
    return true;
  }

  private insert(b: number): void {
    const field = this.field!;
    const continuation = this.utf8 && (b & 0xc0) === 0x80 && this.bytes.length > 0 && this.bytes[this.bytes.length - 1] >= 0x80;
    if (continuation) {
      if (this.droppingSequence || this.bytes.length - this.starts[this.starts.length - 1] >= MAX_BYTES_PER_CHAR) return;
      this.bytes.push(b);
      if (field.echo === 'on') this.echoBuf.push(b);
      return;
    }
    if (this.starts.length >= field.maxChars) {
      this.droppingSequence = true;
      if (!this.overflowReported) {
        this.overflowReported = true;
        this.emit({ type: 'overflow', maxChars: field.maxChars });
      }
      if (this.bellOnOverflow && field.echo !== 'off') this.echoBuf.push(Byte.BEL);
      return;
    }
    this.droppingSequence = false;
    this.starts.push(this.bytes.length);
    this.bytes.push(b);
    if (field.echo === 'on') this.echoBuf.push(b);
    else if (field.echo === 'mask') this.echoMask();
  }

  private echoMask(): void {
    for (const c of Buffer.from(this.field!.mask, 'latin1')) this.echoBuf.push(c);
  }

  private erase(): void {
    this.droppingSequence = false;
    const start = this.starts.pop();
    if (start === undefined) return; // nothing to erase: no echo either
    this.bytes.length = start;
    if (this.field!.echo !== 'off') this.echoBuf.push(...ERASE_ECHO);
  }

  private kill(): void {
    const n = this.starts.length;
    const echo = this.field!.echo !== 'off';
    this.clearField();
    if (echo) for (let i = 0; i < n; i++) this.echoBuf.push(...ERASE_ECHO);
    this.emit({ type: 'kill' });
  }

  private abort(): void {
    this.echoBuf.push(...ABORT_ECHO);
    this.field = null;
    this.clearField();
    this.emit({ type: 'abort' });
  }

  private endLine(): void {
    const text = this.text(this.field!.maxChars);
    this.echoBuf.push(...NEWLINE);
    this.field = null;
    this.clearField();
    this.emit({ type: 'line', text });
  }

  private text(maxChars: number): string {
    const raw = Uint8Array.from(this.bytes);
    let text: string;
    if (this.utf8) {
      try {
        text = utf8Decoder.decode(raw);
      } catch {
        text = Buffer.from(raw).toString('latin1');
      }
    } else text = Buffer.from(raw).toString('latin1');
    text = text.replace(CONTROL_CHARS, '');
    // Invalid UTF-8 read as Latin-1 can hold more characters than were counted: keep the cap.
    const chars = Array.from(text);
    return chars.length > maxChars ? chars.slice(0, maxChars).join('') : text;
  }

  private clearField(): void {
    this.bytes = [];
    this.starts = [];
    this.droppingSequence = false;
    this.overflowReported = false;
    this.esc = Esc.None;
    this.escLength = 0;
    this.pppMatched = 0;
  }

  private emit(event: DisciplineEvent): void {
    this.flushEcho();
    this.out.push(event);
  }

  private flushEcho(): void {
    if (this.echoBuf.length === 0) return;
    this.out.push({ type: 'echo', bytes: breakModemEscape(this.echoBuf) });
    this.echoBuf = [];
  }
}

/**
 * A Hayes modem leaves data mode on a second of silence, `+++` (S2) and a second of silence in
 * what its DTE sends (V.250 S12): a caller typing `+++` with pauses would escape the modem
 * through our echo. A NUL after each echoed `+` breaks the sequence; terminals ignore NUL
 * (ECMA-48), and so do telnet clients (RFC 854: NUL is a no-op).
 */
function breakModemEscape(echo: number[]): Buffer {
  if (!echo.includes(Byte.PLUS)) return Buffer.from(echo);
  const out: number[] = [];
  for (const b of echo) {
    out.push(b);
    if (b === Byte.PLUS) out.push(Byte.NUL);
  }
  return Buffer.from(out);
}
