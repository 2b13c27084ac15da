/**
 * ntlmHandler's edges (the happy path is docs/library.md's example, test/ntlm/library-doc.test.ts):
 * tokens it cannot use, an authority that is down, refusals reported, a fault handed to next().
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, Agent, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireCredentialsHandle, ntlmHandler, type NtlmHandlerOptions, type NtlmRefusal, type Authority } from '../../src/ntlm/index.js';
import { LocalAuthority } from '../../src/authority/index.js';
import { createClientContext } from '../../src/ntlm/client.js';
import { formatLine } from '../../src/authority/local/smbpasswd.js';
import { ntowfv1 } from '../../src/ntlm/crypto.js';

const dir = mkdtempSync(join(tmpdir(), 'rasgate-http-'));
const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});
const file = join(dir, 'smbpasswd');
writeFileSync(file, formatLine({ name: 'alice', uid: 1000, ntHash: ntowfv1('alice-pw'), hasLmHash: false, flags: new Set(['U']), lastChange: 0x5f5e1000 }) + '\n', { mode: 0o600 });
const local = new LocalAuthority({ file, domain: 'WEB' });

async function start(authority: Authority, options: NtlmHandlerOptions = {}, then?: (err: unknown) => void): Promise<string> {
  const handler = ntlmHandler(acquireCredentialsHandle({ authority }), options);
  const server = createServer((req, res) =>
    handler(req, res, (err) => {
      if (err) {
        then?.(err);
        res.statusCode = 500;
        return res.end();
      }
      res.end(`hello ${(req as { ntlm?: { user: string } }).ntlm!.user}`);
    }),
  );
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
}

function get(url: string, agent: Agent, authorization?: string): Promise<{ status: number; authenticate: string[]; connection?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: authorization ? { Authorization: authorization } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, authenticate: res.headersDistinct['www-authenticate'] ?? [], connection: res.headers.connection }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('a SPNEGO (Kerberos) token under Negotiate: NTLM alone is offered back; garbage is a fresh offer', async () => {
  const url = await start(local);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const spnego = Buffer.from('6082012a06062b0601050502a0', 'hex').toString('base64');
  assert.deepEqual((await get(url, agent, `Negotiate ${spnego}`)).authenticate, ['NTLM']);
  assert.deepEqual((await get(url, agent, 'Basic YWxpY2U6eA==')).authenticate, ['Negotiate', 'NTLM']);
  assert.deepEqual((await get(url, agent, 'NTLM !!!')).authenticate, ['Negotiate', 'NTLM']);
  // An AUTHENTICATE with no NEGOTIATE before it on this connection: refused, connection closed.
  const client = createClientContext({ user: 'alice', domain: '', password: 'alice-pw' });
  const other = new Agent({ keepAlive: true, maxSockets: 1 });
  const leg1 = await get(url, other, `NTLM ${client.negotiate().toString('base64')}`);
  const auth = client.authenticate(Buffer.from(leg1.authenticate[0]!.split(' ')[1]!, 'base64')).token;
  const stray = await get(url, agent, `NTLM ${auth.toString('base64')}`);
  assert.equal(stray.status, 401);
  assert.equal(stray.connection, 'close');
  agent.destroy();
  other.destroy();
});

test('refusals are reported to onRefused; an authority that is down is 503, not 401', async () => {
  const refusals: NtlmRefusal[] = [];
  const url = await start(local, { onRefused: (_req, r) => refusals.push(r) });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const client = createClientContext({ user: 'alice', domain: '', password: 'wrong' });
  const leg1 = await get(url, agent, `NTLM ${client.negotiate().toString('base64')}`);
  const leg3 = await get(url, agent, `NTLM ${client.authenticate(Buffer.from(leg1.authenticate[0]!.split(' ')[1]!, 'base64')).token.toString('base64')}`);
  assert.equal(leg3.status, 401);
  assert.equal(refusals[0]?.denyReason, 'bad-credentials');
  agent.destroy();

  const down: Authority = { type: 'down', verify: async () => ({ result: 'unavailable', detail: 'dc down' }), close: async () => {} };
  const url2 = await start(down);
  const agent2 = new Agent({ keepAlive: true, maxSockets: 1 });
  const c2 = createClientContext({ user: 'alice', domain: '', password: 'alice-pw' });
  const l1 = await get(url2, agent2, `NTLM ${c2.negotiate().toString('base64')}`);
  const l3 = await get(url2, agent2, `NTLM ${c2.authenticate(Buffer.from(l1.authenticate[0]!.split(' ')[1]!, 'base64')).token.toString('base64')}`);
  assert.equal(l3.status, 503);
  agent2.destroy();
});

test('a fault of the handler itself goes to next(err); bad options are refused at once', async () => {
  const faults: unknown[] = [];
  const url = await start(local, { channelBindings: () => { throw new Error('no certificate'); } }, (e) => faults.push(e));
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const client = createClientContext({ user: 'alice', domain: '', password: 'alice-pw' });
  assert.equal((await get(url, agent, `NTLM ${client.negotiate().toString('base64')}`)).status, 500);
  assert.equal((faults[0] as Error).message, 'no certificate');
  agent.destroy();
  assert.throws(() => ntlmHandler(acquireCredentialsHandle({ authority: local }), { schemes: ['Basic' as never] }), TypeError);
});

test('a lent credential is given back when each context ends (logon, refusal, connection gone); authorize refuses with 403 and names the user', async () => {
  const credential = acquireCredentialsHandle({ authority: local });
  let lent = 0;
  const lender = () => {
    lent++;
    return { credential, release: () => lent-- };
  };
  const refusals: NtlmRefusal[] = [];
  const logons: string[] = [];
  const handler = ntlmHandler(lender, {
    authorize: (_req, identity) => (identity.user === 'alice' && logons.length > 0 ? 'second-alice-refused' : true),
    onLogon: (_req, identity) => logons.push(identity.user),
    onRefused: (_req, r) => refusals.push(r),
  });
  const server = createServer((req, res) => void handler(req, res, () => res.end('in')));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  const logOn = async (password: string) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const client = createClientContext({ user: 'alice', domain: '', password });
    const leg1 = await get(url, agent, `NTLM ${client.negotiate().toString('base64')}`);
    assert.equal(lent, 1, 'lent for the handshake');
    const leg3 = await get(url, agent, `NTLM ${client.authenticate(Buffer.from(leg1.authenticate[0]!.split(' ')[1]!, 'base64')).token.toString('base64')}`);
    agent.destroy();
    return leg3;
  };
  assert.equal((await logOn('alice-pw')).status, 200);
  assert.equal(lent, 0);
  assert.deepEqual(logons, ['alice']);
  const wrong = await logOn('nope');
  assert.equal(wrong.status, 401);
  assert.equal(lent, 0);
  assert.equal(refusals[0]?.user, 'alice', 'the refused user is named');
  const second = await logOn('alice-pw');
  assert.equal(second.status, 403);
  assert.equal(second.connection, 'close');
  assert.equal(refusals[1]?.reason, 'second-alice-refused');
  assert.equal(refusals[1]?.user, 'alice');
  assert.equal(lent, 0);
  // A connection that goes away after its NEGOTIATE gives the credential back.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  await get(url, agent, `NTLM ${createClientContext({ user: 'alice', domain: '', password: 'x' }).negotiate().toString('base64')}`);
  assert.equal(lent, 1);
  agent.destroy();
  await waitUntil(() => lent === 0);
});

async function waitUntil(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond());
}
