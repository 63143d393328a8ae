/**
 * The storage port: what the pipeline writes and what the API and dashboard read, independent of
 * the database. Two layers:
 *
 * - `StoreBackend`: the few primitives an adapter implements (idempotent batched writes, and
 *   time-bounded reads of profile metadata, profile arrays, cell sums, health and parameter sets).
 *   Implemented by `store/embedded/` (SQLite) and `store/influx/` (InfluxDB v1 HTTP API); both pass
 *   the one contract suite in tests/store-contract.ts.
 * - `ResultStore` (store/result-store.ts): the queries users need (latest scan as map cells and polar
 *   bins, curtains, series, district statistics), written once over any backend.
 *
 * Conventions: times are integer milliseconds since the Unix epoch (UTC); every read takes a time
 * window [fromMs, toMs) and no read is unbounded; NaN means "missing" in numbers and arrays; units
 * are SI (1/m/sr, 1/m, m) with PM in ug/m^3 and heights in m a.s.l.
 *
 * Idempotency: a profile is identified by (station, channel, timeMs) where timeMs is the start of
 * its measurement; a cell contribution by (station, channel, cell, timeMs) of the profile it came
 * from; a health record by (station, timeMs); an official AQ-station hour by (aqStation, timeMs).
 * Writing the same key again replaces the earlier values (a redelivered or replayed profile
 * overwrites, never duplicates).
 */

/** Names of the per-bin arrays a profile record may carry (the contract's JSON names). */
export const PROFILE_ARRAY_NAMES = [
  'height_m',
  'rcs',
  'beta_aer',
  'alpha_aer',
  'pm10',
  'pm25',
  'beta_aer_sigma',
  'alpha_aer_sigma',
  'pm10_sigma',
  'pm25_sigma',
  'qc',
] as const;
export type ProfileArrayName = (typeof PROFILE_ARRAY_NAMES)[number];

/** Per-bin arrays: Float32 for values (NaN = missing), Uint8 for the QC bitmask. */
export type ProfileArrays = Partial<Record<Exclude<ProfileArrayName, 'qc'>, Float32Array>> & { qc?: Uint8Array };

/** Elevation at or above which a profile counts as vertical (curtains); below it, part of a scan. */
export const VERTICAL_MIN_ELEVATION_DEG = 85;

export type ProfileMode = 'vertical' | 'scan';

/** Everything about one retrieved profile except its arrays. */
export interface ProfileMeta {
  /** `${station}:${channel}:${timeMs}`; see profileId(). */
  id: string;
  station: string;
  /** Channel key, e.g. "532o-glued", "1064o-analog" (see channelKey()). Tag. */
  channel: string;
  mode: ProfileMode;
  /** Measurement start and end (ms UTC). */
  timeMs: number;
  timeEndMs: number;
  azimuthDeg: number;
  elevationDeg: number;
  /** Range of bin i is rangeStartM + i * rangeStepM (bin centres, m along the beam). */
  rangeStartM: number;
  rangeStepM: number;
  bins: number;
  /** Source file name (Licel), for provenance. */
  file: string;
  paramsId: string;
  pblHeightM: number;
  pblQuality: number;
  cloudBaseM: number;
  aod: number;
  /** Signal-to-noise ratio of the retrieval's reference (reference window, or the calibration start bin); dimensionless. */
  snr: number;
  /**
   * The retrieval's background level (mean of the background window before subtraction): MHz for
   * photon-counting and glued channels, mV for analog-only channels (backgroundUnit()). NaN =
   * unknown (no background subtracted, or stored before this field existed). Optional on write
   * (absent = NaN); the stores always fill it on read.
   */
  background?: number;
  /**
   * Vertical profiles: the lidar constant accepted from their Rayleigh-referenced retrieval (NaN when
   * not accepted), which calibrates later scans. Calibration-mode (scan) profiles: the constant they
   * were retrieved with.
   */
  lidarConstant: number;
  /** Bins with a reported, non-LOW_SNR PM value. */
  validBins: number;
  /** Bins per QC bit: counts of bins with OVERLAP, LOW_SNR, CLOUD, TERRAIN, SATURATED, NEGATIVE, FORWARD, HUMID set. */
  qcCounts: number[];
  /** Arrival time at the pipeline (ms UTC), for ingest lag. */
  receivedMs: number;
}

export interface ProfileRecord extends ProfileMeta {
  arrays: ProfileArrays;
}

/**
 * One profile's contribution to one map cell: sums over its valid bins inside the cell and below
 * the map's height limit. Means are sum / n over any set of contributions (a scan, an hour, a day,
 * a district), so contributions re-aggregate exactly.
 */
export interface CellRecord {
  station: string;
  channel: string;
  /** Grid cell id (processing/geometry/grid.ts). Tag. */
  cell: string;
  /** District code ("01".."24" for Sofia) of the cell centre, "" outside every district. Tag. */
  district: string;
  /** Time of the profile it came from (ms UTC). */
  timeMs: number;
  n: number;
  pm10Sum: number;
  pm25Sum: number;
  /** Sum of aerosol extinction (1/m). */
  alphaSum: number;
}

/** Station housekeeping and pipeline metrics at one time. Values: numbers (NaN = missing), strings or booleans. */
export interface HealthRecord {
  station: string;
  timeMs: number;
  values: Record<string, number | string | boolean>;
}

export interface ParamSetRecord {
  /** Content hash id ("p-..." from processing/retrieval/params.ts). */
  id: string;
  /** The canonical parameter-set JSON. */
  json: string;
  name: string;
  createdMs: number;
}

/**
 * One hour of official PM at an air-quality station (ExEA/EEA hourly data, not the lidar's).
 * Identified by (aqStation, timeMs); writing it again replaces pm10, pm25 and source.
 */
export interface AqHourRecord {
  /** AQ station id (EEA EoI code, e.g. "BG0050A"). */
  aqStation: string;
  /** Start of the hour (ms UTC, a whole hour). */
  timeMs: number;
  /** Hourly mean PM10 and PM2.5 in ug/m^3; NaN = not measured / missing. */
  pm10: number;
  pm25: number;
  /** Where the values came from (free text, e.g. "EEA E2a verified", a file name); "" when unknown. */
  source: string;
}

export interface AqHourQuery {
  aqStation: string;
  fromMs: number;
  toMs: number;
  /** At most this many hours, oldest first (default 10000). */
  limit?: number;
}

export interface WriteBatch {
  profiles?: ProfileRecord[];
  cells?: CellRecord[];
  health?: HealthRecord[];
}

export interface ProfileQuery {
  station: string;
  channel?: string;
  mode?: ProfileMode;
  fromMs: number;
  toMs: number;
  /** Newest first when 'desc' (default 'asc'). */
  order?: 'asc' | 'desc';
  /** At most this many (default 10000). */
  limit?: number;
}

export type CellGroup = 'cell' | 'district' | 'station';

export interface CellQuery {
  station: string;
  channel: string;
  fromMs: number;
  toMs: number;
  /** Sum contributions per cell, per district or over the whole station. */
  groupBy: CellGroup;
  /** Only these cells / this district. */
  cells?: string[];
  district?: string;
  /** Also per time bucket: hour or day (UTC), bucket start in timeMs. null = one row per group. */
  bucket?: '1h' | '1d' | null;
}

export interface CellSumRow {
  /** Bucket start (ms UTC), or NaN without buckets. */
  timeMs: number;
  /** The cell id, district code or station id, by groupBy. */
  key: string;
  /** With groupBy 'cell': the cell's district code ("" outside every district). Added for the map view; adapters fill it. */
  district?: string;
  n: number;
  pm10Sum: number;
  pm25Sum: number;
  alphaSum: number;
  /** Number of contributions (profiles x cells) summed. */
  contributions: number;
}

export interface HealthQuery {
  station: string;
  fromMs: number;
  toMs: number;
  /** Only these value names (default all). */
  fields?: string[];
  limit?: number;
  order?: 'asc' | 'desc';
}

export interface BackendStatus {
  /** The database answers. */
  reachable: boolean;
  /** Points waiting in the spool (0 for the embedded store). */
  spooledPoints: number;
  spooledBytes: number;
  /** Writes that failed and were retried or spooled, since start. */
  writeErrors: number;
  lastError: string | null;
}

/** What an adapter implements. All methods reject with a LidarError: LIDAR_ERR_IO (database unreachable or failing) or LIDAR_ERR_BAD_VALUE (input it cannot store). */
export interface StoreBackend {
  readonly kind: 'embedded' | 'influx';
  /** Creates the database, tables / retention policies; idempotent. */
  open(): Promise<void>;
  /** Idempotent; resolves once the batch is durable (on disk, in the database or in the spool). */
  write(batch: WriteBatch): Promise<void>;
  /** Waits until everything written so far is in the database (spool drained), or rejects after timeoutMs. */
  flush(timeoutMs?: number): Promise<void>;
  profiles(q: ProfileQuery): Promise<ProfileMeta[]>;
  /** The records of the given profiles with the requested arrays (all when omitted); missing ids are left out. */
  profileArrays(station: string, ids: string[], arrays?: ProfileArrayName[]): Promise<ProfileRecord[]>;
  cellSums(q: CellQuery): Promise<CellSumRow[]>;
  health(q: HealthQuery): Promise<HealthRecord[]>;
  putParamSet(p: ParamSetRecord): Promise<void>;
  getParamSet(id: string): Promise<ParamSetRecord | null>;
  listParamSets(): Promise<ParamSetRecord[]>;
  /** Stores official AQ-station hours (idempotent by (aqStation, timeMs)); resolves once durable. BAD_VALUE naming the field (e.g. `aq[3].timeMs`) for a record it cannot store, then nothing is written. */
  writeAqHours(records: AqHourRecord[]): Promise<void>;
  /** The stored hours of one AQ station in [fromMs, toMs), oldest first. */
  aqHours(q: AqHourQuery): Promise<AqHourRecord[]>;
  status(): BackendStatus;
  close(): Promise<void>;
}

/** Unit of ProfileMeta.background for a channel key: "mV" for analog-only channels ("…-analog"), else "MHz". */
export function backgroundUnit(channel: string): 'MHz' | 'mV' {
  return channel.endsWith('-analog') ? 'mV' : 'MHz';
}

/** `${station}:${channel}:${timeMs}` */
export function profileId(station: string, channel: string, timeMs: number): string {
  return `${station}:${channel}:${timeMs}`;
}

/** Channel key from wavelength, polarisation and kind: "532o-glued". */
export function channelKey(wavelengthNm: number, polarization: string, kind: string): string {
  return `${Math.round(wavelengthNm)}${polarization}-${kind}`;
}

/** The parts of a profileId(), or null when `id` is not `${station}:${channel}:${timeMs}` (channel may contain ':'). */
export function parseProfileId(id: string): { station: string; channel: string; timeMs: number } | null {
  if (typeof id !== 'string' || id.length > 1024) return null;
  const first = id.indexOf(':');
  const last = id.lastIndexOf(':');
  if (first <= 0 || last <= first + 1) return null;
  const time = id.slice(last + 1);
  if (!/^(0|[1-9][0-9]{0,15})$/.test(time)) return null;
  const timeMs = Number(time);
  if (!Number.isSafeInteger(timeMs)) return null;
  return { station: id.slice(0, first), channel: id.slice(first + 1, last), timeMs };
}
