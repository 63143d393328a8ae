/**
 * The serial byte stream to frames and rejects, with the counters, independent of the port (so it is
 * unit-tested without a device). SLIP packets (slip.ts) are checked as frames (frame.ts) and then
 * classified:
 *
 * - good frame (length, CRC and type fine) -> `frame` event;
 * - CRC fine, type unknown -> `reject` (unknown_type); its seq is trusted (it is a real frame);
 * - a failed length or CRC check whose first byte is a known type (1 or 2) -> `reject` (bad_length or
 *   crc_errors): a damaged frame of ours, quarantined for diagnosis;
 * - a failed length or CRC check whose first byte is not a known type -> garbage: line noise (or a
 *   frame whose type byte was hit), counted in `garbage_bytes` (wire bytes) and dropped without a
 *   reject. So are the bytes before the first END after a (re)open (`resync()`): the middle of a frame
 *   we joined late.
 *
 * Sequence numbers (u32, wrapping) of trusted frames (good or unknown type) are checked against the
 * expected one (previous + 1 mod 2^32):
 * - the first trusted frame after `start` sets the expectation (no gap);
 * - a forward jump of d frames after r damaged frames (CRC/length rejects, whose seq is not trusted)
 *   means max(0, d - r) frames went missing: counted in `seq_gaps` and reported by one `reject` with
 *   empty bytes, "sequence gap: expected N, got M ...";
 * - seq 0 when something else was expected, a step backwards (a repeat or older frame: the wrapped
 *   difference is >= 2^31) or a forward jump larger than `maxSeqJump` (default 2^20, ~1 year of
 *   30-second frames) is a restart of the sender's counter (station reboot, other station on the
 *   line): counted in `seq_restarts`, the expectation restarts from it, no gap.
 * The expectation survives `resync()` (a reopen): frames sent while the device was away count as gaps.
 */
import { LidarError } from '../../processing/errors.js';
import type { ItemKind } from '../source.js';
import { checkFrame, DEFAULT_MAX_FRAME_BYTES, frameKind } from './frame.js';
import { SlipDecoder, type SlipPacket } from './slip.js';

export type RejectReason = 'crc' | 'length' | 'unknown_type' | 'seq_gap';

export type SerialStreamEvent =
  | { type: 'frame'; kind: ItemKind; seq: number; payload: Uint8Array }
  | {
      type: 'reject';
      reason: RejectReason;
      /** The frame's seq field when it has one (for a gap: the seq that revealed it). */
      seq: number | null;
      /** The frame bytes as received (after SLIP decoding); empty for a gap. */
      bytes: Uint8Array;
      error: LidarError;
    };

export interface SerialCounters {
  /** Wire bytes read. */
  bytes: number;
  /** Good frames (emitted as `frame` events). */
  frames: number;
  crc_errors: number;
  bad_length: number;
  unknown_type: number;
  /** Frames missing according to the sequence numbers. */
  seq_gaps: number;
  /** Sequence restarts accepted without a gap (see the rules above). */
  seq_restarts: number;
  /** Wire bytes discarded as noise or while resynchronising. */
  garbage_bytes: number;
  /** Invalid SLIP escapes (ESC followed by something else than ESC_END / ESC_ESC). */
  slip_escape_errors: number;
}

export interface SerialStreamOptions {
  /** Largest frame accepted, in decoded bytes (default 4 MiB). */
  maxFrameBytes?: number;
  /** Forward seq jumps larger than this are a counter restart, not a gap (default 2^20). */
  maxSeqJump?: number;
  /** Whether the first byte starts a frame (default false: wait for an END, as after an open). */
  synced?: boolean;
}

/** Every counter at zero (a fresh decoder's; also the start of a capture manifest's expected counts). */
export function zeroSerialCounters(): SerialCounters {
  return { bytes: 0, frames: 0, crc_errors: 0, bad_length: 0, unknown_type: 0, seq_gaps: 0, seq_restarts: 0, garbage_bytes: 0, slip_escape_errors: 0 };
}

export class SerialStreamDecoder {
  readonly counters: SerialCounters = zeroSerialCounters();
  private readonly slip: SlipDecoder;
  private readonly maxFrameBytes: number;
  private readonly maxSeqJump: number;
  private expectedSeq: number | null = null;
  /** Frames rejected for CRC or length since the last trusted seq: they explain part of a jump. */
  private damagedSinceSeq = 0;

  constructor(options: SerialStreamOptions = {}) {
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.maxSeqJump = options.maxSeqJump ?? 2 ** 20;
    this.slip = new SlipDecoder({ maxPacketBytes: this.maxFrameBytes, synced: options.synced ?? false });
  }

  /** Feeds a chunk of wire bytes; returns the events it completed, in order. */
  push(chunk: Uint8Array): SerialStreamEvent[] {
    this.counters.bytes += chunk.length;
    const out: SerialStreamEvent[] = [];
    for (const packet of this.slip.push(chunk)) this.packet(packet, out);
    return out;
  }

  /** After a reopen: the partial frame in progress is garbage; wait for the next END. */
  resync(): void {
    const pending = this.slip.resync();
    if (pending) this.counters.garbage_bytes += pending.wireBytes;
  }

  private packet(p: SlipPacket, out: SerialStreamEvent[]): void {
    this.counters.slip_escape_errors += p.badEscapes;
    if (p.unsynced) {
      this.counters.garbage_bytes += p.wireBytes;
      return;
    }
    const r = checkFrame(p.bytes, { maxFrameBytes: this.maxFrameBytes, decodedBytes: p.decodedBytes, badEscapes: p.badEscapes });
    if (r.ok) {
      this.trustSeq(r.seq, out);
      this.counters.frames++;
      out.push({ type: 'frame', kind: r.kind, seq: r.seq, payload: r.payload });
      return;
    }
    if (r.fault === 'unknown_type') {
      this.trustSeq(r.seq as number, out);
      this.counters.unknown_type++;
      out.push({ type: 'reject', reason: 'unknown_type', seq: r.seq, bytes: p.bytes, error: r.error });
      return;
    }
    if (r.type === null || frameKind(r.type) === null) {
      this.counters.garbage_bytes += p.wireBytes;
      return;
    }
    this.damagedSinceSeq++;
    if (r.fault === 'crc') this.counters.crc_errors++;
    else this.counters.bad_length++;
    out.push({ type: 'reject', reason: r.fault, seq: r.seq, bytes: p.bytes, error: r.error });
  }

  private trustSeq(seq: number, out: SerialStreamEvent[]): void {
    const expected = this.expectedSeq;
    const damaged = this.damagedSinceSeq;
    this.expectedSeq = (seq + 1) >>> 0;
    this.damagedSinceSeq = 0;
    if (expected === null || seq === expected) return;
    const jump = (seq - expected) >>> 0;
    if (seq === 0 || jump >= 2 ** 31 || jump > this.maxSeqJump) {
      this.counters.seq_restarts++;
      return;
    }
    const missing = jump - damaged;
    if (missing <= 0) return;
    this.counters.seq_gaps += missing;
    const damagedNote = damaged > 0 ? `, ${damaged} damaged frame(s) rejected in between` : '';
    out.push({
      type: 'reject',
      reason: 'seq_gap',
      seq,
      bytes: new Uint8Array(0),
      error: new LidarError(
        'LIDAR_ERR_BAD_FRAME',
        `sequence gap: expected ${expected}, got ${seq} (${missing} frame(s) missing${damagedNote})`,
      ),
    });
  }
}
