/**
 * Range-height (RHI-like) view geometry, pure. The scenarios scan PPIs at fixed elevations (2 and 6
 * deg sectors) plus vertical profiles, not elevation sweeps, so the view is built from the rays that
 * were measured at (close to) one azimuth in a time window, one per elevation (the newest), plus the
 * newest vertical: each ray is drawn at its own elevation in horizontal distance x height a.s.l.;
 * nothing is interpolated between rays.
 */
/** A row of GET /stations/{s}/profiles (also the inspector's profile list). */
export interface ProfileMeta {
  id: string;
  channel: string;
  mode: 'vertical' | 'scan';
  time_start: string;
  azimuth_deg: number | null;
  elevation_deg: number | null;
}

/** Elevations at or above this (deg) count as vertical: any azimuth. */
export const VERTICAL_MIN_ELEVATION_DEG = 85;

/** Smallest absolute difference of two azimuths (deg, 0..180). */
export function azimuthDiffDeg(a: number, b: number): number {
  const d = Math.abs((((a - b) % 360) + 360) % 360);
  return Math.min(d, 360 - d);
}

/**
 * The azimuths (deg, rounded to 0.1) of the non-vertical profiles, with how many distinct elevations
 * each has, sorted by azimuth.
 */
export function rhiAzimuths(metas: readonly ProfileMeta[]): Array<{ azimuthDeg: number; elevations: number }> {
  const by = new Map<number, Set<number>>();
  for (const m of metas) {
    if (m.azimuth_deg === null || m.elevation_deg === null || m.elevation_deg >= VERTICAL_MIN_ELEVATION_DEG) continue;
    const a = Math.round((((m.azimuth_deg % 360) + 360) % 360) * 10) / 10;
    let s = by.get(a);
    if (!s) by.set(a, (s = new Set()));
    s.add(Math.round(m.elevation_deg * 10) / 10);
  }
  return [...by.entries()].map(([azimuthDeg, s]) => ({ azimuthDeg, elevations: s.size })).sort((p, q) => p.azimuthDeg - q.azimuthDeg);
}

/**
 * Per elevation (rounded to 0.1 deg) the newest profile within `toleranceDeg` of the azimuth, and the
 * newest vertical; sorted by elevation.
 */
export function pickRhiRays(metas: readonly ProfileMeta[], azimuthDeg: number, toleranceDeg: number): ProfileMeta[] {
  const best = new Map<number, ProfileMeta>();
  for (const m of metas) {
    if (m.elevation_deg === null) continue;
    const vertical = m.elevation_deg >= VERTICAL_MIN_ELEVATION_DEG;
    if (!vertical && (m.azimuth_deg === null || azimuthDiffDeg(m.azimuth_deg, azimuthDeg) > toleranceDeg)) continue;
    const key = vertical ? 90 : Math.round(m.elevation_deg * 10) / 10;
    const prev = best.get(key);
    if (!prev || Date.parse(m.time_start) > Date.parse(prev.time_start)) best.set(key, m);
  }
  return [...best.entries()].sort((a, b) => a[0] - b[0]).map(([, m]) => m);
}

export interface RhiRay {
  elevation_deg: number;
  range_m: ReadonlyArray<number | null>;
  height_m: ReadonlyArray<number | null>;
  values: ReadonlyArray<number | null>;
}

/** A run of consecutive bins of one colour class: horizontal distance and height of its two ends (m). */
export interface RhiRun {
  cls: number;
  x0: number;
  z0: number;
  x1: number;
  z1: number;
}

/**
 * The colour runs of a ray (class -1 = masked/missing): bin i spans half way to its neighbours along
 * the beam; horizontal distance = range x cos(elevation), height = the stored bin height (m a.s.l.,
 * Earth curvature included by the server). Bins without range or height (pre-trigger) are skipped.
 */
export function rhiRuns(ray: RhiRay, classify: (v: number | null) => number): RhiRun[] {
  const c = Math.cos((ray.elevation_deg * Math.PI) / 180);
  const idx: number[] = [];
  for (let i = 0; i < ray.range_m.length; i++) {
    const r = ray.range_m[i];
    const h = ray.height_m[i];
    if (r !== null && h !== null && r > 0 && Number.isFinite(r) && Number.isFinite(h)) idx.push(i);
  }
  const out: RhiRun[] = [];
  const edge = (k: number, side: -1 | 1): [number, number] => {
    const i = idx[k];
    const j = idx[k + side];
    const r = ray.range_m[i] as number;
    const h = ray.height_m[i] as number;
    if (j === undefined) {
      // extrapolate half a step from the other neighbour
      const o = idx[k - side];
      if (o === undefined) return [r * c, h];
      const ro = ray.range_m[o] as number;
      const ho = ray.height_m[o] as number;
      return [(r + (r - ro) / 2) * c, h + (h - ho) / 2];
    }
    const rj = ray.range_m[j] as number;
    const hj = ray.height_m[j] as number;
    return [((r + rj) / 2) * c, (h + hj) / 2];
  };
  let k = 0;
  while (k < idx.length) {
    const cls = classify(ray.values[idx[k]] ?? null);
    let e = k;
    while (e + 1 < idx.length && classify(ray.values[idx[e + 1]] ?? null) === cls) e++;
    const [x0, z0] = edge(k, -1);
    const [x1, z1] = edge(e, 1);
    out.push({ cls, x0, z0, x1, z1 });
    k = e + 1;
  }
  return out;
}

/** Terrain heights (m a.s.l.) every stepM from 0 to maxM along the azimuth (heightAt: distance -> height, NaN outside the DEM). */
export function terrainProfile(heightAt: (distanceM: number) => number, maxM: number, stepM: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  if (!(stepM > 0) || !(maxM >= 0)) return out;
  const n = Math.ceil(maxM / stepM);
  for (let i = 0; i <= n; i++) {
    const d = Math.min(maxM, i * stepM);
    const h = heightAt(d);
    if (Number.isFinite(h)) out.push([d, h]);
  }
  return out;
}
