/**
 * Hard-target (terrain, building) detection in one profile (RETRIEVAL.md section 2).
 *
 * Method: a solid target returns orders of magnitude more light than the air in front of it
 * (Lambertian ground: beta_eff = rho / (pi dr), ~1e-2 /m/sr against ~1e-5 for hazy air), in one or
 * two bins (pulse length). On the background-subtracted, NOT range-corrected signal P, bin i is the
 * target when
 *   P[i] > jumpFactor * max(m, sigma_i)   and   P[i] - m > minSigma * sigma_i,
 * m = mean of the spanBins bins before i. The reference is floored at the noise level: where the air
 * signal is already within the noise (far range), a ratio against a mean near zero means nothing,
 * so the jump must then reach jumpFactor sigmas (Poisson tails of low count rates otherwise give
 * 7-sigma single-bin excursions in a long profile). sigma_i is the given per-bin noise or, without
 * it, the standard deviation of the profile's far end (last 10% of the bins, 5-sigma clipped three
 * times so a target there does not inflate it).
 * The chain uses it together with the DEM and flags TERRAIN from the first of the two.
 */
import { LidarError } from '../errors.js';

export interface HardTargetOptions {
  /** Required ratio of the target bin to the mean of the bins before it (default 10). */
  jumpFactor?: number;
  /** Bins before i averaged for the reference (default 3). */
  spanBins?: number;
  /** Required excess over the reference in noise standard deviations (default 5). */
  minSigma?: number;
}

/** Share of the profile, at its far end, used to estimate the noise when no sigma is given. */
const FAR_END_FRACTION = 0.1;

/** Standard deviation of signal[from, to) with three rounds of 5-sigma clipping (NaN skipped). */
export function clippedStd(signal: Float64Array, from: number, to: number): number {
  let lo = -Infinity;
  let hi = Infinity;
  let sd = NaN;
  for (let round = 0; round < 3; round++) {
    let n = 0;
    let mean = 0;
    let m2 = 0;
    for (let i = from; i < to; i++) {
      const x = signal[i];
      if (!(x >= lo && x <= hi)) continue;
      // Welford's running mean and variance.
      n++;
      const d = x - mean;
      mean += d / n;
      m2 += d * (x - mean);
    }
    if (n < 2) return sd;
    sd = Math.sqrt(m2 / (n - 1));
    lo = mean - 5 * sd;
    hi = mean + 5 * sd;
  }
  return sd;
}

/**
 * First bin i in [from, to) where the background-subtracted, not range-corrected `signal` jumps to a
 * hard target (see the header); -1 if none. `sigma`: noise standard deviation per bin (same units),
 * or null to estimate it from the profile's far end.
 */
export function detectHardTarget(signal: Float64Array, sigma: Float64Array | null, from: number, to: number, opts: HardTargetOptions = {}): number {
  const n = signal.length;
  const jumpFactor = opts.jumpFactor ?? 10;
  const span = opts.spanBins ?? 3;
  const minSigma = opts.minSigma ?? 5;
  if (!(jumpFactor > 1)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid hard-target jump factor: ${jumpFactor}`, { field: 'jumpFactor' });
  if (!(Number.isInteger(span) && span >= 1)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid hard-target span: ${span} bins`, { field: 'spanBins' });
  if (!(minSigma >= 0)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid hard-target significance: ${minSigma} sigma`, { field: 'minSigma' });
  if (sigma && sigma.length !== n) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid sigma length: ${sigma.length} (expected ${n})`, { field: 'sigma' });
  const start = Math.max(span, Math.floor(from));
  const end = Math.min(n, Math.floor(to));
  if (start >= end) return -1;
  const farSigma = sigma ? NaN : clippedStd(signal, Math.floor(n * (1 - FAR_END_FRACTION)), n);
  for (let i = start; i < end; i++) {
    const x = signal[i];
    const s = sigma ? sigma[i] : farSigma;
    // x > 0, and the jump below needs x > jumpFactor * s (max(m, s) >= s; a NaN s fails both): one
    // test for both (Math.max is NaN for a NaN s), so the noise around 0 costs no mispredicted branch.
    // Most bins stop here.
    if (!(x > Math.max(0, jumpFactor * s))) continue;
    // Mean of the finite bins among the span before i (NaN bins, e.g. refused ones, are skipped).
    let sum = 0;
    let count = 0;
    for (let k = i - span; k < i; k++) {
      if (Number.isFinite(signal[k])) {
        sum += signal[k];
        count++;
      }
    }
    if (count === 0) continue;
    const m = sum / count;
    if (x > jumpFactor * Math.max(m, s) && x - m > minSigma * s) return i;
  }
  return -1;
}
