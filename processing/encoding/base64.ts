/**
 * Base64 (RFC 4648) for typed arrays, pure (no Buffer/btoa) so the core runs in Node and browsers.
 * Float32 arrays are written little-endian; NaN survives the round trip.
 */
import { LidarError } from '../errors.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export function bytesToBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  let chunk = '';
  const n = bytes.length;
  for (let i = 0; i < n; i += 3) {
    const b0 = bytes[i];
    const b1 = i + 1 < n ? bytes[i + 1] : 0;
    const b2 = i + 2 < n ? bytes[i + 2] : 0;
    chunk += ALPHABET[b0 >> 2] + ALPHABET[((b0 & 3) << 4) | (b1 >> 4)];
    chunk += i + 1 < n ? ALPHABET[((b1 & 15) << 2) | (b2 >> 6)] : '=';
    chunk += i + 2 < n ? ALPHABET[b2 & 63] : '=';
    if (chunk.length >= 8192) {
      parts.push(chunk);
      chunk = '';
    }
  }
  parts.push(chunk);
  return parts.join('');
}

export function base64ToBytes(text: string, field = 'base64'): Uint8Array {
  if (text.length % 4 !== 0) throw new LidarError('LIDAR_ERR_BAD_VALUE', `base64 length ${text.length} is not a multiple of 4`, { field });
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const v = [0, 1, 2, 3].map((k) => {
      const c = text.charCodeAt(i + k);
      if (c === 61 /* = */ && i + k >= text.length - pad) return 0;
      const d = c < 128 ? LOOKUP[c] : -1;
      if (d < 0) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid base64 character '${text[i + k]}' at ${i + k}`, { field });
      return d;
    });
    const triple = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    if (o < out.length) out[o++] = (triple >> 16) & 255;
    if (o < out.length) out[o++] = (triple >> 8) & 255;
    if (o < out.length) out[o++] = triple & 255;
  }
  return out;
}

/** Float32 little-endian base64 of a numeric array (values rounded to float32). */
export function float32ToBase64(values: ArrayLike<number>): string {
  const f = Float32Array.from(values);
  const bytes = new Uint8Array(f.buffer);
  if (!LITTLE_ENDIAN) for (let i = 0; i < bytes.length; i += 4) bytes.subarray(i, i + 4).reverse();
  return bytesToBase64(bytes);
}

export function base64ToFloat32(text: string, field = 'base64'): Float32Array {
  const bytes = base64ToBytes(text, field);
  if (bytes.length % 4 !== 0) throw new LidarError('LIDAR_ERR_BAD_VALUE', `float32 data of ${bytes.length} bytes is not a multiple of 4`, { field });
  if (!LITTLE_ENDIAN) for (let i = 0; i < bytes.length; i += 4) bytes.subarray(i, i + 4).reverse();
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
}
