/**
 * Profile arrays <-> BLOB bytes: raw little-endian Float32 (Uint8 for qc), bit-exact (NaN payloads
 * included). No copy when encoding on little-endian hosts; decoding copies into an aligned buffer.
 * Trailing canonical NaNs (0x7fc00000, what Float32Array.from(NaN) stores) are not written: products
 * end in NaN beyond terrain, clouds or the reference, often most of a long record; reading pads the
 * array back to the profile's bin count with the same bits, so the round trip stays bit-exact.
 */
import { LidarError } from '../../processing/errors.js';
import type { ProfileArrayName } from '../port.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function swap32(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += 4) {
    out[i] = bytes[i + 3];
    out[i + 1] = bytes[i + 2];
    out[i + 2] = bytes[i + 1];
    out[i + 3] = bytes[i];
  }
  return out;
}

const CANONICAL_NAN = 0x7fc00000;

/** Length of `a` without its trailing canonical NaNs. */
function trimmedLength(a: Float32Array): number {
  const bits = new Uint32Array(a.buffer, a.byteOffset, a.length);
  let n = a.length;
  while (n > 0 && bits[n - 1] === CANONICAL_NAN) n--;
  return n;
}

/** Bytes to bind as a BLOB (a Buffer view over the array's memory on little-endian hosts). */
export function arrayToBlob(a: Float32Array | Uint8Array): Buffer {
  const length = a instanceof Uint8Array || a.byteOffset % 4 !== 0 ? a.length : trimmedLength(a);
  const view = new Uint8Array(a.buffer, a.byteOffset, length * a.BYTES_PER_ELEMENT);
  if (a instanceof Uint8Array || LITTLE_ENDIAN) return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
  return Buffer.from(swap32(view));
}

/** The typed array of `bins` values stored in a BLOB (a fresh copy, safe to keep). */
export function blobToArray(name: ProfileArrayName, blob: Uint8Array, where: string, bins: number): Float32Array | Uint8Array {
  if (name === 'qc') {
    const copy = new Uint8Array(blob.byteLength);
    copy.set(blob);
    return copy;
  }
  if (blob.byteLength % 4 !== 0 || blob.byteLength > 4 * bins) {
    throw new LidarError('LIDAR_ERR_IO', `stored array has ${blob.byteLength} bytes, not a multiple of 4 up to ${4 * bins} (corrupt database?)`, { field: `${where}.arrays.${name}` });
  }
  const out = new Uint8Array(4 * bins);
  out.set(LITTLE_ENDIAN ? blob : swap32(blob));
  new Uint32Array(out.buffer, blob.byteLength).fill(CANONICAL_NAN);
  return new Float32Array(out.buffer);
}
