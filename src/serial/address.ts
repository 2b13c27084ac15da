/** `tcp://HOST:PORT` addresses of lines (listen, a simulated modem's far side and dial plan). */
import { OptionError } from '../errors.js';

export interface TcpAddress {
  host: string;
  port: number;
}

const TCP_URL = /^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[^:/[\]]+):(\d{1,5})$/;

/** `tcp://HOST:PORT` (IPv6 as `tcp://[::1]:2323`), or undefined. Port 0 is allowed (the kernel picks). */
export function parseTcpAddress(text: string): TcpAddress | undefined {
  const m = TCP_URL.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) return undefined;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/** Parse `tcp://HOST:PORT`; a bad address throws OptionError naming `key`. */
export function parseListen(listen: string, key = 'listen'): TcpAddress {
  const a = parseTcpAddress(listen);
  if (!a) throw new OptionError(key, `must look like tcp://HOST:PORT, got ${JSON.stringify(listen)}`);
  return a;
}
