// Bad input for the serial transport (issue 8): property-based fuzzing of the SLIP deframer
// (ingest/serial/slip.ts), the frame check (frame.ts) and the stream classifier (stream.ts) with
// streams of valid frames that are damaged in transit: byte flips, inserted and deleted bytes,
// stray ESC sequences, truncations, splices of two frames, line noise, arbitrary chunking.
// Checked: nothing throws; every frame whose wire bytes arrived untouched is delivered exactly once,
// in order; nothing is delivered that was not sent; the events agree with the counters; chunking
// never changes the result; adversarial streams (all ESC, all END, megabytes of noise) complete.
// The clean-stream and simple-noise properties live in serial-framing.test.ts; this file is about
// damage. Seeded (SEED) so a failure reproduces.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SLIP_END, SLIP_ESC, SLIP_ESC_END, SLIP_ESC_ESC, SlipDecoder, slipEncode } from '../ingest/serial/slip.js';
import { checkFrame, encodeFrame } from '../ingest/serial/frame.js';
import { SerialStreamDecoder, type SerialCounters, type SerialStreamEvent } from '../ingest/serial/stream.js';
import { chunked, concat } from './harness/bytes.js';

const SEED = 0x5eed_0008;
const RUNS = 300;

function decodeAll(chunks: Uint8Array[], maxFrameBytes?: number): { events: SerialStreamEvent[]; counters: SerialCounters } {
  const dec = new SerialStreamDecoder({ synced: true, maxFrameBytes });
  const events = chunks.flatMap((c) => dec.push(c));
  return { events, counters: { ...dec.counters } };
}

/** A comparable form of the events (payload bytes as arrays, errors as code + message). */
function plain(events: SerialStreamEvent[]): unknown[] {
  return events.map((e) =>
    e.type === 'frame'
      ? { t: 'frame', kind: e.kind, seq: e.seq, payload: [...e.payload] }
      : { t: 'reject', reason: e.reason, seq: e.seq, bytes: [...e.bytes], code: e.error.code, message: e.error.message },
  );
}

const bytesEqual = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Payloads rich in the SLIP special bytes. */
const payloadArb = fc
  .array(fc.oneof({ weight: 1, arbitrary: fc.constantFrom(SLIP_END, SLIP_ESC, SLIP_ESC_END, SLIP_ESC_ESC) }, { weight: 5, arbitrary: fc.integer({ min: 0, max: 255 }) }), { maxLength: 150 })
  .map((a) => new Uint8Array(a));

/** What can happen to one frame's wire bytes on the way. */
type Damage =
  | { kind: 'none' }
  | { kind: 'flip'; at: number; xor: number }
  | { kind: 'insert'; at: number; bytes: number[] }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'truncate'; keep: number }
  | { kind: 'splice'; keep: number; other: number; from: number };

const damageArb: fc.Arbitrary<Damage> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Damage>({ kind: 'none' }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('insert' as const),
      at: fc.nat(),
      // Stray escapes and ENDs are the interesting insertions.
      bytes: fc.array(fc.oneof(fc.constantFrom(SLIP_END, SLIP_ESC, SLIP_ESC_END, SLIP_ESC_ESC), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('splice' as const), keep: fc.nat(), other: fc.nat(), from: fc.nat() }) },
);

interface Sent {
  seq: number;
  kind: 'licel' | 'status';
  payload: Uint8Array;
  wire: Uint8Array;
  /** The wire bytes as they arrive. */
  arrived: Uint8Array;
}

/**
 * Applies the damage to the inner part of each frame's wire form (between its leading and trailing
 * END). Keeping the ENDs means the damage of one frame cannot reach its neighbours, which is the
 * property under test: damage stays local.
 */
function transmit(frames: Array<{ kind: 'licel' | 'status'; payload: Uint8Array }>, damages: Damage[], startSeq: number): Sent[] {
  const wires = frames.map((f, i) => slipEncode(encodeFrame(f.kind, startSeq + i, f.payload)));
  return frames.map((f, i) => {
    const wire = wires[i];
    const inner = [...wire.subarray(1, wire.length - 1)];
    const d = damages[i] ?? { kind: 'none' };
    let out = inner;
    if (d.kind === 'flip') {
      out = inner.slice();
      const at = d.at % inner.length;
      out[at] ^= d.xor;
    } else if (d.kind === 'insert') {
      const at = d.at % (inner.length + 1);
      out = [...inner.slice(0, at), ...d.bytes, ...inner.slice(at)];
    } else if (d.kind === 'delete') {
      const at = d.at % inner.length;
      out = [...inner.slice(0, at), ...inner.slice(at + d.count)];
    } else if (d.kind === 'truncate') {
      out = inner.slice(0, d.keep % inner.length);
    } else if (d.kind === 'splice') {
      const o = wires[d.other % wires.length];
      const otherInner = [...o.subarray(1, o.length - 1)];
      out = [...inner.slice(0, 1 + (d.keep % inner.length)), ...otherInner.slice(1 + (d.from % otherInner.length))];
      // A splice that happens to rebuild a whole frame is a replay, not damage: truncate instead.
      if (wires.some((w) => w.length === out.length + 2 && out.every((b, k) => b === w[k + 1]))) out = out.slice(0, -1);
    }
    const arrived = new Uint8Array([SLIP_END, ...out, SLIP_END]);
    return { seq: (startSeq + i) >>> 0, kind: f.kind, payload: f.payload, wire, arrived };
  });
}

const framesArb = fc.array(fc.record({ kind: fc.constantFrom('licel' as const, 'status' as const), payload: payloadArb }), { minLength: 1, maxLength: 14 });

describe('serial stream under damage', () => {
  it('delivers every untouched frame exactly once and in order, and nothing that was not sent', () => {
    fc.assert(
      fc.property(
        framesArb,
        fc.array(damageArb, { maxLength: 14 }),
        fc.nat({ max: 0xffffffff }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (frames, damages, startSeq, cuts) => {
          const sent = transmit(frames, damages, startSeq);
          const stream = concat(sent.map((s) => s.arrived));
          const { events, counters } = decodeAll(chunked(stream, cuts));
          const delivered = events.filter((e): e is Extract<SerialStreamEvent, { type: 'frame' }> => e.type === 'frame');
          // Each delivered frame is one that was sent, with its payload, and in sending order.
          let next = 0;
          for (const d of delivered) {
            const idx = sent.findIndex((s, i) => i >= next && s.seq === d.seq);
            expect(idx, `delivered seq ${d.seq} was not sent (or is out of order)`).toBeGreaterThanOrEqual(0);
            expect(d.kind).toBe(sent[idx].kind);
            expect(bytesEqual(d.payload, sent[idx].payload)).toBe(true);
            // Every untouched frame before it was delivered (none skipped).
            for (let j = next; j < idx; j++) expect(bytesEqual(sent[j].arrived, sent[j].wire), `untouched seq ${sent[j].seq} skipped`).toBe(false);
            next = idx + 1;
          }
          for (let j = next; j < sent.length; j++) expect(bytesEqual(sent[j].arrived, sent[j].wire), `untouched seq ${sent[j].seq} lost at the end`).toBe(false);
          // Events and counters agree.
          const rejects = events.filter((e) => e.type === 'reject');
          expect(counters.frames).toBe(delivered.length);
          expect(counters.bytes).toBe(stream.length);
          expect(counters.crc_errors).toBe(rejects.filter((e) => e.type === 'reject' && e.reason === 'crc').length);
          expect(counters.bad_length).toBe(rejects.filter((e) => e.type === 'reject' && e.reason === 'length').length);
          expect(counters.unknown_type).toBe(rejects.filter((e) => e.type === 'reject' && e.reason === 'unknown_type').length);
          const gapEvents = rejects.filter((e) => e.type === 'reject' && e.reason === 'seq_gap');
          expect(gapEvents.length).toBeLessThanOrEqual(counters.seq_gaps);
          expect(counters.garbage_bytes).toBeLessThanOrEqual(stream.length);
          // Gaps are counted only for frames that really went missing, never for delivered ones.
          const lost = sent.length - delivered.length;
          expect(counters.seq_gaps).toBeLessThanOrEqual(lost);
          // Consecutive seqs from one sender: never a restart (seq 0 after the wrap is not one either).
          if (!sent.slice(1).some((s) => s.seq === 0)) expect(counters.seq_restarts).toBe(0);
          for (const r of rejects) {
            expect(r.type === 'reject' && r.error.code).toBe('LIDAR_ERR_BAD_FRAME');
            expect(r.type === 'reject' && r.error.message.length).toBeGreaterThan(0);
          }
          if (lost === 0) {
            expect(counters.seq_gaps).toBe(0);
            expect(gapEvents).toHaveLength(0);
          }
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('a flipped payload or CRC byte (no SLIP special byte involved) is exactly one CRC reject with the true seq, no gap', () => {
    fc.assert(
      fc.property(framesArb, fc.array(fc.tuple(fc.boolean(), fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 14 }), fc.array(fc.nat(), { maxLength: 20 }), (frames, flips, cuts) => {
        const startSeq = 1000;
        const damaged = new Set<number>();
        const damages: Damage[] = frames.map((f, i) => {
          const [on, at, xor] = flips[i] ?? [false, 0, 1];
          if (!on) return { kind: 'none' };
          // Wire position (inside the inner part) of a payload or CRC byte that is not escaped and
          // stays an ordinary byte after the flip.
          const inner = slipEncode(encodeFrame(f.kind, startSeq + i, f.payload)).subarray(1, -1);
          const candidates: number[] = [];
          for (let p = 5; p < inner.length; p++) {
            const prevIsEsc = inner[p - 1] === SLIP_ESC;
            const b = inner[p];
            const nb = b ^ xor;
            if (!prevIsEsc && b !== SLIP_ESC && b !== SLIP_END && nb !== SLIP_ESC && nb !== SLIP_END) candidates.push(p);
          }
          // The first five wire bytes may hold escapes of the seq: only flip after the header's wire form.
          const header = [...encodeFrame(f.kind, startSeq + i, new Uint8Array(0)).subarray(0, 5)].reduce((n, b) => n + (b === SLIP_END || b === SLIP_ESC ? 2 : 1), 0);
          const usable = candidates.filter((p) => p >= header);
          if (usable.length === 0) return { kind: 'none' };
          damaged.add(i);
          return { kind: 'flip', at: usable[at % usable.length], xor };
        });
        const sent = transmit(frames, damages, startSeq);
        const { events, counters } = decodeAll(chunked(concat(sent.map((s) => s.arrived)), cuts));
        expect(counters.crc_errors).toBe(damaged.size);
        expect(counters.frames).toBe(frames.length - damaged.size);
        expect(counters.seq_gaps).toBe(0);
        expect(counters.garbage_bytes).toBe(0);
        expect(counters.bad_length + counters.unknown_type + counters.slip_escape_errors + counters.seq_restarts).toBe(0);
        const rejectSeqs = events.filter((e) => e.type === 'reject').map((e) => e.seq);
        expect(rejectSeqs).toEqual([...damaged].sort((a, b) => a - b).map((i) => startSeq + i));
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('a frame lost entirely (its type byte hit: line noise) is a gap of exactly one', () => {
    fc.assert(
      fc.property(framesArb.filter((f) => f.length >= 3), fc.nat(), fc.integer({ min: 3, max: 255 }), (frames, which, type) => {
        const i = 1 + (which % (frames.length - 2));
        const sent = transmit(frames, frames.map((_, k) => (k === i ? { kind: 'flip', at: 0, xor: 0 } : { kind: 'none' })), 7);
        // Replace the type byte by one that is neither 1 nor 2 nor a SLIP special: garbage, not a reject.
        const t = type === SLIP_END || type === SLIP_ESC ? 3 : type;
        sent[i].arrived = new Uint8Array(sent[i].arrived);
        sent[i].arrived[1] = t;
        const { events, counters } = decodeAll([concat(sent.map((s) => s.arrived))]);
        // Its CRC now fails, so it is noise; unless the CRC still passes (impossible: the CRC covers the type byte).
        expect(counters.garbage_bytes).toBe(sent[i].arrived.length - 2);
        expect(counters.seq_gaps).toBe(1);
        expect(counters.frames).toBe(frames.length - 1);
        const gap = events.find((e) => e.type === 'reject' && e.reason === 'seq_gap');
        expect(gap?.type === 'reject' && gap.error.message).toMatch(new RegExp(`expected ${7 + i}, got ${8 + i} \\(1 frame\\(s\\) missing`));
      }),
      { seed: SEED, numRuns: 100 },
    );
  });

  it('chunking never changes the events or the counters, whatever the damage', () => {
    fc.assert(
      fc.property(framesArb, fc.array(damageArb, { maxLength: 14 }), fc.uint8Array({ maxLength: 200 }), fc.array(fc.nat(), { minLength: 1, maxLength: 60 }), (frames, damages, noise, cuts) => {
        const sent = transmit(frames, damages, 42);
        const stream = concat([noise, ...sent.map((s) => s.arrived), noise]);
        const whole = decodeAll([stream]);
        const split = decodeAll(chunked(stream, cuts));
        const bytewise = decodeAll([...stream].map((b) => new Uint8Array([b])));
        expect(plain(split.events)).toEqual(plain(whole.events));
        expect(split.counters).toEqual(whole.counters);
        expect(plain(bytewise.events)).toEqual(plain(whole.events));
        expect(bytewise.counters).toEqual(whole.counters);
      }),
      { seed: SEED, numRuns: 150 },
    );
  });

  it('random bytes: no throw, wire bytes all accounted for, rejects coded, small frame limit respected', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4000 }), fc.array(fc.nat(), { maxLength: 30 }), fc.integer({ min: 9, max: 200 }), (bytes, cuts, maxFrameBytes) => {
        const { events, counters } = decodeAll(chunked(bytes, cuts), maxFrameBytes);
        expect(counters.bytes).toBe(bytes.length);
        expect(counters.garbage_bytes).toBeLessThanOrEqual(bytes.length);
        for (const e of events) {
          if (e.type === 'frame') expect(e.payload.length).toBeLessThanOrEqual(maxFrameBytes - 9);
          else {
            expect(e.error.code).toBe('LIDAR_ERR_BAD_FRAME');
            expect(e.bytes.length).toBeLessThanOrEqual(maxFrameBytes);
          }
        }
        // checkFrame never throws on any prefix either.
        for (let n = 0; n <= Math.min(bytes.length, 32); n++) expect(() => checkFrame(bytes.subarray(0, n))).not.toThrow();
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('adversarial streams finish: megabytes of ESC, of END, of ESC ESC_END pairs, of noise with a frame limit', () => {
    const MiB = 1024 * 1024;
    const good = slipEncode(encodeFrame('status', 5, new TextEncoder().encode('{"ok":true}')));
    const cases: Array<[string, Uint8Array]> = [
      ['all ESC', new Uint8Array(4 * MiB).fill(SLIP_ESC)],
      ['all END', new Uint8Array(4 * MiB).fill(SLIP_END)],
      ['ESC ESC_END pairs (one huge packet of ENDs)', new Uint8Array(4 * MiB).map((_, i) => (i % 2 === 0 ? SLIP_ESC : SLIP_ESC_END))],
      ['noise', new Uint8Array(4 * MiB).map((_, i) => (Math.imul(i, 2654435761) >>> 24) & 0xff)],
    ];
    for (const [name, bytes] of cases) {
      const dec = new SerialStreamDecoder({ synced: true, maxFrameBytes: 64 * 1024 });
      const events: SerialStreamEvent[] = [];
      for (let i = 0; i < bytes.length; i += 65536) events.push(...dec.push(bytes.subarray(i, i + 65536)));
      // The decoder recovers: a good frame after the flood is delivered.
      events.push(...dec.push(good));
      const frames = events.filter((e) => e.type === 'frame');
      expect(frames.length, name).toBeGreaterThanOrEqual(1);
      expect(frames.at(-1)?.type === 'frame' && frames.at(-1)?.seq, name).toBe(5);
      expect(dec.counters.bytes, name).toBe(bytes.length + good.length);
    }
  });

  it('the SLIP decoder alone: any damage, any chunking, the wire bytes add up and packets respect the size limit', () => {
    fc.assert(
      fc.property(framesArb, fc.array(damageArb, { maxLength: 14 }), fc.array(fc.nat(), { maxLength: 40 }), fc.integer({ min: 1, max: 300 }), (frames, damages, cuts, max) => {
        const stream = concat(transmit(frames, damages, 0).map((s) => s.arrived));
        const dec = new SlipDecoder({ maxPacketBytes: max });
        const packets = chunked(stream, cuts).flatMap((c) => dec.push(c));
        const ends = stream.reduce((n, b) => n + (b === SLIP_END ? 1 : 0), 0);
        expect(packets.reduce((n, p) => n + p.wireBytes, 0) + ends + dec.pendingWireBytes).toBe(stream.length);
        for (const p of packets) {
          expect(p.bytes.length).toBeLessThanOrEqual(max);
          expect(p.oversize).toBe(p.decodedBytes > max);
          expect(p.decodedBytes).toBeLessThanOrEqual(p.wireBytes);
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
