/**
 * Callback numbers: what may be dialled, how it is shown to the caller, and whether a number a
 * caller typed is allowed on a line. Pure.
 *
 * A number is a telephone number in the characters RAS accepts for one (raserror.h
 * ERROR_INVALID_CALLBACK_NUMBER: `0-9 T P W ( ) - @` and space) plus `* # , ! .`, or an IP
 * address with a port (`127.0.0.1:6400`, `[::1]:6400`) as the Hayes emulators of BBS software
 * dial it. Nothing else reaches the modem's command line: no `;`, no letters but the dial
 * modifiers, no control characters. At most RAS_MaxCallbackNumber (ras.h, 128) characters.
 */
import { isIP } from 'node:net';
import { patternMatches } from '../options/patterns.js';

/** ras.h RAS_MaxCallbackNumber. */
export const MAX_CALLBACK_NUMBER = 128;

export interface CallbackNumber {
  /** What follows ATDT and the line's dial prefix: separators removed, dial modifiers kept. */
  dial: string;
  /** What allow patterns are matched against and the caller is shown the end of: digits, `*`, `#` (or HOST:PORT). */
  digits: string;
  kind: 'phone' | 'address';
}

const PHONE = /^[0-9*#TPW,@!() .-]+$/;
const SEPARATORS = /[() .-]/g;
const IPV4_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/;
const IPV6_PORT = /^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/;

/** A number as typed or stored, or undefined when it cannot be dialled. */
export function parseCallbackNumber(text: string): CallbackNumber | undefined {
  const t = text.trim();
  if (t.length === 0 || t.length > MAX_CALLBACK_NUMBER) return undefined;
  const address = IPV4_PORT.exec(t) ?? IPV6_PORT.exec(t);
  if (address) {
    const host = address[1]!.toLowerCase();
    const port = Number(address[2]);
    if (!isIP(host) || port < 1 || port > 65535) return undefined;
    const dial = isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
    return { dial, digits: dial, kind: 'address' };
  }
  const upper = t.toUpperCase();
  if (!PHONE.test(upper)) return undefined;
  const digits = upper.replace(/[^0-9*#]/g, '');
  if (!/[0-9]/.test(digits)) return undefined;
  return { dial: upper.replace(SEPARATORS, ''), digits, kind: 'phone' };
}

/** Why `text` is not a callback number (for configuration and the CLI), or undefined. */
export function callbackNumberProblem(text: string): string | undefined {
  if (parseCallbackNumber(text)) return undefined;
  return `${JSON.stringify(text.slice(0, 40))} is not a callback number (digits with * # and the dial characters T P W , @ ! ( ) - . and space, or IP:PORT; at most ${MAX_CALLBACK_NUMBER})`;
}

/** The number as the caller hears it: all but its last digits hidden (`...-1234`). */
export function maskNumber(n: CallbackNumber): string {
  const keep = n.digits.length > 4 ? 4 : Math.max(1, n.digits.length - 2);
  return `...-${n.digits.slice(-keep)}`;
}

/** Dial prefixes a line may set (an outside line, a pause): the dial characters only. */
export const DIAL_PREFIX = /^[0-9*#TPW,@!]{0,16}$/i;

/** Whether a number a caller gave matches one of the line's allow patterns (none: nothing is allowed). */
export function numberAllowed(n: CallbackNumber, allow: readonly string[]): boolean {
  return allow.some((p) => patternMatches(p, n.digits));
}
