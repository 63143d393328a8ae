// Property tests of the Licel codec (fast-check): arbitrary representable files round-trip exactly
// in all three header formats; truncated, mutated, spliced real and generated files either decode
// or fail with LIDAR_ERR_LICEL_FORMAT, nothing else; decoding work grows linearly with the input.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LidarError } from '../processing/errors.js';
import {
  decodeLicel,
  encodeLicel,
  type LicelDataset,
  type LicelDataType,
  type LicelFile,
  type LicelHeader,
  type LicelHeaderFormat,
} from '../processing/licel/index.js';

const LICEL_DATA_DIR = join(import.meta.dirname, '..', '..', 'shared', 'data', 'licel');
const REAL_FILES = ['RM1261600.003', 'RS2241315.544839', 'RS2241320.095388'];
const realFiles = existsSync(LICEL_DATA_DIR)
  ? REAL_FILES.map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(LICEL_DATA_DIR, name))) }))
  : [];

const SEED = 20240611;
const chars = (s: string) => fc.constantFrom(...s.split(''));
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Scaled integers: values that are exact in their written decimals, never -0. */
const scaled = (min: number, max: number, decimals: number) =>
  fc.integer({ min, max }).map((k) => (k === 0 ? 0 : k / 10 ** decimals));
const word = fc
  .tuple(chars(LETTERS), fc.string({ unit: chars(LETTERS + '0123456789_-.+'), maxLength: 7 }))
  .map(([a, b]) => a + b);
const text = (alphabet: string, maxLength: number) =>
  fc.string({ unit: chars(alphabet), maxLength }).map((s) => s.trim());
const digits = (n: number) => fc.string({ unit: chars('0123456789'), minLength: n, maxLength: n });

const localTime = fc
  .record({
    y: fc.integer({ min: 1990, max: 2099 }), mo: fc.integer({ min: 1, max: 12 }), d: fc.integer({ min: 1, max: 28 }),
    h: fc.integer({ min: 0, max: 23 }), mi: fc.integer({ min: 0, max: 59 }), s: fc.integer({ min: 0, max: 59 }),
  })
  .map(({ y, mo, d, h, mi, s }) => {
    const p = (v: number) => String(v).padStart(2, '0');
    return `${y}-${p(mo)}-${p(d)}T${p(h)}:${p(mi)}:${p(s)}`;
  });

const scanLine = fc.record({
  azimuthStartDeg: scaled(-3600, 3600, 1), azimuthStopDeg: scaled(-3600, 3600, 1), azimuthStepDeg: scaled(0, 900, 1),
  zenithStartDeg: scaled(-900, 900, 1), zenithStopDeg: scaled(-900, 900, 1), zenithStepDeg: scaled(0, 100, 2),
  azimuthOffsetDeg: scaled(-3600, 3600, 1),
});

const dataset: fc.Arbitrary<LicelDataset> = fc
  .record({
    active: fc.boolean(),
    dataType: fc.constantFrom<LicelDataType>(0, 1, 2, 3),
    laser: fc.integer({ min: 1, max: 3 }),
    raw: fc.uint32Array({ minLength: 1, maxLength: 40 }),
    field5: fc.oneof(fc.constant('1'), word),
    pmtVoltageV: fc.integer({ min: 0, max: 2500 }),
    binWidthM: fc.oneof(fc.constantFrom(3.75, 7.5, 15, 1.875, 30), scaled(1, 100000, 3)),
    wavelengthNm: fc.integer({ min: 0, max: 99999 }),
    polarization: fc.constantFrom('o', 'p', 's', 'r', 'l', ''),
    binShiftWhole: fc.integer({ min: -9, max: 99 }),
    binShiftThousandths: fc.integer({ min: 0, max: 999 }),
    adcBits: fc.constantFrom(0, 12, 14, 16, 32),
    shots: fc.integer({ min: 0, max: 999999 }),
    inputRangeV: fc.oneof(fc.constantFrom(0.5, 0.1, 0.02, 3.1746, 0), scaled(0, 100000, 4)),
    deviceId: word,
  })
  .map((d) => ({ ...d, bins: d.raw.length }));

const NO_EXTRAS = {
  azimuthDeg: NaN, temperatureC: NaN, pressureHpa: NaN, customText: '', scan: null,
  laser3Shots: NaN, laser3RateHz: NaN, controllerTimestampMs: NaN,
};

/** The header fields specific to each layout, drawn so that they are representable in it. */
function formatFields(format: LicelHeaderFormat): fc.Arbitrary<Partial<LicelHeader>> {
  const laser3 = fc.option(fc.tuple(fc.nat(9999999), fc.nat(9999)), { nil: null });
  if (format === 'licel2022') {
    return fc
      .record({
        longitudeDeg: scaled(-180e6, 180e6, 6), latitudeDeg: scaled(-90e6, 90e6, 6), zenithRaw: scaled(-900, 1800, 1),
        azimuthDeg: fc.option(scaled(0, 3600, 1), { nil: NaN }),
        customText: fc.string({ unit: chars(LETTERS + ' 0123456789/:.,'), maxLength: 20 }),
        scan: fc.option(scanLine, { nil: null }),
        laser3, reserved: fc.option(fc.tuple(digits(7), digits(4)), { nil: null }),
        timestamp: fc.option(fc.nat(), { nil: NaN }),
        more: fc.array(word, { maxLength: 2 }),
        extraLine2Tokens: fc.array(word, { maxLength: 2 }),
      })
      .map(({ laser3: l3, reserved, timestamp, more, ...rest }) => ({
        ...rest,
        laser3Shots: l3 === null ? NaN : l3[0],
        laser3RateHz: l3 === null ? NaN : l3[1],
        controllerTimestampMs: l3 !== null && reserved !== null ? timestamp : NaN,
        extraLine3Tokens: l3 === null ? more : [...(reserved ?? []), ...more],
      }));
  }
  const common = {
    longitudeDeg: scaled(-1800, 1800, 1), latitudeDeg: scaled(-900, 900, 1), zenithRaw: fc.integer({ min: -90, max: 180 }),
    laser3, extraLine2Tokens: fc.array(word, { maxLength: 2 }), extraLine3Tokens: fc.array(word, { maxLength: 2 }),
  };
  const lasers = ({ laser3: l3, ...rest }: { laser3: [number, number] | null }) => ({
    ...rest, laser3Shots: l3 === null ? NaN : l3[0], laser3RateHz: l3 === null ? NaN : l3[1],
  });
  if (format === 'classic') return fc.record(common).map(lasers);
  return fc
    .record({
      ...common,
      triple: fc.option(fc.tuple(scaled(-3600, 3600, 1), scaled(-600, 600, 1), scaled(5000, 11000, 1)), { nil: null }),
      scan: fc.option(scanLine, { nil: null }),
      fallbackScan: scanLine,
    })
    .map(({ triple, scan, fallbackScan, ...rest }) => ({
      ...lasers(rest),
      azimuthDeg: triple?.[0] ?? NaN,
      temperatureC: triple?.[1] ?? NaN,
      pressureHpa: triple?.[2] ?? NaN,
      // Without the line-2 triple only the scan line marks the header as Raymetrics.
      scan: triple === null ? fallbackScan : scan,
    }));
}

const licelFile = (format: LicelHeaderFormat): fc.Arbitrary<LicelFile> =>
  fc
    .record({
      specific: formatFields(format),
      fileName: text(LETTERS + '0123456789. ', 16),
      site: text(LETTERS + '0123456789 -.', 12),
      startLocal: localTime, stopLocal: localTime,
      altitudeM: fc.integer({ min: -400, max: 9999 }),
      laser1Shots: fc.nat(9999999), laser1RateHz: fc.nat(9999), laser2Shots: fc.nat(9999999), laser2RateHz: fc.nat(9999),
      datasets: fc.array(dataset, { minLength: 1, maxLength: 5 }),
    })
    .map(({ specific, datasets, ...h }) => ({
      header: { format, ...NO_EXTRAS, extraLine2Tokens: [], extraLine3Tokens: [], ...h, ...specific } as LicelHeader,
      datasets,
    }));

const anyFile = fc.oneof(licelFile('classic'), licelFile('licel2022'), licelFile('raymetrics'));

function decodesOrFormatError(bytes: Uint8Array): void {
  try {
    decodeLicel(bytes, 'fuzz');
  } catch (e) {
    if (!(e instanceof LidarError) || e.code !== 'LIDAR_ERR_LICEL_FORMAT') throw e;
    expect(e.file).toBe('fuzz');
    expect(e.field).toEqual(expect.any(String));
    expect(e.offset).toBeGreaterThanOrEqual(0);
    expect(e.offset).toBeLessThanOrEqual(bytes.length);
  }
}

/** Header-relevant byte values: digits, separators, quotes and line ends, plus any byte. */
const byteValue = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...Array.from(' 0129./:"-\r\n\t', (c) => c.charCodeAt(0))));
/** Positions biased to the header (first ~700 bytes), where parsing happens. */
const position = fc.oneof(fc.nat(700), fc.nat(1 << 20));

type Mutation =
  | { kind: 'set'; pos: number; value: number }
  | { kind: 'insert'; pos: number; bytes: number[] }
  | { kind: 'delete'; pos: number; count: number }
  | { kind: 'truncate'; pos: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), pos: position, value: byteValue }),
  fc.record({ kind: fc.constant('insert' as const), pos: position, bytes: fc.array(byteValue, { minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('delete' as const), pos: position, count: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('truncate' as const), pos: position }),
);

function mutate(input: Uint8Array, mutations: Mutation[]): Uint8Array {
  let bytes = input;
  for (const m of mutations) {
    const pos = bytes.length === 0 ? 0 : m.pos % (bytes.length + 1);
    if (m.kind === 'set') {
      if (pos < bytes.length) {
        bytes = bytes === input ? bytes.slice() : bytes;
        bytes[pos] = m.value;
      }
    } else if (m.kind === 'insert') {
      const out = new Uint8Array(bytes.length + m.bytes.length);
      out.set(bytes.subarray(0, pos));
      out.set(m.bytes, pos);
      out.set(bytes.subarray(pos), pos + m.bytes.length);
      bytes = out;
    } else if (m.kind === 'delete') {
      const removed = Math.min(m.count, bytes.length - pos);
      const out = new Uint8Array(bytes.length - removed);
      out.set(bytes.subarray(0, pos));
      out.set(bytes.subarray(pos + removed), pos);
      bytes = out;
    } else {
      bytes = bytes.subarray(0, pos);
    }
  }
  return bytes;
}

describe('Licel codec properties', () => {
  for (const format of ['classic', 'licel2022', 'raymetrics'] as const) {
    it(`arbitrary ${format} files round-trip exactly`, () => {
      fc.assert(
        fc.property(licelFile(format), (file) => {
          const decoded = decodeLicel(encodeLicel(file));
          expect(decoded.header.format).toBe(format);
          expect(decoded).toEqual(file);
        }),
        { numRuns: 300, seed: SEED },
      );
    });
  }

  it('mutated, spliced and truncated generated files decode or throw LIDAR_ERR_LICEL_FORMAT', () => {
    fc.assert(
      fc.property(anyFile, fc.array(mutation, { minLength: 1, maxLength: 4 }), (file, mutations) => {
        decodesOrFormatError(mutate(encodeLicel(file), mutations));
      }),
      { numRuns: 1000, seed: SEED },
    );
  });

  it('every prefix of a generated file is a clean error', () => {
    fc.assert(
      fc.property(anyFile, (file) => {
        const bytes = encodeLicel(file);
        for (let n = 0; n < bytes.length; n += 1 + (n >> 4)) decodesOrFormatError(bytes.subarray(0, n));
      }),
      { numRuns: 30, seed: SEED },
    );
  });

  it('random bytes decode or throw LIDAR_ERR_LICEL_FORMAT', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }), decodesOrFormatError), { numRuns: 500, seed: SEED });
  });

  describe.skipIf(realFiles.length === 0)(`real files (${LICEL_DATA_DIR})`, () => {
    for (const { name, bytes } of realFiles) {
      it(`${name}: random mutations, insertions, deletions and truncations`, () => {
        fc.assert(
          fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (mutations) => {
            decodesOrFormatError(mutate(bytes, mutations));
          }),
          { numRuns: 300, seed: SEED },
        );
      });

      it(`${name}: every header prefix and sampled data prefixes fail cleanly`, () => {
        for (let n = 0; n < bytes.length; n += n < 1000 ? 1 : 997) {
          expect(() => decodeLicel(bytes.subarray(0, n), name)).toThrow(LidarError);
        }
      });
    }
  });
});

describe('Licel decoder work is linear in the input', () => {
  it('stops within the header caps on huge garbage (the error offset bounds the bytes read)', () => {
    const big = new Uint8Array(8 << 20).fill(0x41); // 8 MiB of 'A', no line end
    const e1 = (() => { try { decodeLicel(big); } catch (e) { return e as LidarError; } })();
    expect(e1?.code).toBe('LIDAR_ERR_LICEL_FORMAT');
    expect(e1?.offset).toBe(0);
    expect(e1?.message).toContain('header line longer than 4096 bytes');
    // Plausible lines forever: the dataset-count cap and the blank-line rule end the header early.
    const line = ' 1 0 1 00001 1 0800 7.50 00532.p 0 0 00 000 12 001200 0.500 BT0\r\n';
    const head = ' x\r\n Site 01/01/2020 00:00:00 01/01/2020 00:01:00 0100 0001.0 0002.0 00\r\n 0000001 0010 0000000 0010 1000\r\n';
    const lines = head + line.repeat(20_000);
    const bytes = Uint8Array.from(lines, (c) => c.charCodeAt(0));
    const e2 = (() => { try { decodeLicel(bytes); } catch (e) { return e as LidarError; } })();
    expect(e2?.field).toBe('dataset count');
    expect(e2?.offset).toBeLessThan(head.length + 1001 * line.length);
  });

  /** Median wall time of `reps` calls (after a warm-up). */
  function medianMs(fn: () => void, reps: number): number {
    fn();
    const times: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      fn();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return times[reps >> 1];
  }

  it('a 10x larger input costs at most ~20x (medians, generous slack)', () => {
    const header = (n: number, bins: number) => [
      ' x',
      ' Site 01/01/2020 00:00:00 01/01/2020 00:01:00 0100 0001.0 0002.0 00',
      ` 0000001 0010 0000000 0010 ${String(n).padStart(2, '0')}`,
      ...Array.from({ length: n }, () => ` 1 0 1 ${bins} 1 0800 7.50 00532.p 0 0 00 000 12 001200 0.500 BT0`),
    ];
    const file = (n: number, bins: number, misalign: number) => {
      const head = header(n, bins).map((l) => l + '\r\n').join('') + '\r\n';
      const size = head.length + n * (4 * bins + 2);
      const out = new Uint8Array(size + misalign).subarray(misalign);
      for (let i = 0; i < head.length; i++) out[i] = head.charCodeAt(i);
      for (let k = 0, p = head.length; k < n; k++, p += 4 * bins + 2) out.set([0x0d, 0x0a], p + 4 * bins);
      return out;
    };
    // Unaligned blocks (copy path) and many datasets (header path): 10x the bytes each time.
    const cases: Array<[Uint8Array, Uint8Array]> = [
      [file(2, 20_000, 1), file(2, 200_000, 1)],
      [file(90, 10, 1), file(900, 10, 1)],
    ];
    // Mutated inputs (bad last CRLF) take the error path after reading everything.
    for (const [small, large] of cases.slice()) {
      const [s, l] = [small.slice(), large.slice()];
      s[s.length - 2] = 0;
      l[l.length - 2] = 0;
      cases.push([s, l]);
    }
    for (const [small, large] of cases) {
      const run = (b: Uint8Array) => () => {
        try { decodeLicel(b); } catch (e) { if (!(e instanceof LidarError)) throw e; }
      };
      const tSmall = medianMs(run(small), 15);
      const tLarge = medianMs(run(large), 15);
      expect(tLarge, `small ${tSmall.toFixed(3)} ms, large ${tLarge.toFixed(3)} ms`).toBeLessThanOrEqual(20 * tSmall + 5);
    }
  });
});
