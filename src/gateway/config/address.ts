/** `tcp://HOST:PORT` addresses as the configuration writes them (lines, bridge, console). */

export interface TcpAddress {
  host: string;
  port: number;
}

const TCP_URL = /^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

export function parseTcpUrl(text: string): TcpAddress | undefined {
  const m = TCP_URL.exec(text.trim());
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  const host = m[1]!.startsWith('[') ? m[1]!.slice(1, -1) : m[1]!;
  return { host, port };
}

export function formatTcpUrl(a: TcpAddress): string {
  return `tcp://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}

/** Guess what was meant from a near miss, e.g. `tcp:/127.0.0.1:2323` or `127.0.0.1:2323`. */
export function suggestTcpUrl(text: string): string | undefined {
  const m = /(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*[A-Za-z0-9])\s*:\s*(\d{1,5})\s*\/?$/.exec(text.trim());
  if (!m) return 'tcp://127.0.0.1:2323';
  const port = Number(m[2]);
  return `tcp://${m[1]}:${port >= 1 && port <= 65535 ? port : 2323}`;
}
