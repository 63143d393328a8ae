import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { base64ToBytes, base64ToFloat32, bytesToBase64, float32ToBase64 } from '../processing/encoding/base64.js';
import { LidarError } from '../processing/errors.js';

describe('base64', () => {
  it('matches the RFC 4648 test vectors', () => {
    const vectors: Array<[string, string]> = [['', ''], ['f', 'Zg=='], ['fo', 'Zm8='], ['foo', 'Zm9v'], ['foob', 'Zm9vYg=='], ['fooba', 'Zm9vYmE='], ['foobar', 'Zm9vYmFy']];
    for (const [plain, encoded] of vectors) {
      const bytes = Uint8Array.from(plain, (c) => c.charCodeAt(0));
      expect(bytesToBase64(bytes)).toBe(encoded);
      expect(base64ToBytes(encoded)).toEqual(bytes);
    }
  });

  it('round-trips arbitrary bytes and float32 arrays, NaN included, and agrees with Node', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => {
        const text = bytesToBase64(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64'));
        expect(base64ToBytes(text)).toEqual(bytes);
      }),
    );
    const values = new Float32Array([0, -1.5, 3.25e-6, NaN, Infinity, 1e30]);
    expect(Array.from(base64ToFloat32(float32ToBase64(values)))).toEqual(Array.from(values));
  });

  it('rejects malformed text with a coded error', () => {
    expect(() => base64ToBytes('abc')).toThrow(LidarError);
    expect(() => base64ToBytes('ab$=')).toThrow(/invalid base64 character/);
    expect(() => base64ToFloat32('Zg==')).toThrow(/not a multiple of 4/);
  });
});
