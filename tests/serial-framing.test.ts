// Unit tests (no device) of the serial framing: SLIP (ingest/serial/slip.ts), the frame layout
// (frame.ts) and the stream classifier with its sequence rules and counters (stream.ts).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { crc32 } from '../processing/hash/crc32.js';
import { LidarError } from '../processing/errors.js';
import { SLIP_END, SLIP_ESC, SlipDecoder, slipEncode, type SlipPacket } from '../ingest/serial/slip.js';
import { checkFrame, decodeFrame, encodeFrame, FRAME_MIN_BYTES } from '../ingest/serial/frame.js';
import { SerialStreamDecoder, type SerialStreamEvent } from '../ingest/serial/stream.js';
import { chunked, concat } from './harness/bytes.js';

function slipAll(dec: SlipDecoder, chunks: Uint8Array[]): SlipPacket[] {
  return chunks.flatMap((c) => dec.push(c));
}

function streamAll(dec: SerialStreamDecoder, chunks: Uint8Array[]): SerialStreamEvent[] {
  return chunks.flatMap((c) => dec.push(c));
}

const wire = (kind: 'licel' | 'status' | number, seq: number, payload: Uint8Array) => slipEncode(encodeFrame(kind, seq, payload));

/** Payloads rich in the SLIP special bytes. */
const payloadArb = fc.uint8Array({ maxLength: 300 }).chain((base) =>
  fc.array(fc.constantFrom(SLIP_END, SLIP_ESC, 0xdc, 0xdd), { maxLength: 10 }).map((specials) => concat([base, new Uint8Array(specials)])),
);

describe('SLIP encoder', () => {
  it('escapes END and ESC and frames with END on both sides', () => {
    expect([...slipEncode(new Uint8Array([0x01, 0xc0, 0xdb, 0x02, 0xdc, 0xdd]))]).toEqual([
      0xc0, 0x01, 0xdb, 0xdc, 0xdb, 0xdd, 0x02, 0xdc, 0xdd, 0xc0,
    ]);
    expect([...slipEncode(new Uint8Array(0))]).toEqual([0xc0, 0xc0]);
  });
});

describe('SLIP decoder', () => {
  it('decodes escapes, also split between ESC and its code', () => {
    const dec = new SlipDecoder();
    expect(dec.push(new Uint8Array([0xc0, 0x01, 0xdb]))).toEqual([]);
    const [p] = dec.push(new Uint8Array([0xdc, 0xdb, 0xdd, 0x02, 0xc0]));
    expect([...p.bytes]).toEqual([0x01, 0xc0, 0xdb, 0x02]);
    expect(p).toMatchObject({ wireBytes: 6, decodedBytes: 4, oversize: false, badEscapes: 0, unsynced: false });
  });

  it('skips back-to-back ENDs (empty packets)', () => {
    const dec = new SlipDecoder();
    const packets = dec.push(new Uint8Array([0xc0, 0xc0, 0xc0, 0x41, 0xc0, 0xc0, 0x42, 0x43, 0xc0, 0xc0]));
    expect(packets.map((p) => [...p.bytes])).toEqual([[0x41], [0x42, 0x43]]);
  });

  it('keeps the byte after an invalid escape (RFC 1055) and counts it', () => {
    const dec = new SlipDecoder();
    const packets = dec.push(new Uint8Array([0xdb, 0x41, 0x42, 0xc0, 0xdb, 0xc0]));
    expect([...packets[0].bytes]).toEqual([0x41, 0x42]);
    expect(packets[0].badEscapes).toBe(1);
    // ESC right before END: a one-wire-byte packet with nothing in it.
    expect(packets[1]).toMatchObject({ wireBytes: 1, decodedBytes: 0, badEscapes: 1 });
  });

  it('keeps the first maxPacketBytes of an oversize packet and recovers at the next END', () => {
    const dec = new SlipDecoder({ maxPacketBytes: 10 });
    const big = new Uint8Array(25).map((_, i) => i + 1);
    const packets = dec.push(concat([slipEncode(big), slipEncode(new Uint8Array([7, 8, 9]))]));
    expect(packets).toHaveLength(2);
    expect(packets[0]).toMatchObject({ oversize: true, decodedBytes: 25, wireBytes: 25 });
    expect([...packets[0].bytes]).toEqual([...big.subarray(0, 10)]);
    expect(packets[1].oversize).toBe(false);
    expect([...packets[1].bytes]).toEqual([7, 8, 9]);
  });

  it('waits for an END when not synced, and after resync()', () => {
    const dec = new SlipDecoder({ synced: false });
    const packets = dec.push(new Uint8Array([1, 2, 3, 0xc0, 4, 5, 0xc0]));
    expect(packets[0]).toMatchObject({ unsynced: true, wireBytes: 3 });
    expect([...packets[1].bytes]).toEqual([4, 5]);
    dec.push(new Uint8Array([0xc0, 9, 9]));
    expect(dec.resync()).toMatchObject({ unsynced: true, wireBytes: 2 });
    const after = dec.push(new Uint8Array([6, 0xc0, 0x0a, 0xc0]));
    expect(after[0]).toMatchObject({ unsynced: true, wireBytes: 1 });
    expect([...after[1].bytes]).toEqual([0x0a]);
  });

  it('decodes any chunking of a valid stream identically', () => {
    fc.assert(
      fc.property(fc.array(payloadArb.filter((p) => p.length > 0), { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 30 }), (packets, cuts) => {
        const stream = concat(packets.map(slipEncode));
        const decoded = slipAll(new SlipDecoder(), chunked(stream, cuts));
        expect(decoded.map((p) => [...p.bytes])).toEqual(packets.map((p) => [...p]));
      }),
    );
  });

  it('never throws on random bytes and accounts for every wire byte', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 3000 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 64 }),
        (bytes, cuts, synced, max) => {
          const dec = new SlipDecoder({ synced, maxPacketBytes: max });
          const packets = slipAll(dec, chunked(bytes, cuts));
          const ends = bytes.reduce((n, b) => n + (b === SLIP_END ? 1 : 0), 0);
          const wireBytes = packets.reduce((n, p) => n + p.wireBytes, 0);
          expect(wireBytes + ends + dec.pendingWireBytes).toBe(bytes.length);
          for (const p of packets) expect(p.bytes.length).toBeLessThanOrEqual(max);
        },
      ),
    );
  });
});

describe('frame layout', () => {
  it('encodes type | seq u32 LE | payload | crc32 u32 LE', () => {
    const f = encodeFrame('status', 0x01020304, new Uint8Array([0xaa, 0xbb]));
    expect([...f.subarray(0, 7)]).toEqual([2, 0x04, 0x03, 0x02, 0x01, 0xaa, 0xbb]);
    expect(new DataView(f.buffer).getUint32(7, true)).toBe(crc32(f.subarray(0, 7)));
    expect(encodeFrame('licel', 2 ** 32 + 5, new Uint8Array(0))[1]).toBe(5);
  });

  it('round-trips any payload, kind and seq', () => {
    fc.assert(
      fc.property(payloadArb, fc.constantFrom('licel' as const, 'status' as const), fc.nat({ max: 0xffffffff }), (payload, kind, seq) => {
        const f = decodeFrame(encodeFrame(kind, seq, payload));
        expect(f.kind).toBe(kind);
        expect(f.seq).toBe(seq);
        expect([...f.payload]).toEqual([...payload]);
      }),
    );
  });

  it('names what failed', () => {
    const good = encodeFrame('licel', 42, new TextEncoder().encode('payload'));
    const expectBad = (bytes: Uint8Array, pattern: RegExp, field: string, opts = {}) => {
      let err: unknown;
      try {
        decodeFrame(bytes, opts);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(LidarError);
      expect((err as LidarError).code).toBe('LIDAR_ERR_BAD_FRAME');
      expect((err as LidarError).field).toBe(field);
      expect((err as LidarError).message).toMatch(pattern);
    };
    expectBad(good.subarray(0, 8), /frame too short: 8 bytes, the minimum is 9.*type 1, seq 42/, 'length');
    expectBad(good.subarray(0, 3), /frame too short: 3 bytes.*\(type 1\)$/, 'length');
    expectBad(good, /frame too long: 16 bytes, the maximum is 12/, 'length', { maxFrameBytes: 12 });
    const flipped = good.slice();
    flipped[7] ^= 0x10;
    const computed = crc32(flipped.subarray(0, flipped.length - 4)).toString(16).toUpperCase().padStart(8, '0');
    const stored = crc32(good.subarray(0, good.length - 4)).toString(16).toUpperCase().padStart(8, '0');
    expectBad(flipped, new RegExp(`crc32 mismatch: expected 0x${computed} .*actual 0x${stored} .*seq 42`), 'crc32');
    expectBad(encodeFrame(7, 9, new Uint8Array(3)), /unknown frame type 7 .*seq 9/, 'type');
  });

  it('never throws from checkFrame on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const r = checkFrame(bytes, { maxFrameBytes: 32 });
        if (bytes.length < FRAME_MIN_BYTES || bytes.length > 32) expect(r.ok ? 'ok' : r.fault).toBe('length');
      }),
    );
  });
});

describe('serial stream', () => {
  const frameEvents = (events: SerialStreamEvent[]) =>
    events.filter((e) => e.type === 'frame').map((e) => (e.type === 'frame' ? { kind: e.kind, seq: e.seq, payload: [...e.payload] } : null));
  const rejects = (events: SerialStreamEvent[]) => events.flatMap((e) => (e.type === 'reject' ? [e] : []));

  it('decodes any chunking of a valid stream identically, with zero error counters', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('licel' as const, 'status' as const), payloadArb), { minLength: 1, maxLength: 10 }),
        fc.nat({ max: 0xffffffff }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (items, seq0, cuts) => {
          const stream = concat(items.map(([kind, p], i) => wire(kind, seq0 + i, p)));
          const dec = new SerialStreamDecoder();
          const events = streamAll(dec, chunked(stream, cuts));
          expect(frameEvents(events)).toEqual(items.map(([kind, p], i) => ({ kind, seq: (seq0 + i) >>> 0, payload: [...p] })));
          expect(dec.counters).toEqual({
            bytes: stream.length,
            frames: items.length,
            crc_errors: 0,
            bad_length: 0,
            unknown_type: 0,
            seq_gaps: 0,
            seq_restarts: 0,
            garbage_bytes: 0,
            slip_escape_errors: 0,
          });
        },
      ),
    );
  });

  it('counts noise between frames as garbage and still delivers every frame', () => {
    // Noise without END/ESC that does not start with a known type byte: all of it is garbage.
    const noiseArb = fc
      .uint8Array({ minLength: 1, maxLength: 200 })
      .map((n) => n.map((b) => (b === SLIP_END || b === SLIP_ESC ? 0x20 : b)))
      .filter((n) => n[0] !== 1 && n[0] !== 2);
    fc.assert(
      fc.property(fc.array(fc.tuple(payloadArb, noiseArb), { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 30 }), (items, cuts) => {
        const stream = concat(items.flatMap(([p, noise], i) => [noise, wire('licel', i, p)]));
        const dec = new SerialStreamDecoder();
        const events = streamAll(dec, chunked(stream, cuts));
        expect(frameEvents(events).map((f) => f?.seq)).toEqual(items.map((_, i) => i));
        expect(rejects(events)).toEqual([]);
        // The first noise burst comes before any END: it is the unsynced prefix, garbage too.
        expect(dec.counters.garbage_bytes).toBe(items.reduce((n, [, noise]) => n + noise.length, 0));
      }),
    );
  });

  it('never throws on arbitrary garbage, counts it, and keeps the frames around it', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 2000 }), fc.array(fc.nat(), { maxLength: 30 }), (garbage, cuts) => {
        const before = wire('licel', 1, new Uint8Array([1, 2, 3]));
        const after = wire('status', 2, new Uint8Array([4, 5]));
        const stream = concat([before, garbage, after]);
        const dec = new SerialStreamDecoder({ synced: true });
        const events = streamAll(dec, chunked(stream, cuts));
        const frames = frameEvents(events);
        expect(frames[0]).toEqual({ kind: 'licel', seq: 1, payload: [1, 2, 3] });
        expect(frames[frames.length - 1]).toEqual({ kind: 'status', seq: 2, payload: [4, 5] });
        const c = dec.counters;
        const onlyEnds = garbage.every((b) => b === SLIP_END);
        if (!onlyEnds) expect(c.garbage_bytes + c.crc_errors + c.bad_length + c.unknown_type + c.frames - 2).toBeGreaterThan(0);
        expect(c.bytes).toBe(stream.length);
      }),
    );
  });

  it('rejects damaged frames of a known type with the reason, the seq and the bytes', () => {
    const dec = new SerialStreamDecoder({ synced: true, maxFrameBytes: 100 });
    const flipped = encodeFrame('licel', 1, new Uint8Array([1, 2, 3, 4]));
    flipped[6] ^= 0xff;
    const events = dec.push(
      concat([
        wire('licel', 0, new Uint8Array([9])),
        slipEncode(flipped),
        slipEncode(encodeFrame('licel', 2, new Uint8Array(200))),
        slipEncode(new Uint8Array([2, 3, 0, 0, 0, 1])),
        wire(9, 4, new Uint8Array([1])),
        wire('status', 5, new Uint8Array([0x7b, 0x7d])),
      ]),
    );
    const r = rejects(events);
    expect(r.map((e) => [e.reason, e.seq])).toEqual([
      ['crc', 1],
      ['length', 2],
      ['length', 3],
      ['unknown_type', 4],
    ]);
    expect([...r[0].bytes]).toEqual([...flipped]);
    expect(r[1].bytes.length).toBe(100);
    expect(r[1].error.message).toMatch(/frame too long: 209 bytes, the maximum is 100/);
    expect(r[2].error.message).toMatch(/frame too short: 6 bytes/);
    expect(frameEvents(events).map((f) => f?.seq)).toEqual([0, 5]);
    expect(dec.counters).toMatchObject({ frames: 2, crc_errors: 1, bad_length: 2, unknown_type: 1, seq_gaps: 0, garbage_bytes: 0 });
  });

  it('mentions invalid SLIP escapes in the CRC reason', () => {
    const dec = new SerialStreamDecoder({ synced: true });
    const enc = wire('licel', 0, new Uint8Array([SLIP_ESC, 0x55]));
    // Corrupt the escape code ESC_ESC (0xDD) into 0x41.
    const i = enc.indexOf(0xdd);
    enc[i] = 0x41;
    const [ev] = dec.push(enc);
    expect(ev.type === 'reject' && ev.error.message).toMatch(/crc32 mismatch.*1 invalid SLIP escape/);
    expect(dec.counters.slip_escape_errors).toBe(1);
  });

  it('counts missing frames from seq jumps, net of damaged frames in between', () => {
    const dec = new SerialStreamDecoder({ synced: true });
    const p = new Uint8Array([1]);
    const damaged = encodeFrame('licel', 6, p);
    damaged[5] ^= 1;
    const events = dec.push(
      concat([wire('licel', 0, p), wire('licel', 1, p), wire('licel', 4, p), wire('licel', 5, p), slipEncode(damaged), wire('licel', 7, p), slipEncode(damaged), wire('licel', 10, p)]),
    );
    const gaps = rejects(events).filter((e) => e.reason === 'seq_gap');
    expect(gaps.map((g) => g.error.message)).toEqual([
      'sequence gap: expected 2, got 4 (2 frame(s) missing)',
      'sequence gap: expected 8, got 10 (1 frame(s) missing, 1 damaged frame(s) rejected in between)',
    ]);
    expect(gaps.every((g) => g.bytes.length === 0 && g.error.code === 'LIDAR_ERR_BAD_FRAME')).toBe(true);
    // The gap is reported before the frame that revealed it.
    const order = events.map((e) => (e.type === 'frame' ? `f${e.seq}` : e.reason));
    expect(order.indexOf('seq_gap')).toBe(order.indexOf('f4') - 1);
    expect(dec.counters.seq_gaps).toBe(3);
    expect(dec.counters.crc_errors).toBe(2);
  });

  it('treats seq 0, steps back and huge jumps as restarts, and wraps at 2^32', () => {
    const dec = new SerialStreamDecoder({ synced: true, maxSeqJump: 1000 });
    const p = new Uint8Array(0);
    const seqs = [0xfffffffe, 0xffffffff, 0, 1, 2, 0, 1, 7, 5, 6, 5000, 5001];
    const events = dec.push(concat(seqs.map((s) => wire('status', s, p))));
    expect(frameEvents(events).map((f) => f?.seq)).toEqual(seqs);
    // 2 -> 0 (restart), 1 -> 7 (gap of 5), 7 -> 5 (back: restart), 6 -> 5000 (> maxSeqJump: restart)
    expect(dec.counters.seq_restarts).toBe(3);
    expect(dec.counters.seq_gaps).toBe(5);
  });

  it('after resync(), drops the partial frame as garbage and keeps the seq expectation', () => {
    const dec = new SerialStreamDecoder({ synced: true });
    const p = new Uint8Array([5, 6, 7]);
    const f2 = wire('licel', 2, p);
    dec.push(concat([wire('licel', 0, p), f2.subarray(0, 6)]));
    dec.resync();
    // The device comes back mid-frame: 4 bytes of some frame, then its END, then frame 5.
    const events = dec.push(concat([new Uint8Array([1, 2, 3, 4]), wire('licel', 5, p)]));
    expect(dec.counters.garbage_bytes).toBe(5 + 4); // 6 bytes minus the leading END, then the 4
    expect(frameEvents(events).map((f) => f?.seq)).toEqual([5]);
    expect(dec.counters.seq_gaps).toBe(4);
  });
});
