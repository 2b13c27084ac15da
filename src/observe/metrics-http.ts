/**
 * `/metrics` (Prometheus text exposition) and `/healthz` over HTTP: a request handler the
 * console mounts on its own listener, or a small server of its own on `metrics.listen` when
 * the console is off. Neither carries anything sensitive (no user names, caller IDs or
 * addresses; see src/observe/metrics.ts), and neither is authenticated.
 *
 * /healthz: 200 `ok` when every line in service is up; 200 `degraded` with the count of lines
 * down when some are; 503 `down` when none is up or the gateway is not running. A line an
 * operator took out of service, or one configured `enabled: false`, is not down.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorSummary } from '../errors.js';
import { listening } from '../listen.js';
import type { Logger } from '../logging.js';
import type { Metrics } from './metrics.js';

/** Line states in which a line answers (src/serial/types.ts LineState). */
const UP_STATES: ReadonlySet<string> = new Set(['idle', 'ringing', 'answering', 'connected', 'hanging-up', 'initialising']);

export interface HealthSource {
  /** The gateway's phase (starting, running, reloading, stopping, stopped). */
  readonly phase: string;
  status(): { lines: Array<{ id: string; state: string; outOfService?: unknown }> };
}

export interface Health {
  status: 'ok' | 'degraded' | 'down';
  phase: string;
  lines: number;
  linesDown: number;
  linesOutOfService: number;
}

export function health(source: HealthSource): Health {
  const lines = source.status().lines;
  // Out of service (an operator) and off (`enabled: false`) are choices, not faults.
  const inService = lines.filter((l) => !l.outOfService && l.state !== 'off');
  const down = inService.filter((l) => !UP_STATES.has(l.state)).length;
  const running = source.phase === 'running' || source.phase === 'reloading';
  const status = !running || (inService.length > 0 && down === inService.length) ? 'down' : down > 0 ? 'degraded' : 'ok';
  return { status, phase: source.phase, lines: lines.length, linesDown: down, linesOutOfService: lines.length - inService.length };
}

const HEADERS = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };

/**
 * Answer `/metrics` and `/healthz` (GET or HEAD); false for any other path (the caller answers
 * it). A failing scrape is a 500, never a thrown error.
 */
export function metricsRoutes(o: { metrics: Metrics; health: HealthSource; logger: Logger }): (req: http.IncomingMessage, res: http.ServerResponse) => boolean {
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://metrics').pathname;
    if (path !== '/metrics' && path !== '/healthz') return false;
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.writeHead(405, { ...HEADERS, Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('method not allowed\n');
      return true;
    }
    if (path === '/healthz') {
      const h = health(o.health);
      const body = `${h.status}${h.linesDown ? `: ${h.linesDown} of ${h.lines - h.linesOutOfService} lines down` : ''}\n${JSON.stringify(h)}\n`;
      res.writeHead(h.status === 'down' ? 503 : 200, { ...HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(head ? undefined : body);
      return true;
    }
    o.metrics.text().then(
      (text) => {
        res.writeHead(200, { ...HEADERS, 'Content-Type': o.metrics.contentType });
        res.end(head ? undefined : text);
      },
      (err: unknown) => {
        o.logger.error('metrics scrape failed', { area: 'gateway', error: errorSummary(err) });
        if (!res.headersSent) res.writeHead(500, { ...HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('scrape failed\n');
      },
    );
    return true;
  };
}

export interface RunningMetricsServer {
  url: string;
  close(): Promise<void>;
}

/** The routes on a listener of their own (`metrics.listen`, when the console is off). */
export async function startMetricsServer(o: { host: string; port: number; routes: ReturnType<typeof metricsRoutes>; logger: Logger }): Promise<RunningMetricsServer> {
  const server = http.createServer((req, res) => {
    try {
      if (o.routes(req, res)) return;
      res.writeHead(404, { ...HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('not found: /metrics and /healthz only\n');
    } catch (err) {
      o.logger.error('metrics request failed', { area: 'gateway', error: errorSummary(err) });
      if (!res.headersSent) res.writeHead(500, HEADERS);
      res.end();
    }
  });
  // A slow or hostile client must not hold sockets open for long.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.maxConnections = 64;
  server.on('clientError', (_err, socket) => socket.destroy());
  await listening(server, (ready) => server.listen(o.port, o.host, ready));
  server.on('error', (err) => o.logger.error('metrics listener error', { area: 'gateway', error: errorSummary(err) }));
  const port = (server.address() as AddressInfo).port;
  const url = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}/metrics`;
  o.logger.info('metrics listening', { area: 'gateway', url });
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
