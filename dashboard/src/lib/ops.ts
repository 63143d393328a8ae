/**
 * Operator helpers (pure): WARN/CRIT levels of the status figures and of housekeeping values, from
 * the one threshold table below (documented in docs/dashboard.md), durations in words, the
 * numeric housekeeping series of /health records and the per-channel background/SNR rows of
 * /channels/health.
 */
export type Level = 'ok' | 'warn' | 'crit';

/**
 * A threshold: `above` = worse when larger (warn when > warn, crit when > crit), `below` = worse when
 * smaller (warn when < warn, crit when < crit). `drift` compares with the median of the last 24 h:
 * |value / median - 1| > warn (or crit). `factor` also compares with the 24 h median, by how many
 * times the value is off either way: max(value / median, median / value) > warn (or crit); a value
 * <= 0 against a positive median is crit. `short` compares with the 24 h median from below:
 * value / median < warn (or crit). `zeroCrit`: a value <= 0 is crit whatever the median (a
 * detector or laser that is off). Housekeeping rules apply to /health fields whose (dotted,
 * lower-cased) name matches `match`.
 */
export interface Threshold {
  id: string;
  what: string;
  unit: string;
  kind: 'above' | 'below' | 'drift' | 'factor' | 'short';
  warn: number;
  crit: number;
  zeroCrit?: boolean;
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
  // Licel file headers (`licel.*`, ingest/records.ts): crit only at 0 (drift/short crit never reached).
  licelPmtVoltage: { id: 'licel_pmt_voltage', what: 'detector (PMT) high voltage of an active dataset in the Licel header, relative to its 24 h median; 0 V = detector off', unit: 'ratio', kind: 'drift', warn: 0.005, crit: Infinity, zeroCrit: true, match: /^licel\..+\.pmt_voltage_v$/ },
  licelLaserRate: { id: 'licel_laser_rate', what: 'laser repetition rate in the Licel header, relative to its 24 h median; 0 Hz = laser off', unit: 'ratio', kind: 'drift', warn: 0.01, crit: Infinity, zeroCrit: true, match: /^licel\.laser\d\.rate_hz$/ },
  licelShots: { id: 'licel_shots', what: 'shots per file (per laser and per dataset) in the Licel header, relative to its 24 h median (a short acquisition); 0 = no shot', unit: 'ratio', kind: 'short', warn: 0.9, crit: 0, zeroCrit: true, match: /^licel\..+\.shots$/ },
  channelSnr: { id: 'channel_snr', what: "a channel's SNR at the retrieval's reference (latest vertical profile)", unit: '', kind: 'below', warn: 10, crit: 3 },
  channelBackground: { id: 'channel_background', what: "a channel's background level (latest vertical profile) against its 24 h median, either way", unit: 'times', kind: 'factor', warn: 3, crit: 10 },
} as const satisfies Record<string, Threshold>;

/** The level of a value under a threshold (null/NaN: `missing`, default ok = not enough data). */
export function levelOf(th: Threshold, value: number | null, reference: number | null = null, missing: Level = 'ok'): Level {
  if (value === null || !Number.isFinite(value)) return missing;
  if (th.zeroCrit && value <= 0) return 'crit';
  if (th.kind === 'short') {
    if (reference === null || !Number.isFinite(reference) || reference <= 0) return 'ok';
    const r = value / reference;
    return r < th.crit ? 'crit' : r < th.warn ? 'warn' : 'ok';
  }
  if (th.kind === 'drift') {
    if (reference === null || !Number.isFinite(reference) || reference === 0) return 'ok';
    const d = Math.abs(value / reference - 1);
    return d > th.crit ? 'crit' : d > th.warn ? 'warn' : 'ok';
  }
  if (th.kind === 'factor') {
    if (reference === null || !Number.isFinite(reference) || reference <= 0) return 'ok';
    const f = value > 0 ? Math.max(value / reference, reference / value) : Infinity;
    return f > th.crit ? 'crit' : f > th.warn ? 'warn' : 'ok';
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

/**
 * The housekeeping rule for a /health field name, if any. `licel.*` fields (from the Licel file
 * headers) have their own rules; the header's temperature and pressure are outdoor weather, no rule.
 */
export function housekeepingRule(name: string): Threshold | null {
  const n = name.toLowerCase();
  if (n.startsWith('pipeline.')) return null;
  if (n.startsWith('licel.')) {
    for (const th of [THRESHOLDS.licelPmtVoltage, THRESHOLDS.licelLaserRate, THRESHOLDS.licelShots] as Threshold[]) if (th.match && th.match.test(n)) return th;
    return null;
  }
  for (const th of [THRESHOLDS.laserEnergy, THRESHOLDS.detectorHv, THRESHOLDS.temperature] as Threshold[]) if (th.match && th.match.test(n)) return th;
  return null;
}

/** Level of a housekeeping series' last value (drift rules against the series' median). */
export function levelHousekeeping(s: Pick<HealthSeries, 'name' | 'values' | 'last'>): Level {
  const th = housekeepingRule(s.name);
  if (!th) return 'ok';
  return levelOf(th, s.last, th.kind === 'drift' || th.kind === 'short' ? median(s.values) : null);
}

export type HousekeepingGroup = 'laser' | 'detectors' | 'met' | 'other';

/** The operator view's group of a /health field: the Licel header's laser, detector and weather fields, or the rest. */
export function housekeepingGroup(name: string): HousekeepingGroup {
  if (!name.startsWith('licel.')) return 'other';
  if (/^licel\.laser\d\./.test(name)) return 'laser';
  if (name === 'licel.temperature_c' || name === 'licel.pressure_hpa') return 'met';
  return 'detectors';
}

/** The unit a field name states by its suffix (`_v` V, `_hz` Hz, `shots`, `_bits`, `_c` °C, `_hpa` hPa), '' when none. */
export function housekeepingUnit(name: string): string {
  const n = name.toLowerCase();
  if (/(^|[._])shots$/.test(n)) return 'shots';
  for (const [suffix, unit] of [['_v', 'V'], ['_hz', 'Hz'], ['_bits', 'bits'], ['_c', '°C'], ['_hpa', 'hPa']] as const) if (n.endsWith(suffix)) return unit;
  return '';
}

/** A housekeeping value: integers as they are, others to 4 significant digits ("–" for none). */
export function formatHousekeeping(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '–';
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
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

/** One channel of GET /stations/{s}/channels/health (parallel arrays, oldest first; null = unknown). */
export interface ChannelHealthApi {
  channel: string;
  background_unit: string;
  profiles: number;
  times: string[];
  background: Array<number | null>;
  snr: Array<number | null>;
}

/** A finite series (NaN/null points left out), for a sparkline. */
export interface FiniteSeries {
  times: number[];
  values: number[];
}

/** What the operator's Channels panel shows of one channel. */
export interface ChannelRow {
  channel: string;
  unit: string;
  profiles: number;
  background: FiniteSeries;
  snr: FiniteSeries;
  /** Latest finite values and their times (ms); null when the window has none. */
  lastBackground: number | null;
  lastBackgroundMs: number | null;
  lastSnr: number | null;
  lastSnrMs: number | null;
  /** Median background of the window (the reference of the background rule). */
  medianBackground: number | null;
  levelBackground: Level;
  levelSnr: Level;
  level: Level;
}

function finiteSeries(times: readonly string[], values: ReadonlyArray<number | null>): FiniteSeries {
  const out: FiniteSeries = { times: [], values: [] };
  for (let i = 0; i < times.length; i++) {
    const t = Date.parse(times[i]);
    const v = values[i];
    if (Number.isFinite(t) && typeof v === 'number' && Number.isFinite(v)) {
      out.times.push(t);
      out.values.push(v);
    }
  }
  return out;
}

/** Level of a channel's latest background against the median of its window (THRESHOLDS.channelBackground). */
export const levelChannelBackground = (last: number | null, median24h: number | null): Level => levelOf(THRESHOLDS.channelBackground, last, median24h);
/** Level of a channel's latest reference SNR (THRESHOLDS.channelSnr); unknown is ok. */
export const levelChannelSnr = (snr: number | null): Level => levelOf(THRESHOLDS.channelSnr, snr);

/** The Channels panel rows: latest values, 24 h series and levels per channel, sorted by channel. */
export function channelRows(channels: readonly ChannelHealthApi[]): ChannelRow[] {
  return [...channels]
    .sort((a, b) => a.channel.localeCompare(b.channel))
    .map((c) => {
      const background = finiteSeries(c.times, c.background);
      const snr = finiteSeries(c.times, c.snr);
      const nb = background.values.length;
      const ns = snr.values.length;
      const lastBackground = nb > 0 ? background.values[nb - 1] : null;
      const lastSnr = ns > 0 ? snr.values[ns - 1] : null;
      const medianBackground = median(background.values);
      const levelBackground = levelChannelBackground(lastBackground, medianBackground);
      const levelSnr = levelChannelSnr(lastSnr);
      return {
        channel: c.channel,
        unit: c.background_unit,
        profiles: c.profiles,
        background,
        snr,
        lastBackground,
        lastBackgroundMs: nb > 0 ? background.times[nb - 1] : null,
        lastSnr,
        lastSnrMs: ns > 0 ? snr.times[ns - 1] : null,
        medianBackground,
        levelBackground,
        levelSnr,
        level: worst(levelBackground, levelSnr),
      };
    });
}

/** A number for the panel: 3 significant digits, exponent outside 0.01..1e5, "–" for none. */
export function formatValue(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '–';
  if (v !== 0 && (Math.abs(v) >= 1e5 || Math.abs(v) < 0.01)) return v.toExponential(2);
  return String(Number(v.toPrecision(3)));
}
