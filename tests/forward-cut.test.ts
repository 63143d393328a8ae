// The forward (calibration-mode) solution is cut where its aerosol optical depth from the start passes
// MAX_FORWARD_AEROSOL_OPTICAL_DEPTH: analytic case with constant extinction.
import { describe, expect, it } from 'vitest';
import { flagForwardOpticalDepth, MAX_FORWARD_AEROSOL_OPTICAL_DEPTH } from '../processing/retrieval/retrieve.js';
import { QC } from '../processing/retrieval/qc.js';

describe('forward solution optical-depth cut', () => {
  it('flags LOW_SNR from the first bin past tau_max, and only from there', () => {
    const n = 400;
    const dr = 7.5;
    const rangeM = Float64Array.from({ length: n }, (_, i) => 100 + i * dr);
    const alpha = new Float64Array(n).fill(1e-3); // 1 / km
    alpha[5] = NaN; // a masked bin adds nothing
    const qc = new Uint8Array(n);
    flagForwardOpticalDepth(alpha, rangeM, qc, 0, n);
    // tau after bin i (i >= 6) = 1e-3 * 7.5 * (i - 2): the two steps touching the NaN bin add nothing
    const expected = Math.floor(MAX_FORWARD_AEROSOL_OPTICAL_DEPTH / (1e-3 * dr)) + 3;
    const first = qc.findIndex((q) => (q & QC.LOW_SNR) !== 0);
    expect(first).toBe(expected);
    expect(qc.subarray(first).every((q) => q === QC.LOW_SNR)).toBe(true);
    expect(qc.subarray(0, first).every((q) => q === 0)).toBe(true);
  });
  it('negative (diverging) extinction counts by its magnitude; a thin path is not cut', () => {
    const rangeM = Float64Array.from({ length: 100 }, (_, i) => i * 10);
    const qc = new Uint8Array(100);
    flagForwardOpticalDepth(new Float64Array(100).fill(-1.3e-2), rangeM, qc, 0, 100); // tau after bin i = 0.13 i
    expect(qc.findIndex((q) => q !== 0)).toBe(Math.floor(MAX_FORWARD_AEROSOL_OPTICAL_DEPTH / 0.13) + 1);
    const thin = new Uint8Array(100);
    flagForwardOpticalDepth(new Float64Array(100).fill(1e-5), rangeM, thin, 0, 100);
    expect(thin.every((q) => q === 0)).toBe(true);
  });
});
