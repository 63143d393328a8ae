// The named scenarios deliver what their descriptions (and the issue) promise, and their Licel files
// decode to exactly what the simulator produced.
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeLicel } from '../processing/licel/decode.js';
import { physicalValues } from '../processing/licel/physical.js';
import { getScenario, scenarioNames } from '../processing/simulate/scenarios.js';
import { planProfiles, runScenario, simulatePlanned, type ScenarioRun, type TruthProfile } from '../processing/simulate/scenario.js';
import { base64ToFloat32 } from '../processing/encoding/base64.js';
import { beamGeometry, binCentreRangesM } from '../processing/geometry/beam.js';
import { terrainHeightM } from '../processing/geometry/terrain.js';
import { loadTerrain } from '../bin/io.js';
import { mixingTopAslM, pm10At } from '../processing/simulate/aerosol-field.js';

const terrain = loadTerrain();
const runs: Record<string, ScenarioRun> = {};
beforeAll(() => {
  for (const name of scenarioNames()) runs[name] = runScenario(getScenario(name), { seed: 1, terrain });
});

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Truth PM10 within `maxAglM` of the ground along every scan profile, over the city floor (ground < 650 m). */
function nearGroundPm10(name: string, maxAglM: number): Array<{ lat: number; lon: number; pm10: number }> {
  const spec = getScenario(name);
  const ranges = binCentreRangesM(spec.instrument.bins, spec.instrument.binWidthM, spec.instrument.zeroBin);
  const out: Array<{ lat: number; lon: number; pm10: number }> = [];
  for (const p of runs[name].truth.profiles.filter((q) => q.elevation_deg < 10)) {
    const beam = beamGeometry(ranges, { latDeg: spec.station.lat, lonDeg: spec.station.lon, altitudeM: spec.station.altitude_m }, p.azimuth_deg, p.elevation_deg);
    const pm10 = base64ToFloat32(p.arrays.pm10);
    for (let i = 0; i < pm10.length; i += 10) {
      const ground = terrainHeightM(terrain, beam.latDeg[i], beam.lonDeg[i]);
      if (Number.isFinite(pm10[i]) && ground < 650 && beam.heightM[i] - ground < maxAglM) out.push({ lat: beam.latDeg[i], lon: beam.lonDeg[i], pm10: pm10[i] });
    }
  }
  return out;
}

describe('scenario runs', () => {
  it('has the four named scenarios, each with profiles', () => {
    expect(scenarioNames()).toEqual(expect.arrayContaining(['sofia-winter-inversion', 'sofia-summer-convective', 'vertical-clear', 'cloud']));
    for (const name of scenarioNames()) expect(runs[name].files.length).toBe(planProfiles(getScenario(name)).length);
  });

  it('every file decodes to the simulated raw data and header (geometry, time, shots)', () => {
    for (const name of scenarioNames()) {
      const spec = getScenario(name);
      const run = runs[name];
      run.files.forEach((f, k) => {
        const file = decodeLicel(f.bytes, f.name);
        const truth = run.truth.profiles[k];
        expect(file.header.fileName).toBe(f.name);
        expect(file.header.zenithRaw).toBeCloseTo(90 - truth.elevation_deg, 9);
        expect(file.header.azimuthDeg).toBeCloseTo(truth.azimuth_deg, 9);
        expect(file.header.startLocal).toBe(truth.time_start_local);
        expect(file.datasets.map((d) => d.wavelengthNm)).toEqual([532, 532, 1064, 1064]);
        expect(file.datasets.every((d) => d.bins === spec.instrument.bins && d.shots === truth.shots)).toBe(true);
      });
      // Spot-check raw values against a direct simulation of the same profile.
      const p = planProfiles(spec)[1];
      const direct = simulatePlanned(spec, p, terrain, 1);
      expect(decodeLicel(run.files[1].bytes).datasets[1].raw).toEqual(direct.raw[1]);
    }
  });

  it('truth arrays have one value per bin, and Licel physical values reproduce the expected signal within noise', () => {
    const spec = getScenario('vertical-clear');
    const p = planProfiles(spec)[0];
    const noiseFree = simulatePlanned(spec, p, terrain, 1, false);
    const decoded = decodeLicel(runs['vertical-clear'].files[0].bytes);
    const mhz = physicalValues(decoded.datasets[1]);
    // 1-2.5 km: some 10^6 counts in all, so the summed Poisson error is ~0.1%.
    let measured = 0;
    let expected = 0;
    for (let i = spec.instrument.zeroBin + 130; i < spec.instrument.zeroBin + 330; i++) {
      measured += mhz[i];
      expected += noiseFree.expected[1][i];
    }
    expect(Math.abs(measured / expected - 1)).toBeLessThan(0.005);
    for (const t of runs['vertical-clear'].truth.profiles) expect(base64ToFloat32(t.arrays.beta_aer_532).length).toBe(spec.instrument.bins);
  });

  it('sofia-winter-inversion: surface PM10 80-250 in the west and centre, about half in the east', () => {
    const field = getScenario('sofia-winter-inversion').field;
    const surface = (latFrom: number, latTo: number, lonFrom: number, lonTo: number) => {
      const out: number[] = [];
      for (const hour of [18, 19, 20])
        for (let lat = latFrom; lat <= latTo; lat += 0.005)
          for (let lon = lonFrom; lon <= lonTo; lon += 0.005) {
            const ground = terrainHeightM(terrain, lat, lon);
            if (!(ground < 650)) continue; // the city floor, not the slope
            out.push(pm10At(field, lat, lon, ground + 10, ground, hour, mixingTopAslM(field, lat, lon, hour)));
          }
      return out;
    };
    const westCentre = surface(42.67, 42.73, 23.24, 23.33);
    const east = surface(42.64, 42.68, 23.39, 23.45);
    expect(westCentre.length).toBeGreaterThan(50);
    expect(east.length).toBeGreaterThan(20);
    expect(Math.min(...westCentre)).toBeGreaterThanOrEqual(80);
    expect(Math.max(...westCentre)).toBeLessThanOrEqual(250);
    expect(median(westCentre)).toBeGreaterThan(120);
    expect(median(east) / median(westCentre)).toBeGreaterThan(0.3);
    expect(median(east) / median(westCentre)).toBeLessThan(0.7);
    // The scans see it: low-level truth PM10 over the city spans the same levels.
    const scanned = nearGroundPm10('sofia-winter-inversion', 300).map((s) => s.pm10);
    expect(Math.max(...scanned)).toBeGreaterThan(120);
  });

  it('sofia-winter-inversion: inversion 300-500 m above the ground with clean air above it and on the Vitosha slope', () => {
    const spec = getScenario('sofia-winter-inversion');
    const ground = spec.station.ground_altitude_m!;
    const verticals = runs['sofia-winter-inversion'].truth.profiles.filter((p) => p.elevation_deg === 90);
    expect(verticals.length).toBeGreaterThanOrEqual(8);
    for (const v of verticals) {
      expect(v.pbl_height_m - ground).toBeGreaterThan(300);
      expect(v.pbl_height_m - ground).toBeLessThan(500);
      const pm10 = base64ToFloat32(v.arrays.pm10);
      const above = spec.instrument.zeroBin + Math.round((v.pbl_height_m + 200 - spec.station.altitude_m) / spec.instrument.binWidthM);
      expect(pm10[above]).toBeLessThan(10);
    }
    // Beams toward Vitosha meet the slope: at 2 deg on its lower part, inside the polluted layer;
    // at 6 deg above the inversion, where the air just before the hard target is clean.
    const blocked = runs['sofia-winter-inversion'].truth.profiles.filter((p): p is TruthProfile & { terrain_blocked_bin: number } => p.terrain_blocked_bin !== null);
    const slopePm = (elevationDeg: number) =>
      blocked.filter((p) => p.elevation_deg === elevationDeg).map((p) => base64ToFloat32(p.arrays.pm10)[p.terrain_blocked_bin - 3]);
    expect(slopePm(2).length).toBeGreaterThan(10);
    expect(slopePm(6).length).toBeGreaterThan(10);
    expect(median(slopePm(2))).toBeGreaterThan(30);
    expect(median(slopePm(6))).toBeLessThan(15);
  });

  it('sofia-summer-convective: PBL ~2 km above ground, PM10 15-25 near the ground', () => {
    const spec = getScenario('sofia-summer-convective');
    const ground = spec.station.ground_altitude_m!;
    for (const v of runs['sofia-summer-convective'].truth.profiles.filter((p) => p.elevation_deg === 90)) {
      expect(Math.abs(v.pbl_height_m - ground - 2000)).toBeLessThan(300);
    }
    const near = nearGroundPm10('sofia-summer-convective', 150).filter((s) => s.lon > 23.25).map((s) => s.pm10);
    expect(median(near)).toBeGreaterThanOrEqual(15);
    expect(median(near)).toBeLessThanOrEqual(25);
  });

  it('vertical-clear: aerosol-free above 6 km a.s.l.', () => {
    const spec = getScenario('vertical-clear');
    for (const v of runs['vertical-clear'].truth.profiles) {
      const beta = base64ToFloat32(v.arrays.beta_aer_532);
      const first = spec.instrument.zeroBin + Math.ceil((6000 - spec.station.altitude_m) / spec.instrument.binWidthM);
      for (let i = first; i < beta.length; i++) expect(beta[i]).toBe(0);
      expect(beta[spec.instrument.zeroBin + 100]).toBeGreaterThan(0);
    }
  });

  it('cloud: base at 2.6 km a.s.l., PM undefined inside, only background above the optically thick cloud', () => {
    const spec = getScenario('cloud');
    const run = runs.cloud;
    for (const [k, v] of run.truth.profiles.entries()) {
      expect(v.cloud_base_m).toBe(2600);
      const baseBin = spec.instrument.zeroBin + Math.ceil((2600 - spec.station.altitude_m) / spec.instrument.binWidthM - 0.5);
      const pm10 = base64ToFloat32(v.arrays.pm10);
      expect(Number.isNaN(pm10[baseBin + 2])).toBe(true);
      expect(Number.isNaN(pm10[baseBin - 10])).toBe(false);
      const pc = decodeLicel(run.files[k].bytes).datasets[1];
      const shots = pc.shots;
      const bgCounts = spec.instrument.channels[1].skyBackground * (spec.instrument.binWidthM / 150) * shots;
      const farBins = Array.from(pc.raw.slice(baseBin + 200, baseBin + 600));
      const mean = farBins.reduce((s, x) => s + x, 0) / farBins.length;
      expect(mean).toBeLessThan(bgCounts * 1.5 + 1);
      expect(pc.raw[baseBin + 20]).toBeGreaterThan(50 * (bgCounts + 1));
    }
  });

  it('is deterministic per seed: same bytes and truth again, different noise for another seed', () => {
    const again = runScenario(getScenario('cloud'), { seed: 1, terrain });
    expect(again.files.map((f) => f.bytes)).toEqual(runs.cloud.files.map((f) => f.bytes));
    expect(JSON.stringify(again.truth)).toBe(JSON.stringify(runs.cloud.truth));
    const other = runScenario(getScenario('cloud'), { seed: 2, terrain });
    expect(other.files[0].bytes).not.toEqual(runs.cloud.files[0].bytes);
    expect(other.truth.profiles[0].arrays.pm10).toBe(runs.cloud.truth.profiles[0].arrays.pm10);
  });
});
