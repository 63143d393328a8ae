/**
 * The InfluxDB schema of the store (documented in docs/storage.md ("InfluxDB adapter")): measurement, tag and field
 * names, and the encoding of port records into line protocol and back from /query rows.
 *
 *   profile  (rp raw)  tags station, channel, mode            one point per profile at timeMs
 *   cell     (rp raw)  tags station, channel, cell, district  one point per profile x cell at timeMs
 *   cell_1h  (rp long) same tags; sums per UTC hour          maintained by the adapter (rollup.ts)
 *   cell_1d  (rp long) same tags; sums per UTC day           maintained by the adapter (rollup.ts)
 *   district_1h, district_1d (rp long) tags station, channel, district; sums of the cell roll-ups
 *   health   (rp raw)  tag station                           one point per health record
 *   param_set(rp long) tag id                                one point per parameter set at time 0
 *   aq_hour  (rp long) tag aq_station                        one point per official AQ-station hour (kept forever)
 *
 * Idempotency: a point is identified by measurement + tag set + time, so rewriting a record with the
 * same key overwrites it. InfluxDB merges fields on overwrite (a field not in the new point keeps its
 * old value), so profile and parameter-set points carry the list of what they hold: `nan` (numeric
 * fields that are NaN), `arrays` (array names with lengths), `json_len` (parameter JSON length);
 * readers believe those lists, not leftover fields. Health records merge on rewrite instead (see
 * healthLine).
 */
import { PROFILE_ARRAY_NAMES, profileId, type AqHourRecord, type CellRecord, type HealthRecord, type ParamSetRecord, type ProfileArrayName, type ProfileArrays, type ProfileMeta, type ProfileMode, type ProfileRecord } from '../port.js';
import { LidarError } from '../../processing/errors.js';
import { checkName, checkNumber, checkText, checkTime, LineBuilder } from './line-protocol.js';

export const MEASUREMENTS = {
  profile: 'profile',
  cell: 'cell',
  cell1h: 'cell_1h',
  cell1d: 'cell_1d',
  district1h: 'district_1h',
  district1d: 'district_1d',
  health: 'health',
  paramSet: 'param_set',
  aqHour: 'aq_hour',
} as const;

/** Retention policy names: raw products (rawRetention, default policy) and roll-ups/parameter sets (INF). */
export const RP_RAW = 'raw';
export const RP_LONG = 'long';
export type RetentionName = typeof RP_RAW | typeof RP_LONG;

/** Base64 characters per string field: below InfluxDB 1.x's 64 KiB string limit, a multiple of 4. */
export const CHUNK_CHARS = 60_000;

/** Numeric profile metadata: port name -> field name. */
export const PROFILE_NUMBER_FIELDS = [
  ['timeEndMs', 'time_end_ms'],
  ['azimuthDeg', 'azimuth_deg'],
  ['elevationDeg', 'elevation_deg'],
  ['rangeStartM', 'range_start_m'],
  ['rangeStepM', 'range_step_m'],
  ['bins', 'bins'],
  ['pblHeightM', 'pbl_height_m'],
  ['pblQuality', 'pbl_quality'],
  ['cloudBaseM', 'cloud_base_m'],
  ['aod', 'aod'],
  ['snr', 'snr'],
  ['lidarConstant', 'lidar_constant'],
  ['validBins', 'valid_bins'],
  ['receivedMs', 'received_ms'],
  ['background', 'background'],
] as const satisfies ReadonlyArray<readonly [keyof ProfileMeta, string]>;

/** Every profile field except the array chunks (what profiles() selects). */
export const PROFILE_META_FIELDS: readonly string[] = [...PROFILE_NUMBER_FIELDS.map(([, f]) => f), 'file', 'params_id', 'qc_counts', 'nan', 'arrays'];

export const CELL_FIELDS = ['n', 'pm10_sum', 'pm25_sum', 'alpha_sum'] as const;

/** Health value field prefixes by type (InfluxDB fixes a field's type per shard). */
export const HEALTH_PREFIX = { number: 'n:', string: 's:', boolean: 'b:' } as const;
/** Always written with a health record (true), so it exists even when every value is missing. */
export const HEALTH_SEEN_FIELD = 'seen';

export function chunkFieldName(array: ProfileArrayName, k: number): string {
  return `a_${array}_${k}`;
}

function chunkCount(chars: number): number {
  return Math.ceil(chars / CHUNK_CHARS);
}

function base64Chars(bytes: number): number {
  return Math.ceil(bytes / 3) * 4;
}

function isLittleEndian(): boolean {
  return new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
}
const LITTLE_ENDIAN = isLittleEndian();

/** Array bytes as stored: Float32 little-endian (as processing/encoding/base64.ts), qc as bytes. */
function arrayBytes(values: Float32Array | Uint8Array): Buffer {
  const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  if (values instanceof Float32Array && !LITTLE_ENDIAN) {
    const copy = Buffer.from(bytes);
    copy.swap32();
    return copy;
  }
  return bytes;
}

function check(condition: boolean, field: string, detail: string): void {
  if (!condition) throw new LidarError('LIDAR_ERR_BAD_VALUE', detail, { field });
}

function checkMode(mode: unknown, field: string): ProfileMode {
  if (mode !== 'vertical' && mode !== 'scan') throw new LidarError('LIDAR_ERR_BAD_VALUE', `mode must be 'vertical' or 'scan', got ${JSON.stringify(mode)}`, { field });
  return mode;
}

/** One profile as one line (raw RP). `at` names the record in errors, e.g. "profiles[3]". */
export function profileLine(p: ProfileRecord, at: string): string {
  check(typeof p === 'object' && p !== null, at, 'a profile record must be an object');
  const station = checkName(p.station, `${at}.station`);
  const channel = checkName(p.channel, `${at}.channel`);
  const mode = checkMode(p.mode, `${at}.mode`);
  const timeMs = checkTime(p.timeMs, `${at}.timeMs`);
  if (p.id !== undefined && p.id !== profileId(station, channel, timeMs)) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `id ${JSON.stringify(p.id)} does not match station:channel:timeMs ${JSON.stringify(profileId(station, channel, timeMs))}`, { field: `${at}.id` });
  }
  const b = new LineBuilder(MEASUREMENTS.profile).tag('station', station).tag('channel', channel).tag('mode', mode);
  const nan: string[] = [];
  for (const [key, field] of PROFILE_NUMBER_FIELDS) {
    // background is optional on write (absent = NaN, like a point written before the field existed).
    const v = checkNumber(key === 'background' ? (p.background ?? NaN) : p[key], `${at}.${key}`);
    if (Number.isNaN(v)) nan.push(field);
    b.float(field, v);
  }
  b.string('file', checkText(p.file, `${at}.file`));
  b.string('params_id', checkText(p.paramsId, `${at}.paramsId`));
  check(Array.isArray(p.qcCounts), `${at}.qcCounts`, 'qcCounts must be an array of numbers');
  b.string('qc_counts', p.qcCounts.map((c, i) => String(checkNumber(c, `${at}.qcCounts[${i}]`))).join(','));
  b.string('nan', nan.join(','));
  const arrays = p.arrays ?? {};
  check(typeof arrays === 'object' && arrays !== null, `${at}.arrays`, 'arrays must be an object');
  const present: string[] = [];
  for (const name of Object.keys(arrays)) {
    check((PROFILE_ARRAY_NAMES as readonly string[]).includes(name), `${at}.arrays.${name}`, `unknown array name ${JSON.stringify(name)} (known: ${PROFILE_ARRAY_NAMES.join(', ')})`);
  }
  for (const name of PROFILE_ARRAY_NAMES) {
    const values = (arrays as Record<string, unknown>)[name];
    if (values === undefined) continue;
    const ok = name === 'qc' ? values instanceof Uint8Array : values instanceof Float32Array;
    check(ok, `${at}.arrays.${name}`, `array ${name} must be a ${name === 'qc' ? 'Uint8Array' : 'Float32Array'}`);
    const typed = values as Float32Array | Uint8Array;
    const text = arrayBytes(typed).toString('base64');
    for (let k = 0; k * CHUNK_CHARS < text.length; k++) b.base64(chunkFieldName(name, k), text.slice(k * CHUNK_CHARS, (k + 1) * CHUNK_CHARS));
    present.push(`${name}:${typed.length}`);
  }
  b.string('arrays', present.join(','));
  return b.line(timeMs);
}

/** One cell contribution as one line (raw RP). */
export function cellLine(c: CellRecord, at: string): string {
  check(typeof c === 'object' && c !== null, at, 'a cell record must be an object');
  const b = new LineBuilder(MEASUREMENTS.cell)
    .tag('station', checkName(c.station, `${at}.station`))
    .tag('channel', checkName(c.channel, `${at}.channel`))
    .tag('cell', checkName(c.cell, `${at}.cell`))
    .tag('district', checkName(c.district, `${at}.district`, true));
  const n = checkNumber(c.n, `${at}.n`);
  check(Number.isFinite(n) && n >= 0, `${at}.n`, `n (bins summed) must be a finite count >= 0, got ${n}`);
  b.float('n', n);
  b.float('pm10_sum', checkNumber(c.pm10Sum, `${at}.pm10Sum`));
  b.float('pm25_sum', checkNumber(c.pm25Sum, `${at}.pm25Sum`));
  b.float('alpha_sum', checkNumber(c.alphaSum, `${at}.alphaSum`));
  return b.line(checkTime(c.timeMs, `${at}.timeMs`));
}

/**
 * One health record as one line (raw RP): each value in a field named by its type (`n:name` float,
 * `s:name` string, `b:name` boolean) so a name may change type without a field type conflict, plus
 * `seen=true` so a record whose values are all missing still exists. NaN and +/-Infinity numbers are
 * left out. Rewriting the same (station, time) merges values, as InfluxDB does: names written again
 * take the new value, the others keep theirs (the store contract's health semantics).
 */
export function healthLine(h: HealthRecord, at: string): string {
  check(typeof h === 'object' && h !== null, at, 'a health record must be an object');
  const b = new LineBuilder(MEASUREMENTS.health).tag('station', checkName(h.station, `${at}.station`));
  check(typeof h.values === 'object' && h.values !== null, `${at}.values`, 'values must be an object');
  for (const [name, value] of Object.entries(h.values)) {
    const field = `${at}.values.${name}`;
    checkName(name, field);
    if (typeof value === 'number') b.float(HEALTH_PREFIX.number + name, checkNumber(value, field));
    else if (typeof value === 'string') b.string(HEALTH_PREFIX.string + name, checkText(value, field));
    else if (typeof value === 'boolean') b.bool(HEALTH_PREFIX.boolean + name, value);
    else throw new LidarError('LIDAR_ERR_BAD_VALUE', `a health value must be a number, string or boolean, got ${value === null ? 'null' : typeof value}`, { field });
  }
  b.bool(HEALTH_SEEN_FIELD, true);
  return b.line(checkTime(h.timeMs, `${at}.timeMs`));
}

/** Parameter sets live at time 0 in the long RP, so the id alone is the key. */
export const PARAM_SET_TIME_MS = 0;

export function paramSetLine(p: ParamSetRecord): string {
  check(typeof p === 'object' && p !== null, 'paramSet', 'a parameter set must be an object');
  const b = new LineBuilder(MEASUREMENTS.paramSet).tag('id', checkName(p.id, 'paramSet.id'));
  const json = checkText(p.json, 'paramSet.json');
  b.string('name', checkText(p.name, 'paramSet.name'));
  const created = checkNumber(p.createdMs, 'paramSet.createdMs');
  b.float('created_ms', created);
  b.float('json_len', json.length);
  for (let k = 0; k * CHUNK_CHARS < json.length; k++) b.string(`json_${k}`, json.slice(k * CHUNK_CHARS, (k + 1) * CHUNK_CHARS));
  return b.line(PARAM_SET_TIME_MS);
}

/**
 * One official AQ-station hour (long RP). `have` lists the PM fields present ("pm10,pm25", "pm10",
 * ""): InfluxDB keeps a field left out of a rewrite, so readers believe `have`, not leftovers.
 */
export function aqHourLine(r: AqHourRecord): string {
  const b = new LineBuilder(MEASUREMENTS.aqHour).tag('aq_station', checkName(r.aqStation, 'aq.aqStation'));
  const have: string[] = [];
  if (Number.isFinite(r.pm10)) {
    b.float('pm10', r.pm10);
    have.push('pm10');
  }
  if (Number.isFinite(r.pm25)) {
    b.float('pm25', r.pm25);
    have.push('pm25');
  }
  b.string('have', have.join(','));
  b.string('source', checkText(r.source, 'aq.source'));
  return b.line(checkTime(r.timeMs, 'aq.timeMs'));
}

export function aqHourFromRow(row: Row, aqStation: string): AqHourRecord {
  const have = new Set(text(row, 'have').split(','));
  return {
    aqStation,
    timeMs: row.time as number,
    pm10: have.has('pm10') ? num(row, 'pm10') : NaN,
    pm25: have.has('pm25') ? num(row, 'pm25') : NaN,
    source: text(row, 'source'),
  };
}

// ---- reading back ----

export type Row = Record<string, unknown>;

function num(row: Row, field: string): number {
  const v = row[field];
  return typeof v === 'number' ? v : NaN;
}

function text(row: Row, field: string): string {
  const v = row[field];
  return typeof v === 'string' ? v : '';
}

/** ProfileMeta from a row holding `time`, `channel`, `mode` and the meta fields. */
export function profileMetaFromRow(row: Row, station: string): ProfileMeta {
  const channel = text(row, 'channel');
  const timeMs = num(row, 'time');
  const nan = new Set(text(row, 'nan').split(',').filter((s) => s.length > 0));
  const meta = {
    id: profileId(station, channel, timeMs),
    station,
    channel,
    mode: (text(row, 'mode') === 'vertical' ? 'vertical' : 'scan') as ProfileMode,
    timeMs,
    file: text(row, 'file'),
    paramsId: text(row, 'params_id'),
    qcCounts: text(row, 'qc_counts').length > 0 ? text(row, 'qc_counts').split(',').map(Number) : [],
  } as ProfileMeta;
  for (const [key, field] of PROFILE_NUMBER_FIELDS) meta[key] = nan.has(field) ? NaN : num(row, field);
  return meta;
}

/** The arrays listed in the row's `arrays` field, limited to `wanted` (all when undefined). */
export function profileArraysFromRow(row: Row, wanted?: readonly ProfileArrayName[], where = 'profile'): ProfileArrays {
  const out: ProfileArrays = {};
  for (const entry of text(row, 'arrays').split(',')) {
    if (entry.length === 0) continue;
    const [name, lengthText] = entry.split(':') as [ProfileArrayName, string];
    if (wanted !== undefined && !wanted.includes(name)) continue;
    const length = Number(lengthText);
    const elementBytes = name === 'qc' ? 1 : 4;
    const chars = base64Chars(length * elementBytes);
    let b64 = '';
    for (let k = 0; k < chunkCount(chars); k++) b64 += text(row, chunkFieldName(name, k));
    if (b64.length !== chars) throw new LidarError('LIDAR_ERR_IO', `stored array ${name} of ${where} has ${b64.length} base64 characters, expected ${chars}`, { field: name });
    const bytes = Buffer.from(b64, 'base64');
    if (name === 'qc') {
      out.qc = new Uint8Array(bytes);
    } else {
      const copy = new Uint8Array(length * 4);
      copy.set(bytes.subarray(0, length * 4));
      if (!LITTLE_ENDIAN) Buffer.from(copy.buffer).swap32();
      out[name] = new Float32Array(copy.buffer);
    }
  }
  return out;
}

/**
 * Health values from a row of typed fields (`n:`, `s:`, `b:`); `names` limits them (all when
 * undefined). If one name holds values of two types at the same time (rewritten with another type),
 * the number wins over the string over the boolean.
 */
export function healthValuesFromRow(row: Row, names?: readonly string[]): Record<string, number | string | boolean> {
  const values: Record<string, number | string | boolean> = {};
  for (const [prefix, type] of [
    [HEALTH_PREFIX.boolean, 'boolean'],
    [HEALTH_PREFIX.string, 'string'],
    [HEALTH_PREFIX.number, 'number'],
  ] as const) {
    for (const [column, v] of Object.entries(row)) {
      if (!column.startsWith(prefix) || typeof v !== type) continue;
      const name = column.slice(prefix.length);
      if (names !== undefined && !names.includes(name)) continue;
      values[name] = v as number | string | boolean;
    }
  }
  return values;
}

export function paramSetFromRow(row: Row): ParamSetRecord | null {
  const id = text(row, 'id');
  const length = num(row, 'json_len');
  if (id.length === 0 || !Number.isFinite(length)) return null;
  let json = '';
  for (let k = 0; k < chunkCount(length); k++) json += text(row, `json_${k}`);
  return { id, json: json.slice(0, length), name: text(row, 'name'), createdMs: num(row, 'created_ms') };
}
