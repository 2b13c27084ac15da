/**
 * The simulated modem's telephone side over TCP, so a caller in another process (e.g.
 * scripts/sim-caller.ts) can dial: a connection's first line may be `DIAL <number> [name]`
 * (else the defaults are used); after that bytes pass both ways once the modem answered;
 * closing the connection is the caller hanging up, and our hang-up closes it.
 */
import { createServer, type Server } from 'node:net';
import type { Logger } from '../logging.js';
import type { SimModem } from './sim-modem.js';

const DIAL = /^DIAL(?:\s+(\S+))?(?:\s+(.+))?$/i;

export function serveFarSide(modem: SimModem, at: { host: string; port: number }, logger: Logger): Server {
  const log = logger.child({ area: 'line', modem: modem.name });
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    let head = '';
    let caller: ReturnType<SimModem['dial']> | undefined;
    const pending: Buffer[] = [];
    const dial = (number?: string, name?: string) => {
      try {
        caller = modem.dial({ ...(number ? { number } : {}), ...(name ? { name } : {}) });
      } catch {
        socket.end('BUSY\r\n');
        return;
      }
      const c = caller;
      log.info('far side dialled', { callerNumber: c.options.number });
      c.onReceive((bytes) => socket.write(bytes));
      c.onEnd(() => socket.end());
      const flush = setInterval(() => {
        if (c.state === 'connected') {
          for (const b of pending.splice(0)) c.type(b);
          clearInterval(flush);
        } else if (c.state === 'ended') clearInterval(flush);
      }, 50);
    };
    socket.on('data', (chunk: Buffer) => {
      if (caller) {
        if (caller.state === 'connected') caller.type(chunk);
        else pending.push(chunk);
        return;
      }
      head += chunk.toString('latin1');
      const nl = head.search(/[\r\n]/);
      if (nl < 0 && head.length < 128) return;
      const first = nl < 0 ? head : head.slice(0, nl);
      const m = DIAL.exec(first.trim());
      if (m) {
        dial(m[1], m[2]);
        const rest = head.slice(nl + 1).replace(/^\n/, '');
        if (rest) pending.push(Buffer.from(rest, 'latin1'));
      } else {
        dial();
        pending.push(Buffer.from(head, 'latin1'));
      }
    });
    socket.on('close', () => caller?.hangup());
  });
  server.on('error', (err) => log.error('far side listener failed', { error: err.message }));
  server.listen(at.port, at.host, () => log.info('far side listening', { listen: `tcp://${at.host}:${at.port}` }));
  server.unref();
  return server;
}
