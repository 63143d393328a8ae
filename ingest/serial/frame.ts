/**
 * The serial frame inside one SLIP packet (ARCHITECTURE.md "Transports"):
 *
 *   type u8 (1 = Licel file, 2 = status JSON) | seq u32 LE | payload | crc32 u32 LE
 *
 * The CRC is CRC-32/IEEE over type + seq + payload. There is no length field: the SLIP END delimits
 * the frame, so a truncated frame shows up as a CRC mismatch (the last four bytes it has are read as
 * the CRC). Checks, in order: length (at least 9 bytes, at most `maxFrameBytes`), CRC, type.
 */
import { LidarError } from '../../processing/errors.js';
import { crc32 } from '../../processing/hash/crc32.js';
import { ITEM_KIND, type ItemKind } from '../source.js';

/** type (1) + seq (4). */
export const FRAME_HEADER_BYTES = 5;
/** crc32 (4). */
export const FRAME_TRAILER_BYTES = 4;
/** A frame with an empty payload. */
export const FRAME_MIN_BYTES = FRAME_HEADER_BYTES + FRAME_TRAILER_BYTES;
export const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024;

const KIND_BY_TYPE = new Map<number, ItemKind>(Object.entries(ITEM_KIND).map(([kind, type]) => [type, kind as ItemKind]));

/** The item kind of a frame type byte, or null for an unknown type. */
export function frameKind(type: number): ItemKind | null {
  return KIND_BY_TYPE.get(type) ?? null;
}

/** The frame bytes (before SLIP) for one payload. `seq` is taken modulo 2^32. */
export function encodeFrame(kind: ItemKind | number, seq: number, payload: Uint8Array): Uint8Array {
  const type = typeof kind === 'number' ? kind : ITEM_KIND[kind];
  if (!Number.isInteger(type) || type < 0 || type > 255) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `frame type must be an integer 0-255, got ${type}`, { field: 'type' });
  }
  if (!Number.isInteger(seq)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `frame seq must be an integer, got ${seq}`, { field: 'seq' });
  const frame = new Uint8Array(FRAME_MIN_BYTES + payload.length);
  const view = new DataView(frame.buffer);
  frame[0] = type;
  view.setUint32(1, seq >>> 0, true);
  frame.set(payload, FRAME_HEADER_BYTES);
  view.setUint32(frame.length - FRAME_TRAILER_BYTES, crc32(frame, 0, frame.length - FRAME_TRAILER_BYTES), true);
  return frame;
}

export interface Frame {
  type: number;
  kind: ItemKind;
  seq: number;
  /** A view on the frame bytes. */
  payload: Uint8Array;
}

export type FrameFault = 'length' | 'crc' | 'unknown_type';

export type FrameCheck =
  | ({ ok: true } & Frame)
  | {
      ok: false;
      fault: FrameFault;
      /** The type byte, when there is one. */
      type: number | null;
      /** The seq field, when the frame is long enough to hold one (untrusted unless the fault is unknown_type). */
      seq: number | null;
      error: LidarError;
    };

export interface FrameCheckOptions {
  maxFrameBytes?: number;
  /** Decoded length when more bytes arrived than were kept (an oversize SLIP packet). */
  decodedBytes?: number;
  /** Invalid SLIP escapes seen in the packet (mentioned in the CRC message). */
  badEscapes?: number;
}

function hex32(n: number): string {
  return '0x' + n.toString(16).toUpperCase().padStart(8, '0');
}

function describe(type: number | null, seq: number | null): string {
  const parts: string[] = [];
  if (type !== null) parts.push(`type ${type}`);
  if (seq !== null) parts.push(`seq ${seq}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

/** Checks one frame; never throws. The error messages name what failed. */
export function checkFrame(bytes: Uint8Array, options: FrameCheckOptions = {}): FrameCheck {
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const length = Math.max(options.decodedBytes ?? bytes.length, bytes.length);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = bytes.length >= 1 ? bytes[0] : null;
  const seq = bytes.length >= FRAME_HEADER_BYTES ? view.getUint32(1, true) : null;
  const fail = (fault: FrameFault, detail: string, field: string): FrameCheck => ({
    ok: false,
    fault,
    type,
    seq,
    error: new LidarError('LIDAR_ERR_BAD_FRAME', detail + describe(type, seq), { field }),
  });
  if (length < FRAME_MIN_BYTES) {
    return fail('length', `frame too short: ${length} bytes, the minimum is ${FRAME_MIN_BYTES} (type, seq, crc32)`, 'length');
  }
  if (length > maxFrameBytes) {
    return fail('length', `frame too long: ${length} bytes, the maximum is ${maxFrameBytes}`, 'length');
  }
  const end = bytes.length - FRAME_TRAILER_BYTES;
  const expected = crc32(bytes, 0, end);
  const actual = view.getUint32(end, true);
  if (expected !== actual) {
    const escapes = options.badEscapes ? `; ${options.badEscapes} invalid SLIP escape(s) in the packet` : '';
    return fail(
      'crc',
      `crc32 mismatch: expected ${hex32(expected)} (computed over ${end} bytes of type+seq+payload), actual ${hex32(actual)} (frame trailer)${escapes}`,
      'crc32',
    );
  }
  const kind = type === null ? null : frameKind(type);
  if (kind === null) {
    return fail('unknown_type', `unknown frame type ${type} (known: 1 = licel, 2 = status)`, 'type');
  }
  return { ok: true, type: type as number, kind, seq: seq as number, payload: bytes.subarray(FRAME_HEADER_BYTES, end) };
}

/** Decodes one frame or throws `LidarError('LIDAR_ERR_BAD_FRAME')` naming what failed. */
export function decodeFrame(bytes: Uint8Array, options: FrameCheckOptions = {}): Frame {
  const r = checkFrame(bytes, options);
  if (!r.ok) throw r.error;
  return { type: r.type, kind: r.kind, seq: r.seq, payload: r.payload };
}
