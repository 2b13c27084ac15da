/**
 * A server's listen() as a promise: resolves once it listens, rejects with the bind error
 * (EADDRINUSE, EACCES, a unix path too long); later errors are the caller's 'error' handler's.
 */
import type { Server } from 'node:net';

export function listening(server: Server, listen: (ready: () => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    listen(() => {
      server.off('error', reject);
      resolve();
    });
  });
}
