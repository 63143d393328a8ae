/**
 * The latest scan's map cells as a GeoJSON FeatureCollection (RFC 7946): one Polygon per grid cell
 * (EEA reference grid, processing/geometry/grid.ts) with its mean over the scan. Coordinates [lon,
 * lat] rounded to 6 decimals (~0.1 m). NaN values as null.
 */
import { parseCellId } from '../processing/geometry/grid.js';
import type { MapCell } from '../store/result-store.js';
import type { ScanRun } from '../store/scan.js';

const ringCache = new Map<string, Array<[number, number]>>();
const MAX_RINGS = 100_000;

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** The closed outline of a cell as [lon, lat] pairs (SW, SE, NE, NW, SW); cached per id. */
export function cellRing(id: string): Array<[number, number]> | null {
  let ring = ringCache.get(id);
  if (ring) return ring;
  const g = parseCellId(id);
  if (!g) return null;
  ring = g.cornersLonLat.map(([lon, lat]) => [round6(lon), round6(lat)] as [number, number]);
  ring.push(ring[0]);
  if (ringCache.size >= MAX_RINGS) ringCache.clear();
  ringCache.set(id, ring);
  return ring;
}

export interface ScanSummary {
  from: string;
  to: string;
  elevation_deg: number;
  profiles: number;
  azimuth_from_deg: number;
  azimuth_to_deg: number;
}

export function scanSummary(scan: ScanRun): ScanSummary {
  const first = scan.profiles[0];
  const last = scan.profiles[scan.profiles.length - 1];
  return {
    from: new Date(scan.fromMs).toISOString(),
    to: new Date(scan.toMs).toISOString(),
    elevation_deg: scan.elevationDeg,
    profiles: scan.profiles.length,
    azimuth_from_deg: first?.azimuthDeg ?? NaN,
    azimuth_to_deg: last?.azimuthDeg ?? NaN,
  };
}

export interface MapMeta {
  station: string;
  channel: string | null;
  product: string;
  unit: string;
}

export function mapFeatureCollection(meta: MapMeta, result: { scan: ScanRun; cells: MapCell[] } | null): object {
  const scan = result ? scanSummary(result.scan) : null;
  const time = scan ? scan.to : null;
  const shortScan = scan ? { from: scan.from, to: scan.to, elevation_deg: scan.elevation_deg } : null;
  const features = [];
  for (const c of result?.cells ?? []) {
    const ring = cellRing(c.cell);
    if (!ring) continue;
    features.push({
      type: 'Feature',
      id: c.cell,
      geometry: { type: 'Polygon', coordinates: [ring] },
      properties: {
        cell: c.cell,
        district: c.district,
        value: Number.isFinite(c.value) ? Number(c.value.toPrecision(6)) : null,
        n: c.n,
        unit: meta.unit,
        product: meta.product,
        averaging: 'one scan',
        scan: shortScan,
        time,
      },
    });
  }
  return {
    type: 'FeatureCollection',
    station: meta.station,
    channel: meta.channel,
    product: meta.product,
    unit: meta.unit,
    averaging: 'one scan',
    provisional: true,
    time,
    scan,
    features,
  };
}
