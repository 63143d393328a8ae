/**
 * EU limit values for PM (pure): the ones in force (Directive 2008/50/EC) and those from 2030
 * (Directive (EU) 2024/2881), how a daily mean compares with them, and exceedance counting on daily
 * means (a day counts only with >= 18 valid hours; strictly above the limit is an exceedance). The
 * API's /districts computes the same counts on the server (store/limits.ts); the dashboard uses these
 * for the calendar colours and checks.
 */
import type { PmProduct } from './aqi.js';

export interface DailyLimit {
  product: PmProduct;
  valueUgM3: number;
  maxPerYear: number;
  directive: '2008/50/EC' | '(EU) 2024/2881';
}

export const MIN_HOURS_PER_DAY = 18;

/** Daily limits per product: [in force, from 2030]; PM2.5 has no daily limit in force. */
export const DAILY_LIMITS: Record<PmProduct, { now: DailyLimit | null; from2030: DailyLimit }> = {
  pm10: { now: { product: 'pm10', valueUgM3: 50, maxPerYear: 35, directive: '2008/50/EC' }, from2030: { product: 'pm10', valueUgM3: 45, maxPerYear: 18, directive: '(EU) 2024/2881' } },
  pm25: { now: null, from2030: { product: 'pm25', valueUgM3: 25, maxPerYear: 18, directive: '(EU) 2024/2881' } },
};

export const ANNUAL_LIMITS: Record<PmProduct, { now: number; from2030: number }> = {
  pm10: { now: 40, from2030: 20 },
  pm25: { now: 25, from2030: 10 },
};

export type DayClass = 'invalid' | 'above_now' | 'above_2030' | 'below';

/** How one day's mean compares with the daily limits. */
export function classifyDay(product: PmProduct, mean: number | null, hours: number): DayClass {
  if (mean === null || !Number.isFinite(mean) || hours < MIN_HOURS_PER_DAY) return 'invalid';
  const l = DAILY_LIMITS[product];
  if (l.now && mean > l.now.valueUgM3) return 'above_now';
  if (mean > l.from2030.valueUgM3) return 'above_2030';
  return 'below';
}

/** Valid days strictly above a limit value. */
export function countExceedances(days: ReadonlyArray<{ mean: number | null; hours: number }>, limitUgM3: number): number {
  return days.filter((d) => d.mean !== null && Number.isFinite(d.mean) && d.hours >= MIN_HOURS_PER_DAY && d.mean > limitUgM3).length;
}
