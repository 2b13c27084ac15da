/**
 * A TCP line: `listen: tcp://HOST:PORT`, each connection one call. Mode 'telnet' answers
 * option negotiation (src/serial/telnet.ts) so a telnet client lets us echo and sends
 * characters as typed; mode 'raw' passes bytes untouched (ser2net, device servers).
 */
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../observe/logger.js';
import { errorSummary } from '../errors.js';
import { BasicCallChannel } from './call-channel.js';
import { realClock, type LineClock } from './clock.js';
import { LineOpenError } from './errors.js';
import { TelnetSession } from './telnet.js';
import { Opt } from './telnet-codes.js';
import type { Line, LineState, LineStatus } from './types.js';

export interface TcpLineOptions {
  id: string;
  host: string;
  port: number;
  /** 'telnet' (default) or 'raw'. */
  mode?: 'telnet' | 'raw';
  /** Most calls at once; excess connections are told busy and closed. Default 0 = no limit. */
  maxCalls?: number;
  /** Bytes queued to a caller that does not read before we cut it off. Default 256 KiB. */
  maxWriteQueue?: number;
  /** How long to wait for the client's answer to WILL ECHO before handing out the call. Default 500 ms. */
  negotiationMs?: number;
  logger: Logger;
  clock?: LineClock;
}

interface ActiveCall {
  socket: Socket;
  channel: BasicCallChannel;
}

export class TcpLine extends EventEmitter implements Line {
  readonly id: string;
  private server?: Server;
  private state: LineState = 'closed';
  private lastError?: string;
  private readonly calls = new Set<ActiveCall>();
  private callCount = 0;
  private readonly clock: LineClock;
  private readonly log: Logger;

  constructor(private readonly options: TcpLineOptions) {
    super();
    this.id = options.id;
    this.clock = options.clock ?? realClock;
    this.log = options.logger.child({ line: options.id, module: 'tcp-line' });
  }

  status(): LineStatus {
    const s: LineStatus = { id: this.id, state: this.state, activeCalls: this.calls.size };
    if (this.lastError) s.lastError = this.lastError;
    return s;
  }

  /** The bound port (useful with port 0). */
  get port(): number | undefined {
    const a = this.server?.address();
    return typeof a === 'object' && a ? a.port : undefined;
  }

  start(): Promise<void> {
    if (this.server) return Promise.resolve();
    this.setState('opening');
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', (err) => {
        this.server = undefined;
        const e = new LineOpenError(`tcp://${this.options.host}:${this.options.port}`, err.message, { cause: err });
        this.lastError = e.message;
        this.setState('failed');
        reject(e);
      });
      server.listen(this.options.port, this.options.host, () => {
        server.removeAllListeners('error');
        server.on('error', (err) => this.log.error('listener error', { error: errorSummary(err) }));
        this.log.info('listening', { listen: `tcp://${this.options.host}:${this.port}`, mode: this.options.mode ?? 'telnet' });
        this.setState('idle');
        resolve();
      });
    });
  }

  /** Stop accepting (the listener closes); calls in progress go on. start() listens again. */
  pause(): void {
    if (!this.server) return;
    this.server.close();
    this.server = undefined;
    this.log.info('paused: not accepting calls');
    this.setState('closed');
  }

  async stop(): Promise<void> {
    this.pause();
    await Promise.all([...this.calls].map((c) => { c.channel.finish('shutdown'); return c.channel.hangup(); }));
    this.setState('closed');
  }

  private setState(state: LineState): void {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', this.status());
  }

  private accept(socket: Socket): void {
    const peer = `tcp://${socket.remoteFamily === 'IPv6' ? `[${socket.remoteAddress}]` : socket.remoteAddress}:${socket.remotePort}`;
    const max = this.options.maxCalls ?? 0;
    if (max > 0 && this.calls.size >= max) {
      this.log.warn('busy: call refused', { peer, activeCalls: this.calls.size });
      socket.on('error', () => undefined);
      socket.end('\r\nBUSY: all lines in use, try again later\r\n');
      this.clock.setTimeout(() => socket.destroy(), 2000);
      return;
    }
    const callId = `${this.id}-${++this.callCount}`;
    const log = this.log.child({ call: callId });
    const telnet = (this.options.mode ?? 'telnet') === 'telnet' ? new TelnetSession() : undefined;
    const maxQueue = this.options.maxWriteQueue ?? 256 * 1024;
    let negotiated = !telnet;
    let emitted = false;

    const channel: BasicCallChannel = new BasicCallChannel({
      lineId: this.id,
      callId,
      deviceName: peer,
      send: (bytes) => {
        if (socket.destroyed) return;
        const out = telnet ? telnet.encode(bytes) : bytes;
        if (socket.writableLength + out.length > maxQueue) {
          // The caller is not reading: cut it off rather than buffer without bound.
          log.warn('caller not reading: write queue full, hanging up', { queued: socket.writableLength });
          channel.finish('hangup');
          socket.destroy();
          return;
        }
        socket.write(out);
      },
      hangup: () =>
        new Promise<void>((resolve) => {
          if (socket.destroyed) return resolve();
          socket.once('close', () => resolve());
          socket.end();
          this.clock.setTimeout(() => socket.destroy(), 2000);
        }),
      ...(telnet ? { echoSuppressed: () => telnet.enabled('us', Opt.ECHO) } : {}),
    });
    const call: ActiveCall = { socket, channel };
    this.calls.add(call);
    this.setState('connected');
    log.info('call connected', { peer });

    const emitCall = () => {
      if (emitted || channel.ended) return;
      emitted = true;
      this.emit('call', channel);
    };

    socket.on('data', (chunk: Buffer) => {
      if (!telnet) return channel.deliver(chunk);
      const r = telnet.feed(chunk);
      if (r.reply.length && !socket.destroyed) socket.write(r.reply);
      for (const ev of r.events) {
        if (ev.type === 'error') log.warn('telnet protocol error', { error: errorSummary(ev.error) });
        else if (ev.type === 'option') log.debug('telnet option', { side: ev.side, option: ev.option, enabled: ev.enabled });
        else if (ev.type === 'ttype') log.debug('telnet terminal type', { terminal: ev.name });
        else log.debug('telnet window size', { width: ev.width, height: ev.height });
      }
      if (!negotiated && !telnet.pending('us', Opt.ECHO)) negotiated = true;
      if (negotiated) emitCall();
      channel.deliver(r.data);
    });
    socket.on('error', (err) => log.debug('socket error', { error: errorSummary(err) }));
    socket.on('close', () => {
      this.calls.delete(call);
      channel.finish('carrier-lost');
      log.info('call ended', { calls: this.calls.size });
      if (this.calls.size === 0) this.setState(this.server ? 'idle' : 'closed');
    });

    if (telnet) {
      socket.write(telnet.start());
      this.clock.setTimeout(emitCall, this.options.negotiationMs ?? 500);
    } else emitCall();
  }
}
