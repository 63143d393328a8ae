/**
 * SHA-256, FIPS 180-4 "Secure Hash Standard" (NIST, 2015) section 6.2, in pure TypeScript so the
 * parameter-set id (retrieval/params.ts) is the same in Node and in the browser without
 * node:crypto or SubtleCrypto (which is asynchronous). Strings are hashed as their UTF-8 bytes
 * (RFC 3629), encoded here; a lone UTF-16 surrogate becomes U+FFFD, as the WHATWG TextEncoder does.
 * Message blocks are read in place; only the final one or two padded blocks are copied.
 */

/** First 32 bits of the fractional parts of the cube roots of the first 64 primes (FIPS 180-4 4.2.2). */
const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** Initial hash value (FIPS 180-4 5.3.3). */
const H0 = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/** UTF-8 bytes of a JavaScript (UTF-16) string. */
export function utf8Encode(text: string): Uint8Array {
  // At most 3 bytes per UTF-16 code unit (a surrogate pair: 2 units -> 4 bytes).
  const out = new Uint8Array(text.length * 3);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    let cp = text.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdfff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (cp <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (next - 0xdc00);
        i++;
      } else {
        cp = 0xfffd; // lone surrogate
      }
    }
    if (cp < 0x80) out[n++] = cp;
    else if (cp < 0x800) {
      out[n++] = 0xc0 | (cp >> 6);
      out[n++] = 0x80 | (cp & 0x3f);
    } else if (cp < 0x10000) {
      out[n++] = 0xe0 | (cp >> 12);
      out[n++] = 0x80 | ((cp >> 6) & 0x3f);
      out[n++] = 0x80 | (cp & 0x3f);
    } else {
      out[n++] = 0xf0 | (cp >> 18);
      out[n++] = 0x80 | ((cp >> 12) & 0x3f);
      out[n++] = 0x80 | ((cp >> 6) & 0x3f);
      out[n++] = 0x80 | (cp & 0x3f);
    }
  }
  return out.subarray(0, n);
}

/** One 64-byte block at `offset` of `bytes` into the state `h` (FIPS 180-4 6.2.2); `w` is scratch. */
function compress(h: Uint32Array, w: Uint32Array, bytes: Uint8Array, offset: number): void {
  for (let t = 0; t < 16; t++) {
    const p = offset + 4 * t;
    w[t] = (bytes[p] << 24) | (bytes[p + 1] << 16) | (bytes[p + 2] << 8) | bytes[p + 3];
  }
  for (let t = 16; t < 64; t++) {
    const x = w[t - 15];
    const y = w[t - 2];
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[t] = w[t - 16] + s0 + w[t - 7] + s1; // Uint32Array store wraps mod 2^32
  }
  let a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
  for (let t = 0; t < 64; t++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const ch = (e & f) ^ (~e & g);
    const t1 = (k + S1 + ch + K[t] + w[t]) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = (S0 + maj) | 0;
    k = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
  h[5] += f;
  h[6] += g;
  h[7] += k;
}

/** SHA-256 digest (32 bytes) of `data` (strings as UTF-8). */
export function sha256(data: Uint8Array | string): Uint8Array {
  const bytes = typeof data === 'string' ? utf8Encode(data) : data;
  const h = new Uint32Array(H0);
  const w = new Uint32Array(64);
  const n = bytes.length;
  const full = n - (n % 64);
  for (let off = 0; off < full; off += 64) compress(h, w, bytes, off);
  // Padding (FIPS 180-4 5.1.1): 0x80, zeros, then the message length in bits as 64-bit big-endian.
  const rest = n - full;
  const tail = new Uint8Array(rest < 56 ? 64 : 128);
  tail.set(bytes.subarray(full));
  tail[rest] = 0x80;
  const hiBits = Math.floor(n / 0x20000000); // n * 8 / 2^32
  const loBits = (n * 8) >>> 0;
  const end = tail.length;
  tail[end - 8] = hiBits >>> 24;
  tail[end - 7] = (hiBits >>> 16) & 0xff;
  tail[end - 6] = (hiBits >>> 8) & 0xff;
  tail[end - 5] = hiBits & 0xff;
  tail[end - 4] = loBits >>> 24;
  tail[end - 3] = (loBits >>> 16) & 0xff;
  tail[end - 2] = (loBits >>> 8) & 0xff;
  tail[end - 1] = loBits & 0xff;
  for (let off = 0; off < end; off += 64) compress(h, w, tail, off);
  const digest = new Uint8Array(32);
  for (let i = 0; i < 8; i++) {
    digest[4 * i] = h[i] >>> 24;
    digest[4 * i + 1] = (h[i] >>> 16) & 0xff;
    digest[4 * i + 2] = (h[i] >>> 8) & 0xff;
    digest[4 * i + 3] = h[i] & 0xff;
  }
  return digest;
}

const HEX = '0123456789abcdef';

/** SHA-256 of `data` (strings as UTF-8) as 64 lowercase hex characters. */
export function sha256Hex(data: Uint8Array | string): string {
  const digest = sha256(data);
  let s = '';
  for (let i = 0; i < digest.length; i++) s += HEX[digest[i] >> 4] + HEX[digest[i] & 15];
  return s;
}
