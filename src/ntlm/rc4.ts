/**
 * RC4 in TypeScript: Node 20's OpenSSL 3 refuses the cipher without the legacy provider.
 * Stateful, because NTLM session security keeps one keystream per direction for the whole
 * session [MS-NLMP 3.4.3, 3.4.4]; `rc4()` is the one-shot form (key exchange, MS-NLMP 3.1.5.1.2).
 */
export class Rc4 {
  private readonly s = new Uint8Array(256);
  private i = 0;
  private j = 0;

  constructor(key: Uint8Array) {
    if (key.length === 0 || key.length > 256) throw new RangeError('"key" must be 1..256 bytes');
    const s = this.s;
    for (let k = 0; k < 256; k++) s[k] = k;
    let j = 0;
    for (let k = 0; k < 256; k++) {
      j = (j + s[k]! + key[k % key.length]!) & 0xff;
      const t = s[k]!;
      s[k] = s[j]!;
      s[j] = t;
    }
  }

  /** XOR `data` with the next `data.length` keystream bytes; returns a new Buffer. */
  update(data: Uint8Array): Buffer {
    const s = this.s;
    const out = Buffer.allocUnsafe(data.length);
    let i = this.i;
    let j = this.j;
    for (let n = 0; n < data.length; n++) {
      i = (i + 1) & 0xff;
      j = (j + s[i]!) & 0xff;
      const t = s[i]!;
      s[i] = s[j]!;
      s[j] = t;
      out[n] = data[n]! ^ s[(s[i]! + s[j]!) & 0xff]!;
    }
    this.i = i;
    this.j = j;
    return out;
  }
}

/** One-shot RC4 of `data` under `key`. */
export function rc4(key: Uint8Array, data: Uint8Array): Buffer {
  return new Rc4(key).update(data);
}
