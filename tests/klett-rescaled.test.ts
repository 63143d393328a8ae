// The shortcut used for the reference-value sensitivity runs: re-using a recorded trace must give
// exactly what a full inversion with the new boundary value gives.
import { describe, expect, it } from 'vitest';
import { createFernaldTrace, fernald, fernaldRescaled, type FernaldInput } from '../processing/retrieval/klett.js';
import { binCentreRangesM } from '../processing/geometry/beam.js';
import { us1976 } from '../processing/atmosphere/standard-atmosphere.js';
import { molecularProfile } from '../processing/atmosphere/rayleigh.js';

describe('fernaldRescaled', () => {
  it('equals a full fernald run for other boundary values, backward and forward', () => {
    const bins = 1500;
    const rangeM = binCentreRangesM(bins, 7.5, 0);
    const heights = rangeM.map((r) => 600 + r);
    const mol = molecularProfile(us1976(heights), 532);
    const betaAer = rangeM.map((r) => (r < 1500 ? 2e-5 : r < 2500 ? 2e-6 : 0));
    const s = new Float64Array(bins).fill(50);
    const rcs = new Float64Array(bins);
    let tau = 0;
    for (let i = 0; i < bins; i++) {
      tau += (i === 0 ? rangeM[0] : rangeM[i] - rangeM[i - 1]) * (50 * betaAer[i] + (8 * Math.PI / 3) * mol.betaMol[i]);
      rcs[i] = 1e13 * (betaAer[i] + mol.betaMol[i]) * Math.exp(-2 * tau) * (1 + 0.01 * Math.sin(i));
    }
    const input: FernaldInput = { rangeM, rcs, betaMol: mol.betaMol, molecularLidarRatioSr: (8 * Math.PI) / 3, lidarRatioSr: s, from: 0, to: bins };
    const ref = 1000;
    const trace = createFernaldTrace(bins);
    const base = { betaAer: new Float64Array(bins), alphaAer: new Float64Array(bins) };
    fernald(input, ref, 0, rcs[ref], base, trace);
    for (const betaRef of [0, 1e-7, 5e-7]) {
      const full = { betaAer: new Float64Array(bins), alphaAer: new Float64Array(bins) };
      const fast = { betaAer: new Float64Array(bins), alphaAer: new Float64Array(bins) };
      fernald(input, ref, betaRef, rcs[ref], full);
      fernaldRescaled(input, trace, betaRef, fast);
      for (let i = 0; i < bins; i++) {
        if (Number.isNaN(full.betaAer[i])) expect(fast.betaAer[i]).toBeNaN();
        else expect(Math.abs(fast.betaAer[i] - full.betaAer[i])).toBeLessThanOrEqual(1e-12 * Math.abs(full.betaAer[i]) + 1e-22);
      }
    }
  });
});
