/**
 * The embedded StoreBackend: one SQLite file (better-sqlite3), WAL journal, prepared statements only.
 * Schema in ./schema.ts, measurements and reasoning in docs/storage.md.
 *
 * Durability: each write() is one transaction; with `synchronous: 'full'` (default) the WAL is
 * fsynced at every commit, so a resolved write survives a power cut; 'normal' survives a crash of
 * the process but may lose the last commits on power loss. flush() has nothing to wait for.
 *
 * Reads of cell sums use the hourly roll-ups when the window starts and ends on whole hours (UTC),
 * the raw contributions otherwise; both give the same sums (the roll-ups are maintained by triggers,
 * also under overwrite). Raw rows older than `rawRetentionMs` before the newest profile are pruned
 * at open() and then at most once per `pruneEveryMs`; roll-ups and parameter sets are kept. Cell
 * contributions older than the pruned horizon are ignored on write (their hours are final: with
 * the raw rows gone a rewrite would be counted twice).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { LidarError, isLidarError } from '../../processing/errors.js';
import { checkAqHours, checkAqQuery } from '../aq.js';
import {
  parseProfileId,
  profileId,
  type AqHourQuery,
  type AqHourRecord,
  type BackendStatus,
  type CellQuery,
  type CellSumRow,
  type HealthQuery,
  type HealthRecord,
  type ParamSetRecord,
  type ProfileArrayName,
  type ProfileMeta,
  type ProfileQuery,
  type ProfileRecord,
  type StoreBackend,
  type WriteBatch,
} from '../port.js';
import { arrayToBlob, blobToArray } from './arrays.js';
import { ADDED_COLUMNS, SCHEMA_SQL, SCHEMA_VERSION } from './schema.js';
import {
  MAX_IDS,
  checkArrayNames,
  checkCell,
  checkCellQuery,
  checkHealth,
  checkHealthQuery,
  checkId,
  checkLimit,
  checkOrder,
  checkParamSet,
  checkProfile,
  checkProfileQuery,
} from './validate.js';

export interface EmbeddedStoreOptions {
  /** The database file (created with its directory when missing), e.g. ./data/lidar-pm.sqlite. */
  path: string;
  /** SQLite `synchronous` in WAL mode: 'full' fsyncs every commit (default), 'normal' does not. */
  synchronous?: 'full' | 'normal';
  /** Raw profiles, arrays, cell contributions and health older than this before the newest profile are deleted (default 90 days; 0 keeps everything). */
  rawRetentionMs?: number;
  /** How often write() prunes (wall-clock ms, default 1 h). */
  pruneEveryMs?: number;
  /** How long a statement waits for a lock held by another connection (default 5000 ms). */
  busyTimeoutMs?: number;
}

export const DEFAULT_RAW_RETENTION_MS = 90 * 86_400_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

type Row = Record<string, unknown>;
type Db = Database.Database;
type Stmt = Database.Statement<Row>;

const META_COLUMNS =
  'station, channel, time_ms, mode, time_end_ms, azimuth_deg, elevation_deg, range_start_m, range_step_m, bins, file, params_id, ' +
  'pbl_height_m, pbl_quality, cloud_base_m, aod, snr, lidar_constant, valid_bins, qc_counts, received_ms, background';

const nanIfNull = (v: unknown): number => (v === null || v === undefined ? NaN : Number(v));
const nullIfNaN = (v: number): number | null => (Number.isFinite(v) ? v : null);

function metaFromRow(r: Row): ProfileMeta {
  const station = String(r.station);
  const channel = String(r.channel);
  const timeMs = Number(r.time_ms);
  const qc = JSON.parse(String(r.qc_counts)) as Array<number | null>;
  return {
    id: profileId(station, channel, timeMs),
    station,
    channel,
    mode: r.mode === 'vertical' ? 'vertical' : 'scan',
    timeMs,
    timeEndMs: nanIfNull(r.time_end_ms),
    azimuthDeg: nanIfNull(r.azimuth_deg),
    elevationDeg: nanIfNull(r.elevation_deg),
    rangeStartM: nanIfNull(r.range_start_m),
    rangeStepM: nanIfNull(r.range_step_m),
    bins: Number(r.bins),
    file: String(r.file),
    paramsId: String(r.params_id),
    pblHeightM: nanIfNull(r.pbl_height_m),
    pblQuality: nanIfNull(r.pbl_quality),
    cloudBaseM: nanIfNull(r.cloud_base_m),
    aod: nanIfNull(r.aod),
    snr: nanIfNull(r.snr),
    background: nanIfNull(r.background),
    lidarConstant: nanIfNull(r.lidar_constant),
    validBins: nanIfNull(r.valid_bins),
    qcCounts: qc.map(nanIfNull),
    receivedMs: nanIfNull(r.received_ms),
  };
}

function metaParams(p: ProfileRecord): unknown[] {
  return [
    p.station, p.channel, p.timeMs, p.mode, nullIfNaN(p.timeEndMs), nullIfNaN(p.azimuthDeg), nullIfNaN(p.elevationDeg), nullIfNaN(p.rangeStartM),
    nullIfNaN(p.rangeStepM), p.bins, p.file, p.paramsId, nullIfNaN(p.pblHeightM), nullIfNaN(p.pblQuality), nullIfNaN(p.cloudBaseM), nullIfNaN(p.aod),
    nullIfNaN(p.snr), nullIfNaN(p.lidarConstant), nullIfNaN(p.validBins), JSON.stringify(p.qcCounts.map(nullIfNaN)), nullIfNaN(p.receivedMs),
    nullIfNaN(p.background ?? NaN),
  ];
}

/** SQL of one cell-sum query shape. Built only from the query's structure (enums), never from its values. */
function cellSumSql(table: 'cells' | 'cell_hourly' | 'district_hourly', q: CellQuery): string {
  const t = table === 'cells' ? 'time_ms' : 'hour_ms';
  const size = q.bucket === '1h' ? HOUR_MS : q.bucket === '1d' ? DAY_MS : 0;
  const bucket = size > 0 ? `(${t} - ((${t} % ${size}) + ${size}) % ${size})` : 'NULL';
  const key = q.groupBy === 'cell' ? 'cell' : q.groupBy === 'district' ? 'district' : '@station';
  const contributions = table === 'cells' ? 'count(*)' : 'sum(contributions)';
  const where = [`station = @station`, `channel = @channel`, `${t} >= @fromMs`, `${t} < @toMs`];
  if (q.cells !== undefined) where.push('cell IN (SELECT value FROM json_each(@cells))');
  if (q.district !== undefined) where.push('district = @district');
  const district = q.groupBy === 'cell' ? 'max(district)' : 'NULL';
  return `SELECT ${bucket} AS bucket, ${key} AS key, ${district} AS district, sum(n) AS n, sum(pm10_sum) AS pm10, sum(pm25_sum) AS pm25, sum(alpha_sum) AS alpha,
    ${contributions} AS contributions FROM ${table} WHERE ${where.join(' AND ')} GROUP BY bucket, key ORDER BY bucket, key`;
}

class EmbeddedBackend implements StoreBackend {
  readonly kind = 'embedded' as const;
  readonly path: string;
  private db: Db | null = null;
  private readonly stmts = new Map<string, Stmt>();
  private writeErrors = 0;
  private lastError: string | null = null;
  private lastPruneMs = -Infinity;
  /** Retention horizon: raw rows before it were pruned; older contributions are ignored on write. */
  private prunedBeforeMs = -Infinity;
  private readonly retentionMs: number;
  private readonly pruneEveryMs: number;

  constructor(private readonly options: EmbeddedStoreOptions) {
    if (typeof options?.path !== 'string' || options.path.length === 0) throw new LidarError('LIDAR_ERR_BAD_VALUE', 'the embedded store needs a file path', { field: 'path' });
    this.path = options.path;
    this.retentionMs = options.rawRetentionMs ?? DEFAULT_RAW_RETENTION_MS;
    this.pruneEveryMs = options.pruneEveryMs ?? HOUR_MS;
    if (!(this.retentionMs >= 0)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `rawRetentionMs must be >= 0, got ${this.retentionMs}`, { field: 'rawRetentionMs' });
    if (options.synchronous !== undefined && options.synchronous !== 'full' && options.synchronous !== 'normal') {
      throw new LidarError('LIDAR_ERR_BAD_VALUE', `synchronous must be "full" or "normal", got ${JSON.stringify(options.synchronous)}`, { field: 'synchronous' });
    }
  }

  async open(): Promise<void> {
    if (this.db) return;
    this.guard('open', () => {
      mkdirSync(dirname(this.path), { recursive: true });
      const db = new Database(this.path, { timeout: this.options.busyTimeoutMs ?? 5000 });
      try {
        db.pragma('journal_mode = WAL');
        db.pragma(`synchronous = ${this.options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
        db.pragma('foreign_keys = OFF');
        const version = Number(db.pragma('user_version', { simple: true }));
        if (version > SCHEMA_VERSION) throw new LidarError('LIDAR_ERR_IO', `${this.path} has schema version ${version}, newer than this program's ${SCHEMA_VERSION}`);
        db.exec(SCHEMA_SQL);
        // Layout 1 -> 2: columns added since (CREATE TABLE IF NOT EXISTS leaves an existing table as it is).
        for (const [table, column, type] of ADDED_COLUMNS) {
          const cols = db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>;
          if (!cols.some((c) => c.name === column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
        }
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      } catch (e) {
        db.close();
        throw e;
      }
      this.db = db;
      this.prunedBeforeMs = nanIfNull(this.stmt('getHorizon', "SELECT value FROM meta WHERE key = 'pruned_before_ms'").get()?.value);
      if (Number.isNaN(this.prunedBeforeMs)) this.prunedBeforeMs = -Infinity;
    });
    if (this.retentionMs > 0) await this.prune();
  }

  async write(batch: WriteBatch): Promise<void> {
    const db = this.need();
    const profiles = batch?.profiles ?? [];
    const cells = batch?.cells ?? [];
    const health = batch?.health ?? [];
    for (const [name, list] of [['profiles', profiles], ['cells', cells], ['health', health]] as const) {
      if (!Array.isArray(list)) throw new LidarError('LIDAR_ERR_BAD_VALUE', 'expected a list', { field: name });
    }
    profiles.forEach((p, i) => checkProfile(p, `profiles[${i}]`));
    cells.forEach((c, i) => checkCell(c, `cells[${i}]`));
    health.forEach((h, i) => checkHealth(h, `health[${i}]`));
    try {
      this.guard('write', () => {
        const insMeta = this.stmt('insMeta', `INSERT OR REPLACE INTO profiles (${META_COLUMNS}) VALUES (${META_COLUMNS.split(',').map(() => '?').join(', ')})`);
        const delArrays = this.stmt('delArrays', 'DELETE FROM profile_arrays WHERE station = ? AND channel = ? AND time_ms = ?');
        const insArray = this.stmt('insArray', 'INSERT INTO profile_arrays (station, channel, time_ms, name, data) VALUES (?, ?, ?, ?, ?)');
        const insCell = this.stmt(
          'insCell',
          `INSERT INTO cells (station, channel, time_ms, cell, district, n, pm10_sum, pm25_sum, alpha_sum) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (station, channel, time_ms, cell) DO UPDATE SET district = excluded.district, n = excluded.n,
             pm10_sum = excluded.pm10_sum, pm25_sum = excluded.pm25_sum, alpha_sum = excluded.alpha_sum`,
        );
        const insHealth = this.stmt(
          'insHealth',
          `INSERT INTO health (station, time_ms, name, type, num, str) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (station, time_ms, name) DO UPDATE SET type = excluded.type, num = excluded.num, str = excluded.str`,
        );
        db.transaction(() => {
          for (const p of profiles) {
            insMeta.run(...metaParams(p));
            delArrays.run(p.station, p.channel, p.timeMs);
            for (const [name, a] of Object.entries(p.arrays)) if (a !== undefined) insArray.run(p.station, p.channel, p.timeMs, name, arrayToBlob(a));
          }
          for (const c of cells) if (c.timeMs >= this.prunedBeforeMs) insCell.run(c.station, c.channel, c.timeMs, c.cell, c.district, c.n, nullIfNaN(c.pm10Sum), nullIfNaN(c.pm25Sum), nullIfNaN(c.alphaSum));
          for (const h of health) {
            for (const [name, v] of Object.entries(h.values)) {
              if (typeof v === 'number') insHealth.run(h.station, h.timeMs, name, 'n', nullIfNaN(v), null);
              else if (typeof v === 'boolean') insHealth.run(h.station, h.timeMs, name, 'b', v ? 1 : 0, null);
              else insHealth.run(h.station, h.timeMs, name, 's', null, v);
            }
          }
        }).immediate();
      });
    } catch (e) {
      this.writeErrors++;
      throw e;
    }
    if (this.retentionMs > 0 && Date.now() - this.lastPruneMs >= this.pruneEveryMs) await this.prune();
  }

  async flush(): Promise<void> {
    this.need();
  }

  async profiles(q: ProfileQuery): Promise<ProfileMeta[]> {
    checkProfileQuery(q);
    const limit = checkLimit(q.limit, 10_000);
    const order = checkOrder(q.order) === 'desc' ? 'DESC' : 'ASC';
    const byChannel = q.channel !== undefined;
    const sql = `SELECT ${META_COLUMNS} FROM profiles
      WHERE station = @station ${byChannel ? 'AND channel = @channel' : ''} AND time_ms >= @fromMs AND time_ms < @toMs
      AND (@mode IS NULL OR mode = @mode) ORDER BY time_ms ${order}, channel ${order} LIMIT @limit`;
    return this.guard('read profiles', () => {
      const rows = this.stmt(`profiles:${byChannel}:${order}`, sql).all({
        station: q.station, ...(byChannel ? { channel: q.channel } : {}), fromMs: q.fromMs, toMs: q.toMs, mode: q.mode ?? null, limit,
      });
      return rows.map(metaFromRow);
    });
  }

  async profileArrays(station: string, ids: string[], arrays?: ProfileArrayName[]): Promise<ProfileRecord[]> {
    checkId(station, 'station');
    if (!Array.isArray(ids) || ids.length > MAX_IDS) throw new LidarError('LIDAR_ERR_BAD_VALUE', `expected a list of at most ${MAX_IDS} profile ids`, { field: 'ids' });
    const keys = ids.map((id, i) => {
      const k = typeof id === 'string' ? parseProfileId(id) : null;
      if (!k) throw new LidarError('LIDAR_ERR_BAD_VALUE', `malformed profile id ${JSON.stringify(id)} (expected station:channel:timeMs)`, { field: `ids[${i}]` });
      return k;
    });
    const names = checkArrayNames(arrays);
    return this.guard('read profile arrays', () => {
      const getMeta = this.stmt('getMeta', `SELECT ${META_COLUMNS} FROM profiles WHERE station = ? AND channel = ? AND time_ms = ?`);
      const getArrays = this.stmt('getArrays', 'SELECT name, data FROM profile_arrays WHERE station = ? AND channel = ? AND time_ms = ? AND name IN (SELECT value FROM json_each(?))');
      const wanted = JSON.stringify(names);
      const out: ProfileRecord[] = [];
      this.need().transaction(() => {
        for (const k of keys) {
          if (k.station !== station) continue;
          const row = getMeta.get(k.station, k.channel, k.timeMs);
          if (!row) continue;
          const meta = metaFromRow(row);
          const rec: ProfileRecord = { ...meta, arrays: {} };
          if (names.length > 0) {
            for (const a of getArrays.all(k.station, k.channel, k.timeMs, wanted)) {
              const name = String(a.name) as ProfileArrayName;
              (rec.arrays as Record<string, Float32Array | Uint8Array>)[name] = blobToArray(name, a.data as Uint8Array, meta.id, meta.bins);
            }
          }
          out.push(rec);
        }
      })();
      return out;
    });
  }

  async cellSums(q: CellQuery): Promise<CellSumRow[]> {
    checkCellQuery(q);
    const aligned = q.fromMs % HOUR_MS === 0 && q.toMs % HOUR_MS === 0;
    const table = !aligned ? 'cells' : q.groupBy === 'cell' || q.cells !== undefined ? 'cell_hourly' : 'district_hourly';
    const shape = `cells:${table}:${q.groupBy}:${q.bucket ?? ''}:${q.cells !== undefined}:${q.district !== undefined}`;
    return this.guard('read cell sums', () => {
      const params: Row = { station: q.station, channel: q.channel, fromMs: q.fromMs, toMs: q.toMs };
      if (q.cells !== undefined) params.cells = JSON.stringify(q.cells);
      if (q.district !== undefined) params.district = q.district;
      return this.stmt(shape, cellSumSql(table, q)).all(params).map((r) => ({
        timeMs: nanIfNull(r.bucket),
        key: String(r.key),
        ...(q.groupBy === 'cell' ? { district: String(r.district ?? '') } : {}),
        n: Number(r.n),
        pm10Sum: nanIfNull(r.pm10),
        pm25Sum: nanIfNull(r.pm25),
        alphaSum: nanIfNull(r.alpha),
        contributions: Number(r.contributions),
      }));
    });
  }

  async health(q: HealthQuery): Promise<HealthRecord[]> {
    checkHealthQuery(q);
    const limit = checkLimit(q.limit, 10_000);
    const order = checkOrder(q.order) === 'desc' ? 'DESC' : 'ASC';
    const fieldFilter = '(@fields IS NULL OR name IN (SELECT value FROM json_each(@fields)))';
    const sql = `SELECT time_ms, name, type, num, str FROM health WHERE station = @station AND ${fieldFilter} AND time_ms IN (
        SELECT DISTINCT time_ms FROM health WHERE station = @station AND time_ms >= @fromMs AND time_ms < @toMs AND ${fieldFilter}
        ORDER BY time_ms ${order} LIMIT @limit)
      ORDER BY time_ms ${order}, name`;
    return this.guard('read health', () => {
      const rows = this.stmt(`health:${order}`, sql).all({
        station: q.station, fromMs: q.fromMs, toMs: q.toMs, limit, fields: q.fields === undefined ? null : JSON.stringify(q.fields),
      });
      const out: HealthRecord[] = [];
      for (const r of rows) {
        const timeMs = Number(r.time_ms);
        let rec = out[out.length - 1];
        if (!rec || rec.timeMs !== timeMs) out.push((rec = { station: q.station, timeMs, values: {} }));
        rec.values[String(r.name)] = r.type === 's' ? String(r.str) : r.type === 'b' ? Number(r.num) !== 0 : nanIfNull(r.num);
      }
      return out;
    });
  }

  async putParamSet(p: ParamSetRecord): Promise<void> {
    checkParamSet(p);
    try {
      this.guard('write parameter set', () => {
        this.stmt('putParams', 'INSERT OR REPLACE INTO param_sets (id, json, name, created_ms) VALUES (?, ?, ?, ?)').run(p.id, p.json, p.name, p.createdMs);
      });
    } catch (e) {
      this.writeErrors++;
      throw e;
    }
  }

  async getParamSet(id: string): Promise<ParamSetRecord | null> {
    checkId(id, 'id');
    return this.guard('read parameter set', () => {
      const r = this.stmt('getParams', 'SELECT id, json, name, created_ms FROM param_sets WHERE id = ?').get(id);
      return r ? { id: String(r.id), json: String(r.json), name: String(r.name), createdMs: Number(r.created_ms) } : null;
    });
  }

  async listParamSets(): Promise<ParamSetRecord[]> {
    return this.guard('list parameter sets', () =>
      this.stmt('listParams', 'SELECT id, json, name, created_ms FROM param_sets ORDER BY created_ms, id')
        .all()
        .map((r) => ({ id: String(r.id), json: String(r.json), name: String(r.name), createdMs: Number(r.created_ms) })),
    );
  }

  async writeAqHours(records: AqHourRecord[]): Promise<void> {
    const db = this.need();
    const list = checkAqHours(records);
    try {
      this.guard('write AQ hours', () => {
        const ins = this.stmt(
          'insAq',
          `INSERT INTO aq_hours (aq_station, hour_ms, pm10, pm25, source) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (aq_station, hour_ms) DO UPDATE SET pm10 = excluded.pm10, pm25 = excluded.pm25, source = excluded.source`,
        );
        db.transaction(() => {
          for (const r of list) ins.run(r.aqStation, r.timeMs, nullIfNaN(r.pm10), nullIfNaN(r.pm25), r.source);
        }).immediate();
      });
    } catch (e) {
      this.writeErrors++;
      throw e;
    }
  }

  async aqHours(q: AqHourQuery): Promise<AqHourRecord[]> {
    const c = checkAqQuery(q);
    return this.guard('read AQ hours', () =>
      this.stmt('aqHours', 'SELECT aq_station, hour_ms, pm10, pm25, source FROM aq_hours WHERE aq_station = ? AND hour_ms >= ? AND hour_ms < ? ORDER BY hour_ms LIMIT ?')
        .all(c.aqStation, c.fromMs, c.toMs, c.limit)
        .map((r) => ({ aqStation: String(r.aq_station), timeMs: Number(r.hour_ms), pm10: nanIfNull(r.pm10), pm25: nanIfNull(r.pm25), source: String(r.source) })),
    );
  }

  status(): BackendStatus {
    return { reachable: this.db !== null && this.db.open, spooledPoints: 0, spooledBytes: 0, writeErrors: this.writeErrors, lastError: this.lastError };
  }

  async close(): Promise<void> {
    const db = this.db;
    this.db = null;
    this.stmts.clear();
    if (db?.open) {
      try {
        db.pragma('wal_checkpoint(TRUNCATE)');
      } finally {
        db.close();
      }
    }
  }

  /**
   * Deletes raw rows older than `rawRetentionMs` before `referenceMs` (default: the newest stored
   * profile). Roll-ups and parameter sets are kept. Returns the number of rows deleted.
   */
  async prune(referenceMs?: number): Promise<number> {
    const db = this.need();
    this.lastPruneMs = Date.now();
    if (this.retentionMs <= 0) return 0;
    return this.guard('prune', () => {
      const ref = referenceMs ?? nanIfNull(this.stmt('maxTime', 'SELECT max(time_ms) AS t FROM profiles').get()?.t);
      if (!Number.isFinite(ref)) return 0;
      const cutoff = ref - this.retentionMs;
      let deleted = 0;
      if (cutoff <= this.prunedBeforeMs) return 0;
      db.transaction(() => {
        for (const table of ['profiles', 'profile_arrays', 'cells', 'health']) {
          deleted += this.stmt(`prune:${table}`, `DELETE FROM ${table} WHERE time_ms < ?`).run(cutoff).changes;
        }
        this.stmt('setHorizon', "INSERT INTO meta (key, value) VALUES ('pruned_before_ms', ?) ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)").run(cutoff);
      }).immediate();
      this.prunedBeforeMs = cutoff;
      return deleted;
    });
  }

  private need(): Db {
    if (!this.db) throw new LidarError('LIDAR_ERR_IO', `embedded store ${this.path} is not open (call open())`);
    return this.db;
  }

  private stmt(key: string, sql: string): Stmt {
    let s = this.stmts.get(key);
    if (!s) {
      s = this.need().prepare(sql);
      this.stmts.set(key, s);
    }
    return s;
  }

  /** Runs a database step; non-LidarErrors become LIDAR_ERR_IO naming the store and the step. */
  private guard<T>(step: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      const err = isLidarError(e)
        ? e
        : /SQLITE_TOOBIG|too big/i.test(String((e as Error)?.message)) || (e as { code?: string })?.code === 'SQLITE_TOOBIG'
          ? new LidarError('LIDAR_ERR_BAD_VALUE', `value too big for the embedded store (${(e as Error).message})`)
          : new LidarError('LIDAR_ERR_IO', `embedded store ${this.path}: ${step} failed: ${(e as Error)?.message ?? String(e)}`);
      this.lastError = err.message;
      throw err;
    }
  }
}

/** The embedded (SQLite, one file) StoreBackend. Call open() before use. */
export function createEmbeddedBackend(options: EmbeddedStoreOptions): StoreBackend & { readonly path: string; prune(referenceMs?: number): Promise<number> } {
  return new EmbeddedBackend(options);
}
