/**
 * Loopback helpers for tests. Servers a test owns (and daemons it starts) listen on port 0 and
 * report the port the kernel gave them; nothing here hands out a port for someone else to bind.
 */
import { createServer } from 'node:net';

/**
 * A loopback port on which nothing listens: bound on port 0, then closed again. For callers that
 * must be refused (a dead DC, a bridge target that is down). Never bind it afterwards: another
 * process may take it between the close and that bind.
 */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolve when `check` returns truthy, polling every `everyMs` (real time: only for real peers). */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 10_000, everyMs = 25): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
