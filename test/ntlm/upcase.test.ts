/**
 * NTOWFv2's user-name uppercase: Windows'/Samba's per-unit table (src/ntlm/upcase.ts), pinned by
 * samples and, where Samba is installed, compared with libsamba-util's toupper_m for all 65536
 * UTF-16 code units.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { upcaseUnit, windowsUppercase } from '../../src/ntlm/upcase.js';
import { fullUnicodeUppercase, hmacMd5, ntlmUppercase, ntowfv1, ntowfv2, utf16le } from '../../src/ntlm/crypto.js';
import { computeNtlmV2Response, verifyNtlmV2 } from '../../src/ntlm/ntlmv2.js';
import { needs, PYTHON } from '../helpers/tools.js';

const LIBSAMBA_UTIL = '/usr/lib/x86_64-linux-gnu/libsamba-util.so.0';

/** [input, Windows/Samba uppercase]. */
const SAMPLES: [string, string][] = [
  // ASCII: letters only.
  ['alice', 'ALICE'],
  ['Bob_1-x.y@z', 'BOB_1-X.Y@Z'],
  // Latin-1: à..þ up except ÷; ÿ -> Ÿ (U+0178); ß and µ stay.
  ['\u00e9ric \u00e0\u00fe\u00f7', '\u00c9RIC \u00c0\u00de\u00f7'],
  ['\u00ffvonne', '\u0178VONNE'],
  ['stra\u00dfe', 'STRA\u00dfE'],
  ['\u00b5soft', '\u00b5SOFT'],
  // Latin Extended-A: pairs map; dotless i and long s stay.
  ['\u0101\u0107\u017e', '\u0100\u0106\u017d'],
  ['\u0131rmak', '\u0131RMAK'],
  ['\u017f', '\u017f'],
  // Latin Extended-B: DŽ/Dž/dž -> DŽ except the titlecase form, which stays.
  ['\u01c6\u01c5\u01c4', '\u01c4\u01c5\u01c4'],
  ['\u01c9\u01c8 \u01cc\u01cb \u01f3\u01f2', '\u01c7\u01c8 \u01ca\u01cb \u01f1\u01f2'],
  ['\u0219\u0180', '\u0219\u0180'],
  // Greek: basic letters and final sigma map; symbol forms stay.
  ['\u03c9mega \u03b1\u03c2', '\u03a9MEGA \u0391\u03a3'],
  ['\u03ac\u03cc\u03ce', '\u0386\u038c\u038f'],
  ['\u03d0\u03d1\u03d5\u03d6\u03f0\u03f1\u03f5', '\u03d0\u03d1\u03d5\u03d6\u03f0\u03f1\u03f5'],
  ['\u1f00\u1f51\u1f70\u1fe5', '\u1f08\u1f59\u1fba\u1fec'],
  // Cyrillic and Armenian.
  ['\u0430\u044f\u0451\u045f\u0461', '\u0410\u042f\u0401\u040f\u0460'],
  ['\u0450\u045d\u0501', '\u0450\u045d\u0501'],
  ['\u0561\u0586', '\u0531\u0556'],
  // Georgian (Mkhedruli has no uppercase in the table) and Cherokee lowercase: stay.
  ['\u10d0\u10dc\u10d0', '\u10d0\u10dc\u10d0'],
  ['\u2d00', '\u2d00'],
  ['\u13f8\uab70', '\u13f8\uab70'],
  // Latin Extended Additional, Roman numerals, circled and fullwidth letters.
  ['\u1e01\u1ef9\u1e9b', '\u1e00\u1ef8\u1e9b'],
  ['\u2170\u217f', '\u2160\u216f'],
  ['\u24d0\u24e9', '\u24b6\u24cf'],
  ['\uff41\uff5a', '\uff21\uff3a'],
  // Ligatures (uppercase longer) stay; astral characters (surrogate pairs) stay.
  ['\ufb01x', '\ufb01X'],
  ['\ud801\udc28x', '\ud801\udc28X'],
];

test('windowsUppercase / ntlmUppercase: pinned samples of the Windows/Samba table', () => {
  for (const [input, expected] of SAMPLES) {
    assert.equal(windowsUppercase(input), expected, JSON.stringify(input));
    assert.equal(ntlmUppercase(input), expected, JSON.stringify(input));
    assert.equal(ntlmUppercase(input).length, input.length);
  }
});

test('the table is a subset of JS single-unit toUpperCase (every mapping agrees)', () => {
  let mapped = 0;
  for (let u = 0; u < 0x10000; u++) {
    const up = upcaseUnit(u);
    if (up === u) continue;
    mapped++;
    assert.equal(String.fromCharCode(up), String.fromCharCode(u).toUpperCase(), `U+${u.toString(16)}`);
  }
  assert.equal(mapped, 636);
});

test('fullUnicodeUppercase is the full mapping (impacket / gss-ntlmssp spelling)', () => {
  assert.equal(fullUnicodeUppercase('\u0131rmak'), 'IRMAK');
  assert.equal(fullUnicodeUppercase('stra\u00dfe'), 'STRASSE');
  assert.equal(fullUnicodeUppercase('\u10d0\u10dc\u10d0'), '\u1c90\u1c9c\u1c90');
});

test('equals Samba 4.17 toupper_m for every UTF-16 code unit', { skip: needs(LIBSAMBA_UTIL) }, () => {
  const script = [
    'import ctypes, sys',
    `f = ctypes.CDLL(${JSON.stringify(LIBSAMBA_UTIL)}).toupper_m`,
    'f.argtypes = [ctypes.c_uint32]; f.restype = ctypes.c_uint32',
    'sys.stdout.write(" ".join("%x:%x" % (u, f(u)) for u in range(0x10000) if f(u) != u))',
  ].join('\n');
  const r = spawnSync(PYTHON, ['-c', script], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  assert.equal(r.status, 0, r.stderr);
  const samba = new Map(r.stdout.split(' ').map((p) => p.split(':').map((h) => parseInt(h, 16)) as [number, number]));
  for (let u = 0; u < 0x10000; u++) assert.equal(upcaseUnit(u), samba.get(u) ?? u, `U+${u.toString(16)}`);
});

const SERVER_CHALLENGE = Buffer.from('0123456789abcdef', 'hex');
const NT_HASH = ntowfv1('pw');

/** An NTLMv2 response whose ResponseKeyNT uses exactly `spelling` + `keyDomain`. */
function responseFor(spelling: string, keyDomain: string): Buffer {
  return computeNtlmV2Response({
    responseKeyNT: hmacMd5(NT_HASH, utf16le(spelling + keyDomain)),
    serverChallenge: SERVER_CHALLENGE,
    clientChallenge: Buffer.alloc(8, 7),
    timestamp: 0n,
    targetInfo: [],
  }).ntResponse;
}

const verify = (user: string, domain: string, ntResponse: Buffer, ntHash = NT_HASH) =>
  verifyNtlmV2({ ntHash, user, domain, serverChallenge: SERVER_CHALLENGE, ntResponse });

test('ntowfv2 (our client) keys with the Windows/Samba spelling', () => {
  assert.deepEqual(ntowfv2(NT_HASH, '\u0131rmak', 'RASGATE'), hmacMd5(NT_HASH, utf16le('\u0131RMAK' + 'RASGATE')));
});

test('verifyNtlmV2: Windows/Samba spelling and full-Unicode spelling, each with the domain retries', () => {
  for (const name of ['\u0131rmak', '\u00b5soft', '\u01c5emal', '\u03d0eta', '\u10d0\u10dc\u10d0', 'stra\u00dfe', '\ufb01x']) {
    const windows = windowsUppercase(name);
    const full = name.toUpperCase();
    assert.notEqual(windows, full, name);
    for (const spelling of [windows, full]) {
      const sent = verify(name, 'rasgate', responseFor(spelling, 'rasgate'));
      assert.equal(sent.ok && sent.domainUsed, 'rasgate', `${name} as ${spelling}, domain as sent`);
      const upper = verify(name, 'rasgate', responseFor(spelling, 'RASGATE'));
      assert.equal(upper.ok && upper.domainUsed, 'RASGATE', `${name} as ${spelling}, domain uppercased`);
      const empty = verify(name, 'rasgate', responseFor(spelling, ''));
      assert.equal(empty.ok && empty.domainUsed, '', `${name} as ${spelling}, empty domain`);
      assert.equal(verify(name, 'rasgate', responseFor(spelling, 'RASGATE'), ntowfv1('other')).ok, false);
    }
    // Neither spelling (the name as typed, where that is a third one): refused.
    if (name !== windows) assert.equal(verify(name, 'RASGATE', responseFor(name, 'RASGATE')).ok, false, `${name} not uppercased`);
  }
});

test('verifyNtlmV2: ASCII names have one spelling; lower case or a wrong hash is refused', () => {
  assert.equal(verify('alice', 'RASGATE', responseFor('ALICE', 'RASGATE')).ok, true);
  assert.equal(verify('alice', 'RASGATE', responseFor('alice', 'RASGATE')).ok, false);
  assert.equal(verify('alice', 'RASGATE', responseFor('ALICE', 'RASGATE'), ntowfv1('other')).ok, false);
});
