/**
 * The offline base map (src/assets/basemap.json, made by scripts/make-basemap.ts): types and the
 * decoder of its compact geometry (rings/lines as [x0, y0, dx1, dy1, ...] in 1e-4 degree). Pure.
 */
export type Pos = [number, number];
export type Geometry =
  | { type: 'Polygon'; coordinates: Pos[][] }
  | { type: 'MultiPolygon'; coordinates: Pos[][][] }
  | { type: 'LineString'; coordinates: Pos[] }
  | { type: 'MultiLineString'; coordinates: Pos[][] }
  | { type: 'Point'; coordinates: Pos };
type Encoded = number[] | Encoded[];

export interface Feature<P> {
  type: 'Feature';
  properties: P;
  geometry: Geometry;
}

export interface DistrictProps {
  code: string;
  name_bg: string;
  name_en: string;
  /** Label point [lon, lat], well inside the district. */
  label: Pos;
}

export interface Bounds {
  west: number;
  east: number;
  south: number;
  north: number;
}

export interface Basemap {
  attribution: Record<string, string>;
  /** Initial view: Sofia, Vitosha and 12 km around the lidar. */
  view: Bounds;
  /** Placement of hillshade.png (outer pixel edges) and its size in pixels. */
  hillshade: Bounds & { width: number; height: number };
  lidar: { lon: number; lat: number; name: string; address: string };
  districts: Array<Feature<DistrictProps>>;
  outline: Array<Feature<Record<string, never>>>;
  parks: Array<Feature<{ name: string }>>;
  contours: Array<Feature<{ elev_m: number }>>;
}

/** Decodes one delta-encoded ring or line. */
export function decodeLine(enc: readonly number[]): Pos[] {
  if (enc.length % 2 !== 0) throw new Error(`basemap: odd coordinate array length ${enc.length}`);
  const out: Pos[] = [];
  let x = 0;
  let y = 0;
  for (let i = 0; i < enc.length; i += 2) {
    x += enc[i];
    y += enc[i + 1];
    out.push([x / 1e4, y / 1e4]);
  }
  return out;
}

export function decodeGeometry(g: { type: string; coordinates: Encoded }): Geometry {
  const c = g.coordinates;
  switch (g.type) {
    case 'Point':
      return { type: 'Point', coordinates: decodeLine(c as number[])[0] };
    case 'LineString':
      return { type: 'LineString', coordinates: decodeLine(c as number[]) };
    case 'Polygon':
      return { type: 'Polygon', coordinates: (c as number[][]).map(decodeLine) };
    case 'MultiLineString':
      return { type: 'MultiLineString', coordinates: (c as number[][]).map(decodeLine) };
    case 'MultiPolygon':
      return { type: 'MultiPolygon', coordinates: (c as number[][][]).map((p) => p.map(decodeLine)) };
    default:
      throw new Error(`basemap: unknown geometry type ${JSON.stringify(g.type)}`);
  }
}

interface RawFeature {
  properties: unknown;
  geometry: { type: string; coordinates: Encoded };
}

/** The decoded base map from the parsed JSON file. */
export function decodeBasemap(raw: unknown): Basemap {
  const r = raw as Record<string, unknown>;
  if (r.encoding !== 'delta-1e-4') throw new Error(`basemap: unknown encoding ${JSON.stringify(r.encoding)}`);
  const feats = <P>(list: unknown): Array<Feature<P>> => (list as RawFeature[]).map((f) => ({ type: 'Feature', properties: f.properties as P, geometry: decodeGeometry(f.geometry) }));
  return {
    attribution: r.attribution as Record<string, string>,
    view: r.view as Bounds,
    hillshade: r.hillshade as Basemap['hillshade'],
    lidar: r.lidar as Basemap['lidar'],
    districts: feats<DistrictProps>(r.districts),
    outline: feats<Record<string, never>>(r.outline),
    parks: feats<{ name: string }>(r.parks),
    contours: feats<{ elev_m: number }>(r.contours),
  };
}

/** Fetches and decodes the bundled base map (same origin); rejects with a message naming the HTTP status. */
export async function loadBasemap(url: string): Promise<Basemap> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`base map: HTTP ${r.status}`);
  return decodeBasemap(await r.json());
}
