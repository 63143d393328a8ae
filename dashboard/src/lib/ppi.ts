/**
 * PPI (plan position indicator) geometry, pure: the rays of /stations/{id}/scan as polar sectors in
 * screen pixels around the station. A bin i of a ray covers slant range [start + (i - 0.5) step,
 * start + (i + 0.5) step], drawn at its horizontal distance (slant x cos(elevation)); a ray covers
 * half the azimuth gap to each neighbour (one ray alone: +-0.5 deg). Canvas angles: 0 = east,
 * clockwise (y down), so azimuth a (0 = north, clockwise) is (a - 90) deg.
 */
export interface ScanRay {
  id?: string;
  time?: string;
  azimuth_deg: number;
  elevation_deg: number;
  range_start_m: number;
  range_step_m: number;
  bins?: number;
  values: Array<number | null>;
}

export interface ScanResponse {
  station?: string;
  channel?: string;
  product?: string;
  unit?: string;
  scan?: { from: string; to: string; elevation_deg: number } | null;
  rays: ScanRay[];
}

/** Per ray: the half-width in degrees (half the gap to the nearer neighbour, sorted by azimuth). */
export function rayHalfWidthsDeg(azimuthsDeg: readonly number[]): number[] {
  const n = azimuthsDeg.length;
  if (n < 2) return azimuthsDeg.map(() => 0.5);
  const order = azimuthsDeg.map((a, i) => ({ a: ((a % 360) + 360) % 360, i })).sort((p, q) => p.a - q.a);
  const out = new Array<number>(n).fill(0.5);
  for (let k = 0; k < n; k++) {
    const gaps: number[] = [];
    if (k > 0) gaps.push(order[k].a - order[k - 1].a);
    if (k < n - 1) gaps.push(order[k + 1].a - order[k].a);
    const g = Math.min(...gaps.filter((x) => x > 0));
    out[order[k].i] = Number.isFinite(g) ? Math.min(g / 2, 5) : 0.5;
  }
  return out;
}

/** Canvas angle in radians of an azimuth in degrees (0 = north, clockwise). */
export const canvasAngle = (azimuthDeg: number): number => ((azimuthDeg - 90) * Math.PI) / 180;

/** The largest horizontal distance (m) any bin of the scan reaches; 0 when none. */
export function maxHorizontalRangeM(rays: readonly ScanRay[]): number {
  let m = 0;
  for (const r of rays) {
    const far = r.range_start_m + (r.values.length - 0.5) * r.range_step_m;
    m = Math.max(m, far * Math.cos((r.elevation_deg * Math.PI) / 180));
  }
  return m;
}

/** Horizontal inner and outer radius (m) of bin i of a ray; null for bins wholly before the beam origin. */
export function binRadiiM(ray: ScanRay, i: number): [number, number] | null {
  const c = Math.cos((ray.elevation_deg * Math.PI) / 180);
  const r0 = Math.max(0, ray.range_start_m + (i - 0.5) * ray.range_step_m) * c;
  const r1 = (ray.range_start_m + (i + 0.5) * ray.range_step_m) * c;
  return r1 > r0 ? [r0, r1] : null;
}

/**
 * Runs of bins with the same colour class along each ray, for drawing one path per class:
 * `classOf(value)` gives 0..255 or -1 (masked). Returns per class the sectors
 * [angle0, angle1, r0px, r1px] flattened.
 */
export function sectorRuns(rays: readonly ScanRay[], pxPerM: number, classOf: (v: number | null) => number): Map<number, number[]> {
  const out = new Map<number, number[]>();
  const half = rayHalfWidthsDeg(rays.map((r) => r.azimuth_deg));
  rays.forEach((ray, k) => {
    const a0 = canvasAngle(ray.azimuth_deg - half[k]);
    const a1 = canvasAngle(ray.azimuth_deg + half[k]);
    let runClass = NaN;
    let runR0 = 0;
    let runR1 = 0;
    const flush = () => {
      if (Number.isNaN(runClass)) return;
      let list = out.get(runClass);
      if (!list) out.set(runClass, (list = []));
      list.push(a0, a1, runR0 * pxPerM, runR1 * pxPerM);
    };
    for (let i = 0; i < ray.values.length; i++) {
      const rr = binRadiiM(ray, i);
      if (!rr) continue;
      const c = classOf(ray.values[i]);
      if (c === runClass && Math.abs(rr[0] - runR1) < 1e-6) runR1 = rr[1];
      else {
        flush();
        [runClass, runR0, runR1] = [c, rr[0], rr[1]];
      }
    }
    flush();
  });
  return out;
}
