// CRC-32/IEEE (processing/hash/crc32.ts): published check values, zlib's implementation as an
// independent reference on random inputs, and the incremental form.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { crc32, crc32Update } from '../processing/hash/crc32.js';

const ascii = (s: string) => new TextEncoder().encode(s);

describe('crc32', () => {
  it('matches the published check values', () => {
    // CRC-32/ISO-HDLC check value (Greg Cook, "Catalogue of parametrised CRC algorithms").
    expect(crc32(ascii('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(ascii('a'))).toBe(0xe8b7be43);
    expect(crc32(ascii('abc'))).toBe(0x352441c2);
    expect(crc32(ascii('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
    // 32 bytes of 0x00 and of 0xFF (values computed by zlib, an independent implementation).
    expect(crc32(new Uint8Array(32))).toBe(0x190a55ad);
    expect(crc32(new Uint8Array(32).fill(0xff))).toBe(0xff6cab0b);
  });

  it('agrees with zlib on random inputs and ranges', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.nat(), fc.nat(), (bytes, x, y) => {
        expect(crc32(bytes)).toBe(zlibCrc32(bytes));
        const s = bytes.length === 0 ? 0 : x % bytes.length;
        const e = s + (bytes.length - s === 0 ? 0 : y % (bytes.length - s + 1));
        expect(crc32(bytes, s, e)).toBe(zlibCrc32(bytes.subarray(s, e)));
      }),
    );
  });

  it('continues over a split input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 500 }), fc.uint8Array({ maxLength: 500 }), (a, b) => {
        const ab = new Uint8Array(a.length + b.length);
        ab.set(a);
        ab.set(b, a.length);
        expect(crc32Update(crc32(a), b)).toBe(crc32(ab));
      }),
    );
  });
});
