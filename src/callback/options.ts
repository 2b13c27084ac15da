/**
 * A line's `callback:` settings: whether users whose policy asks for a callback are called back
 * on this line, how the line dials (delay, timeout, attempts, prefix), which numbers a caller
 * may give, and whether the callback leg logs in again. Only modem lines can call back; the
 * gateway's schema refuses `callback:` on a TCP line.
 */
import { bool, list, num, obj, show, str, type Infer } from '../options/fields.js';
import { patternProblem } from '../options/patterns.js';
import { DIAL_PREFIX } from './number.js';

const seconds = <const D extends number>(doc: string, def: D, min: number, max: number) => num({ doc, default: def, min, max, unit: 'seconds' });

/** Allow patterns one line takes at most. */
export const MAX_CALLBACK_ALLOW = 256;

export const callbackLineFields = {
  offered: bool({ doc: 'call back the users whose policy asks for it (Preset, Set By Caller); false: a Preset user is refused on this line, a Set By Caller user goes on without', default: true }),
  delaySeconds: seconds("after the hang-up, wait this long before dialling (RAS's callback time: the caller's modem goes back to answering)", 5, 0, 600),
  answerTimeoutSeconds: seconds('ATDT to CONNECT; past it the attempt is abandoned with a hang-up (keep it above the modem S7)', 60, 1, 600),
  attempts: num({ doc: 'dial attempts before the callback is given up (BUSY, NO ANSWER, NO CARRIER, NO DIALTONE, timeout)', default: 3, min: 1, max: 10, integer: true }),
  retryDelaySeconds: seconds('wait between dial attempts', 10, 0, 600),
  dialPrefix: str({ doc: 'dialled before every number, after ATDT (an outside line, a pause: `9,`); dial characters only', default: '', empty: true, check: (v) => (DIAL_PREFIX.test(v) ? undefined : `${show(v)} is not a dial prefix (at most 16 of 0-9 * # T P W , @ !)`) }),
  allow: list(str({ doc: '', required: true, check: patternProblem }), {
    doc: 'numbers a caller may give (Set By Caller), matched against their digits (or IP:PORT): `*`, `?` wildcards or `/regex/`; empty: none, the caller can only go on without a callback (or take the default number)',
    default: [],
    maxItems: MAX_CALLBACK_ALLOW,
  }),
  reauthenticate: bool({ doc: 'on the callback, the login dialogue runs again and only the account called back may log in; false: the line action starts as soon as the callback connects', default: true }),
};

export const callbackLineField = obj(callbackLineFields, { doc: 'modem lines: call back users whose policy asks for it (absent: no callback on this line)' });

export type CallbackLineConfig = Infer<typeof callbackLineFields>;
