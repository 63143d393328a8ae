// Beam geometry: bin ranges, heights over a spherical earth, great-circle lat/lon, angle conventions.
import { describe, expect, it } from 'vitest';
import {
  EARTH_RADIUS_M,
  beamGeometry,
  binCentreRangesM,
  destinationPoint,
  elevationFromHeader,
  headerFromElevation,
  type ZenithConvention,
} from '../processing/geometry/beam.js';
import { LidarError } from '../processing/errors.js';

const STATION = { latDeg: 42.65, lonDeg: 23.38, altitudeM: 600 };
const DEG = Math.PI / 180;

/** Independent back-computation: haversine distance (m) and initial bearing (deg) between two points. */
function haversine(lat1: number, lon1: number, lat2: number, lon2: number): { distanceM: number; bearingDeg: number } {
  const p1 = lat1 * DEG;
  const p2 = lat2 * DEG;
  const dp = p2 - p1;
  const dl = (lon2 - lon1) * DEG;
  const a = Math.sin(dp / 2) ** 2 + Math.cos(p1) * Math.cos(p2) * Math.sin(dl / 2) ** 2;
  const distanceM = 2 * EARTH_RADIUS_M * Math.atan2(Math.sqrt(a), Math.sqrt(1 - a));
  const y = Math.sin(dl) * Math.cos(p2);
  const x = Math.cos(p1) * Math.sin(p2) - Math.sin(p1) * Math.cos(p2) * Math.cos(dl);
  return { distanceM, bearingDeg: ((Math.atan2(y, x) / DEG) + 360) % 360 };
}

describe('binCentreRangesM', () => {
  it('r_i = (i - zeroBin + 0.5) * binWidth', () => {
    expect(Array.from(binCentreRangesM(4, 7.5))).toEqual([3.75, 11.25, 18.75, 26.25]);
    expect(Array.from(binCentreRangesM(3, 15, 2))).toEqual([-22.5, -7.5, 7.5]);
    const out = new Float64Array(2);
    expect(binCentreRangesM(2, 3.75, 0, out)).toBe(out);
  });
  it('names bad arguments', () => {
    expect(() => binCentreRangesM(4, 0)).toThrow(/invalid bin width: 0 m/);
    expect(() => binCentreRangesM(-1, 7.5)).toThrow(/invalid bin count: -1/);
    expect(() => binCentreRangesM(4, 7.5, 0, new Float64Array(3))).toThrow(/output buffer length: 3/);
  });
});

describe('zenith conventions', () => {
  it('maps vertical and horizontal in each convention', () => {
    expect(elevationFromHeader(0, 'zenith')).toBe(90);
    expect(elevationFromHeader(90, 'zenith')).toBe(0);
    expect(elevationFromHeader(90, 'elevation')).toBe(90);
    expect(elevationFromHeader(-90, 'raymetrics')).toBe(90); // atmospheric_lidar: zenith = 90 + raw
    expect(elevationFromHeader(0, 'raymetrics')).toBe(0);
    expect(elevationFromHeader(-10, 'raymetrics')).toBe(10);
  });
  it('round-trips header <-> elevation', () => {
    for (const c of ['zenith', 'elevation', 'raymetrics'] as ZenithConvention[]) {
      for (const e of [-5, 0, 2, 15.5, 45, 90]) expect(elevationFromHeader(headerFromElevation(e, c), c)).toBe(e);
    }
  });
  it('rejects angles outside -90..90 elevation', () => {
    expect(() => elevationFromHeader(200, 'zenith')).toThrow(/invalid zenith angle: 200 deg/);
    expect(() => elevationFromHeader(NaN, 'elevation')).toThrow(LidarError);
    expect(() => headerFromElevation(91, 'zenith')).toThrow(/invalid elevation: 91 deg/);
  });
});

describe('beamGeometry', () => {
  it('vertical beam: h = h0 + r exactly, lat/lon constant', () => {
    const r = binCentreRangesM(2000, 7.5);
    const g = beamGeometry(r, STATION, 123, 90);
    for (let i = 0; i < r.length; i++) {
      expect(g.heightM[i]).toBe(600 + r[i]);
      expect(g.groundDistanceM[i]).toBe(0);
      expect(g.latDeg[i]).toBe(STATION.latDeg);
      expect(g.lonDeg[i]).toBe(STATION.lonDeg);
    }
  });

  it('horizontal beam rises by r^2 / (2R): 7.85 m at 10 km, ~5.9 m with the 4/3 earth', () => {
    const g = beamGeometry([10_000], STATION, 0, 0);
    expect(g.heightM[0] - 600).toBeCloseTo(1e8 / (2 * EARTH_RADIUS_M), 4); // 7.848 m
    expect(g.heightM[0] - 600).toBeCloseTo(7.85, 2);
    const refr = beamGeometry([10_000], STATION, 0, 0, { refraction: 'four-thirds' });
    expect(refr.heightM[0] - 600).toBeCloseTo(1e8 / (2 * (4 / 3) * EARTH_RADIUS_M), 4);
  });

  it('matches the exact triangle formula and the flat-earth limit at short range', () => {
    const e = 30;
    const r = [0, 100, 5000, 30_000];
    const g = beamGeometry(r, STATION, 45, e);
    r.forEach((ri, i) => {
      const R = EARTH_RADIUS_M;
      const exact = Math.sqrt(ri * ri + R * R + 2 * ri * R * Math.sin(e * DEG)) - R + 600;
      expect(g.heightM[i]).toBeCloseTo(exact, 6);
      expect(g.groundDistanceM[i]).toBeCloseTo(R * Math.atan((ri * Math.cos(e * DEG)) / (R + ri * Math.sin(e * DEG))), 6);
    });
    expect(g.heightM[1] - 600).toBeCloseTo(50, 2); // 100 m at 30 deg
  });

  it('lat/lon follow the great circle: haversine back-computation gives distance and bearing', () => {
    const r = [1000, 10_000, 40_000];
    for (const az of [0, 45, 90, 225, 317.5]) {
      const g = beamGeometry(r, STATION, az, 2);
      for (let i = 0; i < r.length; i++) {
        const back = haversine(STATION.latDeg, STATION.lonDeg, g.latDeg[i], g.lonDeg[i]);
        expect(back.distanceM).toBeCloseTo(g.groundDistanceM[i], 5);
        expect(back.bearingDeg).toBeCloseTo(az, 8);
      }
    }
    // north: latitude grows by s / R (in degrees), longitude unchanged
    const north = beamGeometry([10_000], STATION, 0, 0);
    expect(north.lonDeg[0]).toBeCloseTo(STATION.lonDeg, 12);
    expect(north.latDeg[0] - STATION.latDeg).toBeCloseTo(north.groundDistanceM[0] / EARTH_RADIUS_M / DEG, 12);
  });

  it('NaN range gives NaN; out buffers; argument errors', () => {
    const out = { heightM: new Float64Array(2), groundDistanceM: new Float64Array(2), latDeg: new Float64Array(2), lonDeg: new Float64Array(2) };
    const g = beamGeometry([NaN, 100], STATION, 10, 5, {}, out);
    expect(g).toBe(out);
    expect([g.heightM[0], g.groundDistanceM[0], g.latDeg[0], g.lonDeg[0]].every(Number.isNaN)).toBe(true);
    expect(Number.isNaN(beamGeometry([NaN], STATION, 0, 90).heightM[0])).toBe(true);
    expect(() => beamGeometry([1], STATION, 0, 95)).toThrow(/invalid elevation: 95 deg/);
    expect(() => beamGeometry([1], { ...STATION, latDeg: 100 }, 0, 5)).toThrow(/invalid station latitude: 100 deg/);
    expect(() => beamGeometry([1], STATION, NaN, 5)).toThrow(/invalid azimuth/);
    expect(() => beamGeometry([1, 2, 3], STATION, 0, 5, {}, out)).toThrow(/output buffer length/);
  });
});

describe('destinationPoint', () => {
  it('known values: 1 degree of arc along the equator and the meridian', () => {
    const oneDeg = EARTH_RADIUS_M * DEG; // 111.195 km
    const [lat, lon] = destinationPoint(0, 0, 90, oneDeg);
    expect(lat).toBeCloseTo(0, 12);
    expect(lon).toBeCloseTo(1, 12);
    const [lat2, lon2] = destinationPoint(42.65, 23.38, 180, oneDeg);
    expect(lat2).toBeCloseTo(41.65, 12);
    expect(lon2).toBeCloseTo(23.38, 12);
    expect(destinationPoint(10, 179.9, 90, 50_000)[1]).toBeLessThan(-179); // wraps the antimeridian
    expect(destinationPoint(42.65, 23.38, 77, 0)).toEqual([42.65, 23.38]);
  });

  it('agrees with the haversine inverse for Cherni Vrah (~12.7 km SW of the station)', () => {
    const cherniVrah = { lat: 42.5636, lon: 23.2786 };
    const inv = haversine(42.65, 23.38, cherniVrah.lat, cherniVrah.lon);
    expect(inv.distanceM).toBeGreaterThan(12_000);
    expect(inv.distanceM).toBeLessThan(13_500);
    const [lat, lon] = destinationPoint(42.65, 23.38, inv.bearingDeg, inv.distanceM);
    expect(lat).toBeCloseTo(cherniVrah.lat, 9);
    expect(lon).toBeCloseTo(cherniVrah.lon, 9);
  });
});
