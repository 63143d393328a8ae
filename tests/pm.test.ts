// PM from extinction (RETRIEVAL.md section 6) and the aerosol optical depth: known answers and the
// exact inverse of the simulator's optics model.
import { describe, expect, it } from 'vitest';
import { aerosolOpticalDepth, extinctionToPm, humidityGrowth, type PmParams } from '../processing/retrieval/pm.js';
import { QC, QC_NO_PM } from '../processing/retrieval/qc.js';
import { LidarError } from '../processing/errors.js';
import { getScenario } from '../processing/simulate/scenarios.js';
import { planProfiles, simulatePlanned } from '../processing/simulate/scenario.js';
import { loadTerrain } from '../bin/io.js';

const DRY: PmParams = { meePm10: 3.5, meePm25: 6, gamma: 0.5, rh: 0, angstrom: 1.3 };

function pm(alpha: number[], wavelengthNm: number, p: PmParams, qcValues?: number[]) {
  const n = alpha.length;
  const qc = Uint8Array.from(qcValues ?? new Array<number>(n).fill(0));
  const out10 = new Float64Array(n);
  const out25 = new Float64Array(n);
  extinctionToPm(Float64Array.from(alpha), wavelengthNm, p, qc, out10, out25);
  return { out10, out25, qc };
}

describe('humidityGrowth', () => {
  it('is 1 when dry and follows ((1 - RH)/(1 - RH_ref))^-gamma', () => {
    expect(humidityGrowth(0, 0.5)).toBe(1);
    expect(humidityGrowth(0.5, 0.5)).toBeCloseTo(Math.SQRT2, 14);
    expect(humidityGrowth(0.75, 1)).toBeCloseTo(4, 14);
    expect(humidityGrowth(0.8, 0.5, 0.5)).toBeCloseTo(Math.sqrt(0.5 / 0.2), 14);
    expect(humidityGrowth(0.7, 0)).toBe(1);
  });

  it('caps RH at 0.95', () => {
    expect(humidityGrowth(0.99, 0.5)).toBeCloseTo(Math.sqrt(20), 12);
    expect(humidityGrowth(1, 0.5)).toBe(humidityGrowth(0.95, 0.5));
  });

  it('refuses percent, negative RH and a bad gamma, naming the value', () => {
    expect(() => humidityGrowth(70, 0.5)).toThrow(/invalid rh: 70 \(a fraction/);
    expect(() => humidityGrowth(-0.1, 0.5)).toThrow(LidarError);
    expect(() => humidityGrowth(0.5, Number.NaN)).toThrow(/gamma: NaN/);
    expect(() => humidityGrowth(0.5, 0.5, 0.99)).toThrow(/rhRef: 0.99/);
  });
});

describe('extinctionToPm', () => {
  it('divides the 550 nm dry extinction by the MEE (alpha in 1/m -> ug/m3)', () => {
    const { out10, out25 } = pm([3.5e-5, 7e-5, 0], 550, DRY);
    expect(out10[0]).toBeCloseTo(10, 12);
    expect(out10[1]).toBeCloseTo(20, 12);
    expect(out10[2]).toBe(0);
    expect(out25[0]).toBeCloseTo(3.5e-5 / 6e-6, 12);
  });

  it('converts to 550 nm with the Angstrom exponent and removes the humidity growth', () => {
    const alpha = 1e-4;
    const at1064 = pm([alpha], 1064, DRY).out10[0];
    expect(at1064).toBeCloseTo(((alpha * Math.pow(1064 / 550, 1.3)) / 3.5) * 1e6, 10);
    const at355 = pm([alpha], 355, { ...DRY, angstrom: 0 }).out10[0];
    expect(at355).toBeCloseTo((alpha / 3.5) * 1e6, 10);
    const humid = pm([alpha], 550, { ...DRY, rh: 0.75, gamma: 1 }).out10[0];
    expect(humid).toBeCloseTo((alpha / 4 / 3.5) * 1e6, 10);
  });

  it("is the exact inverse of the simulator's optics (truth alpha -> truth PM to 1e-12)", () => {
    const terrain = loadTerrain();
    for (const name of ['sofia-winter-inversion', 'cloud']) {
      const spec = getScenario(name);
      const plan = planProfiles(spec);
      const o = spec.field.optics;
      const params: PmParams = { meePm10: o.meePm10, meePm25: o.meePm25, gamma: o.gamma, rh: o.rh, angstrom: o.angstrom };
      for (const p of [plan[0], plan[plan.length - 1]]) {
        const res = simulatePlanned(spec, p, terrain, 1, false);
        const t = res.truth;
        t.wavelengthsNm.forEach((wl, w) => {
          const n = t.pm10.length;
          // The chain flags clouds; the truth has no PM inside one.
          const qc = new Uint8Array(n);
          for (let i = 0; i < n; i++) if (Number.isNaN(t.pm10[i]) && !Number.isNaN(t.alphaAer[w][i])) qc[i] = QC.CLOUD;
          const out10 = new Float64Array(n);
          const out25 = new Float64Array(n);
          extinctionToPm(t.alphaAer[w], wl, params, qc, out10, out25);
          let compared = 0;
          for (let i = 0; i < n; i++) {
            if (Number.isNaN(t.pm10[i])) {
              expect(out10[i]).toBeNaN();
              continue;
            }
            compared++;
            expect(Math.abs(out10[i] - t.pm10[i])).toBeLessThanOrEqual(1e-12 * Math.max(1, t.pm10[i]));
            expect(Math.abs(out25[i] - t.pm25[i])).toBeLessThanOrEqual(1e-12 * Math.max(1, t.pm25[i]));
          }
          expect(compared).toBeGreaterThan(100);
        });
      }
    }
  });

  it('reports NaN where a QC_NO_PM bit is set or alpha is NaN, and keeps LOW_SNR/FORWARD bins', () => {
    const flags = [0, QC.OVERLAP, QC.CLOUD, QC.TERRAIN, QC.SATURATED, QC.LOW_SNR, QC.FORWARD, 0];
    const { out10, out25 } = pm([1e-4, 1e-4, 1e-4, 1e-4, 1e-4, 1e-4, 1e-4, Number.NaN], 550, DRY, flags);
    flags.forEach((f, i) => {
      const masked = (f & QC_NO_PM) !== 0 || i === 7;
      expect(Number.isNaN(out10[i])).toBe(masked);
      expect(Number.isNaN(out25[i])).toBe(masked);
    });
  });

  it('flags every bin HUMID above RH 0.9 (PM still reported, growth capped) and none at 0.9', () => {
    const humid = pm([1e-4, 1e-4, Number.NaN], 550, { ...DRY, rh: 0.97 });
    expect(Array.from(humid.qc)).toEqual([QC.HUMID, QC.HUMID, QC.HUMID]);
    expect(humid.out10[0]).toBeCloseTo((1e-4 / Math.sqrt(20) / 3.5) * 1e6, 10);
    expect(Array.from(pm([1e-4], 550, { ...DRY, rh: 0.9 }).qc)).toEqual([0]);
  });

  it('keeps negative extinction as a negative PM value and flags it NEGATIVE', () => {
    const { out10, qc } = pm([-3.5e-6, 3.5e-6], 550, DRY);
    expect(out10[0]).toBeCloseTo(-1, 12);
    expect(qc[0]).toBe(QC.NEGATIVE);
    expect(qc[1]).toBe(0);
  });

  it('scales sigma(alpha) by the same factors', () => {
    const n = 3;
    const alpha = Float64Array.from([1e-4, 2e-4, 3e-4]);
    const sigma = Float64Array.from([1e-5, 2e-5, 3e-5]);
    const qc = Uint8Array.from([0, 0, QC.CLOUD]);
    const [o10, o25, s10, s25] = [0, 0, 0, 0].map(() => new Float64Array(n));
    extinctionToPm(alpha, 532, { ...DRY, rh: 0.6 }, qc, o10, o25, sigma, s10, s25);
    for (let i = 0; i < 2; i++) {
      expect(s10[i] / o10[i]).toBeCloseTo(0.1, 12);
      expect(s25[i] / o25[i]).toBeCloseTo(0.1, 12);
    }
    expect(s10[2]).toBeNaN();
  });

  it('refuses bad parameters and mismatched buffers', () => {
    const a = new Float64Array(2);
    const q = new Uint8Array(2);
    const o = () => new Float64Array(2);
    expect(() => extinctionToPm(a, 532, { ...DRY, meePm10: 0 }, q, o(), o())).toThrow(/meePm10: 0/);
    expect(() => extinctionToPm(a, 0, DRY, q, o(), o())).toThrow(/wavelengthNm: 0/);
    expect(() => extinctionToPm(a, 532, DRY, new Uint8Array(3), o(), o())).toThrow(/qc length: 3/);
    expect(() => extinctionToPm(a, 532, { ...DRY, rh: 85 }, q, o(), o())).toThrow(/rh: 85/);
  });
});

describe('aerosolOpticalDepth', () => {
  const n = 401;
  const dr = 7.5;
  const range = Float64Array.from({ length: n }, (_, i) => (i + 0.5) * dr);

  it('is alpha * H for a constant alpha on a vertical path, and projects by sin(E)', () => {
    const alpha = new Float64Array(n).fill(2e-4);
    const h = (n - 1) * dr;
    expect(aerosolOpticalDepth(alpha, range, 90, null, 0, n)).toBeCloseTo(2e-4 * h, 14);
    expect(aerosolOpticalDepth(alpha, range, 30, null, 0, n)).toBeCloseTo(1e-4 * h, 14);
    expect(aerosolOpticalDepth(alpha, range, 90, null, 100, 201)).toBeCloseTo(2e-4 * 100 * dr, 14);
  });

  it('bridges NaN and QC_NO_PM bins by linear interpolation (exact for a linear profile)', () => {
    const alpha = Float64Array.from(range, (r) => 1e-4 + 1e-8 * r);
    const qc = new Uint8Array(n);
    for (let i = 50; i < 80; i++) alpha[i] = Number.NaN;
    for (let i = 200; i < 230; i++) qc[i] = QC.CLOUD;
    const r0 = range[0];
    const r1 = range[n - 1];
    const exact = 1e-4 * (r1 - r0) + 0.5e-8 * (r1 * r1 - r0 * r0);
    expect(aerosolOpticalDepth(alpha, range, 90, qc, 0, n)).toBeCloseTo(exact, 14);
    // LOW_SNR and NEGATIVE bins count.
    qc.fill(QC.LOW_SNR | QC.NEGATIVE, 300, 310);
    expect(aerosolOpticalDepth(alpha, range, 90, qc, 0, n)).toBeCloseTo(exact, 14);
  });

  it('is NaN with fewer than two valid bins and refuses a bad elevation', () => {
    const alpha = new Float64Array(n).fill(Number.NaN);
    alpha[10] = 1e-4;
    expect(aerosolOpticalDepth(alpha, range, 90, null, 0, n)).toBeNaN();
    expect(aerosolOpticalDepth(new Float64Array(n), range, 90, null, 5, 6)).toBeNaN();
    expect(() => aerosolOpticalDepth(alpha, range, 0, null, 0, n)).toThrow(/elevation for an optical depth: 0/);
  });

  it('sums a long path with compensated summation', () => {
    const m = 200_001;
    const r = Float64Array.from({ length: m }, (_, i) => i * 0.1);
    const alpha = new Float64Array(m).fill(0.1);
    expect(aerosolOpticalDepth(alpha, r, 90, null, 0, m)).toBeCloseTo(0.1 * (m - 1) * 0.1, 9);
  });
});
