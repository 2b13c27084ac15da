/**
 * Known-answer vectors.
 * - MS-NLMP 4.2.4 (NTLMv2).
 * - MIC, client-timestamp and channel-binding vectors: Chromium net/ntlm/ntlm_test_data.h
 *   (kExpectedNegotiateMsg, kChallengeMsgFromSpecV2, kExpectedAuthenticateMsgSpecResponseV2,
 *   kExpectedMicV2, kExpectedTargetInfoSpecResponseV2, kExpectedProofSpecResponseWithClientTimestampV2,
 *   kExpectedSessionBaseKeyWithClientTimestampV2, kChannelBindings / kExpectedChannelBindingHashV2,
 *   the latter from Microsoft's Open Specifications blog, 2013-03-26).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ntowfv1, ntowfv2, utf16le } from '../../src/ntlm/crypto.js';
import { rc4 } from '../../src/ntlm/rc4.js';
import { computeMic, computeNtlmV2Response, keyExchange, lmv2Response, parseNtlmV2Response, verifyNtlmV2 } from '../../src/ntlm/ntlmv2.js';
import { decodeAuthenticate, decodeChallenge, decodeNegotiate, formatVersion } from '../../src/ntlm/messages.js';
import { NtlmSessionSecurity, sealKey, signKey } from '../../src/ntlm/session.js';
import { channelBindingsHash } from '../../src/ntlm/ntlmv2.js';
import { AvId, NegotiateFlags } from '../../src/ntlm/constants.js';
import { avFlags, avString } from '../../src/ntlm/avpairs.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// MS-NLMP 4.2.1 common values.
const USER = 'User';
const DOMAIN = 'Domain';
const PASSWORD = 'Password';
const SERVER_CHALLENGE = hex('0123456789abcdef');
const CLIENT_CHALLENGE = Buffer.alloc(8, 0xaa);
const RANDOM_SESSION_KEY = Buffer.alloc(16, 0x55);
// MS-NLMP 4.2.4 flags: 0xe28a8233 (from the CHALLENGE of 4.2.4.3).
const FLAGS_4_2_4 = 0xe28a8233;
// MsvAvNbDomainName "Domain", MsvAvNbComputerName "Server", EOL (MS-NLMP 4.2.4; Chromium kExpectedTargetInfoFromSpecV2).
const SPEC_TARGET_INFO = hex('02000c0044006f006d00610069006e0001000c005300650072007600650072000000 0000');

// Chromium test messages (see header comment).
const CR_NEGOTIATE = hex('4e544c4d53535000010000000782080000000000200000000000000020000000');
const CR_CHALLENGE = hex(
  '4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef00000000000000002400240044000000060070170000000f53006500720076006500720002000c0044006f006d00610069006e0001000c0053006500720076006500720000000000',
);
const CR_AUTHENTICATE = hex(
  '4e544c4d535350000300000018001800580000008a008a00700000000c000c00fa0000000800080006010000100010000e0100000000000058000000038208000000000000000000f7361633f0ad9bdf4a7c421bc6b824a30000000000000000000000000000000000000000000000008c0260dbef690662af9c42d50782d2ed0101000000000000800bc8fd00d4d201aaaaaaaaaaaaaaaa0000000002000c0044006f006d00610069006e0001000c0053006500720076006500720006000400020000000a0010006586e99d81c2fc984e47172fd4dd03100900160048005400540050002f00530065007200760065007200000000000000000044006f006d00610069006e00550073006500720043004f004d0050005500540045005200',
);
const CR_CLIENT_TIMESTAMP = 131400439870000000n;
const CR_CHANNEL_BINDINGS_APP_DATA = Buffer.concat([
  Buffer.from('tls-server-end-point:', 'latin1'),
  hex('ea05fefecc6b0bd571dbbc5baa3ed45386d0446835f7b74c85621b9983475f95'),
]);

const ntHash = ntowfv1(PASSWORD);
const responseKey = ntowfv2(ntHash, USER, DOMAIN);

const table: Array<[string, () => Buffer, string]> = [
  ['NTOWFv1 (4.2.2.1.2)', () => ntHash, 'a4f49c406510bdcab6824ee7c30fd852'],
  ['NTOWFv2 (4.2.4.1.1)', () => responseKey, '0c868a403bfd7a93a3001ef22ef02e3f'],
  ['LMv2 response (4.2.4.2.1)', () => lmv2Response(responseKey, SERVER_CHALLENGE, CLIENT_CHALLENGE), '86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa'],
  [
    'NTProofStr (4.2.4.2.2)',
    () => computeNtlmV2Response({ responseKeyNT: responseKey, serverChallenge: SERVER_CHALLENGE, clientChallenge: CLIENT_CHALLENGE, timestamp: 0n, targetInfo: SPEC_TARGET_INFO }).ntProofStr,
    '68cd0ab851e51c96aabc927bebef6a1c',
  ],
  [
    'SessionBaseKey (4.2.4.1.2)',
    () => computeNtlmV2Response({ responseKeyNT: responseKey, serverChallenge: SERVER_CHALLENGE, clientChallenge: CLIENT_CHALLENGE, timestamp: 0n, targetInfo: SPEC_TARGET_INFO }).sessionBaseKey,
    '8de40ccadbc14a82f15cb0ad0de95ca3',
  ],
  ['EncryptedRandomSessionKey (4.2.4.2.3)', () => rc4(hex('8de40ccadbc14a82f15cb0ad0de95ca3'), RANDOM_SESSION_KEY), 'c5dad2544fc9799094ce1ce90bc9d03e'],
  ['key exchange recovers the RandomSessionKey', () => keyExchange(hex('8de40ccadbc14a82f15cb0ad0de95ca3'), hex('c5dad2544fc9799094ce1ce90bc9d03e')), '55'.repeat(16)],
  ['client SignKey (4.2.4.4)', () => signKey(RANDOM_SESSION_KEY, 'client-to-server'), '4788dc861b4782f35d43fd98fe1a2d39'],
  ['client SealKey (4.2.4.4)', () => sealKey(RANDOM_SESSION_KEY, FLAGS_4_2_4, 'client-to-server'), '59f600973cc4960a25480a7c196e4c58'],
  [
    'Chromium: NTProofStr with client timestamp, MIC flag, CBT and SPN',
    () =>
      computeNtlmV2Response({
        responseKeyNT: responseKey,
        serverChallenge: SERVER_CHALLENGE,
        clientChallenge: CLIENT_CHALLENGE,
        timestamp: CR_CLIENT_TIMESTAMP,
        targetInfo: parseNtlmV2Response(decodeAuthenticate(CR_AUTHENTICATE).ntResponse).avPairs,
      }).ntProofStr,
    '8c0260dbef690662af9c42d50782d2ed',
  ],
  ['Chromium: channel binding hash (MS blog 2013)', () => channelBindingsHash(CR_CHANNEL_BINDINGS_APP_DATA), '6586e99d81c2fc984e47172fd4dd0310'],
  ['Chromium: MIC over NEGOTIATE + CHALLENGE + AUTHENTICATE', () => computeMic(hex('623dbd071be7a530b6a95c2eb4982470'), CR_NEGOTIATE, CR_CHALLENGE, CR_AUTHENTICATE, 72), 'f7361633f0ad9bdf4a7c421bc6b824a3'],
];

for (const [name, compute, expected] of table) {
  test(`vector: ${name}`, () => {
    assert.equal(compute().toString('hex'), expected);
  });
}

test('vector: GSS_WrapEx("Plaintext") with seq 0 (MS-NLMP 4.2.4.4)', () => {
  const client = new NtlmSessionSecurity(RANDOM_SESSION_KEY, FLAGS_4_2_4, 'client');
  const { sealed, signature } = client.seal(utf16le('Plaintext'));
  assert.equal(sealed.toString('hex'), '54e50165bf1936dc996020c1811b0f06fb5f');
  assert.equal(signature.toString('hex'), '010000007fb38ec5c55d497600000000');
  const server = new NtlmSessionSecurity(RANDOM_SESSION_KEY, FLAGS_4_2_4, 'server');
  assert.equal(server.unseal(sealed, signature).toString('utf16le'), 'Plaintext');
});

test('vector: MS-NLMP 4.2.4.3 CHALLENGE decodes', () => {
  const c = decodeChallenge(CR_CHALLENGE);
  assert.equal(c.flags >>> 0, FLAGS_4_2_4);
  assert.equal(c.targetName, 'Server');
  assert.equal(c.serverChallenge.toString('hex'), '0123456789abcdef');
  assert.equal(avString(c.targetInfo.pairs, AvId.MsvAvNbDomainName), 'Domain');
  assert.equal(avString(c.targetInfo.pairs, AvId.MsvAvNbComputerName), 'Server');
  assert.ok(c.version);
  assert.equal(formatVersion(c.version), '6.0 build 6000 rev 15');
  assert.equal(c.targetInfo.raw.toString('hex'), SPEC_TARGET_INFO.toString('hex'));
});

test('vector: Chromium NEGOTIATE and AUTHENTICATE decode; the response verifies; the MIC matches', () => {
  const n = decodeNegotiate(CR_NEGOTIATE);
  assert.equal(n.flags, 0x00088207);
  assert.equal(n.version, undefined);
  const a = decodeAuthenticate(CR_AUTHENTICATE);
  assert.equal(a.user, USER);
  assert.equal(a.domain, DOMAIN);
  assert.equal(a.workstation, 'COMPUTER');
  assert.equal(a.flags, NegotiateFlags.NEGOTIATE_UNICODE | NegotiateFlags.NEGOTIATE_OEM | NegotiateFlags.NEGOTIATE_NTLM | NegotiateFlags.NEGOTIATE_ALWAYS_SIGN | NegotiateFlags.NEGOTIATE_EXTENDED_SESSIONSECURITY);
  assert.equal(a.micOffset, 72);
  assert.equal(a.mic?.toString('hex'), 'f7361633f0ad9bdf4a7c421bc6b824a3');
  assert.equal(a.lmResponse.toString('hex'), '00'.repeat(24));
  const v2 = parseNtlmV2Response(a.ntResponse);
  assert.equal(v2.timestamp, CR_CLIENT_TIMESTAMP);
  assert.equal(v2.clientChallenge.toString('hex'), 'aa'.repeat(8));
  assert.equal(avFlags(v2.avPairs), 2);
  assert.equal(avString(v2.avPairs, AvId.MsvAvTargetName), 'HTTP/Server');
  const r = verifyNtlmV2({ ntHash, user: USER, domain: DOMAIN, serverChallenge: SERVER_CHALLENGE, ntResponse: a.ntResponse });
  assert.ok(r.ok);
  assert.equal(r.sessionBaseKey.toString('hex'), '623dbd071be7a530b6a95c2eb4982470');
  assert.equal(computeMic(r.sessionBaseKey, CR_NEGOTIATE, CR_CHALLENGE, a.raw, a.micOffset).toString('hex'), a.mic!.toString('hex'));
});

test('verifyNtlmV2: domain retried uppercased and empty, wrong password and user refused', () => {
  const nt = computeNtlmV2Response({ responseKeyNT: ntowfv2(ntHash, USER, 'DOMAIN'), serverChallenge: SERVER_CHALLENGE, clientChallenge: CLIENT_CHALLENGE, timestamp: 0n, targetInfo: SPEC_TARGET_INFO }).ntResponse;
  const upper = verifyNtlmV2({ ntHash, user: 'user', domain: 'Domain', serverChallenge: SERVER_CHALLENGE, ntResponse: nt });
  assert.ok(upper.ok);
  assert.equal(upper.domainUsed, 'DOMAIN');
  const empty = computeNtlmV2Response({ responseKeyNT: ntowfv2(ntHash, USER, ''), serverChallenge: SERVER_CHALLENGE, clientChallenge: CLIENT_CHALLENGE, timestamp: 0n, targetInfo: SPEC_TARGET_INFO }).ntResponse;
  const e = verifyNtlmV2({ ntHash, user: USER, domain: 'Domain', serverChallenge: SERVER_CHALLENGE, ntResponse: empty });
  assert.ok(e.ok);
  assert.equal(e.domainUsed, '');
  assert.equal(verifyNtlmV2({ ntHash: ntowfv1('password'), user: USER, domain: DOMAIN, serverChallenge: SERVER_CHALLENGE, ntResponse: nt }).ok, false);
  assert.equal(verifyNtlmV2({ ntHash, user: 'Other', domain: DOMAIN, serverChallenge: SERVER_CHALLENGE, ntResponse: nt }).ok, false);
  assert.equal(verifyNtlmV2({ ntHash, user: USER, domain: DOMAIN, serverChallenge: Buffer.alloc(8), ntResponse: nt }).ok, false);
  assert.equal(verifyNtlmV2({ ntHash, user: USER, domain: DOMAIN, serverChallenge: SERVER_CHALLENGE, ntResponse: Buffer.alloc(24) }).ok, false);
});
