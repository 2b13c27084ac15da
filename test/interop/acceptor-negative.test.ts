/**
 * Negative cases against our acceptor, with tokens real peers made and then tampered with
 * where the case needs it: a forged MIC (python3-ntlm-auth announces its MIC; Samba ntlm_auth
 * fills the slot without announcing it, see below), a MIC bit stripped from the signed blob,
 * a replayed AUTHENTICATE (to a second context and to the same context again), an NTLMv1 response (impacket, use_ntlmv2=False) and an anonymous
 * AUTHENTICATE (impacket with empty user and password). Each is refused, with the status and the
 * engine's reason word checked so that a refusal for the wrong cause does not pass.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { AvId, Layout, MsvAvFlag, SEC_E_INVALID_TOKEN, SEC_E_LOGON_DENIED, SEC_E_OK, SEC_I_CONTINUE_NEEDED, statusName, type CredentialHandle } from '../../src/ntlm/index.js';
import { makeLocalAuthority, type LocalAuthorityFixture } from '../../scripts/interop/local-authority-fixture.js';
import { ourAcceptSession, ourCredential, type OurAcceptSession } from '../../scripts/interop/our-acceptor.js';
import { impacketClient, ntlmAuthPyClient, PeerSet, sambaClient, type Credentials, type NtlmClientPeer } from '../../scripts/interop/ntlm-peers.js';
import { blobAvPairOffset, payloadStart } from '../../scripts/interop/token-bytes.js';
import { startHttpNtlmServer, type HttpNtlmServer } from '../../scripts/interop/http-ntlm-server.js';
import { needs } from '../helpers/tools.js';

const USER = 'bob';
const PASSWORD = 'S3cret-bob';
const DOMAIN = 'RASGATE';
const right: Credentials = { user: USER, password: PASSWORD, domain: DOMAIN };

let fx: LocalAuthorityFixture;
let credential: CredentialHandle;
const peers = new PeerSet();
const sessions: OurAcceptSession[] = [];

before(() => {
  fx = makeLocalAuthority([{ name: USER, password: PASSWORD }], DOMAIN);
  credential = ourCredential(fx.authority, { netbiosComputerName: 'RASGATE-TEST' });
});

after(async () => {
  peers.killAll();
  for (const s of sessions) s.close();
  await fx?.cleanup();
});

const status = (s: number): string => `${statusName(s)} (0x${(s >>> 0).toString(16)})`;

function session(): OurAcceptSession {
  const s = ourAcceptSession(credential);
  sessions.push(s);
  return s;
}

/** NEGOTIATE -> our CHALLENGE -> the peer's AUTHENTICATE, not yet given to the acceptor. */
async function upToAuthenticate(client: NtlmClientPeer): Promise<{ session: OurAcceptSession; authenticate: Buffer }> {
  const s = session();
  const leg1 = await s.step(await client.negotiate());
  assert.equal(leg1.status, SEC_I_CONTINUE_NEEDED, `NEGOTIATE gave ${status(leg1.status)} (${leg1.reason})`);
  return { session: s, authenticate: await client.authenticate(leg1.outputToken!) };
}

function micAnnounced(authenticate: Buffer): boolean {
  const at = blobAvPairOffset(authenticate, AvId.MsvAvFlags);
  return (authenticate.readUInt32LE(at + 4) & MsvAvFlag.MIC_PRESENT) !== 0;
}

/** Flip one MIC byte / zero the MIC slot of a copy. */
function flipMic(authenticate: Buffer): Buffer {
  const forged = Buffer.from(authenticate);
  forged[Layout.MIC_OFFSET + 5]! ^= 0x01;
  return forged;
}
function zeroMic(authenticate: Buffer): Buffer {
  const forged = Buffer.from(authenticate);
  forged.fill(0, Layout.MIC_OFFSET, Layout.MIC_OFFSET + Layout.MIC_LENGTH);
  return forged;
}

describe('MIC from python3-ntlm-auth (announced in MsvAvFlags)', { skip: needs('py:ntlm_auth', 'py:Cryptodome') }, () => {
  test('untouched token logs in (the control case), and it does announce a MIC', async () => {
    const { session: s, authenticate } = await upToAuthenticate(ntlmAuthPyClient(peers, right));
    assert.ok(micAnnounced(authenticate), 'MsvAvFlags MIC_PRESENT expected');
    const r = await s.step(authenticate);
    assert.equal(r.status, SEC_E_OK, `got ${status(r.status)} (${r.reason})`);
  });

  test('one MIC byte flipped: SEC_E_LOGON_DENIED (bad-mic)', async () => {
    const { session: s, authenticate } = await upToAuthenticate(ntlmAuthPyClient(peers, right));
    const r = await s.step(flipMic(authenticate));
    assert.equal(r.status, SEC_E_LOGON_DENIED, `got ${status(r.status)} (${r.reason})`);
    assert.equal(r.reason, 'bad-mic');
  });

  test('MIC zeroed: SEC_E_LOGON_DENIED (bad-mic)', async () => {
    const { session: s, authenticate } = await upToAuthenticate(ntlmAuthPyClient(peers, right));
    const r = await s.step(zeroMic(authenticate));
    assert.equal(r.status, SEC_E_LOGON_DENIED, `got ${status(r.status)} (${r.reason})`);
    assert.equal(r.reason, 'bad-mic');
  });

  test('MIC_PRESENT cleared in the blob (downgrade): refused, the blob is under NTProofStr', async () => {
    const { session: s, authenticate } = await upToAuthenticate(ntlmAuthPyClient(peers, right));
    const forged = zeroMic(authenticate);
    const at = blobAvPairOffset(forged, AvId.MsvAvFlags) + 4;
    forged.writeUInt32LE(forged.readUInt32LE(at) & ~MsvAvFlag.MIC_PRESENT, at);
    const r = await s.step(forged);
    assert.equal(r.status, SEC_E_LOGON_DENIED, `got ${status(r.status)} (${r.reason})`);
    assert.equal(r.reason, 'bad-credentials');
  });
});

/*
 * Samba 4.17's ntlm_auth ntlmssp-client-1 always fills the MIC slot but sets MsvAvFlags
 * MIC_PRESENT only when the caller wants signing, sealing or the session key
 * (auth/ntlmssp/ntlmssp_client.c: "We always include the MIC, even without ..."); the helper
 * wants none, so its MIC is unannounced. MS-NLMP 3.2.5.1.2 and Samba's own server check a MIC
 * only when announced; our acceptor does the same by default, and checks it always under
 * policy.requireMic: that is where a forged Samba MIC must be refused.
 */
describe('MIC from Samba ntlm_auth ntlmssp-client-1 (present, not announced)', { skip: needs('ntlm_auth') }, () => {
  let strict: CredentialHandle;
  before(() => {
    strict = ourCredential(fx.authority, { netbiosComputerName: 'RASGATE-TEST', policy: { requireMic: true } });
  });

  async function strictUpToAuthenticate(): Promise<{ session: OurAcceptSession; authenticate: Buffer }> {
    const client = sambaClient(peers, right);
    const s = ourAcceptSession(strict);
    sessions.push(s);
    const leg1 = await s.step(await client.negotiate());
    assert.equal(leg1.status, SEC_I_CONTINUE_NEEDED, `NEGOTIATE gave ${status(leg1.status)} (${leg1.reason})`);
    return { session: s, authenticate: await client.authenticate(leg1.outputToken!) };
  }

  test('the token carries a non-zero MIC slot and no MIC_PRESENT flag', async () => {
    const { authenticate } = await upToAuthenticate(sambaClient(peers, right));
    assert.ok(payloadStart(authenticate) >= Layout.AUTHENTICATE_WITH_MIC, 'payload starts after a MIC slot');
    assert.ok(!authenticate.subarray(Layout.MIC_OFFSET, Layout.MIC_OFFSET + Layout.MIC_LENGTH).equals(Buffer.alloc(16)), 'MIC slot is filled');
    assert.throws(() => micAnnounced(authenticate), /AV pair 6 not in the blob/);
  });

  test('requireMic: the untouched MIC verifies (our MIC computation matches Samba\'s)', async () => {
    const { session: s, authenticate } = await strictUpToAuthenticate();
    const r = await s.step(authenticate);
    assert.equal(r.status, SEC_E_OK, `got ${status(r.status)} (${r.reason})`);
  });

  test('requireMic: one MIC byte flipped is SEC_E_LOGON_DENIED (bad-mic)', async () => {
    const { session: s, authenticate } = await strictUpToAuthenticate();
    const r = await s.step(flipMic(authenticate));
    assert.equal(r.status, SEC_E_LOGON_DENIED, `got ${status(r.status)} (${r.reason})`);
    assert.equal(r.reason, 'bad-mic');
  });

  test('requireMic: MIC zeroed is SEC_E_LOGON_DENIED (bad-mic)', async () => {
    const { session: s, authenticate } = await strictUpToAuthenticate();
    const r = await s.step(zeroMic(authenticate));
    assert.equal(r.status, SEC_E_LOGON_DENIED, `got ${status(r.status)} (${r.reason})`);
    assert.equal(r.reason, 'bad-mic');
  });

  test('default policy: an unannounced MIC is not checked (as MS-NLMP and Samba\'s server)', async () => {
    const { session: s, authenticate } = await upToAuthenticate(sambaClient(peers, right));
    const r = await s.step(flipMic(authenticate));
    assert.equal(r.status, SEC_E_OK, `got ${status(r.status)} (${r.reason})`);
  });
});

describe('replayed AUTHENTICATE (Samba ntlm_auth)', { skip: needs('ntlm_auth') }, () => {
  test('accepted once; the same token to a second context is refused; again on the first context too', async () => {
    const { session: first, authenticate } = await upToAuthenticate(sambaClient(peers, right));
    const ok = await first.step(authenticate);
    assert.equal(ok.status, SEC_E_OK, `got ${status(ok.status)} (${ok.reason})`);

    // A second context has its own fresh challenge: the captured response cannot answer it.
    const second = session();
    const leg1 = await second.step(await sambaClient(peers, right).negotiate());
    assert.equal(leg1.status, SEC_I_CONTINUE_NEEDED);
    const replay = await second.step(authenticate);
    assert.equal(replay.status, SEC_E_LOGON_DENIED, `got ${status(replay.status)} (${replay.reason})`);
    // Refused before the password check when the echoed MsvAvTimestamp differs from ours.
    assert.ok(['av-pairs-altered', 'bad-credentials'].includes(replay.reason), `reason ${replay.reason}`);
    assert.equal(second.identity(), undefined);

    // The finished first context takes no more tokens.
    const again = await first.step(authenticate);
    assert.equal(again.status, SEC_E_INVALID_TOKEN, `got ${status(again.status)} (${again.reason})`);
  });
});

describe('impacket: NTLMv1 and anonymous', { skip: needs('py:impacket') }, () => {
  test('NTLMv1 (24-byte NtChallengeResponse) with the right password: SEC_E_LOGON_DENIED (ntlmv1-refused)', async () => {
    const { session: s, authenticate } = await upToAuthenticate(impacketClient(peers, right, { ntlmv1: true }));
    assert.equal(authenticate.readUInt16LE(20), 24, 'impacket should have sent an NTLMv1 response');
    const r = await s.step(authenticate);
    assert.equal(r.status, SEC_E_LOGON_DENIED, `got ${status(r.status)} (${r.reason})`);
    assert.equal(r.reason, 'ntlmv1-refused');
  });

  test('NTLMv1 when the authority allows it (its allowNtlmV1, the one switch): right password SEC_E_OK, wrong one denied', async () => {
    const v1fx = makeLocalAuthority([{ name: USER, password: PASSWORD }], DOMAIN, { allowNtlmV1: true });
    try {
      const v1cred = ourCredential(v1fx.authority, { netbiosComputerName: 'RASGATE-TEST' });
      for (const [password, expected] of [[PASSWORD, SEC_E_OK], ['wrong', SEC_E_LOGON_DENIED]] as const) {
        const client = impacketClient(peers, { ...right, password }, { ntlmv1: true });
        const s = ourAcceptSession(v1cred);
        sessions.push(s);
        const leg1 = await s.step(await client.negotiate());
        assert.equal(leg1.status, SEC_I_CONTINUE_NEEDED);
        const r = await s.step(await client.authenticate(leg1.outputToken!));
        assert.equal(r.status, expected, `${password}: got ${status(r.status)} (${r.reason})`);
      }
    } finally {
      await v1fx.cleanup();
    }
  });

  test('anonymous (empty user and password): SEC_E_LOGON_DENIED (anonymous)', async () => {
    const { session: s, authenticate } = await upToAuthenticate(impacketClient(peers, { user: '', password: '', domain: '' }));
    assert.equal(authenticate.readUInt16LE(36), 0, 'empty user name expected');
    const r = await s.step(authenticate);
    assert.equal(r.status, SEC_E_LOGON_DENIED, `got ${status(r.status)} (${r.reason})`);
    assert.equal(r.reason, 'anonymous');
    assert.equal(s.identity(), undefined);
  });
});

describe('NTLM over HTTP is connection-bound (Samba ntlm_auth tokens, HTTP harness)', { skip: needs('ntlm_auth') }, () => {
  let http: HttpNtlmServer;
  before(async () => {
    http = await startHttpNtlmServer({ newSession: () => ourAcceptSession(credential), continueStatus: SEC_I_CONTINUE_NEEDED, okStatus: SEC_E_OK });
  });
  after(async () => {
    await http?.close();
  });

  /** One request with `Authorization: NTLM <token>` through `agent`; status and the server's token. */
  function send(agent: Agent | false, token: Buffer): Promise<{ code: number; token?: Buffer }> {
    return new Promise((resolve, reject) => {
      const req = request(http.url, { agent, headers: { Authorization: `NTLM ${token.toString('base64')}` } }, (res) => {
        res.resume();
        const m = /^NTLM ([A-Za-z0-9+/=]+)$/.exec(String(res.headers['www-authenticate'] ?? ''));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, ...(m ? { token: Buffer.from(m[1]!, 'base64') } : {}) }));
      });
      req.on('error', reject);
      req.setTimeout(10_000, () => req.destroy(new Error('HTTP request timed out')));
      req.end();
    });
  }

  test('AUTHENTICATE on the same connection logs in; on a new connection it is refused', async () => {
    for (const sameConnection of [true, false]) {
      const client = sambaClient(peers, right);
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const first = await send(agent, await client.negotiate());
        assert.equal(first.code, 401);
        assert.ok(first.token, 'CHALLENGE in WWW-Authenticate');
        const before = http.outcomes.length;
        const second = await send(sameConnection ? agent : false, await client.authenticate(first.token));
        const outcome = http.outcomes[before]!;
        if (sameConnection) {
          assert.equal(second.code, 200);
          assert.equal(outcome.status, SEC_E_OK, `${status(outcome.status)} (${outcome.reason})`);
        } else {
          // A fresh context expects NEGOTIATE first: the stray AUTHENTICATE is a bad token.
          assert.equal(second.code, 401);
          assert.equal(outcome.status, SEC_E_INVALID_TOKEN, `${status(outcome.status)} (${outcome.reason})`);
        }
      } finally {
        agent.destroy();
      }
    }
  });
});
