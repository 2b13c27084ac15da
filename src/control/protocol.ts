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
 * cannot read SO_PEERCRED), logged with every action.
 */

/** The socket's file name in the state directory. */
export const CONTROL_SOCKET = 'control.sock';

/** A request line longer than this is refused and the connection closed. */
export const MAX_REQUEST_BYTES = 64 * 1024;
/** An answer longer than this is refused by the client (a status of many calls fits well within). */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export type ControlRequest =
  | { id?: number; op: 'status'; operator: string }
  | { id?: number; op: 'line-disable'; operator: string; line: string; reason?: string }
  | { id?: number; op: 'line-enable'; operator: string; line: string }
  | { id?: number; op: 'hangup'; operator: string; call: string }
  | { id?: number; op: 'auth-test'; operator: string; user: string; domain?: string; password: string };

export type ControlOp = ControlRequest['op'];
export const CONTROL_OPS: readonly ControlOp[] = ['status', 'line-disable', 'line-enable', 'hangup', 'auth-test'];

export type ControlResponse = { id?: number; ok: true; result: unknown } | { id?: number; ok: false; error: { code: string; message: string } };
