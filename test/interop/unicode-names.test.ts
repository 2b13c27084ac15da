/**
 * Non-ASCII user names: NTOWFv2 uppercases the user name [MS-NLMP 3.3.2], and peers disagree on
 * what "uppercase" means beyond ASCII. Samba 4.17 (its Windows-derived upcase table) leaves
 * many characters alone that JavaScript's and Python's case mappings change: U+0131 dotless i,
 * U+00B5 micro, U+01C5 titlecase digraphs, Greek symbol forms (U+03D0...), Georgian, Cherokee,
 * and the length-changing ones (U+00DF). impacket and gss-ntlmssp use the full Unicode mapping.
 * The acceptor accepts both spellings (ntlmUppercase = the Windows/Samba table first, then the
 * full mapping; BUG-1 in /work/notes/interop-findings.md, fixed).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SEC_E_OK, SEC_I_CONTINUE_NEEDED, statusName, type CredentialHandle } from '../../src/ntlm/index.js';
import { makeLocalAuthority, type LocalAuthorityFixture } from '../../scripts/interop/local-authority-fixture.js';
import { ourAcceptSession, ourCredential } from '../../scripts/interop/our-acceptor.js';
import { gssClient, impacketClient, PeerSet, sambaClient, type Credentials, type NtlmClientPeer } from '../../scripts/interop/ntlm-peers.js';
import { needs } from '../helpers/tools.js';

const GSSNTLMSSP = '/usr/lib/x86_64-linux-gnu/gssntlmssp/gssntlmssp.so';
const PASSWORD = 'Ünïcode-pw';
const DOMAIN = 'RASGATE';

/** Names where Samba's spelling (Windows' table) and the full Unicode one differ, and some that agree. */
const NAMES: { name: string }[] = [
  { name: 'josé' },
  { name: 'Ωmega' },
  { name: 'ÿvonne' },
  { name: 'straße' },
  { name: 'ırmak' },
  { name: 'µsoft' },
  { name: 'ǅemal' },
  { name: 'ϐeta' },
  { name: 'ანა' },
];

const peers = new PeerSet();
let fx: LocalAuthorityFixture;
let credential: CredentialHandle;

before(() => {
  fx = makeLocalAuthority(NAMES.map(({ name }) => ({ name, password: PASSWORD })), DOMAIN);
  credential = ourCredential(fx.authority, { netbiosComputerName: 'RASGATE-TEST' });
});
after(async () => {
  peers.killAll();
  await fx?.cleanup();
});

async function login(client: NtlmClientPeer): Promise<{ status: number; reason: string; user?: string }> {
  const session = ourAcceptSession(credential);
  try {
    const leg1 = await session.step(await client.negotiate());
    assert.equal(leg1.status, SEC_I_CONTINUE_NEEDED, statusName(leg1.status));
    const leg2 = await session.step(await client.authenticate(leg1.outputToken!));
    return { status: leg2.status, reason: leg2.reason, ...session.identity() };
  } finally {
    session.close();
  }
}

const as = (name: string): Credentials => ({ user: name, password: PASSWORD, domain: DOMAIN });

describe('non-ASCII user names <- Samba ntlm_auth ntlmssp-client-1', { skip: needs('ntlm_auth') }, () => {
  for (const { name } of NAMES) {
    test(`${name} (${[...name].map((c) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`).join(' ')}) logs in`, async () => {
      const r = await login(sambaClient(peers, as(name)));
      assert.equal(r.status, SEC_E_OK, `${statusName(r.status)} (${r.reason})`);
      assert.equal(r.user, name);
    });
  }
});

// The full-mapping clients log in with these names too (verifyNtlmV2's second spelling), 'straße'
// included: they key with "STRASSE" (Samba's server would refuse that; we accept it).
const fullMapping: { name: string; skip: false | string; make: (c: Credentials) => NtlmClientPeer }[] = [
  { name: 'python3-impacket', skip: needs('py:impacket'), make: (c) => impacketClient(peers, c) },
  { name: 'gss-ntlmssp', skip: needs('py:gssapi', GSSNTLMSSP), make: (c) => gssClient(peers, c) },
];
for (const client of fullMapping) {
  describe(`non-ASCII user names <- ${client.name}`, { skip: client.skip }, () => {
    for (const { name } of NAMES) {
      test(`${name} logs in`, async () => {
        const r = await login(client.make(as(name)));
        assert.equal(r.status, SEC_E_OK, `${statusName(r.status)} (${r.reason})`);
      });
    }
  });
}

// Passwords are not uppercased (NT hash = MD4(UTF-16LE(password))): astral characters included.
// Domains are sent as typed and tried as sent, uppercased, empty. impacket cannot take such a
// password (it computes an LM hash in Latin-1) and ntlm-auth cannot take such a domain (its
// NEGOTIATE encodes the domain in ASCII): peer limits, so only Samba and gss-ntlmssp here.
describe('non-ASCII passwords and domains, long user names', () => {
  let fx2: LocalAuthorityFixture;
  let cred2: CredentialHandle;
  const PW = 'pässwörd😀 ';
  const LONG = `u${'x'.repeat(99)}`;
  before(() => {
    fx2 = makeLocalAuthority([{ name: 'pwuser', password: PW }, { name: LONG, password: PW }], 'DOMÄNE');
    cred2 = ourCredential(fx2.authority, { netbiosComputerName: 'RASGATE-TEST' });
  });
  after(async () => {
    await fx2?.cleanup();
  });

  async function login2(client: NtlmClientPeer): Promise<number> {
    const session = ourAcceptSession(cred2);
    try {
      const leg1 = await session.step(await client.negotiate());
      const leg2 = await session.step(await client.authenticate(leg1.outputToken!));
      return leg2.status;
    } finally {
      session.close();
    }
  }

  const clients: { name: string; skip: false | string; make: (c: Credentials) => NtlmClientPeer }[] = [
    { name: 'Samba ntlm_auth', skip: needs('ntlm_auth'), make: (c) => sambaClient(peers, c) },
    { name: 'gss-ntlmssp', skip: needs('py:gssapi', GSSNTLMSSP), make: (c) => gssClient(peers, c) },
  ];
  for (const client of clients) {
    for (const domain of ['DOMÄNE', 'domäne', '']) {
      test(`${client.name}: password with umlauts and an emoji, domain ${JSON.stringify(domain)}`, { skip: client.skip }, async () => {
        assert.equal(statusName(await login2(client.make({ user: 'pwuser', password: PW, domain }))), statusName(SEC_E_OK));
      });
    }
    test(`${client.name}: a 100-character user name`, { skip: client.skip }, async () => {
      assert.equal(statusName(await login2(client.make({ user: LONG, password: PW, domain: 'DOMÄNE' }))), statusName(SEC_E_OK));
    });
  }
});
