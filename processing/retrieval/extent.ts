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

/** Bins per test window. */
export const EXTENT_WINDOW_BINS = 64;
/** Least aggregate SNR of a window that still holds signal. */
export const EXTENT_MIN_WINDOW_SNR = 4;
/** Bins kept past the last window with signal. */
export const EXTENT_MARGIN_BINS = 64;

/**
 * The extent from window sums: `stats(start, stop)` returns the sum of the background-subtracted
 * signal over bins [start, stop) and sets `variance` to the sum of their noise variances (see the
 * header for the windows and the test). One past the last bin of [from, to) that may hold signal,
 * plus the margin; `from` when no window does. Each window is summed as two halves, and the upper
 * half of a window is the lower half of the one before it (windows step down by half their width),
 * so every bin is read once. `offsetVariance`: the variance of the background level subtracted from
 * every bin (an error of it shifts a window's sum by n times that error, n the window's bins).
 */
export function extentFromWindows(from: number, to: number, stats: (start: number, stop: number) => { sum: number; variance: number }, offsetVariance = 0): number {
  const w = EXTENT_WINDOW_BINS;
  const step = w / 2;
  let end = -1;
  // From the far end down: the first window with signal decides.
  let start = Math.max(from, to - w);
  // Sums over the upper half of the current window, carried from the window before (NaN: none).
  let carrySum = NaN;
  let carryVariance = NaN;
  for (;;) {
    const stop = Math.min(to, start + w);
    const mid = Math.min(stop, start + step);
    const lower = stats(start, mid);
    const lowerSum = lower.sum;
    const lowerVariance = lower.variance;
    let sum = lowerSum;
    let variance = lowerVariance;
    if (mid < stop) {
      if (carrySum !== carrySum) {
        const upper = stats(mid, stop);
        carrySum = upper.sum;
        carryVariance = upper.variance;
      }
      sum += carrySum;
      variance += carryVariance;
    }
    // An error of the subtracted background level is the same in every bin of the window.
    variance += (stop - start) * (stop - start) * offsetVariance;
    if (variance > 0 && sum >= EXTENT_MIN_WINDOW_SNR * Math.sqrt(variance)) {
      end = stop;
      break;
    }
    if (start === from) break;
    if (start - step >= from) {
      // The next window [start - step, start + step): its upper half is this window's lower half.
      start -= step;
      carrySum = lowerSum;
      carryVariance = lowerVariance;
    } else {
      start = from;
      carrySum = NaN;
      carryVariance = NaN;
    }
  }
  return end < 0 ? from : Math.min(to, end + EXTENT_MARGIN_BINS);
}

/**
 * The extent of a prepared signal `x` with per-bin noise `sigma` over [from, to) (see the header);
 * NaN X or sigma bins count as neither signal nor noise.
 */
export function signalExtent(x: Float64Array, sigma: Float64Array, from: number, to: number): number {
  const acc = { sum: 0, variance: 0 };
  return extentFromWindows(from, to, (start, stop) => {
    let sum = 0;
    let variance = 0;
    for (let i = start; i < stop; i++) {
      const v = x[i];
      const s = sigma[i];
      if (v === v && s === s) {
        sum += v;
        variance += s * s;
      }
    }
    acc.sum = sum;
    acc.variance = variance;
    return acc;
  });
}
