/**
 * Station-clock times. Licel headers carry local time with no zone; the station's IANA zone
 * (station JSON `timezone`) converts them to UTC. Intl (ECMA-402) is in Node and in browsers.
 */
import { LidarError } from './errors.js';

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    } catch {
      throw new LidarError('LIDAR_ERR_BAD_VALUE', `unknown time zone: ${JSON.stringify(timeZone)}`, { field: 'timezone' });
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** Offset (ms) of the zone from UTC at the instant `utcMs`. */
export function zoneOffsetMs(timeZone: string, utcMs: number): number {
  const parts = formatter(timeZone).formatToParts(new Date(utcMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/** UTC milliseconds of a naive local time 'YYYY-MM-DDTHH:MM:SS(.fff)' in `timeZone`. */
export function localToUtcMs(local: string, timeZone: string): number {
  const naive = Date.parse(local + 'Z');
  if (Number.isNaN(naive)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid local time: ${JSON.stringify(local)}`, { field: 'time' });
  if (timeZone === 'UTC') return naive;
  // Two passes settle the offset across DST changes (the second uses the offset at the first guess).
  let utc = naive - zoneOffsetMs(timeZone, naive);
  utc = naive - zoneOffsetMs(timeZone, utc);
  return utc;
}

/** ISO 8601 UTC ('...Z', whole seconds unless there are fractions). */
export function toIsoUtc(utcMs: number): string {
  const iso = new Date(utcMs).toISOString();
  return iso.endsWith('.000Z') ? iso.slice(0, 19) + 'Z' : iso;
}
