/**
 * Time-height curtain downsampling (pure). The window [fromMs, toMs) is cut into `width` equal
 * columns and [heightMinM, heightMaxM) into `height` equal rows; each output cell is the mean of the
 * finite values of the profiles whose start time falls in the column and whose bins' heights fall in
 * the row (NaN where nothing finite falls). PBL height and cloud base per column are the means of
 * the finite values of the column's profiles; the PBL quality per column is the mean quality (0..1) of
the column's profiles that have a finite PBL height. values[col * height + row].
 */
import { LidarError } from '../processing/errors.js';

export const MAX_CURTAIN_WIDTH = 2000;
export const MAX_CURTAIN_HEIGHT = 1000;

export interface CurtainProfile {
  timeMs: number;
  /** Height of each bin (m a.s.l.). */
  heightsM: ArrayLike<number>;
  /** The product, same length as heightsM. */
  values: ArrayLike<number>;
  pblHeightM: number;
  /** Quality 0..1 of the PBL height (processing/retrieval/pbl.ts); NaN/absent = unknown. */
  pblQuality?: number;
  cloudBaseM: number;
}

export interface CurtainGrid {
  fromMs: number;
  toMs: number;
  width: number;
  height: number;
  /** Default: the lowest finite bin height of the profiles in the window. */
  heightMinM?: number;
  /** Default: just above the highest finite bin height of the profiles in the window. */
  heightMaxM?: number;
}

export interface Curtain {
  /** Column centres (ms UTC). */
  timesMs: Float64Array;
  /** Row centres (m a.s.l.). */
  heightsM: Float64Array;
  /** values[col * height + row]; NaN where empty. */
  values: Float32Array;
  pblHeightM: Float32Array;
  /** Mean PBL quality (0..1) of the column's profiles with a finite PBL height; NaN where none has one (or none is known). */
  pblQuality: Float32Array;
  cloudBaseM: Float32Array;
  /** Profiles in the window that contributed (any bin, finite or not). */
  profilesUsed: number;
  heightMinM: number;
  heightMaxM: number;
}

function bad(field: string, detail: string): never {
  throw new LidarError('LIDAR_ERR_BAD_VALUE', detail, { field });
}

export function checkCurtainGrid(g: CurtainGrid): void {
  if (!Number.isFinite(g.fromMs)) bad('fromMs', `expected a finite time, got ${g.fromMs}`);
  if (!Number.isFinite(g.toMs) || g.toMs <= g.fromMs) bad('toMs', `expected a time after fromMs (${g.fromMs}), got ${g.toMs}`);
  if (!Number.isInteger(g.width) || g.width < 1 || g.width > MAX_CURTAIN_WIDTH) bad('width', `expected an integer 1..${MAX_CURTAIN_WIDTH}, got ${g.width}`);
  if (!Number.isInteger(g.height) || g.height < 1 || g.height > MAX_CURTAIN_HEIGHT) bad('height', `expected an integer 1..${MAX_CURTAIN_HEIGHT}, got ${g.height}`);
  if (g.heightMinM !== undefined && !Number.isFinite(g.heightMinM)) bad('heightMinM', `expected a finite height, got ${g.heightMinM}`);
  if (g.heightMaxM !== undefined && !Number.isFinite(g.heightMaxM)) bad('heightMaxM', `expected a finite height, got ${g.heightMaxM}`);
  if (g.heightMinM !== undefined && g.heightMaxM !== undefined && g.heightMaxM <= g.heightMinM) bad('heightMaxM', `must be above heightMinM (${g.heightMinM}), got ${g.heightMaxM}`);
}

function heightExtent(profiles: CurtainProfile[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of profiles) {
    for (let i = 0; i < p.heightsM.length; i++) {
      const h = p.heightsM[i];
      if (Number.isFinite(h)) {
        if (h < lo) lo = h;
        if (h > hi) hi = h;
      }
    }
  }
  return lo <= hi ? [lo, hi] : [0, 1];
}

export function buildCurtain(profiles: readonly CurtainProfile[], g: CurtainGrid): Curtain {
  checkCurtainGrid(g);
  const { width, height, fromMs, toMs } = g;
  const inWindow = profiles.filter((p) => p.timeMs >= fromMs && p.timeMs < toMs);
  const [autoLo, autoHi] = heightExtent(inWindow);
  const hMin = g.heightMinM ?? (g.heightMaxM !== undefined ? Math.min(autoLo, g.heightMaxM - 1) : autoLo);
  // The default top sits just above the highest bin (rows are half-open).
  let hMax = g.heightMaxM ?? autoHi + Math.max(1e-6, Math.abs(autoHi) * 1e-9);
  if (hMax <= hMin) hMax = hMin + 1;
  const colMs = (toMs - fromMs) / width;
  const rowM = (hMax - hMin) / height;
  const sum = new Float64Array(width * height);
  const count = new Uint32Array(width * height);
  const pblSum = new Float64Array(width), pblN = new Uint32Array(width);
  const pblQSum = new Float64Array(width), pblQN = new Uint32Array(width);
  const cbSum = new Float64Array(width), cbN = new Uint32Array(width);
  for (const p of inWindow) {
    const col = Math.min(width - 1, Math.floor((p.timeMs - fromMs) / colMs));
    const n = Math.min(p.heightsM.length, p.values.length);
    for (let i = 0; i < n; i++) {
      const v = p.values[i];
      const h = p.heightsM[i];
      if (!Number.isFinite(v) || !Number.isFinite(h) || h < hMin || h >= hMax) continue;
      const row = Math.min(height - 1, Math.floor((h - hMin) / rowM));
      sum[col * height + row] += v;
      count[col * height + row]++;
    }
    if (Number.isFinite(p.pblHeightM)) {
      pblSum[col] += p.pblHeightM;
      pblN[col]++;
      if (p.pblQuality !== undefined && Number.isFinite(p.pblQuality)) {
        pblQSum[col] += p.pblQuality;
        pblQN[col]++;
      }
    }
    if (Number.isFinite(p.cloudBaseM)) {
      cbSum[col] += p.cloudBaseM;
      cbN[col]++;
    }
  }
  const values = new Float32Array(width * height);
  for (let k = 0; k < values.length; k++) values[k] = count[k] > 0 ? sum[k] / count[k] : NaN;
  const timesMs = new Float64Array(width);
  for (let c = 0; c < width; c++) timesMs[c] = fromMs + (c + 0.5) * colMs;
  const heightsM = new Float64Array(height);
  for (let r = 0; r < height; r++) heightsM[r] = hMin + (r + 0.5) * rowM;
  const pblHeightM = new Float32Array(width);
  const cloudBaseM = new Float32Array(width);
  const pblQuality = new Float32Array(width);
  for (let c = 0; c < width; c++) {
    pblHeightM[c] = pblN[c] > 0 ? pblSum[c] / pblN[c] : NaN;
    pblQuality[c] = pblQN[c] > 0 ? pblQSum[c] / pblQN[c] : NaN;
    cloudBaseM[c] = cbN[c] > 0 ? cbSum[c] / cbN[c] : NaN;
  }
  return { timesMs, heightsM, values, pblHeightM, pblQuality, cloudBaseM, profilesUsed: inWindow.length, heightMinM: hMin, heightMaxM: hMax };
}
