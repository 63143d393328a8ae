/**
 * Unit tests of the store's pure logic: scan detection (store/scan.ts), curtain downsampling
 * (store/curtain.ts), local calendar days, daily means (>= 18 hours) and limit checks
 * (store/result-store.ts, store/limits.ts), profile id parsing (store/port.ts). Expected values
 * are computed by hand.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isLidarError } from '../processing/errors.js';
import { buildCurtain, type CurtainProfile } from '../store/curtain.js';
import { MIN_HOURS_PER_DAY, PM_LIMITS, limitsFor } from '../store/limits.js';
import { parseProfileId, profileId, type ProfileMeta } from '../store/port.js';
import { checkLimits, dailyMeans, localDays, type DayMean } from '../store/result-store.js';
import { azimuthStepDeg, latestScanOf, splitScans } from '../store/scan.js';

const T = Date.UTC(2024, 0, 15, 10);
const S = 1000;
const H = 3_600_000;
const D = 86_400_000;

function meta(timeMs: number, azimuthDeg: number, elevationDeg = 2, mode: 'scan' | 'vertical' = 'scan', dwellS = 30): ProfileMeta {
  return {
    id: profileId('sofia', '532o-glued', timeMs), station: 'sofia', channel: '532o-glued', mode, timeMs, timeEndMs: timeMs + dwellS * S,
    azimuthDeg, elevationDeg, rangeStartM: 3.75, rangeStepM: 7.5, bins: 10, file: 'f', paramsId: 'p', pblHeightM: NaN, pblQuality: NaN,
    cloudBaseM: NaN, aod: NaN, snr: NaN, lidarConstant: NaN, validBins: 0, qcCounts: [], receivedMs: timeMs,
  };
}

/** A PPI sweep from `fromDeg` in `stepDeg` steps, `n` rays, 30 s each, starting at `t0`. */
function sweep(t0: number, fromDeg: number, stepDeg: number, n: number, elevationDeg = 2): ProfileMeta[] {
  return Array.from({ length: n }, (_, i) => meta(t0 + i * 30 * S, (((fromDeg + i * stepDeg) % 360) + 360) % 360, elevationDeg));
}

const azimuths = (ps: ProfileMeta[]) => ps.map((p) => p.azimuthDeg);

describe('scan detection', () => {
  it('signed azimuth steps wrap through north', () => {
    expect(azimuthStepDeg(350, 10)).toBe(20);
    expect(azimuthStepDeg(10, 350)).toBe(-20);
    expect(azimuthStepDeg(190, 350)).toBe(160);
    expect(azimuthStepDeg(350, 190)).toBe(-160);
    expect(azimuthStepDeg(0, 180)).toBe(180);
  });

  it('splits a PPI sweep 190->350 from the next sweep (fly-back), skipping interleaved verticals', () => {
    const first = sweep(T, 190, 10, 17);
    const vertical = meta(T + 17 * 30 * S, 0, 90, 'vertical', 60);
    const second = sweep(T + 17 * 30 * S + 60 * S, 190, 10, 5);
    const interleaved = meta(first[8].timeMs + 1, 0, 90, 'vertical', 0);
    const runs = splitScans([...second, vertical, ...first, interleaved]);
    expect(runs).toHaveLength(2);
    expect(azimuths(runs[0].profiles)).toEqual(Array.from({ length: 17 }, (_, i) => 190 + 10 * i));
    expect(runs[0].fromMs).toBe(T);
    expect(runs[0].toMs).toBe(first[16].timeMs + 30 * S);
    expect(runs[0].elevationDeg).toBe(2);
    expect(azimuths(runs[1].profiles)).toEqual([190, 200, 210, 220, 230]);
    const latest = latestScanOf([...first, vertical, ...second]);
    expect(latest?.profiles.map((p) => p.id)).toEqual(second.map((p) => p.id));
  });

  it('a sweep that has just begun is the latest (in-progress) scan', () => {
    const first = sweep(T, 190, 10, 17);
    const next = sweep(T + 20 * 30 * S, 190, 10, 1);
    expect(azimuths(latestScanOf([...first, ...next])!.profiles)).toEqual([190]);
  });

  it('with complete, a sweep in progress gives way to the last full one at its elevation; the newest full one wins', () => {
    const first = sweep(T, 190, 10, 17);
    const sector = sweep(T + 17 * 30 * S, 200, 10, 6).map((p) => ({ ...p, elevationDeg: 6 }));
    const next = sweep(T + 25 * 30 * S, 190, 10, 3);
    expect(latestScanOf([...first, ...sector, ...next], {}, true)!.profiles.map((p) => p.elevationDeg)).toEqual(Array(6).fill(6)); // the 6 deg sector is complete
    expect(azimuths(latestScanOf([...first, ...next], {}, true)!.profiles)).toHaveLength(17); // the full 2 deg sweep
    const full = sweep(T + 25 * 30 * S, 190, 10, 17);
    expect(latestScanOf([...first, ...full], {}, true)!.profiles[0].timeMs).toBe(full[0].timeMs);
    expect(azimuths(latestScanOf(next, {}, true)!.profiles)).toEqual([190, 200, 210]); // nothing complete: the newest
  });

  it('breaks on an elevation change beyond 0.05 deg but not within it', () => {
    const a = sweep(T, 190, 10, 4, 2);
    const b = sweep(T + 4 * 30 * S, 230, 10, 3, 2.04);
    expect(splitScans([...a, ...b])).toHaveLength(1);
    const c = sweep(T + 4 * 30 * S, 230, 10, 3, 6);
    const runs = splitScans([...a, ...c]);
    expect(runs.map((r) => r.elevationDeg)).toEqual([2, 6]);
    expect(runs.map((r) => r.profiles.length)).toEqual([4, 3]);
  });

  it('breaks on a gap longer than 5 min (configurable)', () => {
    const a = sweep(T, 190, 10, 3);
    const b = sweep(a[2].timeEndMs + 5 * 60 * S + 1, 220, 10, 3);
    expect(splitScans([...a, ...b]).map((r) => r.profiles.length)).toEqual([3, 3]);
    const c = sweep(a[2].timeEndMs + 5 * 60 * S, 220, 10, 3);
    expect(splitScans([...a, ...c]).map((r) => r.profiles.length)).toEqual([6]);
    expect(splitScans([...a, ...b], { maxGapMs: 10 * 60 * S }).map((r) => r.profiles.length)).toEqual([6]);
  });

  it('breaks on a direction reversal, a repeated azimuth and after a full turn', () => {
    const backAndForth = [...sweep(T, 190, 10, 4), ...sweep(T + 4 * 30 * S, 210, -10, 3)];
    expect(splitScans(backAndForth).map((r) => azimuths(r.profiles))).toEqual([[190, 200, 210, 220], [210, 200, 190]]);
    const repeat = [meta(T, 100), meta(T + 30 * S, 110), meta(T + 60 * S, 110), meta(T + 90 * S, 120)];
    expect(splitScans(repeat).map((r) => azimuths(r.profiles))).toEqual([[100, 110], [110, 120]]);
    // 45 deg steps through north: 8 rays make one turn, the 9th starts the next scan.
    const turning = sweep(T, 300, 45, 10);
    expect(splitScans(turning).map((r) => r.profiles.length)).toEqual([8, 2]);
    // Counter-clockwise sweeps through north are one scan.
    expect(splitScans(sweep(T, 20, -10, 5)).map((r) => azimuths(r.profiles))).toEqual([[20, 10, 0, 350, 340]]);
  });

  it('returns null without scan profiles', () => {
    expect(latestScanOf([])).toBeNull();
    expect(latestScanOf([meta(T, 0, 90, 'vertical')])).toBeNull();
  });

  it('property: runs partition the scan profiles in time order and each run is monotonic, < 360 deg, one elevation', () => {
    const arb = fc.array(fc.record({ dt: fc.integer({ min: 1, max: 600 }), az: fc.integer({ min: 0, max: 359 }), el: fc.constantFrom(2, 6, 90) }), { maxLength: 60 });
    fc.assert(
      fc.property(arb, (steps) => {
        let t = T;
        const ps = steps.map((s) => {
          t += s.dt * S;
          return meta(t, s.az, s.el, s.el === 90 ? 'vertical' : 'scan', 10);
        });
        const runs = splitScans(ps);
        const flat = runs.flatMap((r) => r.profiles.map((p) => p.timeMs));
        expect(flat).toEqual(ps.filter((p) => p.mode === 'scan').map((p) => p.timeMs));
        for (const r of runs) {
          let turn = 0;
          let dir = 0;
          for (let i = 1; i < r.profiles.length; i++) {
            const step = azimuthStepDeg(r.profiles[i - 1].azimuthDeg, r.profiles[i].azimuthDeg);
            expect(step).not.toBe(0);
            if (dir !== 0) expect(Math.sign(step)).toBe(dir);
            dir = Math.sign(step);
            turn += step;
            expect(r.profiles[i].elevationDeg).toBe(r.profiles[0].elevationDeg);
            expect(r.profiles[i].timeMs - r.profiles[i - 1].timeEndMs).toBeLessThanOrEqual(300 * S);
          }
          expect(Math.abs(turn)).toBeLessThan(360);
        }
      }),
    );
  });
});

describe('curtain downsampling', () => {
  const prof = (timeMs: number, heights: number[], values: number[], pbl = NaN, cloud = NaN): CurtainProfile => ({ timeMs, heightsM: heights, values, pblHeightM: pbl, cloudBaseM: cloud });

  it('averages the finite values per (column, row) cell (hand-computed)', () => {
    // Columns of 10 min over [T, T + 30 min); rows of 100 m over [1000, 1300).
    const ps = [
      prof(T + 1 * 60 * S, [1000, 1050, 1100, 1150, 1250, 1300], [1, 3, 10, NaN, 7, 99], 1200, NaN),
      prof(T + 9 * 60 * S, [1000, 1050, 1100, 1150, 1250, 1300], [5, NaN, 20, 40, Infinity, 99], 1300, 2500),
      prof(T + 25 * 60 * S, [990, 1299.9], [8, 9]),
      prof(T + 30 * 60 * S, [1000], [1000]), // outside the window (half-open)
      prof(T - 1, [1000], [1000]),
    ];
    const c = buildCurtain(ps, { fromMs: T, toMs: T + 30 * 60 * S, width: 3, height: 3, heightMinM: 1000, heightMaxM: 1300 });
    expect(Array.from(c.timesMs)).toEqual([T + 5 * 60 * S, T + 15 * 60 * S, T + 25 * 60 * S]);
    expect(Array.from(c.heightsM)).toEqual([1050, 1150, 1250]);
    // Column 0: row 0 mean(1, 3, 5) = 3; row 1 mean(10, 20, 40) = 70/3; row 2 mean(7) = 7 (Infinity skipped, 1300 outside).
    // Column 1 empty; column 2: row 2 = 9 (990 is below the grid).
    expect(c.values[0]).toBe(3);
    expect(c.values[1]).toBeCloseTo(70 / 3, 5);
    expect(c.values[2]).toBe(7);
    expect(Array.from(c.values.slice(3, 6))).toEqual([NaN, NaN, NaN]);
    expect(Array.from(c.values.slice(6, 9))).toEqual([NaN, NaN, 9]);
    expect(Array.from(c.pblHeightM)).toEqual([1250, NaN, NaN]);
    expect(Array.from(c.cloudBaseM)).toEqual([2500, NaN, NaN]);
    expect(c.profilesUsed).toBe(3);
  });

  it('defaults the height range to the data and includes the top bin', () => {
    const c = buildCurtain([prof(T, [600, 700, 800], [1, 2, 3])], { fromMs: T, toMs: T + H, width: 1, height: 2 });
    expect(c.heightMinM).toBe(600);
    expect(c.heightMaxM).toBeGreaterThan(800);
    expect(Array.from(c.values)).toEqual([1.5, 3]);
    const empty = buildCurtain([], { fromMs: T, toMs: T + H, width: 2, height: 2 });
    expect(Array.from(empty.values)).toEqual([NaN, NaN, NaN, NaN]);
    expect(empty.profilesUsed).toBe(0);
  });

  it('rejects bad grids with BAD_VALUE naming the field', () => {
    const cases: Array<[Parameters<typeof buildCurtain>[1], string]> = [
      [{ fromMs: T, toMs: T, width: 1, height: 1 }, 'toMs'],
      [{ fromMs: T, toMs: T + 1, width: 0, height: 1 }, 'width'],
      [{ fromMs: T, toMs: T + 1, width: 2001, height: 1 }, 'width'],
      [{ fromMs: T, toMs: T + 1, width: 1.5, height: 1 }, 'width'],
      [{ fromMs: T, toMs: T + 1, width: 1, height: 1001 }, 'height'],
      [{ fromMs: T, toMs: T + 1, width: 1, height: 1, heightMinM: 500, heightMaxM: 400 }, 'heightMaxM'],
      [{ fromMs: NaN, toMs: T + 1, width: 1, height: 1 }, 'fromMs'],
    ];
    for (const [grid, field] of cases) {
      let err: unknown = null;
      try {
        buildCurtain([], grid);
      } catch (e) {
        err = e;
      }
      expect(isLidarError(err) && err.code === 'LIDAR_ERR_BAD_VALUE' && err.field === field, `${field}: ${String(err)}`).toBe(true);
    }
  });
});

describe('local days, daily means and limits', () => {
  it('cuts local calendar days in Europe/Sofia, 23 and 25 hours at the DST changes', () => {
    const jan = localDays(Date.UTC(2024, 0, 15, 21, 59), Date.UTC(2024, 0, 15, 22, 1), 'Europe/Sofia');
    expect(jan.map((d) => d.date)).toEqual(['2024-01-15', '2024-01-16']);
    expect(jan[1].startMs).toBe(Date.UTC(2024, 0, 15, 22));
    const spring = localDays(Date.UTC(2024, 2, 31, 0), Date.UTC(2024, 2, 31, 1), 'Europe/Sofia');
    expect(spring).toEqual([{ date: '2024-03-31', startMs: Date.UTC(2024, 2, 30, 22), endMs: Date.UTC(2024, 2, 31, 21) }]);
    const autumn = localDays(Date.UTC(2024, 9, 27, 12), Date.UTC(2024, 9, 27, 13), 'Europe/Sofia');
    expect(autumn[0].endMs - autumn[0].startMs).toBe(25 * H);
    expect(localDays(Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 3), 'UTC').map((d) => d.date)).toEqual(['2024-01-01', '2024-01-02']);
  });

  it('needs at least 18 hourly values for a daily mean; the mean is over the hourly means', () => {
    expect(MIN_HOURS_PER_DAY).toBe(18);
    const days = localDays(Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 4), 'UTC');
    const hours = [
      ...Array.from({ length: 18 }, (_, h) => ({ timeMs: Date.UTC(2024, 0, 1, h), value: h < 9 ? 10 : 30 })),
      ...Array.from({ length: 17 }, (_, h) => ({ timeMs: Date.UTC(2024, 0, 2, h), value: 50 })),
      { timeMs: Date.UTC(2024, 0, 2, 20), value: NaN },
      ...Array.from({ length: 24 }, (_, h) => ({ timeMs: Date.UTC(2024, 0, 3, h), value: h })),
      { timeMs: Date.UTC(2024, 0, 5), value: 1 }, // outside every day
    ];
    const d = dailyMeans(hours, days);
    expect(d.map((x) => x.hours)).toEqual([18, 17, 24]);
    expect(d[0].mean).toBe(20);
    expect(Number.isNaN(d[1].mean)).toBe(true);
    expect(d[2].mean).toBe(11.5);
  });

  it('counts exceedances strictly above the limit and flags too many exceedance days', () => {
    const day = (mean: number, k: number): DayMean => ({ dayStartMs: k * D, date: `d${k}`, mean, hours: Number.isNaN(mean) ? 3 : 24 });
    const days = [...Array.from({ length: 36 }, (_, k) => day(51, k)), day(50, 36), day(NaN, 37), ...Array.from({ length: 10 }, (_, k) => day(10, 38 + k))];
    const r = checkLimits(days, limitsFor('pm10'));
    expect(r.validDays).toBe(47);
    expect(r.periodMean).toBeCloseTo((36 * 51 + 50 + 100) / 47, 10);
    const get = (id: string) => r.limits.find((l) => l.limit.id === id)!;
    expect(get('2008/50/EC:pm10:day')).toMatchObject({ exceedanceDays: 36, allowedExceeded: true });
    expect(get('2024/2881:pm10:day')).toMatchObject({ exceedanceDays: 37, allowedExceeded: true });
    expect(get('2008/50/EC:pm10:year').periodMeanAbove).toBe(true);
    const fewer = checkLimits(days.slice(1), limitsFor('pm10'));
    expect(fewer.limits.find((l) => l.limit.id === '2008/50/EC:pm10:day')).toMatchObject({ exceedanceDays: 35, allowedExceeded: false });
    const none = checkLimits([day(NaN, 0)], limitsFor('pm25'));
    expect(none.validDays).toBe(0);
    expect(none.limits.every((l) => l.periodMeanAbove === null)).toBe(true);
  });

  it('holds the limit values of both directives', () => {
    const v = Object.fromEntries(PM_LIMITS.map((l) => [l.id, [l.valueUgM3, l.maxExceedancesPerYear]]));
    expect(v).toEqual({
      '2008/50/EC:pm10:day': [50, 35],
      '2008/50/EC:pm10:year': [40, null],
      '2008/50/EC:pm25:year': [25, null],
      '2024/2881:pm10:day': [45, 18],
      '2024/2881:pm10:year': [20, null],
      '2024/2881:pm25:day': [25, 18],
      '2024/2881:pm25:year': [10, null],
    });
  });
});

describe('profile ids', () => {
  it('parses what profileId() builds, channel colons included, and rejects malformed ids', () => {
    expect(parseProfileId(profileId('sofia', '532o-glued', 1705312800000))).toEqual({ station: 'sofia', channel: '532o-glued', timeMs: 1705312800000 });
    expect(parseProfileId('s:a:b:0')).toEqual({ station: 's', channel: 'a:b', timeMs: 0 });
    for (const bad of ['', 'x', 'a:b', 'a:b:', ':b:1', 'a::1', 'a:b:-1', 'a:b:01', 'a:b:1e3', 'a:b:99999999999999999', `a:b:${'1'.repeat(2000)}`]) {
      expect(parseProfileId(bad), bad).toBeNull();
    }
    fc.assert(fc.property(fc.string({ minLength: 1 }).filter((s) => !s.includes(':')), fc.string({ minLength: 1 }), fc.integer({ min: 0, max: 2 ** 45 }), (st, ch, t) => {
      expect(parseProfileId(profileId(st, ch, t))).toEqual({ station: st, channel: ch, timeMs: t });
    }));
  });
});
