/**
 * Our NTLM client (src/ntlm/client.ts) against real acceptors:
 *  - Samba smbd, standalone on a loopback port with an smbpasswd user, over SMB 2.1 and 2.0.2 with
 *    signing required and our tokens in SPNEGO. smbd lets anonymous in with STATUS_SUCCESS, so
 *    success is proven by what only a server that checked our NTLMv2 response can produce: the
 *    final SESSION_SETUP response signed under our exported session key (HMAC-SHA256) and a
 *    SPNEGO mechListMIC that verifies under it; SessionFlags must not say guest or null.
 *  - gss-ntlmssp (NTLM_USER_FILE) through python3-gssapi accept_sec_context.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClientContext, initializeSecurityContext, ISC_REQ_CONNECTION, NtlmSessionError, SEC_E_OK, SEC_I_CONTINUE_NEEDED, statusName } from '../../src/ntlm/index.js';
import { startSmbd, type SmbdFixture } from '../../scripts/interop/smbd-fixture.js';
import { smbNtlmLogin, type NtlmInitiator } from '../../scripts/interop/smb-ntlm-login.js';
import { Dialect, NtStatus, Smb2SessionFlags } from '../../scripts/interop/smb2-client.js';
import { NegState } from '../../scripts/interop/spnego.js';
import { gssAcceptor, impacketKeyedClient, PeerSet } from '../../scripts/interop/ntlm-peers.js';
import { needs } from '../helpers/tools.js';

const GSSNTLMSSP = '/usr/lib/x86_64-linux-gnu/gssntlmssp/gssntlmssp.so';
const PASSWORD = 'Sm8d-passw0rd';

/**
 * Non-ASCII accounts on smbd: 'josé' uppercases the same everywhere; 'uıx' (U+0131) is one that
 * Samba's case table leaves alone in NTOWFv2 where full Unicode maps it to 'I' (src/ntlm/upcase.ts).
 */
const UNICODE_USERS = ['josé', 'uıx'];

/** Our client behind the NtlmInitiator shape the SMB login helper drives. */
function ourInitiator(user: string, domain: string, password: string): NtlmInitiator {
  const ctx = createClientContext({ user, domain, password, workstation: 'RASGATE-IT' });
  return {
    negotiate: async () => ctx.negotiate(),
    authenticate: async (challenge) => ctx.authenticate(challenge),
  };
}

const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;

describe('our client -> Samba smbd (SMB2, signing required, SPNEGO)', { skip: needs('root', 'smbd', 'smbpasswd', 'useradd', 'userdel') }, () => {
  let smbd: SmbdFixture;
  before(async () => {
    smbd = await startSmbd({ password: PASSWORD, extraUsers: UNICODE_USERS.map((user) => ({ user, password: PASSWORD })) });
  });
  after(async () => {
    await smbd?.stop();
  });

  for (const [name, dialect] of [['2.1', Dialect.SMB210], ['2.0.2', Dialect.SMB202]] as const) {
    test(`SMB ${name}, right password: SUCCESS, not guest/null, response signed under our key, mechListMIC verifies`, async () => {
      const r = await smbNtlmLogin(smbd.port, ourInitiator(smbd.user, smbd.workgroup, PASSWORD), dialect);
      assert.equal(r.status, NtStatus.SUCCESS, `SESSION_SETUP ${hex(r.status)}; smbd log:\n${smbd.log()}`);
      assert.equal(r.dialect, dialect);
      assert.equal(r.sessionFlags & (Smb2SessionFlags.IS_GUEST | Smb2SessionFlags.IS_NULL), 0, `SessionFlags ${hex(r.sessionFlags)}`);
      assert.equal(r.responseSigned, true, 'smbd must sign the final SESSION_SETUP response (signing mandatory)');
      assert.equal(r.signatureValid, true, 'SMB2 signature under our exported session key');
      assert.equal(r.negState, NegState.acceptCompleted);
      assert.equal(r.serverMechListMicValid, true, "smbd's mechListMIC under our key");
      assert.equal(r.engineVerifiedServerMic, true, "our session.verify accepts smbd's mechListMIC");
      assert.equal(r.engineMicMatches, true, 'our session.sign equals the spec computation');
    });
  }

  test('the domain in lower case and the user in upper case still log in', async () => {
    const r = await smbNtlmLogin(smbd.port, ourInitiator(smbd.user.toUpperCase(), smbd.workgroup.toLowerCase(), PASSWORD));
    assert.equal(r.status, NtStatus.SUCCESS, `SESSION_SETUP ${hex(r.status)}`);
    assert.equal(r.signatureValid, true);
  });

  for (const user of UNICODE_USERS) {
    test(`non-ASCII user ${user}: SUCCESS and a signed response`, async () => {
      const r = await smbNtlmLogin(smbd.port, ourInitiator(user, smbd.workgroup, PASSWORD));
      assert.equal(r.status, NtStatus.SUCCESS, `SESSION_SETUP ${hex(r.status)}`);
      assert.equal(r.signatureValid, true);
    });
  }

  test('wrong password: STATUS_LOGON_FAILURE (map to guest = never)', async () => {
    const r = await smbNtlmLogin(smbd.port, ourInitiator(smbd.user, smbd.workgroup, `${PASSWORD}x`));
    assert.equal(r.status, NtStatus.LOGON_FAILURE, `SESSION_SETUP ${hex(r.status)}`);
  });

  // The control that justifies the checks above: Samba 4.17 answers an anonymous NTLM
  // SESSION_SETUP with STATUS_SUCCESS, SessionFlags 0 here (no IS_NULL), and a mechListMIC that
  // verifies (the anonymous key exchange key is all zeros: anyone can compute it). What it does
  // not give anonymous is a signed response.
  test('control: impacket anonymous also gets SUCCESS, but an unsigned response', { skip: needs('py:impacket') }, async () => {
    const peers = new PeerSet();
    try {
      const r = await smbNtlmLogin(smbd.port, impacketKeyedClient(peers, { user: '', password: '', domain: '' }, { sign: true }));
      assert.equal(r.status, NtStatus.SUCCESS, `SESSION_SETUP ${hex(r.status)}`);
      assert.equal(r.responseSigned, false, `SessionFlags ${hex(r.sessionFlags)}`);
      assert.equal(r.signatureValid, undefined);
    } finally {
      peers.killAll();
    }
  });

  test('unknown user: STATUS_LOGON_FAILURE', async () => {
    const r = await smbNtlmLogin(smbd.port, ourInitiator('nosuchuser', smbd.workgroup, PASSWORD));
    assert.equal(r.status, NtStatus.LOGON_FAILURE, `SESSION_SETUP ${hex(r.status)}`);
  });
});

describe('our client -> gss-ntlmssp acceptor (python3-gssapi)', { skip: needs('py:gssapi', GSSNTLMSSP) }, () => {
  const peers = new PeerSet();
  let dir: string;
  let userFile: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rasgate-gss-'));
    userFile = join(dir, 'users');
    writeFileSync(userFile, `GSSDOM:carol:${PASSWORD}\n`, { mode: 0o600 });
  });
  after(() => {
    peers.killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  test('right password (createClientContext): accepted as GSSDOM\\carol with our exported session key', async () => {
    const acceptor = gssAcceptor(peers, userFile);
    const ctx = createClientContext({ user: 'carol', domain: 'GSSDOM', password: PASSWORD, workstation: 'RASGATE-IT' });
    const negotiate = ctx.negotiate();
    assert.ok(negotiate.length >= 40, 'gss-ntlmssp refuses a NEGOTIATE under 40 bytes');
    const auth = ctx.authenticate(await acceptor.challenge(negotiate));
    const verdict = await acceptor.authenticate(auth.token);
    assert.ok(verdict.ok, `gss-ntlmssp said ${verdict.ok ? '' : verdict.detail}`);
    assert.equal(verdict.name.toLowerCase(), 'gssdom\\carol');
    assert.ok(verdict.sessionKey, 'gss-ntlmssp reports the session key (GSS_C_INQ_SSPI_SESSION_KEY)');
    assert.ok(verdict.sessionKey.equals(auth.exportedSessionKey), 'same exported session key on both sides');
  });

  test('right password (initializeSecurityContext legs): SEC_I_CONTINUE_NEEDED then SEC_E_OK, accepted', async () => {
    const acceptor = gssAcceptor(peers, userFile);
    const cred = { user: 'carol', domain: 'GSSDOM', password: PASSWORD };
    const leg1 = initializeSecurityContext(cred, null, 'host/rasgate', ISC_REQ_CONNECTION);
    assert.equal(leg1.status, SEC_I_CONTINUE_NEEDED, statusName(leg1.status));
    const challenge = await acceptor.challenge(leg1.outputToken!);
    const leg2 = initializeSecurityContext(cred, leg1.context, 'host/rasgate', ISC_REQ_CONNECTION, challenge);
    assert.equal(leg2.status, SEC_E_OK, `${statusName(leg2.status)} ${leg2.error?.message ?? ''}`);
    const verdict = await acceptor.authenticate(leg2.outputToken!);
    assert.ok(verdict.ok, `gss-ntlmssp said ${verdict.ok ? '' : verdict.detail}`);
  });

  test('wrong password: refused', async () => {
    const acceptor = gssAcceptor(peers, userFile);
    const ctx = createClientContext({ user: 'carol', domain: 'GSSDOM', password: 'not-it' });
    const auth = ctx.authenticate(await acceptor.challenge(ctx.negotiate()));
    const verdict = await acceptor.authenticate(auth.token);
    assert.equal(verdict.ok, false);
  });
});

describe('our client session security -> gss-ntlmssp acceptor (gss_wrap / gss_unwrap, sealed)', { skip: needs('py:gssapi', GSSNTLMSSP) }, () => {
  const peers = new PeerSet();
  let dir: string;
  after(() => {
    peers.killAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('sealed both ways, two messages each, tampering refused by both', async () => {
    dir = mkdtempSync(join(tmpdir(), 'rasgate-gss-seal-'));
    const userFile = join(dir, 'users');
    writeFileSync(userFile, `GSSDOM:carol:${PASSWORD}\n`, { mode: 0o600 });
    const acceptor = gssAcceptor(peers, userFile, { session: true });
    const ctx = createClientContext({ user: 'carol', domain: 'GSSDOM', password: PASSWORD, seal: true });
    const auth = ctx.authenticate(await acceptor.challenge(ctx.negotiate()));
    const verdict = await acceptor.authenticate(auth.token);
    assert.ok(verdict.ok, `gss-ntlmssp said ${verdict.ok ? '' : verdict.detail}`);
    const session = auth.session;
    assert.ok(session, 'SEAL negotiated: the client has session security');

    for (const text of ['from our client', 'and a second one']) {
      const { sealed, signature } = session.seal(Buffer.from(text));
      const opened = await acceptor.unwrap(Buffer.concat([signature, sealed]));
      assert.ok(Buffer.isBuffer(opened), `gss_unwrap refused: ${opened instanceof Error ? opened.message : ''}`);
      assert.equal(opened.toString(), text);
    }
    for (const text of ['from gss-ntlmssp', 'again']) {
      const token = await acceptor.wrap(Buffer.from(text));
      assert.equal(session.unseal(token.subarray(16), token.subarray(0, 16)).toString(), text);
    }
    const token = await acceptor.wrap(Buffer.from('altered on the way'));
    const bad = Buffer.from(token);
    bad[20]! ^= 0x04;
    assert.throws(() => session.unseal(bad.subarray(16), bad.subarray(0, 16)), (err: unknown) => err instanceof NtlmSessionError && err.code === 'NTLM_MESSAGE_ALTERED');
    const { sealed, signature } = session.seal(Buffer.from('altered by us'));
    sealed[1]! ^= 0x10;
    assert.ok((await acceptor.unwrap(Buffer.concat([signature, sealed]))) instanceof Error, 'gss_unwrap must refuse an altered message');
  });
});
