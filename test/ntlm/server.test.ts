/**
 * The acceptor through its SSPI surface (acquireCredentialsHandle / acceptSecurityContext /
 * querySecurityContextToken / sign-seal) with our own client and a LocalAuthority on a temp
 * smbpasswd file. Hand-built AUTHENTICATE messages cover what our client would never send.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedClock } from 'xstate';
import {
  acquireCredentialsHandle, acceptSecurityContext, deleteSecurityContext, querySecurityContextToken, querySecurityContextOutcome,
  makeSignature, verifySignature, encryptMessage, decryptMessage, channelBindingsHash, type CredentialHandle, type AcquireCredentialsOptions,
} from '../../src/ntlm/server.js';
import * as api from '../../src/ntlm/index.js';
import { createClientContext, DEFAULT_CLIENT_FLAGS } from '../../src/ntlm/client.js';
import { channelBindingsStruct, computeMic, computeNtlmV2Response } from '../../src/ntlm/ntlmv2.js';
import { decodeChallenge, decodeAuthenticate, encodeAuthenticate, encodeNegotiate, RASGATE_VERSION } from '../../src/ntlm/messages.js';
import { flagsPair, stringPair, type AvPair } from '../../src/ntlm/avpairs.js';
import { ntowfv1, ntowfv2 } from '../../src/ntlm/crypto.js';
import { rc4 } from '../../src/ntlm/rc4.js';
import {
  AvId, NegotiateFlags as F, ASC_REQ_CONNECTION, ASC_REQ_INTEGRITY, ASC_REQ_CONFIDENTIALITY, ASC_REQ_REPLAY_DETECT, ASC_RET_INTEGRITY, ASC_RET_CONFIDENTIALITY,
  SECURITY_NATIVE_DREP, SEC_E_OK, SEC_I_CONTINUE_NEEDED, SEC_E_LOGON_DENIED, SEC_E_INVALID_TOKEN, SEC_E_INVALID_HANDLE, SEC_E_NO_AUTHENTICATING_AUTHORITY,
  SEC_E_CONTEXT_EXPIRED, SEC_E_BAD_BINDINGS, SEC_E_MESSAGE_ALTERED,
} from '../../src/ntlm/constants.js';
import { LocalAuthority } from '../../src/authority/local/index.js';
import { formatLine, type AccountFlag } from '../../src/authority/local/smbpasswd.js';
import { desl } from '../../src/authority/local/ntlmv1.js';
import type { Authority, AuthorityVerdict } from '../../src/ntlm/authority.js';

const DOMAIN = 'RASGATE';
const dir = mkdtempSync(join(tmpdir(), 'rasgate-server-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const accounts: Array<[string, string, AccountFlag[]]> = [
  ['Alice', 'alice-pw', ['U']],
  ['dave', 'dave-pw', ['U', 'D']],
  ['lou', 'lou-pw', ['U', 'L']],
];
const file = join(dir, 'smbpasswd');
writeFileSync(file, accounts.map(([name, pw, flags], i) => formatLine({ name, uid: 1000 + i, ntHash: ntowfv1(pw), hasLmHash: false, flags: new Set(flags), lastChange: 0 })).join('\n') + '\n', { mode: 0o600 });
const local = new LocalAuthority({ file, domain: DOMAIN });
const localV1 = new LocalAuthority({ file, domain: DOMAIN, allowNtlmV1: true });

function credential(extra: Partial<AcquireCredentialsOptions> = {}): CredentialHandle {
  return acquireCredentialsHandle({ authority: local, netbiosComputerName: 'GATE', dnsComputerName: 'gate.example.test', ...extra });
}
const cred = credential();

const REQ = ASC_REQ_CONNECTION;
const accept = (c: CredentialHandle, ctx: Parameters<typeof acceptSecurityContext>[1], token: Uint8Array, req = REQ, options = {}) =>
  acceptSecurityContext(c, ctx, token, req, SECURITY_NATIVE_DREP, options);

interface Login {
  user?: string;
  password?: string;
  domain?: string;
  req?: number;
  clientFlags?: number;
  seal?: boolean;
  clientBindings?: Buffer;
  serverBindings?: Buffer;
  cred?: CredentialHandle;
}

/** A full handshake with our client. */
async function login(o: Login = {}) {
  const c = o.cred ?? cred;
  const client = createClientContext({ user: o.user ?? 'alice', domain: o.domain ?? DOMAIN, password: o.password ?? 'alice-pw', workstation: 'WS1', flags: o.clientFlags, seal: o.seal, channelBindings: o.clientBindings });
  const first = await accept(c, null, client.negotiate(), o.req ?? REQ);
  assert.equal(first.status, SEC_I_CONTINUE_NEEDED, `first leg: ${first.reason}`);
  const auth = client.authenticate(first.outputToken!);
  const last = await accept(c, first.context, auth.token, o.req ?? REQ, o.serverBindings ? { channelBindings: o.serverBindings } : {});
  return { first, last, auth };
}

/** Leg 1 done, and the pieces to hand-build an AUTHENTICATE for it. */
async function firstLeg(c = cred, negFlags = DEFAULT_CLIENT_FLAGS) {
  const negotiate = encodeNegotiate({ flags: negFlags, version: RASGATE_VERSION });
  const first = await accept(c, null, negotiate);
  assert.equal(first.status, SEC_I_CONTINUE_NEEDED);
  return { negotiate, first, challenge: decodeChallenge(first.outputToken!) };
}

interface HandBuilt {
  user?: string;
  password?: string;
  pairs?: (server: AvPair[]) => AvPair[];
  mic?: 'good' | 'forged' | 'none';
}

/** An NTLMv2 AUTHENTICATE built by hand (KEY_EXCH, correct MIC unless told otherwise). */
function handBuild(leg: Awaited<ReturnType<typeof firstLeg>>, o: HandBuilt = {}): Buffer {
  const { challenge, negotiate, first } = leg;
  const user = o.user ?? 'alice';
  const key = ntowfv2(ntowfv1(o.password ?? 'alice-pw'), user, DOMAIN);
  const server = challenge.targetInfo.pairs;
  const pairs = o.pairs ? o.pairs(server) : [...server, flagsPair(2)];
  const v2 = computeNtlmV2Response({ responseKeyNT: key, serverChallenge: challenge.serverChallenge, clientChallenge: Buffer.alloc(8, 7), timestamp: 0n, targetInfo: pairs });
  const exported = Buffer.alloc(16, 0x55);
  const token = encodeAuthenticate({
    flags: challenge.flags, lmResponse: Buffer.alloc(24), ntResponse: v2.ntResponse, user, domain: DOMAIN, workstation: 'WS1',
    encryptedRandomSessionKey: rc4(v2.sessionBaseKey, exported), version: RASGATE_VERSION, ...(o.mic === 'none' ? {} : { mic: Buffer.alloc(16) }),
  });
  if (o.mic !== 'none') {
    const mic = computeMic(exported, negotiate, first.outputToken!, token);
    if (o.mic === 'forged') mic[0]! ^= 1;
    mic.copy(token, 72);
  }
  return token;
}

test('the package surface exports the SSPI functions and constants', () => {
  for (const name of ['acquireCredentialsHandle', 'acceptSecurityContext', 'initializeSecurityContext', 'deleteSecurityContext', 'querySecurityContextToken'] as const) {
    assert.equal(typeof api[name], 'function', name);
  }
  assert.equal(api.SEC_I_CONTINUE_NEEDED, 0x00090312);
  assert.equal(api.SEC_E_LOGON_DENIED, 0x8009030c);
  assert.equal(typeof api.ASC_REQ_INTEGRITY, 'number');
  assert.equal(typeof api.ISC_REQ_CONFIDENTIALITY, 'number');
});

test('correct password: CONTINUE then SEC_E_OK, identity as the file spells it, expiry on the last leg only', async () => {
  const { first, last } = await login();
  assert.ok(first.outputToken && first.outputToken.length > 48);
  assert.equal(first.expiry, undefined);
  assert.equal(last.status, SEC_E_OK, last.reason);
  assert.ok(last.expiry instanceof Date && last.expiry.getTime() > Date.now());
  assert.deepEqual(querySecurityContextToken(last.context!), { user: 'Alice', domain: DOMAIN, workstation: 'WS1' });
  assert.equal(deleteSecurityContext(last.context), 0);
  assert.equal(deleteSecurityContext(last.context), SEC_E_INVALID_HANDLE);
  assert.throws(() => querySecurityContextToken(last.context!), (e: { status?: number }) => e.status === SEC_E_INVALID_HANDLE);
});

test('the CHALLENGE follows FACTS.md: names + timestamp, no MsvAvFlags, flags echoed only if offered', async () => {
  const unicodeOnly = F.NEGOTIATE_UNICODE | F.NEGOTIATE_NTLM | F.REQUEST_TARGET;
  const { challenge } = await firstLeg(cred, unicodeOnly);
  const ids = challenge.targetInfo.pairs.map((p) => p.id);
  assert.deepEqual(ids, [AvId.MsvAvNbComputerName, AvId.MsvAvNbDomainName, AvId.MsvAvDnsComputerName, AvId.MsvAvDnsDomainName, AvId.MsvAvTimestamp]);
  assert.equal(challenge.targetName, DOMAIN);
  for (const f of [F.NEGOTIATE_SIGN, F.NEGOTIATE_SEAL, F.NEGOTIATE_KEY_EXCH, F.NEGOTIATE_128, F.NEGOTIATE_56, F.NEGOTIATE_VERSION, F.NEGOTIATE_OEM]) assert.equal(challenge.flags & f, 0);
  assert.ok(challenge.flags & F.NEGOTIATE_UNICODE && challenge.flags & F.NEGOTIATE_TARGET_INFO);
  assert.equal(challenge.version, undefined);
  const oem = await firstLeg(cred, F.NEGOTIATE_OEM | F.NEGOTIATE_NTLM);
  assert.ok(oem.challenge.flags & F.NEGOTIATE_OEM);
  assert.equal(oem.challenge.flags & F.NEGOTIATE_UNICODE, 0);
  const full = await firstLeg(cred, DEFAULT_CLIENT_FLAGS);
  assert.ok(full.challenge.version, 'VERSION with the field');
  assert.ok(full.challenge.flags & F.NEGOTIATE_KEY_EXCH && full.challenge.flags & F.NEGOTIATE_SIGN);
});

test('challenges are random: 2000 first legs, 2000 different challenges', async () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const r = await accept(cred, null, encodeNegotiate({ flags: DEFAULT_CLIENT_FLAGS }));
    seen.add(decodeChallenge(r.outputToken!).serverChallenge.toString('hex'));
    deleteSecurityContext(r.context);
  }
  assert.equal(seen.size, 2000);
});

test('wrong password and unknown user: SEC_E_LOGON_DENIED, bad-credentials (indistinguishable)', async () => {
  const wrong = await login({ password: 'nope' });
  const unknown = await login({ user: 'mallory', password: 'x' });
  for (const r of [wrong.last, unknown.last]) {
    assert.equal(r.status, SEC_E_LOGON_DENIED);
    assert.equal(r.denyReason, 'bad-credentials');
    assert.throws(() => querySecurityContextToken(r.context!));
  }
});

test('disabled (D) and locked (L) accounts: denied with their DenyReason, kept on the context', async () => {
  const d = await login({ user: 'dave', password: 'dave-pw' });
  assert.equal(d.last.status, SEC_E_LOGON_DENIED);
  assert.equal(d.last.denyReason, 'account-disabled');
  assert.equal(querySecurityContextOutcome(d.last.context!)?.denyReason, 'account-disabled');
  const l = await login({ user: 'lou', password: 'lou-pw' });
  assert.equal(l.last.denyReason, 'account-locked');
  const wrongDisabled = await login({ user: 'dave', password: 'guess' });
  assert.equal(wrongDisabled.last.denyReason, 'bad-credentials', 'flags are only revealed with the right password');
});

test('domain case handled as Samba: lower-case and empty domains verify', async () => {
  assert.equal((await login({ domain: 'rasgate' })).last.status, SEC_E_OK);
  assert.equal((await login({ domain: '' })).last.status, SEC_E_OK);
  assert.equal((await login({ user: 'ALICE' })).last.status, SEC_E_OK);
});

function ntlmV1Authenticate(leg: Awaited<ReturnType<typeof firstLeg>>, password: string): Buffer {
  const nt = desl(ntowfv1(password), leg.challenge.serverChallenge);
  return encodeAuthenticate({ flags: F.NEGOTIATE_UNICODE | F.NEGOTIATE_NTLM, lmResponse: Buffer.alloc(24), ntResponse: nt, user: 'alice', domain: DOMAIN, workstation: 'OLD' });
}

test('NTLMv1 refused by default (no authority call), accepted when policy allows it', async () => {
  const leg = await firstLeg(cred, F.NEGOTIATE_UNICODE | F.NEGOTIATE_NTLM);
  const r = await accept(cred, leg.first.context, ntlmV1Authenticate(leg, 'alice-pw'));
  assert.equal(r.status, SEC_E_LOGON_DENIED);
  assert.equal(r.reason, 'ntlmv1-refused');

  const warnings: string[] = [];
  const logger = { warn: (m: string) => warnings.push(m), info: () => {}, error: () => {} } as unknown as AcquireCredentialsOptions['logger'];
  const v1cred = credential({ authority: localV1, policy: { allowNtlmV1: true }, logger });
  assert.ok(warnings.some((w) => /NTLMv1/.test(w)), 'loud warning at acquisition');
  const ok = await firstLeg(v1cred, F.NEGOTIATE_UNICODE | F.NEGOTIATE_NTLM);
  assert.equal((await accept(v1cred, ok.first.context, ntlmV1Authenticate(ok, 'alice-pw'))).status, SEC_E_OK);
  const bad = await firstLeg(v1cred, F.NEGOTIATE_UNICODE | F.NEGOTIATE_NTLM);
  assert.equal((await accept(v1cred, bad.first.context, ntlmV1Authenticate(bad, 'wrong'))).status, SEC_E_LOGON_DENIED);
  // Server policy on, authority still refusing: refused.
  const half = credential({ policy: { allowNtlmV1: true } });
  const h = await firstLeg(half, F.NEGOTIATE_UNICODE | F.NEGOTIATE_NTLM);
  assert.equal((await accept(half, h.first.context, ntlmV1Authenticate(h, 'alice-pw'))).status, SEC_E_LOGON_DENIED);
});

test('anonymous AUTHENTICATE (ANONYMOUS flag, empty user, empty NT) never succeeds', async () => {
  const leg = await firstLeg();
  const anon = encodeAuthenticate({ flags: F.NEGOTIATE_UNICODE | F.NEGOTIATE_NTLM | F.NEGOTIATE_ANONYMOUS, lmResponse: Buffer.alloc(1), ntResponse: Buffer.alloc(0), user: '', domain: '', workstation: 'WS' });
  const r = await accept(cred, leg.first.context, anon);
  assert.equal(r.status, SEC_E_LOGON_DENIED);
  assert.equal(r.reason, 'anonymous');
  const leg2 = await firstLeg();
  const emptyNt = encodeAuthenticate({ flags: F.NEGOTIATE_UNICODE | F.NEGOTIATE_NTLM, lmResponse: Buffer.alloc(24), ntResponse: Buffer.alloc(0), user: 'alice', domain: DOMAIN });
  assert.equal((await accept(cred, leg2.first.context, emptyNt)).status, SEC_E_LOGON_DENIED);
});

test('hand-built AUTHENTICATE with a good MIC is accepted (the harness itself is right)', async () => {
  const leg = await firstLeg();
  const r = await accept(cred, leg.first.context, handBuild(leg));
  assert.equal(r.status, SEC_E_OK, r.reason);
});

test('forged MIC: refused (bad-mic)', async () => {
  const leg = await firstLeg();
  const r = await accept(cred, leg.first.context, handBuild(leg, { mic: 'forged' }));
  assert.equal(r.status, SEC_E_LOGON_DENIED);
  assert.equal(r.reason, 'bad-mic');
});

test('MIC stripped while MsvAvFlags says present: refused (mic-missing)', async () => {
  const leg = await firstLeg();
  const r = await accept(cred, leg.first.context, handBuild(leg, { mic: 'none' }));
  assert.equal(r.status, SEC_E_LOGON_DENIED);
  assert.equal(r.reason, 'mic-missing');
});

test('no MIC and no MsvAvFlags (curl style) is fine unless policy requireMic', async () => {
  const noFlags = (server: AvPair[]) => [...server];
  const leg = await firstLeg();
  assert.equal((await accept(cred, leg.first.context, handBuild(leg, { mic: 'none', pairs: noFlags }))).status, SEC_E_OK);
  const strict = credential({ policy: { requireMic: true } });
  const leg2 = await firstLeg(strict);
  assert.equal((await accept(strict, leg2.first.context, handBuild(leg2, { mic: 'none', pairs: noFlags }))).reason, 'mic-missing');
});

test('an AV pair we sent, altered or dropped in the client blob: refused (av-pairs-altered)', async () => {
  const altered = (server: AvPair[]) => server.map((p) => (p.id === AvId.MsvAvNbComputerName ? stringPair(p.id, 'EVIL') : p)).concat(flagsPair(2));
  const leg = await firstLeg();
  const r = await accept(cred, leg.first.context, handBuild(leg, { pairs: altered }));
  assert.equal(r.reason, 'av-pairs-altered');
  assert.equal(r.status, SEC_E_LOGON_DENIED);
  const dropped = (server: AvPair[]) => server.filter((p) => p.id !== AvId.MsvAvTimestamp).concat(flagsPair(2));
  const leg2 = await firstLeg();
  assert.equal((await accept(cred, leg2.first.context, handBuild(leg2, { pairs: dropped }))).reason, 'av-pairs-altered');
});

test('timestamp skew check (optional): a blob from long ago is refused when maxClockSkewMs is set', async () => {
  const skewed = credential({ policy: { maxClockSkewMs: 5 * 60_000 } });
  const leg = await firstLeg(skewed);
  // handBuild stamps the blob with time 0 (1601): far outside any skew.
  assert.equal((await accept(skewed, leg.first.context, handBuild(leg))).reason, 'clock-skew');
  assert.equal((await login({ cred: skewed })).last.status, SEC_E_OK);
});

test('replayed AUTHENTICATE: refused on the finished context and on a second context', async () => {
  const { last, auth } = await login();
  assert.equal(last.status, SEC_E_OK);
  const again = await accept(cred, last.context, auth.token);
  assert.equal(again.status, SEC_E_INVALID_TOKEN);
  assert.equal(again.reason, 'context-complete');
  const other = await accept(cred, null, encodeNegotiate({ flags: DEFAULT_CLIENT_FLAGS, version: RASGATE_VERSION }));
  const replay = await accept(cred, other.context, auth.token);
  assert.equal(replay.status, SEC_E_LOGON_DENIED);
  // An AUTHENTICATE with no context at all is not a first leg.
  assert.equal((await accept(cred, null, auth.token)).status, SEC_E_INVALID_TOKEN);
});

test('challenge expired (SimulatedClock, 30 min default): SEC_E_CONTEXT_EXPIRED', async () => {
  const clock = new SimulatedClock();
  const timed = credential({ clock });
  const client = createClientContext({ user: 'alice', domain: DOMAIN, password: 'alice-pw' });
  const first = await accept(timed, null, client.negotiate());
  const token = client.authenticate(first.outputToken!).token;
  clock.increment(30 * 60_000);
  const r = await accept(timed, first.context, token);
  assert.equal(r.status, SEC_E_CONTEXT_EXPIRED);
  // Within the lifetime it works, and the lifetime is configurable.
  const short = credential({ clock, policy: { challengeLifetimeMs: 1000 } });
  const c2 = createClientContext({ user: 'alice', domain: DOMAIN, password: 'alice-pw' });
  const f2 = await accept(short, null, c2.negotiate());
  clock.increment(999);
  assert.equal((await accept(short, f2.context, c2.authenticate(f2.outputToken!).token)).status, SEC_E_OK);
});

test('channel bindings: match OK; mismatch, missing (Z16) -> SEC_E_BAD_BINDINGS; no caller bindings -> not checked', async () => {
  const app = Buffer.from('tls-server-end-point:0123456789abcdef');
  const expected = channelBindingsHash(app);
  assert.equal((await login({ clientBindings: channelBindingsStruct(app), serverBindings: expected })).last.status, SEC_E_OK);
  const mismatch = await login({ clientBindings: channelBindingsStruct(Buffer.from('tls-server-end-point:other')), serverBindings: expected });
  assert.equal(mismatch.last.status, SEC_E_BAD_BINDINGS);
  const missing = await login({ serverBindings: expected });
  assert.equal(missing.last.status, SEC_E_BAD_BINDINGS);
  assert.equal((await login({ clientBindings: channelBindingsStruct(app) })).last.status, SEC_E_OK);
  // Wrong password with bad bindings is still just a wrong password.
  assert.equal((await login({ password: 'x', serverBindings: expected })).last.status, SEC_E_LOGON_DENIED);
});

test('INTEGRITY: attributes granted, signatures round-trip both ways, tampering detected', async () => {
  const { last, auth } = await login({ req: REQ | ASC_REQ_INTEGRITY | ASC_REQ_REPLAY_DETECT });
  assert.equal(last.status, SEC_E_OK, last.reason);
  assert.ok(last.contextAttr & ASC_RET_INTEGRITY);
  const msg = Buffer.from('hello from the gateway');
  auth.session!.verify(msg, makeSignature(last.context!, msg));
  const fromClient = Buffer.from('hello from the caller');
  verifySignature(last.context!, fromClient, auth.session!.sign(fromClient));
  const sig = auth.session!.sign(fromClient);
  assert.throws(() => verifySignature(last.context!, Buffer.from('hellO from the caller'), sig), (e: { status?: number }) => e.status === SEC_E_MESSAGE_ALTERED);
});

test('CONFIDENTIALITY: seal/unseal round-trip between our client session and the server context', async () => {
  const { last, auth } = await login({ req: REQ | ASC_REQ_CONFIDENTIALITY | ASC_REQ_INTEGRITY, seal: true });
  assert.equal(last.status, SEC_E_OK, last.reason);
  assert.ok(last.contextAttr & ASC_RET_CONFIDENTIALITY);
  const c2s = auth.session!.seal(Buffer.from('secret from caller'));
  assert.equal(decryptMessage(last.context!, c2s.sealed, c2s.signature).toString(), 'secret from caller');
  const s2c = encryptMessage(last.context!, Buffer.from('secret from gateway'));
  assert.notEqual(s2c.sealed.toString(), 'secret from gateway');
  assert.equal(auth.session!.unseal(s2c.sealed, s2c.signature).toString(), 'secret from gateway');
});

test('a client that cannot give what fContextReq asks is refused', async () => {
  const noSign = DEFAULT_CLIENT_FLAGS & ~F.NEGOTIATE_SIGN & ~F.NEGOTIATE_SEAL & ~F.NEGOTIATE_ALWAYS_SIGN;
  const i = await login({ req: REQ | ASC_REQ_INTEGRITY, clientFlags: noSign });
  assert.equal(i.last.status, SEC_E_LOGON_DENIED);
  assert.equal(i.last.reason, 'integrity-not-offered');
  const c = await login({ req: REQ | ASC_REQ_CONFIDENTIALITY });
  assert.equal(c.last.reason, 'confidentiality-not-offered');
  // Without INTEGRITY in fContextReq the same client is fine, and no sign attribute is claimed.
  const plain = await login({ clientFlags: noSign });
  assert.equal(plain.last.status, SEC_E_OK);
  assert.equal(plain.last.contextAttr & ASC_RET_INTEGRITY, 0);
  assert.throws(() => makeSignature(plain.last.context!, Buffer.from('x')));
});

test('garbage at each leg -> SEC_E_INVALID_TOKEN, never a throw', async () => {
  const junk = [Buffer.alloc(0), Buffer.from('hello'), Buffer.from('NTLMSSP\0\x01\0\0\0'), Buffer.alloc(70000, 0x41), Buffer.from('NTLMSSP\0\x02\0\0\0' + 'x'.repeat(60))];
  for (const j of junk) assert.equal((await accept(cred, null, j)).status, SEC_E_INVALID_TOKEN, `leg 1: ${j.subarray(0, 12).toString('hex')}`);
  assert.equal((await accept(cred, null, null as unknown as Buffer)).status, SEC_E_INVALID_TOKEN);
  for (const j of junk) {
    const leg = await firstLeg();
    assert.equal((await accept(cred, leg.first.context, j)).status, SEC_E_INVALID_TOKEN, `leg 3: ${j.subarray(0, 12).toString('hex')}`);
  }
  // A truncated real AUTHENTICATE and one whose NTLMv2 blob is not 01 01.
  const leg = await firstLeg();
  const good = handBuild(leg);
  assert.equal((await accept(cred, leg.first.context, good.subarray(0, 70))).status, SEC_E_INVALID_TOKEN);
  const leg2 = await firstLeg();
  const bad = Buffer.from(handBuild(leg2));
  const a = decodeAuthenticate(bad);
  const ntAt = bad.indexOf(a.ntResponse);
  bad[ntAt + 16] = 9;
  assert.equal((await accept(cred, leg2.first.context, bad)).status, SEC_E_INVALID_TOKEN);
  // Bad handles.
  assert.equal((await acceptSecurityContext({ kind: 'ntlm-inbound' }, null, good, REQ, SECURITY_NATIVE_DREP)).status, SEC_E_INVALID_HANDLE);
  assert.equal((await accept(cred, { id: 99999 }, good)).status, SEC_E_INVALID_HANDLE);
});

function fakeAuthority(verify: Authority['verify']): Authority {
  return { type: 'fake', verify, close: async () => {} };
}

test('authority throws, says unavailable, or never answers -> SEC_E_NO_AUTHENTICATING_AUTHORITY', async () => {
  const throwing = credential({ authority: fakeAuthority(async () => { throw new Error('ECONNREFUSED'); }) });
  assert.equal((await login({ cred: throwing })).last.status, SEC_E_NO_AUTHENTICATING_AUTHORITY);
  const down = credential({ authority: fakeAuthority(async () => ({ result: 'unavailable', detail: 'dc down' })) });
  assert.equal((await login({ cred: down })).last.status, SEC_E_NO_AUTHENTICATING_AUTHORITY);
  const nonsense = credential({ authority: fakeAuthority(async () => ({ result: 'maybe' }) as unknown as AuthorityVerdict) });
  assert.equal((await login({ cred: nonsense })).last.status, SEC_E_NO_AUTHENTICATING_AUTHORITY);

  const clock = new SimulatedClock();
  let aborted = false;
  const silent = credential({ clock, policy: { authorityTimeoutMs: 5000 }, authority: fakeAuthority((_c, signal) => new Promise(() => signal.addEventListener('abort', () => (aborted = true)))) });
  const client = createClientContext({ user: 'alice', domain: DOMAIN, password: 'alice-pw' });
  const first = await accept(silent, null, client.negotiate());
  const pending = accept(silent, first.context, client.authenticate(first.outputToken!).token);
  await new Promise((r) => setImmediate(r));
  clock.increment(5000);
  assert.equal((await pending).status, SEC_E_NO_AUTHENTICATING_AUTHORITY);
  assert.equal(aborted, true, 'the authority call is aborted');
});

/** A challenge-issuing authority, faked with a second acceptor standing in for the DC. */
function relayAuthority(counters: { aborted: number; relayed: number }): Authority {
  const dc = credential({ netbiosComputerName: 'DC1' });
  return {
    type: 'fake-dc',
    async relay(negotiate) {
      counters.relayed++;
      const first = await accept(dc, null, negotiate);
      if (first.status !== SEC_I_CONTINUE_NEEDED) throw new Error('dc refused negotiate');
      return {
        challenge: first.outputToken!,
        async authenticate(token): Promise<AuthorityVerdict> {
          const last = await accept(dc, first.context, token);
          if (last.status === SEC_E_OK) {
            const who = querySecurityContextToken(last.context!);
            return { result: 'ok', user: who.user, domain: 'EXAMPLE' };
          }
          if (last.status === SEC_E_LOGON_DENIED) return { result: 'denied', reason: last.denyReason ?? 'bad-credentials' };
          return { result: 'unavailable', detail: last.reason };
        },
        abort() {
          counters.aborted++;
          deleteSecurityContext(first.context);
        },
      };
    },
    close: async () => {},
  };
}

test('relay authority: its CHALLENGE is ours, the verdict maps the same way, delete aborts the relay', async () => {
  const counters = { aborted: 0, relayed: 0 };
  const relayed = credential({ authority: relayAuthority(counters) });
  const ok = await login({ cred: relayed });
  assert.equal(ok.last.status, SEC_E_OK, ok.last.reason);
  assert.deepEqual(querySecurityContextToken(ok.last.context!), { user: 'Alice', domain: 'EXAMPLE', workstation: 'WS1' });
  assert.equal(counters.relayed, 1);
  const wrong = await login({ cred: relayed, password: 'bad' });
  assert.equal(wrong.last.status, SEC_E_LOGON_DENIED);
  const disabled = await login({ cred: relayed, user: 'dave', password: 'dave-pw' });
  assert.equal(disabled.last.denyReason, 'account-disabled');
  const v1leg = await firstLeg(relayed, F.NEGOTIATE_UNICODE | F.NEGOTIATE_NTLM);
  assert.equal((await accept(relayed, v1leg.first.context, ntlmV1Authenticate(v1leg, 'alice-pw'))).reason, 'ntlmv1-refused');
  const pending = await firstLeg(relayed);
  const before = counters.aborted;
  deleteSecurityContext(pending.first.context);
  assert.equal(counters.aborted, before + 1);
  const failing = credential({ authority: { type: 'dead-dc', relay: async () => { throw new Error('ldap down'); }, close: async () => {} } });
  assert.equal((await accept(failing, null, encodeNegotiate({ flags: DEFAULT_CLIENT_FLAGS }))).status, SEC_E_NO_AUTHENTICATING_AUTHORITY);
  const garbageDc = credential({ authority: { type: 'odd-dc', relay: async () => ({ challenge: Buffer.from('nonsense'), authenticate: async () => ({ result: 'ok', user: 'x', domain: 'y' }), abort: () => {} }), close: async () => {} } });
  assert.equal((await accept(garbageDc, null, encodeNegotiate({ flags: DEFAULT_CLIENT_FLAGS }))).status, SEC_E_NO_AUTHENTICATING_AUTHORITY);
});

test('verifySync fast path: its verdict decides; undefined falls back to verify(); a throw is an outage', async () => {
  const calls: string[] = [];
  const both = (sync: Authority['verifySync']): Authority => ({
    type: 'fake-sync',
    verifySync: (check) => (calls.push('sync'), sync!(check)),
    verify: async (check, signal) => (calls.push('async'), local.verify(check, signal)),
    close: async () => {},
  });
  const fast = credential({ authority: both((check) => local.verifySync(check)) });
  const r = await login({ cred: fast });
  assert.equal(r.last.status, SEC_E_OK, r.last.reason);
  assert.deepEqual(querySecurityContextToken(r.last.context!), { user: 'Alice', domain: DOMAIN, workstation: 'WS1' });
  assert.deepEqual(calls, ['sync']);
  assert.equal((await login({ cred: fast, password: 'wrong' })).last.status, SEC_E_LOGON_DENIED);

  calls.length = 0;
  const deferring = credential({ authority: both(() => undefined) });
  assert.equal((await login({ cred: deferring })).last.status, SEC_E_OK);
  assert.deepEqual(calls, ['sync', 'async'], 'undefined: verify() is asked');

  const throwing = credential({ authority: both(() => { throw new Error('store broken'); }) });
  assert.equal((await login({ cred: throwing })).last.status, SEC_E_NO_AUTHENTICATING_AUTHORITY);
  const nonsense = credential({ authority: both(() => ({ result: 'maybe' }) as unknown as AuthorityVerdict) });
  assert.equal((await login({ cred: nonsense })).last.status, SEC_E_NO_AUTHENTICATING_AUTHORITY);
});
