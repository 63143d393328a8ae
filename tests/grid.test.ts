// Map grid: EPSG:3035 (ETRS89-LAEA) against the IOGP Guidance Note 7-2 worked example, cell ids,
// inverse round trips, and district lookup on the Sofia districts.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { cellId, districtAt, districtsFromGeoJson, inPolygon, laeaForward, laeaInverse, parseCellId } from '../processing/geometry/grid.js';

const districts = districtsFromGeoJson(JSON.parse(readFileSync(join(import.meta.dirname, '..', 'geodata', 'sofia_districts_24_simplified.geojson'), 'utf8')));

describe('ETRS89-LAEA (EPSG:3035)', () => {
  it('reproduces the IOGP 7-2 example: 50 N 5 E -> E 3962799.45 N 2999718.85', () => {
    const [e, n] = laeaForward(50, 5);
    expect(e).toBeCloseTo(3962799.45, 2);
    expect(n).toBeCloseTo(2999718.85, 2);
  });
  it('the origin maps to the false easting/northing', () => {
    const [e, n] = laeaForward(52, 10);
    expect(e).toBeCloseTo(4321000, 6);
    expect(n).toBeCloseTo(3210000, 6);
  });
  it('inverse round trips to < 1 cm over Europe', () => {
    fc.assert(
      fc.property(fc.double({ min: 30, max: 70, noNaN: true }), fc.double({ min: -20, max: 40, noNaN: true }), (lat, lon) => {
        const [e, n] = laeaForward(lat, lon);
        const [lat2, lon2] = laeaInverse(e, n);
        expect(Math.abs(lat2 - lat) * 111_000).toBeLessThan(1e-2);
        expect(Math.abs(lon2 - lon) * 111_000 * Math.cos((lat * Math.PI) / 180)).toBeLessThan(1e-2);
      }),
    );
  });
});

describe('cells', () => {
  it('ids are stable and parse back to a cell containing the point', () => {
    const id = cellId(42.65, 23.38);
    expect(id).toMatch(/^500mE\d+N\d+$/);
    const g = parseCellId(id)!;
    expect(g.sizeM).toBe(500);
    expect(inPolygon([g.cornersLonLat], 23.38, 42.65)).toBe(true);
    expect(cellId(g.centreLat, g.centreLon)).toBe(id);
    // 500 m cells: the centre is within 354 m (half diagonal) of any point inside
    expect(Math.hypot((g.centreLat - 42.65) * 111_000, (g.centreLon - 23.38) * 111_000 * Math.cos(0.744))).toBeLessThan(354);
  });
  it('neighbouring cells differ by one column 500 m east', () => {
    const a = parseCellId(cellId(42.65, 23.38))!;
    const b = parseCellId(cellId(a.centreLat, a.centreLon + 500 / (111_320 * Math.cos((42.65 * Math.PI) / 180))))!;
    expect(b.col - a.col).toBe(1);
    expect(b.row).toBe(a.row);
  });
  it('rejects what is not a cell id', () => {
    for (const bad of ['', 'x', '500mE1N', '0mE1N1', '500mE-1N2', "500mE1N1'; drop"]) expect(parseCellId(bad)).toBeNull();
  });
});

describe('districts of Sofia', () => {
  it('reads 24 districts with codes 01..24', () => {
    expect(districts.map((d) => d.code).sort()).toEqual(Array.from({ length: 24 }, (_, i) => String(i + 1).padStart(2, '0')));
  });
  it('places known points', () => {
    const name = (lat: number, lon: number) => districts.find((d) => d.code === districtAt(districts, lat, lon))?.nameEn ?? '';
    expect(name(42.688, 23.335)).toBe('Sredets'); // Doctors' Garden, city centre
    expect(name(42.65, 23.38)).toBe('Mladost'); // the lidar station, Tsarigradsko shose 72
    expect(districtAt(districts, 42.0, 23.0)).toBe(''); // outside the municipality
  });
  it('rejects malformed GeoJSON with the feature named', () => {
    expect(() => districtsFromGeoJson({ type: 'FeatureCollection', features: [{ properties: { code: '01' }, geometry: { type: 'Point', coordinates: [0, 0] } }] })).toThrow(/feature 0 \(01\)/);
    expect(() => districtsFromGeoJson({})).toThrow(/FeatureCollection/);
  });
});
