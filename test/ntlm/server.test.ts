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
import { channelBindingsStruct, computeMic, computeNtlmV2Response, lmv2Response } from '../../src/ntlm/ntlmv2.js';
import { decodeChallenge, decodeAuthenticate, encodeAuthenticate, encodeNegotiate, RASGATE_VERSION } from '../../src/ntlm/messages.js';
import { flagsPair, stringPair, type AvPair } from '../../src/ntlm/avpairs.js';
import { ntowfv1, ntowfv2 } from '../../src/ntlm/crypto.js';
import { rc4 } from '../../src/ntlm/rc4.js';
import {
  AvId, NegotiateFlags as F, ASC_REQ_CONNECTION, ASC_REQ_INTEGRITY, ASC_REQ_CONFIDENTIALITY, ASC_REQ_REPLAY_DETECT, ASC_RET_INTEGRITY, ASC_RET_CONFIDENTIALITY,
  SECURITY_NATIVE_DREP, SEC_E_OK, SEC_I_CONTINUE_NEEDED, SEC_E_LOGON_DENIED, SEC_E_INVALID_TOKEN, SEC_E_INVALID_HANDLE, SEC_E_NO_AUTHENTICATING_AUTHORITY,
  SEC_E_CONTEXT_EXPIRED, SEC_E_BAD_BINDINGS, SEC_E_MESSAGE_ALTERED, SEC_E_INSUFFICIENT_MEMORY, SEC_E_INVALID_PARAMETER,
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
writeFileSync(file, accounts.map(([name, pw, flags], i) => formatLine({ name, uid: 1000 + i, ntHash: ntowfv1(pw), hasLmHash: false, flags: new Set(flags), lastChange: 0x5f5e1000 })).join('\n') + '\n', { mode: 0o600 });
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

test('the CHALLENGE carries names + timestamp, no MsvAvFlags, flags echoed only if offered', async () => {
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

test('NTLMv1 has one switch, the authority\'s: refused by default (no authority call), accepted when the authority allows it', async () => {
  const leg = await firstLeg(cred, F.NEGOTIATE_UNICODE | F.NEGOTIATE_NTLM);
  const r = await accept(cred, leg.first.context, ntlmV1Authenticate(leg, 'alice-pw'));
  assert.equal(r.status, SEC_E_LOGON_DENIED);
  assert.equal(r.reason, 'ntlmv1-refused');

  const warnings: string[] = [];
  const logger = { warn: (m: string) => warnings.push(m), info: () => {}, error: () => {} } as unknown as AcquireCredentialsOptions['logger'];
  // No acceptor policy needed (the daemon passes none): the authority's allowNtlmV1 is the switch.
  const v1cred = credential({ authority: localV1, logger });
  assert.ok(warnings.some((w) => /NTLMv1/.test(w)), 'loud warning at acquisition');
  const ok = await firstLeg(v1cred, F.NEGOTIATE_UNICODE | F.NEGOTIATE_NTLM);
  assert.equal((await accept(v1cred, ok.first.context, ntlmV1Authenticate(ok, 'alice-pw'))).status, SEC_E_OK);
  const bad = await firstLeg(v1cred, F.NEGOTIATE_UNICODE | F.NEGOTIATE_NTLM);
  assert.equal((await accept(v1cred, bad.first.context, ntlmV1Authenticate(bad, 'wrong'))).status, SEC_E_LOGON_DENIED);
  // The old second switch is gone, and says where the one is.
  assert.throws(() => credential({ policy: { allowNtlmV1: true } as never }), /authority/);
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

test('challenge expired (SimulatedClock, 2 min default): SEC_E_CONTEXT_EXPIRED', async () => {
  const clock = new SimulatedClock();
  const timed = credential({ clock });
  const client = createClientContext({ user: 'alice', domain: DOMAIN, password: 'alice-pw' });
  const first = await accept(timed, null, client.negotiate());
  const token = client.authenticate(first.outputToken!).token;
  clock.increment(2 * 60_000);
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

// ---- network-safe limits and fixes ----------------------------------------

test('pending contexts are capped per credential: NEGOTIATEs past the cap get SEC_E_INSUFFICIENT_MEMORY until one finishes', async () => {
  const capped = credential({ policy: { maxPendingContexts: 3 } });
  const pending = [];
  for (let i = 0; i < 3; i++) pending.push(await firstLeg(capped));
  const refused = await accept(capped, null, encodeNegotiate({ flags: DEFAULT_CLIENT_FLAGS }));
  assert.equal(refused.status, SEC_E_INSUFFICIENT_MEMORY);
  assert.equal(refused.reason, 'too-many-pending-contexts');
  assert.equal(refused.context, null, 'no context is made for a refused NEGOTIATE');
  // A finished handshake and a deleted context each free their place.
  assert.equal((await accept(capped, pending[0]!.first.context, handBuild(pending[0]!))).status, SEC_E_OK);
  const again = await firstLeg(capped);
  assert.equal((await accept(capped, null, encodeNegotiate({ flags: DEFAULT_CLIENT_FLAGS }))).status, SEC_E_INSUFFICIENT_MEMORY);
  deleteSecurityContext(pending[1]!.first.context);
  const third = await firstLeg(capped);
  // Established contexts hold no place: three more logins go through while two wait.
  for (let i = 0; i < 3; i++) assert.equal((await login({ cred: credential({ policy: { maxPendingContexts: 1 } }) })).last.status, SEC_E_OK);
  for (const c of [again, third, pending[2]!]) deleteSecurityContext(c.first.context);
});

test('an unanswered CHALLENGE lapses after 2 minutes by default and frees its place', async () => {
  const clock = new SimulatedClock();
  const timed = credential({ clock, policy: { maxPendingContexts: 1 } });
  const client = createClientContext({ user: 'alice', domain: DOMAIN, password: 'alice-pw' });
  const first = await accept(timed, null, client.negotiate());
  assert.equal((await accept(timed, null, encodeNegotiate({ flags: DEFAULT_CLIENT_FLAGS }))).status, SEC_E_INSUFFICIENT_MEMORY);
  clock.increment(2 * 60_000 - 1);
  assert.equal((await accept(timed, null, encodeNegotiate({ flags: DEFAULT_CLIENT_FLAGS }))).status, SEC_E_INSUFFICIENT_MEMORY);
  clock.increment(1);
  assert.equal((await accept(timed, first.context, client.authenticate(first.outputToken!).token)).status, SEC_E_CONTEXT_EXPIRED);
  assert.equal((await accept(timed, null, encodeNegotiate({ flags: DEFAULT_CLIENT_FLAGS }))).status, SEC_I_CONTINUE_NEEDED, 'the lapsed context freed its place');
});

test('the pending cap and lifetime are checked options', () => {
  for (const bad of [0, -1, 1.5, Number.NaN, '10']) {
    assert.throws(() => credential({ policy: { maxPendingContexts: bad as number } }), /maxPendingContexts/);
  }
});

test('a failure path never comes back as success: an authority throwing { status: 0 } is not SEC_E_OK', async () => {
  // The relay's abort() runs on the failure path (the relay cannot give a session key).
  const zero = { status: 0, reason: 'ok' };
  const relay: Authority = {
    type: 'zero-dc',
    relay: async (negotiate) => {
      const dc = await accept(cred, null, negotiate);
      return { challenge: dc.outputToken!, authenticate: async () => ({ result: 'ok', user: 'alice', domain: DOMAIN }), abort: () => { throw zero; } };
    },
    close: async () => {},
  };
  const r = await login({ cred: credential({ authority: relay }), req: REQ | ASC_REQ_INTEGRITY });
  assert.notEqual(r.last.status, SEC_E_OK);
  assert.equal(r.last.status, SEC_E_LOGON_DENIED, r.last.reason);
  // A relay whose CHALLENGE is garbage and whose abort throws { status: 0 }.
  const broken: Authority = { type: 'zero-dc2', relay: async () => ({ challenge: Buffer.from('junk'), authenticate: async () => ({ result: 'ok', user: 'a', domain: 'b' }), abort: () => { throw zero; } }), close: async () => {} };
  const b = await accept(credential({ authority: broken }), null, encodeNegotiate({ flags: DEFAULT_CLIENT_FLAGS }));
  assert.ok(b.status >>> 0 >= 0x80000000, `failure status, got ${b.status}`);
  // verify() and verifySync() throwing it: an outage, never a logon.
  for (const authority of [fakeAuthority(async () => { throw zero; }), { type: 'zs', verifySync: () => { throw zero; }, verify: async () => { throw zero; }, close: async () => {} } satisfies Authority]) {
    const z = await login({ cred: credential({ authority }) });
    assert.equal(z.last.status, SEC_E_NO_AUTHENTICATING_AUTHORITY);
  }
});

test('bad arguments from the caller get SEC_E_INVALID_PARAMETER, never a throw', async () => {
  const negotiate = encodeNegotiate({ flags: DEFAULT_CLIENT_FLAGS });
  const nullOptions = await acceptSecurityContext(cred, null, negotiate, REQ, SECURITY_NATIVE_DREP, null as unknown as undefined);
  assert.equal(nullOptions.status, SEC_I_CONTINUE_NEEDED, 'null options are no options');
  deleteSecurityContext(nullOptions.context);
  for (const [what, call] of [
    ['options not an object', () => acceptSecurityContext(cred, null, negotiate, REQ, SECURITY_NATIVE_DREP, 'x' as unknown as undefined)],
    ['contextReq not a number', () => acceptSecurityContext(cred, null, negotiate, 'all' as unknown as number, SECURITY_NATIVE_DREP)],
    ['channel bindings not 16 bytes', () => accept(cred, null, negotiate, REQ, { channelBindings: Buffer.alloc(3) })],
    ['inspect not an observer', () => accept(cred, null, negotiate, REQ, { inspect: 42 as never })],
  ] as const) {
    const r = await call();
    assert.equal(r.status, SEC_E_INVALID_PARAMETER, what);
    assert.equal(r.context, null, what);
  }
});

test('channel bindings given on the first leg only are checked on the last', async () => {
  const app = Buffer.from('tls-server-end-point:first-leg-only');
  const expected = channelBindingsHash(app);
  const run = async (clientApp: Buffer | undefined) => {
    const client = createClientContext({ user: 'alice', domain: DOMAIN, password: 'alice-pw', channelBindings: clientApp ? channelBindingsStruct(clientApp) : undefined });
    const first = await accept(cred, null, client.negotiate(), REQ, { channelBindings: expected });
    return accept(cred, first.context, client.authenticate(first.outputToken!).token);
  };
  assert.equal((await run(app)).status, SEC_E_OK);
  assert.equal((await run(Buffer.from('tls-server-end-point:someone-else'))).status, SEC_E_BAD_BINDINGS);
  assert.equal((await run(undefined)).status, SEC_E_BAD_BINDINGS);
  // Different bindings on the two legs: refused.
  const client = createClientContext({ user: 'alice', domain: DOMAIN, password: 'alice-pw', channelBindings: channelBindingsStruct(app) });
  const first = await accept(cred, null, client.negotiate(), REQ, { channelBindings: expected });
  const last = await accept(cred, first.context, client.authenticate(first.outputToken!).token, REQ, { channelBindings: channelBindingsHash(Buffer.from('other')) });
  assert.equal(last.status, SEC_E_BAD_BINDINGS);
});

test('the context keeps its own copies: a caller reusing its receive buffer does not break the MIC or a pending check', async () => {
  const client = createClientContext({ user: 'alice', domain: DOMAIN, password: 'alice-pw' });
  const rx = Buffer.alloc(4096);
  const neg = client.negotiate();
  neg.copy(rx);
  const first = await accept(cred, null, rx.subarray(0, neg.length));
  rx.fill(0x41); // the next read lands in the same buffer
  const auth = client.authenticate(first.outputToken!).token;
  auth.copy(rx);
  const last = await accept(cred, first.context, rx.subarray(0, auth.length));
  assert.equal(last.status, SEC_E_OK, last.reason);

  // Asked asynchronously: the AUTHENTICATE buffer is overwritten while the authority thinks.
  const slow = credential({ authority: fakeAuthority(async (check, signal) => { await new Promise((r) => setImmediate(r)); return local.verify(check, signal); }) });
  const c2 = createClientContext({ user: 'alice', domain: DOMAIN, password: 'alice-pw' });
  const f2 = await accept(slow, null, c2.negotiate());
  const a2 = Buffer.from(c2.authenticate(f2.outputToken!).token);
  const pending = accept(slow, f2.context, a2);
  a2.fill(0);
  assert.equal((await pending).status, SEC_E_OK);
});

test('an AUTHENTICATE with only an LMv2 response names the user and is refused as such, not as anonymous', async () => {
  const leg = await firstLeg();
  const key = ntowfv2(ntowfv1('alice-pw'), 'alice', DOMAIN);
  const lmv2 = lmv2Response(key, leg.challenge.serverChallenge, Buffer.alloc(8, 3));
  const token = encodeAuthenticate({ flags: leg.challenge.flags, lmResponse: lmv2, ntResponse: Buffer.alloc(0), user: 'alice', domain: DOMAIN, workstation: 'LM2' });
  const r = await accept(cred, leg.first.context, token);
  assert.equal(r.status, SEC_E_LOGON_DENIED);
  assert.equal(r.reason, 'lm-only-refused');
  // Truly anonymous stays anonymous.
  const leg2 = await firstLeg();
  const anon = encodeAuthenticate({ flags: F.NEGOTIATE_UNICODE | F.NEGOTIATE_NTLM, lmResponse: Buffer.alloc(1), ntResponse: Buffer.alloc(0), user: '', domain: '' });
  assert.equal((await accept(cred, leg2.first.context, anon)).reason, 'anonymous');
});

test('AUTHENTICATE strings follow the character set of our CHALLENGE, not the message\'s own UNICODE flag (wget)', async () => {
  // The client negotiates OEM; its AUTHENTICATE claims UNICODE yet carries OEM strings.
  const leg = await firstLeg(cred, F.NEGOTIATE_OEM | F.NEGOTIATE_NTLM | F.REQUEST_TARGET);
  assert.equal(leg.challenge.flags & F.NEGOTIATE_UNICODE, 0);
  const key = ntowfv2(ntowfv1('alice-pw'), 'alice', DOMAIN);
  const v2 = computeNtlmV2Response({ responseKeyNT: key, serverChallenge: leg.challenge.serverChallenge, clientChallenge: Buffer.alloc(8, 9), timestamp: 0n, targetInfo: leg.challenge.targetInfo.pairs });
  const token = encodeAuthenticate({ flags: F.NEGOTIATE_OEM | F.NEGOTIATE_NTLM, ntResponse: v2.ntResponse, lmResponse: Buffer.alloc(24), user: 'alice', domain: DOMAIN, workstation: 'WGET' });
  token.writeUInt32LE((token.readUInt32LE(60) | F.NEGOTIATE_UNICODE) >>> 0, 60);
  const r = await accept(cred, leg.first.context, token);
  assert.equal(r.status, SEC_E_OK, r.reason);
  assert.deepEqual(querySecurityContextToken(r.context!), { user: 'Alice', domain: DOMAIN, workstation: 'WGET' });
});
