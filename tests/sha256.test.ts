// SHA-256 (FIPS 180-4) against the NIST example vectors, UTF-8 encoding, and node:crypto.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { sha256Hex, utf8Encode } from '../processing/hash/sha256.js';

const node = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

describe('sha256Hex', () => {
  it('FIPS 180-4 / NIST CSRC example vectors', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
    expect(sha256Hex('abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu')).toBe(
      'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1',
    );
    expect(sha256Hex(new Uint8Array(1_000_000).fill(0x61))).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  });

  it('every padding boundary (0..130 bytes) agrees with node:crypto', () => {
    for (let n = 0; n <= 130; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff);
      expect(sha256Hex(bytes), `length ${n}`).toBe(node(bytes));
    }
  });

  it('UTF-8: multi-byte characters and surrogate pairs as node and TextEncoder encode them', () => {
    const samples = ['é', 'София', '€', '日本語', '😀 lidar', 'a\u0000b', '\u07ff\u0800\uffff', '\u{10ffff}'];
    for (const s of samples) {
      expect(Array.from(utf8Encode(s))).toEqual(Array.from(new TextEncoder().encode(s)));
      expect(sha256Hex(s)).toBe(node(s));
    }
    expect(sha256Hex('é')).toBe(sha256Hex(new Uint8Array([0xc3, 0xa9])));
    // lone surrogates become U+FFFD, as TextEncoder does
    expect(Array.from(utf8Encode('a\ud800b\udc00'))).toEqual(Array.from(new TextEncoder().encode('a\ud800b\udc00')));
  });

  it('agrees with node:crypto on random bytes and strings', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => sha256Hex(bytes) === node(bytes)),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        expect(Array.from(utf8Encode(s))).toEqual(Array.from(new TextEncoder().encode(s)));
        return sha256Hex(s) === createHash('sha256').update(new TextEncoder().encode(s)).digest('hex');
      }),
      { numRuns: 300 },
    );
  });

  it('hashes a subarray view by its own bytes', () => {
    const buf = new Uint8Array(100).map((_, i) => i);
    expect(sha256Hex(buf.subarray(10, 80))).toBe(node(buf.slice(10, 80)));
  });
});
