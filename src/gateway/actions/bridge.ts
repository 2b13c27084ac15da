/**
 * `action: { bridge: tcp://HOST:PORT }`: join the caller to a TCP service, both directions,
 * until either side closes. Carrier loss aborts the signal, which closes the TCP side. A target
 * that does not answer rejects with BridgeConnectError (the call tells the caller and hangs up).
 */
import { connect, type Socket } from 'node:net';
import type { CallChannel } from '../../serial/types.js';
import type { Logger } from '../../logging.js';
import { formatTcpUrl, type TcpAddress } from '../../options/address.js';
import { BridgeConnectError } from './errors.js';

export interface BridgeOptions {
  target: TcpAddress;
  /** Seconds to wait for the connection. */
  connectTimeout: number;
  logger: Logger;
}

export function runBridge(channel: CallChannel, o: BridgeOptions, signal: AbortSignal): Promise<void> {
  const target = formatTcpUrl(o.target);
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const socket: Socket = connect({ host: o.target.host, port: o.target.port, noDelay: true });
    let connected = false;
    let settled = false;
    const cleanups: (() => void)[] = [];
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      for (const c of cleanups) c();
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    const onAbort = () => finish();
    signal.addEventListener('abort', onAbort, { once: true });
    cleanups.push(() => signal.removeEventListener('abort', onAbort));

    const timer = setTimeout(() => finish(new BridgeConnectError(target, `no answer in ${o.connectTimeout} s`)), o.connectTimeout * 1000);
    cleanups.push(() => clearTimeout(timer));
    // What the caller types while we connect is kept and sent first.
    const early: Buffer[] = [];
    cleanups.push(
      channel.onData((bytes) => {
        if (connected) socket.write(bytes);
        else early.push(bytes);
      }),
    );
    socket.once('connect', () => {
      connected = true;
      clearTimeout(timer);
      o.logger.info('bridge connected', { area: 'action', target });
      for (const b of early.splice(0)) socket.write(b);
    });
    socket.on('data', (bytes: Buffer) => {
      channel.write(bytes);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (!connected) finish(new BridgeConnectError(target, err.code ?? err.message, { cause: err }));
      else {
        o.logger.warn('bridge connection error', { area: 'action', target, code: err.code });
        finish();
      }
    });
    socket.once('close', () => {
      if (connected) o.logger.info('bridge closed by the service', { area: 'action', target });
      finish();
    });
    cleanups.push(channel.onEnd(() => finish()));
  });
}
