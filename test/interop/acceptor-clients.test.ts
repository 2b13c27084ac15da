/**
 * Our acceptor (acceptSecurityContext + the local smbpasswd authority) against real NTLM
 * clients: the right password logs in as the right user, a wrong one is SEC_E_LOGON_DENIED.
 * Clients: python3-impacket, python3-ntlm-auth, Samba ntlm_auth ntlmssp-client-1 (always a
 * MIC), gss-ntlmssp through python3-gssapi, and curl --ntlm over the HTTP harness (OEM, no MIC).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Layout, NegotiateFlags, SEC_E_LOGON_DENIED, SEC_E_OK, SEC_I_CONTINUE_NEEDED, statusName, type CredentialHandle } from '../../src/ntlm/index.js';
import { makeLocalAuthority, type LocalAuthorityFixture } from '../../scripts/interop/local-authority-fixture.js';
import { ourAcceptSession, ourCredential } from '../../scripts/interop/our-acceptor.js';
import { gssClient, impacketClient, ntlmAuthPyClient, PeerSet, sambaClient, type Credentials, type NtlmClientPeer } from '../../scripts/interop/ntlm-peers.js';
import { startHttpNtlmServer, type HttpNtlmServer } from '../../scripts/interop/http-ntlm-server.js';
import { payloadStart } from '../../scripts/interop/token-bytes.js';
import type { Authority } from '../../src/ntlm/authority.js';
import { needs, toolPath } from '../helpers/tools.js';

const USER = 'alice';
const PASSWORD = 'Corr3ct horse!';
const DOMAIN = 'RASGATE';
const GSSNTLMSSP = '/usr/lib/x86_64-linux-gnu/gssntlmssp/gssntlmssp.so';

const status = (s: number): string => `${statusName(s)} (0x${(s >>> 0).toString(16)})`;

let fx: LocalAuthorityFixture;
let credential: CredentialHandle;
const peers = new PeerSet();

before(() => {
  fx = makeLocalAuthority([{ name: USER, password: PASSWORD }], DOMAIN);
  credential = ourCredential(fx.authority, { netbiosComputerName: 'RASGATE-TEST' });
});

after(async () => {
  peers.killAll();
  await fx?.cleanup();
});

/** Drive one handshake: client NEGOTIATE -> our CHALLENGE -> client AUTHENTICATE -> verdict. */
async function handshake(client: NtlmClientPeer, cred: CredentialHandle = credential): Promise<{ status: number; reason: string; user?: string; domain?: string; negotiate: Buffer; authenticate: Buffer }> {
  const session = ourAcceptSession(cred);
  try {
    const negotiate = await client.negotiate();
    const leg1 = await session.step(negotiate);
    assert.equal(leg1.status, SEC_I_CONTINUE_NEEDED, `${client.name}: NEGOTIATE gave ${status(leg1.status)} (${leg1.reason})`);
    const authenticate = await client.authenticate(leg1.outputToken!);
    const leg2 = await session.step(authenticate);
    return { status: leg2.status, reason: leg2.reason, ...session.identity(), negotiate, authenticate };
  } finally {
    session.close();
  }
}

const right: Credentials = { user: USER, password: PASSWORD, domain: DOMAIN };
const wrong: Credentials = { ...right, password: 'Corr3ct horse?' };

const clients: { name: string; skip: false | string; make: (c: Credentials) => NtlmClientPeer }[] = [
  { name: 'python3-impacket', skip: needs('py:impacket'), make: (c) => impacketClient(peers, c) },
  { name: 'python3-ntlm-auth', skip: needs('py:ntlm_auth', 'py:Cryptodome'), make: (c) => ntlmAuthPyClient(peers, c) },
  { name: 'Samba ntlm_auth ntlmssp-client-1', skip: needs('ntlm_auth'), make: (c) => sambaClient(peers, c) },
  { name: 'gss-ntlmssp (python3-gssapi)', skip: needs('py:gssapi', GSSNTLMSSP), make: (c) => gssClient(peers, c) },
];

for (const client of clients) {
  describe(`our acceptor <- ${client.name}`, { skip: client.skip }, () => {
    test('right password: SEC_E_OK, and the context names the user', async () => {
      const r = await handshake(client.make(right));
      assert.equal(r.status, SEC_E_OK, `got ${status(r.status)} (${r.reason})`);
      assert.equal(r.user?.toLowerCase(), USER);
      assert.equal(r.domain, DOMAIN);
    });

    test('wrong password: SEC_E_LOGON_DENIED', async () => {
      const r = await handshake(client.make(wrong));
      assert.equal(r.status, SEC_E_LOGON_DENIED, `got ${status(r.status)} (${r.reason})`);
      assert.equal(r.user, undefined);
    });

    test('user name in another case and the domain lower-cased still log in (Samba semantics)', async () => {
      const r = await handshake(client.make({ ...right, user: USER.toUpperCase(), domain: DOMAIN.toLowerCase() }));
      assert.equal(r.status, SEC_E_OK, `got ${status(r.status)} (${r.reason})`);
      assert.equal(r.user, USER);
    });
  });
}

/*
 * The acceptor has two paths for leg 3: synchronous when the authority offers verifySync (the
 * local store, used above) and an invoked actor otherwise (remote authorities). Same peers,
 * through an authority that only has the asynchronous verify().
 */
describe('our acceptor through an async-only authority (the actor path)', () => {
  let asyncCredential: CredentialHandle;
  before(() => {
    const local = fx.authority;
    const asyncOnly: Authority = { type: 'async-local', verify: (check, signal) => local.verify(check, signal), close: async () => {} };
    asyncCredential = ourCredential(asyncOnly, { netbiosComputerName: 'RASGATE-TEST', netbiosDomainName: DOMAIN });
  });

  for (const client of clients) {
    test(`${client.name}: right password SEC_E_OK, wrong SEC_E_LOGON_DENIED`, { skip: client.skip }, async () => {
      const ok = await handshake(client.make(right), asyncCredential);
      assert.equal(ok.status, SEC_E_OK, `got ${status(ok.status)} (${ok.reason})`);
      assert.equal(ok.user, USER);
      const denied = await handshake(client.make(wrong), asyncCredential);
      assert.equal(denied.status, SEC_E_LOGON_DENIED, `got ${status(denied.status)} (${denied.reason})`);
    });
  }
});

/** curl exit code and body for one `curl --ntlm` run (bounded). */
function curl(url: string, userpass: string): Promise<{ code: number | null; body: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(toolPath('curl'), ['--silent', '--show-error', '--fail', '--max-time', '10', '--ntlm', '-u', userpass, url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let body = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (body += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('close', (code) => resolve({ code, body, stderr }));
  });
}

describe('our acceptor <- curl --ntlm over HTTP', { skip: needs('curl') }, () => {
  let http: HttpNtlmServer;
  before(async () => {
    http = await startHttpNtlmServer({ newSession: () => ourAcceptSession(credential), continueStatus: SEC_I_CONTINUE_NEEDED, okStatus: SEC_E_OK });
  });
  after(async () => {
    await http?.close();
  });

  test('right password: 200 and the acceptor names the user', async () => {
    const before = http.outcomes.length;
    const r = await curl(http.url, `${DOMAIN}\\${USER}:${PASSWORD}`);
    assert.equal(r.code, 0, `curl failed: ${r.stderr}`);
    assert.equal(r.body.trim(), `user=${DOMAIN}\\${USER}`);
    const got = http.outcomes.slice(before);
    assert.deepEqual(got.map(({ status, user, domain }) => ({ status, user, domain })), [{ status: SEC_E_OK, user: USER, domain: DOMAIN }]);
    assert.equal(got[0]!.reason, 'ok');
    // What makes curl worth testing: OEM strings, a 32-byte NEGOTIATE, a real LMv2, no MIC.
    const [negotiate, authenticate] = got[0]!.tokens;
    assert.equal(negotiate!.length, 32, 'curl NEGOTIATE length');
    const flags = authenticate!.readUInt32LE(60);
    assert.equal(flags & NegotiateFlags.NEGOTIATE_UNICODE, 0, 'curl speaks OEM');
    assert.equal(authenticate!.readUInt16LE(12), 24, 'LMv2 response is 24 bytes');
    assert.ok(authenticate!.readUInt16LE(20) > 24, 'NTLMv2 response');
    assert.ok(payloadStart(authenticate!) < Layout.AUTHENTICATE_WITH_MIC, 'no MIC slot');
  });

  test('wrong password: 401 and SEC_E_LOGON_DENIED', async () => {
    const before = http.outcomes.length;
    const r = await curl(http.url, `${DOMAIN}\\${USER}:nope`);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /401/);
    assert.deepEqual(http.outcomes.slice(before).map((o) => o.status), [SEC_E_LOGON_DENIED]);
  });
});
