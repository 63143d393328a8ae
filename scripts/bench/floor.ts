/**
 * The retrieval's arithmetic floor: what the chain's unavoidable per-bin arithmetic costs on this
 * machine when written as one fused kernel with nothing else (docs/performance.md "What remains").
 * Not a retrieval: a yardstick for the <= 10 ns/bin target of the full chain.
 *
 * `floorChain` does, for one profile (an analog and a photon-counting record of one wavelength):
 * 1. one pass over the record: physical values (analog mV, photon MHz), non-paralysable dead time,
 *    background subtraction (means of the pre-trigger bins), the sums of the analog/photon line fit
 *    over the gluing range; then the line fit;
 * 2. one pass up to the signal's extent: glue, overlap and range correction (one factor per bin,
 *    r^2 / O(r), cached per geometry like the chain's), the prefix sums of X and X / beta_mol;
 * 3. the reference bin: the flattest X / beta_mol over candidate windows, from the prefix sums;
 * 4. backward from the reference: the three Fernald inversions the chain must run (S_a and
 *    S_a +/- 10 sr, RETRIEVAL.md section 5) in one loop, then one loop for the two reference-value
 *    runs (+/- 50%, by the rescaling of klett.ts: one division each) and the products: alpha_aer,
 *    PM10, PM2.5, AOD, both sensitivities, a QC byte;
 * 5. the Haar transform (4 dilations) over the PBL search range (<= 4 km) from the prefix sums;
 * 6. one pass for the cloud screening (a jump over the running minimum of X).
 * (The forward part above the reference is left out: the floor puts the reference near the top.)
 * It leaves out what the chain also does: the glue's noise-ratio check and selection, SNR and
 * sigma of X (LOW_SNR), NaN gaps and instabilities, hard targets, the reference windows' Rayleigh
 * fits, saturation and terrain flags, argument checks, the
 * axes and lat/lon copies, NaN fill of the Monte Carlo sigmas. And it uses cheaper arithmetic than
 * the chain's accuracy asks for: plain sums (the chain uses compensated ones) and a degree-3 series
 * for the per-step transmission (degree 5 in klett.ts): a floor, not a design.
 *
 * Its inversions are checked against `fernald` (tests/bench-floor.test.ts): the fused loop computes
 * the real thing, so its time is a real lower bound for that arithmetic written this way.
 */
import { timeIt, type Timing, type TimingOptions } from './measure.js';

/** Bins before the trigger in the floor's records (as the benchmark's scenarios record them). */
export const FLOOR_PRETRIGGER_BINS = 200;
const BIN_WIDTH_M = 7.5;
const SHOTS = 3000;
const ANALOG_MV_PER_COUNT = 500 / 4096; // 500 mV input range, 12 bits (per shot)
const PHOTON_MHZ_PER_COUNT = 20; // 1 count per shot in a 50 ns (7.5 m) bin = 20 MHz
const DEAD_TIME_US = 0.0037; // 3.7 ns
const GLUE_LOW_MHZ = 0.5;
const GLUE_HIGH_MHZ = 10;
const MOLECULAR_LIDAR_RATIO_SR = (8 * Math.PI) / 3;
export const FLOOR_LIDAR_RATIO_SR = 50;
const LIDAR_RATIO_STEP_SR = 10;
const PM10_PER_ALPHA = 1e6 / 3.5; // alpha (1/m) -> ug/m^3 with MEE 3.5 m^2/g (f(RH), Angstrom folded in)
const PM25_PER_ALPHA = 1e6 / 6;
const PBL_DILATIONS_BINS = [12, 20, 28, 40]; // 90, 150, 210, 300 m
const PBL_TOP_M = 4000;
const REFERENCE_WINDOW_BINS = 100;
const CLOUD_JUMP = 3;
/** QC bits the floor sets (qc.ts values). */
const OVERLAP = 1;
const NEGATIVE = 32;

export interface FloorInput {
  /** Record length (pre-trigger + data bins). */
  bins: number;
  /** One past the last bin with signal: passes 2-6 stop here (the chain stops at the signal's extent). */
  extent: number;
  /**
   * Data bins' ranges (m; 0 in the pre-trigger), molecular backscatter (1/m/sr) and its inverse,
   * r^2 / O(r): per geometry, cached by the chain.
   */
  rangeM: Float64Array;
  betaMol: Float64Array;
  inverseBetaMol: Float64Array;
  rangeFactor: Float64Array;
  /** First bin past the overlap region (O >= 0.5): the inversions and products start here. */
  from: number;
  /** Raw summed counts of the analog and the photon-counting record. */
  rawAnalog: Float64Array;
  rawPhoton: Float64Array;
  /** Truth: the aerosol layer's top (m), where the PBL step is. */
  layerTopM: number;
}

export interface FloorOutput {
  analog: Float64Array;
  photon: Float64Array;
  x: Float64Array;
  /** Prefix sums of X and X / beta_mol (sum over bins < i). */
  sumX: Float64Array;
  sumXOverMol: Float64Array;
  betaAer: Float64Array;
  alphaAer: Float64Array;
  /** beta_aer of the S_a - 10 sr and S_a + 10 sr inversions. */
  betaAerLow: Float64Array;
  betaAerHigh: Float64Array;
  pm10: Float64Array;
  pm25: Float64Array;
  aod: Float64Array;
  sensLidarRatio: Float64Array;
  sensReference: Float64Array;
  qc: Uint8Array;
  ref: number;
  pblIndex: number;
  cloudIndex: number;
}

export function floorOutput(bins: number): FloorOutput {
  const f = () => new Float64Array(bins);
  return {
    analog: f(), photon: f(), x: f(), sumX: new Float64Array(bins + 1), sumXOverMol: new Float64Array(bins + 1),
    betaAer: f(), alphaAer: f(), betaAerLow: f(), betaAerHigh: f(), pm10: f(), pm25: f(), aod: f(),
    sensLidarRatio: f(), sensReference: f(), qc: new Uint8Array(bins), ref: -1, pblIndex: -1, cloudIndex: -1,
  };
}

/**
 * A noise-free synthetic profile: molecular atmosphere (8 km scale height), an aerosol layer of
 * beta_aer 3e-6 /m/sr below `layerTopM` (a 100 m wide erf top; S_a 50 sr), overlap
 * 1 - exp(-(r / 300 m)^2), the signal through the lidar equation, the photon rate through the dead
 * time, background in both records, as (unrounded) summed counts. Signal in the data bins up to `extent`
 * (record bins beyond carry background only, like a record longer than its signal).
 */
export function floorInput(bins: number, extent = bins, layerTopM = 1500): FloorInput {
  const rangeM = new Float64Array(bins);
  const betaMol = new Float64Array(bins);
  const inverseBetaMol = new Float64Array(bins);
  const rangeFactor = new Float64Array(bins);
  const rawAnalog = new Float64Array(bins);
  const rawPhoton = new Float64Array(bins);
  let tau = 0;
  let from = -1;
  for (let i = 0; i < bins; i++) {
    const data = i >= FLOOR_PRETRIGGER_BINS;
    const r = data ? (i - FLOOR_PRETRIGGER_BINS + 0.5) * BIN_WIDTH_M : 0;
    rangeM[i] = r;
    const bm = data ? 1.5e-6 * Math.exp(-r / 8000) : 0;
    betaMol[i] = bm;
    inverseBetaMol[i] = data ? 1 / bm : 0;
    const overlap = 1 - Math.exp(-((r / 300) ** 2));
    rangeFactor[i] = data ? (r * r) / overlap : 0;
    if (from < 0 && data && overlap >= 0.5) from = i;
    const ba = 3e-6 * 0.5 * (1 - erf((r - layerTopM) / 50));
    tau += data ? (FLOOR_LIDAR_RATIO_SR * ba + MOLECULAR_LIDAR_RATIO_SR * bm) * BIN_WIDTH_M : 0;
    const power = data && i < extent ? (4e12 * (ba + bm) * overlap * Math.exp(-2 * tau)) / (r * r) : 0;
    const analogMv = 0.02 * power + 0.5;
    const trueMhz = 0.05 * power + 0.05;
    const seenMhz = trueMhz / (1 + trueMhz * DEAD_TIME_US);
    rawAnalog[i] = (analogMv / ANALOG_MV_PER_COUNT) * SHOTS;
    rawPhoton[i] = (seenMhz / PHOTON_MHZ_PER_COUNT) * SHOTS;
  }
  return { bins, extent, rangeM, betaMol, inverseBetaMol, rangeFactor, from, rawAnalog, rawPhoton, layerTopM };
}

/** Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): shapes the synthetic layer only. */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

/** The floor chain of one profile (steps 1-6 of the header). Allocates nothing. */
export function floorChain(inp: FloorInput, out: FloorOutput): void {
  floorPrepare(inp, out);
  floorInvert(inp, out);
  floorScreen(inp, out);
}

/** Steps 1-3: the prepared signal X, its prefix sums and the reference bin (`out.ref`). */
export function floorPrepare(inp: FloorInput, out: FloorOutput): void {
  const { bins, extent, inverseBetaMol, rangeFactor, from, rawAnalog, rawPhoton } = inp;
  const { analog, photon, x, sumX, sumXOverMol } = out;
  const scaleA = ANALOG_MV_PER_COUNT / SHOTS;
  const scaleP = PHOTON_MHZ_PER_COUNT / SHOTS;
  // Backgrounds: the pre-trigger means (dead-time corrected for the photon record).
  let bgA = 0;
  let bgP = 0;
  for (let i = 0; i < FLOOR_PRETRIGGER_BINS; i++) {
    bgA += rawAnalog[i];
    const p = rawPhoton[i] * scaleP;
    bgP += p / (1 - p * DEAD_TIME_US);
  }
  bgA = (bgA * scaleA) / FLOOR_PRETRIGGER_BINS;
  bgP /= FLOOR_PRETRIGGER_BINS;
  // Pass 1: physical values, dead time, background, the glue fit's sums.
  let n = 0;
  let sa = 0;
  let sp = 0;
  let sap = 0;
  let saa = 0;
  for (let i = 0; i < bins; i++) {
    const a = rawAnalog[i] * scaleA - bgA;
    const seen = rawPhoton[i] * scaleP;
    const p = seen / (1 - seen * DEAD_TIME_US) - bgP;
    analog[i] = a;
    photon[i] = p;
    if (p > GLUE_LOW_MHZ && p < GLUE_HIGH_MHZ) {
      n++;
      sa += a;
      sp += p;
      sap += a * p;
      saa += a * a;
    }
  }
  const slope = n > 1 ? (n * sap - sa * sp) / (n * saa - sa * sa) : 1;
  const offset = n > 1 ? (sp - slope * sa) / n : 0;
  // Pass 2: glue (photon counting below the top of the gluing range), overlap and range correction, prefix sums.
  let cx = 0;
  let cxm = 0;
  sumX[FLOOR_PRETRIGGER_BINS] = 0;
  sumXOverMol[FLOOR_PRETRIGGER_BINS] = 0;
  for (let i = FLOOR_PRETRIGGER_BINS; i < extent; i++) {
    const p = photon[i];
    const v = (p < GLUE_HIGH_MHZ ? p : slope * analog[i] + offset) * rangeFactor[i];
    x[i] = v;
    cx += v;
    cxm += v * inverseBetaMol[i];
    sumX[i + 1] = cx;
    sumXOverMol[i + 1] = cxm;
  }
  // Reference: the window (upper half of the signal) where the means of X / beta_mol in its two halves agree best.
  const w = REFERENCE_WINDOW_BINS;
  // No room for a window above the overlap region: nothing to invert (ref -1, steps 4-6 do nothing).
  let ref = extent - w >= from ? extent - w / 2 : -1;
  let bestScore = Infinity;
  for (let i = (from + extent) >> 1; i + w <= extent; i += w >> 2) {
    const lower = (sumXOverMol[i + w / 2] - sumXOverMol[i]) / (w / 2);
    const upper = (sumXOverMol[i + w] - sumXOverMol[i + w / 2]) / (w / 2);
    const score = Math.abs(lower - upper) / (lower + upper);
    if (score < bestScore) {
      bestScore = score;
      ref = i + w / 2;
    }
  }
  out.ref = ref;
}

/** Steps 5 and 6: PBL top and cloud base (`out.pblIndex`, `out.cloudIndex`; -1 if none). */
export function floorScreen(inp: FloorInput, out: FloorOutput): void {
  const { extent, from } = inp;
  const { x, sumX, ref } = out;
  out.pblIndex = -1;
  out.cloudIndex = -1;
  if (ref < 0) return;
  // PBL: the mean over the dilations of the Haar transform at each centre up to 4 km; its maximum.
  const top = Math.min(extent - PBL_DILATIONS_BINS[3] / 2 - 1, FLOOR_PRETRIGGER_BINS + Math.floor(PBL_TOP_M / BIN_WIDTH_M));
  let pbl = -1;
  let wBest = -Infinity;
  const [h0, h1, h2, h3] = PBL_DILATIONS_BINS.map((a) => a / 2);
  const [w0, w1, w2, w3] = PBL_DILATIONS_BINS.map((a) => 2 / a);
  for (let k = from + h3; k < top; k++) {
    const c2 = 2 * sumX[k];
    const wk = (c2 - sumX[k - h0] - sumX[k + h0]) * w0 + (c2 - sumX[k - h1] - sumX[k + h1]) * w1 + (c2 - sumX[k - h2] - sumX[k + h2]) * w2 + (c2 - sumX[k - h3] - sumX[k + h3]) * w3;
    if (wk > wBest) {
      wBest = wk;
      pbl = k;
    }
  }
  out.pblIndex = pbl;
  // Cloud: the first bin above the PBL where X jumps to CLOUD_JUMP times its running minimum.
  let min = Infinity;
  let cloud = -1;
  for (let i = Math.max(from, pbl); i < ref; i++) {
    const v = x[i];
    if (v < min) min = v;
    else if (v > CLOUD_JUMP * min) {
      cloud = i;
      break;
    }
  }
  out.cloudIndex = cloud;
}

/**
 * Step 4: the three inversions in one loop (fused: no faster than three loops here, but no slower),
 * then the products with the two rescaled reference-value runs, backward from `out.ref` to `from`.
 */
export function floorInvert(inp: FloorInput, out: FloorOutput): void {
  const { rangeM, betaMol, from } = inp;
  if (out.ref < 0) return;
  const { ref, x, betaAer, alphaAer, betaAerLow, betaAerHigh, pm10, pm25, aod, sensLidarRatio, sensReference, qc } = out;
  const sm = MOLECULAR_LIDAR_RATIO_SR;
  const s1 = FLOOR_LIDAR_RATIO_SR;
  const s2 = s1 - LIDAR_RATIO_STEP_SR;
  const s3 = s1 + LIDAR_RATIO_STEP_SR;
  // Boundary: beta_aer(ref) = 0 (a Rayleigh reference), X(ref) as measured; the reference-value
  // runs put 50% of beta_mol(ref) above and below it.
  const rcsRef = x[ref];
  const bmRef = betaMol[ref];
  const d0 = rcsRef / bmRef;
  const d0Low = rcsRef / (0.5 * bmRef + bmRef);
  const d0High = rcsRef / (-0.5 * bmRef + bmRef);
  betaAer[ref] = 0;
  alphaAer[ref] = 0;
  let t1 = 1;
  let t2 = 1;
  let t3 = 1;
  let i1 = 0;
  let i2 = 0;
  let i3 = 0;
  let f1 = s1 * rcsRef;
  let f2 = s2 * rcsRef;
  let f3 = s3 * rcsRef;
  let bmPrev = bmRef;
  let rPrev = rangeM[ref];
  let tau = 0;
  for (let i = ref - 1; i >= from; i--) {
    const r = rangeM[i];
    const bm = betaMol[i];
    const v = x[i];
    const h = (rPrev - r) * (bm + bmPrev); // -2 dA / (S_a - S_m)
    const half = 0.5 * (r - rPrev);
    bmPrev = bm;
    rPrev = r;
    const e1 = h * (s1 - sm);
    const e2 = h * (s2 - sm);
    const e3 = h * (s3 - sm);
    t1 *= 1 + e1 * (1 + e1 * (0.5 + e1 * (1 / 6)));
    t2 *= 1 + e2 * (1 + e2 * (0.5 + e2 * (1 / 6)));
    t3 *= 1 + e3 * (1 + e3 * (0.5 + e3 * (1 / 6)));
    const y1 = v * t1;
    const y2 = v * t2;
    const y3 = v * t3;
    const g1 = s1 * y1;
    const g2 = s2 * y2;
    const g3 = s3 * y3;
    i1 += half * (g1 + f1);
    i2 += half * (g2 + f2);
    i3 += half * (g3 + f3);
    f1 = g1;
    f2 = g2;
    f3 = g3;
    const twice = 2 * i1;
    betaAer[i] = y1 / (d0 - twice) - bm;
    betaAerLow[i] = y2 / (d0 - 2 * i2) - bm;
    betaAerHigh[i] = y3 / (d0 - 2 * i3) - bm;
    // kept for the products' pass: Y and the doubled integral of the main run
    pm25[i] = y1;
    sensReference[i] = twice;
  }
  // Products from the inversions.
  for (let i = ref - 1; i >= from; i--) {
    const bm = betaMol[i];
    const b1 = betaAer[i];
    const alpha = s1 * b1;
    const y1 = pm25[i];
    const twice = sensReference[i];
    alphaAer[i] = alpha;
    pm10[i] = alpha * PM10_PER_ALPHA;
    pm25[i] = alpha * PM25_PER_ALPHA;
    tau -= alpha * (rangeM[i] - rangeM[i + 1]);
    aod[i] = tau;
    sensLidarRatio[i] = Math.max(Math.abs(s2 * betaAerLow[i] - alpha), Math.abs(s3 * betaAerHigh[i] - alpha));
    const low = s1 * (y1 / (d0Low - twice) - bm);
    const high = s1 * (y1 / (d0High - twice) - bm);
    sensReference[i] = Math.max(Math.abs(low - alpha), Math.abs(high - alpha));
    qc[i] = (b1 < 0 ? NEGATIVE : 0) | (i < from + 8 ? OVERLAP : 0);
  }
}

export interface FloorTiming {
  bins: number;
  extent: number;
  /** Median ns per call of the whole floor chain and of its steps. */
  medianNs: number;
  steps: { prepare: number; invert: number; screen: number };
  /** medianNs per record bin (the chain's ns/bin: per profile and record bin). */
  nsPerBin: number;
}

/** Times `floorChain` and each of its steps on a `floorInput(bins, extent)` profile. */
export function timeFloor(bins: number, extent: number, opts: TimingOptions): FloorTiming {
  const inp = floorInput(bins, extent);
  const out = floorOutput(bins);
  const whole = timeIt(() => floorChain(inp, out), opts);
  // Each step alone on the outputs of the steps before it (those stay as the whole chain left them).
  const prepare = timeIt(() => floorPrepare(inp, out), opts).medianNs;
  const invert = timeIt(() => floorInvert(inp, out), opts).medianNs;
  const screen = timeIt(() => floorScreen(inp, out), opts).medianNs;
  return { bins, extent, medianNs: whole.medianNs, steps: { prepare, invert, screen }, nsPerBin: whole.medianNs / bins };
}
