/**
 * Hayes result-code parser: pure and incremental. `feed(bytes)` returns the modem events
 * completed by those bytes and keeps a partial line for the next call. Tolerates CR, LF,
 * CRLF and LFCR line ends, echo of the command (ATE1), verbose (V1) and numeric (V0)
 * results, and caller ID lines with or without spaces around `=`. Never throws.
 *
 * Result codes: ITU-T V.250 §5.7 (Table 1); caller ID lines as Rockwell/Conexant
 * `AT+VCID=1` and `AT#CID=1` modems print them between the first and second RING.
 */

/** Verbose result texts and their V0 numeric codes (V.250 Table 1). */
export const RESULT_CODES = {
  OK: 0,
  CONNECT: 1,
  RING: 2,
  NO_CARRIER: 3,
  ERROR: 4,
  NO_DIALTONE: 6,
  BUSY: 7,
  NO_ANSWER: 8,
} as const;

export type SimpleResult = Exclude<keyof typeof RESULT_CODES, 'CONNECT'>;

export type CallerIdField = 'date' | 'time' | 'number' | 'name' | 'message';

export type ModemEvent =
  | { type: SimpleResult }
  | { type: 'CONNECT'; speed?: number; extras: string[] }
  | { type: 'CALLER_ID'; field: CallerIdField; value: string }
  /** A line starting with AT: the modem echoing our command (E1). */
  | { type: 'ECHO'; text: string }
  /** Any other complete line (information text, noise). */
  | { type: 'TEXT'; text: string };

/** Longest line kept; longer runs (data-mode traffic without line ends) are dropped. */
export const MAX_LINE = 256;

const VERBOSE: Record<string, SimpleResult> = {
  OK: 'OK',
  RING: 'RING',
  'NO CARRIER': 'NO_CARRIER',
  ERROR: 'ERROR',
  'NO DIALTONE': 'NO_DIALTONE',
  'NO DIAL TONE': 'NO_DIALTONE',
  BUSY: 'BUSY',
  'NO ANSWER': 'NO_ANSWER',
};

const NUMERIC: Record<string, SimpleResult | 'CONNECT'> = {
  '0': 'OK',
  '1': 'CONNECT',
  '2': 'RING',
  '3': 'NO_CARRIER',
  '4': 'ERROR',
  '6': 'NO_DIALTONE',
  '7': 'BUSY',
  '8': 'NO_ANSWER',
};

const CID_FIELDS: Record<string, CallerIdField> = {
  DATE: 'date',
  TIME: 'time',
  NMBR: 'number',
  DDN_NMBR: 'number',
  NAME: 'name',
  MESG: 'message',
};

const CID_LINE = /^(DATE|TIME|NMBR|DDN_NMBR|NAME|MESG)\s*=\s*(.*)$/i;
const CONNECT_LINE = /^CONNECT(?:\s+(\d+))?(?:[\s/]+(.*))?$/i;

/** Classify one complete line (without its line end). Returns undefined for blank lines. */
export function parseResultLine(raw: string, numeric = true): ModemEvent | undefined {
  const line = raw.trim();
  if (line === '') return undefined;
  const upper = line.toUpperCase();
  const simple = VERBOSE[upper.replace(/\s+/g, ' ')];
  if (simple) return { type: simple };
  const code = numeric ? NUMERIC[line] : undefined;
  if (code === 'CONNECT') return { type: 'CONNECT', extras: [] };
  if (code) return { type: code };
  if (upper.startsWith('CONNECT')) {
    const m = CONNECT_LINE.exec(line);
    if (m) {
      const extras = (m[2] ?? '').split(/[\s/]+/).map((s) => s.trim()).filter(Boolean);
      return m[1] ? { type: 'CONNECT', speed: Number(m[1]), extras } : { type: 'CONNECT', extras };
    }
  }
  if (upper.startsWith('RING') && /^RING\b/.test(upper)) return { type: 'RING' };
  const cid = CID_LINE.exec(line);
  if (cid) return { type: 'CALLER_ID', field: CID_FIELDS[cid[1]!.toUpperCase()]!, value: cid[2]!.trim() };
  if (upper.startsWith('AT')) return { type: 'ECHO', text: line };
  return { type: 'TEXT', text: line };
}

/** Incremental parser: one per modem. */
export class HayesParser {
  private line = '';
  private overflow = false;

  /**
   * @param numeric accept V0 numeric results (`0`..`8`). Default true; the data-mode
   *   watcher for `NO CARRIER` passes false so a caller typing `3` does not hang up.
   */
  constructor(private readonly numeric = true) {}

  /** Feed received bytes; returns events for every line these bytes completed. */
  feed(bytes: Uint8Array): ModemEvent[] {
    const events: ModemEvent[] = [];
    for (const b of bytes) {
      if (b === 0x0d || b === 0x0a) {
        if (!this.overflow) {
          const ev = parseResultLine(this.line, this.numeric);
          if (ev) events.push(ev);
        }
        this.line = '';
        this.overflow = false;
        continue;
      }
      // Strip parity (7-bit modems) and drop other control bytes.
      const c = b & 0x7f;
      if (c < 0x20 || c === 0x7f || this.overflow) continue;
      if (this.line.length >= MAX_LINE) {
        this.overflow = true;
        this.line = '';
        continue;
      }
      this.line += String.fromCharCode(c);
    }
    return events;
  }

  /** Forget any partial line (after flushing the port, entering command mode). */
  reset(): void {
    this.line = '';
    this.overflow = false;
  }
}
