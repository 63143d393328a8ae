/**
 * The curtain (time-height) data of /curtain?format=f32 (docs/api.md "Curtain binary format", v2;
 * v1, without the PBL quality block, is read too):
 * decoding without copying, per-product display settings (units, fixed documented colour limits,
 * log or linear), and the mapping of values to colour-map positions. Pure (no DOM).
 */
export interface Curtain {
  width: number;
  height: number;
  profilesUsed: number;
  heightMinM: number;
  heightMaxM: number;
  /** Column centre times, ms since 1970 UTC. */
  times: Float64Array;
  /** Row centre heights, m a.s.l. */
  heights: Float32Array;
  /** values[col * height + row]; NaN = no data. */
  values: Float32Array;
  pbl: Float32Array;
  /** PBL quality per column (0..1, mean over the column's profiles with a PBL height); NaN = none (always NaN from a v1 buffer). */
  pblQuality: Float32Array;
  cloud: Float32Array;
}

/**
 * PBL quality below which the PBL height is drawn as "low quality" (hollow, dashed): the retrieval's
 * gradient fallback never exceeds 0.25 and a wavelet-covariance top below 0.5 has a weak step or
 * dilations that disagree by more than ~75 m (processing/retrieval/pbl.ts).
 */
export const PBL_LOW_QUALITY = 0.5;

/** How a column's PBL point is drawn: 'good', 'low' (quality below PBL_LOW_QUALITY) or 'unknown' (height without a quality). null: no PBL height. */
export function pblClass(heightM: number, quality: number): 'good' | 'low' | 'unknown' | null {
  if (!Number.isFinite(heightM)) return null;
  if (!Number.isFinite(quality)) return 'unknown';
  return quality < PBL_LOW_QUALITY ? 'low' : 'good';
}

export function decodeCurtain(buf: ArrayBuffer): Curtain {
  if (buf.byteLength < 32) throw new Error(`curtain: ${buf.byteLength} bytes, shorter than the 32-byte header`);
  const dv = new DataView(buf);
  const magic = String.fromCharCode(dv.getUint8(0), dv.getUint8(1), dv.getUint8(2), dv.getUint8(3));
  if (magic !== 'LPMC') throw new Error(`curtain: magic ${JSON.stringify(magic)}, expected "LPMC"`);
  const version = dv.getUint16(4, true);
  if (version !== 1 && version !== 2) throw new Error(`curtain: version ${version}, this dashboard reads versions 1 and 2`);
  const header = dv.getUint16(6, true);
  const W = dv.getUint32(8, true);
  const H = dv.getUint32(12, true);
  const expected = header + (version === 2 ? 20 : 16) * W + 4 * H + 4 * W * H;
  if (buf.byteLength !== expected) throw new Error(`curtain: ${buf.byteLength} bytes for ${W} x ${H}, expected ${expected}`);
  let o = header;
  const times = new Float64Array(buf, o, W);
  o += 8 * W;
  const heights = new Float32Array(buf, o, H);
  o += 4 * H;
  const values = new Float32Array(buf, o, W * H);
  o += 4 * W * H;
  const pbl = new Float32Array(buf, o, W);
  o += 4 * W;
  const cloud = new Float32Array(buf, o, W);
  o += 4 * W;
  const pblQuality = version === 2 ? new Float32Array(buf, o, W) : new Float32Array(W).fill(NaN);
  return { width: W, height: H, profilesUsed: dv.getUint32(16, true), heightMinM: dv.getFloat32(20, true), heightMaxM: dv.getFloat32(24, true), times, heights, values, pbl, pblQuality, cloud };
}

export type CurtainProduct = 'beta_aer' | 'alpha_aer' | 'pm10' | 'pm25' | 'rcs';

export interface ProductDisplay {
  /** Unit shown on the colour bar. */
  unit: string;
  /** Multiply API values (SI) by this for display (1/(m sr) -> Mm^-1 sr^-1: 1e6). */
  factor: number;
  log: boolean;
  /** Default limits in display units; null = from the data (2nd and 98th percentile). */
  min: number | null;
  max: number | null;
}

/** Fixed, documented defaults (docs/dashboard.md). */
export const PRODUCT_DISPLAY: Record<CurtainProduct, ProductDisplay> = {
  beta_aer: { unit: 'Mm⁻¹ sr⁻¹', factor: 1e6, log: true, min: 0.05, max: 50 },
  alpha_aer: { unit: 'Mm⁻¹', factor: 1e6, log: true, min: 1, max: 1000 },
  pm10: { unit: 'µg/m³', factor: 1, log: false, min: 0, max: 300 },
  pm25: { unit: 'µg/m³', factor: 1, log: false, min: 0, max: 200 },
  rcs: { unit: 'a.u.', factor: 1, log: true, min: null, max: null },
};

/** The p-quantile (0..1) of the finite, (for log) positive values; null when there are none. */
export function quantile(values: ArrayLike<number>, p: number, positiveOnly: boolean): number | null {
  const xs: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v) && (!positiveOnly || v > 0)) xs.push(v);
  }
  if (xs.length === 0) return null;
  xs.sort((a, b) => a - b);
  return xs[Math.min(xs.length - 1, Math.max(0, Math.round(p * (xs.length - 1))))];
}

/**
 * Position 0..1 of a display value in [min, max] (log or linear), clamped; NaN for missing values
 * (and for zero/negative values on a log scale): those are drawn in the neutral colour.
 */
export function colourPosition(v: number, min: number, max: number, log: boolean): number {
  if (!Number.isFinite(v)) return NaN;
  if (log) {
    if (v <= 0 || min <= 0 || max <= min) return NaN;
    return Math.min(1, Math.max(0, (Math.log10(v) - Math.log10(min)) / (Math.log10(max) - Math.log10(min))));
  }
  if (max <= min) return NaN;
  return Math.min(1, Math.max(0, (v - min) / (max - min)));
}

/** The "jet" colour map (MATLAB/LabVIEW style) at t in 0..1 as [r, g, b] 0..255. */
export function jet(t: number): [number, number, number] {
  const c = (x: number) => Math.round(255 * Math.min(1, Math.max(0, x)));
  return [c(1.5 - Math.abs(4 * t - 3)), c(1.5 - Math.abs(4 * t - 2)), c(1.5 - Math.abs(4 * t - 1))];
}

/** Log-scale tick values between min and max (1, 2, 5 per decade when few decades). */
export function logTicks(min: number, max: number): number[] {
  if (!(min > 0) || !(max > min)) return [];
  const out: number[] = [];
  const decades = Math.log10(max) - Math.log10(min);
  const steps = decades <= 2 ? [1, 2, 5] : [1];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const s of steps) {
      const v = s * 10 ** e;
      if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) out.push(Number(v.toPrecision(6)));
    }
  }
  return out;
}

/**
 * For drawing: which column's data each column shows. A column with data shows itself; an empty one
 * shows the last column with data when that is at most maxGapMs earlier (a profile is drawn until
 * the next one, like lidar quicklooks do), else -1 (no data).
 */
export function holdColumns(c: Pick<Curtain, 'width' | 'height' | 'times' | 'values'>, maxGapMs: number): Int32Array {
  const out = new Int32Array(c.width).fill(-1);
  let last = -1;
  for (let col = 0; col < c.width; col++) {
    let any = false;
    for (let row = 0; row < c.height && !any; row++) any = Number.isFinite(c.values[col * c.height + row]);
    if (any) last = col;
    if (last >= 0 && (last === col || c.times[col] - c.times[last] <= maxGapMs)) out[col] = last;
  }
  return out;
}
