/**
 * Serial capture files: the raw bytes that arrived at a port, chunk by chunk, with arrival times, so a
 * session can be replayed with its pacing. Little-endian throughout.
 *
 *   header, 24 bytes:
 *     0  magic     8 bytes  "LPMSCAP\n" (4C 50 4D 53 43 41 50 0A)
 *     8  version   u16      1
 *     10 flags     u16      bit 0: the record section is Brotli-compressed (RFC 7932);
 *                           other bits must be 0
 *     12 baudRate  u32      the line speed recorded at (0 = unknown), for information
 *     16 startMs   u64      UTC ms when recording started
 *   records, to the end of the (decompressed) record section:
 *     offsetMs u64 (ms since startMs, non-decreasing) | length u32 | length bytes
 *
 * The recorder streams uncompressed records; `compressSerialCapture` compresses a finished file
 * (committed fixtures are stored compressed: Licel data shrinks to ~30 %). Any damage is `LIDAR_ERR_BAD_VALUE` naming the byte
 * offset and the field.
 */
import { brotliCompressSync, brotliDecompressSync, constants as zlibConstants } from 'node:zlib';
import { LidarError } from '../../processing/errors.js';

export const CAPTURE_MAGIC = new Uint8Array([0x4c, 0x50, 0x4d, 0x53, 0x43, 0x41, 0x50, 0x0a]);
export const CAPTURE_VERSION = 1;
export const CAPTURE_HEADER_BYTES = 24;
export const CAPTURE_RECORD_HEADER_BYTES = 12;
const FLAG_BROTLI = 1;
/** Refuse to decompress a record section larger than this (a damaged or hostile file). */
const MAX_DECOMPRESSED_BYTES = 1024 * 1024 * 1024;

export interface CaptureHeader {
  baudRate: number;
  startMs: number;
}

export interface CaptureChunk {
  /** ms since the start of the recording. */
  offsetMs: number;
  bytes: Uint8Array;
}

export interface SerialCapture extends CaptureHeader {
  version: number;
  /** Whether the file's record section was compressed. */
  compressed: boolean;
  chunks: CaptureChunk[];
}

function bad(detail: string, offset: number, field: string, file?: string): LidarError {
  return new LidarError('LIDAR_ERR_BAD_VALUE', detail, { offset, field, ...(file === undefined ? {} : { file }) });
}

function checkHeaderValues(h: CaptureHeader): void {
  if (!Number.isSafeInteger(h.baudRate) || h.baudRate < 0 || h.baudRate > 0xffffffff) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `capture baudRate must be a u32, got ${h.baudRate}`, { field: 'baudRate' });
  }
  if (!Number.isSafeInteger(h.startMs) || h.startMs < 0) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `capture startMs must be a non-negative integer, got ${h.startMs}`, { field: 'startMs' });
  }
}

/** The 24-byte header. */
export function encodeCaptureHeader(h: CaptureHeader, compressed = false): Uint8Array {
  checkHeaderValues(h);
  const out = new Uint8Array(CAPTURE_HEADER_BYTES);
  const v = new DataView(out.buffer);
  out.set(CAPTURE_MAGIC, 0);
  v.setUint16(8, CAPTURE_VERSION, true);
  v.setUint16(10, compressed ? FLAG_BROTLI : 0, true);
  v.setUint32(12, h.baudRate, true);
  v.setBigUint64(16, BigInt(h.startMs), true);
  return out;
}

/** One record: offset, length, bytes. */
export function encodeCaptureRecord(offsetMs: number, bytes: Uint8Array): Uint8Array {
  if (!Number.isSafeInteger(offsetMs) || offsetMs < 0) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `capture record offsetMs must be a non-negative integer, got ${offsetMs}`, { field: 'offsetMs' });
  }
  if (bytes.length > 0xffffffff) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `capture record of ${bytes.length} bytes does not fit a u32 length`, { field: 'length' });
  }
  const out = new Uint8Array(CAPTURE_RECORD_HEADER_BYTES + bytes.length);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, BigInt(offsetMs), true);
  v.setUint32(8, bytes.length, true);
  out.set(bytes, CAPTURE_RECORD_HEADER_BYTES);
  return out;
}

/** A whole capture file. */
export function writeSerialCapture(capture: CaptureHeader & { chunks: readonly CaptureChunk[] }, options: { compress?: boolean } = {}): Uint8Array {
  let last = 0;
  const records = capture.chunks.map((c, i) => {
    if (c.offsetMs < last) {
      throw new LidarError('LIDAR_ERR_BAD_VALUE', `capture chunk ${i} goes back in time: ${c.offsetMs} ms after ${last} ms`, { field: 'offsetMs' });
    }
    last = c.offsetMs;
    return encodeCaptureRecord(c.offsetMs, c.bytes);
  });
  const total = records.reduce((n, r) => n + r.length, 0);
  let body = new Uint8Array(total);
  let n = 0;
  for (const r of records) {
    body.set(r, n);
    n += r.length;
  }
  const compress = options.compress ?? false;
  if (compress) {
    body = new Uint8Array(
      brotliCompressSync(body, {
        params: {
          [zlibConstants.BROTLI_PARAM_QUALITY]: 11,
          [zlibConstants.BROTLI_PARAM_LGWIN]: 24,
          [zlibConstants.BROTLI_PARAM_SIZE_HINT]: body.length,
        },
      }),
    );
  }
  const out = new Uint8Array(CAPTURE_HEADER_BYTES + body.length);
  out.set(encodeCaptureHeader(capture, compress), 0);
  out.set(body, CAPTURE_HEADER_BYTES);
  return out;
}

/** Reads a capture file (compressed or not). Chunks are views on the (decompressed) bytes. */
export function readSerialCapture(bytes: Uint8Array, fileName?: string): SerialCapture {
  if (bytes.length < CAPTURE_HEADER_BYTES) {
    throw bad(`not a serial capture: ${bytes.length} bytes, shorter than the ${CAPTURE_HEADER_BYTES}-byte header`, 0, 'header', fileName);
  }
  for (let i = 0; i < CAPTURE_MAGIC.length; i++) {
    if (bytes[i] !== CAPTURE_MAGIC[i]) throw bad('not a serial capture: bad magic (expected "LPMSCAP\\n")', i, 'magic', fileName);
  }
  const hv = new DataView(bytes.buffer, bytes.byteOffset, CAPTURE_HEADER_BYTES);
  const version = hv.getUint16(8, true);
  if (version !== CAPTURE_VERSION) throw bad(`unsupported serial capture version ${version} (this reader knows ${CAPTURE_VERSION})`, 8, 'version', fileName);
  const flags = hv.getUint16(10, true);
  if ((flags & ~FLAG_BROTLI) !== 0) throw bad(`unknown serial capture flags 0x${flags.toString(16)}`, 10, 'flags', fileName);
  const baudRate = hv.getUint32(12, true);
  const startBig = hv.getBigUint64(16, true);
  if (startBig > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`capture startMs ${startBig} is not a safe integer`, 16, 'startMs', fileName);
  const compressed = (flags & FLAG_BROTLI) !== 0;
  let body = bytes.subarray(CAPTURE_HEADER_BYTES);
  // Offsets in errors: into the file when uncompressed, into the decompressed record section otherwise.
  let base = CAPTURE_HEADER_BYTES;
  if (compressed) {
    try {
      body = new Uint8Array(brotliDecompressSync(body, { maxOutputLength: MAX_DECOMPRESSED_BYTES }));
    } catch (e) {
      throw bad(`compressed serial capture does not decompress: ${(e as Error).message}`, CAPTURE_HEADER_BYTES, 'records', fileName);
    }
    base = 0;
  }
  const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const chunks: CaptureChunk[] = [];
  let last = 0;
  let i = 0;
  while (i < body.length) {
    if (body.length - i < CAPTURE_RECORD_HEADER_BYTES) {
      throw bad(`truncated capture record header: ${body.length - i} bytes left, need ${CAPTURE_RECORD_HEADER_BYTES}`, base + i, `record ${chunks.length}`, fileName);
    }
    const offBig = v.getBigUint64(i, true);
    if (offBig > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`capture record offsetMs ${offBig} is not a safe integer`, base + i, `record ${chunks.length} offsetMs`, fileName);
    const offsetMs = Number(offBig);
    if (offsetMs < last) throw bad(`capture record goes back in time: ${offsetMs} ms after ${last} ms`, base + i, `record ${chunks.length} offsetMs`, fileName);
    const length = v.getUint32(i + 8, true);
    const start = i + CAPTURE_RECORD_HEADER_BYTES;
    if (length > body.length - start) {
      throw bad(`capture record length ${length} runs past the end (${body.length - start} bytes left)`, base + i + 8, `record ${chunks.length} length`, fileName);
    }
    chunks.push({ offsetMs, bytes: body.subarray(start, start + length) });
    last = offsetMs;
    i = start + length;
  }
  return { version, baudRate, startMs: Number(startBig), compressed, chunks };
}

/** The same capture with its record section compressed (a compressed input is returned as is). */
export function compressSerialCapture(bytes: Uint8Array): Uint8Array {
  const c = readSerialCapture(bytes);
  if (c.compressed) return bytes;
  return writeSerialCapture(c, { compress: true });
}

/** All the bytes of a capture, concatenated (what a reader of the port saw). */
export function captureBytes(capture: Pick<SerialCapture, 'chunks'>): Uint8Array {
  const total = capture.chunks.reduce((n, c) => n + c.bytes.length, 0);
  const out = new Uint8Array(total);
  let n = 0;
  for (const c of capture.chunks) {
    out.set(c.bytes, n);
    n += c.bytes.length;
  }
  return out;
}
