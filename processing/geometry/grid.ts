/**
 * The fixed map grid: square cells of the European reference grid, i.e. ETRS89 Lambert Azimuthal
 * Equal-Area (EPSG:3035: GRS80, latitude of origin 52 N, longitude of origin 10 E, false easting
 * 4 321 000 m, false northing 3 210 000 m), the grid the EEA reports air quality on. A cell of `res`
 * metres is named like the INSPIRE/EEA grid codes, `${res}mE${floor(E/res)}N${floor(N/res)}`, e.g.
 * "500mE11058N4431" (Sofia). Equal-area cells make cell means comparable everywhere, and the same
 * lon/lat always gives the same id, whatever the station.
 *
 * Projection formulas: IOGP Guidance Note 7-2 (EPSG method 9820), forward exact, reverse with the
 * authalic-latitude series (sub-centimetre over Europe). ETRS89 is treated as WGS84 (< 1 m here).
 */

const A = 6_378_137;
const F = 1 / 298.257222101;
const E2 = 2 * F - F * F;
const E = Math.sqrt(E2);
const LAT0 = (52 * Math.PI) / 180;
const LON0 = (10 * Math.PI) / 180;
const FALSE_EASTING = 4_321_000;
const FALSE_NORTHING = 3_210_000;

function q(sinPhi: number): number {
  const es = E * sinPhi;
  return (1 - E2) * (sinPhi / (1 - E2 * sinPhi * sinPhi) - (1 / (2 * E)) * Math.log((1 - es) / (1 + es)));
}

const QP = q(1);
const Q0 = q(Math.sin(LAT0));
const BETA0 = Math.asin(Q0 / QP);
const RQ = A * Math.sqrt(QP / 2);
const D = (A * (Math.cos(LAT0) / Math.sqrt(1 - E2 * Math.sin(LAT0) ** 2))) / (RQ * Math.cos(BETA0));
const SIN_B0 = Math.sin(BETA0);
const COS_B0 = Math.cos(BETA0);

/** [easting, northing] in metres (EPSG:3035) of a WGS84 lon/lat in degrees. */
export function laeaForward(latDeg: number, lonDeg: number): [eastingM: number, northingM: number] {
  const phi = (latDeg * Math.PI) / 180;
  const dLon = (lonDeg * Math.PI) / 180 - LON0;
  const beta = Math.asin(q(Math.sin(phi)) / QP);
  const sinB = Math.sin(beta);
  const cosB = Math.cos(beta);
  const b = RQ * Math.sqrt(2 / (1 + SIN_B0 * sinB + COS_B0 * cosB * Math.cos(dLon)));
  return [FALSE_EASTING + b * D * cosB * Math.sin(dLon), FALSE_NORTHING + (b / D) * (COS_B0 * sinB - SIN_B0 * cosB * Math.cos(dLon))];
}

/** [lat, lon] in degrees of an EPSG:3035 easting/northing in metres. */
export function laeaInverse(eastingM: number, northingM: number): [latDeg: number, lonDeg: number] {
  const x = eastingM - FALSE_EASTING;
  const y = northingM - FALSE_NORTHING;
  const rho = Math.sqrt((x / D) ** 2 + (D * y) ** 2);
  if (rho === 0) return [(LAT0 * 180) / Math.PI, (LON0 * 180) / Math.PI];
  const c = 2 * Math.asin(rho / (2 * RQ));
  const sinC = Math.sin(c);
  const cosC = Math.cos(c);
  const beta = Math.asin(cosC * SIN_B0 + (D * y * sinC * COS_B0) / rho);
  const lon = LON0 + Math.atan2(x * sinC, D * rho * COS_B0 * cosC - D * D * y * SIN_B0 * sinC);
  const e4 = E2 * E2;
  const e6 = e4 * E2;
  const phi =
    beta +
    (E2 / 3 + (31 * e4) / 180 + (517 * e6) / 5040) * Math.sin(2 * beta) +
    ((23 * e4) / 360 + (251 * e6) / 3780) * Math.sin(4 * beta) +
    ((761 * e6) / 45360) * Math.sin(6 * beta);
  return [(phi * 180) / Math.PI, (lon * 180) / Math.PI];
}

/** Default map cell size (m): ~70 range bins of 7.5 m per beam crossing, 4 DEM pixels. */
export const DEFAULT_CELL_SIZE_M = 500;

const CELL_ID = /^(\d{1,6})mE(\d{1,7})N(\d{1,7})$/;

/** Grid cell id of a lon/lat for cells of `sizeM` metres (a positive integer). */
export function cellId(latDeg: number, lonDeg: number, sizeM = DEFAULT_CELL_SIZE_M): string {
  const [e, n] = laeaForward(latDeg, lonDeg);
  return `${sizeM}mE${Math.floor(e / sizeM)}N${Math.floor(n / sizeM)}`;
}

export interface CellGeometry {
  id: string;
  sizeM: number;
  /** Column and row index (easting / northing divided by the size, floored). */
  col: number;
  row: number;
  centreLat: number;
  centreLon: number;
  /** The cell's four corners as [lon, lat] (SW, SE, NE, NW), a closed GeoJSON ring when the first is repeated. */
  cornersLonLat: Array<[number, number]>;
}

/** Parses a cell id; null when it is not one. */
export function parseCellId(id: string): CellGeometry | null {
  const m = CELL_ID.exec(id);
  if (!m) return null;
  const sizeM = Number(m[1]);
  const col = Number(m[2]);
  const row = Number(m[3]);
  if (!(sizeM > 0)) return null;
  const [centreLat, centreLon] = laeaInverse((col + 0.5) * sizeM, (row + 0.5) * sizeM);
  const corner = (dc: number, dr: number): [number, number] => {
    const [lat, lon] = laeaInverse((col + dc) * sizeM, (row + dr) * sizeM);
    return [lon, lat];
  };
  return { id, sizeM, col, row, centreLat, centreLon, cornersLonLat: [corner(0, 0), corner(1, 0), corner(1, 1), corner(0, 1)] };
}

/** A polygon as GeoJSON coordinates: rings of [lon, lat], the first the outline, the rest holes. */
export type PolygonRings = Array<Array<[number, number]>>;

export interface District {
  code: string;
  nameEn: string;
  nameBg: string;
  /** One or more polygons (a GeoJSON MultiPolygon's coordinates). */
  polygons: PolygonRings[];
  /** Bounding box [west, south, east, north], for a quick reject. */
  bbox: [number, number, number, number];
}

function inRing(ring: Array<[number, number]>, lon: number, lat: number): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Point in polygon (even-odd rule; holes excluded). */
export function inPolygon(rings: PolygonRings, lon: number, lat: number): boolean {
  if (rings.length === 0 || !inRing(rings[0], lon, lat)) return false;
  for (let h = 1; h < rings.length; h++) if (inRing(rings[h], lon, lat)) return false;
  return true;
}

/** The code of the district containing the point, or "" when none does. */
export function districtAt(districts: readonly District[], latDeg: number, lonDeg: number): string {
  for (const d of districts) {
    const [w, s, e, n] = d.bbox;
    if (lonDeg < w || lonDeg > e || latDeg < s || latDeg > n) continue;
    for (const p of d.polygons) if (inPolygon(p, lonDeg, latDeg)) return d.code;
  }
  return '';
}

/**
 * Districts from a GeoJSON FeatureCollection of Polygon / MultiPolygon features with properties
 * `code`, `name_en`, `name_bg` (geodata/sofia_districts_24_simplified.geojson). Throws a plain Error
 * naming the feature when the document has another shape (callers wrap it with their file name).
 */
export function districtsFromGeoJson(doc: unknown): District[] {
  const fc = doc as { type?: unknown; features?: unknown };
  if (fc?.type !== 'FeatureCollection' || !Array.isArray(fc.features)) throw new Error('not a GeoJSON FeatureCollection');
  return fc.features.map((f: { properties?: Record<string, unknown>; geometry?: { type?: string; coordinates?: unknown } }, i: number) => {
    const props = f.properties ?? {};
    const code = String(props.code ?? '');
    if (code === '') throw new Error(`feature ${i}: no properties.code`);
    const g = f.geometry;
    let polygons: PolygonRings[];
    if (g?.type === 'Polygon') polygons = [g.coordinates as PolygonRings];
    else if (g?.type === 'MultiPolygon') polygons = g.coordinates as PolygonRings[];
    else throw new Error(`feature ${i} (${code}): geometry must be Polygon or MultiPolygon, not ${g?.type}`);
    let w = Infinity;
    let s = Infinity;
    let e = -Infinity;
    let n = -Infinity;
    for (const p of polygons) {
      for (const [lon, lat] of p[0] ?? []) {
        if (!Number.isFinite(lon) || !Number.isFinite(lat)) throw new Error(`feature ${i} (${code}): non-numeric coordinate`);
        w = Math.min(w, lon);
        e = Math.max(e, lon);
        s = Math.min(s, lat);
        n = Math.max(n, lat);
      }
    }
    return { code, nameEn: String(props.name_en ?? code), nameBg: String(props.name_bg ?? ''), polygons, bbox: [w, s, e, n] as [number, number, number, number] };
  });
}
