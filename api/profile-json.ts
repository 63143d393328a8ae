/**
 * A stored profile in the contract's JSON names (as processing/retrieval/products-json.ts writes the
 * products of a retrieval): snake_case, SI units (PM in ug/m3, heights m a.s.l.), NaN as null, array
 * values to 7 significant digits (the store keeps Float32). range_m, lat and lon are recomputed from
 * the stored geometry (bin ranges, azimuth, elevation, the station position: processing/geometry/
 * beam.ts, the same formulas as the retrieval). Arrays the record does not carry are null.
 */
import { beamGeometry } from '../processing/geometry/beam.js';
import type { StationConfig } from '../processing/station.js';
import { PROFILE_ARRAY_NAMES, type ParamSetRecord, type ProfileRecord } from '../store/port.js';

function arr(a: ArrayLike<number> | undefined, digits = 7): Array<number | null> | null {
  if (!a) return null;
  const out = new Array<number | null>(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Number.isFinite(a[i]) ? Number(a[i].toPrecision(digits)) : null;
  return out;
}

function num(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

export function paramSetJson(p: ParamSetRecord | null): object | null {
  if (!p) return null;
  let params: unknown = null;
  try {
    params = JSON.parse(p.json);
  } catch {
    params = null;
  }
  return { id: p.id, name: p.name, created: new Date(p.createdMs).toISOString(), params };
}

export function profileJson(record: ProfileRecord, paramSet: ParamSetRecord | null, station: StationConfig | undefined): Record<string, unknown> {
  const n = record.bins;
  const range = new Float64Array(n);
  for (let i = 0; i < n; i++) range[i] = record.rangeStartM + i * record.rangeStepM;
  let lat: Array<number | null> | null = null;
  let lon: Array<number | null> | null = null;
  if (station) {
    const g = beamGeometry(range, { latDeg: station.lat, lonDeg: station.lon, altitudeM: station.altitude_m }, record.azimuthDeg, record.elevationDeg);
    lat = arr(g.latDeg, 9);
    lon = arr(g.lonDeg, 9);
  }
  const a = record.arrays;
  const out: Record<string, unknown> = {
    id: record.id,
    station: record.station,
    channel: record.channel,
    mode: record.mode,
    file: record.file,
    time_start: new Date(record.timeMs).toISOString(),
    time_end: Number.isFinite(record.timeEndMs) ? new Date(record.timeEndMs).toISOString() : null,
    received: Number.isFinite(record.receivedMs) ? new Date(record.receivedMs).toISOString() : null,
    azimuth_deg: record.azimuthDeg,
    elevation_deg: record.elevationDeg,
    bins: n,
    range_start_m: record.rangeStartM,
    range_step_m: record.rangeStepM,
    range_m: arr(range),
    lat,
    lon,
  };
  for (const name of PROFILE_ARRAY_NAMES) {
    if (name === 'qc') continue;
    out[name] = arr(a[name]);
  }
  out.qc = a.qc ? Array.from(a.qc) : null;
  Object.assign(out, {
    qc_counts: record.qcCounts,
    valid_bins: record.validBins,
    pbl_height_m: num(record.pblHeightM),
    pbl_quality: num(record.pblQuality),
    cloud_base_m: num(record.cloudBaseM),
    aod: num(record.aod),
    snr: num(record.snr),
    lidar_constant: num(record.lidarConstant),
    params_id: record.paramsId,
    params: paramSet ? (paramSetJson(paramSet) as { params: unknown }).params : null,
  });
  return out;
}
