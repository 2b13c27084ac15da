/**
 * The banner ("issue" text) with getty-style escapes (after mgetty's issue file and agetty's
 * issue escapes):
 *
 *   \l  line id           \L  device name        \C  call id
 *   \d  date YYYY-MM-DD   \t  time HH:MM:SS      (local time)
 *   \N  caller number     \n  caller name        \b  CONNECT speed
 *   \\  a backslash
 *
 * An unknown escape is kept as typed; an unknown value is empty. Values from the line (caller
 * ID, device names) are reduced to printable characters.
 */
import type { CallerId } from '../serial/types.js';
import { printable } from '../terminal/output.js';

export interface IssueValues {
  lineId: string;
  deviceName: string;
  callId: string;
  callerId?: CallerId;
  connectSpeed?: number;
  now: Date;
}

const two = (n: number) => String(n).padStart(2, '0');

export function expandIssue(text: string, v: IssueValues): string {
  return text.replace(/\\(.)/gs, (whole, c: string) => {
    switch (c) {
      case 'l': return printable(v.lineId);
      case 'L': return printable(v.deviceName);
      case 'C': return printable(v.callId);
      case 'd': return `${v.now.getFullYear()}-${two(v.now.getMonth() + 1)}-${two(v.now.getDate())}`;
      case 't': return `${two(v.now.getHours())}:${two(v.now.getMinutes())}:${two(v.now.getSeconds())}`;
      case 'N': return printable(v.callerId?.number ?? '');
      case 'n': return printable(v.callerId?.name ?? '');
      case 'b': return v.connectSpeed === undefined ? '' : String(v.connectSpeed);
      case '\\': return '\\';
      default: return whole;
    }
  });
}
