/**
 * Aerosol extinction to particulate mass (RETRIEVAL.md section 6) and the aerosol optical depth.
 *
 * Method: mass extinction efficiency (MEE) with hygroscopic growth and an Angstrom conversion to
 * 550 nm; growth law f(RH) = ((1 - RH) / (1 - RH_ref))^-gamma (Hanel 1976, Adv. Geophys. 19, 73):
 *   alpha_dry(550) = alpha_aer(lambda) * (lambda / 550 nm)^AE / f(RH)
 *   PM_x [ug/m3]   = alpha_dry(550) [1/m] / MEE_x [m2/g] * 1e6
 * This is the exact inverse of the simulator's optics (simulate/aerosol-field.ts extinctionPerPm10).
 *
 * Negative extinction (noise around zero in clean air) is reported as the negative PM value with
 * QC.NEGATIVE set, not clipped or dropped: EARLINET practice keeps values within noise so that
 * averages over time or space stay unbiased; the flag lets maps hide them.
 *
 * AOD: compensated (Neumaier) trapezoid of alpha_aer over range between consecutive valid bins (a
 * gap of invalid bins is bridged by linear interpolation), projected to the vertical by sin(E)
 * (flat-earth projection, dh = dr sin E).
 */
import { LidarError } from '../errors.js';
import { QC, QC_NO_PM } from './qc.js';
import { sumError } from './preprocess.js';

export interface PmParams {
  /** Mass extinction efficiency of PM10 and PM2.5 at 550 nm (m2/g). */
  meePm10: number;
  meePm25: number;
  /** Hygroscopic growth exponent. */
  gamma: number;
  /** Ambient relative humidity as a fraction (0-1). */
  rh: number;
  /** Angstrom exponent used to convert alpha(lambda) to 550 nm. */
  angstrom: number;
  /** Humidity the MEE refers to (fraction, default 0 = dry). */
  rhRef?: number;
}

/** RH above which f(RH) stops growing (the growth law diverges at saturation). */
export const RH_CAP = 0.95;
/** RH above which bins are flagged QC.HUMID. */
export const RH_HUMID = 0.9;

function checkFraction(value: number, field: string, max: number): void {
  if (!(value >= 0 && value <= max)) {
    const hint = value > 1 && value <= 100 ? ' (a fraction 0-1 is expected, not percent)' : '';
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid ${field}: ${value}${hint}`, { field });
  }
}

/** f(RH) = ((1 - RH) / (1 - RH_ref))^(-gamma), RH capped at 0.95; RH and RH_ref as fractions. */
export function humidityGrowth(rh: number, gamma: number, rhRef = 0): number {
  checkFraction(rh, 'rh', 1);
  checkFraction(rhRef, 'rhRef', RH_CAP);
  if (!(gamma >= 0) || !Number.isFinite(gamma)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid hygroscopic growth exponent gamma: ${gamma}`, { field: 'gamma' });
  return Math.pow((1 - Math.min(rh, RH_CAP)) / (1 - rhRef), -gamma);
}

function checkPositive(value: number, field: string): void {
  if (!(value > 0) || !Number.isFinite(value)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid ${field}: ${value}`, { field });
}

function checkLength(name: string, arr: ArrayLike<number> | null | undefined, n: number): void {
  if (arr && arr.length !== n) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid ${name} length: ${arr.length} (expected ${n})`, { field: name });
}

/** The QC bit every bin of a profile retrieved at relative humidity `p.rh` carries: HUMID above RH_HUMID, else 0. */
export function humidityFlag(p: Pick<PmParams, 'rh'>): number {
  return p.rh > RH_HUMID ? QC.HUMID : 0;
}

/**
 * PM10 and PM2.5 (ug/m3) from aerosol extinction (1/m) at `wavelengthNm`, into out10/out25.
 * NaN where alpha is NaN or qc has a QC_NO_PM bit. Sets QC.HUMID on every bin when RH > 0.9 and
 * QC.NEGATIVE where alpha < 0 (the negative PM is kept). sigmaAlpha (1/m) scales to outSigma10/25
 * by the same factor.
 */
export function extinctionToPm(
  alphaAer: Float64Array,
  wavelengthNm: number,
  p: PmParams,
  qc: Uint8Array,
  out10: Float64Array,
  out25: Float64Array,
  sigmaAlpha?: Float64Array | null,
  outSigma10?: Float64Array | null,
  outSigma25?: Float64Array | null,
): void {
  const n = alphaAer.length;
  checkPositive(wavelengthNm, 'wavelengthNm');
  checkPositive(p.meePm10, 'meePm10');
  checkPositive(p.meePm25, 'meePm25');
  if (!Number.isFinite(p.angstrom)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid Angstrom exponent: ${p.angstrom}`, { field: 'angstrom' });
  checkLength('qc', qc, n);
  checkLength('out10', out10, n);
  checkLength('out25', out25, n);
  checkLength('sigmaAlpha', sigmaAlpha, n);
  checkLength('outSigma10', outSigma10, n);
  checkLength('outSigma25', outSigma25, n);
  // alpha [1/m] -> dry extinction at 550 nm -> g/m3 -> ug/m3, one factor per size class.
  const toDry550 = Math.pow(wavelengthNm / 550, p.angstrom) / humidityGrowth(p.rh, p.gamma, p.rhRef ?? 0);
  const k10 = (toDry550 / p.meePm10) * 1e6;
  const k25 = (toDry550 / p.meePm25) * 1e6;
  const humid = humidityFlag(p);
  const sig = sigmaAlpha ?? null;
  for (let i = 0; i < n; i++) {
    const a = alphaAer[i];
    qc[i] |= humid;
    if (a < 0) qc[i] |= QC.NEGATIVE;
    const ok = (qc[i] & QC_NO_PM) === 0 && !Number.isNaN(a);
    out10[i] = ok ? a * k10 : NaN;
    out25[i] = ok ? a * k25 : NaN;
    if (sig) {
      const s = ok ? sig[i] : NaN;
      if (outSigma10) outSigma10[i] = s * k10;
      if (outSigma25) outSigma25[i] = s * k25;
    }
  }
}

/**
 * Vertical aerosol optical depth over the valid bins of [from, to): the compensated trapezoid of
 * alpha_aer over range between consecutive valid bins, times sin(elevation). A bin is valid when
 * alpha is finite and qc (if given) has no QC_NO_PM bit. NaN with fewer than 2 valid bins; no
 * extrapolation below the first or beyond the last valid bin.
 */
export function aerosolOpticalDepth(alphaAer: Float64Array, rangeM: Float64Array, elevationDeg: number, qc: Uint8Array | null, from: number, to: number): number {
  const n = alphaAer.length;
  checkLength('rangeM', rangeM, n);
  checkLength('qc', qc, n);
  if (!(elevationDeg > 0 && elevationDeg <= 90)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid elevation for an optical depth: ${elevationDeg} deg`, { field: 'elevationDeg' });
  const start = Math.max(0, Math.floor(from));
  const end = Math.min(n, Math.floor(to));
  let sum = 0;
  let comp = 0;
  let prev = -1;
  let valid = 0;
  for (let i = start; i < end; i++) {
    const a = alphaAer[i];
    if (!Number.isFinite(a) || (qc !== null && (qc[i] & QC_NO_PM) !== 0)) continue;
    valid++;
    if (prev >= 0) {
      const term = 0.5 * (a + alphaAer[prev]) * (rangeM[i] - rangeM[prev]);
      // Neumaier compensated summation.
      const t = sum + term;
      comp += sumError(sum, term, t);
      sum = t;
    }
    prev = i;
  }
  if (valid < 2) return NaN;
  return (sum + comp) * Math.sin((elevationDeg * Math.PI) / 180);
}
