/**
 * The simulated modem's command interpreter, pure: settings and one command line in, new
 * settings, effects and the final result code out. No I/O and no time: src/serial/sim-modem.ts
 * carries the effects out (answer, dial, hang up, go online) and prints what they report.
 *
 * Syntax and results: ITU-T V.250 §5.2.1 (command line), §5.3 (basic commands, S-parameters),
 * §5.6 (an error ends the line), §5.7.1 (result codes, Table 1, and their framing with S3/S4).
 * Commands: V.250 §6.1-§6.3; `&C`, `&D`, `&F` and the `X` result sets as in the Hayes AT command
 * reference; caller ID with `+VCID=n` (Rockwell/Conexant) or `#CID=n`.
 */
import { isIP } from 'node:net';
import { RESULT_CODES } from './hayes.js';

/** Longest command line kept (V.250 §5.2.1 asks for at least 40 characters). */
export const MAX_COMMAND_LINE = 256;

/** S-registers S0..S39 exist; `ATS40=1` is an error. */
export const S_REGISTERS = 40;

export interface AtSettings {
  /** E: echo command characters (V.250 §6.2.4). */
  echo: boolean;
  /** V: result codes as text (true) or digits (V.250 §6.2.6). */
  verbose: boolean;
  /** Q: result codes suppressed (V.250 §6.2.5). */
  quiet: boolean;
  /** X0-X4: which call progress results are told apart (V.250 §6.2.7; sets as Hayes X0-X4). */
  resultSet: number;
  /** &C: false = DCD always on (&C0), true = DCD follows the carrier (&C1) (V.250 §6.2.8). */
  dcdFollowsCarrier: boolean;
  /** &D: DTR dropped: 0 ignored, 1 online command state, 2 hang up, 3 hang up and reset (V.250 §6.2.9). */
  dtrMode: 0 | 1 | 2 | 3;
  /** +VCID / #CID: caller ID between the first and second RING. */
  callerId: boolean;
  /** T / P: how numbers are dialled (V.250 §6.3.2, §6.3.3); the simulation dials both alike. */
  dialMethod: 'tone' | 'pulse';
  /** S0..S39 (V.250 §5.3.2). */
  s: readonly number[];
}

/** Factory settings (&F, Z): echo on, verbose, X4, &C1 &D2, no auto-answer. */
export function factorySettings(): AtSettings {
  const s = new Array<number>(S_REGISTERS).fill(0);
  s[2] = 43; // escape character '+' (Hayes S2)
  s[3] = 13; // command line termination character, CR (V.250 §6.2.1)
  s[4] = 10; // response formatting character, LF (V.250 §6.2.2)
  s[5] = 8; // command line editing character, BS (V.250 §6.2.3)
  s[6] = 2; // seconds to wait for a dial tone (V.250 §6.3.9)
  s[7] = 50; // seconds from dialling to carrier (V.250 §6.3.10)
  s[8] = 2; // comma pause, seconds (V.250 §6.3.11)
  s[10] = 14; // carrier loss to hang-up, 1/10 s (V.250 §6.3.12)
  s[12] = 50; // escape guard time, 1/50 s (Hayes S12)
  return { echo: true, verbose: true, quiet: false, resultSet: 4, dcdFollowsCarrier: true, dtrMode: 2, callerId: false, dialMethod: 'tone', s };
}

/** What was dialled: a number for the dial plan, or an IP address and port dialled as is. */
export type DialTarget = { number: string } | { host: string; port: number };

export type AtEffect =
  /** Information text (I, S?), framed like a result. */
  | { type: 'info'; text: string }
  /** H0: go on hook, ending any call (V.250 §6.3.6). */
  | { type: 'hangup' }
  /** Z: hang up; the outcome's settings are the factory ones (V.250 §6.1.1). */
  | { type: 'reset' }
  /** A: answer; the modem reports CONNECT or NO CARRIER later (V.250 §6.3.5). */
  | { type: 'answer' }
  /** D: dial; the modem reports CONNECT, BUSY, NO ANSWER, NO CARRIER or NO DIALTONE later (V.250 §6.3.1). */
  | { type: 'dial'; to: DialTarget; method: 'tone' | 'pulse' }
  /** O: back to online data state; the modem reports CONNECT (V.250 §6.3.7). */
  | { type: 'online' };

export interface AtOutcome {
  settings: AtSettings;
  /** In order; commands before an error keep their effect (V.250 §5.6). */
  effects: AtEffect[];
  /** OK or ERROR to report now; undefined when the last effect (A, D, O) reports later. */
  result?: 'OK' | 'ERROR';
}

/** What the interpreter needs to know about the telephone line. */
export interface LineContext {
  /** 'connected': a call with carrier, the modem in online command state. */
  call: 'idle' | 'ringing' | 'connected';
  /** Text of ATI. */
  identity: string;
}

export type ResultName = keyof typeof RESULT_CODES;

/** A result code framed by the settings: `<CR><LF>TEXT<CR><LF>` (V1), `N<CR>` (V0), nothing (Q1) (V.250 §5.7.1). */
export function formatResult(settings: AtSettings, result: ResultName, connectText?: string): string {
  if (settings.quiet) return '';
  const cr = String.fromCharCode(settings.s[3]!);
  const lf = String.fromCharCode(settings.s[4]!);
  if (!settings.verbose) return `${RESULT_CODES[result]}${cr}`;
  const text = result === 'CONNECT' && connectText ? `CONNECT ${connectText}` : result.replace('_', ' ');
  return `${cr}${lf}${text}${cr}${lf}`;
}

/** Information text: `<CR><LF>TEXT<CR><LF>` (V1) or `TEXT<CR><LF>` (V0) (V.250 §5.7.1). */
export function formatInfo(settings: AtSettings, text: string): string {
  const cr = String.fromCharCode(settings.s[3]!);
  const lf = String.fromCharCode(settings.s[4]!);
  return settings.verbose ? `${cr}${lf}${text}${cr}${lf}` : `${text}${cr}${lf}`;
}

/**
 * The result the modem reports for a call progress condition under X0-X4 (Hayes): X0 and X1
 * dial blind and tell only NO CARRIER, X2 adds NO DIALTONE, X3 adds BUSY and NO ANSWER but not
 * NO DIALTONE, X4 tells all. CONNECT carries the speed from X1 on.
 */
export function callProgress(settings: AtSettings, result: 'NO_DIALTONE' | 'BUSY' | 'NO_ANSWER' | 'NO_CARRIER'): ResultName {
  const x = settings.resultSet;
  if (result === 'NO_DIALTONE') return x === 2 || x >= 4 ? result : 'NO_CARRIER';
  if (result === 'BUSY' || result === 'NO_ANSWER') return x >= 3 ? result : 'NO_CARRIER';
  return result;
}

const IPV4_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/;
const IPV6_PORT = /^\[([0-9A-F:.]+)\]:(\d{1,5})$/;

/**
 * The dial string after D (V.250 §6.3.1): T and P choose the method; `,` `W` `@` `!` and
 * punctuation are dialling pauses and waits to a telephone exchange, and nothing to us. An IP
 * address with a port (`127.0.0.1:6400`, `[::1]:6400`) is kept whole, as Hayes emulators for
 * BBS software dial it; anything else keeps its digits, `*` and `#`. A trailing `;` (return to
 * command state: a voice call) is not supported.
 */
export function parseDialString(text: string, method: 'tone' | 'pulse'): { to: DialTarget; method: 'tone' | 'pulse' } | undefined {
  let rest = text.replace(/\s+/g, '').toUpperCase();
  if (rest.endsWith(';')) return undefined;
  const m = /^[TP]+/.exec(rest);
  if (m) {
    method = m[0].endsWith('T') ? 'tone' : 'pulse';
    rest = rest.slice(m[0].length);
  }
  const address = IPV4_PORT.exec(rest) ?? IPV6_PORT.exec(rest);
  if (address) {
    const host = address[1]!.toLowerCase();
    const port = Number(address[2]);
    return isIP(host) && port >= 1 && port <= 65535 ? { to: { host, port }, method } : undefined;
  }
  const number = normaliseNumber(rest);
  return number ? { to: { number }, method } : undefined;
}

/** A telephone number as dialled: its digits, `*` and `#` (`555-1234` and `5551234` are one number). */
export function normaliseNumber(number: string): string {
  return number.replace(/[^0-9*#]/g, '');
}

/** Digit values each basic command accepts (V.250 §6; L, M, X as Hayes). */
const RANGES: Record<string, [number, number]> = { E: [0, 1], V: [0, 1], Q: [0, 1], X: [0, 4], L: [0, 3], M: [0, 3], Z: [0, 0], H: [0, 0], O: [0, 1], I: [0, 9] };
const AMPERSAND_RANGES: Record<string, [number, number]> = { C: [0, 1], D: [0, 3], F: [0, 0], K: [0, 6], W: [0, 1], V: [0, 0], Q: [0, 6], S: [0, 1] };

/** Execute one command line (its text up to, not including, S3). Never throws. */
export function executeCommandLine(settings: AtSettings, line: string, context: LineContext): AtOutcome {
  const effects: AtEffect[] = [];
  const fail = (): AtOutcome => ({ settings, effects, result: 'ERROR' });
  const upper = line.toUpperCase();
  if (!upper.startsWith('AT')) return fail();
  // Spaces are ignored (V.250 §5.2.1), in the dial string too (§6.3.1).
  let rest = upper.slice(2).replace(/\s+/g, '');
  const number = (): number | undefined => {
    const d = /^\d*/.exec(rest)![0];
    rest = rest.slice(d.length);
    if (d.length > 3) return undefined;
    return d === '' ? 0 : Number(d);
  };
  const inRange = (v: number | undefined, range: [number, number] | undefined): v is number => v !== undefined && range !== undefined && v >= range[0] && v <= range[1];
  const set = (change: Partial<AtSettings>) => (settings = { ...settings, ...change });
  for (;;) {
    rest = rest.replace(/^;+/, ''); // between extended commands (V.250 §5.4.1)
    if (rest === '') return { settings, effects, result: 'OK' };
    const c = rest[0]!;
    rest = rest.slice(1);
    switch (c) {
      case 'E': case 'V': case 'Q': case 'X': case 'L': case 'M': case 'Z': case 'H': case 'O': case 'I': {
        const v = number();
        if (!inRange(v, RANGES[c])) return fail();
        if (c === 'E') set({ echo: v === 1 });
        else if (c === 'V') set({ verbose: v === 1 });
        else if (c === 'Q') set({ quiet: v === 1 });
        else if (c === 'X') set({ resultSet: v });
        else if (c === 'Z') {
          settings = factorySettings();
          effects.push({ type: 'reset' });
        } else if (c === 'H') effects.push({ type: 'hangup' });
        else if (c === 'I') effects.push({ type: 'info', text: context.identity });
        else if (c === 'O') {
          if (context.call !== 'connected') return fail();
          effects.push({ type: 'online' });
          return { settings, effects };
        }
        break;
      }
      case 'T': case 'P':
        set({ dialMethod: c === 'T' ? 'tone' : 'pulse' });
        break;
      case 'A':
        // Commands after A on the line are ignored (V.250 §6.3.5).
        if (context.call === 'connected') return fail();
        effects.push({ type: 'answer' });
        return { settings, effects };
      case 'D': {
        // The rest of the line is the dial string (V.250 §6.3.1).
        const dial = parseDialString(rest, settings.dialMethod);
        if (!dial || context.call === 'connected') return fail();
        effects.push({ type: 'dial', ...dial });
        return { settings, effects };
      }
      case 'S': {
        const reg = number();
        if (reg === undefined || reg >= S_REGISTERS) return fail();
        if (rest.startsWith('?')) {
          rest = rest.slice(1);
          effects.push({ type: 'info', text: String(settings.s[reg]).padStart(3, '0') });
        } else if (rest.startsWith('=')) {
          rest = rest.slice(1);
          const v = number();
          // S3, S4 and S5 are characters of IA5 (V.250 §6.2.1-§6.2.3).
          if (v === undefined || v > (reg >= 3 && reg <= 5 ? 127 : 255)) return fail();
          const s = [...settings.s];
          s[reg] = v;
          set({ s });
        } else return fail();
        break;
      }
      case '&': {
        const k = rest[0] ?? '';
        rest = rest.slice(1);
        const v = number();
        if (!inRange(v, AMPERSAND_RANGES[k])) return fail();
        if (k === 'C') set({ dcdFollowsCarrier: v === 1 });
        else if (k === 'D') set({ dtrMode: v as AtSettings['dtrMode'] });
        else if (k === 'F') settings = factorySettings();
        break;
      }
      case '+':
      case '#': {
        const m = (c === '+' ? /^VCID=(\d)/ : /^CID=(\d)/).exec(rest);
        if (!m || Number(m[1]) > 2) return fail();
        rest = rest.slice(m[0].length);
        set({ callerId: m[1] !== '0' });
        break;
      }
      default:
        return fail();
    }
  }
}
