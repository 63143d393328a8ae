/**
 * A tiny InfluxQL builder: queries are `InfluxQL` values made by the `iql` template tag, whose
 * interpolations must themselves be `InfluxQL` fragments (quoted identifiers, quoted string literals,
 * checked integers and times, or other fragments). Unchecked input therefore cannot be pasted into a
 * query: the type checker refuses a plain string inside `iql`.
 *
 * Quoting follows InfluxQL's scanner (influxql/scanner.go ScanString): inside '...' and "..." the
 * escapes \\ \' \" \n are understood and a raw newline is an error, so backslash, both quotes and
 * newline are escaped. NUL (the scanner's end-of-input rune) and carriage return (read as a newline)
 * have no escape: text holding them is refused (tests/security.test.ts checks this against influxd).
 * Everything else (unicode included) is literal.
 */
import { LidarError } from '../../processing/errors.js';

export class InfluxQL {
  /** @internal use the builder functions */
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

function escapeQuoted(value: string, quote: "'" | '"'): string {
  let out = '';
  for (const ch of value) {
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else out += ch;
  }
  return out;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when a string cannot be encoded as UTF-8 unchanged (a lone UTF-16 surrogate). */
export function hasLoneSurrogate(value: string): boolean {
  return LONE_SURROGATE.test(value);
}

function checkText(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new LidarError('LIDAR_ERR_BAD_VALUE', `${what} must be a string, got ${typeof value}`, { field: what });
  if (hasLoneSurrogate(value)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `${what} ${JSON.stringify(value)} contains a lone surrogate`, { field: what });
  if (/[\u0000\r]/.test(value)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `${what} ${JSON.stringify(value)} contains a NUL or carriage return, which InfluxQL cannot quote`, { field: what });
  return value;
}

/** A string literal: 'it\'s'. */
export function str(value: string, what = 'string'): InfluxQL {
  return new InfluxQL(`'${escapeQuoted(checkText(value, what), "'")}'`);
}

/** A double-quoted identifier (database, retention policy, measurement, field or tag key). */
export function ident(name: string, what = 'identifier'): InfluxQL {
  checkText(name, what);
  if (name.length === 0) throw new LidarError('LIDAR_ERR_BAD_VALUE', `${what} must not be empty`, { field: what });
  return new InfluxQL(`"${escapeQuoted(name, '"')}"`);
}

/** "db"."rp"."measurement" */
export function qualified(database: string, rp: string, measurement: string): InfluxQL {
  return new InfluxQL(`${ident(database, 'database').text}.${ident(rp, 'retention policy').text}.${ident(measurement, 'measurement').text}`);
}

/** A non-negative integer literal (LIMIT, counts). */
export function int(value: number, what = 'integer'): InfluxQL {
  if (!Number.isSafeInteger(value) || value < 0) throw new LidarError('LIDAR_ERR_BAD_VALUE', `${what} must be a non-negative integer, got ${value}`, { field: what });
  return new InfluxQL(String(value));
}

/** Largest |time| InfluxDB stores (int64 nanoseconds), in ms. */
export const MAX_ABS_TIME_MS = 9_223_372_036_000;

/** A time as an InfluxQL duration literal since the epoch: 1700000000000ms. */
export function timeMs(value: number, what = 'timeMs'): InfluxQL {
  if (!Number.isSafeInteger(value) || Math.abs(value) > MAX_ABS_TIME_MS) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `${what} must be an integer time in ms within InfluxDB's range, got ${value}`, { field: what });
  }
  return new InfluxQL(`${value}ms`);
}

/** time >= from AND time < to; both bounds required (no unbounded query). */
export function timeRange(fromMs: number, toMs: number): InfluxQL {
  const from = timeMs(fromMs, 'fromMs');
  const to = timeMs(toMs, 'toMs');
  if (toMs < fromMs) throw new LidarError('LIDAR_ERR_BAD_VALUE', `time window ends (toMs ${toMs}) before it starts (fromMs ${fromMs})`, { field: 'toMs' });
  return new InfluxQL(`time >= ${from.text} AND time < ${to.text}`);
}

const DURATION = /^(INF|(\d+(ns|u|µ|ms|s|m|h|d|w))+)$/;

/** A retention duration: INF or an InfluxQL duration literal such as 90d, 2160h, 1w2d. */
export function duration(text: string, what = 'duration'): InfluxQL {
  if (typeof text !== 'string' || !DURATION.test(text)) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `${what} ${JSON.stringify(text)} is not an InfluxQL duration like 90d or INF`, { field: what });
  }
  return new InfluxQL(text);
}

/** A regular expression /^(a|b)_[0-9]+$/ over names limited to [A-Za-z0-9_] (field selection). */
export function nameRegex(prefix: string, names: readonly string[], suffix: string): InfluxQL {
  for (const part of [prefix, suffix, ...names]) {
    if (!/^[A-Za-z0-9_]*$/.test(part)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `name ${JSON.stringify(part)} is not allowed in a field pattern`, { field: 'arrays' });
  }
  if (names.length === 0) throw new LidarError('LIDAR_ERR_BAD_VALUE', 'field pattern needs at least one name', { field: 'arrays' });
  return new InfluxQL(`/^${prefix}(${names.join('|')})${suffix}[0-9]+$/`);
}

/** Joins fragments with a separator written by the caller (', ', ' OR ', '; '). */
export function join(parts: readonly InfluxQL[], separator: ', ' | ' OR ' | ' AND ' | '; '): InfluxQL {
  return new InfluxQL(parts.map((p) => p.text).join(separator));
}

/** The template tag: literal text from the source code, interpolations only as InfluxQL fragments. */
export function iql(strings: TemplateStringsArray, ...parts: InfluxQL[]): InfluxQL {
  let text = strings[0];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as unknown;
    if (!(part instanceof InfluxQL)) throw new LidarError('LIDAR_ERR_USAGE', `InfluxQL interpolation ${i} is not a built fragment`);
    text += part.text + strings[i + 1];
  }
  return new InfluxQL(text);
}
