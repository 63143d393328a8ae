/**
 * Boundary-layer top from one vertical (or steep) profile (RETRIEVAL.md section 7).
 *
 * Method: Haar wavelet covariance transform (Brooks 2003 JTECH 20, 1092;
 * Baars et al. 2008 ACP 8, 7281):
 *   W(a, b) = (1/a) integral X(z) h((z - b)/a) dz,  h = +1 on [b - a/2, b], -1 on (b, b + a/2],
 * computed from the cumulative trapezoid integral C of X (compensated summation; the integral of the
 * linear interpolant to the window edges), so W(a, b) = (2 C(b) - C(b - a/2) - C(b + a/2)) / a.
 * The normalised transform Wn = a W / (C(b + a/2) - C(b - a/2)) (W over the mean X of the window)
 * is dimensionless, (X1 - X2) / (X1 + X2) for a step from X1 to X2, so layers at different signal
 * levels compare.
 *
 * Choice of the top: candidates are the local maxima of the mean of W over the dilations (default
 * 90, 150, 210, 300 m; for a sharp step W = (X1 - X2)/2 at every dilation, so they weigh equally),
 * located on the un-normalised W: dividing by the window mean, which falls with b across a top,
 * would pull the maximum up by up to half a dilation (measured 20-70 m on erfc steps). Candidates
 * are ranked by the mean over the dilations of Wn at their height; the largest significant one
 * wins. Averaging the dilations keeps the default 150 m scale at the centre, damps noise peaks that
 * only the smallest dilation sees and features that only the largest merges, and (unlike a median
 * of per-dilation heights, which averages two candidates when the dilations disagree) always
 * returns a height where the transform has a real maximum. For a symmetric (erfc) entrainment zone
 * every dilation peaks at its centre, so the average does too. Dilations: 90 m resolves the
 * thinnest simulated entrainment zones (100 m in winter) above noise on 7.5 m bins, 300 m spans the
 * widest (300 m in summer) and still fits between the overlap region and a shallow winter top; the
 * widest window must lie on valid bins, so the lowest detectable top is a_max / 2 above them.
 *
 * Significance: a candidate counts when its mean Wn exceeds 0.05 (a step of about 10% in X) and
 * 5 times its noise, sigma_Wn ~ sigma_X / (mean X sqrt(n)), n the bins of the smallest dilation,
 * sigma_X from the second differences of X around b (slopes cancel; white noise gives variance 6
 * sigma^2).
 * Quality = min(1, mean Wn at the top / 0.3) * max(0, 1 - spread / 150 m), spread = max - min of the heights of
 * the per-dilation maxima nearest the top (dilationsAgreeM).
 * Fallback (no significant maximum): the minimum of the box-smoothed gradient dX/dz, which is the
 * un-normalised transform of the smallest dilation (dX/dz ~ -4 W / a), at an interior local extreme
 * below -5 sigma (a steepest decrease at the edge of the range means the top lies outside it);
 * quality is then at most 0.25. Otherwise method 'none', height NaN.
 */
import { LidarError } from '../errors.js';
import { QC } from './qc.js';
import { sumError } from './preprocess.js';

export interface PblResult {
  /** PBL top (m a.s.l., the bin's height); NaN if none. */
  heightM: number;
  /** Bin index of the top, -1 if none. */
  index: number;
  /** 0..1 (see the header). */
  quality: number;
  method: 'wct' | 'gradient' | 'none';
  /** Spread (max - min, m) of the per-dilation heights; NaN if not computed. */
  dilationsAgreeM: number;
}

export interface PblOptions {
  /** Search range for the top (m a.s.l.). */
  minHeightM: number;
  maxHeightM: number;
  /** Haar dilations (m); default [90, 150, 210, 300]. */
  dilationsM?: number[];
}

export const DEFAULT_DILATIONS_M = [90, 150, 210, 300];
/** Bins flagged with any of these are not used. */
export const PBL_INVALID = QC.CLOUD | QC.TERRAIN | QC.OVERLAP | QC.SATURATED;
const MIN_CONTRAST = 0.05;
const MIN_SIGNIFICANCE = 5;
const FULL_CONTRAST = 0.3;
const SPREAD_SCALE_M = 150;
const GRADIENT_MIN_SIGMA = 5;
const GRADIENT_QUALITY = 0.25;

const NONE: PblResult = { heightM: NaN, index: -1, quality: 0, method: 'none', dilationsAgreeM: NaN };

/**
 * Cumulative integral of X at height z (j: the bin with h[j] <= z < h[j+1]): C[j] plus the integral
 * of the linear interpolant from h[j] to z.
 */
function cumulativeAt(h: Float64Array, x: Float64Array, c: Float64Array, j: number, z: number): number {
  if (j >= h.length - 1) return c[h.length - 1];
  const dz = z - h[j];
  const t = dz / (h[j + 1] - h[j]);
  return c[j] + dz * (x[j] + 0.5 * t * (x[j + 1] - x[j]));
}

/** Largest j with h[j] <= z, starting the search at j (z non-decreasing between calls). */
function advance(h: Float64Array, j: number, z: number): number {
  while (j + 1 < h.length && h[j + 1] <= z) j++;
  return j;
}

/** Scratch of `pblHeight`, grown on demand and reused (the transform runs once per vertical profile). */
interface PblWorkspace {
  x: Float64Array;
  bad: Int32Array;
  c: Float64Array;
  d2: Float64Array;
  w: Float64Array;
  mean: Float64Array;
  meanNorm: Float64Array;
  rawMin: Float64Array;
  meanXMin: Float64Array;
  ptr: Int32Array;
  running: Float64Array;
}
let pblWorkspace: PblWorkspace | null = null;

function workspace(n: number, nd: number): PblWorkspace {
  const ws = pblWorkspace;
  if (ws !== null && ws.x.length >= n && ws.w.length >= nd * n && ws.ptr.length >= 3 * (nd + 1)) return ws;
  const f = (len: number) => new Float64Array(len);
  pblWorkspace = { x: f(n), bad: new Int32Array(n + 1), c: f(n), d2: f(n + 1), w: f(nd * n), mean: f(n), meanNorm: f(n), rawMin: f(n), meanXMin: f(n), ptr: new Int32Array(3 * (nd + 1)), running: new Float64Array(2) };
  return pblWorkspace;
}

export function pblHeight(heightM: Float64Array, rcs: Float64Array, qc: Uint8Array | null, opts: PblOptions): PblResult {
  const n = heightM.length;
  const dilations = opts.dilationsM ?? DEFAULT_DILATIONS_M;
  if (rcs.length !== n) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid rcs length: ${rcs.length} (expected ${n})`, { field: 'rcs' });
  if (qc && qc.length !== n) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid qc length: ${qc.length} (expected ${n})`, { field: 'qc' });
  if (!(opts.minHeightM < opts.maxHeightM)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid PBL search range: ${opts.minHeightM} .. ${opts.maxHeightM} m`, { field: 'minHeightM' });
  if (dilations.length === 0) throw new LidarError('LIDAR_ERR_BAD_VALUE', 'invalid PBL dilations: none given', { field: 'dilationsM' });
  for (const a of dilations) if (!(a > 0 && Number.isFinite(a))) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid PBL dilation: ${a} m`, { field: 'dilationsM' });
  const aMax = Math.max(...dilations);
  const aMin = Math.min(...dilations);
  // The axis must rise wherever the transform reads it: up to the first bin above the search range's
  // top plus the widest half window (a vertical record runs on far above; nothing there is read).
  const readTopM = opts.maxHeightM + aMax / 2;
  for (let i = 1; i < n; i++) {
    if (!(heightM[i] > heightM[i - 1])) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid height axis: ${heightM[i]} m at bin ${i} is not above ${heightM[i - 1]} m`, { field: 'heightM' });
    if (heightM[i] > readTopM) break;
  }
  if (n < 5) return { ...NONE };

  // Cumulative trapezoid integral (Neumaier), invalid bins as 0 (windows touching them are refused),
  // prefix counts of invalid bins, and prefix sums of |second differences| for the noise of X. All
  // are running sums in bin order, so they are made on demand only as far up the profile as the
  // windows reach (`extend`): a vertical record reaches far above the search range.
  const ws = workspace(n, dilations.length);
  const x = ws.x.subarray(0, n);
  const bad = ws.bad.subarray(0, n + 1);
  const c = ws.c.subarray(0, n);
  const d2 = ws.d2.subarray(0, n + 1);
  bad[0] = 0;
  c[0] = 0;
  d2[0] = 0;
  d2[1] = 0;
  let xDone = 0; // x[i] and bad[i + 1] made for i < xDone
  let cDone = 1; // c[i] and d2[i + 1] made for i < cDone
  // The running sum and its compensation live in a typed array: a captured variable written by the
  // closure below would box the value on every call.
  const running = ws.running.fill(0);
  /** Makes x[0..m+1], bad[0..m+2], c[0..m] and d2[0..m+1] (indices clipped to the arrays). */
  const extend = (m: number): void => {
    if (m < cDone) return;
    const top = Math.min(n - 1, m);
    const xTo = Math.min(n, top + 2);
    for (let i = xDone; i < xTo; i++) {
      const ok = Number.isFinite(rcs[i]) && (qc === null || (qc[i] & PBL_INVALID) === 0);
      x[i] = ok ? rcs[i] : 0;
      bad[i + 1] = bad[i] + (ok ? 0 : 1);
    }
    if (xTo > xDone) xDone = xTo;
    let s = running[0];
    let cs = running[1];
    for (let i = cDone; i <= top; i++) {
      const term = 0.5 * (x[i] + x[i - 1]) * (heightM[i] - heightM[i - 1]);
      const t = s + term;
      cs += sumError(s, term, t);
      s = t;
      c[i] = s + cs;
      d2[i + 1] = d2[i] + (i + 1 < n ? Math.abs(x[i + 1] - 2 * x[i] + x[i - 1]) : 0);
    }
    running[0] = s;
    running[1] = cs;
    if (top + 1 > cDone) cDone = top + 1;
  };

  // Candidate centres b: bins inside the search range whose widest window lies on valid data.
  let b0 = 0;
  while (b0 < n && heightM[b0] < opts.minHeightM) b0++;
  let b1 = b0;
  while (b1 < n && heightM[b1] <= opts.maxHeightM) b1++;
  if (b1 - b0 < 3) return { ...NONE };
  const nb = b1 - b0;
  const nd = dilations.length;
  const dMin = dilations.indexOf(aMin);
  // Per dilation the transform W (units of X); over the dilations its mean and the mean of Wn.
  const w = ws.w.subarray(0, nd * nb).fill(NaN);
  const mean = ws.mean.subarray(0, nb).fill(NaN);
  const meanNorm = ws.meanNorm.subarray(0, nb).fill(NaN);
  // Un-normalised transform and window-mean X of the smallest dilation (fallback and noise scale).
  const rawMin = ws.rawMin.subarray(0, nb).fill(NaN);
  const meanXMin = ws.meanXMin.subarray(0, nb).fill(NaN);
  // Search pointers (largest j with h[j] <= z) for the lower and upper edge of each dilation (slots
  // 3d and 3d + 2; the centre is a bin itself) and of the widest window (3 nd, 3 nd + 2).
  // Every edge any window asks for lies at or above the lowest centre's widest lower edge: all
  // pointers start from there (one walk up the record instead of one per pointer).
  const ptr = ws.ptr.subarray(0, 3 * (nd + 1)).fill(advance(heightM, 0, heightM[b0] - aMax / 2));
  const lowest = heightM[0];
  const highest = heightM[n - 1];
  // The running sums once, up to the widest window's upper edge at the last centre (the interpolation
  // reads one bin above it): every window lies below.
  extend(advance(heightM, 0, heightM[b1 - 1] + aMax / 2) + 1);
  for (let k = 0; k < nb; k++) {
    const b = heightM[b0 + k];
    // The widest window must lie on valid data, so every dilation compares like with like across b.
    if (b - aMax / 2 < lowest || b + aMax / 2 > highest) continue;
    ptr[3 * nd] = advance(heightM, ptr[3 * nd], b - aMax / 2);
    ptr[3 * nd + 2] = advance(heightM, ptr[3 * nd + 2], b + aMax / 2);
    // Bins of the window plus the neighbour the interpolation uses above its upper edge.
    if (bad[Math.min(n, ptr[3 * nd + 2] + 2)] - bad[ptr[3 * nd]] !== 0) continue;
    let sw = 0;
    let sn = 0;
    // The centre is bin b0 + k itself: the cumulative integral there is c[b0 + k] (what the
    // interpolation gives at a bin's own height).
    const cAtCentre = c[b0 + k];
    for (let d = 0; d < nd; d++) {
      const half = dilations[d] / 2;
      const jl = (ptr[3 * d] = advance(heightM, ptr[3 * d], b - half));
      const ju = (ptr[3 * d + 2] = advance(heightM, ptr[3 * d + 2], b + half));
      const cl = cumulativeAt(heightM, x, c, jl, b - half);
      const cu = cumulativeAt(heightM, x, c, ju, b + half);
      const aw = 2 * cAtCentre - cl - cu;
      const wd = aw / dilations[d];
      w[d * nb + k] = wd;
      sw += wd;
      sn += cu - cl > 0 ? aw / (cu - cl) : NaN;
      if (d === dMin) {
        rawMin[k] = wd; // dilations[dMin] is aMin
        meanXMin[k] = (cu - cl) / aMin;
      }
    }
    mean[k] = sw / nd;
    meanNorm[k] = sn / nd;
  }

  // Noise of X around bin b0 + k from second differences over the smallest dilation:
  // sigma = sqrt(pi)/2 * mean|d2| / sqrt(6) (d2 of white noise has variance 6 sigma^2).
  const binsMin = (k: number) => {
    const i = b0 + k;
    const dz = (heightM[Math.min(n - 1, i + 1)] - heightM[Math.max(0, i - 1)]) / (Math.min(n - 1, i + 1) - Math.max(0, i - 1));
    return Math.max(2, aMin / dz);
  };
  const noiseX = (k: number) => {
    const i = b0 + k;
    const half = Math.max(2, Math.round(binsMin(k) / 2));
    const lo = Math.max(1, i - half);
    const hi = Math.min(n - 1, i + half);
    extend(hi);
    return ((Math.sqrt(Math.PI) / 2) * (d2[hi] - d2[lo])) / Math.max(1, hi - lo) / Math.sqrt(6);
  };

  // Candidates: local maxima of the mean W (located un-normalised: dividing by the window mean,
  // which falls with b across a top, would pull the maximum up by up to half a dilation); ranked by
  // the mean normalised transform there.
  let best = -1;
  for (let k = 1; k < nb - 1; k++) {
    const m = meanNorm[k];
    if (!(mean[k] >= mean[k - 1]) || !(mean[k] > mean[k + 1]) || !(m > MIN_CONTRAST)) continue;
    const sigmaWn = noiseX(k) / (meanXMin[k] * Math.sqrt(binsMin(k)));
    if (!(m > MIN_SIGNIFICANCE * sigmaWn)) continue;
    if (best < 0 || m > meanNorm[best]) best = k;
  }

  if (best >= 0) {
    // Per-dilation heights: climb each dilation's transform from the top to its nearest maximum.
    let hMin = Infinity;
    let hMax = -Infinity;
    for (let d = 0; d < nd; d++) {
      let k = best;
      const row = d * nb;
      for (;;) {
        const up = k + 1 < nb ? w[row + k + 1] : NaN;
        const down = k > 0 ? w[row + k - 1] : NaN;
        if (up > w[row + k] && !(down > up)) k++;
        else if (down > w[row + k]) k--;
        else break;
      }
      hMin = Math.min(hMin, heightM[b0 + k]);
      hMax = Math.max(hMax, heightM[b0 + k]);
    }
    const spread = hMax - hMin;
    const quality = Math.min(1, meanNorm[best] / FULL_CONTRAST) * Math.max(0, 1 - spread / SPREAD_SCALE_M);
    return { heightM: heightM[b0 + best], index: b0 + best, quality, method: 'wct', dilationsAgreeM: spread };
  }

  // Fallback: the steepest decrease of the box-smoothed X (the un-normalised smallest-dilation transform).
  // Interior maxima only: a steepest decrease at the edge of the range means the top lies outside it.
  let g = -1;
  for (let k = 1; k < nb - 1; k++) {
    if (rawMin[k] > 0 && rawMin[k] >= rawMin[k - 1] && rawMin[k] > rawMin[k + 1] && (g < 0 || rawMin[k] > rawMin[g])) g = k;
  }
  if (g < 0) return { ...NONE };
  // sigma of W = (1/a) * dz * (sum of n bins with +-1) ~ sigma_X sqrt(n) dz / a = sigma_X / sqrt(n).
  const sigmaW = noiseX(g) / Math.sqrt(binsMin(g));
  if (!(rawMin[g] > GRADIENT_MIN_SIGMA * sigmaW)) return { ...NONE };
  const i = b0 + g;
  const contrast = meanXMin[g] > 0 ? rawMin[g] / meanXMin[g] : 0;
  return { heightM: heightM[i], index: i, quality: GRADIENT_QUALITY * Math.min(1, contrast / FULL_CONTRAST), method: 'gradient', dilationsAgreeM: NaN };
}
