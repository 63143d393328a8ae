// Preprocessing kernels against known answers: dead time (closed forms, the paralysable inverse),
// background statistics and windows, bin shifts, overlap, range correction, averaging and smoothing.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  averageProfiles,
  backgroundStats,
  backgroundWindow,
  binRange,
  CompensatedSum,
  deadTimeCorrect,
  interpolateTable,
  interpolateTableInto,
  kthSmallest,
  medianInPlace,
  overlapCorrect,
  rangeCorrect,
  shiftBins,
  smoothingWindowBins,
  smoothRange,
} from '../processing/retrieval/preprocess.js';
import { QC } from '../processing/retrieval/qc.js';
import { LidarError } from '../processing/errors.js';

const f64 = (xs: number[]) => Float64Array.from(xs);

function expectArrayClose(actual: Float64Array, expected: number[], rel = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    if (Number.isNaN(e)) expect(actual[i], `bin ${i}`).toBeNaN();
    else expect(Math.abs(actual[i] - e), `bin ${i}: ${actual[i]} vs ${e}`).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(e)));
  }
}

function lidarError(fn: () => unknown): LidarError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(LidarError);
    return e as LidarError;
  }
  throw new Error('expected a LidarError');
}

describe('compensated summation', () => {
  it('keeps the small terms that a naive sum loses', () => {
    const s = new CompensatedSum();
    for (const x of [1e16, 1, -1e16, 1, 1e-3]) s.add(x);
    expect(s.value).toBe(2.001);
    s.sub(2);
    expect(s.value).toBeCloseTo(0.001, 15);
  });
});

describe('deadTimeCorrect', () => {
  it('non-paralysable: N = S / (1 - S tau), tau in ns and rates in MHz', () => {
    const s = f64([0, 1, 10, 100, 200, NaN]);
    const out = new Float64Array(6);
    const qc = new Uint8Array(6);
    deadTimeCorrect(s, 3.7, 'nonparalysable', out, qc);
    const tau = 3.7e-3;
    expectArrayClose(out, [0, 1 / (1 - tau), 10 / (1 - 10 * tau), 100 / (1 - 100 * tau), 200 / (1 - 200 * tau), NaN], 1e-14);
    expect(Array.from(qc)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('inverts the simulator\'s measured rate S/(1 + S tau) exactly', () => {
    const trueRates = [0.1, 5, 50, 150, 1000];
    const tau = 3.7e-3;
    const measured = f64(trueRates.map((n) => n / (1 + n * tau)));
    deadTimeCorrect(measured, 3.7, 'nonparalysable', measured, null); // in place
    expectArrayClose(measured, trueRates, 1e-12);
  });

  it('refuses S tau >= 0.9 with NaN and SATURATED, qc may be null', () => {
    const limit = 0.9 / 3.7e-3; // 243.24 MHz
    const s = f64([limit * 0.999, limit, limit * 1.01, 270]);
    const out = new Float64Array(4);
    const qc = new Uint8Array([QC.OVERLAP, 0, 0, 0]);
    deadTimeCorrect(s, 3.7, 'nonparalysable', out, qc);
    expect(Number.isFinite(out[0])).toBe(true);
    expect(out[0]).toBeCloseTo((limit * 0.999) / (1 - 0.999 * 0.9), 9);
    expect([out[1], out[2], out[3]].every(Number.isNaN)).toBe(true);
    expect(Array.from(qc)).toEqual([QC.OVERLAP, QC.SATURATED, QC.SATURATED, QC.SATURATED]);
    deadTimeCorrect(s, 3.7, 'nonparalysable', out, null);
    expect(out[2]).toBeNaN();
  });

  it('paralysable: known values N tau = -W0(-S tau)', () => {
    const tau = 4e-3; // 4 ns
    // y e^-y = x at y = 0.5 (x = 0.5/sqrt(e)), y = 0.1, y = 0.9 and the Omega-like case x = 0.2.
    const ys = [0.1, 0.5, 0.9, 0.999];
    const s = f64(ys.map((y) => (y * Math.exp(-y)) / tau));
    const out = new Float64Array(ys.length);
    deadTimeCorrect(s, 4, 'paralysable', out, null);
    for (let k = 0; k < ys.length; k++) {
      // near the branch point N is ill-conditioned: dN/dS ~ 1 / (1 - y)
      const tol = ys[k] > 0.99 ? 1e-6 : 1e-12;
      expect(Math.abs(out[k] * tau - ys[k]), `y = ${ys[k]}`).toBeLessThan(tol);
    }
    // W0(-0.2) = -0.2591711018190737 (Corless et al. 1996 table / mpmath)
    const x = f64([0.2 / tau]);
    deadTimeCorrect(x, 4, 'paralysable', x, null);
    expect(x[0] * tau).toBeCloseTo(0.2591711018190737, 14);
  });

  it('paralysable: round trip S -> N -> N exp(-N tau) over the whole lower branch', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constant(0), fc.double({ min: 1e-12, max: 0.3678, noNaN: true })), fc.double({ min: 0.5, max: 50, noNaN: true }), (x, tauNs) => {
        const tau = tauNs * 1e-3;
        const s = f64([x / tau]);
        const out = new Float64Array(1);
        const qc = new Uint8Array(1);
        deadTimeCorrect(s, tauNs, 'paralysable', out, qc);
        const n = out[0];
        expect(qc[0]).toBe(0);
        expect(n * tau).toBeLessThanOrEqual(1 + 1e-9); // lower branch
        expect(n).toBeGreaterThanOrEqual(s[0] * (1 - 1e-15));
        expect(Math.abs(n * Math.exp(-n * tau) - s[0])).toBeLessThanOrEqual(1e-12 * Math.max(s[0], 1e-300) + 1e-300);
      }),
      { numRuns: 500 },
    );
  });

  it('paralysable: beyond the maximum 1/(e tau) is SATURATED', () => {
    const tau = 3.7e-3;
    const s = f64([1 / (Math.E * tau) * 1.0001, 1000]);
    const qc = new Uint8Array(2);
    deadTimeCorrect(s, 3.7, 'paralysable', s, qc);
    expect(Number.isNaN(s[0]) && Number.isNaN(s[1])).toBe(true);
    expect(Array.from(qc)).toEqual([QC.SATURATED, QC.SATURATED]);
  });

  it('tau = 0 copies; bad arguments name the field', () => {
    const s = f64([1, 2, NaN]);
    const out = new Float64Array(3);
    deadTimeCorrect(s, 0, 'paralysable', out, null);
    expectArrayClose(out, [1, 2, NaN]);
    expect(lidarError(() => deadTimeCorrect(s, -1, 'nonparalysable', out, null)).field).toBe('dead_time_ns');
    expect(lidarError(() => deadTimeCorrect(s, NaN, 'nonparalysable', out, null)).message).toContain('NaN');
    expect(lidarError(() => deadTimeCorrect(s, 3.7, 'nonparalysable', new Float64Array(2), null)).field).toBe('out');
  });
});

describe('backgroundStats', () => {
  it('mean and sample standard deviation, NaN skipped', () => {
    const s = f64([100, 2, 4, NaN, 4, 4, 5, 5, 7, 9, 100]);
    const st = backgroundStats(s, 1, 10); // 2 4 4 4 5 5 7 9: mean 5, sum sq dev 32
    expect(st.n).toBe(8);
    expect(st.mean).toBe(5);
    expect(st.std).toBe(Math.sqrt(32 / 7));
  });

  it('is exact for a large offset plus small noise (compensated two-pass)', () => {
    const n = 1000;
    const s = new Float64Array(n);
    for (let i = 0; i < n; i++) s[i] = 1e9 + (i % 2 ? 0.5 : -0.5);
    const st = backgroundStats(s, 0, n);
    expect(st.mean).toBe(1e9);
    expect(st.std).toBeCloseTo(Math.sqrt((n * 0.25) / (n - 1)), 12);
  });

  it('empty or single-bin windows give NaN, bad bins throw', () => {
    expect(backgroundStats(f64([NaN, NaN]), 0, 2)).toEqual({ mean: NaN, std: NaN, n: 0 });
    const one = backgroundStats(f64([3, NaN]), 0, 2);
    expect(one.mean).toBe(3);
    expect(one.std).toBeNaN();
    expect(lidarError(() => backgroundStats(f64([1, 2]), 1, 3)).message).toContain('[1, 3)');
    expect(() => backgroundStats(f64([1, 2]), 2, 1)).toThrow(LidarError);
  });
});

describe('backgroundWindow', () => {
  // 100 bins of 7.5 m, zero bin 20: centres (i - 20 + 0.5) * 7.5
  const dr = 7.5;
  const rangeM = Float64Array.from({ length: 100 }, (_, i) => (i - 20 + 0.5) * dr);

  it('default: the last 10% of the bins', () => {
    expect(backgroundWindow(null, rangeM, 20)).toEqual([90, 100]);
    expect(backgroundWindow(null, new Float64Array(1600), 0)).toEqual([1440, 1600]);
    expect(backgroundWindow(null, new Float64Array(5), 0)).toEqual([4, 5]);
  });

  it("'none' is null; 'pretrigger' is [0, zeroBin) with at least 10 bins", () => {
    expect(backgroundWindow('none', rangeM, 20)).toBeNull();
    expect(backgroundWindow('pretrigger', rangeM, 20)).toEqual([0, 20]);
    const e = lidarError(() => backgroundWindow('pretrigger', rangeM, 3));
    expect(e.field).toBe('background.window_m');
    expect(e.message).toContain('zero bin is 3');
    expect(lidarError(() => backgroundWindow('pretrigger', rangeM, 101)).field).toBe('zero_bin');
  });

  it('a range window selects the bins whose centre lies inside, pre-trigger ranges included', () => {
    // centres 3.75 + 7.5 k for bins 20 + k: [300, 400] holds k = 40..52 (303.75 ... 393.75)
    expect(backgroundWindow([300, 400], rangeM, 20)).toEqual([60, 73]);
    expect(backgroundWindow([-150, -3.75], rangeM, 20)).toEqual([0, 20]);
    // inclusive at both ends
    expect(backgroundWindow([303.75, 378.75], rangeM, 20)).toEqual([60, 71]);
  });

  it('rejects windows beyond the record, too short, or malformed, naming the field', () => {
    const end = rangeM[99] + dr / 2; // 600 m
    expect(backgroundWindow([500, end], rangeM, 20)).toEqual([87, 100]);
    const beyond = lidarError(() => backgroundWindow([500, 700], rangeM, 20));
    expect(beyond.field).toBe('background.window_m');
    expect(beyond.message).toContain('beyond the record');
    expect(lidarError(() => backgroundWindow([300, 350], rangeM, 20)).message).toContain('holds 7 bins');
    expect(lidarError(() => backgroundWindow([400, 300], rangeM, 20)).message).toContain('from < to');
  });
});

describe('shiftBins', () => {
  const ramp = Float64Array.from({ length: 10 }, (_, i) => 3 + 2 * i);

  it('integer shift copies exactly, NaN past the end', () => {
    const out = new Float64Array(10);
    shiftBins(ramp, 2, out);
    expectArrayClose(out, [7, 9, 11, 13, 15, 17, 19, 21, NaN, NaN], 0);
    shiftBins(ramp, 0, out);
    expect(Array.from(out)).toEqual(Array.from(ramp));
    shiftBins(ramp, -1, out);
    expectArrayClose(out, [NaN, 3, 5, 7, 9, 11, 13, 15, 17, 19], 0);
  });

  it('fractional shift interpolates linearly: exact on a ramp', () => {
    const out = new Float64Array(10);
    shiftBins(ramp, 2.375, out); // header bin shift 2 + 375/1000
    expectArrayClose(out, [...Array.from({ length: 7 }, (_, j) => 3 + 2 * (j + 2.375)), NaN, NaN, NaN], 1e-15);
    shiftBins(ramp, -0.5, out);
    expectArrayClose(out, [NaN, ...Array.from({ length: 9 }, (_, j) => 3 + 2 * (j + 1 - 0.5))], 1e-15);
  });

  it('NaN neighbours propagate; aliasing is refused', () => {
    const s = f64([1, NaN, 3, 4]);
    const out = new Float64Array(4);
    shiftBins(s, 0.5, out);
    expectArrayClose(out, [NaN, NaN, 3.5, NaN]);
    expect(lidarError(() => shiftBins(s, 1, s)).field).toBe('out');
    const buf = new Float64Array(8);
    expect(lidarError(() => shiftBins(buf.subarray(0, 4), 1, buf.subarray(2, 6))).message).toContain('alias');
  });
});

describe('overlapCorrect', () => {
  const rangeM = f64([-10, 0, 25, 50, 100, 150, 200, 300, 400]);
  const table: Array<[number, number]> = [[0, 0], [50, 0.2], [100, 0.6], [200, 0.9], [300, 1]];

  it('divides by the interpolated table, O = 1 beyond it, NaN where O <= 0.05, flags O < 0.7', () => {
    const signal = f64([1, 1, 1, 2, 3, 4, 5, 6, 7]);
    const out = new Float64Array(9);
    const qc = new Uint8Array(9);
    overlapCorrect(signal, rangeM, { table }, out, qc);
    // O: -10 -> 0 (first value held), 0 -> 0, 25 -> 0.1, 50 -> 0.2, 100 -> 0.6, 150 -> 0.75, 200 -> 0.9, 300 -> 1, 400 -> 1
    expectArrayClose(out, [NaN, NaN, 10, 10, 5, 4 / 0.75, 5 / 0.9, 6, 7], 1e-14);
    expect(Array.from(qc)).toEqual([1, 1, 1, 1, 1, 0, 0, 0, 0]);
  });

  it('in place and without qc', () => {
    const signal = f64([1, 1, 1, 2, 3, 4, 5, 6, 7]);
    overlapCorrect(signal, rangeM, { table }, signal, null);
    expect(signal[4]).toBeCloseTo(5, 14);
  });

  it('full-overlap range: flags only, no division', () => {
    const signal = f64([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const out = new Float64Array(9);
    const qc = new Uint8Array(9).fill(QC.CLOUD);
    overlapCorrect(signal, rangeM, { fullOverlapM: 200 }, out, qc);
    expect(Array.from(out)).toEqual(Array.from(signal));
    expect(Array.from(qc)).toEqual([5, 5, 5, 5, 5, 5, 4, 4, 4]);
  });

  it('any order of ranges: the same values as bin by bin (the walk restarts where the range falls)', () => {
    const unordered = f64([400, 25, 150, -10, 100, 50, 300, 0, 200]);
    const signal = f64([7, 1, 4, 1, 3, 2, 6, 1, 5]);
    const out = new Float64Array(9);
    const qc = new Uint8Array(9);
    overlapCorrect(signal, unordered, { table }, out, qc);
    expectArrayClose(out, [7, 10, 4 / 0.75, NaN, 5, 10, 6, NaN, 5 / 0.9], 1e-14);
    expect(Array.from(qc)).toEqual([0, 1, 0, 1, 1, 1, 0, 1, 0]);
  });

  it('rejects bad tables naming the field', () => {
    const out = new Float64Array(9);
    const s = new Float64Array(9);
    expect(lidarError(() => overlapCorrect(s, rangeM, { table: [[0, 0], [0, 1]] }, out, null)).field).toBe('overlap.table');
    expect(lidarError(() => overlapCorrect(s, rangeM, { table: [[0, 1.2]] }, out, null)).message).toContain('O = 1.2');
    expect(lidarError(() => overlapCorrect(s, rangeM, { fullOverlapM: -1 }, out, null)).field).toBe('overlap.full_overlap_m');
  });
});

describe('interpolateTableInto', () => {
  // Plain binary search for the bracket table[lo][0] < x <= table[lo + 1][0], as first written.
  function bySearch(table: Array<[number, number]>, x: number, beyondEnd: number): number {
    if (Number.isNaN(x)) return NaN;
    if (x <= table[0][0]) return table[0][1];
    if (x > table[table.length - 1][0]) return beyondEnd;
    let lo = 0;
    let hi = table.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (table[mid][0] < x) lo = mid;
      else hi = mid;
    }
    return table[lo][1] + ((x - table[lo][0]) / (table[hi][0] - table[lo][0])) * (table[hi][1] - table[lo][1]);
  }

  it('equals a binary search bin for bin, ascending or in any order, bit for bit', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: 1, maxLength: 12 }),
        // Mostly inside the table (x in -5..130 in steps of 0.1: fc.double would favour 0 and the ends), some NaN.
        fc.array(fc.oneof({ weight: 9, arbitrary: fc.integer({ min: -50, max: 1300 }).map((v) => v / 10) }, { weight: 1, arbitrary: fc.constant(Number.NaN) }), { minLength: 1, maxLength: 60 }),
        fc.boolean(),
        (ys, xs, sorted) => {
          const table = ys.map((y, k): [number, number] => [10 * k + (k % 3), y]);
          const x = Float64Array.from(sorted ? [...xs].sort((a, b) => a - b) : xs);
          const out = new Float64Array(x.length);
          interpolateTableInto(table, x, -7, out);
          for (let i = 0; i < x.length; i++) {
            expect(Object.is(out[i], bySearch(table, x[i], -7))).toBe(true);
            expect(Object.is(interpolateTable(table, x[i], -7), out[i])).toBe(true);
          }
        },
      ),
    );
  });

  it('fills only [from, to) and may write over its input', () => {
    const table: Array<[number, number]> = [[0, 0], [10, 1]];
    const x = f64([5, 5, 5, 5]);
    interpolateTableInto(table, x, 1, x, 1, 3);
    expect(Array.from(x)).toEqual([5, 0.5, 0.5, 5]);
  });
});

describe('rangeCorrect', () => {
  it('X = P r^2, NaN for r <= 0', () => {
    const out = new Float64Array(5);
    rangeCorrect(f64([5, 5, 2, 3, NaN]), f64([-3.75, 0, 3.75, 1000, 10]), out);
    expectArrayClose(out, [NaN, NaN, 2 * 3.75 * 3.75, 3e6, NaN], 0);
    const s = f64([1, 2]);
    rangeCorrect(s, f64([10, 20]), s);
    expect(Array.from(s)).toEqual([100, 800]);
  });
});

describe('averageProfiles', () => {
  it('NaN-aware mean and standard error', () => {
    const out = new Float64Array(3);
    const sem = new Float64Array(3);
    averageProfiles([f64([1, NaN, NaN]), f64([3, 4, NaN]), f64([5, NaN, NaN]), f64([7, NaN, NaN])], out, sem);
    expectArrayClose(out, [4, 4, NaN]);
    // 1 3 5 7: s^2 = 20/3, sem = sqrt(20/3/4)
    expectArrayClose(sem, [Math.sqrt(20 / 3 / 4), NaN, NaN], 1e-15);
    averageProfiles([], out);
    expectArrayClose(out, [NaN, NaN, NaN]);
    expect(lidarError(() => averageProfiles([f64([1, 2])], out)).field).toBe('profiles');
  });
});

describe('smoothRange', () => {
  it('centred sliding mean, shrinking symmetrically at the ends; returns the resolution', () => {
    const s = f64([1, 2, 4, 8, 16, 32, 64]);
    const out = new Float64Array(7);
    expect(smoothRange(s, 3, 7.5, out)).toBe(22.5);
    expectArrayClose(out, [1, 7 / 3, 14 / 3, 28 / 3, 56 / 3, 112 / 3, 64], 1e-15);
    expect(smoothRange(s, 5, 7.5, out)).toBe(37.5);
    expectArrayClose(out, [1, 7 / 3, 31 / 5, 62 / 5, 124 / 5, 112 / 3, 64], 1e-15);
    expect(smoothRange(s, 1, 3.75, out)).toBe(3.75);
    expect(Array.from(out)).toEqual(Array.from(s));
  });

  it('NaN-aware: valid neighbours only; a NaN bin stays NaN', () => {
    const out = new Float64Array(6);
    smoothRange(f64([1, NaN, 3, 5, NaN, NaN]), 3, 1, out);
    expectArrayClose(out, [1, NaN, 4, 4, NaN, NaN]);
  });

  it('equals the direct window mean on random data spanning 12 orders of magnitude', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: -1e-6, max: 1e-6, noNaN: true }), fc.constant(NaN)), { minLength: 1, maxLength: 60 }), fc.integer({ min: 0, max: 8 }), (xs, h) => {
        const s = f64(xs);
        const out = new Float64Array(s.length);
        smoothRange(s, 2 * h + 1, 1, out);
        for (let i = 0; i < s.length; i++) {
          if (Number.isNaN(s[i])) {
            expect(out[i]).toBeNaN();
            continue;
          }
          const hw = Math.min(h, i, s.length - 1 - i);
          const vals = xs.slice(i - hw, i + hw + 1).filter((v) => !Number.isNaN(v));
          const scale = vals.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
          const all = xs.reduce((m, v) => (Number.isNaN(v) ? m : Math.max(m, Math.abs(v))), 0);
          const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
          expect(Math.abs(out[i] - mean)).toBeLessThanOrEqual(1e-12 * scale + 1e-24 * all);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('smoothing length to an odd window', () => {
    expect([0, 7.5, 11, 11.25, 15, 30, 37.5].map((m) => smoothingWindowBins(m, 7.5))).toEqual([1, 1, 1, 1, 3, 5, 5]);
    expect(lidarError(() => smoothingWindowBins(-1, 7.5)).field).toBe('smoothing_m');
  });

  it('refuses even windows and aliasing', () => {
    const s = f64([1, 2, 3]);
    expect(lidarError(() => smoothRange(s, 2, 7.5, new Float64Array(3))).message).toContain('2 bins');
    expect(lidarError(() => smoothRange(s, 3, 7.5, s)).field).toBe('out');
  });
});

describe('binRange', () => {
  it('block means and mean range, NaN-aware, incomplete last group dropped', () => {
    const r = f64([3.75, 11.25, 18.75, 26.25, 33.75, 41.25, 48.75]);
    const b = binRange(f64([1, 3, NaN, 5, NaN, NaN, 9]), r, 2);
    expectArrayClose(b.signal, [2, 5, NaN]);
    expectArrayClose(b.rangeM, [7.5, 22.5, 37.5]);
    const one = binRange(f64([1, 2]), f64([1, 2]), 1);
    expect(Array.from(one.signal)).toEqual([1, 2]);
    expect(lidarError(() => binRange(f64([1]), f64([1]), 0)).field).toBe('factor');
  });
});

describe('kthSmallest and medianInPlace', () => {
  it('give what sorting gives, odd and even counts, ties, NaN sorted last; the selection partitions around k', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: -5, max: 5 }), fc.double({ min: -1e3, max: 1e3, noNaN: true })), { minLength: 1, maxLength: 60 }), fc.boolean(), (values, withNaN) => {
        // (+ 0 turns -0 into 0: which of two zeros a selection returns is not the point)
        const a = Float64Array.from(withNaN ? [...values, NaN] : values, (v) => v + 0);
        const sorted = Float64Array.from(a).sort();
        const n = a.length;
        const expected = n % 2 === 1 ? sorted[(n - 1) / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
        expect(Object.is(medianInPlace(Float64Array.from(a), n), expected)).toBe(true);
        if (withNaN) return;
        for (let k = 0; k < n; k++) {
          const b = Float64Array.from(a);
          expect(kthSmallest(b, n, k)).toBe(sorted[k]);
          // (what medianInPlace relies on: a[k] in place, nothing larger before it, nothing smaller after)
          for (let i = 0; i < n; i++) expect(i < k ? b[i] <= b[k] : i > k ? b[i] >= b[k] : b[i] === sorted[k]).toBe(true);
        }
      }),
    );
    expect(medianInPlace(new Float64Array(3), 0)).toBeNaN();
  });
});
