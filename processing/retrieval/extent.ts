/**
 * The extent of the signal in a record: where the backscatter return has sunk into the noise for
 * good. A Licel record runs to 16380 bins (61 km at 3.75 m, 123 km at 7.5 m) while an aerosol lidar's
 * return is lost in the background after a few km by day and 10-30 km at night; every bin beyond is
 * noise whose product would be flagged LOW_SNR anyway. The chain stops its screening, inversions and
 * products there (they read NaN, flagged LOW_SNR), which saves most of its work on long records.
 *
 * Test: windows of WINDOW_BINS bins, every WINDOW_BINS / 2, with the aggregate signal-to-noise ratio
 * sum(X) / sqrt(sum(sigma^2) + n^2 sigma_b^2) (X the range-corrected signal, sigma its per-bin noise,
 * sigma_b the error of the background level subtracted from all n bins of the window, when the caller
 * knows it: recordExtent, from the spread of the background window). The extent ends
 * MARGIN_BINS past the last window at or above MIN_WINDOW_SNR. Pure noise gives a window SNR ~ N(0, 1):
 * 4 is passed by chance with probability 3e-5 per window (a lucky window only keeps more bins, never
 * fewer). A bin that could carry a valid product has SNR >= 3 by itself (the LOW_SNR rule), so its
 * window is far above 4; so is a faint layer of per-bin SNR 0.5 (window SNR 4 at 64 bins). A 1 km
 * Rayleigh reference window accepted by the automatic search (SNR >= 10 over >= 130 bins) holds
 * sub-windows above 4 unless its SNR is spread thinly over its whole length, so references found
 * before are still found (scripts/bench/compare.ts over the 110 identity retrievals: no reference
 * window changed).
 */

/** The first `end` bins of `a`: a view on the same memory, or `a` itself when it has no more. */
export function firstBins<T extends Float64Array | Uint8Array>(a: T, end: number): T {
  return end >= a.length ? a : (a.subarray(0, end) as T);
}

/**
 * Where reused arrays hold NaN from on (to their end). A call that prepares bins [0, end) of them
 * refills only [end, nanFrom) (`nanBeyond`), what an earlier, longer call wrote: on a long record the
 * extent is a few thousand of its 16380 bins. Fresh arrays hold zeros: nanFrom = their length.
 */
export interface NanTail {
  nanFrom: number;
}

/**
 * Before a call writes bins [0, end) of `a` (and `b`, kept with the same tail): NaN on [end, nanFrom),
 * so both are NaN from `end` on whatever the call then writes below it, or if it fails half-way.
 */
export function nanBeyond(tail: NanTail, end: number, a: Float64Array, b?: Float64Array): void {
  a.fill(NaN, end, tail.nanFrom);
  b?.fill(NaN, end, tail.nanFrom);
  tail.nanFrom = end;
}

/** Bins per test window. */
export const EXTENT_WINDOW_BINS = 64;
/** Least aggregate SNR of a window that still holds signal. */
export const EXTENT_MIN_WINDOW_SNR = 4;
/** Bins kept past the last window with signal. */
export const EXTENT_MARGIN_BINS = 64;

/**
 * Sums per block for `extentFromWindows`: blocks of `size` bins counted down from `stop` (block q is
 * [max(start, stop - (q + 1) size), stop - q size)), each summed in increasing bin order: into
 * `sums[q]` the background-subtracted signal, into `variances[q]` its noise variance.
 */
export type BlockSums = (start: number, stop: number, size: number, sums: Float64Array, variances: Float64Array) => void;

/** Blocks summed per `BlockSums` call. */
const BATCH_BLOCKS = 64;
const batchSums = new Float64Array(BATCH_BLOCKS);
const batchVariances = new Float64Array(BATCH_BLOCKS);

/**
 * Whether a window of `bins` bins with this sum and noise variance holds signal (see the header); an
 * error of the subtracted background level (variance `offsetVariance`) is the same in every bin of
 * the window. A module function, not a closure: a closure made per call is not inlined when the
 * loader wraps it (tsx's keepNames), which boxed its arguments on every window.
 */
function windowPasses(sum: number, variance: number, bins: number, offsetVariance: number): boolean {
  const v = variance + bins * bins * offsetVariance;
  return v > 0 && sum >= EXTENT_MIN_WINDOW_SNR * Math.sqrt(v);
}

/**
 * The extent from block sums (see the header for the windows and the test): one past the last bin of
 * [from, to) that may hold signal, plus the margin; `from` when no window does. The windows of
 * WINDOW_BINS step down from `to` by half their width, so each is two blocks of half a window and
 * shares one with the window before: every bin is summed once, a batch of blocks per `blockSums`
 * call. The last window, where the steps reach `from`, is [from, from + WINDOW_BINS) (or [from, to)
 * on a range shorter than a window). `offsetVariance`: the variance of the background level
 * subtracted from every bin (an error of it shifts a window's sum by n times that error, n the
 * window's bins).
 */
export function extentFromWindows(from: number, to: number, blockSums: BlockSums, offsetVariance = 0): number {
  if (!(to > from)) return from;
  const w = EXTENT_WINDOW_BINS;
  const size = w / 2;
  // Whole blocks from the far end; window k = blocks k + 1 (lower) and k (upper).
  const blocks = Math.floor((to - from) / size);
  let upperSum = 0;
  let upperVariance = 0;
  for (let base = 0; blocks >= 2 && base < blocks; base += BATCH_BLOCKS) {
    const count = Math.min(BATCH_BLOCKS, blocks - base);
    blockSums(to - size * (base + count), to - size * base, size, batchSums, batchVariances);
    for (let q = 0; q < count; q++) {
      const j = base + q;
      if (j > 0 && windowPasses(batchSums[q] + upperSum, batchVariances[q] + upperVariance, w, offsetVariance)) return Math.min(to, to - size * (j - 1) + EXTENT_MARGIN_BINS);
      upperSum = batchSums[q];
      upperVariance = batchVariances[q];
    }
  }
  // The last window starts at `from` unless the steps landed there.
  if (blocks >= 2 && (to - from) % size === 0) return from;
  const stop = Math.min(to, from + w);
  const mid = Math.min(stop, from + size);
  blockSums(from, mid, mid - from, batchSums, batchVariances);
  let sum = batchSums[0];
  let variance = batchVariances[0];
  if (mid < stop) {
    blockSums(mid, stop, stop - mid, batchSums, batchVariances);
    sum += batchSums[0];
    variance += batchVariances[0];
  }
  return windowPasses(sum, variance, stop - from, offsetVariance) ? Math.min(to, stop + EXTENT_MARGIN_BINS) : from;
}

/**
 * The extent of a prepared signal `x` with per-bin noise `sigma` over [from, to) (see the header);
 * NaN X or sigma bins count as neither signal nor noise.
 */
export function signalExtent(x: Float64Array, sigma: Float64Array, from: number, to: number): number {
  return extentFromWindows(from, to, (start, stop, size, sums, variances) => {
    for (let q = 0, hi = stop; hi > start; q++, hi -= size) {
      let sum = 0;
      let variance = 0;
      for (let i = Math.max(start, hi - size); i < hi; i++) {
        const v = x[i];
        const s = sigma[i];
        if (v === v && s === s) {
          sum += v;
          variance += s * s;
        }
      }
      sums[q] = sum;
      variances[q] = variance;
    }
  });
}
