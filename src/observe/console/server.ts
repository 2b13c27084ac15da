/**
 * rasgate's own offline console: a read-only page served from the process (no CDN, no external
 * font or script), updated live over Server-Sent Events. It shows the lines, the counters, the
 * recent calls and the four statecharts with the states live actors occupy.
 *
 *   GET /             the page            GET /api/status    lines, counters, recent calls, live states
 *   GET /app.js       its script          GET /api/machines  the statecharts (definitions)
 *   GET /style.css    its style           GET /events        SSE: `status`, `live` (coalesced)
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InspectionEvent, Observer } from 'xstate';
import { OptionError, errorSummary } from '../../errors.js';
import type { Logger } from '../logger.js';
import { APP_JS } from './assets/app.js';
import { PAGE_HTML } from './assets/page.js';
import { STYLE_CSS } from './assets/style.js';
import { SECURITY_HEADERS, hostAllowed, isLoopbackHost } from './http-guard.js';
import { SseHub, sseFrame } from './hub.js';
import { LiveStates } from './live.js';
import { type ConsoleSource, livePayload, machinesPayload, statusPayload } from './payloads.js';

export interface ConsoleOptions {
  /** Interface to bind. Loopback unless allowRemote is set. */
  host: string;
  /** TCP port; 0 picks a free one (see RunningConsole.url). */
  port: number;
  logger: Logger;
  source: ConsoleSource;
  /** Bind a non-loopback address (logged as a warning: the console has no authentication). Default false. */
  allowRemote?: boolean;
  /** Host header names answered besides IP literals and localhost (e.g. the gateway's DNS name). Default none. */
  allowedHosts?: readonly string[];
  /** Snapshots go to browsers at most this often. Default 100 ms. */
  coalesceMs?: number;
  /** The source's status and counters are read this often. Default 1000 ms. */
  pollMs?: number;
  /** SSE clients at most. Default 16. */
  maxClients?: number;
  /** Unsent bytes per client; past this it is dropped. Default 1 MiB. */
  maxBufferBytes?: number;
  /** SSE heartbeat comment interval. Default 15000 ms. */
  heartbeatMs?: number;
  /** More paths on the same listener (`/metrics`, `/healthz`): true when answered. Default none. */
  routes?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
}

export interface RunningConsole {
  /** The page (`http://127.0.0.1:8023/`). */
  url: string;
  /** Put into the actors' inspect chain (combineInspect): live states come from it. */
  observer: Observer<InspectionEvent>;
  close(): Promise<void>;
}

const ASSETS: Record<string, { type: string; body: string }> = {
  '/': { type: 'text/html; charset=utf-8', body: PAGE_HTML },
  '/app.js': { type: 'text/javascript; charset=utf-8', body: APP_JS },
  '/style.css': { type: 'text/css; charset=utf-8', body: STYLE_CSS },
};

export async function startConsole(o: ConsoleOptions): Promise<RunningConsole> {
  const log = o.logger.child({ area: 'console' });
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new OptionError('console.listen', `port ${String(o.port)} is not 0..65535`);
  if (!isLoopbackHost(o.host)) {
    if (!o.allowRemote) throw new OptionError('console.listen', `${o.host} is not a loopback address: the console has no authentication (use an SSH tunnel, or pass allowRemote)`);
    log.warn('console bound to a non-loopback address: anyone who can reach it sees the gateway (no authentication)', { host: o.host });
  }
  const coalesceMs = o.coalesceMs ?? 100;
  const hub = new SseHub({ logger: log, maxClients: o.maxClients, maxBufferBytes: o.maxBufferBytes, heartbeatMs: o.heartbeatMs });

  // Coalescing: changes mark the console dirty; one flush per coalesceMs sends what changed.
  let timer: NodeJS.Timeout | undefined;
  let lastFlush = 0;
  let sentStatus = '';
  let sentLive = '';
  let statusFailing = false; // log a failing source once, not at every poll
  const readStatus = () => {
    try {
      const s = statusPayload(o.source);
      statusFailing = false;
      return s;
    } catch (err) {
      if (!statusFailing) log.error('console: reading the gateway status failed', { err: errorSummary(err) });
      statusFailing = true;
      return undefined;
    }
  };
  const flush = () => {
    timer = undefined;
    lastFlush = Date.now();
    if (hub.size === 0) return;
    live.sweep();
    const liveNow = livePayload(live.snapshot());
    const liveText = JSON.stringify(liveNow);
    if (liveText !== sentLive) {
      sentLive = liveText;
      hub.broadcast('live', liveNow);
    }
    const status = readStatus();
    if (!status) return;
    // `at` changes every time: compare without it.
    const statusText = JSON.stringify({ ...status, at: undefined });
    if (statusText !== sentStatus) {
      sentStatus = statusText;
      hub.broadcast('status', status);
    }
  };
  const markDirty = () => {
    if (timer || hub.size === 0) return;
    timer = setTimeout(flush, Math.max(0, lastFlush + coalesceMs - Date.now()));
    timer.unref();
  };
  const live = new LiveStates({ onChange: markDirty });
  // The poll also sweeps with no browser connected, so actors whose stop we missed do not linger.
  const poll = setInterval(() => {
    live.sweep();
    markDirty();
  }, o.pollMs ?? 1000);
  poll.unref();

  const server = http.createServer((req, res) => {
    try {
      handle(req, res);
    } catch (err) {
      log.error('console request failed', { err: errorSummary(err) });
      if (!res.headersSent) res.writeHead(500, SECURITY_HEADERS);
      res.end();
    }
  });

  const plain = (res: http.ServerResponse, code: number, text: string, extra: Record<string, string> = {}) => {
    res.writeHead(code, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', ...extra });
    res.end(`${text}\n`);
  };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') return plain(res, 405, 'method not allowed', { Allow: 'GET, HEAD' });
    if (!hostAllowed(req.headers.host, o.allowedHosts)) {
      log.warn('console request refused: unexpected Host header', { host: String(req.headers.host ?? '').slice(0, 100) });
      return plain(res, 403, 'forbidden host');
    }
    if (o.routes?.(req, res)) return;
    const path = new URL(req.url ?? '/', 'http://console').pathname;
    const head = method === 'HEAD';
    const asset = ASSETS[path];
    if (asset) {
      res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': asset.type, 'Content-Length': String(Buffer.byteLength(asset.body)) });
      return res.end(head ? undefined : asset.body);
    }
    const json = (value: unknown) => {
      const body = JSON.stringify(value);
      res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)) });
      res.end(head ? undefined : body);
    };
    switch (path) {
      case '/api/status': {
        live.sweep();
        const status = readStatus();
        if (!status) return plain(res, 500, 'status unavailable');
        return json({ ...status, live: livePayload(live.snapshot()) });
      }
      case '/api/machines':
        return json(machinesPayload());
      case '/events': {
        if (head) {
          res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8' });
          return res.end();
        }
        if (hub.full) return plain(res, 503, 'too many console clients', { 'Retry-After': '10' });
        live.sweep();
        const status = readStatus();
        const first = [sseFrame('live', livePayload(live.snapshot()))];
        if (status) first.push(sseFrame('status', status));
        req.socket.setNoDelay(true);
        hub.add(res, SECURITY_HEADERS, first);
        return;
      }
      case '/favicon.ico':
        res.writeHead(204, SECURITY_HEADERS);
        return res.end();
      default:
        return plain(res, 404, 'not found');
    }
  };

  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((err: unknown) => {
    clearInterval(poll);
    hub.close();
    throw err;
  });
  server.on('error', (err) => log.error('console server error', { err: errorSummary(err) }));
  const port = (server.address() as AddressInfo).port;
  const shown = o.host.includes(':') ? `[${o.host}]` : o.host;
  const url = `http://${shown}:${port}/`;
  log.info('console listening', { url });
  return {
    url,
    observer: live.observer,
    async close() {
      clearInterval(poll);
      if (timer) clearTimeout(timer);
      hub.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
