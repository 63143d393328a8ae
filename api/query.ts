/**
 * Parsing and checking of query values the JSON schemas cannot express: times (ISO 8601 with a zone,
 * a date, or integer ms), bounded windows, series targets, stations. Errors are HttpErrors naming the
 * query parameter.
 */
import { cellId, parseCellId } from '../processing/geometry/grid.js';
import type { StationConfig } from '../processing/station.js';
import type { SeriesTarget } from '../store/result-store.js';
import type { ApiContext } from './context.js';
import { badRequest, notFound } from './errors.js';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/** Times the API accepts: 1970 .. 2200. */
const MIN_TIME_MS = 0;
const MAX_TIME_MS = Date.UTC(2200, 0, 1);

const MS_RE = /^-?\d{1,16}$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})$/;

export function nowOf(ctx: ApiContext): number {
  return ctx.now ? ctx.now() : Date.now();
}

/**
 * A time query value: integer ms since the epoch, an ISO 8601 date-time with 'Z' or an offset
 * ("2018-01-19T16:00:00Z", "2018-01-19T18:00+02:00"), or a date ("2018-01-19" = 00:00 UTC).
 */
export function parseTime(value: string, field: string): number {
  let ms: number;
  if (MS_RE.test(value)) ms = Number(value);
  else if (DATE_RE.test(value) || DATETIME_RE.test(value)) {
    ms = Date.parse(DATE_RE.test(value) ? `${value}T00:00:00Z` : value);
    const m = DATETIME_RE.exec(value) ?? DATE_RE.exec(value)!;
    const [month, day] = [Number(m[2]), Number(m[3])];
    if (month < 1 || month > 12 || day < 1 || day > 31) ms = NaN;
  } else {
    throw badRequest(field, `invalid ${field}: ${JSON.stringify(value.slice(0, 40))} (expected ISO 8601 with a zone, e.g. 2018-01-19T16:00:00Z, a date YYYY-MM-DD, or ms since 1970)`);
  }
  if (!Number.isFinite(ms) || ms < MIN_TIME_MS || ms > MAX_TIME_MS) throw badRequest(field, `invalid ${field}: ${JSON.stringify(value.slice(0, 40))} (not a time between 1970 and 2200)`);
  return ms;
}

export interface Window {
  fromMs: number;
  toMs: number;
}

/**
 * [from, to) from optional query values: `to` defaults to now rounded up to the next minute (so
 * repeated requests share a cache entry), `from` to `to - defaultMs`. At most `maxMs` long.
 */
export function parseWindow(q: { from?: string; to?: string }, nowMs: number, defaultMs: number, maxMs: number): Window {
  const toMs = q.to !== undefined ? parseTime(q.to, 'to') : Math.ceil(nowMs / MINUTE_MS) * MINUTE_MS;
  const fromMs = q.from !== undefined ? parseTime(q.from, 'from') : toMs - defaultMs;
  if (!(toMs > fromMs)) throw badRequest('to', `invalid to: must be after from (${new Date(fromMs).toISOString()})`);
  if (toMs - fromMs > maxMs) throw badRequest('to', `window from..to is ${describeMs(toMs - fromMs)}, longer than the allowed ${describeMs(maxMs)}`);
  return { fromMs, toMs };
}

export function describeMs(ms: number): string {
  if (ms % DAY_MS === 0) return `${ms / DAY_MS} d`;
  if (ms % HOUR_MS === 0) return `${ms / HOUR_MS} h`;
  if (ms % MINUTE_MS === 0) return `${ms / MINUTE_MS} min`;
  return `${ms} ms`;
}

export function iso(ms: number): string | null {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/** The station's configuration, or 404 naming the configured ones. */
export function stationOf(ctx: ApiContext, id: string): StationConfig {
  const s = Object.prototype.hasOwnProperty.call(ctx.stations, id) ? ctx.stations[id] : undefined;
  if (!s) throw notFound('station', `unknown station ${JSON.stringify(id)} (configured: ${Object.keys(ctx.stations).join(', ') || 'none'})`);
  return s;
}

export interface ResolvedTarget {
  target: SeriesTarget;
  kind: 'cell' | 'district' | 'point' | 'aq' | 'station';
  /** The raw target string. */
  spec: string;
  /** The grid cell (cell, point and aq targets). */
  cell: string | null;
  district: string | null;
  /** What the target names, for people. */
  label: string;
}

function checkCell(ctx: ApiContext, id: string, field: string): string {
  const g = parseCellId(id);
  if (!g) throw badRequest(field, `invalid cell id ${JSON.stringify(id.slice(0, 40))} (expected e.g. "${ctx.map.cellSizeM}mE11058N4431")`);
  if (g.sizeM !== ctx.map.cellSizeM) throw notFound(field, `cell ${id} is not on this map's ${ctx.map.cellSizeM} m grid`);
  return id;
}

/**
 * `cell:<id>`, `district:<code>`, `point:<lat>,<lon>`, `aq:<EoI code>` or `station`. Points and AQ
 * stations resolve to the grid cell containing them.
 */
export function parseTarget(ctx: ApiContext, spec: string): ResolvedTarget {
  const field = 'target';
  if (spec === 'station') return { target: { station: true }, kind: 'station', spec, cell: null, district: null, label: 'the whole station' };
  const colon = spec.indexOf(':');
  const kind = colon > 0 ? spec.slice(0, colon) : '';
  const arg = spec.slice(colon + 1);
  switch (kind) {
    case 'cell': {
      const id = checkCell(ctx, arg, field);
      return { target: { cell: id }, kind: 'cell', spec, cell: id, district: null, label: `cell ${id}` };
    }
    case 'district': {
      const d = ctx.districts.find((x) => x.code === arg);
      if (!d) throw notFound(field, `unknown district ${JSON.stringify(arg.slice(0, 40))} (known: ${ctx.districts.map((x) => x.code).join(', ')})`);
      return { target: { district: d.code }, kind: 'district', spec, cell: null, district: d.code, label: `district ${d.code} ${d.nameEn}` };
    }
    case 'point': {
      const m = /^(-?\d{1,3}(?:\.\d{1,12})?),(-?\d{1,3}(?:\.\d{1,12})?)$/.exec(arg);
      const lat = m ? Number(m[1]) : NaN;
      const lon = m ? Number(m[2]) : NaN;
      if (!(lat >= -90 && lat <= 90) || !(lon >= -180 && lon <= 180)) throw badRequest(field, `invalid point ${JSON.stringify(arg.slice(0, 40))} (expected point:<lat>,<lon> in degrees, e.g. point:42.6977,23.3219)`);
      const id = cellId(lat, lon, ctx.map.cellSizeM);
      return { target: { cell: id }, kind: 'point', spec, cell: id, district: null, label: `point ${lat}, ${lon} (cell ${id})` };
    }
    case 'aq': {
      const s = ctx.aqStations.find((x) => x.id === arg);
      if (!s) throw notFound(field, `unknown AQ station ${JSON.stringify(arg.slice(0, 40))} (known: ${ctx.aqStations.map((x) => x.id).join(', ')})`);
      const id = cellId(s.lat, s.lon, ctx.map.cellSizeM);
      return { target: { cell: id }, kind: 'aq', spec, cell: id, district: null, label: `AQ station ${s.id} ${s.name_en} (cell ${id})` };
    }
    default:
      throw badRequest(field, `invalid target ${JSON.stringify(spec.slice(0, 40))} (expected cell:<id>, district:<code>, point:<lat>,<lon>, aq:<EoI code> or station)`);
  }
}

/** Unit of a product. */
export function unitOf(product: string): string {
  const base = product.replace(/_sigma$/, '');
  switch (base) {
    case 'pm10':
    case 'pm25':
      return 'ug/m3';
    case 'alpha_aer':
      return '1/m';
    case 'beta_aer':
      return '1/(m sr)';
    case 'height_m':
      return 'm a.s.l.';
    case 'rcs':
      return 'a.u. (range-corrected signal)';
    default:
      return '';
  }
}
