// Terrain grid: bilinear heights, beam blockage (bin and continuous range), the derived Vitosha DEM.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  terrainBlockedBin,
  terrainFromJson,
  terrainHeightM,
  terrainIntersectionRangeM,
  type TerrainGrid,
} from '../processing/geometry/terrain.js';
import { beamGeometry, binCentreRangesM } from '../processing/geometry/beam.js';
import { LidarError } from '../processing/errors.js';

const DEM_FILE = join(import.meta.dirname, '..', 'geodata', 'vitosha_sofia_dem_160m.json');
const SHARED_DEM = '/work/shared/data/geo/vitosha_sofia_dem_160m.json';

/** A bilinear function of (col, row) is reproduced exactly by bilinear interpolation. */
const f = (c: number, r: number) => 500 + 3 * c - 2 * r + 0.5 * c * r;

function syntheticGrid(): TerrainGrid {
  const cols = 5;
  const rows = 4;
  const heights: number[] = [];
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) heights.push(f(c, r));
  return terrainFromJson({ bounds: { west: 10, east: 11, north: 50, south: 49.7 }, cols, rows, heights }, 'synthetic');
}

describe('terrainHeightM on a synthetic grid', () => {
  const g = syntheticGrid();
  const lonOf = (c: number) => 10 + c * 0.25;
  const latOf = (r: number) => 50 - r * 0.1;

  it('is exact at pixel centres, on edges and inside cells', () => {
    for (let r = 0; r < 4; r++) for (let c = 0; c < 5; c++) expect(terrainHeightM(g, latOf(r), lonOf(c))).toBeCloseTo(f(c, r), 9);
    for (const [c, r] of [[0.5, 0.5], [1.25, 2.75], [3.9, 0.1], [4, 3], [0, 2.5], [2.5, 3]]) {
      expect(terrainHeightM(g, latOf(r), lonOf(c))).toBeCloseTo(f(c, r), 9);
    }
  });

  it('is NaN outside the grid and next to a missing height', () => {
    expect(terrainHeightM(g, 50.01, 10.5)).toBeNaN();
    expect(terrainHeightM(g, 49.69, 10.5)).toBeNaN();
    expect(terrainHeightM(g, 49.8, 9.99)).toBeNaN();
    expect(terrainHeightM(g, 49.8, 11.01)).toBeNaN();
    expect(terrainHeightM(g, NaN, 10.5)).toBeNaN();
    const heights = Array.from(g.heightsM) as Array<number | null>;
    heights[6] = null; // row 1, col 1
    const holed = terrainFromJson({ bounds: { west: 10, east: 11, north: 50, south: 49.7 }, cols: 5, rows: 4, heights });
    expect(terrainHeightM(holed, latOf(0.5), lonOf(0.5))).toBeNaN();
    expect(terrainHeightM(holed, latOf(2.5), lonOf(3.5))).toBeCloseTo(f(3.5, 2.5), 9);
  });

  it('accepts a serialised TerrainGrid too', () => {
    const copy = terrainFromJson({ ...g, heightsM: Array.from(g.heightsM) });
    expect(copy).toEqual(g);
  });

  it('validates the JSON with errors naming the field', () => {
    const ok = { bounds: { west: 10, east: 11, north: 50, south: 49.7 }, cols: 2, rows: 2, heights: [1, 2, 3, 4] };
    expect(() => terrainFromJson({ ...ok, heights: [1, 2, 3] }, 'dem.json')).toThrow(/dem\.json, field heights: invalid heights length: 3 \(expected rows\*cols = 4\)/);
    expect(() => terrainFromJson({ ...ok, heights: [1, 2, 'x', 4] })).toThrow(/invalid height at index 2 \(row 1, col 0\): "x"/);
    expect(() => terrainFromJson({ ...ok, bounds: { west: 11, east: 10, north: 50, south: 49.7 } })).toThrow(/invalid longitude bounds/);
    expect(() => terrainFromJson({ ...ok, cols: 1.5 })).toThrow(/invalid cols: 1.5/);
    expect(() => terrainFromJson([])).toThrow(LidarError);
  });

  it('blocks a beam running into a synthetic wall', () => {
    // A flat 100 m plain with a 1000 m wall from col 3 on; beam due east from col 0.
    const heights: number[] = [];
    for (let r = 0; r < 4; r++) for (let c = 0; c < 5; c++) heights.push(c >= 3 ? 1000 : 100);
    const wall = terrainFromJson({ bounds: { west: 10, east: 11, north: 50, south: 49.7 }, cols: 5, rows: 4, heights });
    const station = { latDeg: 49.85, lonDeg: 10.0, altitudeM: 120 };
    const hit = terrainIntersectionRangeM(wall, station, 90, 0, 100_000);
    // the wall rises from col 2 (100 m) to col 3 (1000 m); the beam (120 m + r^2/2R ~ 220 m there) meets
    // it early in that cell
    const cell = 0.25 * (Math.PI / 180) * 6_371_000 * Math.cos(49.85 * (Math.PI / 180));
    expect(hit).toBeGreaterThan(2 * cell);
    expect(hit).toBeLessThan(2.25 * cell);
    const beam = beamGeometry([hit - 1, hit + 1], station, 90, 0);
    expect(beam.heightM[0]).toBeGreaterThan(terrainHeightM(wall, beam.latDeg[0], beam.lonDeg[0]));
    expect(beam.heightM[1]).toBeLessThanOrEqual(terrainHeightM(wall, beam.latDeg[1], beam.lonDeg[1]));
    expect(terrainIntersectionRangeM(wall, station, 270, 0, 100_000)).toBe(Infinity); // leaves the grid westwards
    expect(terrainIntersectionRangeM(wall, { ...station, altitudeM: 50 }, 90, -10, 100_000)).toBe(0); // never clears
    const under = beamGeometry(binCentreRangesM(2000, 50), { ...station, altitudeM: 50 }, 90, -10);
    expect(terrainBlockedBin(wall, under, 0)).toBe(0); // still under the terrain when it leaves the grid
    const east = beamGeometry(binCentreRangesM(4000, 15), station, 90, 0);
    const bin = terrainBlockedBin(wall, east, 0);
    expect(Math.abs(bin - Math.ceil(hit / 15 - 0.5))).toBeLessThanOrEqual(1);
  });
});

describe('the derived Vitosha / Sofia DEM (geodata/)', () => {
  const grid = terrainFromJson(JSON.parse(readFileSync(DEM_FILE, 'utf8')), DEM_FILE);
  const station = { latDeg: 42.65, lonDeg: 23.38, altitudeM: 605 };

  it('has the documented size, range and station height', () => {
    expect([grid.cols, grid.rows]).toEqual([181, 202]);
    let min = Infinity;
    let max = -Infinity;
    for (const h of grid.heightsM) ((min = Math.min(min, h)), (max = Math.max(max, h)));
    expect([min, max]).toEqual([501, 2275]);
    const ground = terrainHeightM(grid, 42.65, 23.38);
    expect(ground).toBeGreaterThanOrEqual(595);
    expect(ground).toBeLessThanOrEqual(605);
    // Cherni Vrah (42.5636 N, 23.2786 E): 2290 m in reality, 2275 m at 160 m smoothing
    expect(terrainHeightM(grid, 42.5636, 23.2786)).toBeGreaterThan(2240);
  });

  it.skipIf(!existsSync(SHARED_DEM))('is the shared DEM rounded to 1 m', () => {
    const src = JSON.parse(readFileSync(SHARED_DEM, 'utf8')) as { heights: number[] };
    expect(Array.from(grid.heightsM)).toEqual(src.heights.map((h) => Math.round(h)));
  });

  it('a 2 deg beam towards Vitosha (az 225) meets the slope 4-6.5 km out; a 45 deg beam never does', () => {
    const hit = terrainIntersectionRangeM(grid, station, 225, 2, 30_000);
    expect(hit).toBeGreaterThan(4_000);
    expect(hit).toBeLessThan(6_500);
    // at the hit the beam is at the terrain (bisection to < 0.5 m; the slope there is < 1:1)
    const at = beamGeometry([hit], station, 225, 2);
    expect(Math.abs(at.heightM[0] - terrainHeightM(grid, at.latDeg[0], at.lonDeg[0]))).toBeLessThan(1);
    // and above it at every 10 m before the hit
    const before = beamGeometry(Float64Array.from({ length: Math.floor(hit / 10) - 1 }, (_, i) => (i + 1) * 10), station, 225, 2);
    for (let i = 0; i < before.heightM.length; i++) {
      expect(before.heightM[i]).toBeGreaterThan(terrainHeightM(grid, before.latDeg[i], before.lonDeg[i]));
    }
    expect(terrainIntersectionRangeM(grid, station, 225, 45, 30_000)).toBe(Infinity);
    expect(terrainIntersectionRangeM(grid, station, 225, 2, 3_000)).toBe(Infinity); // beyond maxRange
    // the 4/3 earth bends the beam down towards the ground: it meets the slope earlier
    expect(terrainIntersectionRangeM(grid, station, 225, 2, 30_000, { refraction: 'four-thirds' })).toBeLessThan(hit);
  });

  it('a station a few metres under the smoothed DEM is not blocked at the start', () => {
    const low = { ...station, altitudeM: 600 }; // DEM ground ~604 m here
    const hit = terrainIntersectionRangeM(grid, low, 225, 2, 30_000);
    expect(hit).toBeGreaterThan(4_000);
    expect(terrainIntersectionRangeM(grid, low, 225, -3, 30_000)).toBe(0); // into the ground: blocked from the start
  });

  // Elevations from 1 deg: at 0.5 deg towards 225 deg the beam grazes the DEM by 5 cm over 15 m near 0.9 km,
  // which the 7.5 m bins see and the 1/4-cell (~30 m) march does not (both are right to the DEM's accuracy).
  it('terrainBlockedBin agrees with terrainIntersectionRangeM within one bin', () => {
    const binWidth = 7.5;
    const ranges = binCentreRangesM(4000, binWidth);
    for (const az of [180, 200, 215, 225, 235, 250, 270]) {
      for (const el of [1, 2, 3, 5, 10, 45]) {
        const beam = beamGeometry(ranges, station, az, el);
        const bin = terrainBlockedBin(grid, beam, 0);
        const hit = terrainIntersectionRangeM(grid, station, az, el, ranges[ranges.length - 1]);
        if (hit === Infinity) {
          expect(bin, `az ${az} el ${el}`).toBe(ranges.length);
        } else {
          const hitBin = Math.ceil(hit / binWidth - 0.5); // first bin centre at or beyond the hit
          expect(Math.abs(bin - hitBin), `az ${az} el ${el}: bin ${bin}, hit ${hit} m`).toBeLessThanOrEqual(1);
        }
      }
    }
  });

  it('the default 10 m margin blocks earlier; outside the grid never blocks', () => {
    const ranges = binCentreRangesM(4000, 7.5);
    const beam = beamGeometry(ranges, { ...station, altitudeM: 640 }, 225, 2);
    expect(terrainBlockedBin(grid, beam)).toBeLessThan(terrainBlockedBin(grid, beam, 0));
    const north = beamGeometry(ranges, { ...station, altitudeM: 640 }, 0, 0); // leaves the DEM at 42.73 N (~9 km)
    expect(terrainBlockedBin(grid, north, 0)).toBe(ranges.length);
  });
});
