/** Number formatting for the public (pure). */
import type { Lang } from './time.js';

/** A concentration in ug/m3 rounded for display: whole numbers from 10 up, one decimal below. */
export function formatPm(value: number | null | undefined, lang: Lang = 'en'): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const digits = Math.abs(value) >= 10 ? 0 : 1;
  return value.toLocaleString(lang === 'bg' ? 'bg-BG' : 'en-GB', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A distance: metres below 1 km, else km with one decimal. */
export function formatDistance(m: number, lang: Lang = 'en'): string {
  if (m < 1000) return `${Math.round(m / 10) * 10} m`;
  const km = (m / 1000).toLocaleString(lang === 'bg' ? 'bg-BG' : 'en-GB', { maximumFractionDigits: 1, minimumFractionDigits: 1 });
  return `${km} km`;
}
