/**
 * Cloud base (and top) in one profile (RETRIEVAL.md section 7).
 *
 * Method: threshold on the attenuated scattering ratio plus a jump test, in the spirit of the
 * scattering-ratio cloud masks of EARLINET/PollyNET (e.g. Baars et al. 2016 ACP 16, 5111) and the
 * gradient cloud-base detectors (Pal et al. 1992 JAM 31, 1163). With X the range-corrected signal
 * and K the calibration X = K * beta_mol * T_mol^2 in clean air, the attenuated scattering ratio is
 * R = X / (K * attMol). Bin i is the cloud base when, with m the mean X of the 3 bins before i and
 * s_i the noise of X:
 *   1. X[i] - m > 3 s_i                               (the rise starts at i),
 *   2. max X[i .. i+3] >= jumpFactor * max(m, s_i)    (a strong jump within a few bins),
 *   3. max X[i .. i+3] - m > 5 s_i                     (the jump is significant),
 *   4. R > minScatteringRatio and X - m > 3 s_i on minBins consecutive bins starting in i .. i+3.
 * A polluted boundary layer has R of 10-30 near the ground but no jump, so (2) keeps it out; far-range
 * noise can pass a ratio test but not (3)-(4). The layer ends where R falls below 1 on minBins
 * consecutive bins (clear air above a cloud of transmission T^2 reads R = T^2 < 1; an attenuated
 * cloud return stays above it); the top is its last bin when the signal comes back above it (the
 * mean X over the next 20 bins exceeds 5 standard errors), else the cloud is opaque (top -1: the
 * beam was extinguished in it and its top is unknown).
 *
 * Noise s_i: sigma[i] when given (standard deviation of X), else estimated from the 16 bins before
 * i as sqrt(pi)/2 * mean |X[k] - X[k-1]| (the mean absolute first difference of white noise is
 * 2 sigma / sqrt(pi)); the signal's own slope only makes it conservative.
 *
 * K when NaN: from the profile itself, below the first jump (1-3) if there is one (clear air above
 * a thick cloud reads K T^2_cloud). X and attMol are averaged in blocks of 8 bins; blocks whose mean
 * X is significant (> 5 standard errors) give ratios, and K is their
 * 10th percentile: aerosol only adds backscatter, so the lowest ratios come from the cleanest air
 * (for vertical profiles the free troposphere; the aerosol transmission below only lowers K, which
 * raises R inside a cloud, i.e. errs toward detection, while conditions 2-3 still guard the boundary
 * layer).
 */
import { LidarError } from '../errors.js';
import { grownScratch, kthSmallest } from './preprocess.js';

export interface CloudOptions {
  /** Required rise of X over the bins before the base (default 4). */
  jumpFactor?: number;
  /** Required attenuated scattering ratio inside the cloud (default 10). */
  minScatteringRatio?: number;
  /** Consecutive bins above the ratio (default 3). */
  minBins?: number;
}

export interface CloudResult {
  /** First cloud bin, -1 if no cloud. */
  base: number;
  /** Last cloud bin when the signal comes back above the cloud, else -1. */
  top: number;
  /** True when no significant signal returns from above the cloud. */
  opaque: boolean;
}

/** Bins averaged for the reference level before a candidate base. */
const BEFORE_BINS = 3;
/** Bins after the base within which the jump must happen ("a few bins"). */
const JUMP_BINS = 4;
/** Bins before i used to estimate the noise when sigma is not given. */
const NOISE_BINS = 16;
/** Bins above the cloud averaged to decide whether the signal comes back. */
const ABOVE_BINS = 20;
const K_BLOCK = 8;

/** Noise (standard deviation of X) at bin i: sigma[i], or from first differences of the bins before i. */
function noiseAt(rcs: Float64Array, sigma: Float64Array | null, i: number, lowest: number): number {
  if (sigma) return sigma[i];
  const k0 = Math.max(lowest + 1, i - NOISE_BINS);
  let sum = 0;
  let count = 0;
  for (let k = k0; k < i; k++) {
    const d = rcs[k] - rcs[k - 1];
    if (Number.isFinite(d)) {
      sum += Math.abs(d);
      count++;
    }
  }
  return count > 0 ? ((Math.sqrt(Math.PI) / 2) * sum) / count : NaN;
}

/**
 * Jump test (conditions 1-3 of the header) at bin i, bins [lo, end) in use: the reference level m (the
 * mean of the BEFORE_BINS bins before i), NaN if i fails. A module function, not a closure in
 * detectCloud: it runs per bin, and a closure made per call is not inlined when the loader wraps it
 * (tsx's keepNames), which boxed the returned number on every bin.
 */
function jumpAt(rcs: Float64Array, sigma: Float64Array | null, i: number, lo: number, end: number, jumpFactor: number): number {
  let m = 0;
  for (let j = i - BEFORE_BINS; j < i; j++) m += rcs[j];
  m /= BEFORE_BINS;
  const s = noiseAt(rcs, sigma, i, lo);
  if (!(rcs[i] - m > 3 * s)) return NaN;
  let peak = -Infinity;
  for (let j = i; j < Math.min(end, i + JUMP_BINS); j++) if (rcs[j] > peak) peak = rcs[j];
  return peak >= jumpFactor * Math.max(m, s) && peak - m > 5 * s ? m : NaN;
}

/** The block ratios of `estimateScaleK`, grown on demand and reused. */
let ratioScratch: Float64Array = new Float64Array(0);

/**
 * K of X = K * attMol estimated from the profile (10th percentile of significant 8-bin block ratios
 * over [from, to)); NaN when no block is significant.
 */
export function estimateScaleK(rcs: Float64Array, attMol: Float64Array, from: number, to: number): number {
  const blocks = Math.max(0, Math.floor((to - from) / K_BLOCK));
  const ratios = (ratioScratch = grownScratch(ratioScratch, blocks));
  let count = 0;
  for (let b = 0; b < blocks; b++) {
    const k0 = from + b * K_BLOCK;
    let sx = 0;
    let sm = 0;
    let sd = 0;
    let ok = true;
    for (let k = k0; k < k0 + K_BLOCK; k++) {
      if (!Number.isFinite(rcs[k]) || !(attMol[k] > 0)) ok = false;
      sx += rcs[k];
      sm += attMol[k];
      if (k > k0) sd += Math.abs(rcs[k] - rcs[k - 1]);
    }
    if (!ok) continue;
    const noise = ((Math.sqrt(Math.PI) / 2) * sd) / (K_BLOCK - 1);
    if (sx / K_BLOCK > (5 * noise) / Math.sqrt(K_BLOCK)) ratios[count++] = sx / sm;
  }
  if (count === 0) return NaN;
  // The value a sort would put at floor(0.1 (count - 1)), by selection (the ratios are finite and > 0).
  return kthSmallest(ratios, count, Math.floor(0.1 * (count - 1)));
}

/**
 * Cloud base/top in bins [from, to) of the range-corrected signal `rcs` (see the header).
 * attMol = beta_mol * T_mol^2; scaleK calibrates X to attMol (NaN: estimated from the profile);
 * sigma: standard deviation of rcs per bin, or null.
 */
export function detectCloud(
  rcs: Float64Array,
  attMol: Float64Array,
  scaleK: number,
  from: number,
  to: number,
  sigma: Float64Array | null,
  opts: CloudOptions = {},
): CloudResult {
  const n = rcs.length;
  const jumpFactor = opts.jumpFactor ?? 4;
  const minRatio = opts.minScatteringRatio ?? 10;
  const minBins = opts.minBins ?? 3;
  if (attMol.length !== n) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid attMol length: ${attMol.length} (expected ${n})`, { field: 'attMol' });
  if (sigma && sigma.length !== n) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid sigma length: ${sigma.length} (expected ${n})`, { field: 'sigma' });
  if (!(jumpFactor > 1)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid cloud jump factor: ${jumpFactor}`, { field: 'jumpFactor' });
  if (!(minRatio > 1)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid cloud scattering ratio: ${minRatio}`, { field: 'minScatteringRatio' });
  if (!(Number.isInteger(minBins) && minBins >= 1)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid cloud minimum depth: ${minBins} bins`, { field: 'minBins' });
  if (!Number.isNaN(scaleK) && !(scaleK > 0 && Number.isFinite(scaleK))) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid calibration K: ${scaleK}`, { field: 'scaleK' });
  const lo = Math.max(0, Math.floor(from));
  const end = Math.min(n, Math.floor(to));
  const none: CloudResult = { base: -1, top: -1, opaque: false };
  let k = scaleK;
  // The jump test does not depend on K: bins before `start` are known to fail it.
  let start = lo + BEFORE_BINS;
  if (Number.isNaN(k)) {
    // Estimated below the first jump: clear air above a thick cloud reads K T^2_cloud, not K.
    let first = lo + BEFORE_BINS;
    while (first < end && Number.isNaN(jumpAt(rcs, sigma, first, lo, end, jumpFactor))) first++;
    start = first;
    k = estimateScaleK(rcs, attMol, lo, first);
    if (!(k > 0)) k = estimateScaleK(rcs, attMol, lo, end);
  }
  if (!(k > 0)) return none;

  for (let i = start; i < end; i++) {
    const m = jumpAt(rcs, sigma, i, lo, end, jumpFactor);
    if (Number.isNaN(m)) continue;
    const s = noiseAt(rcs, sigma, i, lo);
    // minBins consecutive bins above the ratio threshold and 3 s above m, starting within the jump.
    let run = 0;
    for (let j = i; j < Math.min(end, i + JUMP_BINS + minBins - 1) && run < minBins; j++) {
      run = rcs[j] > minRatio * k * attMol[j] && rcs[j] - m > 3 * s ? run + 1 : 0;
    }
    if (run < minBins) continue;

    // The layer ends where the attenuated scattering ratio falls below 1 on minBins consecutive bins:
    // above a cloud of transmission T^2 clear air reads R = T^2 < 1, while inside even an attenuated
    // cloud return stays above the molecular level.
    let j = i;
    let below = 0;
    while (j < end && below < minBins) {
      below = rcs[j] < k * attMol[j] ? below + 1 : 0;
      j++;
    }
    if (below < minBins) return { base: i, top: -1, opaque: true };
    const last = j - minBins - 1;
    // Does the signal come back above it: the mean X over the next ABOVE_BINS bins above 5 standard errors.
    const aboveEnd = Math.min(end, last + 1 + ABOVE_BINS);
    const sAbove = sigma ? NaN : noiseAt(rcs, null, aboveEnd, last + 1);
    let sum = 0;
    let var2 = 0;
    for (let q = last + 1; q < aboveEnd; q++) {
      sum += rcs[q];
      const sq = sigma ? sigma[q] : sAbove;
      var2 += sq * sq;
    }
    const returns = aboveEnd - last - 1 >= minBins && sum > 5 * Math.sqrt(var2);
    return { base: i, top: returns ? last : -1, opaque: !returns };
  }
  return none;
}
