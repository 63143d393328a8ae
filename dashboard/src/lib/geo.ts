/**
 * Small geographic helpers for the map (pure): great-circle distance, the nearest of a set of points,
 * the centre of a grid cell's ring.
 */
const EARTH_RADIUS_M = 6_371_008.8;

/** Great-circle distance in metres between two lon/lat points (haversine). */
export function distanceM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** The item nearest to (lat, lon) with its distance, or null for an empty list. */
export function nearest<T extends { lat: number; lon: number }>(items: readonly T[], lat: number, lon: number): { item: T; distanceM: number } | null {
  let best: { item: T; distanceM: number } | null = null;
  for (const item of items) {
    const d = distanceM(lat, lon, item.lat, item.lon);
    if (!best || d < best.distanceM) best = { item, distanceM: d };
  }
  return best;
}

/** Mean of a closed ring's distinct corners ([lon, lat] pairs), as {lat, lon}. */
export function ringCentre(ring: ReadonlyArray<readonly [number, number] | readonly number[]>): { lat: number; lon: number } {
  const pts = ring.length > 1 && ring[0][0] === ring[ring.length - 1][0] && ring[0][1] === ring[ring.length - 1][1] ? ring.slice(0, -1) : ring;
  if (pts.length === 0) throw new Error('ringCentre: empty ring');
  let lon = 0;
  let lat = 0;
  for (const p of pts) {
    lon += p[0];
    lat += p[1];
  }
  return { lon: lon / pts.length, lat: lat / pts.length };
}
