// The forward model checked against closed forms: the lidar equation in a pure molecular
// atmosphere, non-paralysable dead time, Poisson statistics, analog digitisation, hard targets.
import { describe, expect, it } from 'vitest';
import { simulateProfile, type ProfileRequest } from '../processing/simulate/forward.js';
import { digitize, deadTimeMeasuredRateMHz, overlapAt, type Instrument, type SimChannel } from '../processing/simulate/instrument.js';
import { getScenario } from '../processing/simulate/scenarios.js';
import { us1976 } from '../processing/atmosphere/standard-atmosphere.js';
import { molecularProfile } from '../processing/atmosphere/rayleigh.js';
import { createRng } from '../processing/random.js';
import { loadTerrain } from '../bin/io.js';
import type { AerosolFieldSpec } from '../processing/simulate/aerosol-field.js';

const winter = getScenario('sofia-winter-inversion');
const station = { latDeg: winter.station.lat, lonDeg: winter.station.lon, altitudeM: winter.station.altitude_m };

function cleanField(): AerosolFieldSpec {
  return { ...winter.field, backgroundPm10: 0, hotSpots: [], roads: [], freeTroposphere: { pm10: 0, scaleHeightM: 1000, topAslM: 0 }, loftedLayer: undefined, cloud: undefined };
}

function request(over: Partial<ProfileRequest> = {}): ProfileRequest {
  return { instrument: winter.instrument, station, field: winter.field, terrain: null, met: winter.met, azimuthDeg: 0, elevationDeg: 90, hourLocal: 19, shots: 600, rng: null, ...over };
}

/** Independent optical depth: Simpson's rule on a 0.5 m grid of the molecular extinction. */
function molecularOpticalDepth(rangeM: number, wavelengthNm: number): number {
  const n = Math.max(2, 2 * Math.ceil(rangeM / 1.0));
  const heights = new Float64Array(n + 1);
  for (let k = 0; k <= n; k++) heights[k] = station.altitudeM + (rangeM * k) / n;
  const alpha = molecularProfile(us1976(heights, winter.met), wavelengthNm).alphaMol;
  let s = alpha[0] + alpha[n];
  for (let k = 1; k < n; k++) s += (k % 2 ? 4 : 2) * alpha[k];
  return (s * rangeM) / (3 * n);
}

describe('forward model: closed forms', () => {
  it('pure molecular atmosphere: range-corrected signal = C * beta_mol * T_mol^2 (vertical, noise-free)', () => {
    const res = simulateProfile(request({ field: cleanField() }));
    const pcIndex = winter.instrument.channels.findIndex((c) => c.kind === 'photon' && c.wavelengthNm === 532);
    const ch = winter.instrument.channels[pcIndex];
    const tau = ch.deadTimeNs * 1e-3;
    for (const rangeTarget of [1000, 3000, 6000, 10000]) {
      const i = winter.instrument.zeroBin + Math.round(rangeTarget / winter.instrument.binWidthM - 0.5);
      const r = res.rangeM[i];
      const measured = res.expected[pcIndex][i];
      const trueRate = measured / (1 - measured * tau) - ch.skyBackground;
      const x = (trueRate * r * r) / overlapAt(r, winter.instrument.overlapR0M);
      const heights = new Float64Array([station.altitudeM + r]);
      const betaMol = molecularProfile(us1976(heights, winter.met), 532).betaMol[0];
      const t2 = Math.exp(-2 * molecularOpticalDepth(r, 532));
      expect(Math.abs(x / (ch.lidarConstant * betaMol * t2) - 1)).toBeLessThan(2e-4);
      expect(res.truth.betaAer[0][i]).toBe(0);
    }
  });

  it('analog sees the same signal, delayed by its header bin shift', () => {
    const res = simulateProfile(request({ field: cleanField() }));
    const [an, pc] = [0, 1];
    const chA = winter.instrument.channels[an];
    const chP = winter.instrument.channels[pc];
    const d = chA.analogDelayBins;
    for (const i of [600, 1000, 1400]) {
      const analogSignal = res.expected[an][i + d] - chA.analogOffsetMv - chA.skyBackground;
      const m = res.expected[pc][i];
      const pcSignal = m / (1 - m * chP.deadTimeNs * 1e-3) - chP.skyBackground;
      expect(analogSignal / pcSignal).toBeCloseTo(chA.lidarConstant / chP.lidarConstant, 6);
    }
  });

  it('non-paralysable dead time: measured rate S/(1 + S tau), and the mean count matches it', () => {
    expect(deadTimeMeasuredRateMHz(100, 3.7)).toBeCloseTo(100 / 1.37, 10);
    expect(deadTimeMeasuredRateMHz(0, 3.7)).toBe(0);
    const ch: SimChannel = { ...winter.instrument.channels[1], skyBackground: 0 };
    const signal = new Float64Array(20000).fill(50); // 50 MHz true
    const raw = digitize(ch, signal, 600, 7.5, createRng(7));
    const expectedMean = deadTimeMeasuredRateMHz(50, 3.7) * (7.5 / 150) * 600;
    const mean = raw.reduce((s, v) => s + v, 0) / raw.length;
    expect(Math.abs(mean - expectedMean)).toBeLessThan(5 * Math.sqrt(expectedMean / raw.length));
  });

  it('photon counts are Poisson: variance equals mean (dispersion index within 5 standard errors)', () => {
    const ch: SimChannel = { ...winter.instrument.channels[1], skyBackground: 0, deadTimeNs: 0 };
    for (const countsPerFile of [0.8, 12, 3000]) {
      const rate = countsPerFile / ((7.5 / 150) * 600);
      const raw = digitize(ch, new Float64Array(40000).fill(rate), 600, 7.5, createRng(11));
      const n = raw.length;
      const mean = raw.reduce((s, v) => s + v, 0) / n;
      const variance = raw.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
      expect(Math.abs(mean - countsPerFile)).toBeLessThan(5 * Math.sqrt(countsPerFile / n));
      // Var(s^2)/mean^2 ~ 2/(n-1) + 1/(mean n) for Poisson.
      const se = Math.sqrt(2 / (n - 1) + 1 / (countsPerFile * n));
      expect(Math.abs(variance / mean - 1)).toBeLessThan(5 * se);
    }
  });

  it('analog: noise-free code = V / LSB summed over shots; clipped at full scale', () => {
    const ch = winter.instrument.channels[0];
    const lsb = (ch.inputRangeV * 1000) / 2 ** ch.adcBits;
    const volts = new Float64Array([0, 10, 250, 1000]);
    const raw = digitize(ch, volts, 600, 7.5, null);
    expect(raw[1]).toBe(Math.round((600 * (10 + ch.skyBackground + ch.analogOffsetMv)) / lsb));
    expect(raw[3]).toBe(600 * (2 ** ch.adcBits - 1));
    // With noise: the mean over many bins matches, the spread matches the per-shot noise model.
    const flat = new Float64Array(20000).fill(10);
    const noisy = digitize(ch, flat, 600, 7.5, createRng(3));
    const mean = noisy.reduce((s, v) => s + v, 0) / noisy.length;
    const sd = Math.sqrt(noisy.reduce((s, v) => s + (v - mean) ** 2, 0) / noisy.length);
    const v = 10 + ch.skyBackground + ch.analogOffsetMv;
    const expectedSd = Math.sqrt(600 * ((ch.analogNoiseMv ** 2 + ch.analogShotNoiseMv * v) / lsb ** 2 + 1 / 12));
    expect(Math.abs(mean - (600 * v) / lsb)).toBeLessThan((5 * expectedSd) / Math.sqrt(noisy.length));
    expect(sd / expectedSd).toBeGreaterThan(0.97);
    expect(sd / expectedSd).toBeLessThan(1.03);
  });

  it('aerosol truth follows the PM model: alpha = PM10 * MEE * f(RH) * (lambda/550)^-AE, beta = alpha / S', () => {
    const res = simulateProfile(request({ azimuthDeg: 300, elevationDeg: 2 }));
    const o = winter.field.optics;
    const f = (1 - o.rh) ** -o.gamma;
    const t = res.truth;
    for (const i of [300, 500, 800]) {
      expect(t.alphaAer[0][i] / (t.pm10[i] * 1e-6 * o.meePm10 * f * (532 / 550) ** -o.angstrom)).toBeCloseTo(1, 12);
      expect(t.alphaAer[0][i] / t.betaAer[0][i]).toBeCloseTo(50, 9);
      expect(t.alphaAer[1][i] / t.betaAer[1][i]).toBeCloseTo(40, 9);
      expect(t.pm25[i] / t.pm10[i]).toBeCloseTo(o.meePm10 / o.meePm25, 12);
    }
  });

  it('a beam meeting the Vitosha slope ends in a hard-target spike, then background only', () => {
    const terrain = loadTerrain();
    const res = simulateProfile(request({ terrain, azimuthDeg: 220, elevationDeg: 2 }));
    const k = res.truth.terrainBlockedBin;
    expect(Number.isFinite(res.truth.terrainBlockedRangeM)).toBe(true);
    expect(k).toBeLessThan(winter.instrument.bins - 2);
    const pc = res.expected[1];
    const sky = deadTimeMeasuredRateMHz(winter.instrument.channels[1].skyBackground, 3.7);
    expect(pc[k] - sky).toBeGreaterThan(10 * (pc[k - 2] - sky));
    for (let i = k + 2; i < winter.instrument.bins; i++) expect(pc[i]).toBeCloseTo(sky, 12);
    expect(Number.isNaN(res.truth.pm10[k])).toBe(true);
    expect(Number.isNaN(res.truth.betaAer[0][k + 5])).toBe(true);
    expect(Number.isNaN(res.truth.pm10[k - 1])).toBe(false);
  });

  it('pre-trigger bins (zeroBin) carry only background and no truth', () => {
    for (const zeroBin of [0, 20]) {
      const instrument: Instrument = { ...winter.instrument, zeroBin };
      const res = simulateProfile(request({ instrument }));
      const sky = deadTimeMeasuredRateMHz(winter.instrument.channels[1].skyBackground, 3.7);
      for (let i = 0; i < zeroBin; i++) {
        expect(res.expected[1][i]).toBeCloseTo(sky, 12);
        expect(Number.isNaN(res.truth.pm10[i])).toBe(true);
      }
      expect(res.rangeM[zeroBin]).toBeCloseTo(3.75, 12);
      expect(res.expected[1][zeroBin + 40]).toBeGreaterThan(10 * sky);
    }
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const a = simulateProfile(request({ rng: createRng(5) }));
    const b = simulateProfile(request({ rng: createRng(5) }));
    const c = simulateProfile(request({ rng: createRng(6) }));
    expect(a.raw[1]).toEqual(b.raw[1]);
    expect(a.raw[1]).not.toEqual(c.raw[1]);
  });
});

describe('forward model: configurable atmosphere and station', () => {
  it('a met profile replaces the standard atmosphere (molecular signal follows the sounding)', async () => {
    const { metAtmosphere } = await import('../processing/atmosphere/standard-atmosphere.js');
    // A sounding 10 K warmer than the scaled standard atmosphere, same surface pressure.
    const heights = Float64Array.from({ length: 160 }, (_, k) => winter.met.heightM + k * 100);
    const std = us1976(heights, winter.met);
    const sounding = { heightM: heights, pressurePa: std.pressurePa, temperatureK: std.temperatureK.map((t) => t + 10) };
    const res = simulateProfile(request({ field: cleanField(), sounding }));
    const ref = simulateProfile(request({ field: cleanField() }));
    const i = 800; // 6 km range
    const atm = metAtmosphere(sounding, [res.beam.heightM[i]]);
    expect(res.truth.betaMol[0][i]).toBeCloseTo(molecularProfile(atm, 532).betaMol[0], 20);
    // Same pressure, warmer air: fewer molecules, beta_mol lower by ~T_std/(T_std+10).
    expect(res.truth.betaMol[0][i] / ref.truth.betaMol[0][i]).toBeCloseTo(std.temperatureK[59] / (std.temperatureK[59] + 10), 2);
  });

  it('moves a scenario to another station: headers, zenith convention and geometry follow', async () => {
    const { withStation, planProfiles, simulatePlanned, toLicelFile } = await import('../processing/simulate/scenario.js');
    const { decodeLicel } = await import('../processing/licel/decode.js');
    const { encodeLicel } = await import('../processing/licel/encode.js');
    const other = { ...winter.station, id: 'elsewhere', lat: 6.2476, lon: -75.5658, altitude_m: 1495, ground_altitude_m: 1490, zenith_convention: 'elevation' as const, timezone: 'America/Bogota' };
    const spec = withStation(getScenario('sofia-winter-inversion'), other);
    const p = planProfiles(spec)[0];
    const res = simulatePlanned(spec, p, loadTerrain(), 1);
    expect(res.truth.terrainBlockedBin).toBe(spec.instrument.bins); // the Sofia DEM does not cover it
    expect(res.beam.latDeg[spec.instrument.zeroBin]).toBeCloseTo(6.2476, 3);
    const file = decodeLicel(encodeLicel(toLicelFile(spec, p, res)));
    expect(file.header.altitudeM).toBe(1495);
    expect(file.header.latitudeDeg).toBeCloseTo(6.2476, 6);
    expect(file.header.longitudeDeg).toBeCloseTo(-75.5658, 6);
    expect(file.header.zenithRaw).toBeCloseTo(p.elevationDeg, 6); // 'elevation' convention: 90 = vertical
    // The field moved with the lidar: the same surface PM at the same offset.
    expect(res.truth.pm10[spec.instrument.zeroBin + 100]).toBeGreaterThan(10);
  });
});
