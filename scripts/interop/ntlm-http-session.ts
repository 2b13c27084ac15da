/**
 * An HTTP client holding one keep-alive connection (NTLM authenticates a connection [MS-NTHT 2]),
 * signing it in with our initiator (src/ntlm/client.ts): the console tests and the console bench.
 */
import http from 'node:http';
import https from 'node:https';
import { createClientContext } from '../../src/ntlm/client.js';

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface NtlmSession {
  /** One request on the session's own connection (signed in once signIn() answered 200). */
  request(path: string, o?: { method?: string; headers?: Record<string, string>; body?: string; authorization?: string }): Promise<HttpAnswer>;
  /** Run the NTLM handshake on the connection: the last leg's answer. */
  signIn(): Promise<HttpAnswer>;
  /** Open a stream on the signed-in connection (Server-Sent Events): its text arrives in onText until close(). */
  stream(path: string, onText: (text: string) => void): Promise<number>;
  close(): void;
}

/** A client holding one keep-alive connection (NTLM authenticates a connection), signing in with src/ntlm/client.ts. */
export function ntlmSession(url: string, user: string, password: string, o: { ca?: Buffer; path?: string } = {}): NtlmSession {
  const u = new URL(url);
  const secure = u.protocol === 'https:';
  const agent = secure ? new https.Agent({ keepAlive: true, maxSockets: 1, ca: o.ca }) : new http.Agent({ keepAlive: true, maxSockets: 1 });
  const request: NtlmSession['request'] = (path, r = {}) =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = { ...(r.headers ?? {}) };
      if (r.authorization) headers.Authorization = r.authorization;
      if (r.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(r.body));
      const req = (secure ? https : http).request({ host: u.hostname, port: u.port, path, method: r.method ?? 'GET', agent, headers, ...(secure ? { ca: o.ca } : {}) }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end(r.body);
    });
  return {
    request,
    async signIn() {
      const client = createClientContext({ user, domain: '', password });
      const leg1 = await request(o.path ?? '/api/session', { authorization: `NTLM ${client.negotiate().toString('base64')}` });
      const challenge = String(leg1.headers['www-authenticate'] ?? '').split(' ')[1];
      if (leg1.status !== 401 || !challenge) throw new Error(`no CHALLENGE: ${leg1.status} ${String(leg1.headers['www-authenticate'])}`);
      return request(o.path ?? '/api/session', { authorization: `NTLM ${client.authenticate(Buffer.from(challenge, 'base64')).token.toString('base64')}` });
    },
    stream: (path, onText) =>
      new Promise((resolve, reject) => {
        const req = (secure ? https : http).request({ host: u.hostname, port: u.port, path, agent, ...(secure ? { ca: o.ca } : {}) }, (res) => {
          res.setEncoding('utf8');
          res.on('data', onText);
          res.on('error', () => undefined);
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      }),
    close: () => agent.destroy(),
  };
}

