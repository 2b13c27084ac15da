import { test } from 'node:test';
import assert from 'node:assert/strict';
import { md4 } from '../../src/ntlm/md4.js';
import { Rc4, rc4 } from '../../src/ntlm/rc4.js';
import { constantTimeEqual, hmacMd5, md5, ntlmUppercase, ntowfv1, utf16le } from '../../src/ntlm/crypto.js';

// RFC 1320 appendix A.5 test suite.
const MD4_SUITE: Array<[string, string]> = [
  ['', '31d6cfe0d16ae931b73c59d7e0c089c0'],
  ['a', 'bde52cb31de33e46245e05fbdbd6fb24'],
  ['abc', 'a448017aaf21d8525fc10ae87aa6729d'],
  ['message digest', 'd9130a8164549fe818874806e1c7014b'],
  ['abcdefghijklmnopqrstuvwxyz', 'd79e1c308aa5bbcdeea8ed63df412da9'],
  ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', '043f8582f241db351ce627e153e7f0e4'],
  ['12345678901234567890123456789012345678901234567890123456789012345678901234567890', 'e33b4ddc9c38f2199c3e7b164fcc0536'],
];
for (const [input, digest] of MD4_SUITE) {
  test(`md4 RFC 1320: "${input.slice(0, 20)}${input.length > 20 ? '...' : ''}"`, () => {
    assert.equal(md4(Buffer.from(input, 'latin1')).toString('hex'), digest);
  });
}

test('md4 across block boundaries (55, 56, 63, 64, 65 bytes) is stable and distinct', () => {
  const seen = new Set<string>();
  for (const n of [55, 56, 63, 64, 65, 119, 120, 128]) seen.add(md4(Buffer.alloc(n, 0x61)).toString('hex'));
  assert.equal(seen.size, 8);
});

// Widely published RC4 vectors (Wikipedia "RC4" test vectors).
const RC4_VECTORS: Array<[string, string, string]> = [
  ['Key', 'Plaintext', 'bbf316e8d940af0ad3'],
  ['Wiki', 'pedia', '1021bf0420'],
  ['Secret', 'Attack at dawn', '45a01f645fc35b383552544b9bf5'],
];
for (const [key, plain, cipher] of RC4_VECTORS) {
  test(`rc4 vector key="${key}"`, () => {
    assert.equal(rc4(Buffer.from(key), Buffer.from(plain)).toString('hex'), cipher);
    assert.equal(rc4(Buffer.from(key), Buffer.from(cipher, 'hex')).toString(), plain);
  });
}

test('Rc4 keeps its keystream across updates', () => {
  const whole = rc4(Buffer.from('Secret'), Buffer.from('Attack at dawn'));
  const s = new Rc4(Buffer.from('Secret'));
  const parts = Buffer.concat([s.update(Buffer.from('Attack')), s.update(Buffer.from(' at ')), s.update(Buffer.from('dawn'))]);
  assert.deepEqual(parts, whole);
});

test('md5 / hmacMd5 (RFC 2202 case 2) and NT hash of the empty password', () => {
  assert.equal(md5(Buffer.from('a'), Buffer.from('bc')).toString('hex'), '900150983cd24fb0d6963f7d28e17f72');
  assert.equal(hmacMd5(Buffer.from('Jefe'), Buffer.from('what do ya want '), Buffer.from('for nothing?')).toString('hex'), '750c783e6ab0b503eaa86e310a5db738');
  assert.equal(ntowfv1('').toString('hex'), '31d6cfe0d16ae931b73c59d7e0c089c0');
  assert.deepEqual(utf16le('Ab'), Buffer.from([0x41, 0, 0x62, 0]));
});

test('constantTimeEqual: equal, different, different length (no throw)', () => {
  assert.equal(constantTimeEqual(Buffer.from('abc'), Buffer.from('abc')), true);
  assert.equal(constantTimeEqual(Buffer.from('abc'), Buffer.from('abd')), false);
  assert.equal(constantTimeEqual(Buffer.from('abc'), Buffer.from('abcd')), false);
  assert.equal(constantTimeEqual(Buffer.alloc(0), Buffer.alloc(0)), true);
});

test('ntlmUppercase keeps the length and uses the Windows/Samba table (more in upcase.test.ts)', () => {
  assert.equal(ntlmUppercase('alice'), 'ALICE');
  assert.equal(ntlmUppercase('stra\u00dfe'), 'STRA\u00dfE');
  assert.equal(ntlmUppercase('\u00e9ric \u0131'), '\u00c9RIC \u0131');
  assert.equal(ntlmUppercase('\ufb01x'), '\ufb01X');
});
