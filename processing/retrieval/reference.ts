/**
 * Boundary values for the Fernald-Klett inversion (klett.ts): the reference modes of RETRIEVAL.md
 * section 4.
 *
 * - Molecular optical depth and attenuated molecular backscatter beta_mol T_mol^2: the trapezoid on the
 *   bin centres from r = 0, the first half bin (0 .. r_0) with the first bin's alpha_mol = S_m beta_mol
 *   (the forward model's discretisation, processing/simulate/forward.ts), Neumaier-compensated.
 * - Rayleigh fit (`rayleigh` mode): weighted least squares of X = K beta_mol T_mol^2 over an aerosol-free
 *   window, K = sum(w X a) / sum(w a^2) with w = 1/sigma^2 (or 1); the fitted X(r_c) = K a(r_c) is the
 *   boundary signal. Flatness: straight-line least squares of q = X/a against range (weights a^2/sigma^2,
 *   the inverse variance of q), slope relative to K, per km.
 * - Automatic window (`auto`): among candidate windows with enough SNR, the flattest and least
 *   scattering one (score below).
 * - Slope method (`slope` mode; Collis, R. T. H. (1966) Q. J. R. Meteorol. Soc. 92, 220; Kunz, G. J. &
 *   de Leeuw, G. (1993) Appl. Opt. 32, 3249): on a homogeneous path X = C beta exp(-2 alpha r), so a
 *   straight-line least-squares fit of ln X against r gives alpha_total = -slope / 2.
 * Fits centre range and values on their means before forming sums (no cancellation).
 */
import { LidarError } from '../errors.js';
import { sumError } from './preprocess.js';

function badValue(field: string, detail: string): LidarError {
  return new LidarError('LIDAR_ERR_BAD_VALUE', detail, { field });
}

function checkWindow(n: number, from: number, to: number): void {
  if (!(Number.isInteger(from) && from >= 0 && from < n)) throw badValue('from', `invalid window start bin: ${from} (expected 0..${n - 1})`);
  if (!(Number.isInteger(to) && to > from && to <= n)) throw badValue('to', `invalid window end bin: ${to} (expected ${from + 1}..${n})`);
}

function checkLength(name: string, a: ArrayLike<number>, n: number): void {
  if (a.length !== n) throw badValue(name, `invalid ${name} length: ${a.length} (expected ${n})`);
}

/**
 * Molecular optical depth from the lidar (r = 0) to the centre of bin `bin`: trapezoid on the bin centres,
 * the first half bin with the first bin's extinction; bins at r <= 0 (pre-trigger) are skipped. When
 * `out` is given, the optical depth to every bin 0..bin is written to it (NaN at r <= 0).
 */
export function molecularOpticalDepth(rangeM: Float64Array, betaMol: Float64Array, molecularLidarRatioSr: number, bin: number, out?: Float64Array): number {
  let sum = 0;
  let comp = 0;
  let prevAlpha = NaN;
  let prevR = 0;
  for (let i = 0; i <= bin; i++) {
    const r = rangeM[i];
    if (!(r > 0)) {
      if (out) out[i] = NaN;
      continue;
    }
    const alpha = betaMol[i] * molecularLidarRatioSr;
    const t = prevAlpha === prevAlpha ? 0.5 * (alpha + prevAlpha) * (r - prevR) : alpha * r;
    const s = sum + t;
    comp += sumError(sum, t, s);
    sum = s;
    prevAlpha = alpha;
    prevR = r;
    if (out) out[i] = sum + comp;
  }
  return sum + comp;
}

/**
 * Attenuated molecular backscatter beta_mol * T_mol^2 (T_mol from r = 0, same trapezoid convention), for
 * Rayleigh fits and cloud/hard-target screening. NaN at r <= 0.
 */
export function attenuatedMolecular(rangeM: Float64Array, betaMol: Float64Array, molecularLidarRatioSr: number, out?: Float64Array): Float64Array {
  const n = rangeM.length;
  checkLength('betaMol', betaMol, n);
  if (!(molecularLidarRatioSr > 0 && molecularLidarRatioSr < Infinity)) {
    throw badValue('molecularLidarRatioSr', `invalid molecular lidar ratio: ${molecularLidarRatioSr} sr`);
  }
  if (out !== undefined) checkLength('out', out, n);
  const res = out ?? new Float64Array(n);
  if (n === 0) return res;
  molecularOpticalDepth(rangeM, betaMol, molecularLidarRatioSr, n - 1, res);
  for (let i = 0; i < n; i++) res[i] = betaMol[i] * Math.exp(-2 * res[i]);
  return res;
}

export interface RayleighFit {
  /** Reference bin: the window's centre bin. */
  ref: number;
  /** Fitted signal at ref, K * attMol[ref]. */
  rcsRef: number;
  /** K in X = K * attMol. */
  scale: number;
  from: number;
  to: number;
  /** rms of X / (K attMol) - 1 over the window's valid bins. */
  relativeResidual: number;
  /** Relative slope of X/attMol (per km of range, relative to K); NaN when no ranges are given. */
  slopePerKm: number;
  /** sum(X) / sqrt(sum(sigma^2)) over the window; Infinity without sigma. */
  snr: number;
}

/**
 * Least-squares fit X = K * attMol over bins [from, to) (weights 1/sigma^2 when sigma given), ref = window
 * centre bin, rcsRef = K * attMol[ref] (this already contains the window's scattering ratio; the caller
 * sets beta_aer(ref) = (R - 1) * betaMol[ref]). Bins where X, attMol or sigma is not finite (or
 * sigma <= 0, attMol <= 0) are skipped. relativeResidual: rms of (X/(K attMol) - 1); slopePerKm: relative
 * slope of X/attMol per km (needs `rangeM`, an addition to the contract; NaN without it); snr:
 * sum(X)/sqrt(sum(sigma^2)) over the window (Infinity when no sigma). Fewer than 2 valid bins: scale NaN.
 */
export function rayleighFit(rcs: Float64Array, attMol: Float64Array, from: number, to: number, sigma?: Float64Array, rangeM?: Float64Array): RayleighFit {
  const n = rcs.length;
  checkLength('attMol', attMol, n);
  if (sigma !== undefined) checkLength('sigma', sigma, n);
  if (rangeM !== undefined) checkLength('rangeM', rangeM, n);
  checkWindow(n, from, to);
  return fitWindow(rcs, attMol, from, to, sigma, rangeM, -Infinity)!;
}

/**
 * `rayleighFit` without the argument checks; null (the second pass skipped) when the window's snr is
 * not >= `minSnr` (a NaN snr fails, as in the caller's test); minSnr -Infinity: never null.
 */
function fitWindow(rcs: Float64Array, attMol: Float64Array, from: number, to: number, sigma: Float64Array | undefined, rangeM: Float64Array | undefined, minSnr: number): RayleighFit | null {
  const ref = (from + to - 1) >> 1;
  // Pass 1: scale K, signal and noise sums, mean range of the q fit.
  let sxa = 0;
  let saa = 0;
  let sumX = 0;
  let sumVar = 0;
  let count = 0;
  let sw = 0;
  let swr = 0;
  for (let i = from; i < to; i++) {
    const x = rcs[i];
    const a = attMol[i];
    const sd = sigma === undefined ? 1 : sigma[i];
    if (!(Number.isFinite(x) && a > 0 && a < Infinity && sd > 0 && sd < Infinity)) continue;
    const w = 1 / (sd * sd);
    sxa += w * x * a;
    saa += w * a * a;
    sumX += x;
    sumVar += sd * sd;
    count++;
    if (rangeM !== undefined) {
      const wq = a * a * w;
      sw += wq;
      swr += wq * rangeM[i];
    }
  }
  const scale = count >= 2 ? sxa / saa : NaN;
  const snr = sigma === undefined ? (count > 0 ? Infinity : NaN) : sumX / Math.sqrt(sumVar);
  if (minSnr > -Infinity && !(snr >= minSnr)) return null;
  // Pass 2: residuals and the weighted straight line of q = X/a against range (centred).
  const rMean = swr / sw;
  let ss = 0;
  let srr = 0;
  let srq = 0;
  for (let i = from; i < to; i++) {
    const x = rcs[i];
    const a = attMol[i];
    const sd = sigma === undefined ? 1 : sigma[i];
    if (!(Number.isFinite(x) && a > 0 && a < Infinity && sd > 0 && sd < Infinity)) continue;
    const e = x / (scale * a) - 1;
    ss += e * e;
    if (rangeM !== undefined) {
      const wq = (a * a) / (sd * sd);
      const dr = (rangeM[i] - rMean) / 1000;
      srr += wq * dr * dr;
      srq += wq * dr * e; // q / K - 1: the relative deviation, so the slope comes out relative to K
    }
  }
  return {
    ref,
    rcsRef: scale * attMol[ref],
    scale,
    from,
    to,
    relativeResidual: count >= 2 ? Math.sqrt(ss / count) : NaN,
    slopePerKm: rangeM !== undefined && count >= 2 && srr > 0 ? srq / srr : NaN,
    snr,
  };
}

export interface AutoReferenceOptions {
  minRangeM: number;
  maxRangeM: number;
  /** Window length (m), default 1000. */
  windowM?: number;
  /** Minimum window SNR (rayleighFit's snr), default 10. */
  minSnr?: number;
  /** Windows end at or below this bin (exclusive), e.g. a cloud base. */
  maxIndex?: number;
  sigma?: Float64Array;
}

/**
 * 'auto' reference window: candidate windows of windowM (default 1000 m) stepped by half a window within
 * [minRangeM, maxRangeM) and below `maxIndex`; among those with snr >= minSnr (default 10) the one with the
 * smallest score, an estimate of the relative error of its boundary signal:
 *   score = |slopePerKm| L_km / 2  +  max(0, K / K_floor - 1)  +  2 e,
 *   e = relativeResidual / sqrt(n)  (relative standard error of K),  K_floor = min over candidates of K (1 + 2 e).
 * First term: the trend of X/attMol across the window (half its change over the window length L).
 * Second: the scattering-ratio excess over the least scattering candidate (aerosol makes X/attMol larger
 * than above it, never smaller); the floor is that candidate's upper 2-sigma bound, so a noisy far window
 * that happens to fit low does not make every other window look aerosol-laden. Third: the noise of K.
 * Noise-free, the score is the trend plus the excess, zero only where the air is aerosol-free.
 * Null when none qualifies.
 */
export function autoReferenceWindow(rangeM: Float64Array, rcs: Float64Array, attMol: Float64Array, opts: AutoReferenceOptions): { from: number; to: number } | null {
  const fits = referenceCandidates(rangeM, rcs, attMol, opts);
  if (fits.length === 0) return null;
  let kFloor = Infinity;
  for (const f of fits) kFloor = Math.min(kFloor, f.scale * (1 + 2 * standardErrorOfScale(f)));
  let best: RayleighFit | null = null;
  let bestScore = Infinity;
  for (const f of fits) {
    const lengthKm = (rangeM[f.to - 1] - rangeM[f.from]) / 1000;
    const score = (Math.abs(f.slopePerKm) * lengthKm) / 2 + Math.max(0, f.scale / kFloor - 1) + 2 * standardErrorOfScale(f);
    if (score < bestScore) {
      bestScore = score;
      best = f;
    }
  }
  return best === null ? null : { from: best.from, to: best.to };
}

/**
 * The candidates `autoReferenceWindow` scores: the Rayleigh fits (as `rayleighFit` with `opts.sigma`
 * and the ranges gives them) of the windows of windowM stepped by half a window within
 * [minRangeM, maxRangeM) and below maxIndex, that have snr >= minSnr, a positive scale and a slope.
 */
export function referenceCandidates(rangeM: Float64Array, rcs: Float64Array, attMol: Float64Array, opts: AutoReferenceOptions): RayleighFit[] {
  const n = rangeM.length;
  checkLength('rcs', rcs, n);
  checkLength('attMol', attMol, n);
  const windowM = opts.windowM ?? 1000;
  const minSnr = opts.minSnr ?? 10;
  const maxIndex = Math.min(opts.maxIndex ?? n, n);
  if (!(windowM > 0 && windowM < Infinity)) throw badValue('windowM', `invalid reference window length: ${windowM} m`);
  if (!(opts.maxRangeM > opts.minRangeM)) throw badValue('maxRangeM', `invalid reference search range: ${opts.minRangeM}..${opts.maxRangeM} m`);
  if (n < 2) return [];
  const dr = rangeM[1] - rangeM[0];
  if (!(dr > 0)) throw badValue('rangeM', `invalid ranges: not increasing (${rangeM[0]}, ${rangeM[1]})`);
  const bins = Math.max(2, Math.round(windowM / dr));
  const step = Math.max(1, Math.round(bins / 2));
  let first = 0;
  while (first < n && rangeM[first] < opts.minRangeM) first++;
  if (opts.sigma !== undefined) checkLength('sigma', opts.sigma, n);
  const fits: RayleighFit[] = [];
  for (let from = first; from + bins <= maxIndex && rangeM[from + bins - 1] < opts.maxRangeM; from += step) {
    // Windows below minSnr are refused after the first pass (their second pass cannot change that).
    const fit = fitWindow(rcs, attMol, from, from + bins, opts.sigma, rangeM, minSnr);
    if (fit !== null && fit.snr >= minSnr && fit.scale > 0 && Number.isFinite(fit.slopePerKm)) fits.push(fit);
  }
  return fits;
}

/** Relative standard error of a Rayleigh fit's scale K, from its residuals. */
function standardErrorOfScale(f: RayleighFit): number {
  return f.relativeResidual / Math.sqrt(f.to - f.from);
}

/**
 * Slope method (Kunz & de Leeuw 1993; Collis 1966) on a homogeneous path over bins [from, to): fit
 * ln X = c - 2 alpha_total r by least squares (bins with X <= 0 or NaN skipped); alpha_aer = alpha_total -
 * mean(alphaMol) over the window; ref = window centre; betaAerRef = alpha_aer / S_a(ref); rcsRef (an
 * addition to the contract) = exp(c - 2 alpha_total r_ref), the fitted signal at ref. r2 of the fit.
 */
export function slopeBoundary(
  rangeM: Float64Array,
  rcs: Float64Array,
  betaMol: Float64Array,
  molecularLidarRatioSr: number,
  lidarRatioSr: Float64Array,
  from: number,
  to: number,
): { ref: number; betaAerRef: number; alphaTotalPerM: number; r2: number; rcsRef: number } {
  const n = rangeM.length;
  checkLength('rcs', rcs, n);
  checkLength('betaMol', betaMol, n);
  checkLength('lidarRatioSr', lidarRatioSr, n);
  checkWindow(n, from, to);
  if (!(molecularLidarRatioSr > 0 && molecularLidarRatioSr < Infinity)) {
    throw badValue('molecularLidarRatioSr', `invalid molecular lidar ratio: ${molecularLidarRatioSr} sr`);
  }
  const ref = (from + to - 1) >> 1;
  let count = 0;
  let sr = 0;
  let sy = 0;
  let sBm = 0;
  for (let i = from; i < to; i++) {
    sBm += betaMol[i];
    const x = rcs[i];
    if (!(x > 0 && x < Infinity)) continue;
    sr += rangeM[i];
    sy += Math.log(x);
    count++;
  }
  if (count < 3) throw badValue('rcs', `invalid slope window ${from}..${to}: ${count} bins with a positive signal (need >= 3)`);
  const rMean = sr / count;
  const yMean = sy / count;
  let srr = 0;
  let sry = 0;
  let syy = 0;
  for (let i = from; i < to; i++) {
    const x = rcs[i];
    if (!(x > 0 && x < Infinity)) continue;
    const dr = rangeM[i] - rMean;
    const dy = Math.log(x) - yMean;
    srr += dr * dr;
    sry += dr * dy;
    syy += dy * dy;
  }
  const slope = sry / srr;
  const alphaTotalPerM = -slope / 2;
  const alphaAer = alphaTotalPerM - (sBm / (to - from)) * molecularLidarRatioSr;
  return {
    ref,
    betaAerRef: alphaAer / lidarRatioSr[ref],
    alphaTotalPerM,
    r2: syy > 0 ? (sry * sry) / (srr * syy) : 1,
    rcsRef: Math.exp(yMean + slope * (rangeM[ref] - rMean)),
  };
}
