// Unit tests of the dashboard's pure helpers (dashboard/src/lib): EAQI 2024 bands and their text
// contrast, i18n tables complete in both languages, Europe/Sofia time formatting across DST,
// staleness, distances, the base map decoder (on the shipped asset) and the bundle measurer.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BAND_COLOURS, BAND_KEYS, EAQI_2024_EDGES, bandFor, bands, contrastRatio } from '../dashboard/src/lib/aqi.js';
import { LANGS, MESSAGES, formatAgo, placeholders, t, type MessageKey } from '../dashboard/src/lib/i18n.js';
import { formatHm, isStale, minutesAgo, parseTime, STALE_AFTER_MS } from '../dashboard/src/lib/time.js';
import { distanceM, nearest, ringCentre } from '../dashboard/src/lib/geo.js';
import { decodeBasemap, decodeLine } from '../dashboard/src/lib/basemap.js';
import { formatDistance, formatPm } from '../dashboard/src/lib/format.js';
import { staticImports } from '../dashboard/scripts/bundle-size.js';
import { DAILY_LIMITS, classifyDay, countExceedances } from '../dashboard/src/lib/limits.js';
import { THRESHOLDS, formatDuration, healthSeries, housekeepingRule, levelCompleteness, levelHousekeeping, levelIngestLag, levelOf, levelQueue, levelSinceLast, levelSuccess, median, sinceLastS, worst } from '../dashboard/src/lib/ops.js';
import { applyFields, compareProfiles, constantGuess, goldenMin } from '../dashboard/src/lib/inspect.js';
import { resolveParams } from '../processing/retrieval/params.js';
import { colourPosition, decodeCurtain, holdColumns, jet, logTicks, quantile } from '../dashboard/src/lib/curtain.js';
import { binRadiiM, canvasAngle, maxHorizontalRangeM, rayHalfWidthsDeg, sectorRuns, type ScanRay } from '../dashboard/src/lib/ppi.js';

const ROOT = join(import.meta.dirname, '..');

describe('EAQI 2024 bands', () => {
  // The EEA table (../shared/design/DASHBOARD.md): upper edges of Good..Very poor.
  const table = { pm25: [5, 15, 50, 90, 140], pm10: [15, 45, 120, 195, 270] } as const;

  it('uses the 2024 edges and colours', () => {
    expect(EAQI_2024_EDGES).toEqual(table);
    expect(BAND_COLOURS).toEqual(['#50F0E6', '#50CCAA', '#F0E641', '#FF5050', '#960032', '#7D2181']);
  });

  for (const product of ['pm10', 'pm25'] as const) {
    it(`${product}: every edge belongs to the band below it, just above to the next`, () => {
      table[product].forEach((edge, i) => {
        expect(bandFor(product, edge)?.index).toBe(i + 1);
        expect(bandFor(product, edge + 0.01)?.index).toBe(i + 2);
      });
      expect(bandFor(product, 0)?.key).toBe('good');
      expect(bandFor(product, -3)?.key).toBe('good');
      expect(bandFor(product, 1e6)?.key).toBe('extremely_poor');
      expect(bandFor(product, null)).toBeNull();
      expect(bandFor(product, NaN)).toBeNull();
      expect(bandFor(product, Infinity)).toBeNull();
    });
    it(`${product}: bands are contiguous and the text on each colour has WCAG AA contrast`, () => {
      const list = bands(product);
      expect(list.map((b) => b.key)).toEqual(BAND_KEYS);
      for (let i = 1; i < list.length; i++) expect(list[i].lower).toBe(list[i - 1].upper);
      for (const b of list) expect(contrastRatio(b.colour, b.textColour)).toBeGreaterThanOrEqual(4.5);
    });
  }

  it('contrast ratio matches the WCAG definition at the extremes', () => {
    expect(contrastRatio('#000000', '#FFFFFF')).toBeCloseTo(21, 5);
    expect(contrastRatio('#777777', '#777777')).toBeCloseTo(1, 10);
    expect(() => contrastRatio('red', '#000000')).toThrow(/#RRGGBB/);
  });
});

describe('i18n', () => {
  const keys = Object.keys(MESSAGES.en) as MessageKey[];
  it('has every key in both languages, non-empty, with the same placeholders', () => {
    for (const lang of LANGS) {
      expect(Object.keys(MESSAGES[lang]).sort()).toEqual([...keys].sort());
      for (const k of keys) expect(MESSAGES[lang][k].trim(), `${lang}.${k}`).not.toBe('');
    }
    for (const k of keys) expect(placeholders(MESSAGES.bg[k]), k).toEqual(placeholders(MESSAGES.en[k]));
  });
  it('has a name for every band in both languages, all different', () => {
    for (const lang of LANGS) {
      const names = BAND_KEYS.map((b) => MESSAGES[lang][`band_${b}` as MessageKey]);
      expect(new Set(names).size).toBe(6);
    }
  });
  it('Bulgarian texts are in Cyrillic where English has words', () => {
    const words = (s: string) => s.replace(/\{\w+\}/g, '');
    const latinOnly = keys.filter((k) => /[a-z]{4,}/i.test(words(MESSAGES.en[k])) && !/[а-я]/i.test(MESSAGES.bg[k]));
    expect(latinOnly).toEqual([]);
  });
  it('fills placeholders and leaves unknown ones', () => {
    expect(t('en', 'ago_min', { n: 7 })).toBe('7 min ago');
    expect(t('bg', 'ago_min', { n: 7 })).toBe('преди 7 мин');
    expect(t('en', 'ago_min')).toBe('{n} min ago');
    expect(formatAgo('en', 0)).toBe(t('en', 'ago_now'));
    expect(formatAgo('en', 125)).toBe('2 h 5 min ago');
  });
});

describe('time for the public (Europe/Sofia)', () => {
  it('formats local clock time in winter (UTC+2) and summer (UTC+3) whatever the process zone', () => {
    expect(formatHm(Date.parse('2018-01-19T16:39:30Z'))).toBe('18:39');
    expect(formatHm(Date.parse('2018-07-01T21:05:00Z'))).toBe('00:05');
    // the DST change: 2024-03-31 01:00 UTC (03:00 EET -> 04:00 EEST)
    expect(formatHm(Date.parse('2024-03-31T00:59:00Z'))).toBe('02:59');
    expect(formatHm(Date.parse('2024-03-31T01:00:00Z'))).toBe('04:00');
    expect(formatHm(Date.parse('2018-01-19T16:39:30Z'), 'bg')).toBe('18:39');
  });
  it('counts minutes and staleness', () => {
    const t0 = Date.parse('2018-01-19T16:00:00Z');
    expect(minutesAgo(t0, t0 + 59_999)).toBe(0);
    expect(minutesAgo(t0, t0 + 60_000)).toBe(1);
    expect(minutesAgo(t0, t0 - 120_000)).toBe(0);
    expect(isStale(t0, t0 + STALE_AFTER_MS)).toBe(false);
    expect(isStale(t0, t0 + STALE_AFTER_MS + 1)).toBe(true);
    expect(parseTime(null)).toBeNull();
    expect(parseTime('not a time')).toBeNull();
    expect(parseTime('2018-01-19T16:00:00Z')).toBe(t0);
  });
});

describe('geo and formatting', () => {
  it('distance: one degree of latitude is ~111.2 km; nearest picks the closest', () => {
    expect(distanceM(42, 23, 43, 23)).toBeGreaterThan(111_000);
    expect(distanceM(42, 23, 43, 23)).toBeLessThan(111_400);
    expect(distanceM(42.65, 23.38, 42.65, 23.38)).toBe(0);
    const pts = [
      { id: 'a', lat: 42.7, lon: 23.3 },
      { id: 'b', lat: 42.655, lon: 23.383 },
    ];
    expect(nearest(pts, 42.65, 23.38)?.item.id).toBe('b');
    expect(nearest([], 42.65, 23.38)).toBeNull();
  });
  it('ring centre ignores the closing point', () => {
    expect(ringCentre([[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]])).toEqual({ lon: 1, lat: 1 });
  });
  it('formats PM and distances', () => {
    expect(formatPm(134.51)).toBe('135');
    expect(formatPm(4.26)).toBe('4.3');
    expect(formatPm(4.26, 'bg')).toBe('4,3');
    expect(formatPm(null)).toBe('–');
    expect(formatDistance(734)).toBe('730 m');
    expect(formatDistance(2234)).toBe('2.2 km');
  });
});

describe('base map asset', () => {
  it('decodes delta-encoded lines', () => {
    expect(decodeLine([233800, 426500, 10, -5, -10, 5])).toEqual([
      [23.38, 42.65],
      [23.381, 42.6495],
      [23.38, 42.65],
    ]);
    expect(() => decodeLine([1, 2, 3])).toThrow(/odd/);
  });
  it('the shipped basemap.json has the 24 districts, outline, parks, contours, all within Sofia/Vitosha', () => {
    const raw = JSON.parse(readFileSync(join(ROOT, 'dashboard', 'src', 'assets', 'basemap.json'), 'utf8'));
    const b = decodeBasemap(raw);
    expect(b.districts.map((d) => d.properties.code).sort()).toEqual(Array.from({ length: 24 }, (_, i) => String(i + 1).padStart(2, '0')));
    expect(b.outline.length).toBe(1);
    expect(b.parks.length).toBeGreaterThan(10);
    expect(b.contours.length).toBeGreaterThan(100);
    const within = ([lon, lat]: [number, number]) => lon > 23.0 && lon < 23.75 && lat > 42.4 && lat < 42.95;
    const walk = (c: unknown): void => {
      if (typeof (c as number[])[0] === 'number') expect(within(c as [number, number]), JSON.stringify(c)).toBe(true);
      else for (const x of c as unknown[]) walk(x);
    };
    for (const f of [...b.districts, ...b.outline, ...b.parks, ...b.contours]) walk(f.geometry.coordinates);
    for (const d of b.districts) expect(within(d.properties.label)).toBe(true);
    expect(b.lidar.lat).toBeCloseTo(42.65, 2);
    expect(b.lidar.lon).toBeCloseTo(23.38, 2);
    expect(b.view.west).toBeLessThan(b.lidar.lon);
    expect(b.view.east).toBeGreaterThan(b.lidar.lon);
    expect(Object.values(b.attribution).join(' ')).toMatch(/Sofiaplan.*OpenStreetMap.*SRTM/);
  });
});

describe('bundle measurer', () => {
  it('finds static imports but not dynamic ones', () => {
    const code = `import{a as b}from"./chunk-1.js";import "./side.js";export{x}from"./re.js";const v=()=>import("./lazy.js");`;
    expect(staticImports(code).sort()).toEqual(['./chunk-1.js', './re.js', './side.js']);
  });
});

describe('EU limits (municipal view)', () => {
  it('classifies days against the daily limits in force and from 2030; a day needs 18 hours', () => {
    expect(DAILY_LIMITS.pm10.now?.valueUgM3).toBe(50);
    expect(DAILY_LIMITS.pm10.from2030.valueUgM3).toBe(45);
    expect(DAILY_LIMITS.pm25.now).toBeNull();
    expect(DAILY_LIMITS.pm25.from2030.valueUgM3).toBe(25);
    expect(classifyDay('pm10', 50.1, 24)).toBe('above_now');
    expect(classifyDay('pm10', 50, 24)).toBe('above_2030');
    expect(classifyDay('pm10', 45, 24)).toBe('below');
    expect(classifyDay('pm10', 80, 17)).toBe('invalid');
    expect(classifyDay('pm10', null, 24)).toBe('invalid');
    expect(classifyDay('pm25', 40, 18)).toBe('above_2030');
    expect(classifyDay('pm25', 25, 18)).toBe('below');
  });
  it('counts valid days strictly above a limit', () => {
    const days = [
      { mean: 51, hours: 24 },
      { mean: 50, hours: 24 },
      { mean: 90, hours: 17 },
      { mean: null, hours: 0 },
      { mean: 46, hours: 18 },
    ];
    expect(countExceedances(days, 50)).toBe(1);
    expect(countExceedances(days, 45)).toBe(3);
  });
});

describe('operator helpers', () => {
  it('levels follow the API thresholds (30 min warn, 2 h crit without a profile)', () => {
    expect(levelSinceLast(60)).toBe('ok');
    expect(levelSinceLast(30 * 60 + 1)).toBe('warn');
    expect(levelSinceLast(2 * 3600 + 1)).toBe('crit');
    expect(levelSinceLast(null)).toBe('crit');
    expect(levelCompleteness(null)).toBe('ok');
    expect(levelCompleteness(0.7)).toBe('warn');
    expect(levelCompleteness(0.4)).toBe('crit');
    expect(levelSuccess(0.95)).toBe('ok');
    expect(levelSuccess(0.85)).toBe('warn');
    expect(worst('ok', 'warn', 'ok')).toBe('warn');
    expect(worst('warn', 'crit')).toBe('crit');
  });
  it('formats durations', () => {
    expect(formatDuration(45)).toBe('45 s');
    expect(formatDuration(725)).toBe('12 min 5 s');
    expect(formatDuration(3 * 3600 + 20 * 60)).toBe('3 h 20 min');
    expect(formatDuration(2 * 86400 + 4 * 3600)).toBe('2 d 4 h');
    expect(formatDuration(null)).toBe('–');
  });
  it('turns /health records into numeric series', () => {
    const s = healthSeries([
      { time: '2018-01-19T16:00:00Z', values: { 'laser.energy_mj': 40, flag: 'rain', 'pipeline.received': 1 } },
      { time: '2018-01-19T16:01:00Z', values: { 'laser.energy_mj': 38, 'pipeline.received': 3, bad: null } },
    ]);
    expect(s.map((x) => x.name)).toEqual(['laser.energy_mj', 'pipeline.received']);
    expect(s[0]).toMatchObject({ values: [40, 38], last: 38, min: 38, max: 40 });
  });
});

/** A curtain v1 buffer as the API writes it (docs/api.md "Curtain binary format"). */
function curtainBuffer(W: number, H: number, fill: (col: number, row: number) => number): ArrayBuffer {
  const buf = new ArrayBuffer(32 + 16 * W + 4 * H + 4 * W * H);
  const dv = new DataView(buf);
  'LPMC'.split('').forEach((ch, i) => dv.setUint8(i, ch.charCodeAt(0)));
  dv.setUint16(4, 1, true);
  dv.setUint16(6, 32, true);
  dv.setUint32(8, W, true);
  dv.setUint32(12, H, true);
  dv.setUint32(16, 7, true);
  dv.setFloat32(20, 600, true);
  dv.setFloat32(24, 2600, true);
  const times = new Float64Array(buf, 32, W);
  for (let c = 0; c < W; c++) times[c] = Date.parse('2018-01-19T16:00:00Z') + c * 300_000;
  const heights = new Float32Array(buf, 32 + 8 * W, H);
  for (let r = 0; r < H; r++) heights[r] = 600 + (r + 0.5) * (2000 / H);
  const values = new Float32Array(buf, 32 + 8 * W + 4 * H, W * H);
  for (let c = 0; c < W; c++) for (let r = 0; r < H; r++) values[c * H + r] = fill(c, r);
  new Float32Array(buf, 32 + 8 * W + 4 * H + 4 * W * H, W).fill(NaN);
  new Float32Array(buf, 32 + 12 * W + 4 * H + 4 * W * H, W).fill(1500);
  return buf;
}

describe('curtain (scientist view)', () => {
  it('decodes the f32 layout and refuses other bytes', () => {
    const c = decodeCurtain(curtainBuffer(3, 2, (col, row) => col * 10 + row));
    expect([c.width, c.height, c.profilesUsed, c.heightMinM, c.heightMaxM]).toEqual([3, 2, 7, 600, 2600]);
    expect(Array.from(c.values)).toEqual([0, 1, 10, 11, 20, 21]);
    expect(c.times[1] - c.times[0]).toBe(300_000);
    expect(Number.isNaN(c.pbl[0])).toBe(true);
    expect(c.cloud[2]).toBe(1500);
    const bad = curtainBuffer(3, 2, () => 0);
    new DataView(bad).setUint8(0, 0x58);
    expect(() => decodeCurtain(bad)).toThrow(/magic/);
    const v3 = curtainBuffer(3, 2, () => 0);
    new DataView(v3).setUint16(4, 3, true);
    expect(() => decodeCurtain(v3)).toThrow(/version 3/);
    expect(() => decodeCurtain(curtainBuffer(3, 2, () => 0).slice(0, 60))).toThrow(/expected/);
  });
  it('holds a profile until the next one, at most the gap', () => {
    // columns 5 min apart; data in 0 and 4; hold 10 min: 1, 2 show 0; 3 is 15 min after 0
    const c = decodeCurtain(curtainBuffer(6, 2, (col) => (col === 0 || col === 4 ? 1 : NaN)));
    expect(Array.from(holdColumns(c, 10 * 60_000))).toEqual([0, 0, 0, -1, 4, 4]);
  });
  it('maps values to colour positions on log and linear scales; missing and non-positive (log) are NaN', () => {
    expect(colourPosition(1, 0.1, 10, true)).toBeCloseTo(0.5, 12);
    expect(colourPosition(100, 0.1, 10, true)).toBe(1);
    expect(colourPosition(0, 0.1, 10, true)).toBeNaN();
    expect(colourPosition(NaN, 0, 10, false)).toBeNaN();
    expect(colourPosition(2.5, 0, 10, false)).toBe(0.25);
    expect(colourPosition(-1, 0, 10, false)).toBe(0);
  });
  it('log ticks, quantiles and the jet map', () => {
    expect(logTicks(0.05, 50)).toEqual([0.1, 1, 10]);
    expect(logTicks(1, 10)).toEqual([1, 2, 5, 10]);
    expect(logTicks(0, 10)).toEqual([]);
    expect(quantile([5, NaN, -1, 1, 3], 0.5, true)).toBe(3);
    expect(quantile([NaN], 0.5, false)).toBeNull();
    expect(jet(0)).toEqual([0, 0, 128]);
    expect(jet(1)).toEqual([128, 0, 0]);
    expect(jet(0.5)).toEqual([128, 255, 128]);
  });
});

describe('profile inspector helpers', () => {
  it('applies the edited fields to the stored set, which stays a valid parameter set', () => {
    const stored = { pm: { angstrom: 1.2 }, monte_carlo: 10 };
    const out = applyFields(stored, { lidarRatioSr: 60, smoothingM: 15, fullOverlapM: 250, meePm10: 4, meePm25: null, gamma: 0.4, rh: null });
    expect(out).toEqual({ pm: { angstrom: 1.2, mee_pm10: 4, gamma: 0.4 }, monte_carlo: 10, lidar_ratio_sr: 60, smoothing_m: 15, overlap: { full_overlap_m: 250 } });
    expect(stored).toEqual({ pm: { angstrom: 1.2 }, monte_carlo: 10 });
    const r = resolveParams(out);
    expect([r.lidarRatioSr, r.smoothingM, r.pm.meePm10, r.pm.gamma, r.pm.angstrom]).toEqual([60, 15, 4, 0.4, 1.2]);
    expect(applyFields({}, { lidarRatioSr: null, smoothingM: null, fullOverlapM: null, meePm10: null, meePm25: null, gamma: null, rh: null })).toEqual({});
  });
  it('compares profiles bin by bin', () => {
    const c = compareProfiles([1, 2, null, 4], [1, 2.2, 3, null]);
    expect([c.n, c.onlyOne]).toEqual([2, 2]);
    expect(c.maxRel).toBeCloseTo(0.2 / 2.2, 12);
    expect(compareProfiles([], [])).toEqual({ n: 0, onlyOne: 0, maxRel: 0, meanRel: 0 });
  });
  it('golden-section search finds the minimum of a unimodal function', async () => {
    const calls: number[] = [];
    const r = await goldenMin(async (x) => (calls.push(x), (x - Math.log(4.7e13)) ** 2), Math.log(3e13) - Math.LN10, Math.log(3e13) + Math.LN10, 40);
    expect(Math.exp(r.x) / 4.7e13).toBeCloseTo(1, 6);
    expect(calls.length).toBe(42);
  });
  it('guesses a lidar constant from rcs and backscatter near the lidar', () => {
    const beta = [null, 2e-5, 2.2e-5, 1.8e-5];
    const rcs = beta.map((b) => (b === null ? null : 5e13 * (b + 1.5e-6)));
    expect(constantGuess(rcs, beta)).toBeCloseTo(5e13, -8);
    expect(constantGuess([null], [null])).toBeNull();
  });
});

describe('PPI geometry (ppi.ts)', () => {
  const ray = (az: number, values: Array<number | null>, el = 0, start = 0, step = 100): ScanRay => ({ azimuth_deg: az, elevation_deg: el, range_start_m: start, range_step_m: step, values });

  it('maps azimuths to canvas angles: north up, east right, clockwise', () => {
    const at = (az: number) => [Math.cos(canvasAngle(az)), Math.sin(canvasAngle(az))].map((v) => Math.round(v * 1e9) / 1e9 + 0);
    expect(at(0)).toEqual([0, -1]); // north: up (canvas y grows downwards)
    expect(at(90)).toEqual([1, 0]); // east: right
    expect(at(180)).toEqual([0, 1]);
    expect(at(270)).toEqual([-1, 0]);
  });

  it('gives each ray half the gap to its nearer neighbour, in any order; one ray +-0.5 deg', () => {
    expect(rayHalfWidthsDeg([10, 12, 16])).toEqual([1, 1, 2]);
    expect(rayHalfWidthsDeg([16, 10, 12])).toEqual([2, 1, 1]);
    expect(rayHalfWidthsDeg([40])).toEqual([0.5]);
  });

  it('puts bin i at its horizontal distance (slant range x cos elevation), skipping bins before the origin', () => {
    const r = ray(0, [1, 2, 3], 60, -100, 100);
    expect(binRadiiM(r, 0)).toBeNull(); // [-150, -50] m: pre-trigger
    const [a, b] = binRadiiM(r, 2)!;
    expect(a).toBeCloseTo(25, 9); // slant 50..150 m at 60 deg: horizontal 25..75 m
    expect(b).toBeCloseTo(75, 9);
    expect(maxHorizontalRangeM([r])).toBeCloseTo(75, 9);
  });

  it('merges runs of one colour class along a ray and keeps every bin covered', () => {
    const rays = [ray(0, [1, 1, null, 5, 5, 5]), ray(2, [9, null, null, 1, 1, 1])];
    const classOf = (v: number | null) => (v === null ? -1 : v);
    const runs = sectorRuns(rays, 0.01, classOf);
    // ray 0: [1,1] [null] [5,5,5]; ray 1: [9] [null,null] [1,1,1]
    expect([...runs.keys()].sort((a, b) => a - b)).toEqual([-1, 1, 5, 9]);
    expect(runs.get(1)!.length / 4).toBe(2);
    expect(runs.get(-1)!.length / 4).toBe(2);
    // total radial extent = all bins (6 x 100 m x 0.01 px/m per ray, first bin starts at 0)
    let covered = 0;
    for (const list of runs.values()) for (let i = 0; i < list.length; i += 4) covered += list[i + 3] - list[i + 2];
    expect(covered).toBeCloseTo(2 * 5.5, 9);
    // sector angles: ray at 0 deg with half-width 1 deg
    const five = runs.get(5)!;
    expect(five[0]).toBeCloseTo(canvasAngle(-1), 12);
    expect(five[1]).toBeCloseTo(canvasAngle(1), 12);
    expect(five[2]).toBeCloseTo(2.5, 9);
    expect(five[3]).toBeCloseTo(5.5, 9);
  });
});

describe('operator thresholds (ops.ts, one table)', () => {
  it('applies above/below rules at their edges (strictly beyond the edge)', () => {
    const lag = THRESHOLDS.ingestLag;
    expect([lag.warn - 1, lag.warn, lag.warn + 1, lag.crit, lag.crit + 1].map((v) => levelIngestLag(v))).toEqual(['ok', 'ok', 'warn', 'warn', 'crit']);
    const q = THRESHOLDS.queueDepth;
    expect([0, q.warn, q.warn + 1, q.crit + 1].map((v) => levelQueue(v))).toEqual(['ok', 'ok', 'warn', 'crit']);
    const ok = THRESHOLDS.retrievalSuccess;
    expect([1, ok.warn, ok.warn - 0.01, ok.crit - 0.01].map((v) => levelSuccess(v))).toEqual(['ok', 'ok', 'warn', 'crit']);
    expect(levelSinceLast(THRESHOLDS.sinceLastProfile.crit + 1)).toBe('crit');
    expect(levelSinceLast(null)).toBe('crit'); // never a profile
    expect(levelIngestLag(null)).toBe('ok'); // nothing measured yet
    expect(levelCompleteness(Number.NaN)).toBe('ok');
  });

  it('drift rules compare with the reference (24 h median); no reference is ok', () => {
    const hv = THRESHOLDS.detectorHv;
    expect(levelOf(hv, 1000, 1000)).toBe('ok');
    expect(levelOf(hv, 1000 * (1 + hv.warn * 1.5), 1000)).toBe('warn');
    expect(levelOf(hv, 1000 * (1 - hv.crit * 1.5), 1000)).toBe('crit');
    expect(levelOf(hv, 1000, null)).toBe('ok');
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBeNull();
  });

  it('finds the housekeeping rule by field name and rates the last value', () => {
    expect(housekeepingRule('laser.energy_mj')?.id).toBe('laser_energy');
    expect(housekeepingRule('laserEnergyMj')?.id).toBe('laser_energy');
    expect(housekeepingRule('temperatures.laser_head_c')?.id).toBe('temperature');
    expect(housekeepingRule('detector.pmt1.hv')?.id).toBe('detector_hv');
    expect(housekeepingRule('high_voltage_v')?.id).toBe('detector_hv');
    expect(housekeepingRule('pipeline.processed')).toBeNull();
    expect(housekeepingRule('shutter_open')).toBeNull();
    const t = THRESHOLDS.temperature;
    expect(levelHousekeeping({ name: 'temperatures.box_c', values: [20, t.warn + 1], last: t.warn + 1 })).toBe('warn');
    expect(levelHousekeeping({ name: 'temperatures.box_c', values: [20, t.crit + 1], last: t.crit + 1 })).toBe('crit');
    const e = THRESHOLDS.laserEnergy;
    expect(levelHousekeeping({ name: 'laser.energy_mj', values: [50, 50, 50, 50 * (1 - e.crit - 0.05)], last: 50 * (1 - e.crit - 0.05) })).toBe('crit');
    expect(levelHousekeeping({ name: 'laser.energy_mj', values: [50, 50, 49], last: 49 })).toBe('ok');
    expect(levelHousekeeping({ name: 'anything_else', values: [1e9], last: 1e9 })).toBe('ok');
  });

  it('time since the last profile also counts on the page clock', () => {
    const last = '2026-01-01T10:00:00.000Z';
    const t0 = Date.parse(last);
    expect(sinceLastS(60, last, t0 + 60_000)).toBe(60);
    expect(sinceLastS(60, last, t0 + 3 * 3_600_000)).toBe(3 * 3600); // page kept open, no updates
    expect(sinceLastS(600, last, t0)).toBe(600); // the API's figure when larger
    expect(sinceLastS(null, null, t0)).toBeNull();
    expect(sinceLastS(null, last, t0 + 1000)).toBe(1);
  });
});
