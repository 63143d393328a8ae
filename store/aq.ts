/**
 * Checks of official AQ-station hours (store/port.ts AqHourRecord, AqHourQuery) shared by the
 * adapters: every rejection is a LIDAR_ERR_BAD_VALUE naming the field (`aq[2].timeMs`).
 */
import { LidarError } from '../processing/errors.js';
import type { AqHourQuery, AqHourRecord } from './port.js';

const HOUR_MS = 3_600_000;
/** Longest AQ station id and source text. */
export const MAX_AQ_ID_CHARS = 64;
export const MAX_AQ_SOURCE_CHARS = 1024;
/** Earliest and latest accepted hours: 1970-01-01 and 2200-01-01 (ms UTC). */
const MIN_TIME_MS = 0;
const MAX_TIME_MS = 7_258_118_400_000;
/** An AQ station id: letters, digits and `._-` (EoI codes such as BG0050A). */
export const AQ_STATION_ID_RE = /^[A-Za-z0-9._-]{1,64}$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const CONTROL = /[\u0000-\u001f\u007f]/;

function bad(field: string, detail: string): never {
  throw new LidarError('LIDAR_ERR_BAD_VALUE', detail, { field });
}

export function checkAqStationId(v: unknown, field: string): string {
  if (typeof v !== 'string' || !AQ_STATION_ID_RE.test(v)) bad(field, `expected an AQ station id of 1-${MAX_AQ_ID_CHARS} letters, digits, '.', '_' or '-', got ${JSON.stringify(v)}`);
  return v;
}

/** Validates one record; returns it normalised (+-Infinity -> NaN). */
export function checkAqHour(r: AqHourRecord, at: string): AqHourRecord {
  if (typeof r !== 'object' || r === null) bad(at, 'expected an AQ hour record');
  const aqStation = checkAqStationId(r.aqStation, `${at}.aqStation`);
  const t = r.timeMs;
  if (typeof t !== 'number' || !Number.isInteger(t) || t < MIN_TIME_MS || t > MAX_TIME_MS) bad(`${at}.timeMs`, `expected an integer time in ms UTC between ${MIN_TIME_MS} and ${MAX_TIME_MS}, got ${String(t)}`);
  if (t % HOUR_MS !== 0) bad(`${at}.timeMs`, `${new Date(t).toISOString()} is not the start of a UTC hour`);
  const value = (v: unknown, name: 'pm10' | 'pm25'): number => {
    if (typeof v !== 'number') bad(`${at}.${name}`, `expected a number (NaN = missing), got ${v === null ? 'null' : typeof v}`);
    return Number.isFinite(v) ? v : NaN;
  };
  const pm10 = value(r.pm10, 'pm10');
  const pm25 = value(r.pm25, 'pm25');
  const source = r.source;
  if (typeof source !== 'string' || source.length > MAX_AQ_SOURCE_CHARS || LONE_SURROGATE.test(source) || CONTROL.test(source)) {
    bad(`${at}.source`, `expected a text of at most ${MAX_AQ_SOURCE_CHARS} characters without control characters`);
  }
  return { aqStation, timeMs: t, pm10, pm25, source };
}

export function checkAqHours(records: unknown): AqHourRecord[] {
  if (!Array.isArray(records)) bad('aq', 'expected a list of AQ hour records');
  return (records as AqHourRecord[]).map((r, i) => checkAqHour(r, `aq[${i}]`));
}

export function checkAqQuery(q: AqHourQuery): { aqStation: string; fromMs: number; toMs: number; limit: number } {
  if (typeof q !== 'object' || q === null) bad('query', 'expected an AQ hour query');
  const aqStation = checkAqStationId(q.aqStation, 'aqStation');
  if (typeof q.fromMs !== 'number' || !Number.isFinite(q.fromMs)) bad('fromMs', `expected a finite time in ms, got ${String(q.fromMs)}`);
  if (typeof q.toMs !== 'number' || !Number.isFinite(q.toMs)) bad('toMs', `expected a finite time in ms, got ${String(q.toMs)}`);
  if (q.toMs < q.fromMs) bad('toMs', `window ends (${q.toMs}) before it starts (${q.fromMs})`);
  const limit = q.limit ?? 10_000;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 1_000_000) bad('limit', `expected an integer 1..1000000, got ${String(limit)}`);
  return { aqStation, fromMs: q.fromMs, toMs: q.toMs, limit };
}
