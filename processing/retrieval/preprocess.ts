/**
 * Signal preprocessing kernels, in pipeline order (RETRIEVAL.md section 1; D'Amico et al. 2016,
 * AMT 9, 491, "EARLINET Single Calculus Chain - technical - Part 1: Pre-processing of raw lidar
 * data", the SCC ELPP module). Each kernel is one method:
 * - deadTimeCorrect: photon-counting dead time. Non-paralysable N = S / (1 - S tau); paralysable
 *   S = N exp(-N tau) inverted on its lower branch, N tau = -W0(-S tau) with W0 the principal
 *   Lambert W branch, by Halley's iteration (Corless et al. 1996, Adv. Comput. Math. 5, 329,
 *   eq. 5.9; start from the branch-point series 4.22 or the Taylor series 3.1). Donovan et al. 1993
 *   (Appl. Opt. 32, 4990) and Johnson 1966 for the two detector models.
 * - backgroundStats / backgroundWindow: mean and sample standard deviation over a signal-free
 *   window (far range, an explicit range window, or the pre-trigger bins).
 * - shiftBins: trigger-delay / analog bin-shift alignment by linear interpolation (LICEL.md 8).
 * - overlapCorrect: division by a tabulated overlap function O(r), or flagging only.
 * - rangeCorrect: X = P r^2.
 * - averageProfiles, smoothRange (sliding mean), binRange (block mean): time and range averaging.
 * Conventions: typed arrays in, `out` buffers written (no allocation per bin), NaN for missing,
 * Neumaier-compensated sums (Neumaier 1974, ZAMM 54, 39), LidarError naming the bad value.
 */
import { LidarError } from '../errors.js';
import { QC } from './qc.js';

/** Fewest bins a background or range window may have (a mean and a std worth using). */
export const MIN_BACKGROUND_BINS = 10;

/** Rate*tau above which non-paralysable dead-time correction is refused (RETRIEVAL.md 1.2). */
export const NONPARALYSABLE_MAX_S_TAU = 0.9;

/** Bins with an overlap at or below this become NaN (division would only amplify noise). */
export const OVERLAP_MIN_DIVISOR = 0.05;

/** Bins with an overlap below this are flagged QC.OVERLAP (RETRIEVAL.md 1.6). */
export const OVERLAP_FLAG_BELOW = 0.7;

function bad(detail: string, field: string): LidarError {
  return new LidarError('LIDAR_ERR_BAD_VALUE', detail, { field });
}

function checkOut(out: Float64Array, n: number, field = 'out'): void {
  if (out.length !== n) throw bad(`invalid ${field} length: ${out.length} (expected ${n} bins)`, field);
}

/**
 * A scratch array of at least n values: `current` if long enough, else a new one (at least twice as
 * long, so a buffer kept in a module variable and grown this way is reallocated rarely).
 */
export function grownScratch(current: Float64Array, n: number): Float64Array {
  return current.length >= n ? current : new Float64Array(Math.max(n, 2 * current.length));
}

/**
 * The rounding error of t = s + x (t the rounded sum), which Neumaier's summation adds to its
 * compensation. For compensated sums kept in local variables in per-bin loops: a small module
 * function the compiler inlines, where a CompensatedSum method call it does not inline would box its
 * argument on every bin.
 */
export function sumError(s: number, x: number, t: number): number {
  return Math.abs(s) >= Math.abs(x) ? s - t + x : x - t + s;
}

/**
 * Neumaier's improved Kahan-Babuska summation: the running sum plus the exact rounding error of
 * every addition, accumulated separately. `sub(x)` is `add(-x)` (sliding windows).
 */
export class CompensatedSum {
  private s = 0;
  private c = 0;
  add(x: number): void {
    const t = this.s + x;
    this.c += sumError(this.s, x, t);
    this.s = t;
  }
  sub(x: number): void {
    this.add(-x);
  }
  reset(): void {
    this.s = 0;
    this.c = 0;
  }
  get value(): number {
    return this.s + this.c;
  }
}

/**
 * The k-th smallest of a[0, n) (0-based; the value sorting would put there), by Hoare's quickselect;
 * reorders a so that a[k] holds it, with nothing larger before it and nothing smaller after it. a
 * must hold no NaN.
 */
export function kthSmallest(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

/**
 * The median of a[0, n) (the mean of the two middle values for even n; NaN for n = 0); reorders a.
 * By selection (`kthSmallest`), or by a sort when a NaN is present (NaN then sorts last).
 */
export function medianInPlace(a: Float64Array, n: number): number {
  if (n === 0) return NaN;
  let hasNaN = false;
  for (let i = 0; i < n; i++) if (a[i] !== a[i]) hasNaN = true;
  if (hasNaN) {
    const sorted = a.subarray(0, n).sort();
    return n % 2 === 1 ? sorted[(n - 1) / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  }
  if (n % 2 === 1) return kthSmallest(a, n, (n - 1) / 2);
  const lower = kthSmallest(a, n, n / 2 - 1);
  // The selection leaves everything after position k at least a[k] (its invariant: a[0, lo) <= a[lo, hi]
  // <= a(hi, n)), so the next order statistic is the smallest of those.
  let upper = a[n / 2];
  for (let i = n / 2 + 1; i < n; i++) if (a[i] < upper) upper = a[i];
  return 0.5 * (lower + upper);
}

/** Lower real branch of y exp(-y) = x for 0 <= x < 1/e (and x < 0): y = -W0(-x), Halley's method. */
function paralysableInverse(x: number): number {
  if (x === 0) return 0;
  const z = -x; // solve w e^w = z, w = W0(z) in (-1, 0] for z in (-1/e, 0]
  let w: number;
  if (z < -0.25) {
    const p = Math.sqrt(2 * (Math.E * z + 1)); // branch-point series
    w = -1 + p - (p * p) / 3 + (11 / 72) * p * p * p;
  } else {
    w = z - z * z + 1.5 * z * z * z; // Taylor series at 0
  }
  for (let k = 0; k < 30; k++) {
    const ew = Math.exp(w);
    const f = w * ew - z;
    const wp1 = w + 1;
    if (wp1 <= 0) break; // at the branch point itself
    const step = f / (ew * wp1 - ((w + 2) * f) / (2 * wp1));
    w -= step;
    if (Math.abs(step) <= 1e-15 * (1 + Math.abs(w))) break;
  }
  return -w;
}

/**
 * Dead-time correction of photon-counting rates (MHz). Non-paralysable N = S / (1 - S tau), refused
 * (NaN, QC.SATURATED) where S tau >= 0.9; paralysable S = N exp(-N tau) solved for N on the lower
 * branch (N tau < 1), refused where S tau >= 1/e (beyond the model's maximum measurable rate).
 * tau in ns, rates in MHz (S tau = S * tau * 1e-3). NaN in gives NaN out (no flag). `qc` may be
 * null; `out` may alias `rateMHz`. tau = 0 copies.
 */
export function deadTimeCorrect(
  rateMHz: Float64Array,
  deadTimeNs: number,
  model: 'nonparalysable' | 'paralysable',
  out: Float64Array,
  qc: Uint8Array | null,
): void {
  const n = rateMHz.length;
  if (!(deadTimeNs >= 0) || !Number.isFinite(deadTimeNs)) throw bad(`invalid dead time: ${deadTimeNs} ns`, 'dead_time_ns');
  if (model !== 'nonparalysable' && model !== 'paralysable') throw bad(`invalid dead-time model: ${String(model)}`, 'model');
  checkOut(out, n);
  if (qc !== null && qc.length !== n) throw bad(`invalid qc length: ${qc.length} (expected ${n} bins)`, 'qc');
  const tau = deadTimeNs * 1e-3; // 1/MHz
  const limit = model === 'nonparalysable' ? NONPARALYSABLE_MAX_S_TAU : 1 / Math.E;
  for (let i = 0; i < n; i++) {
    const s = rateMHz[i];
    const x = s * tau;
    if (x >= limit) {
      out[i] = NaN;
      if (qc !== null) qc[i] |= QC.SATURATED;
    } else if (model === 'nonparalysable' || tau === 0) {
      out[i] = s / (1 - x); // NaN stays NaN
    } else {
      out[i] = x === x ? paralysableInverse(x) / tau : NaN;
    }
  }
}

/**
 * Mean and sample standard deviation (n - 1) of bins [from, to), NaN skipped, both passes
 * compensated; `n` = count of valid bins. n = 0 gives NaN mean, n < 2 NaN std.
 */
export function backgroundStats(signal: ArrayLike<number>, from: number, to: number): { mean: number; std: number; n: number } {
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to > signal.length || from > to) {
    throw bad(`invalid background bins: [${from}, ${to}) of ${signal.length}`, 'background.window_m');
  }
  const sum = new CompensatedSum();
  let n = 0;
  for (let i = from; i < to; i++) {
    const v = signal[i];
    if (v === v) {
      sum.add(v);
      n++;
    }
  }
  if (n === 0) return { mean: NaN, std: NaN, n: 0 };
  const mean = sum.value / n;
  if (n < 2) return { mean, std: NaN, n };
  sum.reset();
  for (let i = from; i < to; i++) {
    const d = signal[i] - mean;
    if (d === d) sum.add(d * d);
  }
  return { mean, std: Math.sqrt(sum.value / (n - 1)), n };
}

/**
 * The background window as bin indices [from, to):
 * - 'none' -> null (no background subtraction);
 * - 'pretrigger' -> [0, zeroBin): needs zeroBin >= MIN_BACKGROUND_BINS;
 * - [fromM, toM] -> the bins whose centre range r satisfies fromM <= r <= toM; the window must end
 *   within the record (toM <= last centre + half a bin) and hold >= MIN_BACKGROUND_BINS bins;
 * - null (default) -> the last 10% of the bins (at least 1; rounded to the nearest bin).
 * `rangeM` is the bin-centre range axis (increasing; negative in pre-trigger bins).
 */
export function backgroundWindow(spec: [number, number] | 'pretrigger' | 'none' | null, rangeM: Float64Array, zeroBin: number): [number, number] | null {
  const n = rangeM.length;
  const field = 'background.window_m';
  if (n === 0) throw bad('invalid range axis: no bins', 'rangeM');
  if (spec === 'none') return null;
  if (spec === null) return [n - Math.max(1, Math.round(0.1 * n)), n];
  if (spec === 'pretrigger') {
    if (!Number.isInteger(zeroBin) || zeroBin < 0 || zeroBin > n) throw bad(`invalid zero bin: ${zeroBin} (record has ${n} bins)`, 'zero_bin');
    if (zeroBin < MIN_BACKGROUND_BINS) {
      throw bad(`invalid ${field}: "pretrigger" needs at least ${MIN_BACKGROUND_BINS} pre-trigger bins, the zero bin is ${zeroBin}`, field);
    }
    return [0, zeroBin];
  }
  if (!Array.isArray(spec) || spec.length !== 2 || !Number.isFinite(spec[0]) || !Number.isFinite(spec[1]) || !(spec[0] < spec[1])) {
    throw bad(`invalid ${field}: ${JSON.stringify(spec)} (expected [from, to] with from < to)`, field);
  }
  const [fromM, toM] = spec;
  const halfBin = n > 1 ? 0.5 * (rangeM[n - 1] - rangeM[n - 2]) : 0;
  const endM = rangeM[n - 1] + halfBin;
  if (toM > endM) throw bad(`invalid ${field}: [${fromM}, ${toM}] ends beyond the record (last bin ends at ${endM} m)`, field);
  let from = 0;
  while (from < n && !(rangeM[from] >= fromM)) from++;
  let to = from;
  while (to < n && rangeM[to] <= toM) to++;
  if (to - from < MIN_BACKGROUND_BINS) {
    throw bad(`invalid ${field}: [${fromM}, ${toM}] holds ${to - from} bins (at least ${MIN_BACKGROUND_BINS} needed)`, field);
  }
  return [from, to];
}

/**
 * Shifts a trace toward earlier bins by a (fractional) number of bins: out[j] = signal[j + shift],
 * linear interpolation between the two neighbours (an integer shift copies exactly), NaN where
 * j + shift falls outside [0, n - 1]. Aligns an analog trace delayed by the header bin shift
 * (whole + thousandths) with photon counting. `out` must not alias `signal`.
 */
export function shiftBins(signal: Float64Array, shiftBins: number, out: Float64Array): void {
  const n = signal.length;
  if (!Number.isFinite(shiftBins)) throw bad(`invalid bin shift: ${shiftBins}`, 'bin_shift');
  checkOut(out, n);
  if (out.buffer === signal.buffer && out.byteOffset < signal.byteOffset + signal.byteLength && signal.byteOffset < out.byteOffset + out.byteLength) {
    throw bad('invalid out: shiftBins output must not alias its input', 'out');
  }
  const whole = Math.floor(shiftBins);
  const f = shiftBins - whole;
  for (let j = 0; j < n; j++) {
    const i0 = j + whole;
    if (i0 < 0 || i0 >= n || (f > 0 && i0 + 1 >= n)) out[j] = NaN;
    else if (f === 0) out[j] = signal[i0];
    else out[j] = signal[i0] + f * (signal[i0 + 1] - signal[i0]);
  }
}

/** Checks an overlap table: >= 1 row, finite strictly increasing ranges, O in [0, 1]. */
export function checkOverlapTable(table: Array<[number, number]>, field = 'overlap.table'): void {
  if (!Array.isArray(table) || table.length === 0) throw bad(`invalid ${field}: empty`, field);
  for (let k = 0; k < table.length; k++) {
    const row = table[k];
    if (!Array.isArray(row) || row.length !== 2 || !Number.isFinite(row[0]) || !Number.isFinite(row[1])) {
      throw bad(`invalid ${field}[${k}]: ${JSON.stringify(row)} (expected [range_m, O])`, field);
    }
    if (row[1] < 0 || row[1] > 1) throw bad(`invalid ${field}[${k}]: O = ${row[1]} (must be in [0, 1])`, field);
    if (k > 0 && !(row[0] > table[k - 1][0])) throw bad(`invalid ${field}[${k}]: range ${row[0]} m (ranges must increase)`, field);
  }
}

/**
 * Linear interpolation in a table of [x, y] rows with increasing x at every x[i], i in [from, to),
 * into out[i]: `beyondEnd` past the last x, the first y before the first x, NaN for NaN. One walk up
 * the table for ascending x (a range axis); it restarts from the table's first row where x falls, so
 * any order gives the same values. A loop over the bins here rather than a call per bin: a call the
 * compiler does not inline returns its double boxed. `out` may alias `x`.
 */
export function interpolateTableInto(table: Array<[number, number]>, x: ArrayLike<number>, beyondEnd: number, out: Float64Array, from = 0, to = x.length): void {
  const m = table.length;
  const xFirst = table[0][0];
  const yFirst = table[0][1];
  const xLast = table[m - 1][0];
  let lo = 0; // the bracket: table[lo][0] < x <= table[lo + 1][0]
  for (let i = from; i < to; i++) {
    const xi = x[i];
    if (!(xi === xi)) out[i] = NaN;
    else if (xi <= xFirst) out[i] = yFirst;
    else if (xi > xLast) out[i] = beyondEnd;
    else {
      if (!(table[lo][0] < xi)) lo = 0;
      while (table[lo + 1][0] < xi) lo++;
      // Indexed, not destructured: array destructuring runs the iterator protocol, which allocates.
      const x0 = table[lo][0];
      const y0 = table[lo][1];
      out[i] = y0 + ((xi - x0) / (table[lo + 1][0] - x0)) * (table[lo + 1][1] - y0);
    }
  }
}

const oneX = new Float64Array(1);
const oneY = new Float64Array(1);

/** `interpolateTableInto` at a single x. */
export function interpolateTable(table: Array<[number, number]>, x: number, beyondEnd: number): number {
  oneX[0] = x;
  interpolateTableInto(table, oneX, beyondEnd, oneY, 0, 1);
  return oneY[0];
}

/** O(r) of `overlapCorrect`, grown on demand and reused. */
let overlapScratch: Float64Array = new Float64Array(0);

/**
 * Overlap correction. With a table [[range_m, O], ...]: O(r) by linear interpolation (the first
 * value held before the first range, O = 1 past the last one), out = signal / O; QC.OVERLAP where
 * O < 0.7; NaN where O <= 0.05. With {fullOverlapM}: no division (out = signal), QC.OVERLAP where
 * r < fullOverlapM. `qc` may be null; `out` may alias `signal`.
 */
export function overlapCorrect(
  signal: Float64Array,
  rangeM: Float64Array,
  overlap: { fullOverlapM: number } | { table: Array<[number, number]> },
  out: Float64Array,
  qc: Uint8Array | null,
): void {
  const n = signal.length;
  checkOut(out, n);
  checkOut(rangeM, n, 'rangeM');
  if (qc !== null && qc.length !== n) throw bad(`invalid qc length: ${qc.length} (expected ${n} bins)`, 'qc');
  if ('table' in overlap) {
    const table = overlap.table;
    checkOverlapTable(table);
    const lastRangeM = table[table.length - 1][0];
    // O(r) of the bins up to the first one past the table (all of them on an increasing range axis),
    // into a reused scratch array.
    let tableEnd = 0;
    while (tableEnd < n && !(rangeM[tableEnd] > lastRangeM)) tableEnd++;
    const overlapAt = (overlapScratch = grownScratch(overlapScratch, tableEnd));
    interpolateTableInto(table, rangeM, 1, overlapAt, 0, tableEnd);
    for (let i = 0; i < n; i++) {
      const r = rangeM[i];
      // Past the table O = 1 (no flag; signal / 1 is the signal, bit for bit).
      if (r > lastRangeM) {
        out[i] = signal[i];
        continue;
      }
      const o = i < tableEnd ? overlapAt[i] : interpolateTable(table, r, 1); // the latter only for ranges that fall back
      if (qc !== null && !(o >= OVERLAP_FLAG_BELOW)) qc[i] |= QC.OVERLAP;
      out[i] = o > OVERLAP_MIN_DIVISOR ? signal[i] / o : NaN;
    }
    return;
  }
  const full = overlap.fullOverlapM;
  if (!Number.isFinite(full) || full < 0) throw bad(`invalid overlap.full_overlap_m: ${full}`, 'overlap.full_overlap_m');
  for (let i = 0; i < n; i++) {
    if (qc !== null && rangeM[i] < full) qc[i] |= QC.OVERLAP;
    out[i] = signal[i];
  }
}

/** Range correction X = P r^2 with r the bin-centre range; NaN where r <= 0 (pre-trigger). `out` may alias. */
export function rangeCorrect(signal: Float64Array, rangeM: Float64Array, out: Float64Array): void {
  const n = signal.length;
  checkOut(out, n);
  checkOut(rangeM, n, 'rangeM');
  for (let i = 0; i < n; i++) {
    const r = rangeM[i];
    out[i] = r > 0 ? signal[i] * r * r : NaN;
  }
}

/**
 * Bin-by-bin mean of profiles of the same geometry, NaN-aware (mean of the valid values; NaN if
 * none), compensated. `outSem`: standard error of the mean, s / sqrt(k) with s the sample standard
 * deviation of the k valid values (NaN for k < 2). No profiles: all NaN.
 */
export function averageProfiles(profiles: Float64Array[], out: Float64Array, outSem?: Float64Array): void {
  const n = out.length;
  for (let p = 0; p < profiles.length; p++) {
    if (profiles[p].length !== n) throw bad(`invalid profiles[${p}] length: ${profiles[p].length} (expected ${n} bins)`, 'profiles');
  }
  if (outSem !== undefined) checkOut(outSem, n, 'outSem');
  const sum = new CompensatedSum();
  for (let i = 0; i < n; i++) {
    sum.reset();
    let k = 0;
    for (let p = 0; p < profiles.length; p++) {
      const v = profiles[p][i];
      if (v === v) {
        sum.add(v);
        k++;
      }
    }
    const mean = k > 0 ? sum.value / k : NaN;
    out[i] = mean;
    if (outSem === undefined) continue;
    if (k < 2) {
      outSem[i] = NaN;
      continue;
    }
    sum.reset();
    for (let p = 0; p < profiles.length; p++) {
      const d = profiles[p][i] - mean;
      if (d === d) sum.add(d * d);
    }
    outSem[i] = Math.sqrt(sum.value / (k - 1) / k);
  }
}

/**
 * The odd window (bins) nearest to a smoothing length, max(1, 2 round((L / dr - 1) / 2) + 1):
 * 0 m (up to 1.5 bins) gives 1 = no smoothing; 30 m at 7.5 m (4 bins, a tie) gives 5 bins, whose
 * 37.5 m `smoothRange` reports as the effective resolution.
 */
export function smoothingWindowBins(smoothingM: number, binWidthM: number): number {
  if (!(smoothingM >= 0) || !Number.isFinite(smoothingM)) throw bad(`invalid smoothing_m: ${smoothingM}`, 'smoothing_m');
  if (!(binWidthM > 0) || !Number.isFinite(binWidthM)) throw bad(`invalid bin width: ${binWidthM}`, 'bin_width_m');
  return Math.max(1, 2 * Math.round((smoothingM / binWidthM - 1) / 2) + 1);
}

/**
 * Sliding-window mean over `windowBins` (odd; 1 copies), NaN-aware: out[i] is the mean of the valid
 * values in [i - h, i + h], h = (windowBins - 1) / 2, where near the ends the window shrinks
 * symmetrically (h_i = min(h, i, n - 1 - i)) so every output stays centred on its bin (an
 * asymmetric window would bias a steep lidar signal). A NaN bin stays NaN (missing is not
 * invented from neighbours). Running compensated sum, O(n). Returns the effective vertical
 * resolution windowBins * binWidthM (m). `out` must not alias.
 */
export function smoothRange(signal: Float64Array, windowBins: number, binWidthM: number, out: Float64Array): number {
  const n = signal.length;
  if (!Number.isInteger(windowBins) || windowBins < 1 || windowBins % 2 === 0) throw bad(`invalid smoothing window: ${windowBins} bins (must be an odd integer >= 1)`, 'smoothing_m');
  if (!(binWidthM > 0) || !Number.isFinite(binWidthM)) throw bad(`invalid bin width: ${binWidthM}`, 'bin_width_m');
  checkOut(out, n);
  if (out === signal) throw bad('invalid out: smoothRange output must not alias its input', 'out');
  const h = (windowBins - 1) / 2;
  const sum = new CompensatedSum();
  let count = 0;
  let lo = 0; // current window [lo, hi)
  let hi = 0;
  for (let i = 0; i < n; i++) {
    const hw = Math.min(h, i, n - 1 - i);
    const newLo = i - hw;
    const newHi = i + hw + 1;
    while (hi < newHi) {
      const v = signal[hi++];
      if (v === v) {
        sum.add(v);
        count++;
      }
    }
    while (lo < newLo) {
      const v = signal[lo++];
      if (v === v) {
        sum.sub(v);
        count--;
      }
    }
    const x = signal[i];
    out[i] = x === x ? sum.value / count : NaN;
  }
  return windowBins * binWidthM;
}

/**
 * Block averaging to a coarser grid: mean of each group of `factor` consecutive bins (NaN-aware,
 * NaN if the group has no valid value); the new range = mean of the group's bin centres. An
 * incomplete last group is dropped, so the new grid stays uniform (bin width factor * dr).
 */
export function binRange(signal: Float64Array, rangeM: Float64Array, factor: number): { signal: Float64Array; rangeM: Float64Array } {
  const n = signal.length;
  if (!Number.isInteger(factor) || factor < 1) throw bad(`invalid binning factor: ${factor} (must be an integer >= 1)`, 'factor');
  checkOut(rangeM, n, 'rangeM');
  const m = Math.floor(n / factor);
  const outSignal = new Float64Array(m);
  const outRange = new Float64Array(m);
  const sum = new CompensatedSum();
  const rsum = new CompensatedSum();
  for (let g = 0; g < m; g++) {
    sum.reset();
    rsum.reset();
    let k = 0;
    for (let i = g * factor, end = i + factor; i < end; i++) {
      rsum.add(rangeM[i]);
      const v = signal[i];
      if (v === v) {
        sum.add(v);
        k++;
      }
    }
    outSignal[g] = k > 0 ? sum.value / k : NaN;
    outRange[g] = rsum.value / factor;
  }
  return { signal: outSignal, rangeM: outRange };
}
