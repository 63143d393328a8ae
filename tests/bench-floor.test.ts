// The arithmetic floor (scripts/bench/floor.ts) is only a yardstick if it computes what the chain
// computes: its fused inversions must agree with `fernald`, its products with their definitions,
// and its PBL and reference with the synthetic profile it is given.
import { describe, expect, it } from 'vitest';
import { fernald } from '../processing/retrieval/klett.js';
import { FLOOR_LIDAR_RATIO_SR, floorChain, floorInput, floorOutput } from '../scripts/bench/floor.js';

const SM = (8 * Math.PI) / 3;

function maxRelative(got: Float64Array, want: Float64Array, scale: Float64Array, from: number, to: number): number {
  let m = 0;
  for (let i = from; i < to; i++) m = Math.max(m, Math.abs(got[i] - want[i]) / Math.abs(want[i] + scale[i]));
  return m;
}

describe('arithmetic floor kernel', () => {
  for (const [bins, extent, layerTopM] of [
    [4200, 4200, 1500],
    [16380, 2900, 1500],
    [4200, 3000, 3600],
  ]) {
    it(`inverts like fernald (S_a and S_a +/- 10 sr), ${bins} bins, signal to bin ${extent}, layer top ${layerTopM} m`, () => {
      const inp = floorInput(bins, extent, layerTopM);
      const out = floorOutput(bins);
      floorChain(inp, out);
      // Reference in the upper half of the signal, below its end.
      expect(out.ref).toBeGreaterThan((inp.from + extent) / 2);
      expect(out.ref).toBeLessThan(extent);
      for (const [s, got] of [
        [FLOOR_LIDAR_RATIO_SR, out.betaAer],
        [FLOOR_LIDAR_RATIO_SR - 10, out.betaAerLow],
        [FLOOR_LIDAR_RATIO_SR + 10, out.betaAerHigh],
      ] as const) {
        const want = { betaAer: new Float64Array(bins), alphaAer: new Float64Array(bins) };
        const input = { rangeM: inp.rangeM, rcs: out.x, betaMol: inp.betaMol, molecularLidarRatioSr: SM, lidarRatioSr: new Float64Array(bins).fill(s), from: inp.from, to: out.ref + 1 };
        fernald(input, out.ref, 0, out.x[out.ref], want);
        // Plain sums and a degree-3 series against compensated sums and degree 5: ~1e-11 of beta.
        expect(maxRelative(got, want.betaAer, inp.betaMol, inp.from, out.ref)).toBeLessThan(1e-9);
      }
      // The main run recovers the synthetic layer (3e-6 /m/sr) below its top (3e-6 within 1e-8 at 500 m) and the products follow from alpha.
      const i500 = inp.rangeM.findIndex((r) => r > 500);
      expect(out.betaAer[i500]).toBeCloseTo(3e-6, 8);
      expect(out.alphaAer[i500]).toBeCloseTo(FLOOR_LIDAR_RATIO_SR * out.betaAer[i500], 15);
      expect(out.pm10[i500] / out.alphaAer[i500]).toBeCloseTo(1e6 / 3.5, 6);
      expect(out.pm25[i500] / out.alphaAer[i500]).toBeCloseTo(1e6 / 6, 6);
      // Sensitivities: a 10 sr change moves alpha by several percent in the layer; the reference run by less.
      expect(out.sensLidarRatio[i500] / out.alphaAer[i500]).toBeGreaterThan(0.01);
      expect(out.sensReference[i500]).toBeGreaterThan(0);
      // AOD grows toward the lidar (the backward pass accumulates alpha dr from the reference).
      expect(out.aod[inp.from]).toBeGreaterThan(out.aod[i500]);
      // PBL at the layer top within 2 bins, and exactly the maximum of the Haar transform summed
      // over the dilations (12, 20, 28, 40 bins), written out over X for centres from 20 bins above
      // the overlap region to 4 km (bin 200 + 533); no cloud in the profile.
      expect(Math.abs(inp.rangeM[out.pblIndex] - inp.layerTopM)).toBeLessThanOrEqual(15);
      let best = -1;
      let bestW = -Infinity;
      for (let k = inp.from + 20; k < 733; k++) {
        let w = 0;
        for (const a of [12, 20, 28, 40]) {
          let below = 0;
          let above = 0;
          for (let j = k - a / 2; j < k; j++) below += out.x[j];
          for (let j = k; j < k + a / 2; j++) above += out.x[j];
          w += (below - above) / (a / 2);
        }
        if (w > bestW) {
          bestW = w;
          best = k;
        }
      }
      expect(out.pblIndex).toBe(best);
      expect(out.cloudIndex).toBe(-1);
    });
  }

  it('does nothing past a signal too short for a reference window (and does not throw)', () => {
    const inp = floorInput(1200, 300);
    const out = floorOutput(1200);
    floorChain(inp, out);
    expect(out.ref).toBe(-1);
    expect(out.pblIndex).toBe(-1);
  });
});
