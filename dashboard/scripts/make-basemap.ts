/**
 * Builds the dashboard's offline base map from the project's geodata and the shared geodata folder:
 *
 *   npx tsx dashboard/scripts/make-basemap.ts [SHARED_GEO_DIR]
 *
 * Reads geodata/ (24 districts, municipality outline, 160 m DEM) and SHARED_GEO_DIR (default
 * /work/shared/data/geo: parks, 100 m contours, lidar station), and writes
 *
 *   dashboard/src/assets/basemap.json  districts (code, names, label point), outline, parks, contours,
 *                                      lidar station, initial view box, hillshade placement, attribution
 *   dashboard/src/assets/hillshade.png the DEM's hillshade (Horn's method, sun from the north-west at
 *                                      45 deg), one pixel per DEM cell, dark pixels with alpha
 *
 * Coordinates are rounded to 4 decimals (~10 m; the map never shows more than ~20 m per pixel) and
 * stored compactly: every ring or line is one flat integer array [x0, y0, dx1, dy1, ...] in units of
 * 1e-4 degree (first point absolute, then differences), nested like GeoJSON coordinates; the
 * dashboard decodes it with `decodeGeometry` (dashboard/src/lib/basemap.ts). Deterministic: the same
 * inputs give the same bytes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';

const ROOT = join(import.meta.dirname, '..', '..');
const SHARED = process.argv[2] ?? '/work/shared/data/geo';
const OUT = join(ROOT, 'dashboard', 'src', 'assets');

type Pos = [number, number];
type Geometry = { type: 'Polygon'; coordinates: Pos[][] } | { type: 'MultiPolygon'; coordinates: Pos[][][] } | { type: 'LineString'; coordinates: Pos[] } | { type: 'MultiLineString'; coordinates: Pos[][] } | { type: 'Point'; coordinates: Pos };
interface Feature {
  type: 'Feature';
  properties: Record<string, unknown>;
  geometry: Geometry;
}

function readGeo(path: string): Feature[] {
  const json = JSON.parse(readFileSync(path, 'utf8')) as { features?: Feature[] };
  if (!Array.isArray(json.features)) throw new Error(`${path}: not a GeoJSON FeatureCollection`);
  return json.features;
}

const r4 = (v: number): number => Math.round(v * 1e4) / 1e4;

/** Rounds a ring and drops consecutive duplicates (keeps it closed). */
function roundRing(ring: Pos[]): Pos[] {
  const out: Pos[] = [];
  for (const [x, y] of ring) {
    const p: Pos = [r4(x), r4(y)];
    const last = out[out.length - 1];
    if (!last || last[0] !== p[0] || last[1] !== p[1]) out.push(p);
  }
  return out;
}

function roundGeometry(g: Geometry): Geometry {
  switch (g.type) {
    case 'Polygon':
      return { type: 'Polygon', coordinates: g.coordinates.map(roundRing).filter((r) => r.length >= 4) };
    case 'MultiPolygon':
      return { type: 'MultiPolygon', coordinates: g.coordinates.map((p) => p.map(roundRing).filter((r) => r.length >= 4)).filter((p) => p.length > 0) };
    case 'LineString':
      return { type: 'LineString', coordinates: roundRing(g.coordinates) };
    case 'MultiLineString':
      return { type: 'MultiLineString', coordinates: g.coordinates.map(roundRing).filter((l) => l.length >= 2) };
    case 'Point':
      return { type: 'Point', coordinates: [r4(g.coordinates[0]), r4(g.coordinates[1])] };
  }
}

/** Polygons of a (Multi)Polygon geometry. */
function polygons(g: Geometry): Pos[][][] {
  if (g.type === 'Polygon') return [g.coordinates];
  if (g.type === 'MultiPolygon') return g.coordinates;
  return [];
}

function inRing(x: number, y: number, ring: Pos[]): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function segDist2(px: number, py: number, a: Pos, b: Pos): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const l2 = dx * dx + dy * dy;
  const t = l2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - a[0]) * dx + (py - a[1]) * dy) / l2));
  const x = a[0] + t * dx - px;
  const y = a[1] + t * dy - py;
  return x * x + y * y;
}

/**
 * A label point well inside the largest polygon: the grid point (then refined) farthest from the
 * edges (a small pole-of-inaccessibility search), in a local metric frame (lon scaled by cos lat).
 */
function labelPoint(g: Geometry): Pos {
  const polys = polygons(g);
  let best: Pos = [0, 0];
  let bestD = -1;
  for (const poly of polys) {
    const outer = poly[0];
    const k = Math.cos((outer[0][1] * Math.PI) / 180);
    const xs = outer.map((p) => p[0]);
    const ys = outer.map((p) => p[1]);
    let [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const score = (x: number, y: number): number => {
      if (!inRing(x, y, outer) || poly.slice(1).some((h) => inRing(x, y, h))) return -1;
      let d = Infinity;
      for (const ring of poly) for (let i = 1; i < ring.length; i++) d = Math.min(d, segDist2(x * k, y, [ring[i - 1][0] * k, ring[i - 1][1]], [ring[i][0] * k, ring[i][1]]));
      return d;
    };
    let cx = (x0 + x1) / 2;
    let cy = (y0 + y1) / 2;
    let cd = score(cx, cy);
    for (let pass = 0; pass < 4; pass++) {
      const n = 24;
      for (let i = 0; i <= n; i++) {
        for (let j = 0; j <= n; j++) {
          const x = x0 + ((x1 - x0) * i) / n;
          const y = y0 + ((y1 - y0) * j) / n;
          const d = score(x, y);
          if (d > cd) [cx, cy, cd] = [x, y, d];
        }
      }
      const wx = (x1 - x0) / 6;
      const wy = (y1 - y0) / 6;
      [x0, x1, y0, y1] = [cx - wx, cx + wx, cy - wy, cy + wy];
    }
    if (cd > bestD) [best, bestD] = [[r4(cx), r4(cy)], cd];
  }
  return best;
}

// ---- vector layers
const districts = readGeo(join(ROOT, 'geodata', 'sofia_districts_24_simplified.geojson')).map((f) => ({
  type: 'Feature' as const,
  properties: { code: String(f.properties.code), name_bg: String(f.properties.name_bg), name_en: String(f.properties.name_en), label: labelPoint(f.geometry) },
  geometry: roundGeometry(f.geometry),
}));
if (districts.length !== 24) throw new Error(`expected 24 districts, got ${districts.length}`);
const outline = readGeo(join(ROOT, 'geodata', 'sofia_municipality_boundary_simplified.geojson')).map((f) => ({ type: 'Feature' as const, properties: {}, geometry: roundGeometry(f.geometry) }));
const parks = readGeo(join(SHARED, 'sofia_parks_osm.geojson'))
  .filter((f) => f.geometry.type === 'Polygon' || f.geometry.type === 'MultiPolygon')
  .map((f) => ({ type: 'Feature' as const, properties: { name: String(f.properties.name ?? '') }, geometry: roundGeometry(f.geometry) }));
const contours = readGeo(join(SHARED, 'vitosha_sofia_contours_100m.geojson'))
  .filter((f) => f.geometry.type === 'LineString' || f.geometry.type === 'MultiLineString')
  .map((f) => ({ type: 'Feature' as const, properties: { elev_m: Math.round(Number(f.properties.elev_m)) }, geometry: roundGeometry(f.geometry) }));
const lidarFeature = readGeo(join(SHARED, 'sofia_lidar_station.geojson'))[0];
if (lidarFeature.geometry.type !== 'Point') throw new Error('lidar station: expected a Point');
const lidar = {
  lon: lidarFeature.geometry.coordinates[0],
  lat: lidarFeature.geometry.coordinates[1],
  name: String(lidarFeature.properties.name),
  address: String(lidarFeature.properties.address ?? ''),
};

// ---- hillshade from the DEM
interface Dem {
  bounds: { west: number; east: number; north: number; south: number };
  cols: number;
  rows: number;
  heights: number[];
}
const dem = JSON.parse(readFileSync(join(ROOT, 'geodata', 'vitosha_sofia_dem_160m.json'), 'utf8')) as Dem;
const { cols, rows, heights, bounds } = dem;
if (heights.length !== cols * rows) throw new Error(`DEM: ${heights.length} heights for ${cols} x ${rows}`);
const dLon = (bounds.east - bounds.west) / (cols - 1);
const dLat = (bounds.north - bounds.south) / (rows - 1);
const midLat = ((bounds.north + bounds.south) / 2) * (Math.PI / 180);
const cellXM = dLon * 111_320 * Math.cos(midLat);
const cellYM = dLat * 110_574;
const h = (c: number, r: number): number => heights[Math.min(rows - 1, Math.max(0, r)) * cols + Math.min(cols - 1, Math.max(0, c))];
const zenith = (45 * Math.PI) / 180;
const azimuth = (315 * Math.PI) / 180;
const rgba = Buffer.alloc(rows * (1 + cols * 4));
for (let r = 0; r < rows; r++) {
  rgba[r * (1 + cols * 4)] = 0; // filter: none
  for (let c = 0; c < cols; c++) {
    // Horn: x to the east, y to the north (row 0 = north).
    const dzdx = (h(c + 1, r - 1) + 2 * h(c + 1, r) + h(c + 1, r + 1) - (h(c - 1, r - 1) + 2 * h(c - 1, r) + h(c - 1, r + 1))) / (8 * cellXM);
    const dzdy = (h(c - 1, r - 1) + 2 * h(c, r - 1) + h(c + 1, r - 1) - (h(c - 1, r + 1) + 2 * h(c, r + 1) + h(c + 1, r + 1))) / (8 * cellYM);
    const slope = Math.atan(1.5 * Math.hypot(dzdx, dzdy)); // 1.5: vertical exaggeration for a 160 m grid
    const aspect = Math.atan2(dzdy, -dzdx);
    // Illumination from azimuth 315 (clockwise from north): light vector east/north components.
    const lx = Math.sin(azimuth);
    const ly = Math.cos(azimuth);
    const nx = -Math.sin(slope) * Math.cos(aspect);
    const ny = -Math.sin(slope) * Math.sin(aspect);
    const nz = Math.cos(slope);
    const shade = Math.max(0, Math.cos(zenith) * nz + Math.sin(zenith) * (lx * nx + ly * ny));
    const flat = Math.cos(zenith);
    const o = r * (1 + cols * 4) + 1 + c * 4;
    if (shade < flat) {
      // shadow: dark brown-grey with alpha by darkness
      rgba[o] = 40;
      rgba[o + 1] = 36;
      rgba[o + 2] = 30;
      rgba[o + 3] = Math.round(Math.min(1, (flat - shade) / flat) * 150);
    } else {
      // lit slope: white with a little alpha
      rgba[o] = 255;
      rgba[o + 1] = 255;
      rgba[o + 2] = 250;
      rgba[o + 3] = Math.round(Math.min(1, (shade - flat) / (1 - flat)) * 110);
    }
  }
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td) >>> 0);
  return Buffer.concat([len, td, crc]);
}
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(cols, 0);
ihdr.writeUInt32BE(rows, 4);
ihdr[8] = 8; // bit depth
ihdr[9] = 6; // RGBA
ihdr[10] = 0;
ihdr[11] = 0;
ihdr[12] = 0;
const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rgba, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);

// The image's outer edges (the DEM bounds are the outermost pixel centres).
const hillshade = {
  west: bounds.west - dLon / 2,
  east: bounds.east + dLon / 2,
  north: bounds.north + dLat / 2,
  south: bounds.south - dLat / 2,
  width: cols,
  height: rows,
};

// Initial view: the DEM (Sofia and Vitosha) and 12 km around the lidar.
const kmLat = 12 / 110.574;
const kmLon = 12 / (111.32 * Math.cos((lidar.lat * Math.PI) / 180));
const view = {
  west: r4(Math.min(bounds.west, lidar.lon - kmLon)),
  east: r4(Math.max(bounds.east, lidar.lon + kmLon)),
  south: r4(Math.min(bounds.south, lidar.lat - kmLat)),
  north: r4(Math.max(bounds.north, lidar.lat + kmLat)),
};

/** A ring or line as [x0, y0, dx1, dy1, ...] in 1e-4 degree. */
function encodeLine(line: Pos[]): number[] {
  const out: number[] = [];
  let px = 0;
  let py = 0;
  for (const [x, y] of line) {
    const qx = Math.round(x * 1e4);
    const qy = Math.round(y * 1e4);
    out.push(qx - px, qy - py);
    [px, py] = [qx, qy];
  }
  return out;
}
type Encoded = number[] | Encoded[];
function encodeGeometry(g: Geometry): { type: Geometry['type']; coordinates: Encoded } {
  switch (g.type) {
    case 'Polygon':
    case 'MultiLineString':
      return { type: g.type, coordinates: g.coordinates.map(encodeLine) };
    case 'MultiPolygon':
      return { type: g.type, coordinates: g.coordinates.map((p) => p.map(encodeLine)) };
    case 'LineString':
      return { type: g.type, coordinates: encodeLine(g.coordinates) };
    case 'Point':
      return { type: g.type, coordinates: encodeLine([g.coordinates]) };
  }
}
const encodeAll = <P>(fs: Array<{ properties: P; geometry: Geometry }>) => fs.map((f) => ({ properties: f.properties, geometry: encodeGeometry(f.geometry) }));

const basemap = {
  description: 'Offline base map of Sofia and Vitosha for the lidar-pm dashboard; built by dashboard/scripts/make-basemap.ts',
  attribution: {
    districts: 'Sofia Municipality / Sofiaplan (urban data portal), district layer of 2017',
    parks: '(c) OpenStreetMap contributors, ODbL',
    terrain: 'SRTM (NASA/USGS) via Terrain Tiles (Mapzen / AWS Open Data)',
    lidar: 'EARLINET station table',
  },
  view,
  hillshade,
  lidar,
  encoding: 'delta-1e-4',
  districts: encodeAll(districts),
  outline: encodeAll(outline),
  parks: encodeAll(parks),
  contours: encodeAll(contours),
};
writeFileSync(join(OUT, 'basemap.json'), JSON.stringify(basemap));
writeFileSync(join(OUT, 'hillshade.png'), png);
const size = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;
console.log(`basemap.json ${size(Buffer.byteLength(JSON.stringify(basemap)))}, hillshade.png ${size(png.length)} (${cols} x ${rows}); ${districts.length} districts, ${parks.length} parks, ${contours.length} contours`);
