// Unit tests (no device) of the serial capture format (ingest/serial/capture.ts), playback pacing
// logic, the `serial:` target syntax (port.ts) and the Licel name taken from a frame's header.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LidarError } from '../processing/errors.js';
import { sha256Hex } from '../processing/hash/sha256.js';
import {
  CAPTURE_HEADER_BYTES,
  captureBytes,
  compressSerialCapture,
  readSerialCapture,
  writeSerialCapture,
  type CaptureChunk,
} from '../ingest/serial/capture.js';
import { playSerialCapture } from '../ingest/serial/recorder.js';
import { parseSerialTarget } from '../ingest/serial/port.js';
import { licelNameFromHeader } from '../ingest/serial/source.js';

const chunksArb = fc
  .array(fc.tuple(fc.nat({ max: 5000 }), fc.uint8Array({ maxLength: 300 })), { maxLength: 20 })
  .map((xs) => {
    let t = 0;
    return xs.map(([dt, bytes]): CaptureChunk => ({ offsetMs: (t += dt), bytes }));
  });

function codeOf(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(LidarError);
    return { code: (e as LidarError).code, message: (e as LidarError).message };
  }
  throw new Error('expected a LidarError');
}

describe('serial capture format', () => {
  it('round-trips chunks and header, compressed or not', () => {
    fc.assert(
      fc.property(chunksArb, fc.nat({ max: 4_000_000 }), fc.boolean(), (chunks, baudRate, compress) => {
        const startMs = 1_516_377_630_000;
        const file = writeSerialCapture({ baudRate, startMs, chunks }, { compress });
        const c = readSerialCapture(file);
        expect(c).toMatchObject({ version: 1, baudRate, startMs, compressed: compress });
        expect(c.chunks.map((x) => [x.offsetMs, [...x.bytes]])).toEqual(chunks.map((x) => [x.offsetMs, [...x.bytes]]));
        if (!compress) expect(file.length).toBe(CAPTURE_HEADER_BYTES + chunks.reduce((n, x) => n + 12 + x.bytes.length, 0));
        const z = compressSerialCapture(file);
        expect([...captureBytes(readSerialCapture(z))]).toEqual([...captureBytes(c)]);
      }),
      { numRuns: 40 },
    );
  });

  it('lays the file out as documented', () => {
    const file = writeSerialCapture({ baudRate: 115200, startMs: 1000, chunks: [{ offsetMs: 7, bytes: new Uint8Array([0xc0, 0x01]) }] });
    expect(new TextDecoder().decode(file.subarray(0, 8))).toBe('LPMSCAP\n');
    expect([...file.subarray(8, 24)]).toEqual([1, 0, 0, 0, 0x00, 0xc2, 0x01, 0x00, 0xe8, 0x03, 0, 0, 0, 0, 0, 0]);
    expect([...file.subarray(24)]).toEqual([7, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0xc0, 0x01]);
  });

  it('rejects damaged files with coded errors naming the place', () => {
    const good = writeSerialCapture({ baudRate: 9600, startMs: 0, chunks: [{ offsetMs: 5, bytes: new Uint8Array(10) }, { offsetMs: 9, bytes: new Uint8Array(3) }] });
    expect(codeOf(() => readSerialCapture(good.subarray(0, 10)))).toMatchObject({ code: 'LIDAR_ERR_BAD_VALUE', message: expect.stringMatching(/shorter than the 24-byte header/) });
    const magic = good.slice();
    magic[2] = 0x41;
    expect(codeOf(() => readSerialCapture(magic, 'x.serial')).message).toMatch(/^x\.serial, byte 2, field magic: not a serial capture/);
    const version = good.slice();
    version[8] = 2;
    expect(codeOf(() => readSerialCapture(version)).message).toMatch(/unsupported serial capture version 2/);
    const flags = good.slice();
    flags[10] = 4;
    expect(codeOf(() => readSerialCapture(flags)).message).toMatch(/unknown serial capture flags 0x4/);
    expect(codeOf(() => readSerialCapture(good.subarray(0, good.length - 1))).message).toMatch(/field record 1 length: capture record length 3 runs past the end \(2 bytes left\)/);
    expect(codeOf(() => readSerialCapture(good.subarray(0, 24 + 22 + 5))).message).toMatch(/truncated capture record header: 5 bytes left/);
    const back = good.slice();
    back[24 + 22] = 1; // second record at 1 ms, after 5 ms
    expect(codeOf(() => readSerialCapture(back)).message).toMatch(/record 1 offsetMs: capture record goes back in time: 1 ms after 5 ms/);
    const z = compressSerialCapture(good);
    const zBad = z.slice();
    zBad[zBad.length - 1] ^= 0xff;
    zBad[30] ^= 0xff;
    expect(codeOf(() => readSerialCapture(zBad)).code).toBe('LIDAR_ERR_BAD_VALUE');
    expect(codeOf(() => writeSerialCapture({ baudRate: 1, startMs: 0, chunks: [{ offsetMs: 5, bytes: new Uint8Array(0) }, { offsetMs: 4, bytes: new Uint8Array(0) }] })).message).toMatch(
      /chunk 1 goes back in time/,
    );
  });

  it('never throws anything but a LidarError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (tail, withMagic) => {
        const bytes = withMagic ? new Uint8Array([0x4c, 0x50, 0x4d, 0x53, 0x43, 0x41, 0x50, 0x0a, 1, 0, ...tail]) : tail;
        try {
          readSerialCapture(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(LidarError);
        }
      }),
    );
  });

  it('has a committed capture that reads and matches its manifest size', () => {
    const path = join(import.meta.dirname, '..', 'fixtures', 'captures', 'sofia-winter-inversion.serial');
    const manifest = JSON.parse(readFileSync(path + '.json', 'utf8')) as { wire_bytes: number; line: { baud_rate: number } };
    const c = readSerialCapture(readFileSync(path));
    expect(captureBytes(c).length).toBe(manifest.wire_bytes);
    expect(c.baudRate).toBe(manifest.line.baud_rate);
  });

  it('has a manifest that still matches the scenario files (else re-run scripts/make-serial-capture.ts)', () => {
    const root = join(import.meta.dirname, '..');
    const manifest = JSON.parse(readFileSync(join(root, 'fixtures', 'captures', 'sofia-winter-inversion.serial.json'), 'utf8')) as {
      licel: Array<{ file: string; sha256: string }>;
      dropped: Array<{ file: string }>;
      corrupted: Array<{ file?: string }>;
    };
    const dir = join(root, 'fixtures', 'scenarios', 'sofia-winter-inversion');
    const files = readdirSync(dir).filter((f) => f !== 'truth.json');
    for (const l of manifest.licel) expect([l.file, sha256Hex(readFileSync(join(dir, l.file)))]).toEqual([l.file, l.sha256]);
    // Every scenario file is in the capture exactly once: good, damaged or dropped.
    const accounted = [...manifest.licel.map((l) => l.file), ...manifest.dropped.map((d) => d.file), ...manifest.corrupted.flatMap((x) => (x.file ? [x.file] : []))];
    expect(accounted.sort()).toEqual(files.sort());
  });
});

describe('capture playback', () => {
  it('writes every chunk in order and keeps the offsets, scaled by speed', async () => {
    const chunks: CaptureChunk[] = [
      { offsetMs: 0, bytes: new Uint8Array([1]) },
      { offsetMs: 40, bytes: new Uint8Array([2, 3]) },
      { offsetMs: 80, bytes: new Uint8Array([4]) },
    ];
    const got: Array<[number, number[]]> = [];
    const t0 = performance.now();
    const r = await playSerialCapture({ chunks }, { write: async (b) => void got.push([performance.now() - t0, [...b]]) }, { speed: 2 });
    expect(r).toEqual({ chunks: 3, bytes: 4 });
    expect(got.map(([, b]) => b)).toEqual([[1], [2, 3], [4]]);
    // Never early (a lower bound is not a timing assertion on speed: it is the pacing contract).
    expect(got[1][0]).toBeGreaterThanOrEqual(20 - 1);
    expect(got[2][0]).toBeGreaterThanOrEqual(40 - 1);
  });

  it('refuses a speed that is not positive, and stops on abort', async () => {
    const sink = { write: async () => {} };
    await expect(playSerialCapture({ chunks: [] }, sink, { speed: 0 })).rejects.toMatchObject({ code: 'LIDAR_ERR_BAD_VALUE' });
    const ac = new AbortController();
    ac.abort();
    expect(await playSerialCapture({ chunks: [{ offsetMs: 0, bytes: new Uint8Array(1) }] }, sink, { signal: ac.signal })).toEqual({ chunks: 0, bytes: 0 });
  });
});

describe('serial target and names', () => {
  it('parses serial:PATH?options with defaults 115200 8N1', () => {
    expect(parseSerialTarget('serial:/dev/ttyUSB0')).toEqual({ path: '/dev/ttyUSB0', baudRate: 115200, dataBits: 8, parity: 'none', stopBits: 1 });
    expect(parseSerialTarget('serial:/dev/ttyS1?baud=9600&bits=7&parity=even&stop=2')).toEqual({ path: '/dev/ttyS1', baudRate: 9600, dataBits: 7, parity: 'even', stopBits: 2 });
    for (const [bad, pattern] of [
      ['/dev/ttyS1', /must start with "serial:"/],
      ['serial:', /path must be a non-empty string/],
      ['serial:/dev/x?baud=fast', /baud rate must be a positive integer, got NaN/],
      ['serial:/dev/x?parity=maybe', /parity must be one of/],
      ['serial:/dev/x?speed=1', /unknown serial option "speed"/],
    ] as const) {
      expect(codeOf(() => parseSerialTarget(bad))).toMatchObject({ code: 'LIDAR_ERR_USAGE', message: expect.stringMatching(pattern) });
    }
  });

  it('takes the Licel file name from the first header line only when it looks like one', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(licelNameFromHeader(enc(' SF1811918.003000   \r\n Sofia ...'))).toBe('SF1811918.003000');
    expect(licelNameFromHeader(enc('../etc/passwd\r\n'))).toBeUndefined();
    expect(licelNameFromHeader(enc('two words\r\n'))).toBeUndefined();
    expect(licelNameFromHeader(enc('no line end'))).toBeUndefined();
    expect(licelNameFromHeader(new Uint8Array([0x41, 0x00, 0x0d, 0x0a]))).toBeUndefined();
  });
});
