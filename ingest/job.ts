/**
 * One retrieval job: Licel bytes -> decoded file -> retrieved channels -> store records. The same
 * function runs inline (workers: 0) and inside the worker threads (ingest/worker.ts), so both paths
 * give identical results. Pure apart from the caches of the retrieval core.
 *
 * Calibration of scans: a profile below the rayleigh elevation (15 deg) is retrieved in calibration
 * mode with its channel's lidar constant, taken from the latest accepted vertical (`constants`),
 * unless the parameter set gives `reference.mode` / `reference.lidar_constant` itself. A channel
 * without a constant is skipped and reported in `uncalibrated`.
 */
import { decodeLicel } from '../processing/licel/decode.js';
import { LidarError, isLidarError } from '../processing/errors.js';
import { retrieveChannel, type ProfileProducts, type RetrievalContext } from '../processing/retrieval/retrieve.js';
import { selectChannels } from '../processing/retrieval/signal.js';
import { ProductBuffers } from '../processing/retrieval/product-buffers.js';
import { elevationFromHeader } from '../processing/geometry/beam.js';
import { localToUtcMs } from '../processing/time.js';
import type { ResolvedParams } from '../processing/retrieval/params.types.js';
import type { StationConfig } from '../processing/station.js';
import type { TerrainGrid } from '../processing/geometry/terrain.js';
import { channelKey, type CellRecord, type HealthRecord, type ProfileRecord } from '../store/port.js';
import { cellRecords, licelHousekeepingRecord, profileRecord, type MapOptions } from './records.js';

/** Elevation below which the chain's default reference is calibration (RETRIEVAL.md). */
export const CALIBRATION_MAX_ELEVATION_DEG = 15;

export interface JobInput {
  bytes: Uint8Array;
  name: string;
  receivedMs: number;
  station: StationConfig;
  params: ResolvedParams;
  paramsId: string;
  /** Lidar constants per channel key from the latest accepted vertical. */
  constants: Record<string, number>;
  /** A vertical's own constant is accepted when its reference window starts this far above the lidar (m). */
  minCalibrationReferenceM: number;
}

export interface JobEnvironment {
  terrain: TerrainGrid | null;
  map: Omit<MapOptions, 'stationGroundM' | 'terrain'>;
}

export interface JobOutput {
  profiles: ProfileRecord[];
  cells: CellRecord[];
  /** Channel keys skipped for want of a lidar constant. */
  uncalibrated: string[];
  /** Channels that failed (the others still produce records). */
  channelErrors: Array<{ channel: string; error: ReturnType<LidarError['toJSON']> }>;
  /** Constants accepted from this file (vertical, high reference), by channel key. */
  newConstants: Record<string, number>;
  /** Measurement start of the file (ms UTC, from the header's local time and the station's zone). */
  timeMs: number;
  /** The header's instrument housekeeping (`licel.*`) at timeMs, or null (records.ts licelHousekeepingRecord). */
  health: HealthRecord | null;
  summary: Array<{ channel: string; mode: string; azimuthDeg: number; elevationDeg: number; validBins: number; pblHeightM: number; cloudBaseM: number; aod: number; meanPm10: number }>;
}

/**
 * Product arrays reused from channel to channel and job to job (one set per thread: runJob is
 * synchronous): each profile is copied into its store records (Float32) before the next retrieval.
 */
const productBuffers = new ProductBuffers();

function toLidarError(e: unknown, file: string): LidarError {
  if (isLidarError(e)) return e;
  return new LidarError('LIDAR_ERR_BAD_VALUE', `retrieval failed: ${e instanceof Error ? e.message : String(e)}`, { file });
}

/**
 * Runs the job. A file that cannot be decoded throws a LidarError (the caller quarantines it); a
 * channel that fails to retrieve is reported in channelErrors and the other channels go on; when
 * every channel fails the first error is thrown.
 */
export function runJob(input: JobInput, env: JobEnvironment): JobOutput {
  const file = decodeLicel(input.bytes, input.name);
  const { station, params } = input;
  const elevationDeg = elevationFromHeader(file.header.zenithRaw, station.zenith_convention);
  const needsConstant = elevationDeg < CALIBRATION_MAX_ELEVATION_DEG && (params.reference.mode === null || params.reference.mode === 'calibration') && !Number.isFinite(params.reference.lidarConstant);
  const mapOptions: MapOptions = { ...env.map, terrain: env.terrain, stationGroundM: station.ground_altitude_m ?? station.altitude_m };
  const timeMs = localToUtcMs(file.header.startLocal, station.timezone);
  const health = Number.isFinite(timeMs) ? licelHousekeepingRecord(file, station.id, timeMs, station.channels) : null;
  const out: JobOutput = { profiles: [], cells: [], uncalibrated: [], channelErrors: [], newConstants: {}, timeMs, health, summary: [] };
  const selections = selectChannels(file, params.channel, input.name, station.channels);
  let firstError: LidarError | null = null;
  for (const sel of selections) {
    const kind = sel.analog >= 0 && sel.photon >= 0 ? 'glued' : sel.photon >= 0 ? 'photon' : 'analog';
    const key = channelKey(sel.wavelengthNm, sel.polarization, kind);
    let ctxParams = params;
    if (needsConstant) {
      const c = input.constants[key];
      if (!(c > 0)) {
        out.uncalibrated.push(key);
        continue;
      }
      ctxParams = { ...params, reference: { ...params.reference, mode: 'calibration', lidarConstant: c } };
    }
    const ctx: RetrievalContext = { station, params: ctxParams, paramsId: input.paramsId, terrain: env.terrain };
    let p: ProfileProducts;
    try {
      p = retrieveChannel(file, input.name, sel, ctx, productBuffers);
    } catch (e) {
      const err = toLidarError(e, input.name);
      firstError ??= err;
      out.channelErrors.push({ channel: key, error: err.toJSON() });
      continue;
    }
    const accepted = p.elevationDeg >= CALIBRATION_MAX_ELEVATION_DEG && p.reference.mode === 'rayleigh' && p.lidarConstant > 0 && p.reference.fromM >= input.minCalibrationReferenceM ? p.lidarConstant : NaN;
    if (accepted > 0) out.newConstants[key] = accepted;
    // Stored with the record: a vertical's accepted constant (what calibrates later scans), or the
    // constant a calibration-mode profile was retrieved with (so it can be re-run exactly).
    const rec = profileRecord(p, input.receivedMs, p.reference.mode === 'calibration' ? ctxParams.reference.lidarConstant : accepted);
    const cells = cellRecords(p, mapOptions);
    out.profiles.push(rec);
    for (const c of cells) out.cells.push(c);
    let pmSum = 0;
    let pmN = 0;
    for (const c of cells) {
      pmSum += c.pm10Sum;
      pmN += c.n;
    }
    out.summary.push({ channel: key, mode: rec.mode, azimuthDeg: rec.azimuthDeg, elevationDeg: rec.elevationDeg, validBins: rec.validBins, pblHeightM: rec.pblHeightM, cloudBaseM: rec.cloudBaseM, aod: rec.aod, meanPm10: pmN > 0 ? pmSum / pmN : NaN });
  }
  if (out.profiles.length === 0 && firstError) throw firstError;
  return out;
}
