/**
 * A domain controller as the ldap authority sees one, on 127.0.0.1, that an outage test can
 * break and mend: the SASL bind carrying NTLMSSP (RFC 4511 BindRequest, saslBindInProgress with
 * our CHALLENGE, then the AUTHENTICATE), checked against known passwords with rasgate's own
 * NTLMv2 verifier, answered 0 (success) or 49 `data 52e` as AD does. Modes:
 *   up    answers as above
 *   hang  accepts connections and reads binds, never answers (a DC stuck on its database)
 *   down  not listening (existing connections are reset); up() listens again on the same port
 */
import { createServer, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Ber, constructed, decode, integer, octets, readInteger } from '../../src/authority/ldap/ber.js';
import { Ctx, Op } from '../../src/authority/ldap/constants.js';
import { LdapFramer } from '../../src/authority/ldap/framing.js';
import { decodeAuthenticate, encodeChallenge } from '../../src/ntlm/messages.js';
import { AvId, NegotiateFlags as F } from '../../src/ntlm/constants.js';
import { ntowfv1 } from '../../src/ntlm/crypto.js';
import { verifyNtlmV2 } from '../../src/ntlm/ntlmv2.js';

export type DcMode = 'up' | 'hang' | 'down';

export interface FakeDc {
  url: string;
  port: number;
  mode: DcMode;
  /** Binds answered so far (either verdict). */
  verdicts: number;
  up(): Promise<void>;
  hang(): void;
  down(): Promise<void>;
  close(): Promise<void>;
}

const bindResponse = (id: number, code: number, diag = '', creds?: Buffer): Buffer =>
  constructed(Ber.Sequence, integer(id), constructed(Op.BindResponse, integer(code, Ber.Enumerated), octets(''), octets(diag), ...(creds ? [octets(creds, Ctx.ServerSaslCreds)] : [])));

/** Find the SASL credentials (the NTLMSSP token) of a BindRequest element. */
function saslToken(bind: ReturnType<typeof decode>): Buffer | undefined {
  const auth = bind.children?.[2];
  const creds = auth?.children?.[1];
  return creds?.value;
}

export async function startFakeDc(o: { domain?: string; users: Record<string, string> }): Promise<FakeDc> {
  const domain = o.domain ?? 'CORP';
  const hashes = new Map(Object.entries(o.users).map(([u, p]) => [u.toLowerCase(), ntowfv1(p)]));
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const dc: FakeDc = {
    url: '',
    port: 0,
    mode: 'down',
    verdicts: 0,
    async up() {
      if (!server) await listen();
      dc.mode = 'up';
    },
    hang() {
      dc.mode = 'hang';
    },
    async down() {
      dc.mode = 'down';
      for (const s of sockets) s.destroy();
      const srv = server;
      server = undefined;
      if (srv) await new Promise<void>((r) => srv.close(() => r()));
    },
    close: () => dc.down(),
  };

  function handle(sock: Socket): void {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    const framer = new LdapFramer();
    let serverChallenge: Buffer | undefined;
    sock.on('data', (chunk) => {
      for (const m of framer.feed(chunk)) {
        if (dc.mode !== 'up') continue;
        const el = decode(m);
        const id = readInteger(el.children![0]!, 'id');
        const op = el.children![1]!;
        if (op.tag !== Op.BindRequest) continue;
        const token = saslToken(op);
        if (!token || token.readUInt32LE(8) === 1) {
          serverChallenge = randomBytes(8);
          const challenge = encodeChallenge({
            flags: (F.NEGOTIATE_UNICODE | F.NEGOTIATE_NTLM | F.NEGOTIATE_SIGN | F.NEGOTIATE_TARGET_INFO | F.NEGOTIATE_EXTENDED_SESSIONSECURITY | F.NEGOTIATE_KEY_EXCH | F.NEGOTIATE_128) >>> 0,
            serverChallenge,
            targetName: domain,
            targetInfo: [
              { id: AvId.MsvAvNbComputerName, value: Buffer.from('DC1', 'utf16le') },
              { id: AvId.MsvAvNbDomainName, value: Buffer.from(domain, 'utf16le') },
            ],
          });
          sock.write(bindResponse(id, 14, '', challenge));
          continue;
        }
        const auth = decodeAuthenticate(token);
        const hash = hashes.get(auth.user.toLowerCase());
        const ok = hash && serverChallenge && verifyNtlmV2({ ntHash: hash, user: auth.user, domain: auth.domain, serverChallenge, ntResponse: auth.ntResponse }).ok;
        dc.verdicts++;
        sock.write(ok ? bindResponse(id, 0) : bindResponse(id, 49, '80090308: LdapErr: DSID-0C09042A, comment: AcceptSecurityContext error, data 52e, v4563'));
      }
    });
  }

  async function listen(): Promise<void> {
    const srv = createServer(handle);
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(dc.port, '127.0.0.1', () => resolve());
    });
    server = srv;
    dc.port = (srv.address() as { port: number }).port;
    dc.url = `ldap://127.0.0.1:${dc.port}`;
  }

  await dc.up();
  return dc;
}
