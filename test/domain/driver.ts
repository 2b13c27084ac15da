/**
 * Runs inside the throwaway DC's network namespace (started by test/domain/dc.ts through
 * `scripts/samba-dc.sh exec`): builds authorities with the real factory, drives the three
 * NTLM legs with our client against acceptSecurityContext, and answers as JSON lines.
 *
 *   -> {"id":1,"op":"authority","name":"a","config":{...}}     <- {"id":1,"ok":true}
 *   -> {"id":2,"op":"login","name":"a","user":"alice","password":"...","domain":"EXAMPLE"}
 *   <- {"id":2,"ok":true,"status":"0","reason":"ok","identity":{...}}
 *   -> {"id":3,"op":"fake","kind":"hang"|"malformed"|"refused"} <- {"id":3,"ok":true,"port":N}
 *   -> {"id":4,"op":"killHelper","name":"w"} / {"op":"close","name":"a"}
 */
import { createInterface } from 'node:readline';
import { createServer, type Server, type Socket } from 'node:net';
import { createAuthority, type AuthorityConfig } from '../../src/authority/index.js';
import type { Authority } from '../../src/ntlm/authority.js';
import { acquireCredentialsHandle, type CredentialHandle } from '../../src/ntlm/server.js';
import { DEFAULT_CLIENT_FLAGS } from '../../src/ntlm/client.js';
import { login } from './legs.js';
import { closedPort } from '../helpers/net.js';
import { NegotiateFlags } from '../../src/ntlm/constants.js';
import type { WinbindAuthority } from '../../src/authority/winbind/index.js';

interface Entry {
  authority: Authority;
  cred: CredentialHandle;
}

const authorities = new Map<string, Entry>();
const servers: Server[] = [];
const sockets = new Set<Socket>();
/** Connections each fake server accepted, by port. */
const accepted = new Map<number, number>();

function fakeServer(kind: string): Promise<number> {
  // Nothing listens there: a connection is refused.
  if (kind === 'refused') return closedPort();
  return new Promise((resolve) => {
    const s = createServer((sock) => {
      const port = (s.address() as { port: number }).port;
      accepted.set(port, (accepted.get(port) ?? 0) + 1);
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
      sock.on('error', () => undefined);
      // hang: accept and never answer. malformed: answer any request with a broken BindResponse
      // (a SEQUENCE whose inner length runs past its end).
      if (kind === 'malformed') sock.once('data', () => sock.write(Buffer.from('30090201016104' + '0a010e04', 'hex')));
    });
    servers.push(s);
    s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port));
  });
}

async function handle(msg: Record<string, unknown>): Promise<Record<string, unknown>> {
  const name = String(msg.name ?? '');
  switch (msg.op) {
    case 'authority': {
      const authority = await createAuthority(msg.config as AuthorityConfig);
      authorities.set(name, { authority, cred: acquireCredentialsHandle({ authority }) });
      return {};
    }
    case 'login': {
      const e = authorities.get(name);
      if (!e) throw new Error(`no authority ${name}`);
      const flags = msg.noSign ? (DEFAULT_CLIENT_FLAGS & ~NegotiateFlags.NEGOTIATE_SIGN & ~NegotiateFlags.NEGOTIATE_ALWAYS_SIGN) >>> 0 : undefined;
      return { ...(await login(e.cred, String(msg.user), String(msg.password), String(msg.domain ?? ''), String(msg.workstation ?? ''), flags)) };
    }
    case 'accepted':
      return { count: accepted.get(Number(msg.port)) ?? 0 };
    case 'health': {
      const a = authorities.get(name)!.authority as unknown as { health(): unknown };
      return { health: a.health() };
    }
    case 'killHelper': {
      const a = authorities.get(name)!.authority as WinbindAuthority;
      const pid = a.helperPid;
      if (pid) process.kill(pid, 'SIGKILL');
      return { pid };
    }
    case 'loginKill': {
      // Start a login, kill the helper while the request is on its pipe, report the outcome.
      const e = authorities.get(name)!;
      const a = e.authority as WinbindAuthority;
      const pending = login(e.cred, String(msg.user), String(msg.password), String(msg.domain ?? ''));
      await new Promise((r) => setTimeout(r, Number(msg.afterMs ?? 0)));
      const pid = a.helperPid;
      if (pid) process.kill(pid, 'SIGKILL');
      const queued = login(e.cred, String(msg.user), String(msg.password), String(msg.domain ?? ''));
      return { killed: pid, inFlight: await pending, queued: await queued };
    }
    case 'fake':
      return { port: await fakeServer(String(msg.kind)) };
    case 'close': {
      await authorities.get(name)?.authority.close();
      authorities.delete(name);
      return {};
    }
    default:
      throw new Error(`unknown op ${String(msg.op)}`);
  }
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  let msg: Record<string, unknown>;
  try {
    msg = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return;
  }
  handle(msg).then(
    (r) => process.stdout.write(JSON.stringify({ id: msg.id, ok: true, ...r }) + '\n'),
    (err: Error) => process.stdout.write(JSON.stringify({ id: msg.id, ok: false, error: err.message, code: (err as { code?: string }).code }) + '\n'),
  );
});
rl.on('close', () => {
  void (async () => {
    for (const e of authorities.values()) await e.authority.close();
    for (const s of sockets) s.destroy();
    for (const s of servers) s.close();
    process.exit(0);
  })();
});
