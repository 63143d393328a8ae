/**
 * Checks of what the embedded store is given, before anything reaches SQLite. Every rejection is a
 * LIDAR_ERR_BAD_VALUE naming the field (e.g. `profiles[3].arrays.pm10`). Nothing here is adapter
 * specific except the size limits; the InfluxDB adapter may reuse it.
 */
import { LidarError } from '../../processing/errors.js';
import {
  PROFILE_ARRAY_NAMES,
  type CellRecord,
  type CellQuery,
  type HealthQuery,
  type HealthRecord,
  type ParamSetRecord,
  type ProfileArrayName,
  type ProfileQuery,
  type ProfileRecord,
} from '../port.js';

/** Longest identifier (station, channel, cell, district, paramsId, health field name). */
export const MAX_ID_CHARS = 256;
/** Longest free text (file name, health string value, parameter-set name). */
export const MAX_TEXT_CHARS = 65_536;
/** Longest parameter-set JSON. */
export const MAX_JSON_CHARS = 4_000_000;
/** Most bins per profile (Licel records have at most 16380). */
export const MAX_BINS = 65_536;
/** Most rows one read may return, and most ids/cells one request may name. */
export const MAX_LIMIT = 1_000_000;
export const MAX_IDS = 100_000;
/** Earliest and latest accepted times: 1970-01-01 and 2200-01-01 (ms UTC). */
export const MIN_TIME_MS = 0;
export const MAX_TIME_MS = 7_258_118_400_000;

const ARRAY_NAMES = new Set<string>(PROFILE_ARRAY_NAMES);
const CONTROL = /[\u0000-\u001f\u007f]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function bad(field: string, detail: string): never {
  throw new LidarError('LIDAR_ERR_BAD_VALUE', detail, { field });
}

/** An identifier: non-empty (unless allowEmpty), well-formed Unicode, no control characters. */
export function checkId(v: unknown, field: string, allowEmpty = false): string {
  if (typeof v !== 'string') bad(field, `expected a string, got ${typeof v}`);
  if (v.length === 0 && !allowEmpty) bad(field, 'must not be empty');
  if (v.length > MAX_ID_CHARS) bad(field, `longer than ${MAX_ID_CHARS} characters (${v.length})`);
  if (LONE_SURROGATE.test(v)) bad(field, 'is not well-formed Unicode (lone surrogate)');
  if (CONTROL.test(v)) bad(field, `contains a control character: ${JSON.stringify(v)}`);
  return v;
}

/** Free text: well-formed Unicode (quotes, commas, newlines and any other character allowed). */
export function checkText(v: unknown, field: string, max = MAX_TEXT_CHARS): string {
  if (typeof v !== 'string') bad(field, `expected a string, got ${typeof v}`);
  if (v.length > max) bad(field, `longer than ${max} characters (${v.length})`);
  if (LONE_SURROGATE.test(v)) bad(field, 'is not well-formed Unicode (lone surrogate)');
  return v;
}

export function checkTime(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < MIN_TIME_MS || v > MAX_TIME_MS) {
    bad(field, `expected an integer time in ms UTC between ${MIN_TIME_MS} and ${MAX_TIME_MS}, got ${String(v)}`);
  }
  return v;
}

/** A number; NaN and +-Infinity are "missing" (stored as NULL, read back as NaN). */
export function checkNumber(v: unknown, field: string): number | null {
  if (typeof v !== 'number') bad(field, `expected a number, got ${typeof v}`);
  return Number.isFinite(v) ? v : null;
}

export function checkCount(v: unknown, field: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) bad(field, `expected an integer 0..${max}, got ${String(v)}`);
  return v;
}

export function checkWindow(fromMs: unknown, toMs: unknown): void {
  if (typeof fromMs !== 'number' || !Number.isFinite(fromMs)) bad('fromMs', `expected a finite time in ms, got ${String(fromMs)}`);
  if (typeof toMs !== 'number' || !Number.isFinite(toMs)) bad('toMs', `expected a finite time in ms, got ${String(toMs)}`);
  if (toMs < fromMs) bad('toMs', `window ends (${toMs}) before it starts (${fromMs})`);
}

export function checkLimit(v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_LIMIT) bad('limit', `expected an integer 1..${MAX_LIMIT}, got ${String(v)}`);
  return v;
}

export function checkOrder(v: unknown): 'asc' | 'desc' {
  if (v === undefined) return 'asc';
  if (v !== 'asc' && v !== 'desc') bad('order', `expected "asc" or "desc", got ${JSON.stringify(v)}`);
  return v;
}

export function checkArrayNames(v: unknown): ProfileArrayName[] {
  if (v === undefined) return [...PROFILE_ARRAY_NAMES];
  if (!Array.isArray(v)) bad('arrays', 'expected a list of array names');
  for (const n of v) if (typeof n !== 'string' || !ARRAY_NAMES.has(n)) bad('arrays', `unknown array name ${JSON.stringify(n)} (known: ${PROFILE_ARRAY_NAMES.join(', ')})`);
  return [...new Set(v as ProfileArrayName[])];
}

/** Validates one profile record in place (throws on the first bad field). */
export function checkProfile(p: ProfileRecord, at: string): void {
  if (typeof p !== 'object' || p === null) bad(at, 'expected a profile record');
  checkId(p.station, `${at}.station`);
  checkId(p.channel, `${at}.channel`);
  checkTime(p.timeMs, `${at}.timeMs`);
  if (p.mode !== 'vertical' && p.mode !== 'scan') bad(`${at}.mode`, `expected "vertical" or "scan", got ${JSON.stringify(p.mode)}`);
  for (const k of ['timeEndMs', 'azimuthDeg', 'elevationDeg', 'rangeStartM', 'rangeStepM', 'pblHeightM', 'pblQuality', 'cloudBaseM', 'aod', 'snr', 'lidarConstant', 'validBins', 'receivedMs'] as const) {
    checkNumber(p[k], `${at}.${k}`);
  }
  if (p.background !== undefined) checkNumber(p.background, `${at}.background`);
  checkCount(p.bins, `${at}.bins`, MAX_BINS);
  checkText(p.file, `${at}.file`, 4096);
  checkId(p.paramsId, `${at}.paramsId`, true);
  if (!Array.isArray(p.qcCounts) || p.qcCounts.length > 64) bad(`${at}.qcCounts`, 'expected a list of at most 64 numbers');
  p.qcCounts.forEach((v, i) => checkNumber(v, `${at}.qcCounts[${i}]`));
  if (typeof p.arrays !== 'object' || p.arrays === null) bad(`${at}.arrays`, 'expected an object of typed arrays');
  for (const [name, a] of Object.entries(p.arrays)) {
    const field = `${at}.arrays.${name}`;
    if (a === undefined) continue;
    if (!ARRAY_NAMES.has(name)) bad(field, `unknown array name (known: ${PROFILE_ARRAY_NAMES.join(', ')})`);
    if (name === 'qc' ? !(a instanceof Uint8Array) : !(a instanceof Float32Array)) bad(field, `expected a ${name === 'qc' ? 'Uint8Array' : 'Float32Array'}`);
    if (a.length !== p.bins) bad(field, `has ${a.length} values but the profile has ${p.bins} bins`);
  }
}

export function checkCell(c: CellRecord, at: string): void {
  if (typeof c !== 'object' || c === null) bad(at, 'expected a cell record');
  checkId(c.station, `${at}.station`);
  checkId(c.channel, `${at}.channel`);
  checkId(c.cell, `${at}.cell`);
  checkId(c.district, `${at}.district`, true);
  checkTime(c.timeMs, `${at}.timeMs`);
  checkCount(c.n, `${at}.n`);
  checkNumber(c.pm10Sum, `${at}.pm10Sum`);
  checkNumber(c.pm25Sum, `${at}.pm25Sum`);
  checkNumber(c.alphaSum, `${at}.alphaSum`);
}

export function checkHealth(h: HealthRecord, at: string): void {
  if (typeof h !== 'object' || h === null) bad(at, 'expected a health record');
  checkId(h.station, `${at}.station`);
  checkTime(h.timeMs, `${at}.timeMs`);
  if (typeof h.values !== 'object' || h.values === null || Array.isArray(h.values)) bad(`${at}.values`, 'expected an object of named values');
  for (const [k, v] of Object.entries(h.values)) {
    checkId(k, `${at}.values (name ${JSON.stringify(k)})`);
    const field = `${at}.values.${k}`;
    if (typeof v === 'string') checkText(v, field);
    else if (typeof v !== 'number' && typeof v !== 'boolean') bad(field, `expected a number, string or boolean, got ${v === null ? 'null' : typeof v}`);
  }
}

export function checkParamSet(p: ParamSetRecord): void {
  if (typeof p !== 'object' || p === null) bad('paramSet', 'expected a parameter-set record');
  checkId(p.id, 'paramSet.id');
  checkText(p.json, 'paramSet.json', MAX_JSON_CHARS);
  checkText(p.name, 'paramSet.name', MAX_ID_CHARS);
  checkTime(p.createdMs, 'paramSet.createdMs');
}

export function checkProfileQuery(q: ProfileQuery): void {
  checkId(q.station, 'station');
  if (q.channel !== undefined) checkId(q.channel, 'channel');
  if (q.mode !== undefined && q.mode !== 'vertical' && q.mode !== 'scan') bad('mode', `expected "vertical" or "scan", got ${JSON.stringify(q.mode)}`);
  checkWindow(q.fromMs, q.toMs);
}

export function checkCellQuery(q: CellQuery): void {
  checkId(q.station, 'station');
  checkId(q.channel, 'channel');
  checkWindow(q.fromMs, q.toMs);
  if (q.groupBy !== 'cell' && q.groupBy !== 'district' && q.groupBy !== 'station') bad('groupBy', `expected "cell", "district" or "station", got ${JSON.stringify(q.groupBy)}`);
  if (q.bucket !== undefined && q.bucket !== null && q.bucket !== '1h' && q.bucket !== '1d') bad('bucket', `expected "1h", "1d" or null, got ${JSON.stringify(q.bucket)}`);
  if (q.cells !== undefined) {
    if (!Array.isArray(q.cells) || q.cells.length > MAX_IDS) bad('cells', `expected a list of at most ${MAX_IDS} cell ids`);
    q.cells.forEach((c, i) => checkId(c, `cells[${i}]`));
  }
  if (q.district !== undefined) checkId(q.district, 'district', true);
}

export function checkHealthQuery(q: HealthQuery): void {
  checkId(q.station, 'station');
  checkWindow(q.fromMs, q.toMs);
  if (q.fields !== undefined) {
    if (!Array.isArray(q.fields) || q.fields.length > 10_000) bad('fields', 'expected a list of at most 10000 names');
    q.fields.forEach((f, i) => checkId(f, `fields[${i}]`));
  }
}
