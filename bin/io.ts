/** Node-side file helpers shared by the commands: coded errors instead of raw fs exceptions. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LidarError } from '../processing/errors.js';
import { terrainFromJson, type TerrainGrid } from '../processing/geometry/terrain.js';

/** Repository root (bin/ sits one level below it, in sources and in dist/ alike). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), fileURLToPath(import.meta.url).includes('/dist/') ? '../..' : '..');

export const DEFAULT_TERRAIN_FILE = join(REPO_ROOT, 'geodata', 'vitosha_sofia_dem_160m.json');

export function readBytes(file: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new LidarError('LIDAR_ERR_IO', `cannot read file: ${(e as Error).message}`, { file });
  }
}

export function readJson(file: string): unknown {
  const text = new TextDecoder().decode(readBytes(file));
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid JSON: ${(e as Error).message}`, { file });
  }
}

export function loadTerrain(file = DEFAULT_TERRAIN_FILE): TerrainGrid {
  return terrainFromJson(readJson(file), file);
}
