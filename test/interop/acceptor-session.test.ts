/**
 * Session security after our acceptor established a context with python3-ntlm-auth
 * (ASC_REQ_CONFIDENTIALITY | ASC_REQ_INTEGRITY): messages sealed by the peer's GSS_WrapEx open
 * with our decryptMessage and ours with its GSS_UnwrapEx, sequence numbers advance on both
 * sides, and a flipped byte is refused by each side [MS-NLMP 3.4.6, 3.4.7]. And with impacket
 * (KEY_EXCH with its own random session key): our signature equals the one its key gives.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ASC_REQ_CONFIDENTIALITY,
  ASC_REQ_CONNECTION,
  ASC_REQ_INTEGRITY,
  ASC_RET_CONFIDENTIALITY,
  ASC_RET_INTEGRITY,
  SECURITY_NATIVE_DREP,
  SEC_E_MESSAGE_ALTERED,
  SEC_E_OK,
  SEC_I_CONTINUE_NEEDED,
  NtlmSessionError,
  NegotiateFlags,
  acceptSecurityContext,
  decryptMessage,
  makeSignature,
  deleteSecurityContext,
  encryptMessage,
  statusName,
  type SecurityContext,
} from '../../src/ntlm/index.js';
import { makeLocalAuthority, type LocalAuthorityFixture } from '../../scripts/interop/local-authority-fixture.js';
import { ourCredential } from '../../scripts/interop/our-acceptor.js';
import { impacketKeyedClient, ntlmAuthPySession, PeerSet, type NtlmSessionPeer } from '../../scripts/interop/ntlm-peers.js';
import { ntlmGssMic } from '../../scripts/interop/ntlm-gss-mic.js';
import { Layout } from '../../src/ntlm/constants.js';
import { needs } from '../helpers/tools.js';

const USER = 'dave';
const PASSWORD = 'Seal-me-1n';
const DOMAIN = 'RASGATE';
const REQ = ASC_REQ_CONFIDENTIALITY | ASC_REQ_INTEGRITY | ASC_REQ_CONNECTION;

describe('session security with python3-ntlm-auth', { skip: needs('py:ntlm_auth', 'py:Cryptodome') }, () => {
  const peers = new PeerSet();
  let fx: LocalAuthorityFixture;
  let context: SecurityContext;
  let peer: NtlmSessionPeer;

  before(async () => {
    fx = makeLocalAuthority([{ name: USER, password: PASSWORD }], DOMAIN);
    const credential = ourCredential(fx.authority, { netbiosComputerName: 'RASGATE-TEST' });
    peer = ntlmAuthPySession(peers, { user: USER, password: PASSWORD, domain: DOMAIN });
    const leg1 = await acceptSecurityContext(credential, null, await peer.negotiate(), REQ, SECURITY_NATIVE_DREP);
    assert.equal(leg1.status, SEC_I_CONTINUE_NEEDED, statusName(leg1.status));
    const leg2 = await acceptSecurityContext(credential, leg1.context, await peer.authenticate(leg1.outputToken!), REQ, SECURITY_NATIVE_DREP);
    assert.equal(leg2.status, SEC_E_OK, `${statusName(leg2.status)} (${leg2.reason})`);
    assert.equal(leg2.contextAttr & (ASC_RET_CONFIDENTIALITY | ASC_RET_INTEGRITY), ASC_RET_CONFIDENTIALITY | ASC_RET_INTEGRITY);
    context = leg2.context!;
  });

  after(async () => {
    peers.killAll();
    if (context) deleteSecurityContext(context);
    await fx?.cleanup();
  });

  const split = (wrapped: Buffer): { signature: Buffer; sealed: Buffer } => ({
    signature: wrapped.subarray(0, Layout.SIGNATURE_LENGTH),
    sealed: wrapped.subarray(Layout.SIGNATURE_LENGTH),
  });

  // The tests run in order and share the two sequence counters, as a real session does.
  test('peer -> us: two sealed messages open in order', async () => {
    for (const text of ['first message from the client', 'second one, sequence 1']) {
      const { signature, sealed } = split(await peer.wrap(Buffer.from(text)));
      assert.notEqual(sealed.toString(), text, 'sealed, not plain');
      assert.equal(decryptMessage(context, sealed, signature).toString(), text);
    }
  });

  test('us -> peer: two sealed messages open in order', async () => {
    for (const text of ['hello from the gateway', 'and again']) {
      const { sealed, signature } = encryptMessage(context, Buffer.from(text));
      const opened = await peer.unwrap(Buffer.concat([signature, sealed]));
      assert.ok(Buffer.isBuffer(opened), `ntlm-auth refused our message: ${opened instanceof Error ? opened.message : ''}`);
      assert.equal(opened.toString(), text);
    }
  });

  test('a flipped byte in the peer\'s sealed message is refused by us', async () => {
    const { signature, sealed } = split(await peer.wrap(Buffer.from('tamper with me')));
    const bad = Buffer.from(sealed);
    bad[3]! ^= 0x20;
    assert.throws(() => decryptMessage(context, bad, signature), (err: unknown) => err instanceof NtlmSessionError && err.code === 'NTLM_MESSAGE_ALTERED' && err.status === SEC_E_MESSAGE_ALTERED);
  });

  test('a flipped byte in our sealed message is refused by the peer', async () => {
    const { sealed, signature } = encryptMessage(context, Buffer.from('tamper with me too'));
    const bad = Buffer.from(sealed);
    bad[2]! ^= 0x01;
    const opened = await peer.unwrap(Buffer.concat([signature, bad]));
    assert.ok(opened instanceof Error, 'ntlm-auth must refuse an altered message');
  });
});

describe('session key agreement with python3-impacket (KEY_EXCH, SIGN, SEAL)', { skip: needs('py:impacket') }, () => {
  const peers = new PeerSet();
  let fx: LocalAuthorityFixture;
  after(async () => {
    peers.killAll();
    await fx?.cleanup();
  });

  test("our makeSignature equals the MS-NLMP signature under impacket's exported session key", async () => {
    fx = makeLocalAuthority([{ name: USER, password: PASSWORD }], DOMAIN);
    const credential = ourCredential(fx.authority, { netbiosComputerName: 'RASGATE-TEST' });
    const client = impacketKeyedClient(peers, { user: USER, password: PASSWORD, domain: DOMAIN }, { sign: true });
    const req = ASC_REQ_INTEGRITY | ASC_REQ_CONNECTION;
    const leg1 = await acceptSecurityContext(credential, null, await client.negotiate(), req, SECURITY_NATIVE_DREP);
    assert.equal(leg1.status, SEC_I_CONTINUE_NEEDED, statusName(leg1.status));
    const auth = await client.authenticate(leg1.outputToken!);
    assert.ok(auth.flags & NegotiateFlags.NEGOTIATE_KEY_EXCH, 'impacket negotiated KEY_EXCH');
    const leg2 = await acceptSecurityContext(credential, leg1.context, auth.token, req, SECURITY_NATIVE_DREP);
    try {
      assert.equal(leg2.status, SEC_E_OK, `${statusName(leg2.status)} (${leg2.reason})`);
      const message = Buffer.from('signed by the gateway');
      assert.deepEqual(makeSignature(leg2.context!, message), ntlmGssMic(auth.exportedSessionKey, auth.flags, 'server-to-client', message, 0));
    } finally {
      deleteSecurityContext(leg2.context);
    }
  });
});
