/**
 * The ldap authority against a scripted LDAP server on 127.0.0.1 (no DC needed): what each bind
 * answer becomes, a notice of disconnection, an answer to an unknown messageID, and the search
 * filter it sends for policy lookups.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { Ber, constructed, decode, integer, octets, readInteger } from '../../src/authority/ldap/ber.js';
import { Ctx, Op } from '../../src/authority/ldap/constants.js';
import { LdapFramer } from '../../src/authority/ldap/framing.js';
import { LdapAuthority } from '../../src/authority/ldap/authority.js';
import { encodeChallenge } from '../../src/ntlm/messages.js';
import { AvId, NegotiateFlags as F } from '../../src/ntlm/constants.js';
import { initializeSecurityContext } from '../../src/ntlm/client.js';

const challenge = encodeChallenge({
  flags: (F.NEGOTIATE_UNICODE | F.NEGOTIATE_NTLM | F.NEGOTIATE_SIGN | F.NEGOTIATE_TARGET_INFO | F.NEGOTIATE_EXTENDED_SESSIONSECURITY) >>> 0,
  serverChallenge: Buffer.alloc(8, 7),
  targetName: 'CORP',
  targetInfo: [
    { id: AvId.MsvAvNbComputerName, value: Buffer.from('DC1', 'utf16le') },
    { id: AvId.MsvAvNbDomainName, value: Buffer.from('CORP', 'utf16le') },
  ],
});

const bindResponse = (id: number, code: number, diag = '', creds?: Buffer): Buffer =>
  constructed(Ber.Sequence, integer(id), constructed(Op.BindResponse, integer(code, Ber.Enumerated), octets(''), octets(diag), ...(creds ? [octets(creds, Ctx.ServerSaslCreds)] : [])));

/** A server that answers the first bind with the CHALLENGE and the second with `second(id)`. */
async function fakeDc(second: (id: number) => Buffer): Promise<{ url: string; server: Server; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on('error', () => undefined);
    const framer = new LdapFramer();
    let binds = 0;
    sock.on('data', (chunk) => {
      for (const m of framer.feed(chunk)) {
        const el = decode(m);
        const id = readInteger(el.children![0]!, 'id');
        if (el.children![1]!.tag !== Op.BindRequest) continue;
        sock.write(++binds === 1 ? bindResponse(id, 14, '', challenge) : second(id));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `ldap://127.0.0.1:${(server.address() as { port: number }).port}`, server, sockets };
}

async function relayOnce(url: string, extra: Record<string, unknown> = {}) {
  const a = new LdapAuthority({ servers: [url], responseTimeoutMs: 1000, ...extra });
  const credential = { user: 'alice', domain: 'CORP', password: 'pw' };
  const c1 = initializeSecurityContext(credential, null, undefined, 0);
  try {
    const ex = await a.relay(c1.outputToken!, new AbortController().signal);
    assert.deepEqual(ex.challenge, challenge, 'the DC challenge is passed on unchanged');
    const c2 = initializeSecurityContext(credential, c1.context, undefined, 0, ex.challenge);
    return await ex.authenticate(c2.outputToken!, new AbortController().signal);
  } finally {
    await a.close();
  }
}

const cases: Array<[string, (id: number) => Buffer, Record<string, unknown>]> = [
  ['success -> ok, domain from the DC challenge', (id) => bindResponse(id, 0), { result: 'ok', user: 'alice', domain: 'CORP' }],
  ['49 data 775 -> account-locked', (id) => bindResponse(id, 49, '80090308: LdapErr: DSID-0C09042A, comment: AcceptSecurityContext error, data 775, v3839'), { result: 'denied', reason: 'account-locked', user: 'alice', domain: 'CORP' }],
  ['49 data 525 -> bad-credentials', (id) => bindResponse(id, 49, '80090308: LdapErr: DSID-0C09042A, comment: AcceptSecurityContext error, data 525, v3839'), { result: 'denied', reason: 'bad-credentials', user: 'alice', domain: 'CORP' }],
  ['49 with an unknown data code -> unavailable', (id) => bindResponse(id, 49, '80090308: LdapErr: data 999, v1'), { result: 'unavailable' }],
  ['busy (51) -> unavailable', (id) => bindResponse(id, 51, 'busy'), { result: 'unavailable' }],
  ['notice of disconnection -> unavailable', () => constructed(Ber.Sequence, integer(0), constructed(Op.ExtendedResponse, integer(52, Ber.Enumerated), octets(''), octets('bye'), octets('1.3.6.1.4.1.1466.20036', Ctx.ExtResponseName))), { result: 'unavailable' }],
  ['answer to an unknown messageID -> unavailable', (id) => bindResponse(id + 5, 0), { result: 'unavailable' }],
  ['a search answer to a bind -> unavailable', (id) => constructed(Ber.Sequence, integer(id), constructed(Op.SearchResultDone, integer(0, Ber.Enumerated), octets(''), octets(''))), { result: 'unavailable' }],
];

for (const [what, second, expected] of cases) {
  test(`relay: ${what}`, async () => {
    const dc = await fakeDc(second);
    try {
      const v = await relayOnce(dc.url);
      if (expected.result === 'unavailable') assert.equal(v.result, 'unavailable', JSON.stringify(v));
      else assert.deepEqual(v, expected);
    } finally {
      for (const s of dc.sockets) s.destroy();
      dc.server.close();
    }
  });
}

test('relay: a first bind answered without a challenge fails over, and all failing is a thrown outage', async () => {
  const dc = await fakeDc((id) => bindResponse(id, 0));
  const refusing = createServer((sock) => {
    sock.on('error', () => undefined);
    sock.on('data', (chunk) => {
      const id = readInteger(decode(new LdapFramer().feed(chunk)[0]!).children![0]!, 'id');
      sock.write(bindResponse(id, 8, 'strong auth'));
    });
  });
  await new Promise<void>((r) => refusing.listen(0, '127.0.0.1', () => r()));
  const refusingUrl = `ldap://127.0.0.1:${(refusing.address() as { port: number }).port}`;
  try {
    const a = new LdapAuthority({ servers: [refusingUrl, dc.url] });
    const c1 = initializeSecurityContext({ user: 'alice', domain: 'CORP', password: 'pw' }, null, undefined, 0);
    const ex = await a.relay(c1.outputToken!, new AbortController().signal);
    assert.deepEqual(ex.challenge, challenge);
    ex.abort();
    // A DC that answers with a result code is alive: not marked dead.
    assert.deepEqual(a.health().map((h) => h.up), [true, true]);
    await a.close();
    const only = new LdapAuthority({ servers: [refusingUrl] });
    await assert.rejects(only.relay(c1.outputToken!, new AbortController().signal), /no domain controller gave a challenge/);
    await only.close();
  } finally {
    for (const s of dc.sockets) s.destroy();
    dc.server.close();
    refusing.close();
  }
});

test('relay: connections are made ready ahead of need, one per logon; one the DC dropped while it waited is replaced, the DC not marked dead', async () => {
  let accepted = 0;
  const dc = await fakeDc((id) => bindResponse(id, 0));
  dc.server.on('connection', () => accepted++);
  const a = new LdapAuthority({ servers: [dc.url], responseTimeoutMs: 1000, warmConnections: 2 });
  const credential = { user: 'alice', domain: 'CORP', password: 'pw' };
  const logon = async () => {
    const c1 = initializeSecurityContext(credential, null, undefined, 0);
    const ex = await a.relay(c1.outputToken!, new AbortController().signal);
    const c2 = initializeSecurityContext(credential, c1.context, undefined, 0, ex.challenge);
    return ex.authenticate(c2.outputToken!, new AbortController().signal);
  };
  const settle = async (n: number) => {
    for (let i = 0; i < 200 && accepted < n; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(accepted, n);
  };
  try {
    assert.equal((await logon()).result, 'ok');
    await settle(3); // the logon's own connection, then two made ready
    assert.equal((await logon()).result, 'ok');
    await settle(4); // it took a ready one; one more is made to keep two
    for (const s of dc.sockets) s.destroy(); // the DC drops every idle connection
    await new Promise((r) => setTimeout(r, 20));
    assert.equal((await logon()).result, 'ok', 'a fresh connection replaces the dropped ones');
    assert.deepEqual(a.health().map((h) => h.up), [true]);
  } finally {
    await a.close();
    for (const s of dc.sockets) s.destroy();
    dc.server.close();
  }
  const none = new LdapAuthority({ servers: [dc.url], warmConnections: 0 });
  await none.close();
  assert.throws(() => new LdapAuthority({ servers: [dc.url], warmConnections: -1 }), /warmConnections/);
  assert.throws(() => new LdapAuthority({ servers: [dc.url], groupCacheMs: 1.5 }), /groupCacheMs/);
});
