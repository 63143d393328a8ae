/**
 * Gluing an analog and a photon-counting trace of the same wavelength into one signal in the
 * photon-counting scale (MHz): D'Amico et al. 2016, AMT 9, 491 (SCC ELPP pre-processing, "gluing");
 * Newsom et al. 2009, Appl. Opt. 48, 3903 (Raman lidar merging of analog and counting data).
 * Method:
 * 1. Fit PC = scale * AN + offset by ordinary least squares (centred, compensated sums) over the
 *    bins of [from, to) where both traces are finite and PC lies in [lowMHz, highMHz] (default
 *    0.5-15 MHz: above, dead-time correction is no longer exact; below, counting noise dominates).
 * 2. Refit once: over the bins whose analog in PC units (fit 1's scale * AN) lies in the window,
 *    dropping those whose residual exceeds 3 standard deviations of fit 1's residuals. Selecting
 *    on the noisy PC itself (the dependent variable) truncates its noise at the window edges and
 *    flattens the slope (-3% under a 3 MHz daylight sky); selecting on the regressor does not bias
 *    least squares.
 * 3. The fit is ok when it keeps >= minPoints points (default 20), r^2 >= minR2 (default 0.9) and
 *    the standard error of the scale is <= maxScaleRelSigma (default 2%) of it. The last test
 *    catches a glue region with too little dynamic range: under a cloud the counting rate can stay
 *    above 15 MHz up to the cloud and drop below 0.5 MHz right after it, leaving ~40 bins of
 *    12-15 MHz whose fit has r^2 ~0.95 but a scale 5-8% off (simulator 'cloud' scenario).
 * 4. One switch bin: 1 + the last bin where PC >= highMHz (0 if none). Bins before it (the near
 *    range, where counting saturates) get scale * AN + offset; from it on the PC value. A single
 *    switch avoids flip-flopping between the channels where PC hovers around the limit. A far
 *    spike above highMHz (cloud, hard target) moves the switch past it: glue only the part of the
 *    record before a hard target (pass subarray views).
 * Both inputs are background-subtracted (PC dead-time corrected, AN shifted by its bin shift), so
 * the offset is near 0; it is applied anyway so the glued signal is continuous at the switch.
 * Not ok: with `fallbackScale` (e.g. the last good scale of this channel pair: the ratio is an
 * instrument property) the glue uses it with offset 0; else, if the fit is still usable (>= 3
 * points, finite positive scale), its own scale and offset; else the output is the PC trace alone.
 * `reason` says why the fit is not ok, and `scale`/`offset` report what was applied (NaN if none).
 * Known scale: `fixedScale` (an instrument calibration) is applied with offset 0 and the result is ok;
 * the fit is still made and reported (r2, n) for diagnostics.
 * Uncertainty: sigma = sigmaPc where PC is used, |scale| * sigmaAn where the analog is (the fit
 * parameters' own uncertainty is neglected); NaN where the needed input sigma is not given.
 */
import { LidarError } from '../errors.js';
import { grownScratch, kthSmallest, sumError } from './preprocess.js';

export interface GlueResult {
  /** PC = scale * AN + offset (MHz per mV, MHz). NaN when no fit was possible. */
  scale: number;
  offset: number;
  /** Coefficient of determination of the final fit. */
  r2: number;
  /** Standard error of the fitted scale (from the residual scatter); NaN with < 3 points. */
  scaleSigma: number;
  /** Points in the final fit (after outlier removal). */
  n: number;
  /** First and one-past-last bin of the points actually used in the final fit (-1, -1 if none). */
  fromBin: number;
  toBin: number;
  /** Glued output: bins [0, switchBin) are scaled analog, [switchBin, n) photon counting. */
  switchBin: number;
  ok: boolean;
  reason?: string;
}

export interface GlueOptions {
  lowMHz?: number;
  highMHz?: number;
  minPoints?: number;
  minR2?: number;
  /** Largest accepted standard error of the scale relative to it (default 0.02). */
  maxScaleRelSigma?: number;
  /** Scale (offset 0) to apply when the fit is not ok. */
  fallbackScale?: number;
  /** A known scale (instrument calibration): applied with offset 0 instead of the fitted one; the fit is still reported. */
  fixedScale?: number;
  sigmaAnalog?: Float64Array;
  sigmaPc?: Float64Array;
  outSigma?: Float64Array;
}

interface Fit {
  scale: number;
  offset: number;
  r2: number;
  sigma: number;
  scaleSigma: number;
  n: number;
  first: number;
  last: number;
}

/**
 * Scratch of the fits, grown on demand and reused (no allocation per call once a record length has
 * been seen; gluing is synchronous, so one set serves every call).
 */
let ratioScratch: Float64Array = new Float64Array(0);
let smoothScratch: Float64Array = new Float64Array(0);
let blockScratch: Float64Array = new Float64Array(0);

/**
 * Bins per block of the bounds below (> SELECT_BINS / 2, so a bin's running-mean window lies within
 * its block and the two next to it).
 */
const BOUND_BLOCK = 8;
/**
 * Fields per block: min, max and max |x| of the block's analog values, then the same over the block
 * and its two neighbours (the running means' bounds, filled by `fitThroughOrigin`).
 */
const BLOCK_FIELDS = 6;

/**
 * Per block of BOUND_BLOCK bins of [from, to) (the first block starts at `from`), the bounds of the
 * analog values, into the reused scratch: NaN is left out (its comparisons are false), infinities
 * are kept (they widen the bounds, which stays conservative); +Infinity, -Infinity and 0 for a block
 * of NaN. The selections after the first fit are windows on the analog times a positive scale, and
 * rounding is monotonic (a <= b implies fl(s a) <= fl(s b) for s > 0), so a block whose bounds miss
 * the window holds no selected bin: the fits skip it with no effect on their result. On a long
 * record the glue region is a small part of the prepared range. (Exported for tests.)
 */
export function blockBounds(an: Float64Array, from: number, to: number): Float64Array {
  const nb = Math.ceil((to - from) / BOUND_BLOCK);
  blockScratch = grownScratch(blockScratch, BLOCK_FIELDS * nb);
  const blocks = blockScratch;
  for (let q = 0, o = 0; q < nb; q++, o += BLOCK_FIELDS) {
    let lo = Infinity;
    let hi = -Infinity;
    // Selects rather than branches on the data (noise makes those branches unpredictable).
    for (let j = from + q * BOUND_BLOCK, end = Math.min(to, j + BOUND_BLOCK); j < end; j++) {
      const v = an[j];
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
    }
    blocks[o] = lo;
    blocks[o + 1] = hi;
    blocks[o + 2] = lo <= hi ? Math.max(Math.abs(lo), Math.abs(hi)) : 0;
  }
  return blocks;
}

/**
 * Whether block q may hold a bin whose analog times `scale` lies in [low, high] (scale <= 0 or NaN:
 * always, no bound is taken). (Exported for tests.)
 */
export function mayBeSelected(blocks: Float64Array, q: number, scale: number, low: number, high: number): boolean {
  const o = BLOCK_FIELDS * q;
  return !(scale > 0) || (scale * blocks[o + 1] >= low && scale * blocks[o] <= high);
}

/**
 * Whether bin i enters a line fit: both values finite and, for the first fit, the PC rate within
 * [low, high]; for the second (prev given), the analog in PC units there and the bin within 3 sigma of
 * the first line. A module function, not a closure in fitLine: a closure made per call is not inlined
 * when the loader wraps it (tsx's keepNames), a call per bin.
 */
function useInFit(an: Float64Array, pc: Float64Array, i: number, low: number, high: number, prev: Fit | null): boolean {
  const x = an[i];
  const y = pc[i];
  if (!Number.isFinite(x) || !Number.isFinite(y)) return false;
  if (prev === null) return y >= low && y <= high;
  // The analog in PC units selects (the offset of background-subtracted traces is ~0 and a
  // poor first offset would otherwise pull in the noise beyond the signal).
  const scaled = prev.scale * x;
  return scaled >= low && scaled <= high && Math.abs(y - scaled - prev.offset) <= 3 * prev.sigma;
}

/**
 * Least-squares line y = a x + b (y = PC, x = AN) over the selected bins: without `prev`, bins with
 * y in [low, high]; with `prev`, bins whose analog in PC units (prev.scale * x) is in [low, high] and whose
 * residual is within 3 prev.sigma. Two passes: means, then centred sums; with `prev`, blocks that
 * cannot hold a selected bin (`blockBounds`) are skipped.
 */
function fitLine(an: Float64Array, pc: Float64Array, from: number, to: number, low: number, high: number, prev: Fit | null, blocks: Float64Array): Fit {
  // Compensated (Neumaier) sums in locals (`sumError`).
  let sx = 0;
  let cx = 0;
  let sy = 0;
  let cy = 0;
  let n = 0;
  let first = -1;
  let last = -1;
  const selector = prev === null ? NaN : prev.scale; // NaN: no block is skipped
  for (let q = 0, b = from; b < to; q++, b += BOUND_BLOCK) {
    if (!mayBeSelected(blocks, q, selector, low, high)) continue;
    for (let i = b, end = Math.min(to, b + BOUND_BLOCK); i < end; i++) {
      if (!useInFit(an, pc, i, low, high, prev)) continue;
      const x = an[i];
      const y = pc[i];
      let t = sx + x;
      cx += sumError(sx, x, t);
      sx = t;
      t = sy + y;
      cy += sumError(sy, y, t);
      sy = t;
      n++;
      if (first < 0) first = i;
      last = i;
    }
  }
  const none: Fit = { scale: NaN, offset: NaN, r2: NaN, sigma: NaN, scaleSigma: NaN, n, first, last };
  if (n < 3) return none;
  const mx = (sx + cx) / n;
  const my = (sy + cy) / n;
  let sxx = 0;
  let cxx = 0;
  let sxy = 0;
  let cxy = 0;
  let syy = 0;
  let cyy = 0;
  for (let q = ((first - from) / BOUND_BLOCK) | 0, b = from + q * BOUND_BLOCK; b <= last; q++, b += BOUND_BLOCK) {
    if (!mayBeSelected(blocks, q, selector, low, high)) continue;
    for (let i = Math.max(first, b), end = Math.min(last + 1, b + BOUND_BLOCK); i < end; i++) {
      if (!useInFit(an, pc, i, low, high, prev)) continue;
      const dx = an[i] - mx;
      const dy = pc[i] - my;
      const xx = dx * dx;
      const xy = dx * dy;
      const yy = dy * dy;
      let t = sxx + xx;
      cxx += sumError(sxx, xx, t);
      sxx = t;
      t = sxy + xy;
      cxy += sumError(sxy, xy, t);
      sxy = t;
      t = syy + yy;
      cyy += sumError(syy, yy, t);
      syy = t;
    }
  }
  const vxx = sxx + cxx;
  const vxy = sxy + cxy;
  const vyy = syy + cyy;
  if (!(vxx > 0)) return none;
  const scale = vxy / vxx;
  const offset = my - scale * mx;
  const sse = Math.max(0, vyy - scale * vxy);
  const r2 = vyy > 0 ? (vxy * vxy) / (vxx * vyy) : 1;
  const sigma = Math.sqrt(sse / (n - 2));
  return { scale, offset, r2, sigma, scaleSigma: sigma / Math.sqrt(vxx), n, first, last };
}

/**
 * The scale of a line through the origin, y = a x, as the ratio of sums a = sum(y) / sum(x) over the
 * bins whose SMOOTHED analog in PC units lies within [low, high]. Both inputs are background-
 * subtracted, so the model has no offset. With photon-counting (Poisson) noise, var(y) = k E[y], the
 * ratio of sums is the weighted least-squares estimate, and unlike a regression on x it is not
 * diluted by the noise in x (errors in both variables). Selecting on a running mean rather than on
 * each bin's own noisy value keeps the selection from biasing it. Bins > 3 local sigma off the line
 * (spikes) are left out. scaleSigma from the predicted variances (k = median of sigmaPc^2 / PC).
 * Measured on the winter scans (5 seeds x 8 profiles): bias < 0.1%, scatter ~0.6% per 30 s
 * profile, against -0.2 +/- 1.3% for an unweighted fit with a free offset.
 */
/** Width (bins) of the running mean that selects the bins of the weighted fit. */
const SELECT_BINS = 15;

/**
 * Margin on the running mean's bounds: a window sum made of <= SELECT_BINS + 2 BOUND_BLOCK additions
 * and subtractions of values <= max|x| (summed afresh at each block start, then slid) is within
 * ~(SELECT_BINS + 2 BOUND_BLOCK) eps SELECT_BINS max|x| of the exact one (Higham 2002, eq. 4.4), far
 * below 1e-12 max|x|.
 */
const BOUND_MARGIN = 1e-12;

function fitThroughOrigin(an: Float64Array, pc: Float64Array, from: number, to: number, low: number, high: number, prev: Fit, blocks: Float64Array, sigmaAnalog?: Float64Array, sigmaPc?: Float64Array): { scale: number; scaleSigma: number; n: number } {
  const nb = Math.ceil((to - from) / BOUND_BLOCK);
  let k = 1;
  if (sigmaPc) {
    ratioScratch = grownScratch(ratioScratch, to - from);
    const ratios = ratioScratch;
    let count = 0;
    for (let q = 0, b = from; q < nb; q++, b += BOUND_BLOCK) {
      if (!mayBeSelected(blocks, q, prev.scale, low, high)) continue;
      for (let i = b, end = Math.min(to, b + BOUND_BLOCK); i < end; i++) {
        const scaled = prev.scale * an[i];
        if (scaled >= low && scaled <= high && pc[i] > 0 && Number.isFinite(sigmaPc[i])) ratios[count++] = (sigmaPc[i] * sigmaPc[i]) / pc[i];
      }
    }
    if (count > 0) k = kthSmallest(ratios, count, count >> 1);
  }
  // Selection on a running mean of the analog (SELECT_BINS wide): selecting bins by their own noisy
  // value at the window edges would keep upward fluctuations and bias the scale low. The means are
  // computed only in blocks of bins where they can be selected: min and max of the analog values of
  // a block and the two next to it bound the means of its bins, so far-range and saturated-range
  // blocks are skipped with no effect on the result.
  const half = SELECT_BINS >> 1;
  // The running means' bounds: each block's widened to its neighbours' (the windows of its bins reach into them).
  for (let q = 0, o = 0; q < nb; q++, o += BLOCK_FIELDS) {
    const before = q > 0 ? o - BLOCK_FIELDS : o;
    const after = q + 1 < nb ? o + BLOCK_FIELDS : o;
    blocks[o + 3] = Math.min(blocks[before], blocks[o], blocks[after]);
    blocks[o + 4] = Math.max(blocks[before + 1], blocks[o + 1], blocks[after + 1]);
    blocks[o + 5] = Math.max(blocks[before + 2], blocks[o + 2], blocks[after + 2]);
  }
  smoothScratch = grownScratch(smoothScratch, to - from);
  const smooth = smoothScratch;
  smooth.fill(Infinity, 0, to - from); // Infinity: not computed yet (a computed mean is finite or NaN)
  let a = prev.scale;
  let result = { scale: NaN, scaleSigma: NaN, n: 0 };
  // The running mean's window sum is carried from bin to bin within a block (add the bin entering,
  // drop the one leaving) and summed afresh at each block's first bin: at most SELECT_BINS +
  // BOUND_BLOCK additions since the last fresh sum, well within BOUND_MARGIN.
  let runAt = -1; // the bin whose window the sum below holds (-1: none)
  let runSum = 0;
  let runCount = 0;
  for (let pass = 0; pass < 2; pass++) {
    // Neumaier sums of y, x and the variances in locals, as in fitLine.
    let sy = 0;
    let cy = 0;
    let sx = 0;
    let cx = 0;
    let sv = 0;
    let cv = 0;
    let n = 0;
    for (let q = 0; q < nb; q++) {
      if (a > 0) {
        // a * mean cannot reach [low, high] anywhere in the block: no bin of it is selected.
        const o = BLOCK_FIELDS * q;
        const margin = BOUND_MARGIN * blocks[o + 5];
        if (a * (blocks[o + 4] + margin) * (1 + BOUND_MARGIN) < low || a * (blocks[o + 3] - margin) * (1 - BOUND_MARGIN) > high) continue;
      }
      for (let i = from + q * BOUND_BLOCK, end = Math.min(to, i + BOUND_BLOCK); i < end; i++) {
        const x = an[i];
        const y = pc[i];
        if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
        let mean = smooth[i - from];
        if (mean === Infinity) {
          if (runAt === i - 1 && (i - from) % BOUND_BLOCK !== 0) {
            const leaving = i - 1 - half;
            const entering = i + half;
            if (leaving >= from && Number.isFinite(an[leaving])) {
              runSum -= an[leaving];
              runCount--;
            }
            if (entering <= to - 1 && Number.isFinite(an[entering])) {
              runSum += an[entering];
              runCount++;
            }
          } else {
            runSum = 0;
            runCount = 0;
            for (let j = Math.max(from, i - half), jTo = Math.min(to - 1, i + half); j <= jTo; j++) {
              if (Number.isFinite(an[j])) {
                runSum += an[j];
                runCount++;
              }
            }
          }
          runAt = i;
          mean = runCount > 0 ? runSum / runCount : NaN;
          smooth[i - from] = mean;
        }
        const selector = a * mean;
        if (!(selector >= low && selector <= high)) continue;
        const sxi = sigmaAnalog && Number.isFinite(sigmaAnalog[i]) ? sigmaAnalog[i] : 0;
        const variance = k * selector + a * a * sxi * sxi;
        // Spikes (> 3 local sigma off the line; without sigmas, 3 residual sigma of the first fit)
        // are left out; the test is symmetric, so unbiased.
        const limit = sigmaPc ? 3 * Math.sqrt(variance) : 3 * prev.sigma;
        if (limit > 0 && Math.abs(y - a * x) > limit) continue;
        let t = sy + y;
        cy += sumError(sy, y, t);
        sy = t;
        t = sx + x;
        cx += sumError(sx, x, t);
        sx = t;
        t = sv + variance;
        cv += sumError(sv, variance, t);
        sv = t;
        n++;
      }
    }
    const sumX = sx + cx;
    if (n < 3 || !(sumX > 0)) return result;
    a = (sy + cy) / sumX;
    result = { scale: a, scaleSigma: sigmaPc ? Math.sqrt(sv + cv) / sumX : NaN, n };
  }
  return result;
}

/**
 * Glues analog (mV) and photon counting (MHz) into `out` (MHz); see the header for the method.
 * Inputs background-subtracted and aligned; `out` may alias `pcMHz` (not `analogMv`).
 */
export function glue(analogMv: Float64Array, pcMHz: Float64Array, from: number, to: number, out: Float64Array, opts: GlueOptions = {}): GlueResult {
  const n = pcMHz.length;
  const low = opts.lowMHz ?? 0.5;
  const high = opts.highMHz ?? 15;
  const minPoints = opts.minPoints ?? 20;
  const minR2 = opts.minR2 ?? 0.9;
  const maxRel = opts.maxScaleRelSigma ?? 0.02;
  const fallback = opts.fallbackScale;
  const bad = (detail: string, field: string) => new LidarError('LIDAR_ERR_BAD_VALUE', detail, { field });
  if (analogMv.length !== n) throw bad(`invalid analog length: ${analogMv.length} (photon counting has ${n} bins)`, 'analogMv');
  if (out.length !== n) throw bad(`invalid out length: ${out.length} (expected ${n} bins)`, 'out');
  if (out === analogMv) throw bad('invalid out: must not alias the analog input', 'out');
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to > n || from > to) throw bad(`invalid glue bins: [${from}, ${to}) of ${n}`, 'glue.bins');
  if (!(low >= 0) || !(high > low) || !Number.isFinite(high)) throw bad(`invalid glue rate window: [${low}, ${high}] MHz`, 'glue.rate_mhz');
  if (!(minPoints >= 3) || !Number.isInteger(minPoints)) throw bad(`invalid glue minimum points: ${minPoints} (integer >= 3)`, 'glue.min_points');
  if (!(minR2 >= 0 && minR2 <= 1)) throw bad(`invalid glue minimum r2: ${minR2}`, 'glue.min_r2');
  if (!(maxRel > 0)) throw bad(`invalid glue maximum relative scale error: ${maxRel}`, 'glue.max_scale_rel_sigma');
  if (fallback !== undefined && !(fallback > 0 && Number.isFinite(fallback))) throw bad(`invalid glue fallback scale: ${fallback}`, 'glue.fallback_scale');
  const { sigmaAnalog, sigmaPc, outSigma } = opts;
  for (const [name, a] of [['sigmaAnalog', sigmaAnalog], ['sigmaPc', sigmaPc], ['outSigma', outSigma]] as const) {
    if (a !== undefined && a.length !== n) throw bad(`invalid ${name} length: ${a.length} (expected ${n} bins)`, name);
  }

  const blocks = blockBounds(analogMv, from, to);
  const first = fitLine(analogMv, pcMHz, from, to, low, high, null, blocks);
  const fit = Number.isFinite(first.sigma) && first.sigma > 0 ? fitLine(analogMv, pcMHz, from, to, low, high, first, blocks) : first;
  let usable = fit.n >= 3 && Number.isFinite(fit.scale) && fit.scale > 0 && Number.isFinite(fit.offset);
  // Final estimate: weighted, through the origin (both inputs are background-subtracted).
  if (usable) {
    const w = fitThroughOrigin(analogMv, pcMHz, from, to, low, high, fit, blocks, opts.sigmaAnalog, opts.sigmaPc);
    if (w.n >= 3 && w.scale > 0 && Number.isFinite(w.scale)) {
      fit.scale = w.scale;
      fit.offset = 0;
      if (Number.isFinite(w.scaleSigma)) fit.scaleSigma = w.scaleSigma;
    } else usable = false;
  }
  let reason: string | undefined;
  if (!usable) reason = fit.n < 3 ? `only ${fit.n} bins with photon counting in [${low}, ${high}] MHz` : `no positive analog/photon-counting slope (scale ${fit.scale})`;
  else if (fit.n < minPoints) reason = `only ${fit.n} points in the glue fit (at least ${minPoints} needed)`;
  else if (!(fit.r2 >= minR2)) reason = `glue fit r2 ${fit.r2.toFixed(4)} < ${minR2}`;
  else if (!(fit.scaleSigma <= maxRel * fit.scale)) reason = `glue scale ${fit.scale.toPrecision(5)} +/- ${fit.scaleSigma.toPrecision(2)} (relative error > ${maxRel})`;
  const fixed = opts.fixedScale;
  if (fixed !== undefined && !(fixed > 0 && Number.isFinite(fixed))) throw bad(`invalid glue scale: ${fixed}`, 'glue.scale');
  const ok = fixed !== undefined || reason === undefined;
  const useFallback = !ok && fallback !== undefined;
  const scale = fixed ?? (useFallback ? fallback : usable ? fit.scale : NaN);
  const offset = fixed !== undefined ? 0 : useFallback ? 0 : usable ? fit.offset : NaN;

  let switchBin = 0;
  if (usable || useFallback || fixed !== undefined) {
    for (let i = n - 1; i >= 0; i--) {
      if (pcMHz[i] >= high) {
        switchBin = i + 1;
        break;
      }
    }
  }
  for (let i = 0; i < switchBin; i++) out[i] = scale * analogMv[i] + offset;
  // The sigma's choice outside the loop: `cond ? product : NaN` per bin was boxed before its store
  // (an allocation per bin, ~7 KiB per call).
  if (outSigma && sigmaAnalog) {
    const scaleAbs = Math.abs(scale);
    for (let i = 0; i < switchBin; i++) outSigma[i] = scaleAbs * sigmaAnalog[i];
  } else if (outSigma) outSigma.fill(NaN, 0, switchBin);
  if (out !== pcMHz) out.set(pcMHz.subarray(switchBin), switchBin);
  if (outSigma) {
    if (sigmaPc) outSigma.set(sigmaPc.subarray(switchBin), switchBin);
    else outSigma.fill(NaN, switchBin);
  }
  const result: GlueResult = {
    scale,
    offset,
    r2: fit.r2,
    scaleSigma: fit.scaleSigma,
    n: fit.n,
    fromBin: fit.first,
    toBin: fit.first < 0 ? -1 : fit.last + 1,
    switchBin,
    ok,
  };
  if (reason !== undefined && fixed === undefined) result.reason = useFallback ? `${reason}; fallback scale ${fallback} applied` : reason;
  return result;
}
