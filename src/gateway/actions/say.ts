/** Messages the gateway itself says to a caller (after the dialogue): CRLF-framed text. */
import type { CallChannel } from '../../serial/types.js';

export function say(channel: CallChannel, text: string): void {
  if (!text || channel.ended) return;
  channel.write(Buffer.from(`\r\n${text.replace(/\r?\n/g, '\r\n')}\r\n`, 'latin1'));
}
