/**
 * Line-tolerant reading of official AQ-station hourly PM for import: every bad row is reported
 * with its line number and the good rows are kept (the caller decides whether to store them).
 * Each row is checked by the one station-CSV parser of the project, parseAqCsv
 * (processing/retrieval/calibrate.ts: `time,pm10[,pm25][,rh]`), given the header and that row.
 *
 * Two layouts:
 * - station CSV `time,pm10[,pm25]` (one AQ station; the API's PUT /aq-stations/{id}/hourly);
 * - the EEA/ExEA wide export `datetime_begin_utc+01,BG0040A,BG0050A,...` (one column per station,
 *   naive hour starts at the header's fixed UTC offset, empty = missing), as in
 *   /work/shared/data/aq/eea_pm10_hourly_sofia_*.csv; optional `_pm25` suffix on a column for PM2.5.
 */
import { LidarError } from '../processing/errors.js';
import { parseAqCsv } from '../processing/retrieval/calibrate.js';
import type { AqHourRecord } from './port.js';

/** One rejected row: 1-based line number of the input, the column at fault and why. */
export interface BadAqRow {
  line: number;
  field: string;
  message: string;
}

export interface AqRowsResult {
  hours: Array<Omit<AqHourRecord, 'aqStation' | 'source'> & { line: number }>;
  bad: BadAqRow[];
}

/** The detail of a LidarError raised by parseAqCsv for a one-row input, without "file, byte, field: line 2: ". */
function detailOf(e: LidarError): string {
  const m = /line \d+: (.*)$/s.exec(e.message);
  return m ? m[1] : e.message;
}

function splitLines(text: string): string[] {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (lines.length > 0 && lines[0].charCodeAt(0) === 0xfeff) lines[0] = lines[0].slice(1);
  return lines;
}

/**
 * Rows of a station CSV (`time,pm10[,pm25]`, header required; an `rh` column is accepted and
 * ignored). A naive time is in `timeZone`. Throws LIDAR_ERR_BAD_VALUE only for a missing or bad
 * header; bad rows and duplicate hours go to `bad`.
 */
export function parseStationCsvRows(text: string, file: string, timeZone = 'UTC'): AqRowsResult {
  const lines = splitLines(text);
  let k = 0;
  while (k < lines.length && (lines[k].trim() === '' || lines[k].startsWith('#'))) k++;
  if (k === lines.length) throw new LidarError('LIDAR_ERR_BAD_VALUE', 'empty input (expected the header time,pm10[,pm25])', { file, field: 'time' });
  const header = lines[k];
  parseAqCsv(header, file, timeZone); // a bad header throws, naming the column
  const rows: Array<{ line: number; text: string }> = [];
  for (let i = k + 1; i < lines.length; i++) rows.push({ line: i + 1, text: lines[i] });
  return parseRows(header, rows, file, timeZone);
}

function parseRows(header: string, rows: ReadonlyArray<{ line: number; text: string }>, file: string, timeZone: string): AqRowsResult {
  const out: AqRowsResult = { hours: [], bad: [] };
  const seen = new Map<number, number>();
  for (const r of rows) {
    if (r.text.trim() === '' || r.text.startsWith('#')) continue;
    try {
      const [h] = parseAqCsv(`${header}\n${r.text}`, file, timeZone).hours;
      const prev = seen.get(h.timeMs);
      if (prev !== undefined) {
        out.bad.push({ line: r.line, field: 'time', message: `duplicate hour ${new Date(h.timeMs).toISOString()} (also on line ${prev})` });
        continue;
      }
      seen.set(h.timeMs, r.line);
      out.hours.push({ line: r.line, timeMs: h.timeMs, pm10: h.pm10, pm25: h.pm25 });
    } catch (e) {
      if (!(e instanceof LidarError)) throw e;
      out.bad.push({ line: r.line, field: e.field ?? 'row', message: detailOf(e) });
    }
  }
  return out;
}

export interface EeaWideResult {
  /** Station ids of the header, in order. */
  stations: string[];
  /** Hours per station (rows with an empty cell are left out for that station). */
  byStation: Map<string, AqHourRecord[]>;
  bad: BadAqRow[];
  /** Data rows read (lines other than the header, comments and blank lines). */
  rows: number;
}

const EEA_TIME_HEADER = /^datetime_begin(?:_utc([+-]\d{2})(?::?(\d{2}))?)?$/i;

/**
 * The EEA wide hourly export: header `datetime_begin_utc+01,<EoI code>[_pm25],...`. Station columns
 * named `<code>` hold PM10, `<code>_pm25` PM2.5. Each station value is checked as a station-CSV row;
 * a bad cell rejects that station's hour (reported with the line), the other stations' values of the
 * line are kept. Throws LIDAR_ERR_BAD_VALUE for a header it does not know.
 */
export function parseEeaWideCsv(text: string, file: string, source: string): EeaWideResult {
  const lines = splitLines(text);
  let k = 0;
  while (k < lines.length && (lines[k].trim() === '' || lines[k].startsWith('#'))) k++;
  if (k === lines.length) throw new LidarError('LIDAR_ERR_BAD_VALUE', 'empty file (expected the header datetime_begin_utc+01,<station>,...)', { file, field: 'header' });
  const header = lines[k].split(',').map((c) => c.trim());
  const tm = EEA_TIME_HEADER.exec(header[0]);
  if (!tm) throw new LidarError('LIDAR_ERR_BAD_VALUE', `line ${k + 1}: first column ${JSON.stringify(header[0])} is not datetime_begin_utc+HH (the EEA hourly export)`, { file, field: 'header' });
  const offset = tm[1] === undefined ? 'Z' : `${tm[1]}:${tm[2] ?? '00'}`;
  const cols: Array<{ station: string; product: 'pm10' | 'pm25' }> = header.slice(1).map((h, i) => {
    const m = /^([A-Za-z0-9.-]{1,60}?)(?:_(pm10|pm25))?$/i.exec(h);
    if (!m) throw new LidarError('LIDAR_ERR_BAD_VALUE', `line ${k + 1}: column ${i + 2} ${JSON.stringify(h)} is not a station code`, { file, field: 'header' });
    return { station: m[1], product: (m[2]?.toLowerCase() as 'pm10' | 'pm25' | undefined) ?? 'pm10' };
  });
  const stations = [...new Set(cols.map((c) => c.station))];
  const perStation = new Map<string, Map<number, AqHourRecord>>(stations.map((s) => [s, new Map()]));
  const bad: BadAqRow[] = [];
  const seenTimes = new Map<string, number>();
  let rows = 0;
  for (let i = k + 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '' || line.startsWith('#')) continue;
    rows++;
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length !== header.length) {
      bad.push({ line: i + 1, field: 'row', message: `expected ${header.length} fields, found ${cells.length}` });
      continue;
    }
    const time = cells[0];
    const prev = seenTimes.get(time);
    if (prev !== undefined) {
      bad.push({ line: i + 1, field: 'time', message: `duplicate time ${JSON.stringify(time)} (also on line ${prev})` });
      continue;
    }
    seenTimes.set(time, i + 1);
    // One station-CSV row per station: time with the header's offset, pm10 and pm25 cells.
    let timeBad = false;
    for (const station of stations) {
      if (timeBad) break;
      const v10 = cols.findIndex((c) => c.station === station && c.product === 'pm10');
      const v25 = cols.findIndex((c) => c.station === station && c.product === 'pm25');
      const pm10 = v10 >= 0 ? cells[v10 + 1] : '';
      const pm25 = v25 >= 0 ? cells[v25 + 1] : '';
      if (pm10 === '' && pm25 === '') continue;
      const r = parseRows('time,pm10,pm25', [{ line: i + 1, text: `${time}${/[zZ]$|[+-]\d{2}:?\d{2}$/.test(time) ? '' : offset},${pm10},${pm25}` }], file, 'UTC');
      for (const b of r.bad) {
        if (b.field === 'time') timeBad = true;
        bad.push(b.field === 'time' ? b : { ...b, field: `${station}${b.field === 'pm25' ? '_pm25' : ''}`, message: `${station}: ${b.message}` });
      }
      for (const h of r.hours) perStation.get(station)!.set(h.timeMs, { aqStation: station, timeMs: h.timeMs, pm10: h.pm10, pm25: h.pm25, source });
    }
  }
  const byStation = new Map<string, AqHourRecord[]>();
  for (const [s, m] of perStation) byStation.set(s, [...m.values()].sort((a, b) => a.timeMs - b.timeMs));
  return { stations, byStation, bad, rows };
}

/** "line 4 (pm10): invalid pm10 ...; line 9 (time): ..." for at most `max` rows, then "and N more". */
export function describeBadRows(bad: readonly BadAqRow[], max = 20): string {
  const shown = bad.slice(0, max).map((b) => `line ${b.line} (${b.field}): ${b.message}`);
  if (bad.length > max) shown.push(`and ${bad.length - max} more`);
  return shown.join('; ');
}
