// EARLINET algorithm intercomparison case 1 (Boeckmann et al. 2004, Appl. Opt. 43, 977): the synthetic
// signals at 355/532/1064 nm and their known solution, read from ../shared/data/earlinet (never copied
// into the repository). Fernald with the true lidar ratio, the case's own P/T per bin (Bucholtz 1995),
// an aerosol-free reference near 6 km and near 10 km (Rayleigh fit, scattering ratio 1), and the
// molecular lidar ratio the case was made with: 8 pi / 3 times Freudenthaler's (2015) King-factor
// ratio K_bw (8.506 / 8.497 / 8.492 sr), not the pure-dipole 8 pi / 3 of our default.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fernald } from '../processing/retrieval/klett.js';
import { attenuatedMolecular, rayleighFit } from '../processing/retrieval/reference.js';
import { freudenthalerLidarRatioSr, molecularProfile, MOLECULAR_LIDAR_RATIO_SR } from '../processing/atmosphere/rayleigh.js';

const DATA = join(import.meta.dirname, '..', '..', 'shared', 'data', 'earlinet');

function rows(file: string): number[][] {
  return readFileSync(join(DATA, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => l.trim().split(/\s+/).map(Number));
}

interface Case {
  zM: Float64Array;
  pressurePa: Float64Array;
  temperatureK: Float64Array;
  lidarRatioSr: Float64Array;
  signal: Float64Array;
  alphaAerTrue: Float64Array;
}

function readCase(wavelengthNm: number): Case {
  const sig = rows(`signal_${wavelengthNm}.txt`);
  const sol = rows(`solution_${wavelengthNm}.txt`);
  expect(sol.length).toBe(sig.length);
  const col = (t: number[][], k: number, scale = 1) => Float64Array.from(t, (r) => r[k] * scale);
  for (let i = 0; i < sig.length; i++) expect(sol[i][0]).toBe(sig[i][0]);
  return {
    zM: col(sig, 0),
    pressurePa: col(sig, 1, 100),
    temperatureK: col(sig, 2),
    lidarRatioSr: col(sig, 4),
    signal: col(sig, 6),
    alphaAerTrue: col(sol, 1),
  };
}

/** Retrieval with the reference window [refM - 500, refM + 500) m; returns beta_aer and the bins. */
function retrieve(c: Case, wavelengthNm: number, refM: number, SM: number): Float64Array {
  const n = c.zM.length;
  const rangeM = c.zM; // vertical: range = height above ground
  const mol = molecularProfile({ pressurePa: c.pressurePa, temperatureK: c.temperatureK }, wavelengthNm, { crossSection: 'bucholtz1995', lidarRatioSr: SM });
  const rcs = Float64Array.from(c.signal, (p, i) => p * rangeM[i] * rangeM[i]);
  const att = attenuatedMolecular(rangeM, mol.betaMol, SM);
  const from = c.zM.findIndex((z) => z >= refM - 500);
  const to = c.zM.findIndex((z) => z >= refM + 500);
  const fit = rayleighFit(rcs, att, from, to, undefined, rangeM);
  const out = { betaAer: new Float64Array(n), alphaAer: new Float64Array(n) };
  fernald({ rangeM, rcs, betaMol: mol.betaMol, molecularLidarRatioSr: SM, lidarRatioSr: c.lidarRatioSr, from: 0, to }, fit.ref, 0, fit.rcsRef, out);
  return out.betaAer;
}

/** Largest |relative error| of beta_aer between zMin and zMax (m above ground). */
function worstError(c: Case, beta: Float64Array, zMin: number, zMax: number): number {
  let worst = 0;
  for (let i = 0; i < c.zM.length; i++) {
    if (c.zM[i] < zMin || c.zM[i] > zMax) continue;
    worst = Math.max(worst, Math.abs(beta[i] / (c.alphaAerTrue[i] / c.lidarRatioSr[i]) - 1));
  }
  return worst;
}

// The data README quotes better than 0.05% (355, 532 nm) and about 1% (1064 nm) over 0.3-2 km. With the
// molecular lidar ratio the case was made with (8 pi / 3 K_bw, about 8.5 sr) this is reproduced:
// 355 nm 0.045-0.047%, 532 nm 0.037% (10 km) and 0.072% (6 km: the case's ~1e-7 /m of aerosol above
// 2.5 km is 0.3% of the molecular backscatter there at 532 nm, which an aerosol-free reference
// ignores), 1064 nm 1.2-1.4%. With the pure-dipole 8 pi / 3 the molecular backscatter is 1.5% high and
// the error at 355/532 nm grows to ~0.95%, mostly from the steps of the boundary-layer top where
// molecular and aerosol backscatter are comparable. See docs/retrieval.md.
describe.skipIf(!existsSync(DATA))('EARLINET case 1: backscatter in the boundary layer', () => {
  const cases: Array<[number, number, number, number]> = [
    // wavelength, reference (m), limit 0.3-1 km, limit 0.3-2 km
    [355, 6000, 5e-4, 5e-4],
    [355, 10000, 5e-4, 5e-4],
    [532, 6000, 5e-4, 9e-4],
    [532, 10000, 5e-4, 5e-4],
    [1064, 6000, 1e-2, 1.6e-2],
    [1064, 10000, 1e-2, 1.6e-2],
  ];
  for (const [wl, refM, limitLow, limitBl] of cases) {
    it(`${wl} nm, reference near ${refM / 1000} km, S_mol 8 pi / 3 K_bw: within ${limitLow * 100}% (0.3-1 km), ${limitBl * 100}% (0.3-2 km)`, () => {
      const c = readCase(wl);
      const beta = retrieve(c, wl, refM, freudenthalerLidarRatioSr(wl));
      const low = worstError(c, beta, 300, 1000);
      const bl = worstError(c, beta, 300, 2000);
      console.log(`EARLINET ${wl} nm, reference ${refM / 1000} km: max |relative error| of beta_aer ${(low * 100).toFixed(4)}% (0.3-1 km), ${(bl * 100).toFixed(4)}% (0.3-2 km)`);
      expect(low).toBeLessThanOrEqual(limitLow);
      expect(bl).toBeLessThanOrEqual(limitBl);
    });
  }

  it('the pure-dipole S_mol (8 pi / 3) misses the case at 355/532 nm by ~1%, ten times the King-factor value', () => {
    for (const wl of [355, 532]) {
      const c = readCase(wl);
      const dipole = worstError(c, retrieve(c, wl, 10000, MOLECULAR_LIDAR_RATIO_SR), 300, 2000);
      const king = worstError(c, retrieve(c, wl, 10000, freudenthalerLidarRatioSr(wl)), 300, 2000);
      expect(dipole).toBeGreaterThan(5e-3);
      expect(dipole).toBeLessThan(1.2e-2);
      expect(dipole).toBeGreaterThan(10 * king);
    }
  });
});
