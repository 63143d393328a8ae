/**
 * Pure helpers of the municipal view: the selectable period (last 7 / 30 / 90 days or a calendar year
 * in Sofia local days), the month-by-day grid of a year calendar, and the lidar-vs-station
 * comparison's types.
 */
import { PUBLIC_TIME_ZONE } from './time.js';

export type WindowKind = '7' | '30' | '90' | 'year';
export const WINDOW_KINDS: readonly WindowKind[] = ['7', '30', '90', 'year'];
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Offset (ms) of `timeZone` from UTC at `utcMs` (Intl; whole minutes). */
function zoneOffsetMs(utcMs: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(utcMs);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const local = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return local - Math.floor(utcMs / 1000) * 1000;
}

/** UTC ms of local midnight starting `date` (YYYY-MM-DD) in `timeZone`. */
export function localMidnightMs(year: number, month1: number, day: number, timeZone = PUBLIC_TIME_ZONE): number {
  const guess = Date.UTC(year, month1 - 1, day);
  return guess - zoneOffsetMs(guess - zoneOffsetMs(guess, timeZone), timeZone);
}

/** Local calendar year of an instant. */
export function localYear(utcMs: number, timeZone = PUBLIC_TIME_ZONE): number {
  return new Date(utcMs + zoneOffsetMs(utcMs, timeZone)).getUTCFullYear();
}

/**
 * [fromMs, toMs) of a period: the last N days up to now (rounded up to the minute), or the local
 * calendar year `year` (its end cut there when the year is not over).
 */
export function windowFor(kind: WindowKind, year: number, nowMs: number, timeZone = PUBLIC_TIME_ZONE): { fromMs: number; toMs: number } {
  // Now rounded up to the minute, as the API's own default windows (same days, shared cache entries).
  const end = Math.ceil(nowMs / MINUTE) * MINUTE;
  if (kind !== 'year') return { fromMs: end - Number(kind) * DAY, toMs: end };
  const fromMs = localMidnightMs(year, 1, 1, timeZone);
  const yearEnd = localMidnightMs(year + 1, 1, 1, timeZone);
  return { fromMs, toMs: Math.max(fromMs + HOUR, Math.min(yearEnd, end)) };
}

export interface MonthRow<T> {
  /** YYYY-MM */
  month: string;
  /** Index d-1 holds the day `d` of the month, null where the period has no such day. */
  days: Array<T | null>;
}

/** Days (with a `date` YYYY-MM-DD) grouped into months of 31 slots, in date order. */
export function monthGrid<T extends { date: string }>(days: readonly T[]): MonthRow<T>[] {
  const rows: MonthRow<T>[] = [];
  for (const d of [...days].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0))) {
    const month = d.date.slice(0, 7);
    let row = rows[rows.length - 1];
    if (!row || row.month !== month) rows.push((row = { month, days: new Array<T | null>(31).fill(null) }));
    row.days[Number(d.date.slice(8, 10)) - 1] = d;
  }
  return rows;
}

export interface Agreement {
  n: number;
  mean_lidar: number | null;
  mean_station: number | null;
  mean_bias: number | null;
  r: number | null;
}

/** GET /stations/{s}/aq-stations/{id}/comparison */
export interface Comparison {
  station: string;
  aq_station: string;
  name_en: string;
  name_bg: string;
  cell: string;
  radius_m: number;
  cells: string[];
  product: string;
  unit: string;
  timezone: string;
  from: string;
  to: string;
  lidar_averaging: string;
  station_averaging: string;
  hours: Array<{ time: string; lidar: number | null; station: number | null; lidar_bins: number }>;
  days: Array<{ date: string; time: string; lidar: number | null; station: number | null; lidar_hours: number; station_hours: number }>;
  stats: { hourly: Agreement; daily: Agreement };
}
