/**
 * `rasgate ntlm decode` end to end through tsx. The AUTHENTICATE is Chromium's
 * kExpectedAuthenticateMsgSpecResponseV2 (net/ntlm/ntlm_test_data.h): a real client's layout
 * with MIC, channel bindings and SPN; the CHALLENGE is MS-NLMP 4.2.4.3.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const AUTH_HEX =
  '4e544c4d535350000300000018001800580000008a008a00700000000c000c00fa0000000800080006010000100010000e0100000000000058000000038208000000000000000000f7361633f0ad9bdf4a7c421bc6b824a30000000000000000000000000000000000000000000000008c0260dbef690662af9c42d50782d2ed0101000000000000800bc8fd00d4d201aaaaaaaaaaaaaaaa0000000002000c0044006f006d00610069006e0001000c0053006500720076006500720006000400020000000a0010006586e99d81c2fc984e47172fd4dd03100900160048005400540050002f00530065007200760065007200000000000000000044006f006d00610069006e00550073006500720043004f004d0050005500540045005200';
const CHALLENGE_HEX =
  '4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef00000000000000002400240044000000060070170000000f53006500720076006500720002000c0044006f006d00610069006e0001000c0053006500720076006500720000000000';

function rasgate(args: string[], input?: string) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'ntlm', ...args], { cwd: root, input, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('decode an AUTHENTICATE given as an HTTP header value', () => {
  const b64 = Buffer.from(AUTH_HEX, 'hex').toString('base64');
  const r = rasgate(['decode', `Authorization: NTLM ${b64}`]);
  assert.equal(r.code, 0, r.err);
  for (const expected of [
    /^AUTHENTICATE \(286 bytes\)/m,
    /NEGOTIATE_EXTENDED_SESSIONSECURITY/,
    /NtChallengeResponse\s+len\s+138\s+max\s+138\s+offset 112/,
    /user\s+"User"/,
    /domain\s+"Domain"/,
    /NT response\s+138 bytes: NTLMv2/,
    /MIC\s+present at 72/,
    /MsvAvFlags\s+0x00000002 \(MIC_PRESENT\)/,
    /MsvAvTargetName\s+HTTP\/Server/,
    /timestamp\s+2017-05-23T20:13:07\.000Z/,
  ]) {
    assert.match(r.out, expected);
  }
  assert.doesNotMatch(r.out, /8c0260dbef690662/); // NTProofStr never printed
});

test('decode a CHALLENGE from stdin as hex, --json', () => {
  const r = rasgate(['decode', '-', '--json'], `${CHALLENGE_HEX}\n`);
  assert.equal(r.code, 0, r.err);
  const d = JSON.parse(r.out);
  assert.equal(d.valid, true);
  assert.equal(d.type, 'CHALLENGE');
  assert.equal(d.targetName, 'Server');
  assert.equal(d.version, '6.0 build 6000 rev 15');
  assert.deepEqual(d.targetInfo.map((p: { name: string; value: string }) => [p.name, p.value]), [['MsvAvNbDomainName', 'Domain'], ['MsvAvNbComputerName', 'Server']]);
  assert.equal(d.flags.hex, '0xe28a8233');
});

test('garbage and truncated tokens exit 2 with a one-line reason', () => {
  const junk = rasgate(['decode', 'not a token!']);
  assert.equal(junk.code, 2);
  assert.match(junk.err, /^rasgate ntlm decode: bad token: not base64 or hex\n$/);
  const cut = rasgate(['decode', AUTH_HEX.slice(0, 200)]);
  assert.equal(cut.code, 2);
  assert.match(cut.err, /^rasgate ntlm decode: bad token: NTLM_FIELD_OUT_OF_RANGE: .*\n$/);
  const json = rasgate(['decode', '--json', Buffer.from('hello world').toString('base64')]);
  assert.equal(json.code, 2);
  assert.equal(JSON.parse(json.out).error.code, 'NTLM_BAD_SIGNATURE');
  assert.equal(rasgate(['decode']).code, 2);
});
