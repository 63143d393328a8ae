/**
 * Composes the service from its configuration: store, retrieval pool, pipeline and sources (the
 * HTTP API joins here with the "Service and API" work). `stop()` shuts down in the safe order:
 * sources stop taking input, the pipeline drains, pipeline health is written, the store flushes and
 * closes, the worker pool ends.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LidarError } from '../../processing/errors.js';
import { districtsFromGeoJson } from '../../processing/geometry/grid.js';
import { canonicalParams, paramsId, resolveParams } from '../../processing/retrieval/params.js';
import type { ResolvedParams } from '../../processing/retrieval/params.types.js';
import { parseStation, type StationConfig } from '../../processing/station.js';
import { Pipeline } from '../../ingest/pipeline.js';
import { Quarantine } from '../../ingest/quarantine.js';
import { RetrievalPool } from '../../ingest/worker-pool.js';
import type { Source } from '../../ingest/source.js';
import type { StoreBackend } from '../../store/port.js';
import { createEmbeddedBackend } from '../../store/embedded/backend.js';
import { loadTerrain, readJson, REPO_ROOT } from '../io.js';
import { createResultStore } from '../../store/result-store.js';
import { createApi } from '../../api/server.js';
import type { AqStationInfo } from '../../api/context.js';
import type { ServiceConfig, SourceConfig } from './config.js';

export interface Service {
  config: ServiceConfig;
  /** The HTTP server's address once listening (http://host:port). */
  url: string;
  store: StoreBackend;
  pipeline: Pipeline;
  sources: Source[];
  quarantine: Quarantine;
  stations: Record<string, StationConfig>;
  params: Record<string, { params: ResolvedParams; paramsId: string; json: unknown }>;
  /** Writes the pipeline's per-station counters as health records (also done every healthIntervalMs). */
  writeHealth(): Promise<void>;
  stop(): Promise<void>;
}

export type Log = (level: 'info' | 'warn' | 'error', message: string) => void;

export const defaultLog: Log = (level, message) => {
  const line = `${new Date().toISOString()} ${level.toUpperCase()} ${message}\n`;
  (level === 'info' ? process.stdout : process.stderr).write(line);
};

export async function openStore(config: ServiceConfig, log: Log): Promise<StoreBackend> {
  let store: StoreBackend;
  if (config.store.kind === 'embedded') {
    store = createEmbeddedBackend({ path: config.store.path });
  } else {
    const { createInfluxBackend } = await import('../../store/influx/backend.js');
    store = createInfluxBackend({
      url: config.store.url,
      database: config.store.database,
      username: config.store.username ?? undefined,
      password: config.store.password ?? undefined,
      rawRetention: config.store.rawRetention,
      spoolDir: config.store.spoolDir,
      spoolMaxBytes: config.store.spoolMaxBytes,
      logger: (line: string) => log('warn', `store: ${line}`),
    });
  }
  await store.open();
  return store;
}

/** The {info, warn, error} logger the transports take, prefixed. */
function objectLogger(log: Log, prefix: string) {
  const line = (m: string, f?: Record<string, unknown>) => `${prefix}: ${m}${f && Object.keys(f).length > 0 ? ` ${JSON.stringify(f)}` : ''}`;
  return { info: (m: string, f?: Record<string, unknown>) => log('info', line(m, f)), warn: (m: string, f?: Record<string, unknown>) => log('warn', line(m, f)), error: (m: string, f?: Record<string, unknown>) => log('error', line(m, f)) };
}

async function openSource(s: SourceConfig, stations: Record<string, StationConfig>, log: Log): Promise<Source> {
  switch (s.kind) {
    case 'mqtt': {
      const { MqttSource } = await import('../../ingest/mqtt/source.js');
      return new MqttSource({ url: s.url, clientId: s.clientId, sharedGroup: s.sharedGroup ?? undefined, username: s.username ?? undefined, password: s.password ?? undefined, maxInFlight: s.maxInFlight, logger: objectLogger(log, 'mqtt') });
    }
    case 'serial': {
      const { SerialSource } = await import('../../ingest/serial/source.js');
      return new SerialSource({ path: s.path, baudRate: s.baudRate, station: s.station, logger: objectLogger(log, `serial ${s.path}`) });
    }
    case 'folder': {
      const { FolderSource } = await import('../../ingest/folder.js');
      return new FolderSource({ dir: s.dir, station: s.station, stableMs: s.stableMs, log: (m) => log('warn', m) });
    }
    case 'replay': {
      const { ReplaySource } = await import('../../ingest/replay-source.js');
      return new ReplaySource({ dir: s.dir, station: s.station, timeZone: stations[s.station].timezone, speed: s.speed, loop: s.loop, shiftToNow: s.shiftToNow, backfill: s.backfill, log: (m) => log('warn', m) });
    }
  }
}

export async function startService(config: ServiceConfig, log: Log = defaultLog, options: { healthIntervalMs?: number } = {}): Promise<Service> {
  const stations: Record<string, StationConfig> = {};
  for (const [id, file] of Object.entries(config.stations)) {
    const st = parseStation(readJson(file), file);
    if (st.id !== id) throw new LidarError('LIDAR_ERR_BAD_VALUE', `station file id ${JSON.stringify(st.id)} differs from its key ${JSON.stringify(id)}`, { file, field: 'id' });
    stations[id] = st;
  }
  const params: Service['params'] = {};
  for (const [id, json] of Object.entries(config.params)) {
    const p = resolveParams(json, `config params.${id}`);
    params[id] = { params: p, paramsId: paramsId(p), json };
  }
  let districts;
  try {
    districts = districtsFromGeoJson(JSON.parse(readFileSync(config.map.districts, 'utf8')));
  } catch (e) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `cannot read districts: ${(e as Error).message}`, { file: config.map.districts });
  }
  const store = await openStore(config, log);
  for (const p of Object.values(params)) {
    await store.putParamSet({ id: p.paramsId, json: canonicalParams(p.params), name: 'configured', createdMs: Date.now() });
  }
  const terrain = loadTerrain();
  const pool = new RetrievalPool({ terrain, map: { cellSizeM: config.map.cellSizeM, maxHeightAglM: config.map.maxHeightAglM, districts } }, config.pipeline.workers);
  const quarantine = new Quarantine(join(config.dataDir, 'quarantine'));
  const sources: Source[] = [];
  for (const s of config.sources) sources.push(await openSource(s, stations, log));

  let announce: ((station: string, summary: object) => Promise<void>) | undefined;
  const mqttOut = config.sources.find((s): s is Extract<SourceConfig, { kind: 'mqtt' }> => s.kind === 'mqtt' && s.announceProducts);
  let publisher: { publishProducts(station: string, summary: object): Promise<void>; close(): Promise<void> } | null = null;
  if (mqttOut) {
    const { connectPublisher } = await import('../../ingest/mqtt/publisher.js');
    publisher = await connectPublisher({ url: mqttOut.url, clientId: `${mqttOut.clientId}-products`, username: mqttOut.username ?? undefined, password: mqttOut.password ?? undefined });
    announce = (station, summary) => publisher!.publishProducts(station, summary);
  }

  const pipeline = new Pipeline({
    store,
    stations,
    params: (station) => params[station],
    quarantine,
    pool,
    archiveDir: config.pipeline.archiveRaw ? join(config.dataDir, 'raw') : null,
    queueCapacity: config.pipeline.queueCapacity,
    minCalibrationReferenceM: config.pipeline.minCalibrationReferenceM,
    announce,
    log,
  });
  await pipeline.start();
  for (const s of sources) {
    await s.start(pipeline.sink);
    log('info', `source ${s.name} started`);
  }

  const writeHealth = async () => {
    const now = Date.now();
    const health = Object.entries(pipeline.health())
      .filter(([station]) => station in stations)
      .map(([station, h]) => {
        const values: Record<string, number | string | boolean> = {};
        for (const [k, v] of Object.entries(h)) {
          if (typeof v === 'number') values[`pipeline.${k}`] = v;
          else if (typeof v === 'string') values[`pipeline.${k}`] = v;
        }
        for (const [ch, c] of Object.entries(h.constants)) values[`pipeline.lidar_constant.${ch}`] = c;
        for (const s of sources) for (const [k, v] of Object.entries(s.stats())) values[`source.${s.name.split(':')[0]}.${k}`] = v;
        return { station, timeMs: now, values };
      });
    if (health.length > 0) await store.write({ health });
  };
  const timer = setInterval(() => writeHealth().catch((e: Error) => log('warn', `health write failed: ${e.message}`)), options.healthIntervalMs ?? 60_000);
  timer.unref();

  // The HTTP API (and the built dashboard, when there is one).
  const resultStore = createResultStore(store, { timezone: Object.values(stations)[0].timezone, cellSizeM: config.map.cellSizeM });
  const aqFile = join(REPO_ROOT, 'config', 'aq-stations', 'sofia.json');
  const aqStations = existsSync(aqFile) ? ((readJson(aqFile) as { stations: AqStationInfo[] }).stations ?? []) : [];
  const api = await createApi({
    store: resultStore,
    stations,
    aqStations,
    districts,
    terrain,
    map: { cellSizeM: config.map.cellSizeM, maxHeightAglM: config.map.maxHeightAglM },
    activeParams: params,
    async activateParams(station, id) {
      const rec = await store.getParamSet(id);
      if (!rec) throw new LidarError('LIDAR_ERR_NOT_FOUND', `unknown parameter set ${JSON.stringify(id)}`, { field: 'params_id' });
      const json = JSON.parse(rec.json) as unknown;
      const p = resolveParams(json, `parameter set ${id}`);
      params[station] = { params: p, paramsId: paramsId(p), json };
      log('info', `station ${station}: parameter set ${id} is now active`);
    },
    events: pipeline,
    pipelineHealth: () => pipeline.health(),
    depths: () => pipeline.depths(),
    sources: () => sources.map((s) => ({ name: s.name, connected: s.connected(), stats: s.stats() })),
    pool,
    rawArchiveDir: config.pipeline.archiveRaw ? join(config.dataDir, 'raw') : null,
    minCalibrationReferenceM: config.pipeline.minCalibrationReferenceM,
    settings: {
      corsOrigins: config.http.corsOrigins,
      rateLimitPerMinute: config.http.rateLimitPerMinute,
      bodyLimitBytes: config.http.bodyLimitBytes,
      tokens: config.auth.tokens,
      dashboardDir: existsSync(join(config.http.dashboardDir, 'index.html')) ? config.http.dashboardDir : null,
      trustProxy: config.http.trustProxy,
    },
    log,
  });
  const url = await api.listen({ host: config.http.host, port: config.http.port });
  log('info', `HTTP API on ${url} (docs at ${url}/docs)`);

  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= (async () => {
      clearInterval(timer);
      await api.close().catch((e: Error) => log('warn', `closing the HTTP server: ${e.message}`));
      for (const s of sources) await s.stop().catch((e: Error) => log('warn', `stopping ${s.name}: ${e.message}`));
      await pipeline.stop();
      await writeHealth().catch(() => undefined);
      await publisher?.close().catch(() => undefined);
      await store.flush(10_000).catch((e: Error) => log('warn', `store flush: ${e.message} (spooled data is kept for the next start)`));
      await store.close();
      await pool.close();
    })());
  return { config, url, store, pipeline, sources, quarantine, stations, params, writeHealth, stop };
}
