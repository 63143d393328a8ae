/**
 * Molecular (Rayleigh) extinction and backscatter from pressure and temperature.
 *
 * Total Rayleigh scattering cross section per molecule of standard air:
 * - 'bucholtz1995': Bucholtz, A. (1995) "Rayleigh-scattering calculations for the terrestrial
 *   atmosphere", Appl. Opt. 34, 2765-2773: the paper's fit  sigma = A lambda^-(B + C lambda + D / lambda)
 *   (lambda in um, sigma in cm^2) to its cross sections for standard air (King factor included,
 *   Ns = 2.54743e19 cm^-3 at 288.15 K, 1013.25 hPa), two coefficient sets:
 *     0.2-0.5 um: A = 3.01577e-28, B = 3.55212, C = 1.35579,    D = 0.11563
 *     > 0.5 um:   A = 4.01061e-28, B = 3.99668, C = 1.10298e-3, D = 2.71393e-2
 *   (the same numbers are used e.g. by ECMWF ecckd, src/ecckd/rayleigh_scattering.h). Accepted for
 *   200-4000 nm, the wavelength range of the paper's calculations.
 * - 'freudenthaler2015': Freudenthaler, V. (2015) "Rayleigh scattering coefficients and linear
 *   depolarization ratios at several EARLINET lidar wavelengths" (EARLINET/ACTRIS report), table of
 *   Cs = alpha_mol T / P in K/hPa/m at 308 ... 1064.15 nm, as used by the EARLINET/SCC processing
 *   (e.g. lidar_processing helper_functions). Converted here to a cross section sigma = Cs k_B / 100.
 *   Between table wavelengths the value is interpolated linearly in log(sigma)-log(lambda) (exact for a
 *   local power law); outside 308-1064.15 nm it throws rather than extrapolate.
 *
 * Volume coefficients: alpha_mol = N sigma with N = P / (k_B T) (ideal gas), beta_mol = alpha_mol / S_mol,
 * S_mol = 8 pi / 3 sr by default (the pure-dipole value; Freudenthaler's total-scattering value including
 * the King-factor correction of the backscatter phase function is 8 pi / 3 * Kbw, about 8.50 sr at 532 nm:
 * see `freudenthalerLidarRatioSr`).
 */
import { LidarError } from '../errors.js';
import type { AtmosphereState } from './standard-atmosphere.js';

export type CrossSectionModel = 'bucholtz1995' | 'freudenthaler2015';

/** Molecular extinction-to-backscatter ratio of pure Rayleigh (dipole) scattering, sr. */
export const MOLECULAR_LIDAR_RATIO_SR: number = (8 * Math.PI) / 3;
/** Boltzmann constant (SI 2019, exact), J/K. */
export const BOLTZMANN_J_PER_K = 1.380649e-23;

/** Bucholtz (1995) table 3 coefficients, sigma in cm^2 with lambda in um. */
const BUCHOLTZ_SHORT = { A: 3.01577e-28, B: 3.55212, C: 1.35579, D: 0.11563 } as const;
const BUCHOLTZ_LONG = { A: 4.01061e-28, B: 3.99668, C: 1.10298e-3, D: 2.71393e-2 } as const;
const CM2_TO_M2 = 1e-4;

/** Freudenthaler (2015): wavelength (nm, in air) and Cs = alpha_mol T / P (K/hPa/m), total scattering. */
const FREUDENTHALER_NM = [308, 351, 354.717, 355, 386.89, 400, 407.558, 510.6, 532, 532.075, 607.435, 710, 800, 1064, 1064.15];
const FREUDENTHALER_CS = [
  3.6506e-5, 2.0934e-5, 2.0024e-5, 1.9957e-5, 1.3942e-5, 1.2109e-5, 1.1202e-5, 4.4221e-6, 3.7382e-6, 3.7361e-6, 2.1772e-6,
  1.1561e-6, 7.1364e-7, 2.2622e-7, 2.2609e-7,
];
/** Freudenthaler (2015): backscatter King-factor ratio Kbw (total), S_mol = 8 pi / 3 * Kbw. */
const FREUDENTHALER_KBW_NM = [308, 351, 354.717, 355, 400, 510.6, 532, 532.075, 710, 800, 1064, 1064.15];
const FREUDENTHALER_KBW = [1.0161, 1.01535, 1.0153, 1.0153, 1.01484, 1.01427, 1.01421, 1.01421, 1.0139, 1.01383, 1.01371, 1.01371];

function badWavelength(wavelengthNm: number, why: string): LidarError {
  return new LidarError('LIDAR_ERR_BAD_VALUE', `invalid wavelength: ${wavelengthNm} nm (${why})`, { field: 'wavelengthNm' });
}

/** Index i with xs[i] <= x <= xs[i+1]; caller has checked the range. */
function bracket(xs: readonly number[], x: number): number {
  let i = 0;
  while (i < xs.length - 2 && x > xs[i + 1]) i++;
  return i;
}

function interpolateLogLog(xs: readonly number[], ys: readonly number[], x: number): number {
  const i = bracket(xs, x);
  if (x === xs[i]) return ys[i];
  if (x === xs[i + 1]) return ys[i + 1];
  const f = Math.log(x / xs[i]) / Math.log(xs[i + 1] / xs[i]);
  return ys[i] * Math.exp(f * Math.log(ys[i + 1] / ys[i]));
}

/** Total Rayleigh scattering cross section per molecule of standard air, m^2. */
export function rayleighCrossSectionM2(wavelengthNm: number, model: CrossSectionModel = 'bucholtz1995'): number {
  if (!Number.isFinite(wavelengthNm) || wavelengthNm <= 0) throw badWavelength(wavelengthNm, 'must be > 0');
  if (model === 'bucholtz1995') {
    if (wavelengthNm < 200 || wavelengthNm > 4000) throw badWavelength(wavelengthNm, 'Bucholtz 1995 covers 200-4000 nm');
    const um = wavelengthNm / 1000;
    const c = um <= 0.5 ? BUCHOLTZ_SHORT : BUCHOLTZ_LONG;
    return c.A * Math.pow(um, -(c.B + c.C * um + c.D / um)) * CM2_TO_M2;
  }
  if (model === 'freudenthaler2015') {
    const lo = FREUDENTHALER_NM[0];
    const hi = FREUDENTHALER_NM[FREUDENTHALER_NM.length - 1];
    if (wavelengthNm < lo || wavelengthNm > hi) throw badWavelength(wavelengthNm, `Freudenthaler 2015 table covers ${lo}-${hi} nm`);
    const cs = interpolateLogLog(FREUDENTHALER_NM, FREUDENTHALER_CS, wavelengthNm);
    return (cs * BOLTZMANN_J_PER_K) / 100; // alpha = Cs P[hPa] / T = sigma P[Pa] / (k T)
  }
  throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid cross-section model: ${String(model)}`, { field: 'crossSection' });
}

/**
 * Freudenthaler (2015) total molecular lidar ratio 8 pi / 3 * Kbw (sr), 308-1064.15 nm, linear in
 * wavelength between table entries (about 8.497 sr at 532 nm).
 */
export function freudenthalerLidarRatioSr(wavelengthNm: number): number {
  const xs = FREUDENTHALER_KBW_NM;
  if (!(wavelengthNm >= xs[0] && wavelengthNm <= xs[xs.length - 1])) {
    throw badWavelength(wavelengthNm, `Freudenthaler 2015 table covers ${xs[0]}-${xs[xs.length - 1]} nm`);
  }
  const i = bracket(xs, wavelengthNm);
  const f = (wavelengthNm - xs[i]) / (xs[i + 1] - xs[i]);
  return MOLECULAR_LIDAR_RATIO_SR * (FREUDENTHALER_KBW[i] + f * (FREUDENTHALER_KBW[i + 1] - FREUDENTHALER_KBW[i]));
}

export interface MolecularOptions {
  crossSection?: CrossSectionModel;
  /** Molecular lidar ratio S_mol, sr (default 8 pi / 3). */
  lidarRatioSr?: number;
}

export interface MolecularProfile {
  /** Molecular extinction, 1/m. */
  alphaMol: Float64Array;
  /** Molecular backscatter, 1/(m sr). */
  betaMol: Float64Array;
}

/** alpha_mol = P / (k_B T) * sigma and beta_mol = alpha_mol / S_mol per height; NaN P or T gives NaN. */
export function molecularProfile(
  atm: AtmosphereState,
  wavelengthNm: number,
  opts: MolecularOptions = {},
  out?: MolecularProfile,
): MolecularProfile {
  const n = atm.pressurePa.length;
  if (atm.temperatureK.length !== n) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid atmosphere: ${n} pressures but ${atm.temperatureK.length} temperatures`, {
      field: 'atm',
    });
  }
  const lidarRatio = opts.lidarRatioSr ?? MOLECULAR_LIDAR_RATIO_SR;
  if (!(lidarRatio > 0 && lidarRatio < Infinity)) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid molecular lidar ratio: ${lidarRatio} sr`, { field: 'lidarRatioSr' });
  }
  const sigma = rayleighCrossSectionM2(wavelengthNm, opts.crossSection ?? 'bucholtz1995');
  let res = out;
  if (res === undefined) {
    res = { alphaMol: new Float64Array(n), betaMol: new Float64Array(n) };
  } else if (res.alphaMol.length !== n || res.betaMol.length !== n) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid output buffer length: ${res.alphaMol.length}/${res.betaMol.length} (expected ${n})`, {
      field: 'out',
    });
  }
  const sigmaOverK = sigma / BOLTZMANN_J_PER_K;
  const invS = 1 / lidarRatio;
  const { pressurePa, temperatureK } = atm;
  const { alphaMol, betaMol } = res;
  for (let i = 0; i < n; i++) {
    const a = (sigmaOverK * pressurePa[i]) / temperatureK[i];
    alphaMol[i] = a;
    betaMol[i] = a * invS;
  }
  return res;
}
