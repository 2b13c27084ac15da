/**
 * The control socket's protocol: JSON lines over a unix stream socket in the state directory
 * (`control.sock`). The client writes one request a line, the daemon answers each with one
 * line, in order:
 *
 *   {"id":1,"op":"status","operator":"alice"}
 *   {"id":1,"ok":true,"result":{...GatewayStatus}}
 *   {"id":2,"op":"line-disable","operator":"alice","line":"tcp0","reason":"modem swap"}
 *   {"id":2,"ok":false,"error":{"code":"NO_SUCH_LINE","message":"no line \"tcp9\" ..."}}
 *
 * Who may ask is decided by the socket's permissions (0660, the service's group, in a state
 * directory the group may traverse); `operator` is the name the client says it runs as (Node
 * cannot read SO_PEERCRED), with `sudoUser` when it ran through sudo; both are logged and go to the
 * audit trail with every action.
 */

/** The socket's file name in the state directory. */
export const CONTROL_SOCKET = 'control.sock';

/** A request line longer than this is refused and the connection closed. */
export const MAX_REQUEST_BYTES = 64 * 1024;
/** An answer longer than this is refused by the client (a status of many calls fits well within). */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** Who asks: the unix user the client runs as, and who ran it through sudo. */
interface Asker {
  id?: number;
  operator: string;
  sudoUser?: string;
}

export type ControlRequest = Asker &
  (
    | { op: 'status' }
    | { op: 'line-disable'; line: string; reason?: string }
    | { op: 'line-enable'; line: string }
    | { op: 'hangup'; call: string }
    | { op: 'auth-test'; user: string; domain?: string; password: string }
  );

export type ControlOp = ControlRequest['op'];
export const CONTROL_OPS: readonly ControlOp[] = ['status', 'line-disable', 'line-enable', 'hangup', 'auth-test'];

export type ControlResponse = { id?: number; ok: true; result: unknown } | { id?: number; ok: false; error: { code: string; message: string } };
