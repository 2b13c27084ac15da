/**
 * `rasgate serve --inspect[=PORT]`: the machines, live, in the Stately inspector.
 *
 * Our own relay (not @statelyai/inspect's createInspectorServer, which answers any Origin and
 * Host and re-broadcasts whatever a connected client sends to every viewer): an HTTP page that
 * frames the hosted inspector UI (https://stately.ai/inspect, loaded by the viewing browser) and
 * a WebSocket on the same port that sends the gateway's own inspection events, sanitized
 * (src/observe/sanitize.ts: no password, token, hash or key leaves the process), to each viewer.
 * Nothing a viewer sends is relayed or acted on. A WebSocket upgrade is taken only with a Host
 * the console would answer (an IP literal or localhost: DNS rebinding) and an Origin that is the
 * relay's own page as the browser loaded it (a page elsewhere cannot watch). The page connects
 * back to the host and port it was loaded from, so it works through any SSH tunnel:
 * `ssh -L 9081:127.0.0.1:8081 gateway` then http://localhost:9081/.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { InspectionEvent, Observer } from 'xstate';
import { WebSocketServer, WebSocket } from 'ws';
import { createInspector } from '@statelyai/inspect';
import type { Logger } from './logger.js';
import { sanitizeForViewer } from './sanitize.js';
import { SECURITY_HEADERS, hostAllowed, sameOrigin } from './console/http-guard.js';

export interface InspectorOptions {
  /** Interface the relay binds. Default '127.0.0.1' (it has no authentication). */
  host?: string;
  /** Relay port (HTTP page + WebSocket). Default 8081. 0 picks a free one. */
  port?: number;
  logger: Logger;
  /** Viewers at once. Default 8. */
  maxViewers?: number;
  /** Events kept for a viewer that connects late. Default 500. */
  replayEvents?: number;
}

export interface RunningInspector {
  /** Pass to createActor(m, { inspect }). */
  inspect: Observer<InspectionEvent>;
  /** The page to open (through a tunnel when remote: any local port, the page follows it). */
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** The hosted inspector UI the page frames (the viewing browser loads it). */
export const INSPECTOR_UI = 'https://stately.ai/inspect';

/** The inspector's options: every outgoing event is sanitized whole. */
export const SANITIZE = {
  sanitizeContext: (context: Record<string, unknown>) => sanitizeForViewer(context),
  sanitizeEvent: <E>(event: E) => sanitizeForViewer(event),
  // Whole-event pass: snapshots carry more than context (a promise actor's `input` holds the
  // verify call's password; `output` may hold keys).
  serialize: <E>(event: E) => sanitizeForViewer(withSafeDefinition(event)),
};

/** An actor's `definition` is its machine config as a JSON string: a literal context is in it. */
function withSafeDefinition<E>(event: E): E {
  const def = (event as { definition?: unknown }).definition;
  if (typeof def !== 'string') return event;
  let parsed: unknown;
  try {
    parsed = JSON.parse(def);
  } catch {
    return { ...event, definition: undefined };
  }
  return { ...event, definition: JSON.stringify(sanitizeForViewer(parsed)) };
}

/** The relay's page: the hosted inspector in a frame, fed by /bridge.js. */
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>rasgate: Stately inspector</title><link rel="stylesheet" href="/bridge.css"><script src="/bridge.js" defer></script></head>
<body><iframe id="inspector" src="${INSPECTOR_UI}" title="Stately inspector"></iframe></body></html>
`;
const CSS = 'html, body { margin: 0; height: 100%; } iframe { border: 0; width: 100%; height: 100%; display: block; }\n';
/** Connects back to the host and port this page came from (a tunnel's local port too); hands events to the frame only. */
const BRIDGE_JS = `'use strict';
(function () {
  var ui = new URL(${JSON.stringify(INSPECTOR_UI)}).origin;
  var frame = document.getElementById('inspector');
  var ready = false;
  var queue = [];
  window.addEventListener('message', function (e) {
    if (e.origin === ui && e.data && e.data.type === '@statelyai.connected') {
      ready = true;
      queue.splice(0).forEach(function (m) { frame.contentWindow.postMessage(m, ui); });
    }
  });
  var ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/');
  ws.onmessage = function (event) {
    var data = JSON.parse(event.data);
    if (ready) frame.contentWindow.postMessage(data, ui); else queue.push(data);
  };
})();
`;
const PAGE_CSP = `default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; frame-src ${INSPECTOR_UI.replace(/\/inspect$/, '')}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

/** Start the relay bound where we say. */
export async function startInspector(o: InspectorOptions): Promise<RunningInspector> {
  const host = o.host ?? '127.0.0.1';
  const maxViewers = o.maxViewers ?? 8;
  const keep = o.replayEvents ?? 500;
  const log = o.logger.child({ area: 'inspector' });
  const recent: string[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://relay').pathname;
    const asset = path === '/' ? { type: 'text/html; charset=utf-8', body: PAGE } : path === '/bridge.js' ? { type: 'text/javascript; charset=utf-8', body: BRIDGE_JS } : path === '/bridge.css' ? { type: 'text/css; charset=utf-8', body: CSS } : undefined;
    const headers = { ...SECURITY_HEADERS, 'Content-Security-Policy': PAGE_CSP };
    if (!hostAllowed(req.headers.host)) {
      res.writeHead(403, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
      return res.end('forbidden host\n');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...headers, Allow: 'GET, HEAD' });
      return res.end();
    }
    if (!asset) {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
      return res.end('not found\n');
    }
    res.writeHead(200, { ...headers, 'Content-Type': asset.type, 'Content-Length': String(Buffer.byteLength(asset.body)) });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  // Viewers only listen: what they send is never read beyond a small frame (then dropped).
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096, perMessageDeflate: false });
  server.on('upgrade', (req, socket, head) => {
    const refuse = (why: string) => {
      log.warn('inspector viewer refused', { reason: why, host: String(req.headers.host ?? '').slice(0, 100), origin: String(req.headers.origin ?? '').slice(0, 100) });
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    };
    socket.on('error', () => undefined);
    if (!hostAllowed(req.headers.host)) return refuse('unexpected Host header');
    if (!sameOrigin(req.headers.origin, req.headers.host, false)) return refuse('not from the relay page (Origin)');
    if (wss.clients.size >= maxViewers) return refuse('too many viewers');
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => undefined);
      // Never relayed, never acted on: a viewer cannot inject events for the others.
      ws.on('message', () => undefined);
      for (const m of recent) ws.send(m);
      log.info('inspector viewer connected', { viewers: wss.clients.size });
    });
  });
  const broadcast = (event: unknown) => {
    let text: string;
    try {
      text = JSON.stringify(event);
    } catch {
      return;
    }
    recent.push(text);
    if (recent.length > keep) recent.splice(0, recent.length - keep);
    for (const ws of wss.clients) {
      // A viewer that does not keep up is dropped, not buffered without end.
      if (ws.bufferedAmount > 4 * 1024 * 1024) ws.terminate();
      else if (ws.readyState === WebSocket.OPEN) ws.send(text);
    }
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 8081, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error('inspector relay error', { err }));
  const port = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const url = `http://${shown}:${port}/`;
  const inspector = createInspector({ send: broadcast }, SANITIZE);
  log.info('inspector relay listening', { url, host, port });
  return {
    inspect: inspector.inspect,
    url,
    port,
    async stop() {
      inspector.stop();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** One inspect observer feeding several (the transition log and the inspector); undefined when none is given. */
export function combineInspect(...observers: (Observer<InspectionEvent> | undefined)[]): Observer<InspectionEvent> | undefined {
  const list = observers.filter((x): x is Observer<InspectionEvent> => Boolean(x));
  if (list.length === 0) return undefined;
  return {
    next(ev) {
      for (const o of list) {
        try {
          o.next?.(ev);
        } catch {
          // an observer's fault must never reach the machine
        }
      }
    },
  };
}

/** The line and call an actor works for, when its context does not say (line machines, NTLM contexts). */
export interface ActorLabels {
  line?: string;
  call?: string;
}

const LABELS = new WeakMap<object, ActorLabels>();

/**
 * `observer`, with every actor it sees labelled `labels` first (the console reads them with
 * labelsOf). undefined when there is no observer. The labels go with the actor (a WeakMap): nothing
 * is added to the events themselves.
 */
export function labelActors(observer: Observer<InspectionEvent> | undefined, labels: ActorLabels): Observer<InspectionEvent> | undefined {
  if (!observer) return undefined;
  return {
    next(ev) {
      if (!LABELS.has(ev.actorRef)) LABELS.set(ev.actorRef, labels);
      observer.next?.(ev);
    },
  };
}

/** What labelActors said about this actor. */
export function labelsOf(actorRef: object): ActorLabels | undefined {
  return LABELS.get(actorRef);
}
