/**
 * Builds the project's derived terrain grid geodata/vitosha_sofia_dem_160m.json from the shared DEM
 * (/work/shared/data/geo/vitosha_sofia_dem_160m.json, SRTM via Mapzen Terrain Tiles): same layout
 * ({bounds = outermost pixel centres, cols, rows, heights row-major, row 0 = north}), heights rounded
 * to 1 m, validated by processing/geometry/terrain.ts before writing, with its source and attribution.
 * Run: npx tsx scripts/make-geodata.ts [source.json] [output.json]
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { terrainFromJson } from '../processing/geometry/terrain.js';

const root = join(import.meta.dirname, '..');
const source = process.argv[2] ?? '/work/shared/data/geo/vitosha_sofia_dem_160m.json';
const output = process.argv[3] ?? join(root, 'geodata', 'vitosha_sofia_dem_160m.json');

const raw: unknown = JSON.parse(readFileSync(source, 'utf8'));
const grid = terrainFromJson(raw, source);
const derived = {
  description: 'Terrain heights (m a.s.l.) of Sofia and Vitosha, ~160 m cells; built by scripts/make-geodata.ts',
  attribution: 'SRTM (NASA/USGS) via Terrain Tiles (Mapzen / AWS Open Data)',
  sourceUrl: 'https://registry.opendata.aws/terrain-tiles/',
  bounds: { west: grid.westDeg, east: grid.eastDeg, north: grid.northDeg, south: grid.southDeg },
  cols: grid.cols,
  rows: grid.rows,
  heights: Array.from(grid.heightsM, (h) => (Number.isNaN(h) ? null : Math.round(h))),
};
terrainFromJson(derived, output); // the output must read back
mkdirSync(dirname(output), { recursive: true });
writeFileSync(output, JSON.stringify(derived) + '\n');
let min = Infinity;
let max = -Infinity;
for (const h of grid.heightsM) if (!Number.isNaN(h)) ((min = Math.min(min, h)), (max = Math.max(max, h)));
console.log(`${output}: ${grid.cols} x ${grid.rows} cells, heights ${Math.round(min)}-${Math.round(max)} m`);
