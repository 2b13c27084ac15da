/**
 * The CLI's end of the control socket (protocol.ts): one connection, requests written as JSON
 * lines, answers read back in order. Used by `rasgate status|line|hangup|auth`.
 */
import { connect } from 'node:net';
import { unixOperator } from '../audit/events.js';
import { RasgateError } from '../errors.js';
import { MAX_RESPONSE_BYTES, type ControlRequest, type ControlResponse } from './protocol.js';

/** The daemon cannot be reached (not running, another state directory, no permission). */
export class ControlUnavailable extends RasgateError {}

/** Who this client runs as (and who ran it through sudo), sent with each request. */
function asker(): { operator: string; sudoUser?: string } {
  const me = unixOperator();
  return { operator: me.by, ...(me.sudoUser ? { sudoUser: me.sudoUser } : {}) };
}

type Request = ControlRequest extends infer R ? (R extends ControlRequest ? Omit<R, 'id' | 'operator' | 'sudoUser'> & { operator?: string } : never) : never;

/** Send one request and resolve with its answer (an error answer too: `ok` says which). */
export function controlRequest(path: string, request: Request, o: { timeoutMs?: number } = {}): Promise<ControlResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let buffered = Buffer.alloc(0);
    let settled = false;
    const done = (err: Error | undefined, value?: ControlResponse) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (err) reject(err);
      else resolve(value!);
    };
    socket.setTimeout(o.timeoutMs ?? 90_000, () => done(new ControlUnavailable('CONTROL_TIMEOUT', `no answer from the daemon on ${path}`)));
    socket.once('connect', () => socket.write(`${JSON.stringify({ id: 1, ...asker(), ...request })}\n`));
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length > MAX_RESPONSE_BYTES) return done(new ControlUnavailable('CONTROL_ANSWER_TOO_LONG', `the daemon's answer is over ${MAX_RESPONSE_BYTES} bytes`));
      const nl = buffered.indexOf(0x0a);
      if (nl < 0) return;
      try {
        done(undefined, JSON.parse(buffered.subarray(0, nl).toString('utf8')) as ControlResponse);
      } catch {
        done(new ControlUnavailable('CONTROL_BAD_ANSWER', `the daemon's answer on ${path} is not JSON`));
      }
    });
    socket.once('end', () => done(new ControlUnavailable('CONTROL_CLOSED', `the daemon closed ${path} without an answer`)));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'ENOENT' || err.code === 'ECONNREFUSED'
          ? `no rasgate daemon answers on ${path} (is \`rasgate serve\` running with this configuration?)`
          : err.code === 'EACCES' || err.code === 'EPERM'
            ? `permission denied on ${path}: run as the service's user, a member of its group, or root`
            : `${path}: ${err.message}`;
      done(new ControlUnavailable(`CONTROL_${err.code ?? 'ERROR'}`, why, { cause: err }));
    });
  });
}
