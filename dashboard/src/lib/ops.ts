/**
 * Operator helpers (pure): WARN/CRIT levels of the status figures and of housekeeping values, from
 * the one threshold table below (documented in docs/dashboard.md), durations in words, and the
 * numeric housekeeping series of /health records.
 */
export type Level = 'ok' | 'warn' | 'crit';

/**
 * A threshold: `above` = worse when larger (warn when > warn, crit when > crit), `below` = worse when
 * smaller (warn when < warn, crit when < crit). `drift` compares with the median of the last 24 h:
 * |value / median - 1| > warn (or crit). Housekeeping rules apply to /health fields whose (dotted,
 * lower-cased) name matches `match`.
 */
export interface Threshold {
  id: string;
  what: string;
  unit: string;
  kind: 'above' | 'below' | 'drift';
  warn: number;
  crit: number;
  match?: RegExp;
}

export const THRESHOLDS = {
  sinceLastProfile: { id: 'since_last_profile_s', what: 'time since the last profile (as the API /status)', unit: 's', kind: 'above', warn: 30 * 60, crit: 2 * 3600 },
  ingestLag: { id: 'ingest_lag_s', what: 'ingest lag (arrival - measurement)', unit: 's', kind: 'above', warn: 5 * 60, crit: 30 * 60 },
  queueDepth: { id: 'queue_depth', what: 'files waiting (station queued + pipeline queued)', unit: 'files', kind: 'above', warn: 20, crit: 100 },
  completeness: { id: 'completeness', what: 'files in the last hour / typical', unit: 'ratio', kind: 'below', warn: 0.8, crit: 0.5 },
  retrievalSuccess: { id: 'retrieval_success', what: 'retrieval success rate (the API warns above 10 % quarantined)', unit: 'ratio', kind: 'below', warn: 0.9, crit: 0.5 },
  laserEnergy: { id: 'laser_energy', what: 'laser energy, relative to its 24 h median', unit: 'ratio', kind: 'drift', warn: 0.1, crit: 0.25, match: /laser.*energy|energy.*laser/ },
  temperature: { id: 'temperature', what: 'temperatures (fields named *temp* or ending in _c)', unit: '°C', kind: 'above', warn: 35, crit: 45, match: /temp|_c$/ },
  detectorHv: { id: 'detector_hv', what: 'detector high voltage, relative to its 24 h median', unit: 'ratio', kind: 'drift', warn: 0.02, crit: 0.05, match: /(^|[._])hv([._]|$)|high_?voltage/ },
} as const satisfies Record<string, Threshold>;

/** The level of a value under a threshold (null/NaN: `missing`, default ok = not enough data). */
export function levelOf(th: Threshold, value: number | null, reference: number | null = null, missing: Level = 'ok'): Level {
  if (value === null || !Number.isFinite(value)) return missing;
  if (th.kind === 'drift') {
    if (reference === null || !Number.isFinite(reference) || reference === 0) return 'ok';
    const d = Math.abs(value / reference - 1);
    return d > th.crit ? 'crit' : d > th.warn ? 'warn' : 'ok';
  }
  if (th.kind === 'above') return value > th.crit ? 'crit' : value > th.warn ? 'warn' : 'ok';
  return value < th.crit ? 'crit' : value < th.warn ? 'warn' : 'ok';
}

export const SINCE_LAST_WARN_S = THRESHOLDS.sinceLastProfile.warn;
export const SINCE_LAST_CRIT_S = THRESHOLDS.sinceLastProfile.crit;

/** No profile for 30 min = warn, 2 h = crit; no profile at all = crit. */
export const levelSinceLast = (seconds: number | null): Level => levelOf(THRESHOLDS.sinceLastProfile, seconds, null, 'crit');
/** Completeness ratio (files in the last hour / typical); null is ok (not enough history). */
export const levelCompleteness = (ratio: number | null): Level => levelOf(THRESHOLDS.completeness, ratio);
/** Retrieval success rate; null is ok (nothing received). */
export const levelSuccess = (rate: number | null): Level => levelOf(THRESHOLDS.retrievalSuccess, rate);
export const levelIngestLag = (seconds: number | null): Level => levelOf(THRESHOLDS.ingestLag, seconds);
export const levelQueue = (files: number | null): Level => levelOf(THRESHOLDS.queueDepth, files);

/**
 * Time since the last profile as the operator sees it: the larger of the API's figure and the time
 * from the last profile to the page's clock, so a page that stops getting updates still turns
 * WARN/CRIT by itself (a browser clock that runs ahead also counts, like the map's greying).
 */
export function sinceLastS(apiS: number | null, lastProfile: string | null, nowMs: number): number | null {
  const t = lastProfile === null ? NaN : Date.parse(lastProfile);
  const page = Number.isFinite(t) ? Math.max(0, (nowMs - t) / 1000) : null;
  if (apiS === null || !Number.isFinite(apiS)) return page;
  return page === null ? apiS : Math.max(apiS, page);
}

/** The housekeeping rule for a /health field name, if any. */
export function housekeepingRule(name: string): Threshold | null {
  const n = name.toLowerCase();
  if (n.startsWith('pipeline.')) return null;
  for (const th of [THRESHOLDS.laserEnergy, THRESHOLDS.detectorHv, THRESHOLDS.temperature] as Threshold[]) if (th.match && th.match.test(n)) return th;
  return null;
}

/** Level of a housekeeping series' last value (drift rules against the series' median). */
export function levelHousekeeping(s: Pick<HealthSeries, 'name' | 'values' | 'last'>): Level {
  const th = housekeepingRule(s.name);
  if (!th) return 'ok';
  return levelOf(th, s.last, th.kind === 'drift' ? median(s.values) : null);
}

export function median(xs: readonly number[]): number | null {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
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
