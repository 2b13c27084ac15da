/**
 * rasgate's own offline console: pages served from the process (no CDN, no external font or
 * script), updated live over Server-Sent Events: the lines with their calls, the counters, the
 * recent calls, the guessing defence's lockouts and penalties, and the statecharts drawn as
 * diagrams with the states live actors occupy; one call's transitions replayable step by step.
 *
 * Sign-in (`signIn`): every request signs its connection in with HTTP NTLM through our acceptor
 * and the gateway's authority (sign-in.ts); actions need it. `tls` serves HTTPS. Beyond loopback
 * both are required: NTLM over plain HTTP hands an eavesdropper a response to crack offline.
 *
 *   GET /healthz           `ok` (no sign-in, no Host check: for probes; reveals nothing)
 *   GET /                  the page            GET /app.js, /style.css   its script and style
 *   GET /api/session       who is signed in, which actions are offered
 *   GET /api/status        lines and calls, counters, recent calls, guard, live states
 *   GET /api/machines      the statecharts (definitions)
 *   GET /diagrams/NAME.svg a statechart drawn (layout by elkjs, diagrams.generated.ts)
 *   GET /api/calls         calls whose transitions are kept     GET /api/calls/ID   one call's steps
 *   GET /events            SSE: `status`, `live` (coalesced)
 *   POST /api/actions      an operator action (actions.ts): signed in, same Origin, JSON, confirmed
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { InspectionEvent, Observer } from 'xstate';
import { OptionError, errorSummary } from '../../errors.js';
import type { Logger } from '../logger.js';
import { renderSvg } from '../diagrams.js';
import { sanitizeForViewer } from '../sanitize.js';
import { APP_JS } from './assets/app.js';
import { PAGE_HTML } from './assets/page.js';
import { STYLE_CSS } from './assets/style.js';
import { SECURITY_HEADERS, hostAllowed, isLoopbackHost, sameOrigin } from './http-guard.js';
import { SseHub, sseFrame } from './hub.js';
import { LiveStates } from './live.js';
import { CallHistories, type CallHistoriesOptions } from './history.js';
import { DIAGRAMS } from './diagrams.generated.js';
import { type ConsoleSource, livePayload, machinesPayload, statusPayload } from './payloads.js';
import { createSignIn, operatorName, type ConsoleHooks, type ConsoleRecord, type Operator, type SignInOptions } from './sign-in.js';
import { actionsOffered, parseActionRequest, runAction, type ConsoleActions } from './actions.js';

/** A path segment decoded; a bad %-escape is no name at all (a 404, never a 500 and an error record). */
const decodePath = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return '';
  }
};

export interface ConsoleOptions {
  /** Interface to bind. Beyond loopback, `tls` and `signIn` are required. */
  host: string;
  /** TCP port; 0 picks a free one (see RunningConsole.url). */
  port: number;
  logger: Logger;
  source: ConsoleSource;
  /** Serve HTTPS with this PEM certificate (chain) and key. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Sign every connection in with HTTP NTLM. Absent: no sign-in (loopback only, read-only). */
  signIn?: SignInOptions;
  /** What operators may do (each method optional). Needs signIn. */
  actions?: ConsoleActions;
  /** The audit trail and the guessing defence (sign-ins, refusals, actions). */
  hooks?: ConsoleHooks;
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
  /** `/metrics` without sign-in (metrics.public; loopback only). Default false: it follows the console's sign-in. */
  publicMetrics?: boolean;
  routes?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
  /** How many calls' transitions are kept for replay, and how many steps each. */
  history?: CallHistoriesOptions;
}

export interface RunningConsole {
  /** The page (`https://127.0.0.1:8023/`). */
  url: string;
  /** Put into the actors' inspect chain (combineInspect): live states and call histories come from it. */
  observer: Observer<InspectionEvent>;
  close(): Promise<void>;
}

const ASSETS: Record<string, { type: string; body: string }> = {
  '/': { type: 'text/html; charset=utf-8', body: PAGE_HTML },
  '/app.js': { type: 'text/javascript; charset=utf-8', body: APP_JS },
  '/style.css': { type: 'text/css; charset=utf-8', body: STYLE_CSS },
};

let svgs: Map<string, string> | undefined;
/** The drawn statecharts, rendered once. */
function diagramSvgs(): Map<string, string> {
  svgs ??= new Map(DIAGRAMS.map((d) => [d.machine, renderSvg(d)]));
  return svgs;
}

const MAX_ACTION_BODY = 4096;

export async function startConsole(o: ConsoleOptions): Promise<RunningConsole> {
  const log = o.logger.child({ area: 'console' });
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new OptionError('console.listen', `port ${String(o.port)} is not 0..65535`);
  if (!isLoopbackHost(o.host) && !(o.tls && o.signIn)) {
    throw new OptionError('console.listen', `${o.host} is not a loopback address: beyond loopback the console needs TLS and sign-in (NTLM over plain HTTP gives an eavesdropper a response to crack offline)`);
  }
  if (o.actions && !o.signIn) log.warn('console actions need sign-in: they are not offered');
  const secure = Boolean(o.tls);
  const hooks = o.hooks ?? {};
  const record = (r: ConsoleRecord) => {
    try {
      hooks.record?.(r);
    } catch (err) {
      log.error('console: the record hook failed', { err: errorSummary(err), record: r.type });
    }
  };
  const signIn = o.signIn ? createSignIn(o.signIn, hooks, log) : undefined;
  const actions = signIn ? o.actions : undefined;
  const offered = actionsOffered(actions);
  const coalesceMs = o.coalesceMs ?? 100;
  const hub = new SseHub({ logger: log, maxClients: o.maxClients, maxBufferBytes: o.maxBufferBytes, heartbeatMs: o.heartbeatMs });
  const history = new CallHistories(o.history);

  // Coalescing: changes mark the console dirty; one flush per coalesceMs sends what changed.
  let timer: NodeJS.Timeout | undefined;
  let lastFlush = 0;
  let sentStatus = '';
  let sentLive = '';
  let statusFailing = false; // log a failing source once, not at every poll
  // The status (lines, calls, counters) is read at the poll and after an action, not at every
  // transition: under load the machines change many times a second, the lines table need not.
  let statusDue = true;
  const readStatus = () => {
    try {
      const s = statusPayload(o.source, live.snapshot());
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
    if (!statusDue) return;
    statusDue = false;
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
  const live = new LiveStates({ onChange: markDirty, history });
  // The poll also sweeps with no browser connected, so actors whose stop we missed do not linger.
  const poll = setInterval(() => {
    live.sweep();
    statusDue = true;
    markDirty();
  }, o.pollMs ?? 1000);
  poll.unref();

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    try {
      handle(req, res);
    } catch (err) {
      log.error('console request failed', { err: errorSummary(err) });
      if (!res.headersSent) res.writeHead(500, SECURITY_HEADERS);
      res.end();
    }
  };
  const server = o.tls ? https.createServer({ cert: o.tls.cert, key: o.tls.key }, onRequest) : http.createServer(onRequest);
  // NTLM signs a connection in: keep it open between a page's requests (each new one signs in again).
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 20_000;
  server.requestTimeout = 30_000;
  server.maxConnections = 256;

  const plain = (res: http.ServerResponse, code: number, text: string, extra: Record<string, string> = {}) => {
    res.writeHead(code, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', ...extra });
    res.end(`${text}\n`);
  };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://console').pathname;
    // Probes: no sign-in, no Host check, nothing revealed.
    if (path === '/healthz' && (method === 'GET' || method === 'HEAD')) return o.routes?.(req, res) ? undefined : plain(res, 200, 'ok');
    if (!hostAllowed(req.headers.host, o.allowedHosts)) {
      log.warn('console request refused: unexpected Host header', { host: String(req.headers.host ?? '').slice(0, 100) });
      return plain(res, 403, 'forbidden host');
    }
    if (path === '/metrics' && o.publicMetrics && o.routes?.(req, res)) return;
    if (path === '/api/actions' ? method !== 'POST' : method !== 'GET' && method !== 'HEAD') return plain(res, 405, 'method not allowed', { Allow: path === '/api/actions' ? 'POST' : 'GET, HEAD' });
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    if (!signIn) return route(req, res, method, path, undefined);
    signIn.handle(req, res, (operator) => route(req, res, method, path, operator));
  };

  const route = (req: http.IncomingMessage, res: http.ServerResponse, method: string, path: string, operator: Operator | undefined) => {
    if (path === '/metrics' && o.routes?.(req, res)) return;
    const head = method === 'HEAD';
    // A client that drops its request mid-body makes the body read throw: that ends this request only.
    if (method === 'POST')
      return void takeAction(req, res, operator).catch((err: unknown) => {
        log.warn('console: action request failed', { err: errorSummary(err) });
        if (!res.headersSent) res.destroy();
      });
    const asset = ASSETS[path];
    if (asset) {
      res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': asset.type, 'Content-Length': String(Buffer.byteLength(asset.body)) });
      return res.end(head ? undefined : asset.body);
    }
    const json = (value: unknown, code = 200) => {
      const body = JSON.stringify(value);
      res.writeHead(code, { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)) });
      res.end(head ? undefined : body);
    };
    if (path.startsWith('/diagrams/') && path.endsWith('.svg')) {
      const svg = diagramSvgs().get(decodePath(path.slice('/diagrams/'.length, -'.svg'.length)));
      if (!svg) return plain(res, 404, 'no such statechart');
      res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'image/svg+xml; charset=utf-8', 'Content-Length': String(Buffer.byteLength(svg)) });
      return res.end(head ? undefined : svg);
    }
    if (path.startsWith('/api/calls/')) {
      const h = history.get(decodePath(path.slice('/api/calls/'.length)));
      return h ? json(sanitizeForViewer(h)) : plain(res, 404, 'no history for that call');
    }
    switch (path) {
      case '/api/session':
        return json({ signIn: Boolean(signIn), operator: operator ? operatorName(operator) : null, actions: offered, diagrams: DIAGRAMS.map((d) => d.machine) });
      case '/api/status': {
        live.sweep();
        const status = readStatus();
        if (!status) return plain(res, 500, 'status unavailable');
        return json({ ...status, live: livePayload(live.snapshot()) });
      }
      case '/api/machines':
        return json(machinesPayload());
      case '/api/calls':
        return json(sanitizeForViewer({ calls: history.list() }));
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

  /** POST /api/actions: checked, carried out, logged with the operator's name, recorded. */
  const takeAction = async (req: http.IncomingMessage, res: http.ServerResponse, operator: Operator | undefined) => {
    const answer = (code: number, value: unknown) => {
      if (res.headersSent) return;
      const body = JSON.stringify(value);
      res.writeHead(code, { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)) });
      res.end(body);
    };
    if (!operator) {
      req.resume();
      return answer(403, { ok: false, error: 'actions need sign-in (console.signIn)' });
    }
    // A page elsewhere in the operator's browser (signed in on this connection or not) must not act: same Origin only.
    if (!sameOrigin(req.headers.origin, req.headers.host, secure)) {
      req.resume();
      log.warn('console action refused: not from the console page', { operator: operatorName(operator), source: operator.source, origin: String(req.headers.origin ?? '').slice(0, 100) });
      return answer(403, { ok: false, error: 'cross-origin request refused' });
    }
    if (!/^application\/json\b/i.test(String(req.headers['content-type'] ?? ''))) {
      req.resume();
      return answer(415, { ok: false, error: 'send JSON' });
    }
    let body = '';
    let tooLong = false;
    req.setEncoding('utf8');
    for await (const chunk of req as AsyncIterable<string>) {
      body += chunk;
      if (body.length > MAX_ACTION_BODY) {
        tooLong = true;
        break;
      }
    }
    if (tooLong) {
      res.setHeader('Connection', 'close');
      return answer(413, { ok: false, error: 'request too large' });
    }
    const request = parseActionRequest(body);
    if (typeof request === 'string') return answer(400, { ok: false, error: request });
    const who = operatorName(operator);
    let outcome;
    try {
      outcome = await runAction(actions, request, operator);
    } catch (err) {
      outcome = { ok: false as const, error: errorSummary(err).message };
    }
    const meta = { operator: who, source: operator.source, action: request.action, target: request.target, result: outcome.ok ? 'done' : 'failed', ...(outcome.ok ? (outcome.detail ? { detail: outcome.detail } : {}) : { error: outcome.error }) };
    if (outcome.ok) log.info('console action', meta);
    else log.warn('console action failed', meta);
    record({ type: 'console-action', operator: who, source: operator.source, action: request.action, target: request.target, result: outcome.ok ? 'done' : 'failed', ...(outcome.ok ? (outcome.detail ? { detail: outcome.detail } : {}) : { detail: outcome.error }) });
    statusDue = true;
    markDirty();
    return answer(outcome.ok ? 200 : 409, outcome);
  };

  server.on('clientError', (_err, socket) => socket.destroy());
  if (o.tls) server.on('tlsClientError', () => undefined);
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
  const url = `${secure ? 'https' : 'http'}://${shown}:${port}/`;
  log.info('console listening', { url, signIn: Boolean(signIn), tls: secure });
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
