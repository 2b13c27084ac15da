/**
 * The daemon's end of the control socket (protocol.ts): a unix stream socket in the state
 * directory, mode 0660 (the service's group), whose requests become the Gateway's operator
 * methods. Whoever can open the socket is an operator; a request is bounded in size, a
 * connection in time, and the connections in number. A bad request gets an error answer; no
 * request can end the process.
 */
import { chmodSync, lstatSync, statSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { RasgateError, errorSummary } from '../errors.js';
import { listening } from '../listen.js';
import type { Logger } from '../logging.js';
import { operatorName, type AuthTestResult, type GatewayStatus, type HangupResult, type LineChange } from '../gateway/operator.js';
import type { Operator } from '../audit/index.js';
import { CONTROL_OPS, CONTROL_SOCKET, MAX_REQUEST_BYTES, type ControlRequest, type ControlResponse } from './protocol.js';

/** What the control socket asks of the daemon (src/gateway/daemon.ts Gateway has these). */
export interface ControlTarget {
  statusReport(): GatewayStatus;
  setLineOutOfService(id: string, out: boolean, who: Operator, reason?: string): LineChange;
  hangupCall(callId: string, who: Operator): Promise<HangupResult>;
  authTest(user: string, domain: string | undefined, password: string, who: Operator): Promise<AuthTestResult>;
}

export interface ControlServerOptions {
  /** The state directory (the socket is `control.sock` in it). */
  stateDirectory: string;
  target: ControlTarget;
  logger: Logger;
  /** Connections at once. Default 16. */
  maxConnections?: number;
  /** A connection with no traffic is closed after this long. Default 120 s (an auth test against a slow DC fits). */
  idleMs?: number;
}

export interface RunningControl {
  path: string;
  close(): Promise<void>;
}

export function controlSocketPath(stateDirectory: string): string {
  return join(stateDirectory, CONTROL_SOCKET);
}

/** A socket is there: a daemon that answers on it keeps it; a dead one's is removed. Anything else is not ours to remove. */
async function clearStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!isSocket) throw new RasgateError('CONTROL_PATH_TAKEN', `${path} exists and is not a socket: not removing it`);
  const alive = await new Promise<boolean>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) throw new RasgateError('CONTROL_IN_USE', `another rasgate answers on ${path}: two daemons must not share a state directory`);
  unlinkSync(path);
}

/**
 * The group may reach the socket: a state directory of mode 0700 that we own becomes 0710
 * (traverse, not list; its files stay 0600). Any other mode is the administrator's choice.
 */
function letGroupTraverse(dir: string, log: Logger): void {
  try {
    const st = statSync(dir);
    if ((st.mode & 0o777) === 0o700 && st.uid === process.getuid?.()) {
      chmodSync(dir, 0o710);
      log.info('state directory opened to the group for the control socket (0710: traverse, not list)', { dir });
    }
  } catch (err) {
    log.warn('state directory mode unchanged: members of the group may not reach the control socket', { dir, error: errorSummary(err) });
  }
}

function answer(socket: Socket, response: ControlResponse): void {
  if (!socket.destroyed) socket.write(`${JSON.stringify(response)}\n`);
}

/** Requests one connection may have waiting for their answers. */
const MAX_WAITING_REQUESTS = 32;

/** Resolve once what was written to `socket` has gone (or it is gone). */
function drained(socket: Socket): Promise<void> {
  if (!socket.writableNeedDrain || socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

const failure = (id: number | undefined, code: string, message: string): ControlResponse => ({ ...(id !== undefined ? { id } : {}), ok: false, error: { code, message } });

/** The request's fields, checked (strings bounded); an error text when it is not one. */
export function parseRequest(line: string): ControlRequest | string {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return 'not a JSON object';
  const r = v as Record<string, unknown>;
  if (!CONTROL_OPS.includes(r.op as ControlRequest['op'])) return `unknown op (${CONTROL_OPS.join(', ')})`;
  if (r.id !== undefined && !Number.isSafeInteger(r.id)) return 'id must be an integer';
  const s = (k: string, required: boolean, max = 1024): string | undefined | null => {
    const x = r[k];
    if (x === undefined && !required) return undefined;
    return typeof x === 'string' && x.length <= max ? x : null;
  };
  const bad = (k: string) => `${k} must be a string of at most 1024 characters`;
  const operator = s('operator', false, 256) ?? 'unknown';
  if (operator === null) return bad('operator');
  const sudoUser = s('sudoUser', false, 256);
  if (sudoUser === null) return bad('sudoUser');
  const base = { ...(r.id !== undefined ? { id: r.id as number } : {}), operator, ...(sudoUser ? { sudoUser } : {}) };
  switch (r.op) {
    case 'status':
      return { ...base, op: 'status' };
    case 'line-disable':
    case 'line-enable': {
      const line = s('line', true);
      if (!line) return bad('line');
      if (r.op === 'line-enable') return { ...base, op: 'line-enable', line };
      const reason = s('reason', false);
      if (reason === null) return bad('reason');
      return { ...base, op: 'line-disable', line, ...(reason ? { reason } : {}) };
    }
    case 'hangup': {
      const call = s('call', true);
      if (!call) return bad('call');
      return { ...base, op: 'hangup', call };
    }
    default: {
      const user = s('user', true);
      const password = s('password', true);
      const domain = s('domain', false);
      if (!user) return bad('user');
      if (password === null || password === undefined) return bad('password');
      if (domain === null) return bad('domain');
      return { ...base, op: 'auth-test', user, password, ...(domain !== undefined ? { domain } : {}) };
    }
  }
}

async function perform(target: ControlTarget, req: ControlRequest): Promise<unknown> {
  // The names are what the client says (the socket's permissions are the gate): printable and short.
  const who: Operator = { by: operatorName(req.operator), via: 'cli', ...(req.sudoUser ? { sudoUser: operatorName(req.sudoUser) } : {}) };
  switch (req.op) {
    case 'status':
      return target.statusReport();
    case 'line-disable':
      return target.setLineOutOfService(req.line, true, who, req.reason);
    case 'line-enable':
      return target.setLineOutOfService(req.line, false, who);
    case 'hangup':
      return target.hangupCall(req.call, who);
    case 'auth-test':
      return target.authTest(req.user, req.domain, req.password, who);
  }
}

export async function startControlServer(o: ControlServerOptions): Promise<RunningControl> {
  const log = o.logger.child({ area: 'gateway' });
  const path = controlSocketPath(o.stateDirectory);
  await clearStaleSocket(path);
  letGroupTraverse(o.stateDirectory, log);
  const idleMs = o.idleMs ?? 120_000;

  const open = new Set<Socket>();
  // Half-open: a client may write its requests and end; the answers still go back, then we end.
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    socket.setTimeout(idleMs, () => socket.destroy());
    socket.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    let queue = Promise.resolve();
    let waiting = 0;
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      let nl: number;
      while ((nl = buffered.indexOf(0x0a)) >= 0) {
        const line = buffered.subarray(0, nl).toString('utf8');
        buffered = buffered.subarray(nl + 1);
        if (line.trim() === '') continue;
        // A client that asks and never reads: a few requests wait, then the connection is closed.
        if (++waiting > MAX_WAITING_REQUESTS) {
          log.warn('control client not reading its answers: connection closed', { limit: MAX_WAITING_REQUESTS });
          socket.removeAllListeners('data');
          socket.destroy();
          return;
        }
        // One request at a time per connection: answers come in the order asked, each after the
        // last one was taken by the client (never a pile of unread answers in our memory).
        queue = queue
          .then(() => handle(socket, line))
          .then(() => drained(socket))
          .finally(() => waiting--);
      }
      if (buffered.length > MAX_REQUEST_BYTES) {
        log.warn('control request too long: connection closed', { limit: MAX_REQUEST_BYTES });
        buffered = Buffer.alloc(0);
        socket.removeAllListeners('data');
        socket.resume(); // drain what else comes, unread, until the client goes
        socket.end(`${JSON.stringify(failure(undefined, 'REQUEST_TOO_LONG', `a request is at most ${MAX_REQUEST_BYTES} bytes`))}\n`);
        setTimeout(() => socket.destroy(), 2000).unref();
      }
    });
    socket.once('end', () => void queue.then(() => socket.end()));
  });
  server.maxConnections = o.maxConnections ?? 16;

  const handle = async (socket: Socket, line: string): Promise<void> => {
    const req = parseRequest(line);
    if (typeof req === 'string') return answer(socket, failure(undefined, 'BAD_REQUEST', req));
    const id = req.id;
    try {
      const result = await perform(o.target, req);
      answer(socket, { ...(id !== undefined ? { id } : {}), ok: true, result });
    } catch (err) {
      const e = errorSummary(err);
      if (!(err instanceof RasgateError)) log.error('control request failed', { op: req.op, operator: req.operator, error: e });
      answer(socket, failure(id, e.code ?? 'FAILED', e.message));
    }
  };

  await listening(server, (ready) => server.listen(path, ready));
  server.on('error', (err) => log.error('control socket error', { error: errorSummary(err) }));
  try {
    chmodSync(path, 0o660);
  } catch (err) {
    log.warn('control socket mode not set to 0660', { path, error: errorSummary(err) });
  }
  log.info('control socket listening', { path });
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of open) s.destroy();
        try {
          unlinkSync(path);
        } catch {
          // already gone
        }
      }),
  };
}
