/**
 * Our client against our own codec and verifyNtlmV2 (real-peer interop lives elsewhere).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClientContext, initializeSecurityContext, channelBindingsStruct, channelBindingsHash, DEFAULT_CLIENT_FLAGS, NtlmClientStateError } from '../../src/ntlm/client.js';
import { decodeAuthenticate, decodeNegotiate, encodeChallenge, RASGATE_VERSION } from '../../src/ntlm/messages.js';
import { computeMic, keyExchange, parseNtlmV2Response, verifyNtlmV2 } from '../../src/ntlm/ntlmv2.js';
import { avFlags, avString, avTimestamp, findAvPair, stringPair, timestampPair, flagsPair } from '../../src/ntlm/avpairs.js';
import { ntowfv1 } from '../../src/ntlm/crypto.js';
import { NtlmSessionSecurity } from '../../src/ntlm/session.js';
import {
  AvId,
  ISC_REQ_CONFIDENTIALITY,
  ISC_REQ_CONNECTION,
  ISC_REQ_INTEGRITY,
  ISC_REQ_REPLAY_DETECT,
  ISC_RET_CONFIDENTIALITY,
  ISC_RET_CONNECTION,
  ISC_RET_INTEGRITY,
  ISC_RET_REPLAY_DETECT,
  NegotiateFlags as F,
  SEC_E_INVALID_HANDLE,
  SEC_E_INVALID_TOKEN,
  SEC_E_OK,
  SEC_E_UNKNOWN_CREDENTIALS,
  SEC_I_CONTINUE_NEEDED,
} from '../../src/ntlm/constants.js';
import { NtlmTokenError } from '../../src/ntlm/errors.js';

const SERVER_CHALLENGE = Buffer.from('0123456789abcdef', 'hex');
const SERVER_FLAGS =
  F.NEGOTIATE_UNICODE | F.REQUEST_TARGET | F.NEGOTIATE_SIGN | F.NEGOTIATE_SEAL | F.NEGOTIATE_NTLM | F.NEGOTIATE_ALWAYS_SIGN | F.TARGET_TYPE_DOMAIN |
  F.NEGOTIATE_EXTENDED_SESSIONSECURITY | F.NEGOTIATE_TARGET_INFO | F.NEGOTIATE_VERSION | F.NEGOTIATE_128 | F.NEGOTIATE_KEY_EXCH | F.NEGOTIATE_56;

function challenge(opts: { flags?: number; timestamp?: bigint | null; extra?: ReturnType<typeof flagsPair>[] } = {}): Buffer {
  const pairs = [stringPair(AvId.MsvAvNbDomainName, 'EXAMPLE'), stringPair(AvId.MsvAvNbComputerName, 'RASGATE'), stringPair(AvId.MsvAvDnsDomainName, 'example.test')];
  if (opts.timestamp !== null) pairs.push(timestampPair(opts.timestamp ?? 133000000000000000n));
  pairs.push(...(opts.extra ?? []));
  return encodeChallenge({ flags: (opts.flags ?? SERVER_FLAGS) >>> 0, serverChallenge: SERVER_CHALLENGE, targetName: 'EXAMPLE', targetInfo: pairs, version: RASGATE_VERSION });
}

const CRED = { user: 'alice', domain: 'EXAMPLE', password: 'Secret#1', workstation: 'WS01' };

test('NEGOTIATE: 40 bytes, Version, default flags (+SEAL when asked)', () => {
  const n = decodeNegotiate(createClientContext(CRED).negotiate());
  assert.equal(n.raw.length, 40);
  assert.equal(n.flags, DEFAULT_CLIENT_FLAGS >>> 0);
  assert.deepEqual(n.version, RASGATE_VERSION);
  for (const f of [F.NEGOTIATE_UNICODE, F.NEGOTIATE_SIGN, F.NEGOTIATE_EXTENDED_SESSIONSECURITY, F.NEGOTIATE_128, F.NEGOTIATE_KEY_EXCH, F.NEGOTIATE_VERSION]) assert.ok(n.flags & f);
  assert.equal(n.flags & F.NEGOTIATE_SEAL, 0);
  assert.ok(decodeNegotiate(createClientContext({ ...CRED, seal: true }).negotiate()).flags & F.NEGOTIATE_SEAL);
});

test('AUTHENTICATE: NTLMv2 that verifies, MIC over the raw three messages, KEY_EXCH, flags', () => {
  const ctx = createClientContext({ ...CRED, targetName: 'HOST/rasgate', seal: true });
  const neg = ctx.negotiate();
  const chal = challenge();
  const r = ctx.authenticate(chal);
  const a = decodeAuthenticate(r.token);
  assert.equal(a.user, 'alice');
  assert.equal(a.domain, 'EXAMPLE');
  assert.equal(a.workstation, 'WS01');
  assert.equal(a.unicode, true);
  assert.deepEqual(a.version, RASGATE_VERSION);
  for (const f of [F.NEGOTIATE_UNICODE, F.NEGOTIATE_SIGN, F.NEGOTIATE_SEAL, F.NEGOTIATE_EXTENDED_SESSIONSECURITY, F.NEGOTIATE_128, F.NEGOTIATE_KEY_EXCH, F.NEGOTIATE_VERSION, F.NEGOTIATE_NTLM]) {
    assert.ok(a.flags & f, `flag 0x${f.toString(16)}`);
  }
  assert.equal(a.flags & F.NEGOTIATE_OEM, 0);
  assert.equal(r.flags, a.flags);

  const v = verifyNtlmV2({ ntHash: ntowfv1('Secret#1'), user: a.user, domain: a.domain, serverChallenge: SERVER_CHALLENGE, ntResponse: a.ntResponse });
  assert.ok(v.ok);
  const exported = keyExchange(v.sessionBaseKey, a.encryptedRandomSessionKey);
  assert.deepEqual(exported, r.exportedSessionKey);
  assert.ok(a.mic && a.micOffset === 72);
  assert.deepEqual(computeMic(exported, neg, chal, a.raw, a.micOffset), a.mic);

  // Blob: server pairs echoed unchanged and first, then MsvAvFlags=2, Z(16) bindings, SPN.
  const blob = parseNtlmV2Response(a.ntResponse);
  assert.equal(avString(blob.avPairs, AvId.MsvAvNbDomainName), 'EXAMPLE');
  assert.equal(avString(blob.avPairs, AvId.MsvAvDnsDomainName), 'example.test');
  assert.deepEqual(blob.avPairs.slice(0, 4).map((p) => p.id), [AvId.MsvAvNbDomainName, AvId.MsvAvNbComputerName, AvId.MsvAvDnsDomainName, AvId.MsvAvTimestamp]);
  assert.equal(avFlags(blob.avPairs), 2);
  assert.deepEqual(findAvPair(blob.avPairs, AvId.MsvAvChannelBindings)?.value, Buffer.alloc(16));
  assert.equal(avString(blob.avPairs, AvId.MsvAvTargetName), 'HOST/rasgate');
  // Server timestamp present: used in the blob, and the LM response is Z(24).
  assert.equal(blob.timestamp, 133000000000000000n);
  assert.deepEqual(a.lmResponse, Buffer.alloc(24));

  // The returned session talks to a server-side one built from the same key.
  const server = new NtlmSessionSecurity(exported, a.flags, 'server');
  const { sealed, signature } = r.session!.seal(Buffer.from('hello'));
  assert.equal(server.unseal(sealed, signature).toString(), 'hello');
});

test('AUTHENTICATE: no server timestamp -> own timestamp and a real LMv2', () => {
  const ctx = createClientContext({ ...CRED, timestamp: 132000000000000000n, clientChallenge: Buffer.alloc(8, 0xaa) });
  ctx.negotiate();
  const a = decodeAuthenticate(ctx.authenticate(challenge({ timestamp: null })).token);
  const blob = parseNtlmV2Response(a.ntResponse);
  assert.equal(blob.timestamp, 132000000000000000n);
  assert.equal(avTimestamp(blob.avPairs), undefined);
  assert.equal(a.lmResponse.length, 24);
  assert.deepEqual(a.lmResponse.subarray(16), Buffer.alloc(8, 0xaa));
  assert.notDeepEqual(a.lmResponse.subarray(0, 16), Buffer.alloc(16));
});

test('AUTHENTICATE: OEM server, no KEY_EXCH -> OEM strings, ExportedSessionKey = SessionBaseKey', () => {
  const ctx = createClientContext({ user: 'bob', domain: 'dom', ntHash: ntowfv1('pw') });
  const neg = ctx.negotiate();
  const chal = challenge({ flags: F.NEGOTIATE_OEM | F.NEGOTIATE_NTLM | F.NEGOTIATE_SIGN | F.NEGOTIATE_EXTENDED_SESSIONSECURITY });
  const r = ctx.authenticate(chal);
  const a = decodeAuthenticate(r.token);
  assert.equal(a.unicode, false);
  assert.equal(a.user, 'bob');
  // Flags are a subset of the server's; Version bytes still there (MIC slot layout).
  assert.equal((a.flags & ~(F.NEGOTIATE_OEM | F.NEGOTIATE_NTLM | F.NEGOTIATE_SIGN | F.NEGOTIATE_EXTENDED_SESSIONSECURITY)) >>> 0, 0);
  assert.equal(a.flags & F.NEGOTIATE_VERSION, 0);
  assert.deepEqual(a.version, RASGATE_VERSION);
  assert.equal(a.encryptedRandomSessionKey.length, 0);
  const v = verifyNtlmV2({ ntHash: ntowfv1('pw'), user: 'bob', domain: 'dom', serverChallenge: SERVER_CHALLENGE, ntResponse: a.ntResponse });
  assert.ok(v.ok);
  assert.deepEqual(r.exportedSessionKey, v.sessionBaseKey);
  assert.deepEqual(computeMic(v.sessionBaseKey, neg, chal, a.raw), a.mic);
});

test('AUTHENTICATE: injected key, channel bindings hashed into the blob, server MsvAvFlags replaced', () => {
  const cb = channelBindingsStruct(Buffer.from('tls-server-end-point:abc'));
  const ctx = createClientContext({ ...CRED, channelBindings: cb, exportedSessionKey: Buffer.alloc(16, 0x55) });
  ctx.negotiate();
  const r = ctx.authenticate(challenge({ extra: [flagsPair(0)] }));
  assert.deepEqual(r.exportedSessionKey, Buffer.alloc(16, 0x55));
  const blob = parseNtlmV2Response(decodeAuthenticate(r.token).ntResponse);
  assert.deepEqual(findAvPair(blob.avPairs, AvId.MsvAvChannelBindings)?.value, channelBindingsHash(Buffer.from('tls-server-end-point:abc')));
  assert.equal(blob.avPairs.filter((p) => p.id === AvId.MsvAvFlags).length, 1);
  assert.equal(avFlags(blob.avPairs), 2);
});

test('client context misuse and bad challenges are typed', () => {
  const ctx = createClientContext(CRED);
  assert.throws(() => ctx.authenticate(challenge()), NtlmClientStateError);
  ctx.negotiate();
  assert.throws(() => ctx.negotiate(), NtlmClientStateError);
  assert.throws(() => ctx.authenticate(Buffer.from('garbage')), NtlmTokenError);
  assert.throws(() => createClientContext({ user: 'x', domain: '' }), /"password" or "ntHash" is required/);
  assert.equal(JSON.stringify(ctx).includes('Secret'), false);
});

test('initializeSecurityContext: two legs, statuses and attributes', () => {
  const req = ISC_REQ_INTEGRITY | ISC_REQ_REPLAY_DETECT | ISC_REQ_CONFIDENTIALITY | ISC_REQ_CONNECTION;
  const first = initializeSecurityContext(CRED, null, 'HOST/rasgate', req);
  assert.equal(first.status, SEC_I_CONTINUE_NEEDED);
  assert.ok(first.context && first.outputToken);
  assert.ok(decodeNegotiate(first.outputToken).flags & F.NEGOTIATE_SEAL);
  const second = initializeSecurityContext(CRED, first.context, 'HOST/rasgate', req, challenge());
  assert.equal(second.status, SEC_E_OK);
  assert.equal(second.context?.state, 'established');
  assert.ok(second.context?.session);
  assert.equal(second.contextAttr, ISC_RET_INTEGRITY | ISC_RET_REPLAY_DETECT | ISC_RET_CONFIDENTIALITY | ISC_RET_CONNECTION);
  assert.equal(decodeAuthenticate(second.outputToken!).user, 'alice');
  // Used again: invalid handle.
  assert.equal(initializeSecurityContext(CRED, second.context, undefined, req, challenge()).status, SEC_E_INVALID_HANDLE);
  // Garbage challenge: invalid token, context failed.
  const f = initializeSecurityContext(CRED, null, undefined, req);
  const bad = initializeSecurityContext(CRED, f.context, undefined, req, Buffer.from('NTLMSSP\0\x02\0\0\0', 'latin1'));
  assert.equal(bad.status, SEC_E_INVALID_TOKEN);
  assert.equal(bad.context?.state, 'failed');
  // Server that refuses SEAL: no CONFIDENTIALITY attribute.
  const g = initializeSecurityContext(CRED, null, undefined, req);
  const noSeal = initializeSecurityContext(CRED, g.context, undefined, req, challenge({ flags: SERVER_FLAGS & ~F.NEGOTIATE_SEAL }));
  assert.equal(noSeal.status, SEC_E_OK);
  assert.equal(noSeal.contextAttr & ISC_RET_CONFIDENTIALITY, 0);
  // No credentials.
  assert.equal(initializeSecurityContext({ user: 'x', domain: '' }, null, undefined, 0).status, SEC_E_UNKNOWN_CREDENTIALS);
});
