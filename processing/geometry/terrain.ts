/**
 * Terrain (DEM) heights along the beam and where the beam is blocked by the ground (Vitosha).
 *
 * Method: bilinear interpolation on a regular lat/lon grid of pixel-centre heights (row 0 = north);
 * NaN outside the outermost pixel centres or next to a missing (NaN) height. Beam blockage is the first
 * range where the beam height h(r) (./beam.ts) is at or below the terrain below the beam; the
 * continuous version marches along the beam with a step of 1/4 of the smaller DEM cell side and refines
 * the crossing by bisection to < 0.5 m (the usual radar beam-blockage approach, e.g. Bech et al. 2003,
 * J. Atmos. Oceanic Technol. 20, 845, without the beam width).
 *
 * Convention near the station: a beam that starts at or below the DEM surface (a station altitude a few
 * metres under the smoothed 160 m DEM, or within the margin) is not blocked there if it clears the
 * terrain further out; the search for the blocking point starts where it first clears. A beam that
 * never clears is blocked from the start (range 0 / bin 0). Terrain outside the grid (NaN) never blocks.
 */
import { LidarError } from '../errors.js';
import { beamGeometry, EARTH_RADIUS_M, type BeamGeometry, type StationLocation } from './beam.js';

export interface TerrainGrid {
  /** Longitude of the westernmost pixel centres, deg. */
  westDeg: number;
  eastDeg: number;
  /** Latitude of the northernmost pixel centres (row 0), deg. */
  northDeg: number;
  southDeg: number;
  cols: number;
  rows: number;
  /** Heights m a.s.l., row-major, row 0 = north; NaN = missing. */
  heightsM: Float32Array;
}

function bad(detail: string, file: string | undefined, field: string): LidarError {
  return new LidarError('LIDAR_ERR_BAD_VALUE', detail, file === undefined ? { field } : { file, field });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function finiteNumber(v: unknown, file: string | undefined, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(`invalid ${field}: ${JSON.stringify(v)}`, file, field);
  return v;
}

/**
 * A TerrainGrid from parsed JSON. Layouts: the shared DEM / geodata copy
 * `{bounds: {west, east, north, south}, cols, rows, heights: number[]}` (bounds = outermost pixel
 * centres; null heights = missing), or a serialised TerrainGrid `{westDeg, eastDeg, northDeg, southDeg,
 * cols, rows, heightsM: number[]}`.
 */
export function terrainFromJson(json: unknown, file?: string): TerrainGrid {
  if (!isRecord(json)) throw bad('DEM JSON is not an object', file, '(root)');
  let west: number, east: number, north: number, south: number, heightsRaw: unknown, heightsField: string;
  if (json.bounds !== undefined) {
    const b = json.bounds;
    if (!isRecord(b)) throw bad(`invalid bounds: ${JSON.stringify(b)}`, file, 'bounds');
    west = finiteNumber(b.west, file, 'bounds.west');
    east = finiteNumber(b.east, file, 'bounds.east');
    north = finiteNumber(b.north, file, 'bounds.north');
    south = finiteNumber(b.south, file, 'bounds.south');
    heightsRaw = json.heights;
    heightsField = 'heights';
  } else {
    west = finiteNumber(json.westDeg, file, 'westDeg');
    east = finiteNumber(json.eastDeg, file, 'eastDeg');
    north = finiteNumber(json.northDeg, file, 'northDeg');
    south = finiteNumber(json.southDeg, file, 'southDeg');
    heightsRaw = json.heightsM;
    heightsField = 'heightsM';
  }
  if (!(west >= -180 && east <= 180 && west < east)) throw bad(`invalid longitude bounds: west ${west}, east ${east}`, file, 'west/east');
  if (!(south >= -90 && north <= 90 && south < north)) throw bad(`invalid latitude bounds: south ${south}, north ${north}`, file, 'south/north');
  const cols = json.cols;
  const rows = json.rows;
  if (typeof cols !== 'number' || !Number.isInteger(cols) || cols < 2) throw bad(`invalid cols: ${JSON.stringify(cols)}`, file, 'cols');
  if (typeof rows !== 'number' || !Number.isInteger(rows) || rows < 2) throw bad(`invalid rows: ${JSON.stringify(rows)}`, file, 'rows');
  if (!Array.isArray(heightsRaw)) throw bad(`invalid ${heightsField}: not an array`, file, heightsField);
  if (heightsRaw.length !== rows * cols) {
    throw bad(`invalid ${heightsField} length: ${heightsRaw.length} (expected rows*cols = ${rows * cols})`, file, heightsField);
  }
  const heightsM = new Float32Array(rows * cols);
  for (let i = 0; i < heightsRaw.length; i++) {
    const v: unknown = heightsRaw[i];
    if (v === null) heightsM[i] = NaN;
    else if (typeof v === 'number' && Number.isFinite(v) && v > -500 && v < 9000) heightsM[i] = v;
    else throw bad(`invalid height at index ${i} (row ${Math.floor(i / cols)}, col ${i % cols}): ${JSON.stringify(v)}`, file, heightsField);
  }
  return { westDeg: west, eastDeg: east, northDeg: north, southDeg: south, cols, rows, heightsM };
}

/** Bilinear terrain height (m a.s.l.) at a point; NaN outside the grid or next to a missing height. */
export function terrainHeightM(grid: TerrainGrid, latDeg: number, lonDeg: number): number {
  const x = ((lonDeg - grid.westDeg) / (grid.eastDeg - grid.westDeg)) * (grid.cols - 1);
  const y = ((grid.northDeg - latDeg) / (grid.northDeg - grid.southDeg)) * (grid.rows - 1);
  if (!(x >= 0 && x <= grid.cols - 1 && y >= 0 && y <= grid.rows - 1)) return NaN;
  const c = Math.min(Math.floor(x), grid.cols - 2);
  const r = Math.min(Math.floor(y), grid.rows - 2);
  const fx = x - c;
  const fy = y - r;
  const h = grid.heightsM;
  const i = r * grid.cols + c;
  const top = h[i] + fx * (h[i + 1] - h[i]);
  const bottom = h[i + grid.cols] + fx * (h[i + grid.cols + 1] - h[i + grid.cols]);
  return top + fy * (bottom - top);
}

/**
 * First bin whose height is at or below terrain + marginM (after the beam has first cleared it, see the
 * header); beam.heightM.length when never blocked; 0 when it never clears. NaN terrain never blocks.
 */
export function terrainBlockedBin(grid: TerrainGrid, beam: BeamGeometry, marginM = 10): number {
  if (!Number.isFinite(marginM)) throw bad(`invalid terrain margin: ${marginM} m`, undefined, 'marginM');
  const n = beam.heightM.length;
  let cleared = false;
  for (let i = 0; i < n; i++) {
    const ground = terrainHeightM(grid, beam.latDeg[i], beam.lonDeg[i]);
    const blocked = beam.heightM[i] <= ground + marginM; // false for NaN terrain or NaN height
    if (cleared) {
      if (blocked) return i;
    } else if (!blocked && !(i > 0 && Number.isNaN(ground))) {
      cleared = true; // leaving the grid while still under the terrain is not clearing it
    }
  }
  return cleared ? n : 0;
}

interface GridStats {
  maxHeightM: number;
  stepM: number;
}
const gridStats = new WeakMap<TerrainGrid, GridStats>();

function statsOf(grid: TerrainGrid): GridStats {
  let s = gridStats.get(grid);
  if (s === undefined) {
    let maxHeightM = -Infinity;
    for (let i = 0; i < grid.heightsM.length; i++) if (grid.heightsM[i] > maxHeightM) maxHeightM = grid.heightsM[i];
    const mPerDeg = (EARTH_RADIUS_M * Math.PI) / 180;
    const midLat = ((grid.northDeg + grid.southDeg) / 2) * (Math.PI / 180);
    const dy = ((grid.northDeg - grid.southDeg) / (grid.rows - 1)) * mPerDeg;
    const dx = ((grid.eastDeg - grid.westDeg) / (grid.cols - 1)) * mPerDeg * Math.cos(midLat);
    s = { maxHeightM, stepM: Math.min(dx, dy) / 4 };
    gridStats.set(grid, s);
  }
  return s;
}

const MARCH_CHUNK = 256;
/** The larger of the two earth radii beamGeometry may use (conservative for the rising-beam test). */
const FOUR_THIRDS_R_M = (4 / 3) * EARTH_RADIUS_M;
const BISECTION_TOLERANCE_M = 0.5;

/**
 * Range (m) where the beam first goes to or below the terrain (after first clearing it), refined to
 * < 0.5 m; Infinity when it does not within maxRangeM; 0 when the beam never clears the terrain.
 */
export function terrainIntersectionRangeM(
  grid: TerrainGrid,
  station: StationLocation,
  azimuthDeg: number,
  elevationDeg: number,
  maxRangeM: number,
  opts: { refraction?: 'none' | 'four-thirds' } = {},
): number {
  if (!(maxRangeM >= 0 && maxRangeM < Infinity)) throw bad(`invalid maximum range: ${maxRangeM} m`, undefined, 'maxRangeM');
  const { maxHeightM, stepM } = statsOf(grid);
  const sinE = Math.sin((elevationDeg * Math.PI) / 180);
  const ranges = new Float64Array(MARCH_CHUNK);
  const buf: BeamGeometry = {
    heightM: new Float64Array(MARCH_CHUNK),
    groundDistanceM: new Float64Array(MARCH_CHUNK),
    latDeg: new Float64Array(MARCH_CHUNK),
    lonDeg: new Float64Array(MARCH_CHUNK),
  };
  const steps = Math.ceil(maxRangeM / stepM);
  let cleared = false;
  let wasInside = false;
  let lastClearM = 0;
  for (let start = 0; start <= steps; start += MARCH_CHUNK) {
    const count = Math.min(MARCH_CHUNK, steps + 1 - start);
    for (let k = 0; k < count; k++) ranges[k] = Math.min((start + k) * stepM, maxRangeM);
    beamGeometry(ranges, station, azimuthDeg, elevationDeg, opts, buf); // validates the arguments
    for (let k = 0; k < count; k++) {
      const r = ranges[k];
      const h = buf.heightM[k];
      const ground = terrainHeightM(grid, buf.latDeg[k], buf.lonDeg[k]);
      const blocked = h <= ground;
      const inside = !Number.isNaN(ground);
      if (!cleared) {
        if (blocked) {
          wasInside = true;
          continue;
        }
        // Leaving the grid while still under the terrain is not clearing it: blocked from the start.
        if (wasInside && !inside) return 0;
        cleared = true;
      } else if (blocked) {
        return bisect(grid, station, azimuthDeg, elevationDeg, opts, lastClearM, r);
      }
      lastClearM = r;
      // Early exits: above every DEM height and rising (dh/dr > 0 once r > -R sin E), or off the grid for good.
      if (h > maxHeightM && r > -FOUR_THIRDS_R_M * sinE) return Infinity;
      if (wasInside && !inside) return Infinity;
      wasInside ||= inside;
    }
  }
  return cleared ? Infinity : 0;
}

/** Bisection of the clear -> blocked transition between lo (clear) and hi (blocked). */
function bisect(
  grid: TerrainGrid,
  station: StationLocation,
  azimuthDeg: number,
  elevationDeg: number,
  opts: { refraction?: 'none' | 'four-thirds' },
  lo: number,
  hi: number,
): number {
  const range = new Float64Array(1);
  const g: BeamGeometry = { heightM: new Float64Array(1), groundDistanceM: new Float64Array(1), latDeg: new Float64Array(1), lonDeg: new Float64Array(1) };
  while (hi - lo >= BISECTION_TOLERANCE_M) {
    const mid = 0.5 * (lo + hi);
    range[0] = mid;
    beamGeometry(range, station, azimuthDeg, elevationDeg, opts, g);
    if (g.heightM[0] <= terrainHeightM(grid, g.latDeg[0], g.lonDeg[0])) hi = mid;
    else lo = mid;
  }
  return 0.5 * (lo + hi);
}
