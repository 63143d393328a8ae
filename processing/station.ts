/**
 * Station settings (contract: the `--station` JSON of ../docs/cli.md): position, the zenith
 * convention of its Licel headers, its time zone and per-dataset channel settings.
 */
import { LidarError } from './errors.js';
import type { ZenithConvention } from './geometry/beam.js';

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
