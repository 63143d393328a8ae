/**
 * Operator helpers (pure): levels of the freshness figures (the thresholds the API's /status uses:
 * no profile for 30 min = warn, 2 h = crit), durations in words, and the numeric housekeeping series
 * of /health records.
 */
export type Level = 'ok' | 'warn' | 'crit';

export const SINCE_LAST_WARN_S = 30 * 60;
export const SINCE_LAST_CRIT_S = 2 * 3600;

export function levelSinceLast(seconds: number | null): Level {
  if (seconds === null || !Number.isFinite(seconds)) return 'crit';
  if (seconds > SINCE_LAST_CRIT_S) return 'crit';
  if (seconds > SINCE_LAST_WARN_S) return 'warn';
  return 'ok';
}

/** Completeness ratio (files in the last hour / typical): warn below 0.8, crit below 0.5; null is ok (not enough history). */
export function levelCompleteness(ratio: number | null): Level {
  if (ratio === null || !Number.isFinite(ratio)) return 'ok';
  if (ratio < 0.5) return 'crit';
  if (ratio < 0.8) return 'warn';
  return 'ok';
}

/** Retrieval success rate: warn below 0.9 (the API warns above 10 % quarantined), crit below 0.5. */
export function levelSuccess(rate: number | null): Level {
  if (rate === null || !Number.isFinite(rate)) return 'ok';
  if (rate < 0.5) return 'crit';
  if (rate < 0.9) return 'warn';
  return 'ok';
}

/** The worse of some levels. */
export function worst(...levels: Level[]): Level {
  return levels.includes('crit') ? 'crit' : levels.includes('warn') ? 'warn' : 'ok';
}

/** "45 s", "12 min 5 s", "3 h 20 min", "2 d 4 h". */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

export interface HealthRecord {
  time: string;
  values: Record<string, number | string | boolean | null>;
}

export interface HealthSeries {
  name: string;
  times: number[];
  values: number[];
  last: number;
  min: number;
  max: number;
}

/** One series per numeric field of the records (oldest first), sorted by name; non-numbers skipped. */
export function healthSeries(records: readonly HealthRecord[]): HealthSeries[] {
  const by = new Map<string, { times: number[]; values: number[] }>();
  for (const r of records) {
    const t = Date.parse(r.time);
    if (!Number.isFinite(t)) continue;
    for (const [k, v] of Object.entries(r.values)) {
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      const s = by.get(k) ?? { times: [], values: [] };
      s.times.push(t);
      s.values.push(v);
      by.set(k, s);
    }
  }
  return [...by.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, s]) => ({ name, ...s, last: s.values[s.values.length - 1], min: Math.min(...s.values), max: Math.max(...s.values) }));
}
