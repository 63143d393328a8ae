/**
 * Times for the public: Europe/Sofia local clock times, "N min ago", staleness. Pure (Intl only).
 */
export const PUBLIC_TIME_ZONE = 'Europe/Sofia';
/** Data older than this is shown greyed out as stale. */
export const STALE_AFTER_MS = 30 * 60_000;

export type Lang = 'en' | 'bg';
const LOCALES: Record<Lang, string> = { en: 'en-GB', bg: 'bg-BG' };

const cache = new Map<string, Intl.DateTimeFormat>();
function fmt(lang: Lang, opts: Intl.DateTimeFormatOptions, timeZone: string): Intl.DateTimeFormat {
  const key = `${lang}|${timeZone}|${JSON.stringify(opts)}`;
  let f = cache.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(LOCALES[lang], { ...opts, timeZone });
    cache.set(key, f);
  }
  return f;
}

/** "HH:MM" (24 h) in the time zone (default Europe/Sofia). */
export function formatHm(timeMs: number, lang: Lang = 'en', timeZone = PUBLIC_TIME_ZONE): string {
  const parts = fmt(lang, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }, timeZone).formatToParts(timeMs);
  const h = parts.find((p) => p.type === 'hour')?.value ?? '??';
  const m = parts.find((p) => p.type === 'minute')?.value ?? '??';
  return `${h}:${m}`;
}

/** "22 Nov" style day and month in the time zone. */
export function formatDayMonth(timeMs: number, lang: Lang = 'en', timeZone = PUBLIC_TIME_ZONE): string {
  return fmt(lang, { day: 'numeric', month: 'short' }, timeZone).format(timeMs);
}

/** "22 Nov, 16:39" in the time zone. */
export function formatDateTime(timeMs: number, lang: Lang = 'en', timeZone = PUBLIC_TIME_ZONE): string {
  return `${formatDayMonth(timeMs, lang, timeZone)}, ${formatHm(timeMs, lang, timeZone)}`;
}

/** Whole minutes from timeMs to nowMs (never negative: a clock slightly ahead counts as 0). */
export function minutesAgo(timeMs: number, nowMs: number): number {
  return Math.max(0, Math.floor((nowMs - timeMs) / 60_000));
}

/** Whether a value measured at timeMs is stale at nowMs. */
export function isStale(timeMs: number, nowMs: number, limitMs = STALE_AFTER_MS): boolean {
  return nowMs - timeMs > limitMs;
}

/** Parses an ISO time from the API; null for null or unparsable. */
export function parseTime(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : null;
}
