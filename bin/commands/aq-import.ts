/**
 * `lidar-pm aq-import FILE... (--url URL | --config FILE) [--aq-station ID] [--station-map A=B,...]
 *   [--source TEXT] [--timezone ZONE] [--rejects FILE] [--dry-run]`
 *
 * Loads official AQ-station hourly PM into the store: the EEA/ExEA wide hourly export
 * (`datetime_begin_utc+01,BG0040A,BG0050A,...`, one column per station, as in
 * shared/data/aq/eea_pm10_hourly_sofia_*.csv) or a station CSV `time,pm10[,pm25]` (needs
 * --aq-station). With --url it PUTs each station's hours to a running service
 * (`PUT /api/v1/aq-stations/{id}/hourly`, bearer token from $LIDAR_PM_TOKEN or --token-file, scope
 * "aq"); with --config it writes into the configured store directly (service stopped, or InfluxDB).
 * Bad rows never stop the import: each is reported as FILE:LINE: reason (and with --rejects the
 * bad lines are copied to that file), the good rows are stored.
 * Exit 0 everything stored, 2 bad usage or some rows rejected (the good ones stored), 1 I/O failure.
 */
import { parseArgs } from 'node:util';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { LidarError } from '../../processing/errors.js';
import { parseEeaWideCsv, parseStationCsvRows, type BadAqRow } from '../../store/aq-csv.js';
import type { AqHourRecord } from '../../store/port.js';
import type { Command } from '../command.js';

/** Hours per PUT request (well below the API's 20000 and the default 1 MiB body limit). */
const HOURS_PER_REQUEST = 5000;

const USAGE = 'usage: lidar-pm aq-import FILE... (--url URL | --config FILE) [--aq-station ID] [--station-map A=B,...] [--source TEXT] [--timezone ZONE] [--rejects FILE] [--dry-run]';

function usage(detail: string, field: string): never {
  throw new LidarError('LIDAR_ERR_USAGE', `${detail}\n${USAGE}`, { field });
}

function parseStationMap(text: string | undefined): Map<string, string> {
  const map = new Map<string, string>();
  if (text === undefined) return map;
  for (const pair of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const m = /^([A-Za-z0-9._-]{1,64})=([A-Za-z0-9._-]{1,64})$/.exec(pair);
    if (!m) usage(`invalid --station-map entry ${JSON.stringify(pair)} (expected FILE_CODE=STATION_ID)`, '--station-map');
    map.set(m[1], m[2]);
  }
  return map;
}

/** `time,pm10,pm25` CSV of records (UTC ISO times; empty = missing). */
export function toStationCsv(records: readonly AqHourRecord[]): string {
  const v = (x: number) => (Number.isFinite(x) ? String(x) : '');
  return ['time,pm10,pm25', ...records.map((r) => `${new Date(r.timeMs).toISOString()},${v(r.pm10)},${v(r.pm25)}`)].join('\n') + '\n';
}

interface Sink {
  put(station: string, records: AqHourRecord[]): Promise<{ created: number; unchanged: number }>;
  close(): Promise<void>;
}

async function httpSink(url: string, token: string): Promise<Sink> {
  const base = url.replace(/\/+$/, '');
  return {
    async put(station, records) {
      let created = 0, unchanged = 0;
      for (let i = 0; i < records.length; i += HOURS_PER_REQUEST) {
        const chunk = records.slice(i, i + HOURS_PER_REQUEST);
        const source = chunk[0]?.source ?? 'aq-import';
        let res: Response;
        try {
          res = await fetch(`${base}/api/v1/aq-stations/${encodeURIComponent(station)}/hourly?source=${encodeURIComponent(source)}`, {
            method: 'PUT',
            headers: { 'content-type': 'text/csv', authorization: `Bearer ${token}` },
            body: toStationCsv(chunk),
          });
        } catch (e) {
          throw new LidarError('LIDAR_ERR_IO', `cannot reach ${base}: ${(e as Error).message}`, { field: '--url' });
        }
        const text = await res.text();
        if (!res.ok) {
          let message = text.slice(0, 500);
          try {
            message = (JSON.parse(text) as { error: { message: string } }).error.message;
          } catch {
            /* not JSON */
          }
          const code = res.status >= 500 ? 'LIDAR_ERR_IO' : res.status === 404 ? 'LIDAR_ERR_NOT_FOUND' : 'LIDAR_ERR_BAD_VALUE';
          throw new LidarError(code, `PUT ${station}: HTTP ${res.status}: ${message}`, { field: station });
        }
        const body = JSON.parse(text) as { created: number; updated: number; unchanged: number };
        created += body.created + body.updated;
        unchanged += body.unchanged;
      }
      return { created, unchanged };
    },
    async close() {},
  };
}

async function storeSink(configFile: string): Promise<Sink> {
  const { loadServiceConfig } = await import('../service/config.js');
  const { openStore } = await import('../service/compose.js');
  const config = loadServiceConfig(configFile);
  const store = await openStore(config, (level, message) => process.stderr.write(`${level}: ${message}\n`));
  return {
    async put(station, records) {
      const before = new Map<number, AqHourRecord>();
      if (records.length > 0) {
        for (const r of await store.aqHours({ aqStation: station, fromMs: records[0].timeMs, toMs: records[records.length - 1].timeMs + 3_600_000, limit: 1_000_000 })) before.set(r.timeMs, r);
      }
      const same = (a: number, b: number) => (Number.isNaN(a) && Number.isNaN(b)) || a === b;
      const unchanged = records.filter((r) => {
        const o = before.get(r.timeMs);
        return o !== undefined && same(o.pm10, r.pm10) && same(o.pm25, r.pm25) && o.source === r.source;
      }).length;
      await store.writeAqHours(records);
      return { created: records.length - unchanged, unchanged };
    },
    async close() {
      await store.flush();
      await store.close();
    },
  };
}

export const aqImportCommand: Command = async (args) => {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      url: { type: 'string' },
      config: { type: 'string' },
      'token-file': { type: 'string' },
      'aq-station': { type: 'string' },
      'station-map': { type: 'string' },
      source: { type: 'string' },
      timezone: { type: 'string' },
      rejects: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
    },
  });
  if (positionals.length === 0) usage('no FILE given', 'FILE');
  if (!values['dry-run'] && (values.url === undefined) === (values.config === undefined)) usage('give exactly one of --url (a running service) or --config (the store of that configuration)', '--url');
  const stationMap = parseStationMap(values['station-map']);
  let token = '';
  if (values.url !== undefined && !values['dry-run']) {
    if (!/^https?:\/\/[^\s/]+/.test(values.url)) usage(`invalid --url ${JSON.stringify(values.url)} (expected http://host:port)`, '--url');
    token = values['token-file'] !== undefined ? readFileSync(values['token-file'], 'utf8').trim() : (process.env.LIDAR_PM_TOKEN ?? '').trim();
    if (token === '') usage('--url needs a bearer token with the "aq" scope: set LIDAR_PM_TOKEN or give --token-file', '--token-file');
  }

  // Read and check every file first: nothing is sent for a file whose header is wrong.
  const perStation = new Map<string, Map<number, AqHourRecord>>();
  const bad: Array<BadAqRow & { file: string; text: string }> = [];
  let rows = 0;
  for (const file of positionals) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new LidarError('LIDAR_ERR_IO', `cannot read ${file}: ${(e as Error).message}`, { file });
    }
    const lines = text.split('\n');
    const source = values.source ?? `${basename(file)}`;
    const first = lines.find((l) => l.trim() !== '' && !l.startsWith('#'))?.replace(/^\uFEFF/, '') ?? '';
    let found: Map<string, AqHourRecord[]>;
    let fileBad: BadAqRow[];
    if (/^datetime_begin/i.test(first)) {
      const r = parseEeaWideCsv(text, file, source);
      found = r.byStation;
      fileBad = r.bad;
      rows += r.rows;
      if (values['aq-station'] !== undefined) found = new Map([...found].filter(([s]) => s === values['aq-station']));
    } else {
      if (values['aq-station'] === undefined) usage(`${file} is a station CSV (time,pm10[,pm25]): give --aq-station ID`, '--aq-station');
      const r = parseStationCsvRows(text, file, values.timezone ?? 'UTC');
      found = new Map([[values['aq-station']!, r.hours.map((h) => ({ aqStation: values['aq-station']!, timeMs: h.timeMs, pm10: h.pm10, pm25: h.pm25, source }))]]);
      fileBad = r.bad;
      rows += r.hours.length + r.bad.length;
    }
    for (const b of fileBad) bad.push({ ...b, file, text: (lines[b.line - 1] ?? '').replace(/\r$/, '') });
    for (const [code, records] of found) {
      const station = stationMap.get(code) ?? code;
      let m = perStation.get(station);
      if (!m) perStation.set(station, (m = new Map()));
      for (const r of records) m.set(r.timeMs, { ...r, aqStation: station });
    }
  }
  for (const b of bad) process.stderr.write(`${b.file}:${b.line}: ${b.field}: ${b.message}\n`);
  if (values.rejects !== undefined && bad.length > 0) {
    writeFileSync(values.rejects, '');
    for (const b of bad) appendFileSync(values.rejects, `# ${b.file}:${b.line}: ${b.message.replace(/\n/g, ' ')}\n${b.text}\n`);
  }

  const sink = values['dry-run'] ? null : values.url !== undefined ? await httpSink(values.url, token) : await storeSink(values.config!);
  let failed = false;
  let stored = 0;
  try {
    for (const [station, m] of perStation) {
      const records = [...m.values()].sort((a, b) => a.timeMs - b.timeMs);
      if (records.length === 0) continue;
      const span = `${new Date(records[0].timeMs).toISOString()} .. ${new Date(records[records.length - 1].timeMs).toISOString()}`;
      if (!sink) {
        process.stdout.write(`${station}: ${records.length} hours ${span} (dry run, not stored)\n`);
        continue;
      }
      try {
        const r = await sink.put(station, records);
        stored += records.length;
        process.stdout.write(`${station}: ${records.length} hours ${span}: ${r.created} new or changed, ${r.unchanged} unchanged\n`);
      } catch (e) {
        // One station refused (unknown id, bad value) does not stop the others; I/O failures do.
        if (e instanceof LidarError && e.code !== 'LIDAR_ERR_IO') {
          process.stderr.write(`${station}: not stored: ${e.message}\n`);
          failed = true;
        } else throw e;
      }
    }
  } finally {
    await sink?.close();
  }
  process.stdout.write(`${rows} rows read, ${bad.length} rejected${values.rejects !== undefined && bad.length > 0 ? ` (copied to ${values.rejects})` : ''}, ${stored} station-hours stored\n`);
  return bad.length > 0 || failed ? 2 : 0;
};
