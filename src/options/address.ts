/** `tcp://HOST:PORT` addresses as the configuration writes them (lines, bridge, console). */
import { isIP } from 'node:net';
import { show, str, type Field } from './fields.js';

export interface TcpAddress {
  host: string;
  port: number;
}

const TCP_URL = /^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

export function parseTcpUrl(text: string): TcpAddress | undefined {
  const m = TCP_URL.exec(text.trim());
  if (!m) return undefined;
  const port = Number(m[2]);
  // Port 0: the system picks a free one (the line logs the one it got); tests use it.
  if (port > 65535) return undefined;
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

/** A `tcp://HOST:PORT` option, parsed to its host and port. */
export function tcpUrl<const O extends { doc: string; default?: string; required?: boolean; check?: (a: TcpAddress) => string | undefined }>(
  o: O,
): Field<TcpAddress, O extends { default: string } ? true : O extends { required: true } ? true : false> {
  const base = str({ doc: o.doc, required: o.required, type: '`tcp://HOST:PORT`', check: (v) => (parseTcpUrl(v) ? undefined : `${show(v)} is not tcp://HOST:PORT`), hint: suggestTcpUrl });
  return {
    ...base,
    defaultValue: o.default ? () => parseTcpUrl(o.default!)! : undefined,
    defaultText: o.default ? `\`${o.default}\`` : undefined,
    parse: (v, path, issues) => {
      const s = base.parse(v, path, issues);
      const a = s === undefined ? undefined : parseTcpUrl(s);
      if (!a) return undefined;
      const bad = o.check?.(a);
      return bad ? issues.add(path, bad) : a;
    },
  } as Field<TcpAddress, O extends { default: string } ? true : O extends { required: true } ? true : false>;
}

/** True for 127.0.0.0/8, ::1, ::ffff:127.x.y.z and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}

/** An IPv4 peer on a dual-stack socket is `::ffff:192.0.2.7`: the IPv4 address, as callers and operators write it. */
export function unmapIpv4(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
