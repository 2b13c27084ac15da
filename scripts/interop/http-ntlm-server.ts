/**
 * HTTP test harness: `WWW-Authenticate: NTLM` on 127.0.0.1, one accept context per TCP
 * connection (NTLM authenticates the connection, not the request). Whatever drives the
 * accept legs comes in as `newSession`, so the harness knows nothing of the engine's API.
 *
 *   401 + "WWW-Authenticate: NTLM"            no token yet
 *   401 + "WWW-Authenticate: NTLM <CHALLENGE>" after NEGOTIATE (connection kept)
 *   200 + "user=DOMAIN\user"                   after an AUTHENTICATE that logs in
 *   401 + "WWW-Authenticate: NTLM", close      after one that does not
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface AcceptLeg {
  /** SSPI status of the leg. */
  status: number;
  outputToken?: Buffer;
  /** The acceptor's word for why (logs), when it gives one. */
  reason?: string;
}

/** One accept context: the legs of one client's handshake. */
export interface AcceptSession {
  step(token: Buffer): Promise<AcceptLeg>;
  /** Who logged on, once a step returned success. */
  identity(): { user: string; domain: string } | undefined;
  close(): void;
}

export interface HttpNtlmOutcome {
  /** SSPI status of the final leg. */
  status: number;
  reason?: string;
  user?: string;
  domain?: string;
  /** The client's tokens on this connection, in order (NEGOTIATE, AUTHENTICATE). */
  tokens: Buffer[];
}

export interface HttpNtlmServer {
  url: string;
  port: number;
  /** Final-leg results in arrival order. */
  readonly outcomes: HttpNtlmOutcome[];
  close(): Promise<void>;
}

export interface HttpNtlmServerOptions {
  newSession: () => AcceptSession;
  /** SSPI "continue" status: a leg with it answers 401 + the output token. */
  continueStatus: number;
  /** SSPI success status. */
  okStatus: number;
  /** Loopback port. Default 0 (the kernel picks). */
  port?: number;
  /** Called with each final-leg result as it happens. Default: none. */
  onOutcome?: (outcome: HttpNtlmOutcome) => void;
  /**
   * Negative tests: replace the client's token before the acceptor sees it (`leg` counts the
   * connection's tokens from 0). `tokens` records what the client sent. Default: none.
   */
  tamper?: (token: Buffer, leg: number) => Buffer;
}

export async function startHttpNtlmServer(options: HttpNtlmServerOptions): Promise<HttpNtlmServer> {
  const sessions = new Map<Socket, { session: AcceptSession; tokens: Buffer[] }>();
  const outcomes: HttpNtlmOutcome[] = [];
  const record = (o: HttpNtlmOutcome): void => {
    outcomes.push(o);
    options.onOutcome?.(o);
  };

  const challenge = (res: ServerResponse, token: Buffer | undefined, close: boolean): void => {
    res.writeHead(401, {
      'WWW-Authenticate': token ? `NTLM ${token.toString('base64')}` : 'NTLM',
      'Content-Length': '0',
      ...(close ? { Connection: 'close' } : {}),
    });
    res.end();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    req.resume();
    const m = /^NTLM\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!m) return challenge(res, undefined, false);
    const socket = req.socket;
    let entry = sessions.get(socket);
    if (!entry) {
      entry = { session: options.newSession(), tokens: [] };
      sessions.set(socket, entry);
      socket.once('close', () => {
        sessions.get(socket)?.session.close();
        sessions.delete(socket);
      });
    }
    const { session, tokens } = entry;
    const token = Buffer.from(m[1]!, 'base64');
    tokens.push(token);
    const leg = await session.step(options.tamper ? options.tamper(token, tokens.length - 1) : token);
    if (leg.status === options.continueStatus) return challenge(res, leg.outputToken, false);
    sessions.delete(socket);
    if (leg.status === options.okStatus) {
      const who = session.identity();
      record({ status: leg.status, ...(leg.reason ? { reason: leg.reason } : {}), ...who, tokens });
      session.close();
      const body = `user=${who?.domain ?? ''}\\${who?.user ?? ''}\n`;
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': String(Buffer.byteLength(body)) });
      res.end(body);
      return;
    }
    record({ status: leg.status, ...(leg.reason ? { reason: leg.reason } : {}), tokens });
    session.close();
    challenge(res, undefined, true);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      record({ status: -1, tokens: [] });
      res.writeHead(500, { Connection: 'close' });
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    outcomes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
