/**
 * `createInfluxBackend()`: the StoreBackend over InfluxDB's v1-compatible HTTP API (schema in
 * schema.ts, batching/retries/spool in writer.ts, roll-ups in rollup.ts, queries built with
 * influxql.ts). Documented in docs/storage.md ("InfluxDB adapter").
 */
import { join as joinPath } from 'node:path';
import { LidarError } from '../../processing/errors.js';
import { checkAqHours, checkAqQuery } from '../aq.js';
import {
  PROFILE_ARRAY_NAMES,
  profileId as profileIdOf,
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
import { createSpool, type DiskSpool } from '../spool.js';
import { InfluxHttp, InfluxHttpError, readError, seriesRows, type QuerySeries } from './http.js';
import { duration, iql, ident, int, join, nameRegex, qualified, str, timeRange, type InfluxQL } from './influxql.js';
import { checkName, checkTime, LineBuilder } from './line-protocol.js';

/** The summed fields of the roll-up measurements, and how many of their points one /write carries. */
const ROLLUP_FIELDS = ['n', 'pm10_sum', 'pm25_sum', 'alpha_sum', 'contributions'] as const;
const ROLLUP_LINES_PER_WRITE = 5000;
import { bucketStarts, DAY_MS, HOUR_MS, rollupPhases, RollupQueue, STATEMENTS_PER_REQUEST } from './rollup.js';
import {
  aqHourFromRow,
  aqHourLine,
  cellLine,
  HEALTH_PREFIX,
  healthLine,
  MEASUREMENTS,
  PARAM_SET_TIME_MS,
  paramSetFromRow,
  paramSetLine,
  PROFILE_META_FIELDS,
  profileArraysFromRow,
  profileLine,
  profileMetaFromRow,
  healthValuesFromRow,
  RP_LONG,
  RP_RAW,
  type Row,
} from './schema.js';
import { InfluxWriter, type PointLine, type RetryOptions } from './writer.js';

export interface InfluxBackendOptions {
  /** Base URL of the v1-compatible API, e.g. http://127.0.0.1:8086 */
  url: string;
  database: string;
  /** InfluxDB 1.x user (HTTP basic auth). */
  username?: string;
  password?: string;
  /** InfluxDB 2.x/3.x token for the v1-compatible endpoints. */
  token?: string;
  /** Duration of the raw retention policy (InfluxQL duration: '90d', '2160h', 'INF'; default '90d'). */
  rawRetention?: string;
  /** Create the database and retention policies in open() (default true; false on 2.x/3.x, where buckets and DBRP mappings are made by an admin). */
  createDatabase?: boolean;
  /** Directory of the disk spool (one per writer process). */
  spoolDir: string;
  /** Bound on the spool (default 1 GiB); full -> write() rejects with LIDAR_ERR_IO. */
  spoolMaxBytes?: number;
  /** Points per HTTP write (default 5000). */
  batchPoints?: number;
  /** Bytes per HTTP write (default 8 MiB; influxd's max-body-size is 25 MB). */
  batchBytes?: number;
  /** Linger before a flush (default 0: adaptive batching, the next batch fills while one is sent). */
  flushIntervalMs?: number;
  retry?: RetryOptions;
  /** Roll-ups of written hours are recomputed this long after the first write to them (default 1000 ms; bucketed reads and flush() recompute at once). */
  rollupDelayMs?: number;
  /** Per HTTP request (default 30 s). */
  requestTimeoutMs?: number;
  /** Log lines (spooling started/drained, data errors); default: stderr. */
  logger?: (line: string) => void;
}

const DEFAULT_LIMIT = 10_000;
/** profileArrays reads a channel's ids as ranges from this many ids on (see planRanges). */
const RANGE_READ_MIN_IDS = 4;

function requireOptions(o: InfluxBackendOptions): void {
  checkName(o.database, 'database');
  if (typeof o.spoolDir !== 'string' || o.spoolDir.length === 0) throw new LidarError('LIDAR_ERR_BAD_VALUE', 'spoolDir is required', { field: 'spoolDir' });
  if (o.rawRetention !== undefined) duration(o.rawRetention, 'rawRetention');
  for (const [name, v] of [
    ['batchPoints', o.batchPoints],
    ['batchBytes', o.batchBytes],
    ['spoolMaxBytes', o.spoolMaxBytes],
  ] as const) {
    if (v !== undefined && !(Number.isSafeInteger(v) && v > 0)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `${name} must be a positive integer, got ${v}`, { field: name });
  }
}

/** Parses `${station}:${channel}:${timeMs}` for the given station; null for another station's id. */
function parseId(station: string, id: string): { channel: string; timeMs: number } | null {
  if (typeof id !== 'string') throw new LidarError('LIDAR_ERR_BAD_VALUE', `profile id must be a string, got ${typeof id}`, { field: 'ids' });
  if (!id.startsWith(`${station}:`)) return null;
  const rest = id.slice(station.length + 1);
  const cut = rest.lastIndexOf(':');
  const timeText = rest.slice(cut + 1);
  const timeMs = Number(timeText);
  if (cut <= 0 || !/^-?\d+$/.test(timeText) || !Number.isSafeInteger(timeMs)) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `profile id ${JSON.stringify(id)} is not station:channel:timeMs`, { field: 'ids' });
  }
  return { channel: rest.slice(0, cut), timeMs };
}

function checkLimit(limit: number | undefined): number {
  const n = limit ?? DEFAULT_LIMIT;
  if (!Number.isSafeInteger(n) || n < 1) throw new LidarError('LIDAR_ERR_BAD_VALUE', `limit must be a positive integer, got ${limit}`, { field: 'limit' });
  return n;
}

function checkOrder(order: unknown): 'asc' | 'desc' {
  if (order === undefined || order === 'asc') return 'asc';
  if (order === 'desc') return 'desc';
  throw new LidarError('LIDAR_ERR_BAD_VALUE', `order must be 'asc' or 'desc', got ${JSON.stringify(order)}`, { field: 'order' });
}

export class InfluxBackend implements StoreBackend {
  readonly kind = 'influx' as const;
  private readonly o: InfluxBackendOptions;
  private readonly http: InfluxHttp;
  private readonly spool: DiskSpool;
  private readonly writer: InfluxWriter;
  private readonly rollups: RollupQueue;
  private readonly log: (line: string) => void;
  private schemaReady = false;
  private opened = false;
  private closed = false;

  constructor(options: InfluxBackendOptions) {
    requireOptions(options);
    this.o = options;
    this.log = options.logger ?? ((line) => process.stderr.write(`${line}\n`));
    this.http = new InfluxHttp({ url: options.url, username: options.username, password: options.password, token: options.token, timeoutMs: options.requestTimeoutMs });
    this.spool = createSpool({ dir: options.spoolDir, maxBytes: options.spoolMaxBytes ?? 1024 ** 3, logger: this.log });
    this.rollups = new RollupQueue({
      file: joinPath(options.spoolDir, 'rollups-owed.json'),
      run: (hours) => this.rollup(hours),
      spoolEmpty: () => this.spool.empty,
      delayMs: options.rollupDelayMs ?? 1000,
      log: this.log,
    });
    this.writer = new InfluxWriter({
      http: this.http,
      database: options.database,
      spool: this.spool,
      spoolDir: options.spoolDir,
      batchPoints: options.batchPoints ?? 5000,
      batchBytes: options.batchBytes ?? 8 * 1024 * 1024,
      flushIntervalMs: options.flushIntervalMs ?? 0,
      retry: { attempts: options.retry?.attempts ?? 3, baseDelayMs: options.retry?.baseDelayMs ?? 100, maxDelayMs: options.retry?.maxDelayMs ?? 5000 },
      log: this.log,
      ensureSchema: () => this.ensureSchema(),
      rollups: this.rollups,
    });
  }

  private get db(): string {
    return this.o.database;
  }

  /** Creates the database and retention policies; idempotent. */
  async ensureSchema(): Promise<void> {
    if (this.o.createDatabase === false) {
      this.schemaReady = true;
      return;
    }
    const db = ident(this.db, 'database');
    const raw = ident(RP_RAW);
    const long = ident(RP_LONG);
    const retention = duration(this.o.rawRetention ?? '90d', 'rawRetention');
    await this.http.query(null, iql`CREATE DATABASE ${db}`);
    const existing = await this.http.query(null, iql`SHOW RETENTION POLICIES ON ${db}`);
    const names = new Set((existing[0]?.series?.[0]?.values ?? []).map((v) => v[0]));
    const statements: InfluxQL[] = [];
    statements.push(names.has(RP_RAW) ? iql`ALTER RETENTION POLICY ${raw} ON ${db} DURATION ${retention} DEFAULT` : iql`CREATE RETENTION POLICY ${raw} ON ${db} DURATION ${retention} REPLICATION 1 DEFAULT`);
    if (!names.has(RP_LONG)) statements.push(iql`CREATE RETENTION POLICY ${long} ON ${db} DURATION INF REPLICATION 1`);
    await this.http.query(null, join(statements, '; '));
    this.schemaReady = true;
  }

  async open(): Promise<void> {
    if (this.closed) throw new LidarError('LIDAR_ERR_USAGE', 'influx store was closed; make a new one');
    if (this.opened) return;
    await this.spool.open();
    await this.rollups.load();
    try {
      await this.ensureSchema();
      this.writer.reachable = true;
    } catch (e) {
      if (e instanceof InfluxHttpError && (e.kind === 'network' || e.kind === 'server')) {
        // Start anyway: writes spool until the database answers; the schema is made before the drain.
        this.writer.reachable = false;
        this.writer.lastError = e.message;
        this.log(`influx: ${e.message}; starting with the spool, the schema is created when the database answers`);
      } else {
        await this.rollups.close();
        await this.spool.close();
        throw new LidarError('LIDAR_ERR_IO', `cannot set up InfluxDB database ${JSON.stringify(this.db)} at ${this.http.url}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    this.opened = true;
    this.writer.start();
  }

  private assertOpen(): void {
    if (!this.opened || this.closed) throw new LidarError('LIDAR_ERR_USAGE', this.closed ? 'influx store is closed' : 'influx store is not open (call open() first)');
  }

  async write(batch: WriteBatch): Promise<void> {
    this.assertOpen();
    if (typeof batch !== 'object' || batch === null) throw new LidarError('LIDAR_ERR_BAD_VALUE', 'a write batch must be an object', { field: 'batch' });
    const lines: PointLine[] = [];
    const cellTimes: number[] = [];
    for (const [name, list] of [
      ['profiles', batch.profiles],
      ['cells', batch.cells],
      ['health', batch.health],
    ] as const) {
      if (list !== undefined && !Array.isArray(list)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `${name} must be an array`, { field: name });
    }
    (batch.profiles ?? []).forEach((p, i) => lines.push({ rp: RP_RAW, line: profileLine(p, `profiles[${i}]`) }));
    (batch.cells ?? []).forEach((c, i) => {
      lines.push({ rp: RP_RAW, line: cellLine(c, `cells[${i}]`) });
      cellTimes.push(c.timeMs);
    });
    (batch.health ?? []).forEach((h, i) => lines.push({ rp: RP_RAW, line: healthLine(h, `health[${i}]`) }));
    await this.writer.submit(lines, bucketStarts(cellTimes, HOUR_MS));
  }

  private async rollup(hours: number[]): Promise<void> {
    if (!this.schemaReady) await this.ensureSchema();
    for (const phase of rollupPhases(this.db, RP_RAW, RP_LONG, hours)) {
      for (const step of phase) {
        const lines: string[] = [];
        for (const result of await this.http.query(this.db, step.query)) {
          if (result.error) throw new LidarError('LIDAR_ERR_IO', `roll-up into ${step.into} failed: ${result.error}`, { field: step.into });
          for (const series of result.series ?? []) {
            for (const row of seriesRows(series)) {
              const b = new LineBuilder(step.into);
              for (const [k, v] of Object.entries(series.tags ?? {})) b.tag(k, v);
              for (const f of ROLLUP_FIELDS) if (typeof row[f] === 'number') b.float(f, row[f] as number);
              lines.push(b.line(row.time as number));
            }
          }
        }
        for (let i = 0; i < lines.length; i += ROLLUP_LINES_PER_WRITE) await this.http.write(this.db, RP_LONG, lines.slice(i, i + ROLLUP_LINES_PER_WRITE).join('\n'));
      }
    }
  }

  async flush(timeoutMs = 30_000): Promise<void> {
    this.assertOpen();
    const deadline = Date.now() + timeoutMs;
    await this.writer.flush(timeoutMs);
    const left = deadline - Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LidarError('LIDAR_ERR_IO', `influx flush timed out after ${timeoutMs} ms recomputing the roll-ups of ${this.rollups.size} hours`)), Math.max(left, 0));
    });
    try {
      await Promise.race([this.rollups.settle().catch((e: unknown) => Promise.reject(readError('influx roll-ups', e))), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async select(what: string, q: InfluxQL): Promise<QuerySeries[][]> {
    try {
      const results = await this.http.query(this.db, q);
      return results.map((r) => r.series ?? []);
    } catch (e) {
      if (e instanceof InfluxHttpError && e.kind === 'missing-database') return [];
      throw readError(`influx ${what}`, e);
    }
  }

  private from(rp: string, measurement: string): InfluxQL {
    return qualified(this.db, rp, measurement);
  }

  async profiles(q: ProfileQuery): Promise<ProfileMeta[]> {
    this.assertOpen();
    const station = checkName(q.station, 'station');
    const conditions: InfluxQL[] = [iql`"station" = ${str(station)}`];
    if (q.channel !== undefined) conditions.push(iql`"channel" = ${str(checkName(q.channel, 'channel'))}`);
    if (q.mode !== undefined) {
      if (q.mode !== 'vertical' && q.mode !== 'scan') throw new LidarError('LIDAR_ERR_BAD_VALUE', `mode must be 'vertical' or 'scan', got ${JSON.stringify(q.mode)}`, { field: 'mode' });
      conditions.push(iql`"mode" = ${str(q.mode)}`);
    }
    conditions.push(timeRange(q.fromMs, q.toMs));
    const order = checkOrder(q.order) === 'desc' ? iql` ORDER BY time DESC` : iql``;
    const fields = join(['channel', 'mode', ...PROFILE_META_FIELDS].map((f) => ident(f)), ', ');
    const series = await this.select(
      'profiles',
      iql`SELECT ${fields} FROM ${this.from(RP_RAW, MEASUREMENTS.profile)} WHERE ${join(conditions, ' AND ')}${order} LIMIT ${int(checkLimit(q.limit), 'limit')}`,
    );
    return (series[0] ?? []).flatMap(seriesRows).map((row) => profileMetaFromRow(row, station));
  }

  async profileArrays(station: string, ids: string[], arrays?: ProfileArrayName[]): Promise<ProfileRecord[]> {
    this.assertOpen();
    checkName(station, 'station');
    if (!Array.isArray(ids)) throw new LidarError('LIDAR_ERR_BAD_VALUE', 'ids must be an array of profile ids', { field: 'ids' });
    if (arrays !== undefined) {
      if (!Array.isArray(arrays)) throw new LidarError('LIDAR_ERR_BAD_VALUE', 'arrays must be an array of names', { field: 'arrays' });
      for (const a of arrays) {
        if (!(PROFILE_ARRAY_NAMES as readonly string[]).includes(a)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `unknown array name ${JSON.stringify(a)} (known: ${PROFILE_ARRAY_NAMES.join(', ')})`, { field: 'arrays' });
      }
    }
    const wanted = arrays === undefined ? [...PROFILE_ARRAY_NAMES] : [...new Set(arrays)];
    const keys = [...new Set(ids)].map((id) => parseId(station, id)).filter((k): k is { channel: string; timeMs: number } => k !== null);
    const base = join(['channel', 'mode', ...PROFILE_META_FIELDS].map((f) => ident(f)), ', ');
    const fields = wanted.length > 0 ? iql`${base}, ${nameRegex('a_', wanted, '_')}` : base;
    const profile = this.from(RP_RAW, MEASUREMENTS.profile);
    const byChannel = new Map<string, number[]>();
    for (const k of keys) {
      checkName(k.channel, 'ids');
      checkTime(k.timeMs, 'ids');
      const times = byChannel.get(k.channel) ?? [];
      times.push(k.timeMs);
      byChannel.set(k.channel, times);
    }
    // Reading one point decodes its whole storage block, so many ids close in time are cheaper as one
    // range query per mode (filtered here) than as one statement each: planRanges decides.
    const statements: InfluxQL[] = [];
    const wantedIds = new Set(keys.map((k) => profileIdOf(station, k.channel, k.timeMs)));
    for (const [channel, times] of byChannel) {
      const where = iql`"station" = ${str(station)} AND "channel" = ${str(channel)}`;
      const { ranges, singles } = await this.planRanges(where, times);
      for (const r of ranges) statements.push(iql`SELECT ${fields} FROM ${profile} WHERE ${where} AND "mode" = ${str(r.mode)} AND ${timeRange(r.fromMs, r.toMs)}`);
      for (const t of singles) statements.push(iql`SELECT ${fields} FROM ${profile} WHERE ${where} AND ${timeRange(t, t + 1)}`);
    }
    const found = new Map<string, ProfileRecord>();
    for (let i = 0; i < statements.length; i += STATEMENTS_PER_REQUEST) {
      const results = await this.select('profileArrays', join(statements.slice(i, i + STATEMENTS_PER_REQUEST), '; '));
      for (const seriesList of results) {
        for (const row of seriesList.flatMap(seriesRows)) {
          const meta = profileMetaFromRow(row, station);
          if (!wantedIds.has(meta.id)) continue;
          found.set(meta.id, { ...meta, arrays: profileArraysFromRow(row, wanted, meta.id) });
        }
      }
    }
    const out: ProfileRecord[] = [];
    for (const id of new Set(ids)) {
      const r = found.get(id);
      if (r !== undefined) out.push(r);
    }
    return out;
  }

  /**
   * Splits the requested times of one channel into range reads and single-point reads. With few ids,
   * all single. Otherwise a cheap metadata query over [first, last] finds each id's mode and how many
   * other profiles of that mode lie between; a mode whose requested ids are at least a quarter of its
   * profiles in the span is read as one range (e.g. the verticals of a 24 h curtain, the rays of a
   * scan), the rest point by point.
   */
  private async planRanges(where: InfluxQL, times: number[]): Promise<{ ranges: Array<{ mode: string; fromMs: number; toMs: number }>; singles: number[] }> {
    if (times.length < RANGE_READ_MIN_IDS) return { ranges: [], singles: times };
    const sorted = [...times].sort((a, b) => a - b);
    const series = await this.select(
      'profileArrays',
      iql`SELECT "arrays", "mode" FROM ${this.from(RP_RAW, MEASUREMENTS.profile)} WHERE ${where} AND ${timeRange(sorted[0], sorted[sorted.length - 1] + 1)}`,
    );
    const requested = new Set(times);
    const perMode = new Map<string, { total: number; times: number[] }>();
    for (const row of (series[0] ?? []).flatMap(seriesRows)) {
      const mode = typeof row.mode === 'string' ? row.mode : '';
      const m = perMode.get(mode) ?? { total: 0, times: [] };
      m.total++;
      if (requested.has(row.time as number)) m.times.push(row.time as number);
      perMode.set(mode, m);
    }
    const ranges: Array<{ mode: string; fromMs: number; toMs: number }> = [];
    const singles: number[] = [];
    for (const [mode, m] of perMode) {
      if (m.times.length === 0) continue;
      if ((mode === 'scan' || mode === 'vertical') && m.times.length >= RANGE_READ_MIN_IDS && m.times.length * 4 >= m.total) {
        ranges.push({ mode, fromMs: Math.min(...m.times), toMs: Math.max(...m.times) + 1 });
      } else {
        singles.push(...m.times);
      }
    }
    return { ranges, singles };
  }

  /**
   * Sums of the contributions with timeMs in [fromMs, toMs). With a bucket, rows are per UTC hour or
   * day (bucket start in timeMs): whole buckets inside the window come from the roll-ups (cell_1h,
   * cell_1d), the partly covered buckets at either end from raw `cell` points.
   */
  async cellSums(q: CellQuery): Promise<CellSumRow[]> {
    this.assertOpen();
    const station = checkName(q.station, 'station');
    const channel = checkName(q.channel, 'channel');
    const groupTag = q.groupBy === 'cell' ? 'cell' : q.groupBy === 'district' ? 'district' : q.groupBy === 'station' ? 'station' : null;
    if (groupTag === null) throw new LidarError('LIDAR_ERR_BAD_VALUE', `groupBy must be 'cell', 'district' or 'station', got ${JSON.stringify(q.groupBy)}`, { field: 'groupBy' });
    const bucket = q.bucket ?? null;
    if (bucket !== null && bucket !== '1h' && bucket !== '1d') throw new LidarError('LIDAR_ERR_BAD_VALUE', `bucket must be '1h', '1d' or null, got ${JSON.stringify(bucket)}`, { field: 'bucket' });
    timeRange(q.fromMs, q.toMs); // validates the window
    const filters: InfluxQL[] = [iql`"station" = ${str(station)}`, iql`"channel" = ${str(channel)}`];
    if (q.cells !== undefined) {
      if (!Array.isArray(q.cells)) throw new LidarError('LIDAR_ERR_BAD_VALUE', 'cells must be an array of cell ids', { field: 'cells' });
      if (q.cells.length === 0) return [];
      filters.push(iql`(${join([...new Set(q.cells)].map((c) => iql`"cell" = ${str(checkName(c, 'cells'))}`), ' OR ')})`);
    }
    if (q.district !== undefined) filters.push(iql`"district" = ${str(checkName(q.district, 'district', true))}`);
    // With groupBy cell, the district tag rides along (a cell lies in one district).
    const groupTags = groupTag === 'cell' ? iql`"cell", "district"` : ident(groupTag);
    const rawSource = this.from(RP_RAW, MEASUREMENTS.cell);
    const rawSums = iql`sum("n") AS "n", sum("pm10_sum") AS "pm10_sum", sum("pm25_sum") AS "pm25_sum", sum("alpha_sum") AS "alpha_sum", count("n") AS "contributions"`;
    const rollSums = iql`sum("n") AS "n", sum("pm10_sum") AS "pm10_sum", sum("pm25_sum") AS "pm25_sum", sum("alpha_sum") AS "alpha_sum", sum("contributions") AS "contributions"`;
    const where = (fromMs: number, toMs: number): InfluxQL => join([...filters, timeRange(fromMs, toMs)], ' AND ');
    const statements: InfluxQL[] = [];
    if (bucket === null) {
      statements.push(iql`SELECT ${rawSums} FROM ${rawSource} WHERE ${where(q.fromMs, q.toMs)} GROUP BY ${groupTags}`);
    } else {
      const step = bucket === '1h' ? HOUR_MS : DAY_MS;
      const every = bucket === '1h' ? iql`time(1h)` : iql`time(1d)`;
      const wholeFrom = Math.ceil(q.fromMs / step) * step;
      const wholeTo = Math.floor(q.toMs / step) * step;
      const rawPart = (fromMs: number, toMs: number): InfluxQL => iql`SELECT ${rawSums} FROM ${rawSource} WHERE ${where(fromMs, toMs)} GROUP BY ${every}, ${groupTags} fill(none)`;
      if (wholeFrom < wholeTo) {
        // District and station sums without a cell filter read the district roll-ups (24 series, not every cell).
        const perDistrict = groupTag !== 'cell' && q.cells === undefined;
        const rollSource = this.from(RP_LONG, perDistrict ? (bucket === '1h' ? MEASUREMENTS.district1h : MEASUREMENTS.district1d) : bucket === '1h' ? MEASUREMENTS.cell1h : MEASUREMENTS.cell1d);
        statements.push(iql`SELECT ${rollSums} FROM ${rollSource} WHERE ${where(wholeFrom, wholeTo)} GROUP BY ${every}, ${groupTags} fill(none)`);
        if (q.fromMs < wholeFrom) statements.push(rawPart(q.fromMs, wholeFrom));
        if (wholeTo < q.toMs) statements.push(rawPart(wholeTo, q.toMs));
      } else if (q.fromMs < q.toMs) {
        statements.push(rawPart(q.fromMs, q.toMs));
      }
    }
    if (statements.length === 0) return [];
    if (bucket !== null) {
      // Roll-ups owed for recent writes are recomputed first, so bucketed reads see every write.
      await this.rollups.settle().catch((e: unknown) => Promise.reject(readError('influx roll-ups', e)));
    }
    const results = await this.select('cellSums', join(statements, '; '));
    const merged = new Map<string, CellSumRow>();
    const add = (a: number, b: number): number => (Number.isNaN(a) ? b : Number.isNaN(b) ? a : a + b);
    for (const seriesList of results) {
      for (const s of seriesList) {
        const key = s.tags?.[groupTag] ?? '';
        for (const row of seriesRows(s)) {
          const num = (f: string): number => (typeof row[f] === 'number' ? (row[f] as number) : NaN);
          const contributions = num('contributions');
          if (!(contributions > 0)) continue;
          const timeMs = bucket === null ? NaN : num('time');
          const next: CellSumRow = { timeMs, key, n: num('n'), pm10Sum: num('pm10_sum'), pm25Sum: num('pm25_sum'), alphaSum: num('alpha_sum'), contributions };
          if (groupTag === 'cell') next.district = s.tags?.district ?? '';
          const id = `${timeMs}|${key}`;
          const prev = merged.get(id);
          if (prev === undefined) merged.set(id, next);
          else {
            prev.n = add(prev.n, next.n);
            prev.pm10Sum = add(prev.pm10Sum, next.pm10Sum);
            prev.pm25Sum = add(prev.pm25Sum, next.pm25Sum);
            prev.alphaSum = add(prev.alphaSum, next.alphaSum);
            prev.contributions += next.contributions;
          }
        }
      }
    }
    return [...merged.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : (a.timeMs || 0) - (b.timeMs || 0)));
  }

  async health(q: HealthQuery): Promise<HealthRecord[]> {
    this.assertOpen();
    const station = checkName(q.station, 'station');
    let fields: InfluxQL;
    let names: string[] | undefined;
    if (q.fields !== undefined) {
      if (!Array.isArray(q.fields)) throw new LidarError('LIDAR_ERR_BAD_VALUE', 'fields must be an array of names', { field: 'fields' });
      names = [...new Set(q.fields.map((f) => checkName(f, 'fields')))];
      if (names.length === 0) return [];
      fields = join(names.flatMap((n) => Object.values(HEALTH_PREFIX).map((p) => ident(p + n))), ', ');
    } else {
      fields = iql`*`;
    }
    const order = checkOrder(q.order) === 'desc' ? iql` ORDER BY time DESC` : iql``;
    const series = await this.select(
      'health',
      iql`SELECT ${fields} FROM ${this.from(RP_RAW, MEASUREMENTS.health)} WHERE "station" = ${str(station)} AND ${timeRange(q.fromMs, q.toMs)}${order} LIMIT ${int(checkLimit(q.limit), 'limit')}`,
    );
    return (series[0] ?? []).flatMap(seriesRows).map((row: Row) => ({ station, timeMs: row.time as number, values: healthValuesFromRow(row, names) }));
  }

  async putParamSet(p: ParamSetRecord): Promise<void> {
    this.assertOpen();
    await this.writer.submit([{ rp: RP_LONG, line: paramSetLine(p) }], []);
  }

  private async paramSetRows(id: string | null): Promise<ParamSetRecord[]> {
    const where = id === null ? iql`` : iql`"id" = ${str(id)} AND `;
    const series = await this.select('param sets', iql`SELECT * FROM ${this.from(RP_LONG, MEASUREMENTS.paramSet)} WHERE ${where}${timeRange(PARAM_SET_TIME_MS, PARAM_SET_TIME_MS + 1)}`);
    return (series[0] ?? [])
      .flatMap(seriesRows)
      .map(paramSetFromRow)
      .filter((p): p is ParamSetRecord => p !== null);
  }

  async getParamSet(id: string): Promise<ParamSetRecord | null> {
    this.assertOpen();
    const rows = await this.paramSetRows(checkName(id, 'id'));
    return rows.find((r) => r.id === id) ?? null;
  }

  async listParamSets(): Promise<ParamSetRecord[]> {
    this.assertOpen();
    const rows = await this.paramSetRows(null);
    return rows.sort((a, b) => a.createdMs - b.createdMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async writeAqHours(records: AqHourRecord[]): Promise<void> {
    this.assertOpen();
    const list = checkAqHours(records);
    await this.writer.submit(list.map((r) => ({ rp: RP_LONG, line: aqHourLine(r) })), []);
  }

  async aqHours(q: AqHourQuery): Promise<AqHourRecord[]> {
    this.assertOpen();
    const c = checkAqQuery(q);
    if (c.toMs <= c.fromMs) return [];
    const series = await this.select(
      'AQ hours',
      iql`SELECT "pm10", "pm25", "have", "source" FROM ${this.from(RP_LONG, MEASUREMENTS.aqHour)} WHERE "aq_station" = ${str(c.aqStation)} AND ${timeRange(c.fromMs, c.toMs)} LIMIT ${int(c.limit, 'limit')}`,
    );
    return (series[0] ?? []).flatMap(seriesRows).map((row: Row) => aqHourFromRow(row, c.aqStation));
  }

  status(): BackendStatus {
    const s = this.spool.stats();
    return {
      reachable: this.writer.reachable,
      spooledPoints: s.count,
      spooledBytes: s.bytes,
      writeErrors: this.writer.writeErrors,
      lastError: this.writer.lastError,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.opened) return;
    await this.writer.close();
    if (this.writer.reachable && this.spool.empty) {
      // Best effort: what is not recomputed now stays owed on disk for the next open().
      await this.rollups.settle().catch(() => {});
    }
    await this.rollups.close();
    await this.spool.close();
  }
}

export function createInfluxBackend(options: InfluxBackendOptions): StoreBackend & { ensureSchema(): Promise<void> } {
  return new InfluxBackend(options);
}
