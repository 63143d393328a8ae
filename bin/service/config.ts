/**
 * Service configuration (`lidar-pm serve --config FILE`, JSON): validated with errors naming the key,
 * defaults for everything, environment overrides for secrets and URLs. Every key is documented in
 * docs/configuration.md. Without a file: the embedded store under ./data and the recorded Sofia winter
 * scenario replayed as if live.
 */
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { LidarError } from '../../processing/errors.js';
import { REPO_ROOT, readJson } from '../io.js';
import { defaultPoolSize } from '../../ingest/worker-pool.js';

export interface StoreConfig {
  kind: 'embedded' | 'influx';
  /** embedded: the database file. */
  path: string;
  /** influx */
  url: string;
  database: string;
  username: string | null;
  password: string | null;
  rawRetention: string;
  spoolDir: string;
  spoolMaxBytes: number;
}

export type SourceConfig =
  | { kind: 'mqtt'; url: string; clientId: string; sharedGroup: string | null; username: string | null; password: string | null; maxInFlight: number; announceProducts: boolean }
  | { kind: 'serial'; path: string; baudRate: number; station: string }
  | { kind: 'folder'; dir: string; station: string; stableMs: number }
  | { kind: 'replay'; dir: string; station: string; speed: number; loop: boolean; shiftToNow: boolean; backfill: boolean };

export interface ServiceConfig {
  dataDir: string;
  /** Station id -> station JSON file. */
  stations: Record<string, string>;
  /** Station id -> parameter set (inline JSON object); {} = defaults. */
  params: Record<string, unknown>;
  store: StoreConfig;
  sources: SourceConfig[];
  pipeline: { workers: number; queueCapacity: number; archiveRaw: boolean; minCalibrationReferenceM: number };
  map: { cellSizeM: number; maxHeightAglM: number; districts: string };
  http: { host: string; port: number; corsOrigins: string[]; rateLimitPerMinute: number; bodyLimitBytes: number; trustProxy: boolean; dashboardDir: string };
  /** Bearer tokens for the write routes, stored as SHA-256 (`lidar-pm token NAME` makes one). */
  auth: { tokens: Array<{ name: string; sha256: string; scopes?: string[] }> };
}

type Obj = Record<string, unknown>;

function bad(key: string, detail: string, file?: string): never {
  throw new LidarError('LIDAR_ERR_BAD_VALUE', detail, { field: key, ...(file ? { file } : {}) });
}

class Reader {
  constructor(readonly file: string | undefined, readonly baseDir: string) {}
  obj(v: unknown, key: string): Obj {
    if (v === undefined) return {};
    if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(key, `${key} must be an object`, this.file);
    return v as Obj;
  }
  known(o: Obj, key: string, keys: string[]): void {
    for (const k of Object.keys(o)) if (!keys.includes(k)) bad(`${key}.${k}`, `unknown key ${key ? `${key}.` : ''}${k} (known: ${keys.join(', ')})`, this.file);
  }
  str(v: unknown, key: string, def?: string): string {
    if (v === undefined && def !== undefined) return def;
    if (typeof v !== 'string' || v.length === 0 || v.length > 4096) bad(key, `${key} must be a non-empty string`, this.file);
    return v;
  }
  optStr(v: unknown, key: string): string | null {
    return v === undefined || v === null ? null : this.str(v, key);
  }
  num(v: unknown, key: string, def: number, min: number, max: number, integer = false): number {
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) bad(key, `${key} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], not ${JSON.stringify(v)}`, this.file);
    return v;
  }
  bool(v: unknown, key: string, def: boolean): boolean {
    if (v === undefined) return def;
    if (typeof v !== 'boolean') bad(key, `${key} must be true or false`, this.file);
    return v;
  }
  path(v: unknown, key: string, def: string): string {
    const p = this.str(v, key, def);
    return isAbsolute(p) ? p : resolve(this.baseDir, p);
  }
  stationId(v: unknown, key: string, stations: Record<string, string>): string {
    const s = this.str(v, key);
    if (!(s in stations)) bad(key, `${key}: unknown station ${JSON.stringify(s)} (configured: ${Object.keys(stations).join(', ')})`, this.file);
    return s;
  }
}

export const DEFAULT_REPLAY_DIR = join(REPO_ROOT, 'fixtures', 'scenarios', 'sofia-winter-inversion');

/**
 * The configuration from `file` (or the defaults), then the environment: PORT, LIDAR_PM_DATA_DIR,
 * LIDAR_PM_STORE (embedded|influx), LIDAR_PM_INFLUX_URL / _DATABASE / _USERNAME / _PASSWORD,
 * LIDAR_PM_MQTT_URL / _USERNAME / _PASSWORD (applied to every mqtt source).
 */
export function loadServiceConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const json = file ? readJson(file) : {};
  const r = new Reader(file, file ? dirname(resolve(file)) : process.cwd());
  const root = r.obj(json, 'config');
  r.known(root, '', ['data_dir', 'stations', 'params', 'store', 'sources', 'pipeline', 'map', 'http', 'auth', '//']);
  const dataDir = r.path(env.LIDAR_PM_DATA_DIR ?? root.data_dir, 'data_dir', './data');

  const stationsIn = root.stations === undefined ? { sofia: join(REPO_ROOT, 'config', 'stations', 'sofia.json') } : r.obj(root.stations, 'stations');
  const stations: Record<string, string> = {};
  for (const [id, p] of Object.entries(stationsIn)) {
    if (!/^[a-z0-9_-]{1,32}$/i.test(id)) bad(`stations.${id}`, `invalid station id ${JSON.stringify(id)}`, file);
    stations[id] = r.path(p, `stations.${id}`, '');
  }
  if (Object.keys(stations).length === 0) bad('stations', 'at least one station is needed', file);

  const paramsIn = r.obj(root.params, 'params');
  const params: Record<string, unknown> = {};
  for (const id of Object.keys(stations)) params[id] = paramsIn[id] ?? {};
  for (const id of Object.keys(paramsIn)) if (!(id in stations)) bad(`params.${id}`, `params for unknown station ${JSON.stringify(id)}`, file);

  const s = r.obj(root.store, 'store');
  r.known(s, 'store', ['kind', 'path', 'url', 'database', 'username', 'password', 'raw_retention', 'spool_dir', 'spool_max_bytes']);
  const kind = r.str(env.LIDAR_PM_STORE ?? s.kind, 'store.kind', 'embedded');
  if (kind !== 'embedded' && kind !== 'influx') bad('store.kind', `store.kind must be "embedded" or "influx", not ${JSON.stringify(kind)}`, file);
  const store: StoreConfig = {
    kind,
    path: r.path(s.path, 'store.path', join(dataDir, 'lidar-pm.sqlite')),
    url: r.str(env.LIDAR_PM_INFLUX_URL ?? s.url, 'store.url', 'http://127.0.0.1:8086'),
    database: r.str(env.LIDAR_PM_INFLUX_DATABASE ?? s.database, 'store.database', 'lidar_pm'),
    username: r.optStr(env.LIDAR_PM_INFLUX_USERNAME ?? s.username, 'store.username'),
    password: r.optStr(env.LIDAR_PM_INFLUX_PASSWORD ?? s.password, 'store.password'),
    rawRetention: r.str(s.raw_retention, 'store.raw_retention', '90d'),
    spoolDir: r.path(s.spool_dir, 'store.spool_dir', join(dataDir, 'spool')),
    spoolMaxBytes: r.num(s.spool_max_bytes, 'store.spool_max_bytes', 1 << 30, 1 << 20, 2 ** 40, true),
  };
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(store.database)) bad('store.database', `invalid database name ${JSON.stringify(store.database)}`, file);
  if (!/^(\d+[hdw]|INF)$/.test(store.rawRetention)) bad('store.raw_retention', `store.raw_retention must look like 90d, 12w, 2160h or INF, not ${JSON.stringify(store.rawRetention)}`, file);

  const defaultSources = [{ kind: 'replay', dir: DEFAULT_REPLAY_DIR, station: Object.keys(stations)[0], speed: 1, loop: true, shift_to_now: true, backfill: true }];
  const sourcesIn = root.sources === undefined ? defaultSources : root.sources;
  if (!Array.isArray(sourcesIn)) bad('sources', 'sources must be an array', file);
  const sources: SourceConfig[] = sourcesIn.map((raw, i): SourceConfig => {
    const key = `sources[${i}]`;
    const o = r.obj(raw, key);
    const k = r.str(o.kind, `${key}.kind`);
    if (k === 'mqtt') {
      r.known(o, key, ['kind', 'url', 'client_id', 'shared_group', 'username', 'password', 'max_in_flight', 'announce_products']);
      return {
        kind: 'mqtt',
        url: r.str(env.LIDAR_PM_MQTT_URL ?? o.url, `${key}.url`, 'mqtt://127.0.0.1:1883'),
        clientId: r.str(o.client_id, `${key}.client_id`, 'lidar-pm'),
        sharedGroup: r.optStr(o.shared_group, `${key}.shared_group`),
        username: r.optStr(env.LIDAR_PM_MQTT_USERNAME ?? o.username, `${key}.username`),
        password: r.optStr(env.LIDAR_PM_MQTT_PASSWORD ?? o.password, `${key}.password`),
        maxInFlight: r.num(o.max_in_flight, `${key}.max_in_flight`, 16, 1, 1000, true),
        announceProducts: r.bool(o.announce_products, `${key}.announce_products`, true),
      };
    }
    if (k === 'serial') {
      r.known(o, key, ['kind', 'path', 'baud', 'station']);
      return { kind: 'serial', path: r.str(o.path, `${key}.path`), baudRate: r.num(o.baud, `${key}.baud`, 115200, 50, 4_000_000, true), station: r.stationId(o.station, `${key}.station`, stations) };
    }
    if (k === 'folder') {
      r.known(o, key, ['kind', 'dir', 'station', 'stable_ms']);
      return { kind: 'folder', dir: r.path(o.dir, `${key}.dir`, join(dataDir, 'inbox')), station: r.stationId(o.station, `${key}.station`, stations), stableMs: r.num(o.stable_ms, `${key}.stable_ms`, 2000, 0, 600_000, true) };
    }
    if (k === 'replay') {
      r.known(o, key, ['kind', 'dir', 'station', 'speed', 'loop', 'shift_to_now', 'backfill']);
      return {
        kind: 'replay',
        dir: r.path(o.dir, `${key}.dir`, DEFAULT_REPLAY_DIR),
        station: r.stationId(o.station, `${key}.station`, stations),
        speed: r.num(o.speed, `${key}.speed`, 1, 0, 1e6),
        loop: r.bool(o.loop, `${key}.loop`, true),
        shiftToNow: r.bool(o.shift_to_now, `${key}.shift_to_now`, true),
        backfill: r.bool(o.backfill, `${key}.backfill`, false),
      };
    }
    return bad(`${key}.kind`, `${key}.kind must be mqtt, serial, folder or replay, not ${JSON.stringify(k)}`, file);
  });

  const p = r.obj(root.pipeline, 'pipeline');
  r.known(p, 'pipeline', ['workers', 'queue_capacity', 'archive_raw', 'min_calibration_reference_m']);
  const m = r.obj(root.map, 'map');
  r.known(m, 'map', ['cell_size_m', 'max_height_agl_m', 'districts']);
  const h = r.obj(root.http, 'http');
  r.known(h, 'http', ['host', 'port', 'cors_origins', 'rate_limit_per_minute', 'body_limit_bytes', 'trust_proxy', 'dashboard_dir']);
  const corsIn = h.cors_origins ?? [];
  if (!Array.isArray(corsIn) || corsIn.some((o) => typeof o !== 'string' || !/^https?:\/\/[^/\s]+$/.test(o))) bad('http.cors_origins', 'http.cors_origins must be a list of origins like "https://example.org"', file);
  const a = r.obj(root.auth, 'auth');
  r.known(a, 'auth', ['tokens']);
  const tokensIn = a.tokens ?? [];
  if (!Array.isArray(tokensIn)) bad('auth.tokens', 'auth.tokens must be a list', file);
  const tokens = tokensIn.map((t, i) => {
    const o = r.obj(t, `auth.tokens[${i}]`);
    r.known(o, `auth.tokens[${i}]`, ['name', 'sha256', 'scopes']);
    const sha = r.str(o.sha256, `auth.tokens[${i}].sha256`);
    if (!/^[0-9a-f]{64}$/.test(sha)) bad(`auth.tokens[${i}].sha256`, `auth.tokens[${i}].sha256 must be 64 lowercase hex digits (the SHA-256 of the token, not the token)`, file);
    const scopes = o.scopes === undefined ? undefined : o.scopes;
    if (scopes !== undefined && (!Array.isArray(scopes) || scopes.some((x) => typeof x !== 'string'))) bad(`auth.tokens[${i}].scopes`, 'scopes must be a list of names', file);
    return { name: r.str(o.name, `auth.tokens[${i}].name`), sha256: sha, ...(scopes ? { scopes: scopes as string[] } : {}) };
  });
  for (const digest of (env.LIDAR_PM_TOKEN_SHA256 ?? '').split(',').filter((x) => x !== '')) {
    if (!/^[0-9a-f]{64}$/.test(digest)) bad('LIDAR_PM_TOKEN_SHA256', 'LIDAR_PM_TOKEN_SHA256 must be comma-separated SHA-256 hex digests', file);
    tokens.push({ name: 'env', sha256: digest });
  }
  const portEnv = env.PORT === undefined ? undefined : Number(env.PORT);
  return {
    dataDir,
    stations,
    params,
    store,
    sources,
    pipeline: {
      workers: r.num(p.workers, 'pipeline.workers', defaultPoolSize(), 0, 64, true),
      queueCapacity: r.num(p.queue_capacity, 'pipeline.queue_capacity', 256, 1, 100_000, true),
      archiveRaw: r.bool(p.archive_raw, 'pipeline.archive_raw', true),
      minCalibrationReferenceM: r.num(p.min_calibration_reference_m, 'pipeline.min_calibration_reference_m', 5000, 0, 30_000),
    },
    map: {
      cellSizeM: r.num(m.cell_size_m, 'map.cell_size_m', 500, 100, 10_000, true),
      maxHeightAglM: r.num(m.max_height_agl_m, 'map.max_height_agl_m', 500, 10, 5000),
      districts: r.path(m.districts, 'map.districts', join(REPO_ROOT, 'geodata', 'sofia_districts_24_simplified.geojson')),
    },
    http: {
      host: r.str(h.host, 'http.host', '0.0.0.0'),
      port: r.num(portEnv ?? h.port, portEnv !== undefined ? 'PORT' : 'http.port', 8080, 0, 65535, true),
      corsOrigins: corsIn as string[],
      rateLimitPerMinute: r.num(h.rate_limit_per_minute, 'http.rate_limit_per_minute', 600, 1, 1e7, true),
      bodyLimitBytes: r.num(h.body_limit_bytes, 'http.body_limit_bytes', 1 << 20, 1024, 1 << 30, true),
      trustProxy: r.bool(h.trust_proxy, 'http.trust_proxy', false),
      dashboardDir: r.path(h.dashboard_dir, 'http.dashboard_dir', join(REPO_ROOT, 'dashboard', 'dist')),
    },
    auth: { tokens },
  };
}
