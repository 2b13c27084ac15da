/**
 * Request checks of the console and the inspector relay: the Host header (DNS rebinding), the
 * Origin of a state-changing request or a WebSocket upgrade (cross-site requests), and the
 * headers every answer carries.
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

/**
 * A request made by one of our own pages: its Origin is this server as the browser reached it
 * (scheme, and the Host header it sent, port included: `http://localhost:9023` through a tunnel).
 * A cross-site page cannot forge Origin; a request without one is not from a page and is refused
 * too (state-changing requests and upgrades come from our pages only).
 */
export function sameOrigin(origin: string | undefined, host: string | undefined, secure: boolean): boolean {
  if (!origin || !host) return false;
  return origin.trim().toLowerCase() === `${secure ? 'https' : 'http'}://${host.trim().toLowerCase()}`;
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
