// Hard-target detection: synthetic spikes, then the winter scenario's scans over Vitosha against
// the simulator's terrain truth (photon-counting 532 nm channel).
import { describe, expect, it } from 'vitest';
import { clippedStd, detectHardTarget } from '../processing/retrieval/hard-target.js';
import { getScenario } from '../processing/simulate/scenarios.js';
import { planProfiles, simulatePlanned } from '../processing/simulate/scenario.js';
import { loadTerrain } from '../bin/io.js';
import { createRng } from '../processing/random.js';

/** A decaying air signal (MHz) with a ground return at `hit`, nothing beyond, optional Gaussian noise. */
function synthetic(n: number, hit: number, ground: number, noiseSd = 0, seed = 1): Float64Array {
  const rng = createRng(seed);
  return Float64Array.from({ length: n }, (_, i) => {
    const air = i < hit ? 50 * Math.exp(-i / 150) : 0;
    const target = i === hit ? 0.7 * ground : i === hit + 1 ? 0.3 * ground : 0;
    return air + target + noiseSd * rng.normal();
  });
}

describe('detectHardTarget on synthetic profiles', () => {
  it('finds the bin of the ground return', () => {
    expect(detectHardTarget(synthetic(1000, 600, 80), null, 10, 1000)).toBe(600);
    expect(detectHardTarget(synthetic(1000, 600, 80, 0.05), null, 10, 1000)).toBe(600);
  });

  it('needs a jump of more than jumpFactor over the bins before', () => {
    // 0.7 * 2.4 = 1.68 MHz against ~0.25 MHz of air: a 7x jump only.
    const weak = synthetic(1000, 800, 2.4);
    expect(detectHardTarget(weak, null, 10, 1000)).toBe(-1);
    expect(detectHardTarget(weak, null, 10, 1000, { jumpFactor: 5 })).toBe(800);
  });

  it('needs the jump to stand out of the noise', () => {
    // 7 MHz: 28x the air before it, but only 3.5 sigma of a 2 MHz noise.
    expect(detectHardTarget(synthetic(1000, 800, 10, 2, 3), null, 10, 1000)).toBe(-1);
    expect(detectHardTarget(synthetic(1000, 800, 10), new Float64Array(1000).fill(2), 10, 1000)).toBe(-1);
    expect(detectHardTarget(synthetic(1000, 800, 10), new Float64Array(1000).fill(0.01), 10, 1000)).toBe(800);
  });

  it('searches [from, to) only and skips NaN bins', () => {
    const s = synthetic(1000, 600, 80);
    expect(detectHardTarget(s, null, 601, 1000)).toBe(-1);
    expect(detectHardTarget(s, null, 10, 600)).toBe(-1);
    s[598] = Number.NaN;
    expect(detectHardTarget(s, null, 10, 1000)).toBe(600);
  });

  it('estimates the far-end noise robustly against a target there', () => {
    const rng = createRng(7);
    const s = Float64Array.from({ length: 1000 }, () => rng.normal());
    s[950] = 1e4;
    expect(clippedStd(s, 900, 1000)).toBeCloseTo(1, 0);
  });

  it('refuses bad options, naming the value', () => {
    const s = new Float64Array(10);
    expect(() => detectHardTarget(s, null, 0, 10, { jumpFactor: 1 })).toThrow(/jump factor: 1/);
    expect(() => detectHardTarget(s, null, 0, 10, { spanBins: 0 })).toThrow(/span: 0 bins/);
    expect(() => detectHardTarget(s, new Float64Array(3), 0, 10)).toThrow(/sigma length: 3/);
  });
});

describe('detectHardTarget on the winter scenario (532 nm photon counting)', () => {
  const spec = getScenario('sofia-winter-inversion');
  const terrain = loadTerrain();
  const bins = spec.instrument.bins;
  const pc = spec.instrument.channels.findIndex((c) => c.kind === 'photon' && c.wavelengthNm === 532);

  for (const seed of [0, 1, 2]) {
    it(`hits the terrain bin (within 1) in every blocked profile and nothing elsewhere (${seed ? `seed ${seed}` : 'noise-free'})`, () => {
      let blocked = 0;
      const misses: string[] = [];
      for (const p of planProfiles(spec)) {
        const res = simulatePlanned(spec, p, terrain, seed || 1, seed > 0);
        const countsPerMHz = (spec.instrument.binWidthM / 150) * Math.round(p.durationS * spec.instrument.repetitionRateHz);
        // Physical MHz minus the far background; not range corrected.
        const mhz = seed > 0 ? Float64Array.from(res.raw[pc], (c) => c / countsPerMHz) : res.expected[pc];
        const far = Math.floor(bins * 0.9);
        let bg = 0;
        for (let i = far; i < bins; i++) bg += mhz[i];
        bg /= bins - far;
        const signal = Float64Array.from(mhz, (v) => v - bg);
        const found = detectHardTarget(signal, null, spec.instrument.zeroBin + 1, bins);
        const truth = res.truth.terrainBlockedBin;
        if (truth < bins) {
          blocked++;
          if (Math.abs(found - truth) > 1) misses.push(`profile ${p.index} (az ${p.azimuthDeg}, el ${p.elevationDeg}): truth ${truth}, found ${found}`);
        } else if (found >= 0) {
          misses.push(`profile ${p.index} (az ${p.azimuthDeg}, el ${p.elevationDeg}): unblocked, found ${found}`);
        }
      }
      expect(blocked).toBeGreaterThan(50);
      expect(misses).toEqual([]);
    });
  }
});
