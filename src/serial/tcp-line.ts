/**
 * A TCP line: `listen: tcp://HOST:PORT`, each connection one call. Mode 'telnet' answers
 * option negotiation (src/serial/telnet.ts) so a telnet client lets us echo and sends
 * characters as typed; mode 'raw' passes bytes untouched (ser2net, device servers).
 */
import { EventEmitter } from 'node:events';
import { createActor, fromCallback, type Actor, type InspectionEvent, type Observer } from 'xstate';
import { LINE_TAGS } from '../../machines/line.js';
import { tcpLineMachine, type TcpLineEvent } from '../../machines/tcpLine.js';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../logging.js';
import { errorSummary } from '../errors.js';
import { LogThrottle } from '../observe/throttle.js';
import { formatTcpUrl, unmapIpv4 } from '../options/address.js';
import type { TcpLineConfig } from './options.js';
import { BasicCallChannel } from './call-channel.js';
import { realClock, type LineClock } from './clock.js';
import { LineOpenError } from './errors.js';
import { TelnetSession } from './telnet.js';
import { Opt } from './telnet-codes.js';
import type { CallScreen, Line, LineState, LineStatus } from './types.js';

export interface TcpLineDeps {
  logger: Logger;
  clock?: LineClock;
  /** Receives the line machine's inspection events (the transition log, the inspector). */
  inspect?: Observer<InspectionEvent>;
  /** Bytes queued to a caller that does not read before we cut it off. Default WRITE_QUEUE_LIMIT. */
  maxWriteQueue?: number;
  /** How long to wait for the client's answer to WILL ECHO before handing out the call. Default 500 ms. */
  negotiationMs?: number;
  /** Asked before a connection becomes a call: a refused caller hears one line and is closed. */
  screen?: CallScreen;
}

/** Bytes queued to one caller (telnet replies included) before a caller who does not read is cut off. */
export const WRITE_QUEUE_LIMIT = 256 * 1024;

interface ActiveCall {
  socket: Socket;
  channel: BasicCallChannel;
  source: string;
}

/** The address a connection comes from, one spelling per host (IPv4-mapped IPv6 as IPv4). */
export function sourceAddress(socket: Pick<Socket, 'remoteAddress'>): string {
  return unmapIpv4(socket.remoteAddress ?? 'unknown');
}

export class TcpLine extends EventEmitter implements Line {
  readonly id: string;
  private server?: Server;
  private state: LineState = 'closed';
  private readonly calls = new Set<ActiveCall>();
  /** Calls in progress per source address: at most one entry per active call. */
  private readonly perSource = new Map<string, number>();
  private callCount = 0;
  private readonly clock: LineClock;
  private readonly log: Logger;
  private readonly refusals: LogThrottle;
  private readonly actor: Actor<typeof tcpLineMachine>;
  private lastOpenError?: Error;
  /** The refusal text while out of service. */
  private outOfService: string | undefined;

  constructor(private readonly config: TcpLineConfig, private readonly deps: TcpLineDeps) {
    super();
    this.id = config.id;
    this.clock = deps.clock ?? realClock;
    this.log = deps.logger.child({ line: config.id, area: 'line' });
    this.refusals = new LogThrottle(this.log, 60_000, () => this.clock.now());
    const machine = tcpLineMachine.provide({
      actors: { listener: fromCallback<TcpLineEvent>(({ sendBack }) => this.listen(sendBack)) },
    });
    this.actor = createActor(machine, { ...(deps.inspect ? { inspect: deps.inspect } : {}) });
    this.actor.subscribe({
      next: (snap) => {
        const state: LineState = LINE_TAGS.find((tag) => snap.hasTag(tag)) ?? this.state;
        if (state !== this.state) {
          this.state = state;
          this.emit('state', this.status());
        }
      },
      error: (err) => this.log.error('line machine failed', { error: errorSummary(err) }),
    });
    this.actor.start();
  }

  status(): LineStatus {
    const s: LineStatus = { id: this.id, state: this.state, activeCalls: this.calls.size };
    const lastError = this.actor.getSnapshot().context.lastError;
    if (lastError) s.lastError = lastError;
    return s;
  }

  /** The bound port (useful with port 0). */
  get port(): number | undefined {
    const a = this.server?.address();
    return typeof a === 'object' && a ? a.port : undefined;
  }

  /** Listen; resolves when the line serves, rejects (LineOpenError) when it cannot bind. */
  start(): Promise<void> {
    const snap = this.actor.getSnapshot();
    if (snap.hasTag('idle') || snap.hasTag('connected')) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const sub = this.actor.subscribe((s) => {
        if (s.hasTag('idle') || s.hasTag('connected')) {
          sub.unsubscribe();
          resolve();
        } else if (s.hasTag('failed')) {
          sub.unsubscribe();
          reject(this.lastOpenError ?? new LineOpenError(formatTcpUrl(this.config.listen), s.context.lastError ?? 'cannot listen'));
        }
      });
      this.actor.send({ type: 'START' });
    });
  }

  /**
   * Out of service (an operator's `rasgate line disable`): the line keeps listening, and every
   * new caller hears `text` (one line) and is closed before any call exists; calls in progress
   * go on. undefined puts it back in service.
   */
  setOutOfService(text: string | undefined): void {
    this.outOfService = text;
  }

  /** Stop accepting (the listener closes); calls in progress go on. start() listens again. */
  pause(): void {
    this.actor.send({ type: 'PAUSE' });
  }

  async stop(): Promise<void> {
    this.actor.send({ type: 'STOP' });
    await Promise.all([...this.calls].map((c) => { c.channel.finish('shutdown'); return c.channel.hangup(); }));
  }

  /** The listener actor's body: listen while the line is open, close on the way out. */
  private listen(sendBack: (event: TcpLineEvent) => void): () => void {
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server = server;
    server.once('error', (err) => {
      const e = new LineOpenError(formatTcpUrl(this.config.listen), err.message, { cause: err });
      this.lastOpenError = e;
      if (this.server === server) this.server = undefined;
      sendBack({ type: 'LISTEN_FAILED', error: e.message });
    });
    server.listen(this.config.listen.port, this.config.listen.host, () => {
      server.removeAllListeners('error');
      server.on('error', (err) => this.log.error('listener error', { error: errorSummary(err) }));
      this.lastOpenError = undefined;
      this.log.info('listening', { listen: formatTcpUrl({ host: this.config.listen.host, port: this.port ?? this.config.listen.port }), mode: this.config.mode });
      sendBack({ type: 'LISTENING' });
    });
    return () => {
      if (this.server !== server) return;
      this.server = undefined;
      server.close();
      this.log.info('not accepting calls');
    };
  }

  /** One line of text and close, before any call exists (busy, too many from one address). */
  private refuse(socket: Socket, kind: string, text: string, meta: Record<string, unknown>, level: 'warn' | 'info' = 'warn'): void {
    this.refusals.note(level, kind, `call refused: ${kind}`, meta);
    socket.on('error', () => undefined);
    socket.end(`\r\n${text}\r\n`);
    // A refused caller that does not read must not keep the socket either.
    this.clock.setTimeout(() => socket.destroy(), 2000);
  }

  private accept(socket: Socket): void {
    const peer = `tcp://${socket.remoteFamily === 'IPv6' ? `[${socket.remoteAddress}]` : socket.remoteAddress}:${socket.remotePort}`;
    const source = sourceAddress(socket);
    if (this.outOfService !== undefined) {
      this.refuse(socket, 'out of service', this.outOfService, { peer }, 'info');
      return;
    }
    const max = this.config.maxCalls;
    if (max > 0 && this.calls.size >= max) {
      this.refuse(socket, 'busy', 'BUSY: all lines in use, try again later', { peer, activeCalls: this.calls.size });
      return;
    }
    const perSourceMax = this.config.maxCallsPerSource;
    const fromSource = this.perSource.get(source) ?? 0;
    if (perSourceMax > 0 && fromSource >= perSourceMax) {
      this.refuse(socket, 'too many calls from one address', 'BUSY: too many calls from your address, try again later', { peer, fromSource });
      return;
    }
    const verdict = this.deps.screen?.(this.id, { kind: 'tcp', address: source });
    if (verdict && !verdict.answer) {
      this.refuse(socket, 'source penalised', verdict.refusal, { peer });
      return;
    }
    this.perSource.set(source, fromSource + 1);
    const callId = `${this.id}-${++this.callCount}`;
    const log = this.log.child({ call: callId });
    const telnet = this.config.mode === 'telnet' ? new TelnetSession() : undefined;
    const maxQueue = this.deps.maxWriteQueue ?? WRITE_QUEUE_LIMIT;
    let negotiated = !telnet;
    let emitted = false;
    let cutOff = false;

    /**
     * Every byte to this caller, our text and telnet's replies alike, goes through here: past
     * maxQueue unsent bytes the caller is not reading, and is cut off. The socket's close event
     * ends the call afterwards (never from inside this write).
     */
    const toCaller = (bytes: Uint8Array): void => {
      if (socket.destroyed || cutOff || bytes.length === 0) return;
      if (socket.writableLength + bytes.length > maxQueue) {
        cutOff = true;
        log.warn('caller not reading: write queue full, hanging up', { queued: socket.writableLength, limit: maxQueue });
        socket.destroy();
        return;
      }
      socket.write(bytes);
    };

    const channel: BasicCallChannel = new BasicCallChannel({
      lineId: this.id,
      callId,
      deviceName: peer,
      peer: source,
      send: (bytes) => toCaller(telnet ? telnet.encode(bytes) : bytes),
      hangup: () =>
        new Promise<void>((resolve) => {
          if (socket.destroyed) return resolve();
          socket.once('close', () => resolve());
          socket.end();
          this.clock.setTimeout(() => socket.destroy(), 2000);
        }),
      ...(telnet ? { echoSuppressed: () => telnet.enabled('us', Opt.ECHO) } : {}),
    });
    const call: ActiveCall = { socket, channel, source };
    let protocolErrors = 0;
    this.calls.add(call);
    this.actor.send({ type: 'CALL_STARTED' });
    log.debug('call connected', { peer }); // the call's own records say it at info

    const emitCall = () => {
      if (emitted || channel.ended) return;
      emitted = true;
      this.emit('call', channel);
    };

    socket.on('data', (chunk: Buffer) => {
      if (!telnet) return channel.deliver(chunk);
      const r = telnet.feed(chunk);
      toCaller(r.reply);
      for (const ev of r.events) {
        if (ev.type === 'error') {
          // A caller decides how many errors it sends: the first is a record, the rest a count (at the end).
          if (++protocolErrors === 1) log.warn('telnet protocol error', { error: errorSummary(ev.error), note: 'further errors on this call are counted, not logged' });
        }
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
      const left = (this.perSource.get(source) ?? 1) - 1;
      if (left > 0) this.perSource.set(source, left);
      else this.perSource.delete(source);
      channel.finish(cutOff ? 'overrun' : 'carrier-lost');
      if (protocolErrors > 1) log.warn('telnet protocol errors on this call', { count: protocolErrors });
      log.debug('call ended', { calls: this.calls.size });
      this.actor.send({ type: 'CALL_ENDED' });
    });

    if (telnet) {
      toCaller(telnet.start());
      this.clock.setTimeout(emitCall, this.deps.negotiationMs ?? 500);
    } else emitCall();
  }
}
