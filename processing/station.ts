/**
 * Station settings (contract: the `--station` JSON of ../docs/cli.md): position, the zenith
 * convention of its Licel headers, its time zone and per-dataset channel settings.
 */
import { LidarError } from './errors.js';
import type { ZenithConvention } from './geometry/beam.js';
import type { LicelHeader } from './licel/types.js';
import { distanceM } from './retrieval/calibrate.js';

export interface StationChannel {
  wavelength_nm: number;
  kind: 'analog' | 'photon';
  label?: string;
  /** Bin at which the laser fires (trigger delay), default 0. */
  zero_bin?: number;
  dead_time_ns?: number;
}

export interface StationConfig {
  id: string;
  name: string;
  lat: number;
  lon: number;
  /** Telescope altitude (m a.s.l.). */
  altitude_m: number;
  /** Ground altitude below the telescope (m a.s.l.), if known. */
  ground_altitude_m?: number;
  zenith_convention: ZenithConvention;
  timezone: string;
  /** Keyed by dataset position in the Licel file ("0", "1", ...). */
  channels: Record<string, StationChannel>;
}

const CONVENTIONS: ZenithConvention[] = ['zenith', 'elevation', 'raymetrics'];

/** Validates a parsed station JSON; errors name the file, the field and the bad value. */
export function parseStation(json: unknown, file?: string): StationConfig {
  const o = json as Record<string, unknown>;
  const where = (field: string) => ({ field, ...(file ? { file } : {}) });
  const num = (v: unknown, field: string, min: number, max: number): number => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid ${field}: ${JSON.stringify(v)} (expected a number in [${min}, ${max}])`, where(field));
    }
    return v;
  };
  if (typeof o !== 'object' || o === null) throw new LidarError('LIDAR_ERR_BAD_VALUE', 'station must be a JSON object', where('station'));
  if (typeof o.id !== 'string' || !/^[a-z0-9_-]{1,32}$/i.test(o.id)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid station id: ${JSON.stringify(o.id)}`, where('id'));
  const convention = (o.zenith_convention ?? 'zenith') as ZenithConvention;
  if (!CONVENTIONS.includes(convention)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid zenith_convention: ${JSON.stringify(o.zenith_convention)}`, where('zenith_convention'));
  const channels = (o.channels ?? {}) as Record<string, StationChannel>;
  for (const [k, ch] of Object.entries(channels)) {
    if (!/^\d+$/.test(k)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid channel key: ${JSON.stringify(k)} (dataset position expected)`, where('channels'));
    num(ch.wavelength_nm, `channels.${k}.wavelength_nm`, 100, 20000);
    if (ch.kind !== 'analog' && ch.kind !== 'photon') throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid channels.${k}.kind: ${JSON.stringify(ch.kind)}`, where(`channels.${k}.kind`));
  }
  return {
    id: o.id,
    name: typeof o.name === 'string' ? o.name : o.id,
    lat: num(o.lat, 'lat', -90, 90),
    lon: num(o.lon, 'lon', -180, 180),
    altitude_m: num(o.altitude_m, 'altitude_m', -500, 9000),
    ...(o.ground_altitude_m !== undefined ? { ground_altitude_m: num(o.ground_altitude_m, 'ground_altitude_m', -500, 9000) } : {}),
    zenith_convention: convention,
    timezone: typeof o.timezone === 'string' ? o.timezone : 'UTC',
    channels,
  };
}

/** Header positions within this distance (km) of a station are taken to be that station's files. */
export const SAME_SITE_MAX_KM = 25;

/**
 * Great-circle distance (km) between the station and the position a Licel header gives; NaN when the
 * header has no usable position (0/0, as some acquisition programs write, counts as none).
 */
export function headerDistanceKm(header: Pick<LicelHeader, 'latitudeDeg' | 'longitudeDeg'>, station: Pick<StationConfig, 'lat' | 'lon'>): number {
  const { latitudeDeg: lat, longitudeDeg: lon } = header;
  if (!(lat >= -90 && lat <= 90) || !Number.isFinite(lon) || (lat === 0 && lon === 0)) return NaN;
  return distanceM(lat, lon, station.lat, station.lon) / 1000;
}

/**
 * A station made from a Licel header alone (for a file of another station when no station settings
 * are given): its site name, position and altitude, the Licel zenith convention, times taken as UTC
 * (the header carries no time zone) and no channel settings (zero bin 0, wavelengths from the header).
 */
export function stationFromHeader(header: Pick<LicelHeader, 'site' | 'latitudeDeg' | 'longitudeDeg' | 'altitudeM'>): StationConfig {
  const id = header.site.trim().toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 32) || 'unknown';
  const altitude = header.altitudeM >= -500 && header.altitudeM <= 9000 ? header.altitudeM : 0;
  return {
    id,
    name: header.site.trim() || 'unknown site',
    lat: header.latitudeDeg >= -90 && header.latitudeDeg <= 90 ? header.latitudeDeg : 0,
    lon: Number.isFinite(header.longitudeDeg) ? header.longitudeDeg : 0,
    altitude_m: altitude,
    zenith_convention: 'zenith',
    timezone: 'UTC',
    channels: {},
  };
}
