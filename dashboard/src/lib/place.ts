/**
 * "Click anywhere" on the public map (pure): the measured cell nearest to a chosen place, and
 * whether it is near enough to stand for the place.
 */
import { distanceM, ringCentre } from './geo.js';

/** A cell whose centre is at most this far from the chosen place stands for it (500 m cells: just beyond a neighbour's edge). */
export const NEAR_CELL_M = 750;

export interface CellLike {
  id: string;
  geometry: { coordinates: ReadonlyArray<ReadonlyArray<readonly number[]>> };
  properties: { value: number | null };
}

/** The cell with a value whose centre is nearest to (lat, lon), with the distance; null when none has a value. */
export function nearestCell<T extends CellLike>(cells: readonly T[], lat: number, lon: number): { cell: T; distanceM: number } | null {
  let best: { cell: T; distanceM: number } | null = null;
  for (const cell of cells) {
    if (cell.properties.value === null || !Number.isFinite(cell.properties.value)) continue;
    const c = ringCentre(cell.geometry.coordinates[0]);
    const d = distanceM(lat, lon, c.lat, c.lon);
    if (!best || d < best.distanceM) best = { cell, distanceM: d };
  }
  return best;
}
