// An ApiContext over a real store filled by the real pipeline (inline retrieval) from the recorded
// Sofia winter scenario: what `lidar-pm serve` hands the API, built in-process for the API tests and
// scripts/bench-api.ts. No vitest imports here (the benchmark uses it too).
import { EventEmitter } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiContext, ApiSettings, AqStationInfo } from '../api/context.js';
import { Pipeline } from '../ingest/pipeline.js';
import { Quarantine } from '../ingest/quarantine.js';
import { RetrievalPool } from '../ingest/worker-pool.js';
import type { JobEnvironment } from '../ingest/job.js';
import { LidarError } from '../processing/errors.js';
import { canonicalParams, paramsId, resolveParams } from '../processing/retrieval/params.js';
import { parseStation, type StationConfig } from '../processing/station.js';
import { districtsFromGeoJson } from '../processing/geometry/grid.js';
import { shiftLicelTimes } from '../processing/licel/shift.js';
import { decodeLicel } from '../processing/licel/decode.js';
import { encodeLicel } from '../processing/licel/encode.js';
import { loadTerrain } from '../bin/io.js';
import type { StoreBackend } from '../store/port.js';
import { createEmbeddedBackend } from '../store/embedded/backend.js';
import { createResultStore, type ResultStore } from '../store/result-store.js';

export const ROOT = join(import.meta.dirname, '..');
export const WINTER_DIR = join(ROOT, 'fixtures', 'scenarios', 'sofia-winter-inversion');
export const WINTER_FILES = readdirSync(WINTER_DIR).filter((f) => f.startsWith('SF')).sort();
/** Measurement start of the first winter file (2018-01-19 16:00:00 UTC) and end of the last one. */
export const WINTER_START_MS = Date.UTC(2018, 0, 19, 16, 0, 0);
export const WINTER_END_MS = Date.UTC(2018, 0, 19, 18, 0, 0);

export const sofiaStation: StationConfig = parseStation(JSON.parse(readFileSync(join(ROOT, 'config', 'stations', 'sofia.json'), 'utf8')));
export const sofiaDistricts = districtsFromGeoJson(JSON.parse(readFileSync(join(ROOT, 'geodata', 'sofia_districts_24_simplified.geojson'), 'utf8')));
export const sofiaAqStations: AqStationInfo[] = (JSON.parse(readFileSync(join(ROOT, 'config', 'aq-stations', 'sofia.json'), 'utf8')) as { stations: AqStationInfo[] }).stations.map(
  ({ id, name_en, name_bg, lat, lon, ground_m, station_type, area }) => ({ id, name_en, name_bg, lat, lon, ground_m, station_type, area }),
);

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

export interface FixtureOptions {
  /** A backend to fill (default: a new embedded store in the fixture's temp dir). Opened here. */
  backend?: StoreBackend;
  /** Winter files to run through the pipeline (default all 192, 2 hours). */
  files?: string[];
  /** Repeat the 2-hour scenario this many times, each copy re-stamped 2 h later (default 1). */
  repeats?: number;
  settings?: Partial<ApiSettings>;
  /** Parameter set of the station (default {monte_carlo: 0}: fast). */
  params?: unknown;
  /** Retrieval worker threads (default 0: inline). */
  poolSize?: number;
  /** Keep the raw archive (default true). */
  archive?: boolean;
}

export interface ApiFixture {
  ctx: ApiContext;
  store: ResultStore;
  pipeline: Pipeline;
  pool: RetrievalPool;
  dir: string;
  /** Bearer token with every scope, and one limited to the 'jobs' scope. */
  token: string;
  jobsOnlyToken: string;
  /** What ctx.sources() reports (tests flip `connected`). */
  source: { name: string; connected: boolean; stats: Record<string, number> };
  /** The fixture's clock: a minute after the last stored measurement. */
  nowMs: number;
  /** Moves the fixture's clock. */
  setNow(ms: number): void;
  /** Runs Licel files (names in the winter folder) through the pipeline, re-stamped by shiftMs. */
  feed(files: string[], shiftMs?: number): Promise<void>;
  close(): Promise<void>;
}

const TWO_HOURS_MS = 2 * 3_600_000;

function shifted(name: string, shiftMs: number): { bytes: Uint8Array; name: string } {
  const bytes = new Uint8Array(readFileSync(join(WINTER_DIR, name)));
  if (shiftMs === 0) return { bytes, name };
  const file = shiftLicelTimes(decodeLicel(bytes, name), shiftMs, sofiaStation.timezone);
  return { bytes: encodeLicel(file), name: file.header.fileName };
}

export async function buildApiFixture(options: FixtureOptions = {}): Promise<ApiFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'lidar-api-'));
  const backend = options.backend ?? createEmbeddedBackend({ path: join(dir, 'store.sqlite'), rawRetentionMs: 0, synchronous: 'normal' });
  await backend.open();
  const store = createResultStore(backend);
  const env: JobEnvironment = { terrain: loadTerrain(), map: { cellSizeM: 500, maxHeightAglM: 500, districts: sofiaDistricts } };
  const pool = new RetrievalPool(env, options.poolSize ?? 0);
  const resolved = resolveParams(options.params ?? { monte_carlo: 0 });
  const id = paramsId(resolved);
  await store.putParamSet({ id, json: canonicalParams(resolved), name: 'configured', createdMs: WINTER_START_MS });
  const activeParams: ApiContext['activeParams'] = { sofia: { params: resolved, paramsId: id, json: options.params ?? { monte_carlo: 0 } } };
  const events = new EventEmitter();
  const archiveDir = options.archive === false ? null : join(dir, 'raw');
  let nowMs = WINTER_END_MS + 60_000;
  const pipeline = new Pipeline({
    store: backend,
    stations: { sofia: sofiaStation },
    params: (station) => activeParams[station],
    quarantine: new Quarantine(join(dir, 'quarantine')),
    pool,
    archiveDir,
    retryMinMs: 10,
    log: process.env.API_FIXTURE_LOG ? (l, m) => console.error(`[pipeline] ${l}: ${m}`) : () => undefined,
    now: () => nowMs,
  });
  // The service forwards the pipeline's events to ctx.events (bin/service/compose.ts does the same).
  for (const name of ['stored', 'quarantined', 'status']) pipeline.on(name, (e) => events.emit(name, e));
  const source = { name: 'test-feed', connected: true, stats: { sent: 0 } as Record<string, number> };

  const feed = async (files: string[], shiftMs = 0) => {
    for (const f of files) {
      const { bytes, name } = shifted(f, shiftMs);
      await pipeline.sink({ type: 'item', item: { kind: 'licel', station: 'sofia', bytes, name, origin: `fixture:${name}`, receivedMs: nowMs, ack: () => undefined } });
      source.stats.sent++;
    }
    await pipeline.idle();
  };

  const repeats = options.repeats ?? 1;
  for (let r = 0; r < repeats; r++) {
    // Files arrive a minute after the end of their copy of the scenario (the pipeline refuses files from the future).
    nowMs = WINTER_END_MS + r * TWO_HOURS_MS + 60_000;
    await feed(options.files ?? WINTER_FILES, r * TWO_HOURS_MS);
  }
  await store.flush();

  const plain = `lpm_${randomBytes(24).toString('base64url')}`;
  const jobsOnly = `lpm_${randomBytes(24).toString('base64url')}`;
  const settings: ApiSettings = {
    corsOrigins: ['https://dashboard.example.org'],
    rateLimitPerMinute: 100_000,
    bodyLimitBytes: 1_048_576,
    tokens: [
      { name: 'admin', sha256: sha256Hex(plain) },
      { name: 'jobs-bot', sha256: sha256Hex(jobsOnly), scopes: ['jobs'] },
    ],
    dashboardDir: null,
    trustProxy: false,
    ...options.settings,
  };
  const ctx: ApiContext = {
    store,
    stations: { sofia: sofiaStation },
    aqStations: sofiaAqStations,
    districts: sofiaDistricts,
    terrain: env.terrain,
    map: { cellSizeM: 500, maxHeightAglM: 500 },
    activeParams,
    async activateParams(station, pid) {
      const set = await store.getParamSet(pid);
      if (!set) throw new LidarError('LIDAR_ERR_NOT_FOUND', `unknown parameter set ${pid}`, { field: 'params_id' });
      const json = JSON.parse(set.json) as unknown;
      const params = resolveParams(json, pid);
      activeParams[station] = { params, paramsId: pid, json };
    },
    events,
    pipelineHealth: () => pipeline.health(),
    depths: () => pipeline.depths(),
    sources: () => [{ ...source, stats: { ...source.stats } }],
    pool,
    rawArchiveDir: archiveDir,
    settings,
    now: () => nowMs,
  };
  return {
    ctx,
    store,
    pipeline,
    pool,
    dir,
    token: plain,
    jobsOnlyToken: jobsOnly,
    source,
    get nowMs() {
      return nowMs;
    },
    setNow(ms: number) {
      nowMs = ms;
    },
    feed,
    async close() {
      await pipeline.stop(1000);
      await store.close();
      await pool.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
