/**
 * `rasgate serve --inspect[=PORT]`: the machines, live, in the Stately inspector.
 *
 * @statelyai/inspect's createInspectorServer relays the events over a local WebSocket to the
 * hosted inspector UI (https://stately.ai/inspect, loaded by the viewing browser). It listens
 * on every interface, has no authentication, and crashes the process on EADDRINUSE (no error
 * listener). So we bind it ourselves: its http.Server is caught at listen() and bound to
 * loopback (or the configured host), with an error listener. Everything sent is sanitized
 * (src/observe/sanitize.ts): no password, token, hash or key leaves the process.
 * View it through an SSH tunnel: `ssh -L 8081:127.0.0.1:8081 gateway` then http://localhost:8081.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { InspectionEvent, Observer } from 'xstate';
import { createWebSocketInspector } from '@statelyai/inspect';
import { createInspectorServer } from '@statelyai/inspect/server';
import type { Logger } from './logger.js';
import { sanitizeForViewer } from './sanitize.js';

export interface InspectorOptions {
  /** Interface the relay binds. Default '127.0.0.1' (it has no authentication). */
  host?: string;
  /** Relay port (HTTP page + WebSocket). Default 8081. 0 picks a free one. */
  port?: number;
  logger: Logger;
}

export interface RunningInspector {
  /** Pass to createActor(m, { inspect }). */
  inspect: Observer<InspectionEvent>;
  /** The page to open (through a tunnel when remote). */
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** The options given to createWebSocketInspector: every outgoing event is sanitized whole. */
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

/** Start the relay bound where we say, then connect an inspector to it. */
export async function startInspector(o: InspectorOptions): Promise<RunningInspector> {
  const host = o.host ?? '127.0.0.1';
  const wanted = o.port ?? 8081;
  let server: http.Server | undefined;
  const sockets = new Set<Socket>();
  const proto = http.Server.prototype as unknown as { listen: (...args: unknown[]) => unknown };
  const listen = proto.listen;
  // createInspectorServer calls listen(port, cb) synchronously; bind it to `host` instead.
  proto.listen = function (this: http.Server, port: unknown, ...rest: unknown[]) {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the relay keeps its server private: catch it here
    server = this;
    // The relay's WebSocketServer re-emits server errors on itself with no listener, which
    // would throw (EADDRINUSE = crash): take its error listener off; we listen instead.
    this.removeAllListeners('error');
    this.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    const cb = rest.find((r) => typeof r === 'function');
    return listen.call(this, port, host, cb);
  };
  let relay: { stop(): void };
  try {
    relay = createInspectorServer({ port: wanted, autoOpen: false });
  } finally {
    proto.listen = listen;
  }
  if (!server) throw new Error('inspector: the relay server did not start');
  const srv = server;
  await new Promise<void>((resolve, reject) => {
    if (srv.listening) return resolve();
    srv.once('listening', resolve);
    srv.once('error', reject);
  });
  srv.on('error', (err) => o.logger.error('inspector relay error', { area: 'inspector', err }));
  const port = (srv.address() as AddressInfo).port;
  const wsHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const inspector = createWebSocketInspector({ url: `ws://${wsHost}:${port}`, ...SANITIZE });
  const url = `http://${wsHost}:${port}`;
  o.logger.info('inspector relay listening', { area: 'inspector', url, host, port });
  return {
    inspect: inspector.inspect,
    url,
    port,
    async stop() {
      inspector.stop();
      relay.stop();
      // Viewers' WebSockets (upgraded, so unknown to closeAllConnections) would hold close() open.
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => srv.close(() => r()));
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
