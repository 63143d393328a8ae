/**
 * Station housekeeping (`lidar/{station}/status` JSON, serial frame type 2) -> a store HealthRecord.
 * The JSON object is flattened to dotted names ("temperatures.laser_head_c"), keeping numbers,
 * strings (<= 256 characters) and booleans; `time` (ISO 8601 or ms since the epoch) is the record's
 * time, else the arrival time. Anything else is a LIDAR_ERR_BAD_VALUE naming the field.
 */
import { LidarError } from '../processing/errors.js';
import type { HealthRecord } from '../store/port.js';

const MAX_KEYS = 200;
const MAX_DEPTH = 3;
const MAX_STRING = 256;
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
/** A lone UTF-16 surrogate (from a JSON \uD800 escape): no store can hold it, so refuse it here. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function parseStatus(bytes: Uint8Array, station: string, receivedMs: number, origin: string): HealthRecord {
  const where = (field: string) => ({ file: origin, field });
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `status is not UTF-8 JSON: ${(e as Error).message}`, where('status'));
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new LidarError('LIDAR_ERR_BAD_VALUE', 'status must be a JSON object', where('status'));
  const values: Record<string, number | string | boolean> = {};
  let count = 0;
  const walk = (o: Record<string, unknown>, prefix: string, depth: number) => {
    for (const [k, v] of Object.entries(o)) {
      const name = prefix + k;
      // "__proto__" would be dropped by the assignment below (and by readers of the stored record).
      if (!NAME.test(k) || k === '__proto__' || name.length > 128) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid status field name ${JSON.stringify(name).slice(0, 80)}`, where(name.slice(0, 80) || 'status'));
      if (v === null) continue;
      if (typeof v === 'object' && !Array.isArray(v)) {
        if (depth >= MAX_DEPTH) throw new LidarError('LIDAR_ERR_BAD_VALUE', `status nested deeper than ${MAX_DEPTH} levels`, where(name));
        walk(v as Record<string, unknown>, `${name}.`, depth + 1);
        continue;
      }
      if (++count > MAX_KEYS) throw new LidarError('LIDAR_ERR_BAD_VALUE', `status has more than ${MAX_KEYS} values`, where(name));
      if (typeof v === 'number') {
        if (!Number.isFinite(v)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `status value ${name} is not finite`, where(name));
        values[name] = v;
      } else if (typeof v === 'boolean') values[name] = v;
      else if (typeof v === 'string') {
        if (v.length > MAX_STRING) throw new LidarError('LIDAR_ERR_BAD_VALUE', `status value ${name} is longer than ${MAX_STRING} characters`, where(name));
        if (LONE_SURROGATE.test(v)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `status value ${name} is not well-formed Unicode (lone surrogate)`, where(name));
        values[name] = v;
      } else throw new LidarError('LIDAR_ERR_BAD_VALUE', `status value ${name} has unsupported type (${Array.isArray(v) ? 'array' : typeof v})`, where(name));
    }
  };
  walk(doc as Record<string, unknown>, '', 1);
  let timeMs = receivedMs;
  const t = values.time;
  if (t !== undefined) {
    timeMs = typeof t === 'number' ? t : typeof t === 'string' ? Date.parse(t) : NaN;
    if (!Number.isFinite(timeMs) || timeMs < Date.UTC(1990, 0, 1) || timeMs > receivedMs + 86_400_000) {
      throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid status time ${JSON.stringify(t)} (ISO 8601 or ms since 1970, not in the future)`, where('time'));
    }
    delete values.time;
  }
  return { station, timeMs: Math.round(timeMs), values };
}
