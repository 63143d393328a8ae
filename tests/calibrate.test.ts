// MEE / gamma calibration against an AQ station (processing/retrieval/calibrate.ts): the robust fits
// on known answers, pairing and hourly means on hand-made profiles, the station CSV, and end to end
// against the simulator's truth (winter scenario fixtures, a wrong MEE in, the truth's MEE out).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRng } from '../processing/random.js';
import { LidarError } from '../processing/errors.js';
import { resolveParams } from '../processing/retrieval/params.js';
import { QC } from '../processing/retrieval/qc.js';
import { humidityGrowth } from '../processing/retrieval/pm.js';
import { retrieveFile } from '../processing/retrieval/retrieve.js';
import { terrainHeightM } from '../processing/geometry/terrain.js';
import { getScenario } from '../processing/simulate/scenarios.js';
import {
  calibrate,
  calibrationReport,
  distanceM,
  findAqStation,
  pairBins,
  parseAqCsv,
  profilesFromProductsJson,
  robustLine,
  robustSlopeThroughOrigin,
  type AqStation,
  type CalibrationProfile,
} from '../processing/retrieval/calibrate.js';
import { contextFor, fixtureFile, readTruth, terrain, truthArray } from './retrieval-truth.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

function thrown(f: () => unknown): LidarError {
  try {
    f();
  } catch (e) {
    if (e instanceof LidarError) return e;
    throw e;
  }
  throw new Error('expected a LidarError');
}

describe('robust regression', () => {
  it('recovers the slope through the origin exactly without noise (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-7, max: 1e-4, noNaN: true }), fc.array(fc.double({ min: 1, max: 500, noNaN: true }), { minLength: 1, maxLength: 40 }), (b, x) => {
        const fit = robustSlopeThroughOrigin(x, x.map((v) => b * v));
        expect(fit.slope).toBeCloseTo(b, 18);
        expect(Math.abs(fit.slope / b - 1)).toBeLessThan(1e-12);
      }),
    );
  });

  it('recovers a line exactly without noise', () => {
    const x = [0.1, 0.3, 0.35, 0.6, 0.9, 1.2];
    const fit = robustLine(x, x.map((v) => 1.25 - 0.62 * v));
    expect(fit.slope).toBeCloseTo(-0.62, 12);
    expect(fit.intercept).toBeCloseTo(1.25, 12);
  });

  it('with noise: ~95% of the fits within 2 standard errors, and the standard error matches the scatter of repeated fits', () => {
    const rng = createRng(42);
    const b = 3.5e-6;
    const estimates: number[] = [];
    const sigmas: number[] = [];
    let within2 = 0;
    for (let rep = 0; rep < 300; rep++) {
      const x = Array.from({ length: 40 }, () => 20 + 200 * rng.uniform());
      const y = x.map((v) => b * v * (1 + 0.1 * rng.normal()));
      const fit = robustSlopeThroughOrigin(x, y);
      if (Math.abs(fit.slope - b) < 2 * fit.slopeSigma) within2++;
      estimates.push(fit.slope);
      sigmas.push(fit.slopeSigma);
    }
    const mean = estimates.reduce((s, v) => s + v, 0) / estimates.length;
    const sd = Math.sqrt(estimates.reduce((s, v) => s + (v - mean) ** 2, 0) / (estimates.length - 1));
    const meanSigma = sigmas.reduce((s, v) => s + v, 0) / sigmas.length;
    // ~95% of the estimates within 2 standard errors of the true slope.
    expect(within2 / 300).toBeGreaterThan(0.9);
    expect(within2 / 300).toBeLessThan(0.99);
    expect(Math.abs(mean / b - 1)).toBeLessThan(0.005);
    expect(meanSigma / sd).toBeGreaterThan(0.75);
    expect(meanSigma / sd).toBeLessThan(1.33);
  });

  it('resists 20% gross outliers (ordinary least squares does not)', () => {
    const rng = createRng(7);
    const b = 3.5e-6;
    const x = Array.from({ length: 50 }, () => 20 + 200 * rng.uniform());
    const y = x.map((v, i) => b * v * (1 + 0.05 * rng.normal()) * (i % 5 === 0 ? 4 + 4 * rng.uniform() : 1));
    const fit = robustSlopeThroughOrigin(x, y);
    const ols = x.reduce((s, v, i) => s + v * y[i], 0) / x.reduce((s, v) => s + v * v, 0);
    expect(Math.abs(fit.slope / b - 1)).toBeLessThan(0.03);
    expect(ols / b - 1).toBeGreaterThan(0.5);
    expect(Array.from(fit.weights).filter((w) => w < 1).length).toBeGreaterThanOrEqual(10);
  });

  it('rejects degenerate input with a coded error', () => {
    expect(thrown(() => robustSlopeThroughOrigin([0, 0], [1, 2])).code).toBe('LIDAR_ERR_BAD_VALUE');
    expect(thrown(() => robustLine([1, 1, 1], [1, 2, 3])).message).toMatch(/do not vary/);
    expect(thrown(() => robustSlopeThroughOrigin([1, NaN], [1, 2])).message).toMatch(/point 1/);
  });
});

describe('station CSV', () => {
  it('parses times with Z, offsets and a naive zone; empty fields are missing', () => {
    const csv = 'time,pm10,pm25,rh\n2018-01-19T16:00Z,80.5,40,0.7\n2018-01-19T19:00+02:00,,41,\n2018-01-19T18:00:00,90,,0.8\n';
    const s = parseAqCsv(csv, 'a.csv');
    expect(s.hasPm25 && s.hasRh).toBe(true);
    expect(s.hours.map((h) => new Date(h.timeMs).toISOString())).toEqual(['2018-01-19T16:00:00.000Z', '2018-01-19T17:00:00.000Z', '2018-01-19T18:00:00.000Z']);
    expect(s.hours[1].pm10).toBeNaN();
    expect(s.hours[1].pm25).toBe(41);
    expect(s.hours[1].rh).toBeNaN();
    // Naive times in a zone (EET, UTC+2 in January).
    const z = parseAqCsv('pm10,time\r\n12,2018-01-19T18:00\r\n', 'b.csv', 'Europe/Sofia');
    expect(z.hasPm25).toBe(false);
    expect(new Date(z.hours[0].timeMs).toISOString()).toBe('2018-01-19T16:00:00.000Z');
  });

  it('names the file, byte offset, line and field of bad input', () => {
    const e1 = thrown(() => parseAqCsv('time,pm10\n2018-01-19T16:00Z,1\n2018-13-19T16:00Z,2\n', 'x.csv'));
    expect(e1.code).toBe('LIDAR_ERR_BAD_VALUE');
    expect(e1.file).toBe('x.csv');
    expect(e1.field).toBe('time');
    expect(e1.offset).toBe(30);
    expect(e1.message).toMatch(/^x\.csv, byte 30, field time: line 3: invalid time/);
    const e2 = thrown(() => parseAqCsv('time,pm10\n2018-01-19T16:00Z,abc\n', 'x.csv'));
    expect(e2.field).toBe('pm10');
    expect(e2.message).toMatch(/line 2: invalid pm10: "abc"/);
    expect(thrown(() => parseAqCsv('time,pm10,rh\n2018-01-19T16:00Z,5,70\n', 'x.csv')).message).toMatch(/field rh: line 2: .*not percent/);
    expect(thrown(() => parseAqCsv('time,pm10,no2\n', 'x.csv')).message).toMatch(/field no2: line 1: unknown column "no2"/);
    expect(thrown(() => parseAqCsv('time,pm25\n', 'x.csv')).message).toMatch(/missing column "pm10"/);
    expect(thrown(() => parseAqCsv('time,pm10\n2018-01-19T16:30Z,5\n', 'x.csv')).message).toMatch(/line 2: .*not the start of a UTC hour/);
    expect(thrown(() => parseAqCsv('time,pm10\n2018-01-19T16:00Z,5\n2018-01-19T18:00+02:00,6\n', 'x.csv')).message).toMatch(/line 3: duplicate hour 2018-01-19T16:00:00Z \(also on line 2\)/);
    expect(thrown(() => parseAqCsv('time,pm10\n2018-01-19T16:00Z\n', 'x.csv')).message).toMatch(/line 2: expected 2 fields, found 1/);
    expect(thrown(() => parseAqCsv('time,pm10\n2018-01-19T16:00,5\n', 'x.csv', 'Mars/Base')).message).toMatch(/unknown time zone/);
    expect(thrown(() => parseAqCsv('', 'x.csv')).message).toMatch(/empty file/);
  });
});

describe('AQ station list', () => {
  const file = join(import.meta.dirname, '..', 'config', 'aq-stations', 'sofia.json');
  const json = JSON.parse(readFileSync(file, 'utf8'));
  it('has the Sofia stations with positions, ground heights and the source', () => {
    expect(json.source).toMatch(/ExEA/);
    expect(json.source).toMatch(/EEA/);
    const m = findAqStation(json, 'bg0079a', file);
    expect(m).toMatchObject({ id: 'BG0079A', name: 'Sofia - Mladost', groundM: 587 });
    // ~0.7 km from the lidar (42.65 N, 23.38 E).
    expect(distanceM(42.65, 23.38, m.lat, m.lon)).toBeGreaterThan(550);
    expect(distanceM(42.65, 23.38, m.lat, m.lon)).toBeLessThan(750);
    expect(json.stations.map((s: { id: string }) => s.id)).toEqual(['BG0040A', 'BG0050A', 'BG0052A', 'BG0073A', 'BG0079A', 'BG0070A', 'BG0054A']);
    const e = thrown(() => findAqStation(json, 'BG9999A', file));
    expect(e.code).toBe('LIDAR_ERR_NOT_FOUND');
    expect(e.message).toMatch(/unknown AQ station 'BG9999A' \(known: BG0040A, /);
  });
});

// Hand-made profiles: a horizontal beam due east from (42.65, 23.38), ground 600 m, 10 m bins.
const ORIGIN = { lat: 42.65, lon: 23.38 };
const M_PER_DEG_LON = 111_194.9 * Math.cos((42.65 * Math.PI) / 180);
function handProfile(time: string, alpha: (i: number) => number, opts: { elevationDeg?: number; wavelengthNm?: number; qc?: (i: number) => number; heightM?: number } = {}): CalibrationProfile {
  const n = 120;
  const rangeM = Array.from({ length: n }, (_, i) => (i - 10) * 10 + 5);
  return {
    timeStartUtc: time,
    timeEndUtc: time.replace(/:00Z$/, ':30Z'),
    elevationDeg: opts.elevationDeg ?? 1,
    wavelengthNm: opts.wavelengthNm ?? 532,
    rangeM,
    heightM: rangeM.map(() => opts.heightM ?? 620),
    lat: rangeM.map(() => ORIGIN.lat),
    lon: rangeM.map((r) => ORIGIN.lon + r / M_PER_DEG_LON),
    alphaAer: rangeM.map((_, i) => alpha(i)),
    qc: rangeM.map((_, i) => (opts.qc ? opts.qc(i) : 0)),
  };
}
// Station 600 m east of the origin: bins with range 100..1100 m lie within 500 m (i = 20..119, of which r <= 1100: i <= 119).
const HAND_STATION: AqStation = { id: 'T', name: 'test', lat: ORIGIN.lat, lon: ORIGIN.lon + 600 / M_PER_DEG_LON, groundM: 600 };
const ground600 = () => 600;

describe('pairing and hourly means', () => {
  const params = resolveParams({ pm: { mee_pm10: 5, gamma: 0.5, rh: 0.6, angstrom: 1.3 } });
  const toDry = Math.pow(532 / 550, 1.3) / humidityGrowth(0.6, 0.5);

  it('averages the valid bins near the station per UTC hour, converted to dry 550 nm', () => {
    const profiles = [
      handProfile('2018-01-19T16:10:00Z', () => 1e-4),
      handProfile('2018-01-19T16:40:00Z', () => 3e-4, { qc: (i) => (i === 30 ? QC.LOW_SNR : i === 31 ? QC.OVERLAP : i === 32 ? QC.NEGATIVE : 0) }),
      handProfile('2018-01-19T17:05:00Z', () => 2e-4),
      handProfile('2018-01-19T17:06:00Z', () => 9, { elevationDeg: 20 }), // not near-horizontal
      handProfile('2018-01-19T17:07:00Z', () => 9, { wavelengthNm: 1064 }), // another channel
      handProfile('2018-01-19T17:08:00Z', () => 9, { heightM: 800 }), // 200 m above the ground
      handProfile('2018-01-19T18:05:00Z', (i) => (i < 115 ? NaN : 1e-4)), // 5 bins only
    ];
    const { hours, diagnostics } = pairBins(profiles, HAND_STATION, params, { groundM: ground600 });
    expect(diagnostics.wavelengthNm).toBe(532);
    expect(diagnostics.nearHorizontal).toBe(5);
    // Bins within 500 m: ranges 105..1095 m (i = 20..119) -> 100 per profile.
    expect(diagnostics.binsInRadius).toBe(5 * 100);
    expect(diagnostics.nearestM).toBeLessThan(6);
    expect(hours.map((h) => new Date(h.timeMs).toISOString())).toEqual(['2018-01-19T16:00:00.000Z', '2018-01-19T17:00:00.000Z']);
    expect(hours[0].nBins).toBe(100 + 98);
    expect(hours[0].nProfiles).toBe(2);
    expect(hours[0].alphaDry550).toBeCloseTo(((100 * 1e-4 + 98 * 3e-4) / 198) * toDry, 15);
    expect(hours[0].alphaWet550).toBeCloseTo(((100 * 1e-4 + 98 * 3e-4) / 198) * Math.pow(532 / 550, 1.3), 15);
    expect(hours[1].alphaDry550).toBeCloseTo(2e-4 * toDry, 15);
    expect(diagnostics.hoursWithBins).toBe(3);
    expect(diagnostics.hoursEnough).toBe(2);
    // A smaller radius, the station ground when the DEM has none, min-bins.
    expect(pairBins(profiles.slice(0, 1), HAND_STATION, params, { radiusM: 100 }).hours[0].nBins).toBe(20);
    expect(pairBins(profiles, HAND_STATION, params, { minBins: 5 }).hours).toHaveLength(3);
    expect(pairBins(profiles, { ...HAND_STATION, groundM: null }, params, {}).diagnostics.binsNoGround).toBe(5 * 100);
  });

  it('fits the MEE from hand-made hours and reports the statistics; says why when too few hours pair', () => {
    const mee = 3.5;
    const pm = [50, 80, 120, 200];
    const profiles = pm.map((v, k) => handProfile(`2018-01-19T${String(16 + k).padStart(2, '0')}:10:00Z`, () => (mee * v * 1e-6) / toDry));
    const aq = parseAqCsv('time,pm10,pm25\n' + pm.map((v, k) => `2018-01-19T${16 + k}:00Z,${v},${v / 2}`).join('\n'), 'aq.csv');
    const r = calibrate(profiles, aq, HAND_STATION, params, { groundM: ground600 });
    expect(r.n_hours).toBe(4);
    expect(r.pm10.mee_m2_per_g).toBeCloseTo(3.5, 10);
    expect(r.pm25!.mee_m2_per_g).toBeCloseTo(7, 10);
    expect(r.pm10.rmse_ug_m3).toBeLessThan(1e-9);
    expect(r.pm10.r2).toBeCloseTo(1, 12);
    expect(r.params.pm.meePm10).toBeCloseTo(3.5, 10);
    expect(r.params.pm.gamma).toBe(0.5);
    const report = calibrationReport(r, HAND_STATION, { paramsId: 'p-x', fittedAt: '2026-01-01T00:00:00Z', options: {} });
    const pmOut = (report.params as { pm: Record<string, number> }).pm;
    expect(pmOut.mee_pm10).toBeCloseTo(3.5, 10);
    expect(pmOut.mee_pm25).toBeCloseTo(7, 10);
    expect(pmOut).toMatchObject({ gamma: 0.5, rh: 0.6, angstrom: 1.3 });
    expect(resolveParams(report.params).pm.meePm10).toBeCloseTo(3.5, 10);
    expect(report.params_id).toMatch(/^p-[0-9a-f]{16}$/);
    expect(report.calibration.stats.hours).toHaveLength(4);

    const short = parseAqCsv('time,pm10\n2018-01-19T16:00Z,50\n2018-01-19T17:00Z,80\n2018-01-20T00:00Z,1\n', 'aq.csv');
    const e = thrown(() => calibrate(profiles, short, HAND_STATION, params, { groundM: ground600 }));
    expect(e.message).toMatch(/only 2 paired hours \(need >= 3\)/);
    const far = { ...HAND_STATION, id: 'FAR', lat: 42.7 };
    expect(thrown(() => calibrate(profiles, aq, far, params, { groundM: ground600 })).message).toMatch(/only 0 paired hours .*no bins within 500 m of FAR \(nearest bin 5\d\d\d m away\)/);
    const other = parseAqCsv('time,pm10\n2019-01-19T16:00Z,50\n', 'aq.csv');
    expect(thrown(() => calibrate(profiles, other, HAND_STATION, params, { groundM: ground600 })).message).toMatch(/no overlapping hours: lidar 2018-01-19T16:00:00Z\.\.2018-01-19T19:00:00Z, station PM 2019-01-19T16:00:00Z/);
  });

  it('fits gamma from hours with different RH', () => {
    const mee = 3.5;
    const gamma = 0.62;
    const rows = [
      [40, 0.3],
      [90, 0.5],
      [60, 0.65],
      [150, 0.8],
      [110, 0.9],
    ] as const;
    // Ambient extinction = MEE * PM * f(RH) at the station's RH, at 532 nm.
    const profiles = rows.map(([v, rh], k) => handProfile(`2018-01-19T${String(10 + k).padStart(2, '0')}:10:00Z`, () => (mee * v * 1e-6 * humidityGrowth(rh, gamma)) / Math.pow(532 / 550, 1.3)));
    const aq = parseAqCsv('time,pm10,rh\n' + rows.map(([v, rh], k) => `2018-01-19T${10 + k}:00Z,${v},${rh}`).join('\n'), 'aq.csv');
    const r = calibrate(profiles, aq, HAND_STATION, params, { groundM: ground600, fitGamma: true });
    expect(r.gamma!.gamma).toBeCloseTo(gamma, 10);
    expect(r.gamma!.mee_dry_m2_per_g).toBeCloseTo(mee, 10);
    expect(r.params.pm.gamma).toBeCloseTo(gamma, 10);
    // The MEE fit uses the new gamma at the station's hourly RH: the dry MEE.
    expect(r.pm10.mee_m2_per_g).toBeCloseTo(mee, 10);
    expect(thrown(() => calibrate(profiles, parseAqCsv('time,pm10\n2018-01-19T10:00Z,5', 'a.csv'), HAND_STATION, params, { fitGamma: true })).message).toMatch(/needs an rh column/);
  });

  it('reads the products JSON of lidar-pm retrieve --json and names a bad field', () => {
    const p = handProfile('2018-01-19T16:10:00Z', () => 1e-4);
    const json = { profiles: [{ time_start: p.timeStartUtc, time_end: p.timeEndUtc, elevation_deg: 1, channel: { wavelength_nm: 532 }, range_m: p.rangeM, height_m: p.heightM, lat: p.lat, lon: p.lon, alpha_aer: Array.from(p.alphaAer, (v, i) => (i === 50 ? null : v)), qc: p.qc, params_id: 'p-1' }], errors: [] };
    const [q] = profilesFromProductsJson(json, 'prod.json');
    expect(q.alphaAer[50]).toBeNull();
    expect(pairBins([q], HAND_STATION, params, { groundM: ground600 }).hours[0].nBins).toBe(99);
    const bad = { profiles: [{ ...json.profiles[0], lat: [1, 2] }] };
    expect(thrown(() => profilesFromProductsJson(bad, 'prod.json')).message).toMatch(/^prod\.json, field profiles\[0\]\.lat: invalid profiles\[0\]\.lat: length 2/);
    expect(thrown(() => profilesFromProductsJson({ foo: 1 }, 'prod.json')).message).toMatch(/not a products JSON/);
  });
});

describe('end to end against the simulator truth (winter scenario, Mladost BG0079A)', () => {
  const scenario = 'sofia-winter-inversion';
  const truth = readTruth(scenario);
  const spec = getScenario(scenario);
  const pc532 = truth.instrument.channels.find((c) => c.kind === 'photon' && c.wavelength_nm === 532)!.lidar_constant;
  const stations = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'config', 'aq-stations', 'sofia.json'), 'utf8'));
  const mladost = findAqStation(stations, 'BG0079A');

  it('a wrong MEE (5.0) in, the truth MEE (3.5) out within a few percent', () => {
    // Calibration mode with the truth's lidar constant, the truth's aerosol model except a wrong MEE.
    const ctx = contextFor(spec, truth, { reference: { mode: 'calibration', lidar_constant: pc532 }, pm: { mee_pm10: 5.0, mee_pm25: 6, gamma: truth.aerosol_model.gamma, rh: truth.aerosol_model.rh, angstrom: truth.aerosol_model.angstrom } });
    expect(ctx.params.pm.meePm10).toBe(5);
    const scans = truth.profiles.filter((t) => t.elevation_deg < 15 && (t.azimuth_deg === 340 || t.azimuth_deg === 350));
    expect(scans.length).toBe(16);
    const lidar: CalibrationProfile[] = [];
    const truthPm: CalibrationProfile[] = [];
    for (const t of scans) {
      const p = retrieveFile(fixtureFile(scenario, t.file), t.file, ctx).find((x) => x.channel.wavelengthNm === 532)!;
      const base = { timeStartUtc: p.timeStartUtc, timeEndUtc: p.timeEndUtc, elevationDeg: p.elevationDeg, wavelengthNm: 532, rangeM: p.rangeM, heightM: p.heightM, lat: p.lat, lon: p.lon, qc: p.qc };
      lidar.push({ ...base, alphaAer: p.alphaAer });
      // The 'station' sees the true PM10 at the same bins (same selection: NaN where the product is).
      const pm10 = truthArray(t, 'pm10');
      truthPm.push({ ...base, alphaAer: Array.from(p.alphaAer, (a, i) => (Number.isFinite(a) ? pm10[i] : NaN)) });
    }
    const groundM = (lat: number, lon: number) => terrainHeightM(terrain, lat, lon);
    // Hourly truth PM10 through the same pairing (angstrom 0, gamma 0: the 'extinction' is the PM itself).
    const identity = resolveParams({ pm: { angstrom: 0, gamma: 0, rh: 0 } });
    const station = pairBins(truthPm, mladost, identity, { groundM }).hours;
    expect(station).toHaveLength(2); // the recording spans two UTC hours (16 and 17 h)
    const csv = 'time,pm10\n' + station.map((h) => `${new Date(h.timeMs).toISOString().slice(0, 13)}:00Z,${h.alphaDry550.toFixed(2)}`).join('\n') + '\n';
    const aq = parseAqCsv(csv, 'truth-station.csv');

    // Two hours: the default needs three and says so.
    expect(thrown(() => calibrate(lidar, aq, mladost, ctx.params, { groundM })).message).toMatch(/only 2 paired hours \(need >= 3\): 2 lidar hours with >= 20 bins near BG0079A/);
    const r = calibrate(lidar, aq, mladost, ctx.params, { groundM, minHours: 2 });
    console.log(
      `winter scenario, Mladost: MEE_PM10 ${r.pm10.mee_m2_per_g.toFixed(4)} +/- ${r.pm10.mee_sigma_m2_per_g.toFixed(4)} m2/g (truth ${truth.aerosol_model.mee_pm10}, input 5.0), ` +
        `hours ${r.hours.map((h) => `${h.time} ${h.n_bins} bins station ${h.pm10_station} lidar ${h.pm10_lidar}`).join('; ')}, RMSE ${r.pm10.rmse_ug_m3.toFixed(2)}, bias ${r.pm10.bias_ug_m3.toFixed(2)}`,
    );
    expect(r.n_hours).toBe(2);
    expect(r.diagnostics.binsValid).toBeGreaterThan(200);
    expect(Math.abs(r.pm10.mee_m2_per_g / truth.aerosol_model.mee_pm10 - 1)).toBeLessThan(0.03);
    expect(r.params.pm.meePm10).toBe(r.pm10.mee_m2_per_g);
    expect(r.params.pm.meePm25).toBe(6);
    // The rest of the set is the input's.
    expect(r.params.reference.lidarConstant).toBe(pc532);
    expect(r.params.pm.rh).toBe(truth.aerosol_model.rh);
  });
});
