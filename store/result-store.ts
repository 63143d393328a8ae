/**
 * The queries users need (latest scan as map cells and polar rays, curtains, series, district
 * statistics against the EU limits), written once over any StoreBackend (store/port.ts).
 * Every query is time-bounded: explicit windows with a validated maximum size, or `nowMs` with a
 * bounded look-back. Pure parts: ./scan.ts (scan detection), ./curtain.ts (downsampling),
 * ./limits.ts (limit values); the daily-mean rule (>= 18 valid hours per local calendar day) is here.
 */
import { cellId, DEFAULT_CELL_SIZE_M } from '../processing/geometry/grid.js';
import { LidarError } from '../processing/errors.js';
import { localToUtcMs, zoneOffsetMs } from '../processing/time.js';
import { buildCurtain, checkCurtainGrid, type Curtain } from './curtain.js';
import { MIN_HOURS_PER_DAY, limitsFor, type PmLimit } from './limits.js';
import {
  PROFILE_ARRAY_NAMES,
  parseProfileId,
  type BackendStatus,
  type CellQuery,
  type CellSumRow,
  type HealthQuery,
  type HealthRecord,
  type ParamSetRecord,
  type ProfileArrayName,
  type ProfileRecord,
  type StoreBackend,
  type WriteBatch,
} from './port.js';
import { latestScanOf, splitScans, type ScanOptions, type ScanRun } from './scan.js';

export type MapProduct = 'pm10' | 'pm25' | 'alpha_aer';
export type PmProduct = 'pm10' | 'pm25';
export type PolarProduct = Exclude<ProfileArrayName, 'qc'>;
/** A point (an address, an AQ station's position) is the map cell that contains it. */
export type SeriesTarget = { cell: string } | { cells: string[] } | { district: string } | { station: true } | { point: { lat: number; lon: number } };

export interface ResultStoreOptions {
  /** IANA zone of the calendar days of daily means (default 'Europe/Sofia'). */
  timezone?: string;
  /** Scan detection tolerances (./scan.ts). */
  scan?: ScanOptions;
  /** Look-back of the latest-scan queries when the caller gives none (default 6 h). */
  lookBackMs?: number;
  /** Map cell size the pipeline writes (m, default 500): resolves {point} series targets. */
  cellSizeM?: number;
}

export interface LatestQuery {
  station: string;
  channel: string;
  nowMs: number;
  /** Default 6 h, at most 7 days. */
  lookBackMs?: number;
  /**
   * Prefer the last complete scan over one still in progress (scan.ts latestScanOf). Default: true for
   * latestMap and latestPolar (a map of one ray while a new sweep begins says little), false for latestScan.
   */
  complete?: boolean;
}

export interface MapCell {
  cell: string;
  district: string;
  /** sum / n over the scan's contributions to the cell (NaN when n = 0). */
  value: number;
  n: number;
}

export interface PolarRay {
  id: string;
  timeMs: number;
  azimuthDeg: number;
  elevationDeg: number;
  rangeStartM: number;
  rangeStepM: number;
  /** The product per bin (NaN-filled when the profile does not carry it). */
  values: Float32Array;
  /** QC bits per bin (zeros when the profile does not carry them). */
  qc: Uint8Array;
}

export interface CurtainQuery {
  station: string;
  channel: string;
  product: PolarProduct;
  fromMs: number;
  toMs: number;
  width: number;
  height: number;
  heightMinM?: number;
  heightMaxM?: number;
}

export interface SeriesQuery {
  station: string;
  channel: string;
  product: MapProduct;
  target: SeriesTarget;
  fromMs: number;
  toMs: number;
  resolution: 'raw' | '1h' | '1d';
  /** Calendar days of '1d' (default: the store's timezone). */
  timezone?: string;
}

/**
 * One point of a series. raw: one point per scan (timeMs = scan start), value = sum/n over the scan,
 * n = bins. 1h: timeMs = hour start (UTC), value = sum/n over the hour, n = bins. 1d: timeMs = start
 * of the local calendar day, value = mean of the day's hourly means when at least 18 hours have data
 * (NaN otherwise), n = number of hours with data.
 */
export interface SeriesPoint {
  timeMs: number;
  value: number;
  n: number;
}

export interface DistrictStatsQuery {
  station: string;
  channel: string;
  product: PmProduct;
  fromMs: number;
  toMs: number;
  timezone?: string;
}

export interface DayMean {
  /** Start of the local calendar day (ms UTC). */
  dayStartMs: number;
  /** Local date YYYY-MM-DD. */
  date: string;
  /** Mean of the hourly means; NaN with fewer than 18 hours. */
  mean: number;
  hours: number;
}

export interface LimitCheck {
  limit: PmLimit;
  /** Daily limits: valid days with a mean strictly above the limit (null for annual limits). */
  exceedanceDays: number | null;
  /** Daily limits: more exceedance days than the directive allows per year (null for annual limits). */
  allowedExceeded: boolean | null;
  /** Annual limits: the period mean is above the limit (indicative unless the period is a calendar year; null for daily limits or without valid days). */
  periodMeanAbove: boolean | null;
}

export interface DistrictStats {
  district: string;
  days: DayMean[];
  validDays: number;
  /** Mean of the valid daily means (NaN without valid days). */
  periodMean: number;
  limits: LimitCheck[];
}

export interface DistrictStatsResult {
  station: string;
  channel: string;
  product: PmProduct;
  timezone: string;
  /** The window expanded to whole local days. */
  fromMs: number;
  toMs: number;
  districts: DistrictStats[];
}

export interface CurtainResult extends Curtain {
  station: string;
  channel: string;
  product: PolarProduct;
  fromMs: number;
  toMs: number;
}

export interface ResultStore {
  readonly backend: StoreBackend;
  write(batch: WriteBatch): Promise<void>;
  flush(timeoutMs?: number): Promise<void>;
  status(): BackendStatus;
  close(): Promise<void>;
  latestScan(q: LatestQuery): Promise<ScanRun | null>;
  latestMap(q: LatestQuery & { product: MapProduct }): Promise<{ scan: ScanRun; cells: MapCell[] } | null>;
  latestPolar(q: LatestQuery & { product: PolarProduct }): Promise<{ scan: ScanRun; rays: PolarRay[] } | null>;
  curtain(q: CurtainQuery): Promise<CurtainResult>;
  series(q: SeriesQuery): Promise<SeriesPoint[]>;
  districtStats(q: DistrictStatsQuery): Promise<DistrictStatsResult>;
  healthHistory(q: HealthQuery): Promise<HealthRecord[]>;
  /** A profile with all its arrays and its parameter set; null when not stored. BAD_VALUE on a malformed id. */
  profile(id: string): Promise<{ record: ProfileRecord; paramSet: ParamSetRecord | null } | null>;
  putParamSet(p: ParamSetRecord): Promise<void>;
  getParamSet(id: string): Promise<ParamSetRecord | null>;
  listParamSets(): Promise<ParamSetRecord[]>;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
export const DEFAULT_LOOK_BACK_MS = 6 * HOUR_MS;
export const MAX_LOOK_BACK_MS = 7 * DAY_MS;
/** Largest windows: curtains 31 days, raw series 48 h, hourly/daily series, district statistics and health 400 days. */
export const MAX_CURTAIN_WINDOW_MS = 31 * DAY_MS;
export const MAX_RAW_SERIES_WINDOW_MS = 2 * DAY_MS;
export const MAX_LONG_WINDOW_MS = 400 * DAY_MS;
/** Most profiles one query reads (look-back, curtain). */
const MAX_PROFILES = 20_000;
const ARRAY_CHUNK = 200;

function bad(field: string, detail: string): never {
  throw new LidarError('LIDAR_ERR_BAD_VALUE', detail, { field });
}

function checkWindow(fromMs: number, toMs: number, maxMs: number): void {
  if (typeof fromMs !== 'number' || !Number.isFinite(fromMs)) bad('fromMs', `expected a finite time in ms, got ${String(fromMs)}`);
  if (typeof toMs !== 'number' || !Number.isFinite(toMs) || toMs <= fromMs) bad('toMs', `expected a time after fromMs (${fromMs}), got ${String(toMs)}`);
  if (toMs - fromMs > maxMs) bad('toMs', `window of ${toMs - fromMs} ms is longer than the allowed ${maxMs} ms`);
}

function checkStationChannel(q: { station: string; channel: string }): void {
  if (typeof q.station !== 'string' || q.station === '') bad('station', 'expected a station id');
  if (typeof q.channel !== 'string' || q.channel === '') bad('channel', 'expected a channel key');
}

const SUM_OF: Record<MapProduct, 'pm10Sum' | 'pm25Sum' | 'alphaSum'> = { pm10: 'pm10Sum', pm25: 'pm25Sum', alpha_aer: 'alphaSum' };

function checkMapProduct(p: unknown): MapProduct {
  if (p !== 'pm10' && p !== 'pm25' && p !== 'alpha_aer') bad('product', `expected "pm10", "pm25" or "alpha_aer", got ${JSON.stringify(p)}`);
  return p;
}

function checkPolarProduct(p: unknown): PolarProduct {
  if (typeof p !== 'string' || p === 'qc' || !(PROFILE_ARRAY_NAMES as readonly string[]).includes(p)) {
    bad('product', `expected one of ${PROFILE_ARRAY_NAMES.filter((n) => n !== 'qc').join(', ')}, got ${JSON.stringify(p)}`);
  }
  return p as PolarProduct;
}

function meanOf(row: CellSumRow, product: MapProduct): number {
  return row.n > 0 ? row[SUM_OF[product]] / row.n : NaN;
}

/** Local calendar date (YYYY-MM-DD) of a UTC instant in `timeZone`. */
export function localDate(utcMs: number, timeZone: string): string {
  return new Date(utcMs + zoneOffsetMs(timeZone, utcMs)).toISOString().slice(0, 10);
}

/** UTC start of the local calendar day `date` (YYYY-MM-DD) in `timeZone`. */
export function localDayStartMs(date: string, timeZone: string): number {
  return localToUtcMs(`${date}T00:00:00`, timeZone);
}

function nextDate(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
}

/** The local calendar days intersecting [fromMs, toMs): date and [startMs, endMs). */
export function localDays(fromMs: number, toMs: number, timeZone: string): Array<{ date: string; startMs: number; endMs: number }> {
  const days: Array<{ date: string; startMs: number; endMs: number }> = [];
  let date = localDate(fromMs, timeZone);
  let start = localDayStartMs(date, timeZone);
  while (start < toMs) {
    const next = nextDate(date);
    const end = localDayStartMs(next, timeZone);
    days.push({ date, startMs: start, endMs: end });
    date = next;
    start = end;
  }
  return days;
}

export interface HourValue {
  /** Hour start (ms UTC). */
  timeMs: number;
  /** The hourly mean (NaN = no data). */
  value: number;
}

/**
 * Daily means from hourly means (pure): per local calendar day, the mean of the finite hourly
 * values, reported only with at least MIN_HOURS_PER_DAY of them (NaN otherwise, with the count).
 */
export function dailyMeans(hours: readonly HourValue[], days: ReadonlyArray<{ date: string; startMs: number; endMs: number }>): DayMean[] {
  const out: DayMean[] = days.map((d) => ({ dayStartMs: d.startMs, date: d.date, mean: NaN, hours: 0 }));
  const sums = new Float64Array(days.length);
  for (const h of hours) {
    if (!Number.isFinite(h.value)) continue;
    // Days are sorted and contiguous: binary search the day holding the hour start.
    let lo = 0, hi = days.length - 1, k = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (h.timeMs < days[mid].startMs) hi = mid - 1;
      else if (h.timeMs >= days[mid].endMs) lo = mid + 1;
      else {
        k = mid;
        break;
      }
    }
    if (k < 0) continue;
    sums[k] += h.value;
    out[k].hours++;
  }
  out.forEach((d, k) => {
    d.mean = d.hours >= MIN_HOURS_PER_DAY ? sums[k] / d.hours : NaN;
  });
  return out;
}

/** Limit checks of a district's daily means (pure). */
export function checkLimits(days: readonly DayMean[], limits: readonly PmLimit[]): { validDays: number; periodMean: number; limits: LimitCheck[] } {
  const valid = days.filter((d) => Number.isFinite(d.mean));
  const periodMean = valid.length > 0 ? valid.reduce((s, d) => s + d.mean, 0) / valid.length : NaN;
  return {
    validDays: valid.length,
    periodMean,
    limits: limits.map((limit) => {
      if (limit.averaging === 'day') {
        const count = valid.filter((d) => d.mean > limit.valueUgM3).length;
        return { limit, exceedanceDays: count, allowedExceeded: count > (limit.maxExceedancesPerYear ?? 0), periodMeanAbove: null };
      }
      return { limit, exceedanceDays: null, allowedExceeded: null, periodMeanAbove: Number.isFinite(periodMean) ? periodMean > limit.valueUgM3 : null };
    }),
  };
}

function targetFilter(t: SeriesTarget, cellSizeM: number): Pick<CellQuery, 'cells' | 'district'> {
  if (typeof t !== 'object' || t === null) bad('target', 'expected {cell}, {cells}, {district}, {point} or {station: true}');
  if ('point' in t) {
    const { lat, lon } = (t.point ?? {}) as { lat?: unknown; lon?: unknown };
    if (typeof lat !== 'number' || !(lat >= -90 && lat <= 90)) bad('target.point.lat', `expected a latitude in [-90, 90], not ${JSON.stringify(lat)}`);
    if (typeof lon !== 'number' || !(lon >= -180 && lon <= 180)) bad('target.point.lon', `expected a longitude in [-180, 180], not ${JSON.stringify(lon)}`);
    return { cells: [cellId(lat, lon, cellSizeM)] };
  }
  if ('cell' in t) {
    if (typeof t.cell !== 'string' || t.cell === '') bad('target.cell', 'expected a cell id');
    return { cells: [t.cell] };
  }
  if ('cells' in t) {
    if (!Array.isArray(t.cells) || t.cells.length === 0 || t.cells.length > 10_000) bad('target.cells', 'expected 1..10000 cell ids');
    return { cells: t.cells };
  }
  if ('district' in t) {
    if (typeof t.district !== 'string') bad('target.district', 'expected a district code');
    return { district: t.district };
  }
  if ('station' in t && t.station === true) return {};
  return bad('target', 'expected {cell}, {cells}, {district}, {point} or {station: true}');
}

export function createResultStore(backend: StoreBackend, options: ResultStoreOptions = {}): ResultStore {
  const defaultZone = options.timezone ?? 'Europe/Sofia';
  zoneOffsetMs(defaultZone, 0); // validates the zone (BAD_VALUE)
  const scanOptions = options.scan ?? {};
  const defaultLookBack = options.lookBackMs ?? DEFAULT_LOOK_BACK_MS;

  async function latestScan(q: LatestQuery): Promise<ScanRun | null> {
    checkStationChannel(q);
    if (typeof q.nowMs !== 'number' || !Number.isFinite(q.nowMs)) bad('nowMs', `expected a finite time in ms, got ${String(q.nowMs)}`);
    const lookBack = q.lookBackMs ?? defaultLookBack;
    if (typeof lookBack !== 'number' || !(lookBack > 0) || lookBack > MAX_LOOK_BACK_MS) bad('lookBackMs', `expected 0 < lookBackMs <= ${MAX_LOOK_BACK_MS}, got ${String(lookBack)}`);
    const metas = await backend.profiles({ station: q.station, channel: q.channel, mode: 'scan', fromMs: q.nowMs - lookBack, toMs: q.nowMs + 1, order: 'desc', limit: MAX_PROFILES });
    return latestScanOf(metas, scanOptions, q.complete ?? false);
  }

  async function arraysOf(station: string, ids: string[], names: ProfileArrayName[]): Promise<Map<string, ProfileRecord>> {
    const out = new Map<string, ProfileRecord>();
    for (let i = 0; i < ids.length; i += ARRAY_CHUNK) {
      for (const r of await backend.profileArrays(station, ids.slice(i, i + ARRAY_CHUNK), names)) out.set(r.id, r);
    }
    return out;
  }

  async function hourlyRows(q: { station: string; channel: string; fromMs: number; toMs: number; groupBy: CellQuery['groupBy'] } & Pick<CellQuery, 'cells' | 'district'>): Promise<CellSumRow[]> {
    return backend.cellSums({ ...q, bucket: '1h' });
  }

  return {
    backend,
    write: (batch) => backend.write(batch),
    flush: (timeoutMs) => backend.flush(timeoutMs),
    status: () => backend.status(),
    close: () => backend.close(),
    latestScan,

    async latestMap(q) {
      const product = checkMapProduct(q.product);
      const scan = await latestScan({ ...q, complete: q.complete ?? true });
      if (!scan) return null;
      const rows = await backend.cellSums({ station: q.station, channel: q.channel, fromMs: scan.fromMs, toMs: scan.toMs, groupBy: 'cell' });
      const cells = rows.map((r) => ({ cell: r.key, district: r.district ?? '', value: meanOf(r, product), n: r.n }));
      return { scan, cells };
    },

    async latestPolar(q) {
      const product = checkPolarProduct(q.product);
      const scan = await latestScan({ ...q, complete: q.complete ?? true });
      if (!scan) return null;
      const records = await arraysOf(q.station, scan.profiles.map((p) => p.id), [product, 'qc']);
      const rays: PolarRay[] = [];
      for (const p of scan.profiles) {
        const r = records.get(p.id);
        if (!r) continue;
        const values = (r.arrays[product] as Float32Array | undefined) ?? new Float32Array(p.bins).fill(NaN);
        const qc = r.arrays.qc ?? new Uint8Array(p.bins);
        rays.push({ id: p.id, timeMs: p.timeMs, azimuthDeg: p.azimuthDeg, elevationDeg: p.elevationDeg, rangeStartM: p.rangeStartM, rangeStepM: p.rangeStepM, values, qc });
      }
      return { scan, rays };
    },

    async curtain(q) {
      checkStationChannel(q);
      const product = checkPolarProduct(q.product);
      checkCurtainGrid(q);
      checkWindow(q.fromMs, q.toMs, MAX_CURTAIN_WINDOW_MS);
      const metas = await backend.profiles({ station: q.station, channel: q.channel, mode: 'vertical', fromMs: q.fromMs, toMs: q.toMs, limit: MAX_PROFILES });
      const names: ProfileArrayName[] = product === 'height_m' ? ['height_m'] : [product, 'height_m'];
      const records = await arraysOf(q.station, metas.map((m) => m.id), names);
      const inputs = [];
      for (const m of metas) {
        const r = records.get(m.id);
        const heights = r?.arrays.height_m;
        const values = r?.arrays[product] as Float32Array | undefined;
        if (!heights || !values) continue;
        inputs.push({ timeMs: m.timeMs, heightsM: heights, values, pblHeightM: m.pblHeightM, pblQuality: m.pblQuality, cloudBaseM: m.cloudBaseM });
      }
      const c = buildCurtain(inputs, q);
      return { ...c, station: q.station, channel: q.channel, product, fromMs: q.fromMs, toMs: q.toMs };
    },

    async series(q) {
      checkStationChannel(q);
      const product = checkMapProduct(q.product);
      const filter = targetFilter(q.target, options.cellSizeM ?? DEFAULT_CELL_SIZE_M);
      const base = { station: q.station, channel: q.channel, groupBy: 'station' as const, ...filter };
      if (q.resolution === 'raw') {
        checkWindow(q.fromMs, q.toMs, MAX_RAW_SERIES_WINDOW_MS);
        const metas = await backend.profiles({ station: q.station, channel: q.channel, mode: 'scan', fromMs: q.fromMs, toMs: q.toMs, limit: MAX_PROFILES });
        const out: SeriesPoint[] = [];
        for (const run of splitScans(metas, scanOptions)) {
          const rows = await backend.cellSums({ ...base, fromMs: run.fromMs, toMs: run.toMs });
          for (const r of rows) if (r.contributions > 0) out.push({ timeMs: run.fromMs, value: meanOf(r, product), n: r.n });
        }
        return out;
      }
      if (q.resolution === '1h') {
        checkWindow(q.fromMs, q.toMs, MAX_LONG_WINDOW_MS);
        const rows = await hourlyRows({ ...base, fromMs: q.fromMs, toMs: q.toMs });
        return rows.filter((r) => r.contributions > 0).map((r) => ({ timeMs: r.timeMs, value: meanOf(r, product), n: r.n }));
      }
      if (q.resolution === '1d') {
        checkWindow(q.fromMs, q.toMs, MAX_LONG_WINDOW_MS);
        const zone = q.timezone ?? defaultZone;
        const days = localDays(q.fromMs, q.toMs, zone);
        const rows = await hourlyRows({ ...base, fromMs: days[0].startMs, toMs: days[days.length - 1].endMs });
        return dailyMeans(rows.map((r) => ({ timeMs: r.timeMs, value: meanOf(r, product) })), days).map((d) => ({ timeMs: d.dayStartMs, value: d.mean, n: d.hours }));
      }
      return bad('resolution', `expected "raw", "1h" or "1d", got ${JSON.stringify(q.resolution)}`);
    },

    async districtStats(q) {
      checkStationChannel(q);
      if (q.product !== 'pm10' && q.product !== 'pm25') bad('product', `expected "pm10" or "pm25", got ${JSON.stringify(q.product)}`);
      checkWindow(q.fromMs, q.toMs, MAX_LONG_WINDOW_MS);
      const zone = q.timezone ?? defaultZone;
      const days = localDays(q.fromMs, q.toMs, zone);
      const fromMs = days[0].startMs;
      const toMs = days[days.length - 1].endMs;
      const rows = await hourlyRows({ station: q.station, channel: q.channel, fromMs, toMs, groupBy: 'district' });
      const byDistrict = new Map<string, HourValue[]>();
      for (const r of rows) {
        if (r.key === '') continue;
        let list = byDistrict.get(r.key);
        if (!list) byDistrict.set(r.key, (list = []));
        list.push({ timeMs: r.timeMs, value: meanOf(r, q.product) });
      }
      const limits = limitsFor(q.product);
      const districts = [...byDistrict.keys()].sort().map((district) => {
        const daily = dailyMeans(byDistrict.get(district)!, days);
        return { district, days: daily, ...checkLimits(daily, limits) };
      });
      return { station: q.station, channel: q.channel, product: q.product, timezone: zone, fromMs, toMs, districts };
    },

    async healthHistory(q) {
      checkWindow(q.fromMs, q.toMs, MAX_LONG_WINDOW_MS);
      return backend.health(q);
    },

    async profile(id) {
      const key = typeof id === 'string' ? parseProfileId(id) : null;
      if (!key) bad('id', `malformed profile id ${JSON.stringify(id)} (expected station:channel:timeMs)`);
      const [record] = await backend.profileArrays(key.station, [id]);
      if (!record) return null;
      const paramSet = record.paramsId ? await backend.getParamSet(record.paramsId) : null;
      return { record, paramSet };
    },

    putParamSet: (p) => backend.putParamSet(p),
    getParamSet: (id) => backend.getParamSet(id),
    listParamSets: () => backend.listParamSets(),
  };
}
