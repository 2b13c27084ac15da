/**
 * Channel bindings with real peers [MS-NLMP 3.1.5.2.2, RFC 5929 tls-server-end-point]: the
 * MsvAvChannelBindings value is MD5 of a gss_channel_bindings_struct, so both sides must build
 * the same struct from the same application data.
 *  - our acceptor (AcceptOptions.channelBindings = channelBindingsHash(appData)) <- python3-ntlm-auth
 *    (cbt_data) and gss-ntlmssp (gss ChannelBindings): same data logs in, other data or none is
 *    SEC_E_BAD_BINDINGS;
 *  - our client (channelBindings = channelBindingsStruct(appData)) -> gss-ntlmssp acceptor with
 *    the same bindings: accepted; with other bindings: refused.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { channelBindingsHash, createClientContext, SEC_E_BAD_BINDINGS, SEC_E_OK, SEC_I_CONTINUE_NEEDED, statusName, type CredentialHandle } from '../../src/ntlm/index.js';
import { channelBindingsStruct } from '../../src/ntlm/client.js';
import { makeLocalAuthority, type LocalAuthorityFixture } from '../../scripts/interop/local-authority-fixture.js';
import { ourAcceptSession, ourCredential } from '../../scripts/interop/our-acceptor.js';
import { gssAcceptor, gssClient, ntlmAuthPyClient, PeerSet, type BindingOptions, type Credentials, type NtlmClientPeer } from '../../scripts/interop/ntlm-peers.js';
import { needs } from '../helpers/tools.js';

const GSSNTLMSSP = '/usr/lib/x86_64-linux-gnu/gssntlmssp/gssntlmssp.so';
const USER = 'erin';
const PASSWORD = 'Bound-2-tls';
const DOMAIN = 'RASGATE';
const right: Credentials = { user: USER, password: PASSWORD, domain: DOMAIN };

/** RFC 5929 tls-server-end-point application data for a made-up certificate. */
function endPoint(certificate: string): Buffer {
  return Buffer.concat([Buffer.from('tls-server-end-point:'), createHash('sha256').update(certificate).digest()]);
}
const OURS = endPoint('the gateway certificate');
const OTHER = endPoint('a man in the middle');

const peers = new PeerSet();
let fx: LocalAuthorityFixture;
let credential: CredentialHandle;

before(() => {
  fx = makeLocalAuthority([{ name: USER, password: PASSWORD }], DOMAIN);
  credential = ourCredential(fx.authority, { netbiosComputerName: 'RASGATE-TEST' });
});
after(async () => {
  peers.killAll();
  await fx?.cleanup();
});

async function handshake(client: NtlmClientPeer, expected: Buffer): Promise<{ status: number; reason: string }> {
  const session = ourAcceptSession(credential, undefined, { channelBindings: channelBindingsHash(expected) });
  try {
    const leg1 = await session.step(await client.negotiate());
    assert.equal(leg1.status, SEC_I_CONTINUE_NEEDED, `NEGOTIATE: ${statusName(leg1.status)} (${leg1.reason})`);
    const leg2 = await session.step(await client.authenticate(leg1.outputToken!));
    return { status: leg2.status, reason: leg2.reason };
  } finally {
    session.close();
  }
}

const clients: { name: string; skip: false | string; make: (o: BindingOptions) => NtlmClientPeer }[] = [
  { name: 'python3-ntlm-auth', skip: needs('py:ntlm_auth', 'py:Cryptodome'), make: (o) => ntlmAuthPyClient(peers, right, o) },
  { name: 'gss-ntlmssp (python3-gssapi)', skip: needs('py:gssapi', GSSNTLMSSP), make: (o) => gssClient(peers, right, o) },
];

for (const client of clients) {
  describe(`our acceptor with channel bindings <- ${client.name}`, { skip: client.skip }, () => {
    test('same tls-server-end-point data: SEC_E_OK', async () => {
      const r = await handshake(client.make({ cbtAppData: OURS }), OURS);
      assert.equal(r.status, SEC_E_OK, `${statusName(r.status)} (${r.reason})`);
    });

    test('bound to another certificate: SEC_E_BAD_BINDINGS', async () => {
      const r = await handshake(client.make({ cbtAppData: OTHER }), OURS);
      assert.equal(r.status, SEC_E_BAD_BINDINGS, `${statusName(r.status)} (${r.reason})`);
    });

    test('client sends no bindings while we require them: SEC_E_BAD_BINDINGS', async () => {
      const r = await handshake(client.make({}), OURS);
      assert.equal(r.status, SEC_E_BAD_BINDINGS, `${statusName(r.status)} (${r.reason})`);
    });
  });
}

describe('our client with channel bindings -> gss-ntlmssp acceptor', { skip: needs('py:gssapi', GSSNTLMSSP) }, () => {
  let dir: string;
  let userFile: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rasgate-gss-cb-'));
    userFile = join(dir, 'users');
    writeFileSync(userFile, `${DOMAIN}:${USER}:${PASSWORD}\n`, { mode: 0o600 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function login(clientData: Buffer, acceptorData: Buffer): Promise<boolean> {
    const acceptor = gssAcceptor(peers, userFile, { cbtAppData: acceptorData });
    const ctx = createClientContext({ ...right, channelBindings: channelBindingsStruct(clientData) });
    const auth = ctx.authenticate(await acceptor.challenge(ctx.negotiate()));
    return (await acceptor.authenticate(auth.token)).ok;
  }

  test('same bindings: accepted', async () => {
    assert.equal(await login(OURS, OURS), true);
  });

  test('different bindings: refused', async () => {
    assert.equal(await login(OTHER, OURS), false);
  });
});
