/**
 * Aerosol backscatter and extinction from one elastic lidar profile: the Fernald-Klett inversion.
 *
 * Method: Fernald, F. G. (1984) "Analysis of atmospheric lidar observations: some comments",
 * Appl. Opt. 23, 652-653 (two-component solution), after Klett, J. D. (1981) Appl. Opt. 20, 211 and
 * (1985) Appl. Opt. 24, 1638 (backward integration is stable). With X(r) the range-corrected signal,
 * beta = beta_aer + beta_mol, S_a(r) the aerosol and S_m the molecular lidar ratio and integrals taken
 * from the reference range r_c to r (signed: negative lengths for r < r_c):
 *   A(r)    = int_{r_c}^{r} (S_a - S_m) beta_mol dr',          Y(r) = X(r) exp(-2 A(r))
 *   beta(r) = Y(r) / [ X(r_c) / beta(r_c) - 2 int_{r_c}^{r} S_a Y dr' ],   alpha_aer = S_a beta_aer.
 * This is exact for a range-dependent S_a (d(Y/beta)/dr = -2 S_a Y follows from the lidar equation).
 *
 * Discretisation: both integrals by the trapezoid rule on the bin centres (the actual centre-to-centre
 * distances, so a non-uniform grid is also handled); int S_a Y with Neumaier's compensated summation,
 * exp(-2 A) as the running product of the per-step factors exp(-2 dA) (see `sweep`); at the reference
 * bin the integrand uses the boundary signal rcsRef (a fitted or smoothed X(r_c)).
 * The error against the continuous equation is second order in the bin width (see tests/klett.test.ts).
 * Missing signal (X NaN): that bin's output is NaN and the S_a Y integral is carried across the gap
 * as the trapezoid between the valid bins on either side, i.e. the integrand interpolated linearly
 * over the gap (A(r) needs no signal and is integrated through). A denominator <= 0 (the forward
 * solution's instability, or noise) makes that bin and every farther bin in that direction NaN.
 *
 * `fernaldCalibrated`: with a known lidar constant C (X = C beta T^2), the boundary at bin `start`
 * is solved for beta(start) = X(start) / (C T^2(start)), T^2(start) = exp(-2 (tau_mol(0..r_start)
 * + alpha_aer(start) r_start)) (aerosol extinction homogeneous between the lidar and r_start), and the
 * inversion runs from there. The boundary equation is beta e^{-u beta} = P with u = 2 S_a r_start,
 * P = X e^{2 tau_mol - u beta_mol} / C, i.e. beta = -W0(-u P) / u (Lambert W, principal branch);
 * solved by Newton's method on ln beta - u beta - ln P from beta = P, which converges monotonically
 * (the function is concave) to relative 1e-12. No solution exists when u P > 1/e (near field too
 * opaque for the signal): the output is then NaN.
 *
 * `fernaldRescaled`: Y and the S_a Y integral do not depend on beta(r_c), so with a trace of them
 * (FernaldTrace) another boundary value at the same bin and signal costs one division per bin.
 */
import { LidarError } from '../errors.js';
import { molecularOpticalDepth } from './reference.js';
import { sumError } from './preprocess.js';

export interface FernaldInput {
  /** Bin-centre ranges (m), strictly increasing (uniform spacing expected, not required). */
  rangeM: Float64Array;
  /** X(r): background-subtracted, range-corrected signal (any consistent unit); NaN = missing. */
  rcs: Float64Array;
  /** Molecular backscatter (1/m/sr). */
  betaMol: Float64Array;
  /** Molecular lidar ratio S_m (sr), 8 pi / 3 by default. */
  molecularLidarRatioSr: number;
  /** Aerosol lidar ratio S_a per bin (sr). */
  lidarRatioSr: Float64Array;
  /** First bin to compute (inclusive). */
  from: number;
  /** Last bin to compute (exclusive); bins outside [from, to) are set to NaN in the output. */
  to: number;
  /**
   * Optional: the output is written only below this bin (>= to): NaN on [0, from) and [to, outEnd),
   * nothing from outEnd on. For callers that read [0, outEnd) only (the retrieval chain stops at
   * the signal's extent: on a long record most of the output would be NaN written for nothing).
   * Default: the whole output.
   */
  outEnd?: number;
}

/** One past the last output bin an inversion writes (see FernaldInput.outEnd). */
function outputEnd(input: FernaldInput, out: FernaldOutput): number {
  return input.outEnd === undefined ? out.betaAer.length : Math.min(out.betaAer.length, Math.max(input.to, input.outEnd));
}

export interface FernaldOutput {
  betaAer: Float64Array;
  alphaAer: Float64Array;
}

function badValue(field: string, detail: string): LidarError {
  return new LidarError('LIDAR_ERR_BAD_VALUE', detail, { field });
}

function checkLength(name: string, a: Float64Array, n: number): void {
  if (a.length !== n) throw badValue(name, `invalid ${name} length: ${a.length} (expected ${n}, the number of ranges)`);
}

function checkInput(input: FernaldInput, out: FernaldOutput): void {
  const n = input.rangeM.length;
  checkLength('rcs', input.rcs, n);
  checkLength('betaMol', input.betaMol, n);
  checkLength('lidarRatioSr', input.lidarRatioSr, n);
  checkLength('out.betaAer', out.betaAer, n);
  checkLength('out.alphaAer', out.alphaAer, n);
  const { from, to } = input;
  if (!(Number.isInteger(from) && from >= 0 && from < n)) throw badValue('from', `invalid first bin: ${from} (expected 0..${n - 1})`);
  if (!(Number.isInteger(to) && to > from && to <= n)) throw badValue('to', `invalid end bin: ${to} (expected ${from + 1}..${n})`);
  const sm = input.molecularLidarRatioSr;
  if (!(sm > 0 && sm < Infinity)) throw badValue('molecularLidarRatioSr', `invalid molecular lidar ratio: ${sm} sr`);
  if (to - from > 1 && !(input.rangeM[from + 1] > input.rangeM[from] && input.rangeM[to - 1] > input.rangeM[to - 2])) {
    throw badValue('rangeM', `invalid ranges: not strictly increasing at bins ${from}..${to - 1}`);
  }
}

/**
 * The per-bin intermediates of one inversion, which do not depend on the boundary value beta(r_c):
 * Y(r) = X(r) exp(-2 A(r)) and 2 int_{r_c}^{r} S_a Y dr'. Another boundary value at the same bin with
 * the same X(r_c) only changes X(r_c) / beta(r_c) in the denominator, so `fernaldRescaled` redoes
 * such an inversion (the reference-value sensitivity runs) with one division per bin, bit for bit
 * what `fernald` gives. Filled by `fernald` when passed to it (arrays of the profile's length).
 */
export interface FernaldTrace {
  y: Float64Array;
  twiceIntegral: Float64Array;
  /** Reference bin and boundary signal the trace was made with. */
  ref: number;
  rcsRef: number;
}

export function createFernaldTrace(bins: number): FernaldTrace {
  return { y: new Float64Array(bins), twiceIntegral: new Float64Array(bins), ref: -1, rcsRef: NaN };
}

/** |x| below which exp(x) is its degree-5 Taylor polynomial (truncation x^6/720 < 2e-21, below rounding). */
const EXP_SERIES_LIMIT = 1e-3;

/**
 * exp(e) for the small per-step exponents of a running product of transmissions: the degree-5
 * Taylor polynomial for |e| < 1e-3 (truncation below rounding; ~4x cheaper than Math.exp), else
 * Math.exp. A product of n such factors is within ~n * 1e-16 (relative) of exp of the sum.
 */
export function expStep(e: number): number {
  return e < EXP_SERIES_LIMIT && e > -EXP_SERIES_LIMIT ? 1 + e * (1 + e * (0.5 + e * (1 / 6 + e * (1 / 24 + e / 120)))) : Math.exp(e);
}

/**
 * One direction of the inversion from the reference bin: step -1 (backward) or +1 (forward), up to `end`
 * (exclusive). exp(-2 A) is carried as a product of the per-step factors exp(-2 dA) (dA the trapezoid
 * increment; a short series for the small arguments of ordinary bins): one multiplication per bin
 * instead of an exp, relative error ~ n * 1e-16. Bad S_a or beta_mol are detected after the loop from
 * running minima (no test per bin) and reported with their bin.
 */
function sweep(input: FernaldInput, ref: number, end: number, step: number, d0: number, rcsRef: number, out: FernaldOutput, trace: FernaldTrace | null): void {
  const { rangeM, rcs, betaMol, lidarRatioSr } = input;
  const sm = input.molecularLidarRatioSr;
  const { betaAer, alphaAer } = out;
  let rPrev = rangeM[ref];
  let gPrev = (lidarRatioSr[ref] - sm) * betaMol[ref];
  let attenuation = 1; // exp(-2 A(r))
  // int S_a Y dr as a Neumaier sum (value + compensation).
  let iSum = 0;
  let iComp = 0;
  // Last valid integrand S_a Y and its range (the reference bin to start with: A = 0 there).
  let fPrev = lidarRatioSr[ref] * rcsRef;
  let rfPrev = rPrev;
  let unstable = false;
  let sMin = Infinity;
  let bMin = Infinity;
  let bMax = 0;
  for (let i = ref + step; i !== end; i += step) {
    const r = rangeM[i];
    const s = lidarRatioSr[i];
    const bm = betaMol[i];
    sMin = Math.min(sMin, s);
    bMin = Math.min(bMin, bm);
    bMax = Math.max(bMax, bm);
    const g = (s - sm) * bm;
    const e = (rPrev - r) * (g + gPrev); // -2 dA
    attenuation *= expStep(e);
    rPrev = r;
    gPrev = g;
    const x = rcs[i];
    // Past an instability the integral is only needed for a trace (other boundary values).
    if (x !== x || (unstable && trace === null)) {
      betaAer[i] = NaN;
      alphaAer[i] = NaN;
      continue;
    }
    const y = x * attenuation;
    const f = s * y;
    const t = 0.5 * (r - rfPrev) * (f + fPrev);
    const sum = iSum + t;
    iComp += sumError(iSum, t, sum);
    iSum = sum;
    fPrev = f;
    rfPrev = r;
    const twiceIntegral = 2 * (iSum + iComp);
    if (trace !== null) {
      trace.y[i] = y;
      trace.twiceIntegral[i] = twiceIntegral;
    }
    const d = d0 - twiceIntegral;
    if (unstable || !(d > 0)) {
      unstable = true;
      betaAer[i] = NaN;
      alphaAer[i] = NaN;
      continue;
    }
    const beta = y / d - bm;
    betaAer[i] = beta;
    alphaAer[i] = s * beta;
  }
  if (!(sMin > 0) || !(bMin >= 0) || !(bMax < Infinity)) reportBadBin(input, ref, end, step);
}

/** Throws for the first bin (from ref in the sweep's direction) with an invalid S_a or beta_mol. */
function reportBadBin(input: FernaldInput, ref: number, end: number, step: number): never {
  for (let i = ref + step; i !== end; i += step) {
    const s = input.lidarRatioSr[i];
    if (!(s > 0 && s < Infinity)) throw badValue('lidarRatioSr', `invalid aerosol lidar ratio at bin ${i}: ${s} sr`);
    const bm = input.betaMol[i];
    if (!(bm >= 0 && bm < Infinity)) throw badValue('betaMol', `invalid molecular backscatter at bin ${i}: ${bm} /m/sr`);
  }
  throw badValue('lidarRatioSr', 'invalid lidar ratio or molecular backscatter');
}

/** Checks the boundary of `fernald` and writes the reference bin and the NaN outside [from, to); returns X(r_c) / beta(r_c). */
function boundary(input: FernaldInput, ref: number, betaAerRef: number, rcsRef: number, out: FernaldOutput): number {
  checkInput(input, out);
  const { from, to, betaMol, lidarRatioSr } = input;
  if (!(Number.isInteger(ref) && ref >= from && ref < to)) throw badValue('ref', `invalid reference bin: ${ref} (expected ${from}..${to - 1})`);
  if (!(rcsRef > 0 && rcsRef < Infinity)) throw badValue('rcsRef', `invalid reference signal: ${rcsRef} (must be > 0 and finite)`);
  const betaRef = betaAerRef + betaMol[ref];
  if (!(betaRef > 0 && betaRef < Infinity)) {
    throw badValue('betaAerRef', `invalid reference aerosol backscatter: ${betaAerRef} /m/sr (total ${betaRef} must be > 0)`);
  }
  const sRef = lidarRatioSr[ref];
  if (!(sRef > 0 && sRef < Infinity)) throw badValue('lidarRatioSr', `invalid aerosol lidar ratio at bin ${ref}: ${sRef} sr`);
  const { betaAer, alphaAer } = out;
  betaAer.fill(NaN, 0, from);
  alphaAer.fill(NaN, 0, from);
  const outEnd = outputEnd(input, out);
  betaAer.fill(NaN, to, outEnd);
  alphaAer.fill(NaN, to, outEnd);
  betaAer[ref] = betaAerRef;
  alphaAer[ref] = sRef * betaAerRef;
  return rcsRef / betaRef;
}

/**
 * Fernald 1984: boundary at bin `ref` (from <= ref < to) with beta_aer(ref) = betaAerRef and
 * X(ref) = rcsRef (a fitted or smoothed value; pass rcs[ref] for the raw one). Backward (stable) for
 * i < ref, forward for i > ref. Trapezoid integrals on the bin grid with compensated summation. NaN X:
 * NaN output in that bin, integrals carried across by linear interpolation of the integrand; a
 * non-positive denominator gives NaN from there on in that direction. Allocates nothing. `trace`, if
 * given, receives the boundary-independent intermediates (see FernaldTrace).
 */
export function fernald(input: FernaldInput, ref: number, betaAerRef: number, rcsRef: number, out: FernaldOutput, trace: FernaldTrace | null = null): void {
  const d0 = boundary(input, ref, betaAerRef, rcsRef, out);
  if (trace !== null) {
    checkLength('trace.y', trace.y, input.rangeM.length);
    checkLength('trace.twiceIntegral', trace.twiceIntegral, input.rangeM.length);
    trace.ref = -1; // valid only once both sweeps are done
  }
  sweep(input, ref, input.from - 1, -1, d0, rcsRef, out, trace);
  sweep(input, ref, input.to, 1, d0, rcsRef, out, trace);
  if (trace !== null) {
    trace.ref = ref;
    trace.rcsRef = rcsRef;
  }
}

/**
 * `fernald` with another boundary value betaAerRef at the trace's reference bin and signal, from a
 * trace made by `fernald` on the same input: one division per bin, identical results.
 */
export function fernaldRescaled(input: FernaldInput, trace: FernaldTrace, betaAerRef: number, out: FernaldOutput): void {
  if (trace.ref < 0) throw badValue('trace', 'invalid trace: not filled by fernald');
  const d0 = boundary(input, trace.ref, betaAerRef, trace.rcsRef, out);
  replay(input, trace, input.from - 1, -1, d0, out);
  replay(input, trace, input.to, 1, d0, out);
}

/** One direction of `fernaldRescaled` (the same NaN and instability rules as `sweep`). */
function replay(input: FernaldInput, trace: FernaldTrace, end: number, step: number, d0: number, out: FernaldOutput): void {
  const { rcs, betaMol, lidarRatioSr } = input;
  const { y, twiceIntegral } = trace;
  const { betaAer, alphaAer } = out;
  let unstable = false;
  for (let i = trace.ref + step; i !== end; i += step) {
    const x = rcs[i];
    const d = d0 - twiceIntegral[i];
    if (unstable || x !== x || !(d > 0)) {
      if (x === x) unstable = true;
      betaAer[i] = NaN;
      alphaAer[i] = NaN;
      continue;
    }
    const beta = y[i] / d - betaMol[i];
    betaAer[i] = beta;
    alphaAer[i] = lidarRatioSr[i] * beta;
  }
}

const MAX_NEWTON = 100;
const NEWTON_TOL = 1e-12;

/**
 * The boundary of the calibrated forward solution (see the header): beta_aer at bin `start` for the
 * lidar constant C (NaN, not converged, when the boundary equation has no solution); tauMol is the
 * molecular optical depth to `start`.
 */
export function calibratedBoundary(input: FernaldInput, lidarConstant: number, start: number): { converged: boolean; betaAerStart: number; tauMol: number; iterations: number } {
  const { from, to, rangeM, rcs, betaMol, lidarRatioSr } = input;
  if (!(lidarConstant > 0 && lidarConstant < Infinity)) throw badValue('lidarConstant', `invalid lidar constant: ${lidarConstant}`);
  if (!(Number.isInteger(start) && start >= from && start < to)) throw badValue('start', `invalid start bin: ${start} (expected ${from}..${to - 1})`);
  const x = rcs[start];
  if (!(x > 0 && x < Infinity)) throw badValue('rcs', `invalid signal at the start bin ${start}: ${x} (must be > 0)`);
  const rs = rangeM[start];
  if (!(rs > 0)) throw badValue('rangeM', `invalid start range: ${rs} m (must be > 0)`);
  const s = lidarRatioSr[start];
  if (!(s > 0 && s < Infinity)) throw badValue('lidarRatioSr', `invalid aerosol lidar ratio at bin ${start}: ${s} sr`);
  const bm = betaMol[start];
  const tauMol = molecularOpticalDepth(rangeM, betaMol, input.molecularLidarRatioSr, start);
  if (!(tauMol >= 0 && tauMol < Infinity)) throw badValue('betaMol', `invalid molecular optical depth to bin ${start}: ${tauMol}`);
  const u = 2 * s * rs;
  const p = (x / lidarConstant) * Math.exp(2 * tauMol - u * bm);
  let beta = p;
  let iterations = 0;
  let converged = u === 0;
  if (u * p <= Math.exp(-1)) {
    const lnP = Math.log(p);
    while (!converged && iterations < MAX_NEWTON) {
      const h = Math.log(beta) - u * beta - lnP;
      const step = h / (1 / beta - u);
      beta -= step;
      iterations++;
      converged = Math.abs(step) <= NEWTON_TOL * beta;
    }
  }
  return { converged, betaAerStart: converged ? beta - bm : NaN, tauMol, iterations };
}

/**
 * Forward solution with a known lidar constant C (X = C (beta_aer + beta_mol) T^2): the boundary at
 * bin `start` solved self-consistently with the aerosol extinction between the lidar and r_start
 * equal to that at start (see the header), then `fernald` from that boundary (bins [from, start), if
 * any, are the stable backward solution from the same boundary; `trace` as there). Returns the Newton
 * iterations used and T^2(start); when the boundary has no solution the output and T^2 are NaN.
 */
export function fernaldCalibrated(
  input: FernaldInput,
  lidarConstant: number,
  start: number,
  out: FernaldOutput,
  trace: FernaldTrace | null = null,
): { transmission2AtStart: number; iterations: number } {
  checkInput(input, out);
  const b = calibratedBoundary(input, lidarConstant, start);
  if (!b.converged) {
    out.betaAer.fill(NaN, 0, outputEnd(input, out));
    out.alphaAer.fill(NaN, 0, outputEnd(input, out));
    return { transmission2AtStart: NaN, iterations: b.iterations };
  }
  fernald(input, start, b.betaAerStart, input.rcs[start], out, trace);
  return { transmission2AtStart: Math.exp(-2 * (b.tauMol + input.lidarRatioSr[start] * b.betaAerStart * input.rangeM[start])), iterations: b.iterations };
}
