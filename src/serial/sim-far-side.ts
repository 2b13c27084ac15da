/**
 * The simulated modem's telephone side over TCP, so a caller in another process (e.g.
 * scripts/sim-caller.ts) can dial: a connection's first line may be `DIAL <number> [name]`
 * (else the defaults are used); after that bytes pass both ways once the modem answered;
 * closing the connection is the caller hanging up, and our hang-up closes it. A second caller
 * while the modem is busy hears `BUSY`.
 *
 * The line that owns the modem opens the far side when it starts and closes it when it pauses
 * or stops (src/serial/sim-line.ts).
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../logging.js';
import type { TcpAddress } from '../options/address.js';
import { LineOpenError } from './errors.js';
import type { SimCaller, SimModem } from './sim-modem.js';

const DIAL = /^DIAL(?:\s+(\S+))?(?:\s+(.+))?$/i;

/** Bytes a caller may send before the modem answers; more are dropped (no data passes before CONNECT). */
const EARLY_BYTES = 4096;
/** Bytes queued to a caller that does not read before the modem holds CTS off. */
const MAX_QUEUED = 64 * 1024;

export interface FarSide {
  /** Where it listens (the port the kernel picked for port 0). */
  readonly address: TcpAddress;
  /** Stop accepting callers; `hangUp`: also end the calls of connected ones. */
  close(hangUp: boolean): void;
}

/** Listen for callers of `modem` at `at`; rejects with LineOpenError when the address cannot be had. */
export function openFarSide(modem: SimModem, at: TcpAddress, logger: Logger): Promise<FarSide> {
  const log = logger.child({ area: 'line', modem: modem.name });
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    answerCaller(modem, socket, log);
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new LineOpenError(`tcp://${at.host}:${at.port} (far side of sim://${modem.name})`, err.message, { cause: err })));
    server.listen(at.port, at.host, () => {
      server.removeAllListeners('error');
      server.on('error', (err) => log.error('far side listener failed', { error: err.message }));
      const a = server.address();
      const address = typeof a === 'object' && a ? { host: at.host, port: a.port } : at;
      log.info('far side listening', { listen: `tcp://${at.host}:${address.port}` });
      resolve({ address, close: (hangUp) => closeFarSide(server, sockets, hangUp) });
    });
  });
}

function closeFarSide(server: Server, sockets: Set<Socket>, hangUp: boolean): void {
  server.close();
  if (hangUp) for (const s of sockets) s.destroy();
}

/** One TCP caller: read the DIAL line, ring the modem, then pass bytes both ways. */
function answerCaller(modem: SimModem, socket: Socket, log: Logger): void {
  socket.on('error', () => undefined);
  let head = '';
  let caller: SimCaller | undefined;
  let early: Buffer[] = [];
  let earlyBytes = 0;
  const keep = (bytes: Buffer) => {
    if (earlyBytes + bytes.length > EARLY_BYTES) return;
    early.push(bytes);
    earlyBytes += bytes.length;
  };
  const dial = (number?: string, name?: string) => {
    try {
      caller = modem.dial({ ...(number ? { number } : {}), ...(name ? { name } : {}) });
    } catch {
      socket.end('BUSY\r\n');
      return;
    }
    const c = caller;
    log.info('far side dialled', { callerNumber: c.options.number });
    // A caller that does not read is a far end applying flow control: the modem's buffer fills
    // and it holds CTS off until the caller reads again (the DTE's own bounded queue applies).
    let holding = false;
    const release = () => {
      if (!holding) return;
      holding = false;
      modem.releaseCts();
    };
    c.onReceive((bytes) => {
      socket.write(bytes);
      if (!holding && socket.writableLength > MAX_QUEUED) {
        holding = true;
        modem.holdCts();
        socket.once('drain', release);
      }
    });
    c.onEnd(() => {
      release();
      socket.end();
    });
    c.onConnect(() => {
      for (const b of early) c.type(b);
      early = [];
    });
  };
  socket.on('data', (chunk: Buffer) => {
    if (caller) {
      if (caller.state === 'connected') caller.type(chunk);
      else keep(chunk);
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
      if (rest) keep(Buffer.from(rest, 'latin1'));
    } else {
      dial();
      keep(Buffer.from(head, 'latin1'));
    }
  });
  socket.on('close', () => caller?.hangup());
}
