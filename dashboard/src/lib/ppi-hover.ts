/**
 * PPI read-out under the pointer (pure): the ray and bin of /scan drawn at a canvas offset from the
 * station, with the geometry of ppi.ts (a ray covers half the azimuth gap to its nearer neighbour;
 * bin i covers slant range start + (i +- 0.5) step, drawn at its horizontal distance).
 */
import { rayHalfWidthsDeg, type ScanRay } from './ppi.js';
import { azimuthDiffDeg } from './rhi.js';

export interface PpiPick {
  ray: number;
  bin: number;
  azimuthDeg: number;
  elevationDeg: number;
  /** Horizontal distance of the pointer from the station (m). */
  distanceM: number;
  /** Slant range of the bin centre (m). */
  rangeM: number;
  value: number | null;
}

/** Azimuth (deg, 0 = north, clockwise) of a canvas offset (x right, y down). */
export const azimuthOfOffset = (dx: number, dy: number): number => ((((Math.atan2(dy, dx) * 180) / Math.PI + 90) % 360) + 360) % 360;

export function ppiPick(rays: readonly ScanRay[], dxPx: number, dyPx: number, pxPerM: number): PpiPick | null {
  if (rays.length === 0 || !(pxPerM > 0)) return null;
  const az = azimuthOfOffset(dxPx, dyPx);
  const dist = Math.hypot(dxPx, dyPx) / pxPerM;
  const half = rayHalfWidthsDeg(rays.map((r) => r.azimuth_deg));
  let best = -1;
  let bestDiff = Infinity;
  rays.forEach((r, i) => {
    const d = azimuthDiffDeg(r.azimuth_deg, az);
    if (d <= half[i] && d < bestDiff) [best, bestDiff] = [i, d];
  });
  if (best < 0) return null;
  const r = rays[best];
  const slant = dist / Math.cos((r.elevation_deg * Math.PI) / 180);
  const bin = Math.round((slant - r.range_start_m) / r.range_step_m);
  if (bin < 0 || bin >= r.values.length) return null;
  const rangeM = r.range_start_m + bin * r.range_step_m;
  if (rangeM <= 0) return null;
  return { ray: best, bin, azimuthDeg: r.azimuth_deg, elevationDeg: r.elevation_deg, distanceM: dist, rangeM, value: r.values[bin] ?? null };
}

/** The read-out of bin `bin` of ray `ray` (keyboard stepping); null when out of range. */
export function ppiAt(rays: readonly ScanRay[], ray: number, bin: number): PpiPick | null {
  const r = rays[ray];
  if (!r || bin < 0 || bin >= r.values.length) return null;
  const rangeM = r.range_start_m + bin * r.range_step_m;
  return { ray, bin, azimuthDeg: r.azimuth_deg, elevationDeg: r.elevation_deg, distanceM: rangeM * Math.cos((r.elevation_deg * Math.PI) / 180), rangeM, value: r.values[bin] ?? null };
}

/**
 * The next position for a key: ArrowLeft/ArrowRight the neighbouring ray by azimuth (anticlockwise /
 * clockwise), ArrowUp/ArrowDown 10 bins farther/nearer, PageUp/PageDown 100 bins, Home the first bin
 * past the lidar. null for other keys.
 */
export function ppiStep(rays: readonly ScanRay[], from: { ray: number; bin: number } | null, key: string): { ray: number; bin: number } | null {
  if (rays.length === 0) return null;
  const order = rays.map((r, i) => ({ a: ((r.azimuth_deg % 360) + 360) % 360, i })).sort((p, q) => p.a - q.a).map((x) => x.i);
  const firstBin = (i: number) => Math.max(0, Math.ceil(-rays[i].range_start_m / rays[i].range_step_m) + 1);
  const cur = from ?? { ray: order[Math.floor(order.length / 2)], bin: firstBin(order[Math.floor(order.length / 2)]) + 20 };
  const k = order.indexOf(cur.ray);
  const clampBin = (i: number, b: number) => Math.max(firstBin(i), Math.min(rays[i].values.length - 1, b));
  switch (key) {
    case 'ArrowRight':
      return { ray: order[Math.min(order.length - 1, k + 1)], bin: clampBin(order[Math.min(order.length - 1, k + 1)], cur.bin) };
    case 'ArrowLeft':
      return { ray: order[Math.max(0, k - 1)], bin: clampBin(order[Math.max(0, k - 1)], cur.bin) };
    case 'ArrowUp':
      return { ray: cur.ray, bin: clampBin(cur.ray, cur.bin + 10) };
    case 'ArrowDown':
      return { ray: cur.ray, bin: clampBin(cur.ray, cur.bin - 10) };
    case 'PageUp':
      return { ray: cur.ray, bin: clampBin(cur.ray, cur.bin + 100) };
    case 'PageDown':
      return { ray: cur.ray, bin: clampBin(cur.ray, cur.bin - 100) };
    case 'Home':
      return { ray: cur.ray, bin: firstBin(cur.ray) };
    default:
      return null;
  }
}
