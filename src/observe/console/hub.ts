/**
 * Server-Sent Events clients (https://html.spec.whatwg.org/multipage/server-sent-events.html).
 * Each message is serialized once and written to every client. A client whose socket cannot
 * keep up (its unsent bytes would pass maxBufferBytes) is dropped, so memory never grows with a
 * slow or stalled browser; it reconnects by itself (EventSource) when it can.
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';

export interface SseHubOptions {
  logger: Logger;
  /** Clients at most; more get 503. Default 16. */
  maxClients?: number;
  /** Unsent bytes a client may hold; past this it is dropped. Default 1 MiB. */
  maxBufferBytes?: number;
  /** A comment line this often keeps proxies and tunnels from closing an idle stream. Default 15000 ms. */
  heartbeatMs?: number;
}

/** One SSE frame: `event:` line, one `data:` line per line of JSON (JSON.stringify emits none). */
export function sseFrame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export class SseHub {
  private readonly clients = new Set<ServerResponse>();
  private readonly maxClients: number;
  private readonly maxBufferBytes: number;
  private readonly heartbeat: NodeJS.Timeout;
  /** Clients dropped for being too slow (tests, diagnostics). */
  dropped = 0;

  constructor(private readonly o: SseHubOptions) {
    this.maxClients = o.maxClients ?? 16;
    this.maxBufferBytes = o.maxBufferBytes ?? 1024 * 1024;
    this.heartbeat = setInterval(() => this.write(': heartbeat\n\n'), o.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  get full(): boolean {
    return this.clients.size >= this.maxClients;
  }

  /** Take over a response as an event stream; `first` frames go to this client only. */
  add(res: ServerResponse, headers: Record<string, string>, first: string[]): void {
    res.writeHead(200, { ...headers, 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    // Reconnect after 2 s if the stream breaks (the EventSource default is browser-specific).
    res.write('retry: 2000\n\n');
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
    res.on('error', () => this.clients.delete(res));
    for (const f of first) this.send(res, f);
  }

  broadcast(event: string, data: unknown): void {
    if (this.clients.size === 0) return;
    this.write(sseFrame(event, data));
  }

  private write(frame: string): void {
    for (const res of this.clients) this.send(res, frame);
  }

  private send(res: ServerResponse, frame: string): void {
    if (res.destroyed || res.writableEnded) {
      this.clients.delete(res);
      return;
    }
    // More than maxBufferBytes still unsent: the client is not keeping up (memory per client
    // stays under maxBufferBytes plus one frame).
    if (res.writableLength > this.maxBufferBytes) {
      this.clients.delete(res);
      this.dropped++;
      this.o.logger.warn('console client too slow, dropped', { area: 'console', queuedBytes: res.writableLength });
      res.destroy();
      return;
    }
    res.write(frame);
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}
