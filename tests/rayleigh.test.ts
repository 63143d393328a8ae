// Rayleigh cross sections (Bucholtz 1995, Freudenthaler 2015) and molecular extinction/backscatter profiles.
import { describe, expect, it } from 'vitest';
import {
  BOLTZMANN_J_PER_K,
  MOLECULAR_LIDAR_RATIO_SR,
  freudenthalerLidarRatioSr,
  molecularProfile,
  rayleighCrossSectionM2,
} from '../processing/atmosphere/rayleigh.js';
import { us1976 } from '../processing/atmosphere/standard-atmosphere.js';
import { LidarError } from '../processing/errors.js';

/**
 * Freudenthaler (2015), EARLINET molecular coefficients, total scattering, as tabulated in the EARLINET
 * lidar_processing helper functions: Cs = alpha_mol T / P and BsT = beta_mol T / P, both K/hPa/m.
 * sigma = Cs k_B / 100 (hPa -> Pa). These are an independent check of the Bucholtz fit.
 */
const FREUDENTHALER = {
  355: { Cs: 1.9957e-5, BsT: 2.3463e-6 },
  532: { Cs: 3.7382e-6, BsT: 4.3997e-7 },
  1064: { Cs: 2.2622e-7, BsT: 2.6638e-8 },
} as const;

const rel = (a: number, b: number) => Math.abs(a / b - 1);

describe('rayleighCrossSectionM2', () => {
  it('Bucholtz 1995 at 532 nm: 5.16e-31 m^2, within 0.1% of the Freudenthaler 2015 table', () => {
    const s = rayleighCrossSectionM2(532);
    // Direct evaluation of the fit: 4.01061e-28 cm^2 * 0.532^-(3.99668 + 1.10298e-3*0.532 + 2.71393e-2/0.532)
    expect(s).toBeCloseTo(5.1618e-31, 34);
    expect(rel(s, (FREUDENTHALER[532].Cs * BOLTZMANN_J_PER_K) / 100)).toBeLessThan(1e-3);
    expect(rayleighCrossSectionM2(532, 'bucholtz1995')).toBe(s);
  });

  it('Bucholtz and Freudenthaler agree within 0.5% at the EARLINET wavelengths', () => {
    for (const wl of [355, 387, 407, 532, 607, 1064]) {
      expect(rel(rayleighCrossSectionM2(wl), rayleighCrossSectionM2(wl, 'freudenthaler2015')), `${wl} nm`).toBeLessThan(5e-3);
    }
    for (const wl of [355, 532, 1064] as const) {
      expect(rayleighCrossSectionM2(wl, 'freudenthaler2015')).toBe((FREUDENTHALER[wl].Cs * BOLTZMANN_J_PER_K) / 100);
    }
  });

  it('has the lambda^-4.0x dependence: sigma(532)/sigma(1064) = 16.5 (Freudenthaler table: 16.52)', () => {
    const ratio = rayleighCrossSectionM2(532) / rayleighCrossSectionM2(1064);
    expect(ratio).toBeCloseTo(FREUDENTHALER[532].Cs / FREUDENTHALER[1064].Cs, 1);
    const exponent = Math.log(ratio) / Math.log(2);
    expect(exponent).toBeGreaterThan(4.0);
    expect(exponent).toBeLessThan(4.1);
    // steeper in the UV: 355 -> 532 nm
    const uv = Math.log(rayleighCrossSectionM2(355) / rayleighCrossSectionM2(532)) / Math.log(532 / 355);
    expect(uv).toBeGreaterThan(exponent);
    expect(uv).toBeLessThan(4.2);
  });

  it('is continuous across the 0.5 um switch of coefficient sets (within 0.5%)', () => {
    expect(rel(rayleighCrossSectionM2(499.999), rayleighCrossSectionM2(500.001))).toBeLessThan(5e-3);
  });

  it('interpolates the Freudenthaler table in log-log and refuses to extrapolate', () => {
    const a = rayleighCrossSectionM2(386.89, 'freudenthaler2015');
    const b = rayleighCrossSectionM2(400, 'freudenthaler2015');
    const mid = rayleighCrossSectionM2(Math.sqrt(386.89 * 400), 'freudenthaler2015');
    expect(mid).toBeCloseTo(Math.sqrt(a * b), 40);
    expect(() => rayleighCrossSectionM2(300, 'freudenthaler2015')).toThrow(/invalid wavelength: 300 nm/);
    expect(() => rayleighCrossSectionM2(1100, 'freudenthaler2015')).toThrow(LidarError);
  });

  it('rejects bad wavelengths and models', () => {
    expect(() => rayleighCrossSectionM2(-3)).toThrow(/invalid wavelength: -3 nm/);
    expect(() => rayleighCrossSectionM2(NaN)).toThrow(LidarError);
    expect(() => rayleighCrossSectionM2(150)).toThrow(/Bucholtz 1995 covers 200-4000 nm/);
    expect(() => rayleighCrossSectionM2(532, 'foo' as never)).toThrow(/invalid cross-section model: foo/);
  });
});

describe('molecularProfile', () => {
  it('sea-level standard air at 532 nm: alpha = 1.31e-5 /m, beta = 1.57e-6 /m/sr (8 pi/3)', () => {
    const mol = molecularProfile(us1976([0]), 532);
    const n = 101325 / (BOLTZMANN_J_PER_K * 288.15); // 2.5470e25 m^-3 (Bucholtz's Ns 2.54743e25 includes non-ideality)
    expect(mol.alphaMol[0]).toBeCloseTo(n * rayleighCrossSectionM2(532), 18);
    expect(mol.alphaMol[0]).toBeCloseTo(1.3147e-5, 9);
    expect(mol.betaMol[0]).toBeCloseTo(mol.alphaMol[0] / MOLECULAR_LIDAR_RATIO_SR, 20);
    expect(MOLECULAR_LIDAR_RATIO_SR).toBeCloseTo(8.37758, 5);
    // Freudenthaler total backscatter (includes the King factor of the backscatter phase function, ~1.4%):
    const betaFreudenthaler = (FREUDENTHALER[532].BsT * 1013.25) / 288.15; // 1.547e-6 /m/sr
    expect(rel(mol.betaMol[0], betaFreudenthaler)).toBeLessThan(0.02);
  });

  it('with the Freudenthaler cross section and lidar ratio, reproduces his backscatter table', () => {
    const atm = us1976([0, 2000, 8000]);
    for (const wl of [355, 532, 1064] as const) {
      const mol = molecularProfile(atm, wl, { crossSection: 'freudenthaler2015', lidarRatioSr: freudenthalerLidarRatioSr(wl) });
      for (let i = 0; i < 3; i++) {
        const expected = (FREUDENTHALER[wl].BsT * atm.pressurePa[i]) / 100 / atm.temperatureK[i];
        expect(rel(mol.betaMol[i], expected), `${wl} nm`).toBeLessThan(5e-4);
      }
    }
    expect(freudenthalerLidarRatioSr(532)).toBeCloseTo(8.497, 3);
  });

  it('propagates NaN, uses out buffers and validates options', () => {
    const atm = { pressurePa: Float64Array.from([NaN, 90000]), temperatureK: Float64Array.from([280, 280]) };
    const out = { alphaMol: new Float64Array(2), betaMol: new Float64Array(2) };
    expect(molecularProfile(atm, 1064, {}, out)).toBe(out);
    expect(Number.isNaN(out.alphaMol[0]) && Number.isNaN(out.betaMol[0])).toBe(true);
    expect(out.alphaMol[1]).toBeGreaterThan(0);
    expect(() => molecularProfile(atm, 532, { lidarRatioSr: 0 })).toThrow(/invalid molecular lidar ratio: 0 sr/);
    expect(() => molecularProfile(atm, 532, {}, { alphaMol: new Float64Array(1), betaMol: new Float64Array(1) })).toThrow(/output buffer/);
  });
});
