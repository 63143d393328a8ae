// Cloud base detection: synthetic layers, the cloud scenario's base on every profile, and no false
// cloud in the polluted winter boundary layer (scattering ratio 10-30 near the ground, no jump) or
// any other scenario.
import { analogRcs } from './analog-rcs.js';
import { describe, expect, it } from 'vitest';
import { detectCloud, estimateScaleK } from '../processing/retrieval/cloud.js';
import { getScenario } from '../processing/simulate/scenarios.js';
import { planProfiles, simulatePlanned } from '../processing/simulate/scenario.js';
import type { ProfileResult } from '../processing/simulate/forward.js';
import { loadTerrain } from '../bin/io.js';
import { createRng } from '../processing/random.js';

const K = 2e12;

/** Molecular attenuated backscatter on 7.5 m bins (scale height 8 km) and X = K attMol (1 + extra) T2. */
function synthetic(n: number, layer: (i: number) => number, transmission: (i: number) => number = () => 1) {
  const att = Float64Array.from({ length: n }, (_, i) => 1.5e-6 * Math.exp(-(i * 7.5) / 8000));
  const x = Float64Array.from(att, (a, i) => K * a * (1 + layer(i)) * transmission(i));
  return { att, x };
}

describe('detectCloud on synthetic profiles', () => {
  it('finds the base of a thin cloud, its top where the signal comes back, not opaque', () => {
    const { att, x } = synthetic(1000, (i) => (i >= 400 && i < 420 ? 200 : 0), (i) => (i >= 420 ? 0.6 : 1));
    expect(detectCloud(x, att, K, 20, 1000, null)).toEqual({ base: 400, top: 419, opaque: false });
  });

  it('calls a cloud opaque when no signal comes back above it (top -1)', () => {
    const rng = createRng(5);
    const { att, x } = synthetic(1000, (i) => (i >= 400 && i < 440 ? 300 * Math.exp(-(i - 400) / 5) : 0), (i) => (i >= 440 ? 0 : 1));
    const noise = 0.02 * K * att[400];
    for (let i = 0; i < x.length; i++) x[i] += noise * rng.normal();
    const sigma = new Float64Array(1000).fill(noise);
    expect(detectCloud(x, att, K, 20, 1000, sigma)).toEqual({ base: 400, top: -1, opaque: true });
    expect(detectCloud(x, att, Number.NaN, 20, 1000, null).base).toBe(400);
  });

  it('needs a jump: a polluted layer with scattering ratio 30 rising smoothly is no cloud', () => {
    const { att, x } = synthetic(1000, (i) => 30 / (1 + Math.exp(-(i - 300) / 8)));
    expect(detectCloud(x, att, K, 20, 1000, null).base).toBe(-1);
    // A sharp factor 3 jump (scattering ratio 5 -> 15) is not enough with the default factor 4.
    const step = synthetic(1000, (i) => (i >= 500 ? 14 : 4));
    expect(detectCloud(step.x, step.att, K, 20, 1000, null).base).toBe(-1);
    expect(detectCloud(step.x, step.att, K, 20, 1000, null, { jumpFactor: 2.5 }).base).toBe(500);
  });

  it('needs the scattering ratio over minBins bins: a 2-bin spike is no cloud', () => {
    const { att, x } = synthetic(1000, (i) => (i === 500 || i === 501 ? 50 : 0));
    expect(detectCloud(x, att, K, 20, 1000, null).base).toBe(-1);
    expect(detectCloud(x, att, K, 20, 1000, null, { minBins: 2 }).base).toBe(500);
  });

  it('finds nothing in far-range noise', () => {
    const rng = createRng(9);
    const { att, x } = synthetic(2000, () => 0, (i) => Math.exp(-i / 150));
    const sd = 0.05 * K * att[600] * Math.exp(-600 / 150);
    for (let i = 0; i < x.length; i++) x[i] += sd * rng.normal() * (1 + i / 500) ** 2;
    expect(detectCloud(x, att, K, 20, 2000, null).base).toBe(-1);
    expect(detectCloud(x, att, Number.NaN, 20, 2000, null).base).toBe(-1);
  });

  it('estimates K from the cleanest air', () => {
    const { att, x } = synthetic(1000, (i) => (i < 300 ? 20 : 0));
    expect(estimateScaleK(x, att, 0, 1000) / K).toBeCloseTo(1, 9);
  });

  it('K is the 10th percentile of the significant 8-bin block ratios (written out with a sort)', () => {
    const rng = createRng(21);
    const n = 1203; // not a whole number of blocks
    const att = Float64Array.from({ length: n }, (_, i) => Math.exp(-i / 400));
    const x = Float64Array.from(att, (a, i) => K * a * (1 + 0.3 * Math.sin(i / 37)) + 0.02 * K * rng.normal());
    x[77] = Number.NaN; // a bad block is skipped
    for (const [from, to] of [[0, n], [5, 900], [3, 19]]) {
      const ratios: number[] = [];
      for (let k0 = from; k0 + 8 <= from + Math.floor((to - from) / 8) * 8; k0 += 8) {
        let sx = 0;
        let sm = 0;
        let sd = 0;
        let ok = true;
        for (let k = k0; k < k0 + 8; k++) {
          if (!Number.isFinite(x[k]) || !(att[k] > 0)) ok = false;
          sx += x[k];
          sm += att[k];
          if (k > k0) sd += Math.abs(x[k] - x[k - 1]);
        }
        const noise = ((Math.sqrt(Math.PI) / 2) * sd) / 7;
        if (ok && sx / 8 > (5 * noise) / Math.sqrt(8)) ratios.push(sx / sm);
      }
      ratios.sort((a, b) => a - b);
      const want = ratios.length ? ratios[Math.floor(0.1 * (ratios.length - 1))] : Number.NaN;
      expect(Object.is(estimateScaleK(x, att, from, to), want)).toBe(true);
    }
    expect(estimateScaleK(x, att, 10, 5)).toBeNaN(); // an empty range
  });

  it('refuses bad arguments, naming the value', () => {
    const a = new Float64Array(10);
    expect(() => detectCloud(a, new Float64Array(5), 1, 0, 10, null)).toThrow(/attMol length: 5/);
    expect(() => detectCloud(a, a, -1, 0, 10, null)).toThrow(/calibration K: -1/);
    expect(() => detectCloud(a, a, 1, 0, 10, null, { minScatteringRatio: 0.5 })).toThrow(/scattering ratio: 0.5/);
  });
});

/** beta_mol * T_mol^2 at 532 nm from the truth (trapezoid from r = 0, as the forward model). */
function attenuatedMolecular(res: ProfileResult): Float64Array {
  const beta = res.truth.betaMol[0];
  const alpha = res.truth.alphaMol[0];
  const r = res.rangeM;
  const out = new Float64Array(r.length).fill(Number.NaN);
  let tau = 0;
  let prev = -1;
  for (let i = 0; i < r.length; i++) {
    if (!(r[i] > 0)) continue;
    tau += prev < 0 ? alpha[i] * r[i] : 0.5 * (alpha[i] + alpha[prev]) * (r[i] - r[prev]);
    prev = i;
    out[i] = beta[i] * Math.exp(-2 * tau);
  }
  return out;
}

function cloudRun(name: string, seed: number, withSigma: boolean, knownK: boolean, scans = false) {
  const spec = getScenario(name);
  const terrain = scans ? loadTerrain() : null;
  const results: Array<{ truthBin: number; base: number; top: number; opaque: boolean; profile: number }> = [];
  for (const p of planProfiles(spec).filter((q) => scans || q.elevationDeg === 90)) {
    const res = simulatePlanned(spec, p, terrain, seed || 1, seed > 0);
    const { x, sigma, channel } = analogRcs(spec, p, res, seed > 0);
    // From full overlap (O = 0.99 at 300 m) to the terrain (the chain cuts there first).
    const from = spec.instrument.zeroBin + Math.ceil(300 / spec.instrument.binWidthM);
    const to = Math.min(x.length - spec.instrument.channels[channel].analogDelayBins, res.truth.terrainBlockedBin);
    const k = knownK ? spec.instrument.channels[channel].lidarConstant : Number.NaN;
    const found = detectCloud(x, attenuatedMolecular(res), k, from, to, withSigma ? sigma : null);
    const base = res.truth.cloudBaseM;
    const truthBin = Number.isFinite(base) ? res.beam.heightM.findIndex((h) => h >= base) : -1;
    results.push({ truthBin, ...found, profile: p.index });
  }
  return results;
}

describe('detectCloud on the simulator', () => {
  for (const seed of [0, 1, 2, 3]) {
    for (const [withSigma, knownK] of [[false, false], [true, true]]) {
      const label = `${seed ? `seed ${seed}` : 'noise-free'}, ${withSigma ? 'sigma and K given' : 'noise and K estimated'}`;
      it(`finds the cloud base within 2 bins on every cloud profile (${label})`, () => {
        const results = cloudRun('cloud', seed, withSigma, knownK);
        expect(results).toHaveLength(6);
        for (const r of results) {
          expect(r.truthBin).toBeGreaterThan(0);
          expect(Math.abs(r.base - r.truthBin)).toBeLessThanOrEqual(2);
          // Optical depth 3: with noise nothing significant comes back (opaque); noise-free the
          // signal above (T^2 = e^-6) is still there and the top is the last cloud bin (300 m = 40 bins).
          if (seed > 0) expect(r).toMatchObject({ top: -1, opaque: true });
          else expect(r).toMatchObject({ top: r.base + 39, opaque: false });
        }
      });

      it(`finds no cloud in any vertical of winter, summer and vertical-clear (${label})`, () => {
        for (const name of ['sofia-winter-inversion', 'sofia-summer-convective', 'vertical-clear']) {
          const found = cloudRun(name, seed, withSigma, knownK).filter((r) => r.base >= 0);
          expect(found, name).toEqual([]);
        }
      });
    }
  }

  it('finds no cloud along the polluted winter scans (2 and 6 deg, up to the terrain)', () => {
    const found = cloudRun('sofia-winter-inversion', 1, false, false, true).filter((r) => r.base >= 0);
    expect(found).toEqual([]);
  });
});
