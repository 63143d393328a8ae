/**
 * Where each range bin of a (scanning) lidar beam is: height a.s.l., ground distance and lat/lon.
 *
 * Method: straight ray over a spherical earth (radius R = 6371 km, or the 4/3 effective radius for
 * standard atmospheric refraction; Doviak & Zrnic 1993, Doppler Radar and Weather Observations, sect. 2.2,
 * beam height and ground range):
 *   h(r) = sqrt(r^2 + R^2 + 2 r R sin E) - R + h0,   s(r) = R atan(r cos E / (R + r sin E)),
 * h - h0 evaluated as (r^2 + 2 r R sin E) / (sqrt(...) + R) to avoid cancellation. The bin's lat/lon is
 * the great-circle destination from the station with initial bearing = azimuth (clockwise from true
 * north) and distance s on the sphere R = 6371 km (Williams, Aviation Formulary; Veness, "Calculate
 * distance, bearing and more between latitude/longitude points"):
 *   lat2 = asin(sin lat1 cos d + cos lat1 sin d cos A),
 *   lon2 = lon1 + atan2(sin A sin d cos lat1, cos d - sin lat1 sin lat2),   d = s / R.
 * Angles: elevation E in degrees above the horizon (zenith = 90 - E). Header conventions: 'zenith'
 * (the field is the zenith angle, 0 = vertical), 'elevation' (90 = vertical), 'raymetrics' (-90 =
 * vertical: zenith = 90 + raw as in atmospheric_lidar's fix_zenith_angle, so E = -raw).
 */
import { LidarError } from '../errors.js';

/** Mean earth radius, m (IUGG). */
export const EARTH_RADIUS_M = 6_371_000;
const FOUR_THIRDS_RADIUS_M = (4 / 3) * EARTH_RADIUS_M;
const DEG = Math.PI / 180;

export interface StationLocation {
  latDeg: number;
  lonDeg: number;
  /** Station (telescope) altitude, m a.s.l. */
  altitudeM: number;
}

export type ZenithConvention = 'zenith' | 'elevation' | 'raymetrics';

export interface BeamGeometry {
  /** Height a.s.l., m. */
  heightM: Float64Array;
  /** Distance along the earth's surface from the station, m. */
  groundDistanceM: Float64Array;
  latDeg: Float64Array;
  lonDeg: Float64Array;
}

function badValue(field: string, detail: string): LidarError {
  return new LidarError('LIDAR_ERR_BAD_VALUE', detail, { field });
}

/** sin and cos of an angle in degrees, exact at multiples of 90 degrees (vertical and horizontal beams). */
function sinCosDeg(deg: number): [number, number] {
  const q = deg / 90;
  if (Number.isInteger(q)) {
    const k = ((q % 4) + 4) % 4;
    return [[0, 1, 0, -1][k], [1, 0, -1, 0][k]];
  }
  return [Math.sin(deg * DEG), Math.cos(deg * DEG)];
}

/** Elevation (deg above horizon) from the header's zenith-angle field in a given convention. */
export function elevationFromHeader(zenithRaw: number, convention: ZenithConvention): number {
  let e: number;
  if (convention === 'zenith') e = 90 - zenithRaw;
  else if (convention === 'elevation') e = zenithRaw;
  else if (convention === 'raymetrics') e = 0 - zenithRaw;
  else throw badValue('zenithConvention', `invalid zenith convention: ${String(convention)}`);
  if (!(e >= -90 && e <= 90)) {
    throw badValue('zenithAngle', `invalid zenith angle: ${zenithRaw} deg (convention ${convention}: elevation ${e} outside -90..90)`);
  }
  return e;
}

/** The header's zenith-angle field for an elevation (deg above horizon) in a given convention. */
export function headerFromElevation(elevationDeg: number, convention: ZenithConvention): number {
  if (!(elevationDeg >= -90 && elevationDeg <= 90)) throw badValue('elevationDeg', `invalid elevation: ${elevationDeg} deg`);
  if (convention === 'zenith') return 90 - elevationDeg;
  if (convention === 'elevation') return elevationDeg;
  if (convention === 'raymetrics') return 0 - elevationDeg;
  throw badValue('zenithConvention', `invalid zenith convention: ${String(convention)}`);
}

/** Bin-centre ranges r_i = (i - zeroBin + 0.5) * binWidthM, m. */
export function binCentreRangesM(bins: number, binWidthM: number, zeroBin = 0, out?: Float64Array): Float64Array {
  if (!(Number.isInteger(bins) && bins >= 0)) throw badValue('bins', `invalid bin count: ${bins}`);
  if (!(binWidthM > 0 && binWidthM < Infinity)) throw badValue('binWidthM', `invalid bin width: ${binWidthM} m`);
  if (!Number.isFinite(zeroBin)) throw badValue('zeroBin', `invalid zero bin: ${zeroBin}`);
  if (out !== undefined && out.length !== bins) throw badValue('out', `invalid output buffer length: ${out.length} (expected ${bins})`);
  const r = out ?? new Float64Array(bins);
  const offset = 0.5 - zeroBin;
  for (let i = 0; i < bins; i++) r[i] = (i + offset) * binWidthM;
  return r;
}

function checkStation(station: StationLocation): void {
  if (!(station.latDeg >= -90 && station.latDeg <= 90)) throw badValue('latDeg', `invalid station latitude: ${station.latDeg} deg`);
  if (!Number.isFinite(station.lonDeg)) throw badValue('lonDeg', `invalid station longitude: ${station.lonDeg} deg`);
  if (!Number.isFinite(station.altitudeM)) throw badValue('altitudeM', `invalid station altitude: ${station.altitudeM} m`);
}

function normalizeLonDeg(lon: number): number {
  return lon >= -180 && lon < 180 ? lon : ((((lon + 180) % 360) + 360) % 360) - 180;
}

/** Heights, ground distances and lat/lon of the given ranges along a beam (see the header). NaN range gives NaN. */
export function beamGeometry(
  rangeM: ArrayLike<number>,
  station: StationLocation,
  azimuthDeg: number,
  elevationDeg: number,
  opts: { refraction?: 'none' | 'four-thirds' } = {},
  out?: BeamGeometry,
): BeamGeometry {
  checkStation(station);
  if (!Number.isFinite(azimuthDeg)) throw badValue('azimuthDeg', `invalid azimuth: ${azimuthDeg} deg`);
  if (!(elevationDeg >= -90 && elevationDeg <= 90)) throw badValue('elevationDeg', `invalid elevation: ${elevationDeg} deg`);
  const refraction = opts.refraction ?? 'none';
  if (refraction !== 'none' && refraction !== 'four-thirds') throw badValue('refraction', `invalid refraction model: ${String(refraction)}`);
  const n = rangeM.length;
  let g = out;
  if (g === undefined) {
    g = { heightM: new Float64Array(n), groundDistanceM: new Float64Array(n), latDeg: new Float64Array(n), lonDeg: new Float64Array(n) };
  } else if (g.heightM.length !== n || g.groundDistanceM.length !== n || g.latDeg.length !== n || g.lonDeg.length !== n) {
    throw badValue('out', `invalid output buffer length: ${g.heightM.length} (expected ${n})`);
  }
  const R = refraction === 'four-thirds' ? FOUR_THIRDS_RADIUS_M : EARTH_RADIUS_M;
  const [sinE, cosE] = sinCosDeg(elevationDeg);
  const [sinA, cosA] = sinCosDeg(azimuthDeg);
  const lat1 = station.latDeg * DEG;
  const sinLat1 = Math.sin(lat1);
  const cosLat1 = Math.cos(lat1);
  const h0 = station.altitudeM;
  const { heightM, groundDistanceM, latDeg, lonDeg } = g;
  for (let i = 0; i < n; i++) {
    const r = rangeM[i];
    const up = r * (r + 2 * R * sinE); // r^2 + 2 r R sin E
    heightM[i] = sinE === 1 ? h0 + r : h0 + up / (Math.sqrt(R * R + up) + R);
    const s = cosE === 0 ? (Number.isNaN(r) ? NaN : 0) : R * Math.atan2(r * cosE, R + r * sinE);
    groundDistanceM[i] = s;
    // The arc s is measured on the earth's surface; lat/lon use the true radius.
    greatCircleDestination(station.latDeg, sinLat1, cosLat1, station.lonDeg, sinA, cosA, s, scratch);
    latDeg[i] = scratch[0];
    lonDeg[i] = scratch[1];
  }
  return g;
}

const scratch = new Float64Array(2);

/** Destination point into res = [lat, lon] (deg); distance 0 returns the start exactly. */
function greatCircleDestination(
  latDeg: number,
  sinLat1: number,
  cosLat1: number,
  lonDeg: number,
  sinA: number,
  cosA: number,
  distanceM: number,
  res: Float64Array,
): void {
  if (distanceM === 0) {
    res[0] = latDeg;
    res[1] = lonDeg;
    return;
  }
  const d = distanceM / EARTH_RADIUS_M;
  const sinD = Math.sin(d);
  const cosD = Math.cos(d);
  const sinLat2 = sinLat1 * cosD + cosLat1 * sinD * cosA;
  res[0] = Math.asin(sinLat2) / DEG;
  res[1] = normalizeLonDeg(lonDeg + Math.atan2(sinA * sinD * cosLat1, cosD - sinLat1 * sinLat2) / DEG);
}

/** Great-circle destination from (lat, lon) with an initial bearing (deg clockwise from north) and distance (m). */
export function destinationPoint(latDeg: number, lonDeg: number, bearingDeg: number, distanceM: number): [lat: number, lon: number] {
  if (!(latDeg >= -90 && latDeg <= 90)) throw badValue('latDeg', `invalid latitude: ${latDeg} deg`);
  if (!Number.isFinite(lonDeg)) throw badValue('lonDeg', `invalid longitude: ${lonDeg} deg`);
  if (!Number.isFinite(bearingDeg)) throw badValue('bearingDeg', `invalid bearing: ${bearingDeg} deg`);
  if (!Number.isFinite(distanceM)) throw badValue('distanceM', `invalid distance: ${distanceM} m`);
  const [sinA, cosA] = sinCosDeg(bearingDeg);
  const lat1 = latDeg * DEG;
  const res = new Float64Array(2);
  greatCircleDestination(latDeg, Math.sin(lat1), Math.cos(lat1), lonDeg, sinA, cosA, distanceM, res);
  return [res[0], res[1]];
}
