/**
 * Line protocol for the InfluxDB adapter: input checks plus @influxdata/influxdb-client's `Point`,
 * which escapes measurement names, tag keys/values and field keys (comma, space, equals) and string
 * field values (double quote, backslash).
 *
 * What `Point` cannot make safe, and how this module handles it (checked against influxd 1.6.7):
 * - a tag value or key ending in a backslash, or with a backslash before , = or space, breaks the
 *   line (InfluxDB reads it as an escape) and other backslashes are kept literally: tag values and
 *   field keys containing a backslash are refused (LIDAR_ERR_BAD_VALUE, naming the field);
 * - control characters (newline, tab, ...) in tag values and keys are written by `Point` as the two
 *   characters "\n", which does not read back: refused;
 * - an empty tag value is dropped by `Point` (InfluxDB has no empty tags): callers pass empty values
 *   only where "missing" is meant (the district of a cell outside every district);
 * - NaN is omitted (missing), and so is +/-Infinity, which line protocol cannot express;
 * - lone UTF-16 surrogates cannot be sent as UTF-8: refused.
 * String field values may contain anything else, newlines included (InfluxDB 1.x keeps newlines
 * inside a quoted field value).
 */
import { Point } from '@influxdata/influxdb-client';
import { LidarError } from '../../processing/errors.js';
import { hasLoneSurrogate, MAX_ABS_TIME_MS } from './influxql.js';

const CONTROL = /[\u0000-\u001f\u007f]/;
/** Tag values and field keys longer than this are refused (InfluxDB's series key limit is 64 KiB). */
export const MAX_TAG_CHARS = 1024;

function describe(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
}

/** A tag value (or a field key) that reads back exactly as written. */
export function checkName(value: unknown, field: string, allowEmpty = false): string {
  if (typeof value !== 'string') throw new LidarError('LIDAR_ERR_BAD_VALUE', `must be a string, got ${value === null ? 'null' : typeof value}`, { field });
  if (value.length === 0 && !allowEmpty) throw new LidarError('LIDAR_ERR_BAD_VALUE', 'must not be empty', { field });
  if (value.length > MAX_TAG_CHARS) throw new LidarError('LIDAR_ERR_BAD_VALUE', `is ${value.length} characters long, more than ${MAX_TAG_CHARS}`, { field });
  if (CONTROL.test(value)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `${describe(value)} contains a control character (newline, tab, ...), which InfluxDB tags and keys cannot hold`, { field });
  if (value.includes('\\')) throw new LidarError('LIDAR_ERR_BAD_VALUE', `${describe(value)} contains a backslash, which InfluxDB tags and keys cannot hold reliably`, { field });
  if (hasLoneSurrogate(value)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `${describe(value)} contains a lone UTF-16 surrogate`, { field });
  return value;
}

/** A string field value: anything but lone surrogates. */
export function checkText(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new LidarError('LIDAR_ERR_BAD_VALUE', `must be a string, got ${value === null ? 'null' : typeof value}`, { field });
  if (hasLoneSurrogate(value)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `${describe(value)} contains a lone UTF-16 surrogate`, { field });
  return value;
}

/**
 * A number field: finite, or NaN for missing. +/-Infinity has no line-protocol form and is stored as
 * missing (read back as NaN), as the store contract asks; non-numbers are refused.
 */
export function checkNumber(value: unknown, field: string): number {
  if (typeof value !== 'number') throw new LidarError('LIDAR_ERR_BAD_VALUE', `must be a number, got ${value === null ? 'null' : typeof value}`, { field });
  return Number.isFinite(value) ? value : NaN;
}

/** A point time: integer ms inside InfluxDB's range. */
export function checkTime(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || Math.abs(value) > MAX_ABS_TIME_MS) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `must be an integer time in ms within InfluxDB's range, got ${String(value)}`, { field });
  }
  return value;
}

/** Builds one line; fields are checked by the caller (see the check functions above). */
export class LineBuilder {
  private readonly point: Point;
  private fieldCount = 0;

  constructor(measurement: string) {
    this.point = new Point(measurement);
  }

  /** Adds a tag; an empty value adds nothing (InfluxDB: tag missing). */
  tag(key: string, value: string): this {
    if (value.length > 0) this.point.tag(key, value);
    return this;
  }

  /** Adds a float field; NaN adds nothing. */
  float(key: string, value: number): this {
    if (!Number.isNaN(value)) {
      this.point.floatField(key, value);
      this.fieldCount++;
    }
    return this;
  }

  string(key: string, value: string): this {
    this.point.stringField(key, value);
    this.fieldCount++;
    return this;
  }

  /**
   * A string field holding base64 text made by this program (Buffer#toString('base64')): its
   * alphabet (A-Z a-z 0-9 + / =) needs no escaping, so it skips Point's escaper (50x faster on the
   * ~10 kB array chunks; Point.fields holds escaped values by design).
   */
  base64(key: string, value: string): this {
    this.point.fields[key] = `"${value}"`;
    this.fieldCount++;
    return this;
  }

  bool(key: string, value: boolean): this {
    this.point.booleanField(key, value);
    this.fieldCount++;
    return this;
  }

  get fields(): number {
    return this.fieldCount;
  }

  /** The line at `timeMs` (precision ms). */
  line(timeMs: number): string {
    this.point.timestamp(String(timeMs));
    const text = this.point.toLineProtocol();
    if (text === undefined) throw new LidarError('LIDAR_ERR_BAD_VALUE', 'a point needs at least one field');
    return text;
  }
}
