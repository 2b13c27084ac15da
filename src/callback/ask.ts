/**
 * Set By Caller: ask the caller for the number to call back, after the login. One field with
 * echo and line editing (src/terminal), bounded; what the caller typed is decided here
 * (an empty answer, a number the line may call, or a refused one). The call machine times the
 * question (machines/call.ts `asking`).
 */
import type { CallChannel } from '../serial/types.js';
import { LineDiscipline } from '../terminal/discipline.js';
import { crlf, printable } from '../terminal/output.js';
import { MAX_CALLBACK_NUMBER, numberAllowed, parseCallbackNumber } from './number.js';

/** What the caller's answer means for the callback. */
export type NumberAnswer =
  /** No callback: the session starts now. */
  | { kind: 'none' }
  /** Call back here (`source`: the caller typed it, or the default was taken). */
  | { kind: 'number'; number: string; source: 'caller' | 'default' }
  /** Not a number, or not one this line may call: `text` as typed (printable, bounded), for the log. */
  | { kind: 'refused'; text: string };

/** Decide on a typed answer: empty takes the default (or no callback); anything else must parse and be allowed. */
export function decideAnswer(typed: string, allow: readonly string[], defaultNumber: string | undefined): NumberAnswer {
  const text = typed.trim();
  if (text === '') return defaultNumber !== undefined ? { kind: 'number', number: defaultNumber, source: 'default' } : { kind: 'none' };
  const n = parseCallbackNumber(text);
  if (!n || !numberAllowed(n, allow)) return { kind: 'refused', text: printable(text).slice(0, 64) };
  return { kind: 'number', number: text, source: 'caller' };
}

export interface AskOptions {
  prompt: string;
  sevenBit?: boolean;
}

/** Prompt and read one line (^C starts it again); resolves with the text. `signal` stops listening. */
export function askLine(channel: CallChannel, o: AskOptions, signal: AbortSignal): Promise<string> {
  return new Promise((resolve) => {
    if (signal.aborted) return; // stopped before it began: nothing is listened to (as after an abort)
    const discipline = new LineDiscipline({ sevenBit: o.sevenBit ?? false });
    const open = () => {
      channel.write(crlf(`\n${o.prompt}`, { sevenBit: o.sevenBit ?? false }));
      discipline.setField({ echo: 'on', maxChars: MAX_CALLBACK_NUMBER });
    };
    let off: () => void = () => undefined;
    const stop = () => {
      off();
      signal.removeEventListener('abort', stop);
    };
    signal.addEventListener('abort', stop, { once: true });
    const take = (events: ReturnType<LineDiscipline['feed']>): void => {
      for (const e of events) {
        if (e.type === 'echo') channel.write(e.bytes);
        else if (e.type === 'line') {
          stop();
          resolve(e.text);
          return;
        } else if (e.type === 'abort') {
          open();
          return take(discipline.resume());
        }
      }
    };
    open();
    off = channel.onData((bytes) => take(discipline.feed(bytes)));
  });
}
