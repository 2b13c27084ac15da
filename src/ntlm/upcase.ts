/**
 * The uppercase NTOWFv2 applies to the user name [MS-NLMP 3.3.2], as a DC computes it: one
 * UTF-16 code unit at a time through a fixed table. This is Samba 4.17's table, which is taken
 * to mirror Windows' RtlUpcaseUnicodeChar (not checked against a Windows DC here). Not
 * String.prototype.toUpperCase: see below.
 *
 * Source (facts, not code): Samba 4.17 libcli/auth/smbencrypt.c ntv2_owf_gen() uppercases the
 * user's UTF-16 with strupper_w(), i.e. toupper_m() per code unit; lib/util/charset/codepoints.c
 * toupper_m(c) is C toupper(c) below 0x80 (ASCII), upcase_table[c] up to 0xFFFF, c above.
 * Derivation: toupper_m() of Debian's libsamba-util.so.0 (Samba 4.17.12) called for every unit
 * 0x0000..0xFFFF (C locale); the 636 units it changes, cross-checked by eye against
 * codepoints.c's upcase_table for U+0000..U+086F, compressed into the runs below.
 *
 * How it differs from JS 'x'.toUpperCase() on one unit (Node 20, ICU 78 / Unicode 17): every
 * mapping here agrees with JS, but JS has 535 more that the table leaves alone:
 * - uppercases that do not round-trip: U+00B5 micro, U+0131 dotless i, U+017F long s, U+0345,
 *   U+1E9B, U+1FBE, the Greek symbol forms U+03D0 U+03D1 U+03D5 U+03D6 U+03F0 U+03F1 U+03F5;
 * - titlecase digraphs U+01C5 U+01C8 U+01CB U+01F2 (their lowercase forms are mapped);
 * - case pairs newer than the table: Latin Extended-B from U+0180 on, U+0219.., IPA U+0250..,
 *   Cyrillic U+0450 U+045D U+048B.. U+0501.., Georgian U+10D0.. (-> Mtavruli) and U+2D00..,
 *   Cherokee U+13F8.. and U+AB70.., Glagolitic U+2C30.., Coptic U+2C81.., U+A641.., U+A723..;
 * - anything whose uppercase is longer (U+00DF -> "SS", U+FB01 -> "FI"): kept, one unit out.
 * Surrogates map to themselves, which matches toupper_m() leaving code points above 0xFFFF.
 */

/** [first, last, delta, stride = 1]: units first, first+stride, ..., last map to unit + delta. */
type UpcaseRun = readonly [first: number, last: number, delta: number, stride?: number];

const UPCASE_RUNS: readonly UpcaseRun[] = [
  [0x0061, 0x007a, -32], [0x00e0, 0x00f6, -32], [0x00f8, 0x00fe, -32], [0x00ff, 0x00ff, 121],
  [0x0101, 0x012f, -1, 2], [0x0133, 0x0137, -1, 2], [0x013a, 0x0148, -1, 2], [0x014b, 0x0177, -1, 2],
  [0x017a, 0x017e, -1, 2], [0x0183, 0x0185, -1, 2], [0x0188, 0x0188, -1], [0x018c, 0x018c, -1],
  [0x0192, 0x0192, -1], [0x0199, 0x0199, -1], [0x01a1, 0x01a5, -1, 2], [0x01a8, 0x01a8, -1],
  [0x01ad, 0x01ad, -1], [0x01b0, 0x01b0, -1], [0x01b4, 0x01b6, -1, 2], [0x01b9, 0x01b9, -1],
  [0x01bd, 0x01bd, -1], [0x01c6, 0x01c6, -2], [0x01c9, 0x01c9, -2], [0x01cc, 0x01cc, -2],
  [0x01ce, 0x01dc, -1, 2], [0x01dd, 0x01dd, -79], [0x01df, 0x01ef, -1, 2], [0x01f3, 0x01f3, -2],
  [0x01f5, 0x01f5, -1], [0x01fb, 0x0217, -1, 2], [0x0253, 0x0253, -210], [0x0254, 0x0254, -206],
  [0x0256, 0x0257, -205], [0x0259, 0x0259, -202], [0x025b, 0x025b, -203], [0x0260, 0x0260, -205],
  [0x0263, 0x0263, -207], [0x0268, 0x0268, -209], [0x0269, 0x0269, -211], [0x026f, 0x026f, -211],
  [0x0272, 0x0272, -213], [0x0275, 0x0275, -214], [0x0283, 0x0283, -218], [0x0288, 0x0288, -218],
  [0x028a, 0x028b, -217], [0x0292, 0x0292, -219], [0x03ac, 0x03ac, -38], [0x03ad, 0x03af, -37],
  [0x03b1, 0x03c1, -32], [0x03c2, 0x03c2, -31], [0x03c3, 0x03cb, -32], [0x03cc, 0x03cc, -64],
  [0x03cd, 0x03ce, -63], [0x03e3, 0x03ef, -1, 2], [0x0430, 0x044f, -32], [0x0451, 0x045c, -80],
  [0x045e, 0x045f, -80], [0x0461, 0x0481, -1, 2], [0x0491, 0x04bf, -1, 2], [0x04c2, 0x04c4, -1, 2],
  [0x04c8, 0x04c8, -1], [0x04cc, 0x04cc, -1], [0x04d1, 0x04eb, -1, 2], [0x04ef, 0x04f5, -1, 2],
  [0x04f9, 0x04f9, -1], [0x0561, 0x0586, -48], [0x1e01, 0x1e95, -1, 2], [0x1ea1, 0x1ef9, -1, 2],
  [0x1f00, 0x1f07, 8], [0x1f10, 0x1f15, 8], [0x1f20, 0x1f27, 8], [0x1f30, 0x1f37, 8],
  [0x1f40, 0x1f45, 8], [0x1f51, 0x1f57, 8, 2], [0x1f60, 0x1f67, 8], [0x1f70, 0x1f71, 74],
  [0x1f72, 0x1f75, 86], [0x1f76, 0x1f77, 100], [0x1f78, 0x1f79, 128], [0x1f7a, 0x1f7b, 112],
  [0x1f7c, 0x1f7d, 126], [0x1fb0, 0x1fb1, 8], [0x1fd0, 0x1fd1, 8], [0x1fe0, 0x1fe1, 8],
  [0x1fe5, 0x1fe5, 7], [0x2170, 0x217f, -16], [0x24d0, 0x24e9, -26], [0xff41, 0xff5a, -32],
];

/** The expanded table, one entry per UTF-16 code unit (128 KiB, built once at load). */
const UPCASE = (() => {
  const table = new Uint16Array(0x10000);
  for (let u = 0; u < table.length; u++) table[u] = u;
  for (const [first, last, delta, stride = 1] of UPCASE_RUNS) {
    for (let u = first; u <= last; u += stride) table[u] = u + delta;
  }
  return table;
})();

/** Windows/Samba uppercase of one UTF-16 code unit. */
export function upcaseUnit(unit: number): number {
  return UPCASE[unit & 0xffff]!;
}

const NON_ASCII = /[\u0080-\uffff]/;

/**
 * Windows/Samba uppercase of a string, unit by unit (same length). ASCII-only strings take
 * String.prototype.toUpperCase, which agrees with the table there and is the fast path.
 */
export function windowsUppercase(s: string): string {
  if (!NON_ASCII.test(s)) return s.toUpperCase();
  let out = '';
  for (let i = 0; i < s.length; i++) out += String.fromCharCode(UPCASE[s.charCodeAt(i)]!);
  return out;
}
