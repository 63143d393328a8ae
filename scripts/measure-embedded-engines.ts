/**
 * Measures the two embedded engine candidates on the store workload (docs/storage.md, "Choice of
 * the embedded engine"): SQLite (better-sqlite3) and DuckDB (@duckdb/node-api), same schema, same
 * synthetic data (scripts/bench-store-embedded.ts: winter-scenario shapes, 1800-bin profiles with 11
 * arrays as BLOBs, cell contributions), one transaction per 15-min cycle (48 profiles + ~1300 cell
 * contributions, both channels) with upsert semantics.
 *
 *   npx tsx scripts/measure-embedded-engines.ts [--profile-days 1] [--cell-days 30] [--repeats 15]
 *
 * Reports write throughput (profiles/s, MB/s of arrays, cell rows/s), file size, and p50 query
 * latencies: profile metas of a 6 h window; cell sums grouped by cell over one scan window; hourly
 * district sums over 30 days (raw table, and for SQLite also from the trigger-maintained roll-up);
 * one array of 96 verticals. The DuckDB code lives only here (SQLite won; store/embedded/).
 */
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { PROFILE_ARRAY_NAMES, type WriteBatch, type ProfileRecord } from '../store/port.js';
import { CYCLE_MS, SYNTH_ARRAY_BYTES, SYNTH_STATION, synthBatches } from './bench-store-embedded.js';

const { values: args } = parseArgs({
  options: { 'profile-days': { type: 'string', default: '1' }, 'cell-days': { type: 'string', default: '30' }, repeats: { type: 'string', default: '15' }, only: { type: 'string' } },
  strict: true,
});
const PROFILE_DAYS = Number(args['profile-days']);
const CELL_DAYS = Number(args['cell-days']);
const REPEATS = Number(args.repeats);
const START_MS = Date.UTC(2018, 0, 1);
const HOUR = 3_600_000;
const CH = '532o-glued';

interface Engine {
  name: string;
  write(b: WriteBatch): Promise<void>;
  queries: Record<string, () => Promise<number>>;
  close(): Promise<void>;
  files(): string[];
}

const arrBytes = (a: Float32Array | Uint8Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const num = (v: number) => (Number.isFinite(v) ? v : null);

function metaRow(p: ProfileRecord): unknown[] {
  return [p.station, p.channel, p.timeMs, p.mode, p.timeEndMs, p.azimuthDeg, p.elevationDeg, p.rangeStartM, p.rangeStepM, p.bins, p.file, p.paramsId,
    num(p.pblHeightM), num(p.pblQuality), num(p.cloudBaseM), num(p.aod), num(p.snr), num(p.lidarConstant), p.validBins, JSON.stringify(p.qcCounts), p.receivedMs];
}
const META_COLS = 'station, channel, time_ms, mode, time_end_ms, azimuth_deg, elevation_deg, range_start_m, range_step_m, bins, file, params_id, pbl_height_m, pbl_quality, cloud_base_m, aod, snr, lidar_constant, valid_bins, qc_counts, received_ms';

// ---------------------------------------------------------------- SQLite
function sqliteEngine(dir: string, rollups: boolean, synchronous: 'FULL' | 'NORMAL'): Engine {
  const file = join(dir, 'store.sqlite');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.exec(`
    CREATE TABLE profiles (station TEXT NOT NULL, channel TEXT NOT NULL, time_ms INTEGER NOT NULL, mode TEXT NOT NULL, time_end_ms INTEGER, azimuth_deg REAL, elevation_deg REAL,
      range_start_m REAL, range_step_m REAL, bins INTEGER, file TEXT, params_id TEXT, pbl_height_m REAL, pbl_quality REAL, cloud_base_m REAL, aod REAL, snr REAL,
      lidar_constant REAL, valid_bins INTEGER, qc_counts TEXT, received_ms INTEGER, PRIMARY KEY (station, channel, time_ms)) WITHOUT ROWID;
    CREATE TABLE profile_arrays (station TEXT NOT NULL, channel TEXT NOT NULL, time_ms INTEGER NOT NULL, name TEXT NOT NULL, data BLOB NOT NULL,
      PRIMARY KEY (station, channel, time_ms, name));
    CREATE TABLE cells (station TEXT NOT NULL, channel TEXT NOT NULL, time_ms INTEGER NOT NULL, cell TEXT NOT NULL, district TEXT NOT NULL,
      n INTEGER NOT NULL, pm10_sum REAL, pm25_sum REAL, alpha_sum REAL, PRIMARY KEY (station, channel, time_ms, cell)) WITHOUT ROWID;
    CREATE TABLE district_hourly (station TEXT NOT NULL, channel TEXT NOT NULL, hour_ms INTEGER NOT NULL, district TEXT NOT NULL,
      n INTEGER NOT NULL, pm10_sum REAL, pm25_sum REAL, alpha_sum REAL, contributions INTEGER NOT NULL, PRIMARY KEY (station, channel, hour_ms, district)) WITHOUT ROWID;
  `);
  if (rollups) {
    db.exec(`
      CREATE TRIGGER cells_ai AFTER INSERT ON cells BEGIN
        INSERT INTO district_hourly VALUES (new.station, new.channel, new.time_ms - new.time_ms % 3600000, new.district, new.n, new.pm10_sum, new.pm25_sum, new.alpha_sum, 1)
        ON CONFLICT DO UPDATE SET n = n + excluded.n, pm10_sum = pm10_sum + excluded.pm10_sum, pm25_sum = pm25_sum + excluded.pm25_sum, alpha_sum = alpha_sum + excluded.alpha_sum, contributions = contributions + 1;
      END;
      CREATE TRIGGER cells_au AFTER UPDATE ON cells BEGIN
        UPDATE district_hourly SET n = n - old.n, pm10_sum = pm10_sum - old.pm10_sum, pm25_sum = pm25_sum - old.pm25_sum, alpha_sum = alpha_sum - old.alpha_sum, contributions = contributions - 1
          WHERE station = old.station AND channel = old.channel AND hour_ms = old.time_ms - old.time_ms % 3600000 AND district = old.district;
        INSERT INTO district_hourly VALUES (new.station, new.channel, new.time_ms - new.time_ms % 3600000, new.district, new.n, new.pm10_sum, new.pm25_sum, new.alpha_sum, 1)
        ON CONFLICT DO UPDATE SET n = n + excluded.n, pm10_sum = pm10_sum + excluded.pm10_sum, pm25_sum = pm25_sum + excluded.pm25_sum, alpha_sum = alpha_sum + excluded.alpha_sum, contributions = contributions + 1;
      END;`);
  }
  const insMeta = db.prepare(`INSERT OR REPLACE INTO profiles (${META_COLS}) VALUES (${META_COLS.split(',').map(() => '?').join(',')})`);
  const insArr = db.prepare('INSERT OR REPLACE INTO profile_arrays VALUES (?, ?, ?, ?, ?)');
  const insCell = db.prepare(`INSERT INTO cells VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET district = excluded.district, n = excluded.n,
    pm10_sum = excluded.pm10_sum, pm25_sum = excluded.pm25_sum, alpha_sum = excluded.alpha_sum`);
  const tx = db.transaction((b: WriteBatch) => {
    for (const p of b.profiles ?? []) {
      insMeta.run(metaRow(p));
      for (const name of PROFILE_ARRAY_NAMES) {
        const a = p.arrays[name];
        if (a) insArr.run(p.station, p.channel, p.timeMs, name, arrBytes(a));
      }
    }
    for (const c of b.cells ?? []) insCell.run(c.station, c.channel, c.timeMs, c.cell, c.district, c.n, c.pm10Sum, c.pm25Sum, c.alphaSum);
  });
  const qMeta = db.prepare(`SELECT ${META_COLS} FROM profiles WHERE station = ? AND channel = ? AND time_ms >= ? AND time_ms < ? ORDER BY time_ms`);
  const qCells = db.prepare('SELECT cell, sum(n), sum(pm10_sum), sum(pm25_sum), sum(alpha_sum), count(*) FROM cells WHERE station = ? AND channel = ? AND time_ms >= ? AND time_ms < ? GROUP BY cell');
  const qDistrictRaw = db.prepare(`SELECT district, time_ms - time_ms % 3600000 AS h, sum(n), sum(pm10_sum), sum(pm25_sum), sum(alpha_sum), count(*) FROM cells
    WHERE station = ? AND channel = ? AND time_ms >= ? AND time_ms < ? GROUP BY district, h`);
  const qDistrictRollup = db.prepare('SELECT district, hour_ms, n, pm10_sum, pm25_sum, alpha_sum, contributions FROM district_hourly WHERE station = ? AND channel = ? AND hour_ms >= ? AND hour_ms < ?');
  const qVerticals = db.prepare(`SELECT p.time_ms, a.data FROM profiles p JOIN profile_arrays a ON a.station = p.station AND a.channel = p.channel AND a.time_ms = p.time_ms AND a.name = ?
    WHERE p.station = ? AND p.channel = ? AND p.time_ms >= ? AND p.time_ms < ? AND p.mode = 'vertical' ORDER BY p.time_ms`);
  const end = START_MS + CELL_DAYS * 24 * HOUR;
  const scanFrom = START_MS + 12 * HOUR;
  const queries: Record<string, () => Promise<number>> = {
    'profile metas, 6 h window': async () => qMeta.all(SYNTH_STATION, CH, START_MS + 6 * HOUR, START_MS + 12 * HOUR).length,
    'cell sums by cell, one scan window': async () => qCells.all(SYNTH_STATION, CH, scanFrom, scanFrom + 510_000).length,
    'hourly district sums, 30 days (raw table)': async () => qDistrictRaw.all(SYNTH_STATION, CH, START_MS, end).length,
    '96 verticals, one array': async () => qVerticals.all('pm10', SYNTH_STATION, CH, START_MS, START_MS + 24 * HOUR).length,
  };
  if (rollups) queries['hourly district sums, 30 days (hourly roll-up)'] = async () => qDistrictRollup.all(SYNTH_STATION, CH, START_MS, end).length;
  return {
    name: `sqlite (WAL, synchronous=${synchronous}${rollups ? ', roll-up trigger' : ''})`,
    write: async (b) => void tx(b),
    queries,
    close: async () => void db.close(),
    files: () => [file, file + '-wal', file + '-shm'],
  };
}

// ---------------------------------------------------------------- DuckDB
async function duckdbEngine(dir: string): Promise<Engine> {
  const file = join(dir, 'store.duckdb');
  const instance = await DuckDBInstance.create(file, { threads: '2' });
  const con: DuckDBConnection = await instance.connect();
  await con.run(`
    CREATE TABLE profiles (station VARCHAR NOT NULL, channel VARCHAR NOT NULL, time_ms BIGINT NOT NULL, mode VARCHAR NOT NULL, time_end_ms BIGINT, azimuth_deg DOUBLE, elevation_deg DOUBLE,
      range_start_m DOUBLE, range_step_m DOUBLE, bins INTEGER, file VARCHAR, params_id VARCHAR, pbl_height_m DOUBLE, pbl_quality DOUBLE, cloud_base_m DOUBLE, aod DOUBLE, snr DOUBLE,
      lidar_constant DOUBLE, valid_bins INTEGER, qc_counts VARCHAR, received_ms BIGINT, PRIMARY KEY (station, channel, time_ms));
    CREATE TABLE profile_arrays (station VARCHAR NOT NULL, channel VARCHAR NOT NULL, time_ms BIGINT NOT NULL, name VARCHAR NOT NULL, data BLOB NOT NULL,
      PRIMARY KEY (station, channel, time_ms, name));
    CREATE TABLE cells (station VARCHAR NOT NULL, channel VARCHAR NOT NULL, time_ms BIGINT NOT NULL, cell VARCHAR NOT NULL, district VARCHAR NOT NULL,
      n INTEGER NOT NULL, pm10_sum DOUBLE, pm25_sum DOUBLE, alpha_sum DOUBLE, PRIMARY KEY (station, channel, time_ms, cell));
    CREATE TEMP TABLE stage_profiles AS SELECT * FROM profiles LIMIT 0;
    CREATE TEMP TABLE stage_arrays AS SELECT * FROM profile_arrays LIMIT 0;
    CREATE TEMP TABLE stage_cells AS SELECT * FROM cells LIMIT 0;
  `);
  // Bulk path: appenders into temp staging tables, then one INSERT OR REPLACE ... SELECT per table.
  const write = async (b: WriteBatch) => {
    await con.run('BEGIN TRANSACTION');
    try {
      const ap = await con.createAppender('stage_profiles', 'main', 'temp');
      const aa = await con.createAppender('stage_arrays', 'main', 'temp');
      for (const p of b.profiles ?? []) {
        const row = metaRow(p);
        row.forEach((v, i) => {
          if (v === null) ap.appendNull();
          else if (typeof v === 'string') ap.appendVarchar(v);
          else if (i === 2 || i === 4 || i === 20) ap.appendBigInt(BigInt(v as number));
          else if (i === 9 || i === 18) ap.appendInteger(v as number);
          else ap.appendDouble(v as number);
        });
        ap.endRow();
        for (const name of PROFILE_ARRAY_NAMES) {
          const a = p.arrays[name];
          if (!a) continue;
          aa.appendVarchar(p.station); aa.appendVarchar(p.channel); aa.appendBigInt(BigInt(p.timeMs)); aa.appendVarchar(name); aa.appendBlob(arrBytes(a));
          aa.endRow();
        }
      }
      ap.closeSync();
      aa.closeSync();
      const ac = await con.createAppender('stage_cells', 'main', 'temp');
      for (const c of b.cells ?? []) {
        ac.appendVarchar(c.station); ac.appendVarchar(c.channel); ac.appendBigInt(BigInt(c.timeMs)); ac.appendVarchar(c.cell); ac.appendVarchar(c.district);
        ac.appendInteger(c.n); ac.appendDouble(c.pm10Sum); ac.appendDouble(c.pm25Sum); ac.appendDouble(c.alphaSum);
        ac.endRow();
      }
      ac.closeSync();
      await con.run('INSERT OR REPLACE INTO profiles SELECT * FROM temp.stage_profiles; INSERT OR REPLACE INTO profile_arrays SELECT * FROM temp.stage_arrays; INSERT OR REPLACE INTO cells SELECT * FROM temp.stage_cells;');
      await con.run('DELETE FROM temp.stage_profiles; DELETE FROM temp.stage_arrays; DELETE FROM temp.stage_cells;');
      await con.run('COMMIT');
    } catch (e) {
      await con.run('ROLLBACK');
      throw e;
    }
  };
  const prep = async (sql: string) => con.prepare(sql);
  const qMeta = await prep(`SELECT ${META_COLS} FROM profiles WHERE station = $1 AND channel = $2 AND time_ms >= $3 AND time_ms < $4 ORDER BY time_ms`);
  const qCells = await prep('SELECT cell, sum(n), sum(pm10_sum), sum(pm25_sum), sum(alpha_sum), count(*) FROM cells WHERE station = $1 AND channel = $2 AND time_ms >= $3 AND time_ms < $4 GROUP BY cell');
  const qDistrict = await prep(`SELECT district, time_ms - time_ms % 3600000 AS h, sum(n), sum(pm10_sum), sum(pm25_sum), sum(alpha_sum), count(*) FROM cells
    WHERE station = $1 AND channel = $2 AND time_ms >= $3 AND time_ms < $4 GROUP BY district, h`);
  const qVerticals = await prep(`SELECT p.time_ms, a.data FROM profiles p JOIN profile_arrays a ON a.station = p.station AND a.channel = p.channel AND a.time_ms = p.time_ms AND a.name = $1
    WHERE p.station = $2 AND p.channel = $3 AND p.time_ms >= $4 AND p.time_ms < $5 AND p.mode = 'vertical' ORDER BY p.time_ms`);
  const run = async (ps: Awaited<ReturnType<typeof prep>>, vals: Array<string | number>) => {
    vals.forEach((v, i) => (typeof v === 'string' ? ps.bindVarchar(i + 1, v) : ps.bindBigInt(i + 1, BigInt(v))));
    const reader = await ps.runAndReadAll();
    return reader.getRows().length;
  };
  const end = START_MS + CELL_DAYS * 24 * HOUR;
  const scanFrom = START_MS + 12 * HOUR;
  return {
    name: 'duckdb (appender + INSERT OR REPLACE, threads=2)',
    write,
    queries: {
      'profile metas, 6 h window': () => run(qMeta, [SYNTH_STATION, CH, START_MS + 6 * HOUR, START_MS + 12 * HOUR]),
      'cell sums by cell, one scan window': () => run(qCells, [SYNTH_STATION, CH, scanFrom, scanFrom + 510_000]),
      'hourly district sums, 30 days (raw table)': () => run(qDistrict, [SYNTH_STATION, CH, START_MS, end]),
      '96 verticals, one array': () => run(qVerticals, ['pm10', SYNTH_STATION, CH, START_MS, START_MS + 24 * HOUR]),
    },
    close: async () => {
      await con.run('CHECKPOINT');
      con.closeSync();
      instance.closeSync();
    },
    files: () => [file, file + '.wal'],
  };
}

// ---------------------------------------------------------------- driver
function p50(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

async function measure(make: (dir: string) => Engine | Promise<Engine>): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'lidar-pm-engines-'));
  try {
    const e = await make(dir);
    const profileCycles = PROFILE_DAYS * 96;
    let profiles = 0, cellsWithProfiles = 0, writeMs = 0;
    for (const b of synthBatches({ startMs: START_MS, cycles: profileCycles })) {
      const t = performance.now();
      await e.write(b);
      writeMs += performance.now() - t;
      profiles += b.profiles!.length;
      cellsWithProfiles += b.cells!.length;
    }
    let cells = 0, cellMs = 0;
    for (const b of synthBatches({ startMs: START_MS + profileCycles * CYCLE_MS, cycles: (CELL_DAYS - PROFILE_DAYS) * 96, profiles: false })) {
      const t = performance.now();
      await e.write(b);
      cellMs += performance.now() - t;
      cells += b.cells!.length;
    }
    const queries: Record<string, { p50Ms: number; rows: number }> = {};
    for (const [name, q] of Object.entries(e.queries)) {
      const times: number[] = [];
      let rows = 0;
      await q(); // warm-up
      for (let i = 0; i < REPEATS; i++) {
        const t = performance.now();
        rows = await q();
        times.push(performance.now() - t);
      }
      queries[name] = { p50Ms: Number(p50(times).toFixed(2)), rows };
    }
    await e.close();
    const bytes = e.files().filter(existsSync).reduce((s, f) => s + statSync(f).size, 0);
    return {
      engine: e.name,
      profiles,
      profilesPerS: Math.round(profiles / (writeMs / 1000)),
      arrayMBPerS: Number(((profiles * SYNTH_ARRAY_BYTES) / 1e6 / (writeMs / 1000)).toFixed(1)),
      cellRowsWithProfiles: cellsWithProfiles,
      cellOnlyRows: cells,
      cellRowsPerS: Math.round(cells / (cellMs / 1000)),
      fileMB: Number((bytes / 1e6).toFixed(1)),
      queries,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const engines: Array<[string, (dir: string) => Engine | Promise<Engine>]> = [
  ['sqlite', (d) => sqliteEngine(d, true, 'FULL')],
  ['sqlite-normal', (d) => sqliteEngine(d, true, 'NORMAL')],
  ['sqlite-no-rollup', (d) => sqliteEngine(d, false, 'FULL')],
  ['duckdb', duckdbEngine],
];
console.log(JSON.stringify({ machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version }, profileDays: PROFILE_DAYS, cellDays: CELL_DAYS, repeats: REPEATS }));
for (const [key, make] of engines) {
  if (args.only && !args.only.split(',').includes(key)) continue;
  console.log(JSON.stringify(await measure(make), null, 1));
}
