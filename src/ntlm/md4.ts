/**
 * MD4 [RFC 1320] in TypeScript: Node 20's OpenSSL 3 refuses `createHash('md4')` without the
 * legacy provider, and rasgate never asks users for flags. Used only for NTOWFv1 (short input).
 */

const S1 = [3, 7, 11, 19];
const S2 = [3, 5, 9, 13];
const S3 = [3, 9, 11, 15];
const R3_ORDER = [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15];

function rotl(x: number, n: number): number {
  return (x << n) | (x >>> (32 - n));
}

/** MD4 digest (16 bytes) of `data`. */
export function md4(data: Uint8Array): Buffer {
  // Padding [RFC 1320 3.1-3.2]: 0x80, zeros to 56 mod 64, then the bit length (64-bit LE).
  const bitLength = BigInt(data.length) * 8n;
  const padded = Buffer.alloc((((data.length + 8) >> 6) + 1) << 6);
  padded.set(data);
  padded[data.length] = 0x80;
  padded.writeBigUInt64LE(bitLength & 0xffffffffffffffffn, padded.length - 8);

  let a = 0x67452301;
  let b = 0xefcdab89;
  let c = 0x98badcfe;
  let d = 0x10325476;
  const x = new Int32Array(16);

  for (let block = 0; block < padded.length; block += 64) {
    for (let i = 0; i < 16; i++) x[i] = padded.readInt32LE(block + i * 4);
    const aa = a, bb = b, cc = c, dd = d;

    // Round 1 [RFC 1320 3.4]: F(X,Y,Z) = XY v not(X) Z
    for (let i = 0; i < 16; i++) {
      const f = (b & c) | (~b & d);
      const t = rotl((a + f + x[i]!) | 0, S1[i % 4]!);
      a = d; d = c; c = b; b = t;
    }
    // Round 2: G(X,Y,Z) = XY v XZ v YZ, constant 0x5A827999
    for (let i = 0; i < 16; i++) {
      const k = (i % 4) * 4 + (i >> 2);
      const g = (b & c) | (b & d) | (c & d);
      const t = rotl((a + g + x[k]! + 0x5a827999) | 0, S2[i % 4]!);
      a = d; d = c; c = b; b = t;
    }
    // Round 3: H(X,Y,Z) = X xor Y xor Z, constant 0x6ED9EBA1
    for (let i = 0; i < 16; i++) {
      const h = b ^ c ^ d;
      const t = rotl((a + h + x[R3_ORDER[i]!]! + 0x6ed9eba1) | 0, S3[i % 4]!);
      a = d; d = c; c = b; b = t;
    }

    a = (a + aa) | 0;
    b = (b + bb) | 0;
    c = (c + cc) | 0;
    d = (d + dd) | 0;
  }

  const out = Buffer.alloc(16);
  out.writeInt32LE(a, 0);
  out.writeInt32LE(b, 4);
  out.writeInt32LE(c, 8);
  out.writeInt32LE(d, 12);
  return out;
}
