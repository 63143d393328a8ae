/**
 * Profile arrays <-> BLOB bytes: raw little-endian Float32 (Uint8 for qc), bit-exact (NaN payloads
 * included). No copy when encoding on little-endian hosts; decoding copies into an aligned buffer.
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

/** Bytes to bind as a BLOB (a Buffer view over the array's memory on little-endian hosts). */
export function arrayToBlob(a: Float32Array | Uint8Array): Buffer {
  const view = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (a instanceof Uint8Array || LITTLE_ENDIAN) return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
  return Buffer.from(swap32(view));
}

/** The typed array stored in a BLOB (a fresh copy, safe to keep). */
export function blobToArray(name: ProfileArrayName, blob: Uint8Array, where: string): Float32Array | Uint8Array {
  const copy = new Uint8Array(blob.byteLength);
  copy.set(blob);
  if (name === 'qc') return copy;
  if (copy.byteLength % 4 !== 0) throw new LidarError('LIDAR_ERR_IO', `stored array has ${copy.byteLength} bytes, not a multiple of 4 (corrupt database?)`, { field: `${where}.arrays.${name}` });
  return new Float32Array((LITTLE_ENDIAN ? copy : swap32(copy)).buffer);
}
