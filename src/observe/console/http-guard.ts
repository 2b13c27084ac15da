/**
 * Request checks of the console: loopback binding, Host header (DNS rebinding) and the headers
 * every answer carries. The console is read-only and has no authentication: loopback plus an
 * SSH tunnel is the intended way in (docs/console.md).
 */
import { isIP } from 'node:net';
import { isLoopbackHost } from '../../options/address.js';

export { isLoopbackHost };

/** The host name of a Host header (`[::1]:8023` -> `::1`, `localhost:8023` -> `localhost`). */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  const colon = h.lastIndexOf(':');
  return colon >= 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

/**
 * A DNS-rebinding page reaches us under the attacker's domain name, so only names we know are
 * answered: IP literals (no DNS involved), `localhost` and `*.localhost`, and the configured extras.
 */
export function hostAllowed(header: string | undefined, extra: readonly string[] = []): boolean {
  if (!header) return false;
  const name = hostName(header);
  if (!name) return false;
  if (isIP(name) !== 0) return true;
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  return extra.some((e) => e.toLowerCase() === name);
}

/** Headers on every answer: same-origin only, nothing inline, nothing cached, not framable. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
};
