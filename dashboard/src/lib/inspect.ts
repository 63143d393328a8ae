/**
 * Profile inspector helpers (pure): the parameter set sent to the in-browser retrieval (the stored
 * set with the inspector's fields applied), and the comparison of two profiles bin by bin.
 */
export interface InspectorFields {
  /** Aerosol lidar ratio (sr); null = the stored set's (or the chain's default). */
  lidarRatioSr: number | null;
  smoothingM: number | null;
  fullOverlapM: number | null;
  meePm10: number | null;
  meePm25: number | null;
  gamma: number | null;
  rh: number | null;
}

type Json = Record<string, unknown>;

/** The stored set (snake_case JSON) with the non-null fields replaced. Does not modify `stored`. */
export function applyFields(stored: Json, f: InspectorFields): Json {
  const out: Json = JSON.parse(JSON.stringify(stored ?? {})) as Json;
  if (f.lidarRatioSr !== null) out.lidar_ratio_sr = f.lidarRatioSr;
  if (f.smoothingM !== null) out.smoothing_m = f.smoothingM;
  if (f.fullOverlapM !== null) out.overlap = { full_overlap_m: f.fullOverlapM };
  const pm: Json = { ...((out.pm as Json | undefined) ?? {}) };
  if (f.meePm10 !== null) pm.mee_pm10 = f.meePm10;
  if (f.meePm25 !== null) pm.mee_pm25 = f.meePm25;
  if (f.gamma !== null) pm.gamma = f.gamma;
  if (f.rh !== null) pm.rh = f.rh;
  if (Object.keys(pm).length > 0) out.pm = pm;
  return out;
}

export interface Comparison {
  /** Bins where both have a finite value. */
  n: number;
  /** Bins valid in one only. */
  onlyOne: number;
  /** Largest |a - b| / max(|a|, |b|) over the compared bins (0 when n = 0). */
  maxRel: number;
  /** Mean of the same (0 when n = 0). */
  meanRel: number;
}

export function compareProfiles(a: ReadonlyArray<number | null>, b: ReadonlyArray<number | null>): Comparison {
  let n = 0;
  let onlyOne = 0;
  let maxRel = 0;
  let sumRel = 0;
  const len = Math.max(a.length, b.length);
  for (let i = 0; i < len; i++) {
    const x = a[i];
    const y = b[i];
    const fx = x !== null && x !== undefined && Number.isFinite(x);
    const fy = y !== null && y !== undefined && Number.isFinite(y);
    if (fx && fy) {
      n++;
      const scale = Math.max(Math.abs(x), Math.abs(y));
      const rel = scale > 0 ? Math.abs(x - y) / scale : 0;
      maxRel = Math.max(maxRel, rel);
      sumRel += rel;
    } else if (fx !== fy) onlyOne++;
  }
  return { n, onlyOne, maxRel, meanRel: n > 0 ? sumRel / n : 0 };
}

/**
 * Golden-section search of the minimum of f on [lo, hi] (f unimodal there), `iterations` steps;
 * returns the best x seen. Used to find the lidar constant (on a log scale) that reproduces a stored
 * scan profile when the API does not say which constant the pipeline used.
 */
export async function goldenMin(f: (x: number) => Promise<number>, lo: number, hi: number, iterations: number): Promise<{ x: number; fx: number }> {
  const g = (Math.sqrt(5) - 1) / 2;
  let a = lo;
  let b = hi;
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  let fc = await f(c);
  let fd = await f(d);
  for (let i = 0; i < iterations; i++) {
    if (fc <= fd) {
      [b, d, fd] = [d, c, fc];
      c = b - g * (b - a);
      fc = await f(c);
    } else {
      [a, c, fc] = [c, d, fd];
      d = a + g * (b - a);
      fd = await f(d);
    }
  }
  return fc <= fd ? { x: c, fx: fc } : { x: d, fx: fd };
}

/**
 * A first guess of a scan's lidar constant from its stored products: the median over the first valid
 * bins of rcs / (beta_aer + beta_mol), beta_mol ~ 1.5e-6 /(m sr) at 532 nm near the ground
 * (transmission ~1 close to the lidar). Good to within a factor of a few; null without valid bins.
 */
export function constantGuess(rcs: ReadonlyArray<number | null>, betaAer: ReadonlyArray<number | null>, betaMol = 1.5e-6, bins = 30): number | null {
  const xs: number[] = [];
  for (let i = 0; i < rcs.length && xs.length < bins; i++) {
    const r = rcs[i];
    const b = betaAer[i];
    if (r !== null && b !== null && Number.isFinite(r) && Number.isFinite(b) && r > 0 && b + betaMol > 0) xs.push(r / (b + betaMol));
  }
  if (xs.length === 0) return null;
  xs.sort((p, q) => p - q);
  return xs[Math.floor(xs.length / 2)];
}
