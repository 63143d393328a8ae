// Shared pieces of the fault tests (tests/fault-*.test.ts) and the soak script (scripts/soak.ts):
// the known answer (what an uninterrupted, in-order run stores, from an in-memory pipeline), the
// real service as a child process (`lidar-pm serve --config FILE`) with its HTTP health endpoints,
// the stored id sets of both stores, and wait-for-condition polling. No mocks: the service, broker,
// database and devices are the real ones (tests/harness/*).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pipeline } from '../ingest/pipeline.js';
import { Quarantine } from '../ingest/quarantine.js';
import { RetrievalPool } from '../ingest/worker-pool.js';
import { resolveParams, paramsId } from '../processing/retrieval/params.js';
import { parseStation } from '../processing/station.js';
import { districtsFromGeoJson } from '../processing/geometry/grid.js';
import { loadTerrain } from '../bin/io.js';
import { createEmbeddedBackend } from '../store/embedded/backend.js';
import { MemoryStore } from './memory-store.js';
import { trackChild } from './harness/processes.js';

export const ROOT = join(import.meta.dirname, '..');
export const WINTER = join(ROOT, 'fixtures', 'scenarios', 'sofia-winter-inversion');
export const WINTER_FILES = readdirSync(WINTER).filter((f) => f.startsWith('SF')).sort();
export const STATION = parseStation(JSON.parse(readFileSync(join(ROOT, 'config', 'stations', 'sofia.json'), 'utf8')));
/** Far future bound for "everything" queries (2100-01-01). */
export const END_MS = 4102444800000;

export function winterBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(WINTER, name)));
}

export interface ReferenceRun {
  /** Every stored profile id. */
  ids: Set<string>;
  /** Profile ids per input (same order as the input list); empty for quarantined input. */
  perInput: string[][];
  /** Source file name and azimuth of each stored profile, by id. */
  files: Map<string, string>;
  azimuths: Map<string, number>;
  quarantined: number;
}

/**
 * What an uninterrupted run stores for `inputs` fed in the given order (inline retrieval, in-memory
 * store, same station, map grid and parameters as the service): the known answer of a fault test.
 */
export async function referenceRun(inputs: Array<{ name: string; bytes: Uint8Array }>, paramsJson: unknown, quarantineDir: string): Promise<ReferenceRun> {
  const districts = districtsFromGeoJson(JSON.parse(readFileSync(join(ROOT, 'geodata', 'sofia_districts_24_simplified.geojson'), 'utf8')));
  const params = resolveParams(paramsJson);
  const store = new MemoryStore();
  const pool = new RetrievalPool({ terrain: loadTerrain(), map: { cellSizeM: 500, maxHeightAglM: 500, districts } }, 0);
  const p = new Pipeline({ store, stations: { sofia: STATION }, params: () => ({ params, paramsId: paramsId(params) }), quarantine: new Quarantine(quarantineDir), pool, log: () => undefined });
  const perInput: string[][] = inputs.map(() => []);
  let quarantined = 0;
  let current = -1;
  p.on('stored', (e: { ids: string[] }) => perInput[current].push(...e.ids));
  p.on('quarantined', () => quarantined++);
  try {
    for (let i = 0; i < inputs.length; i++) {
      current = i;
      await p.sink({ type: 'item', item: { kind: 'licel', station: 'sofia', bytes: inputs[i].bytes, name: inputs[i].name, origin: inputs[i].name, receivedMs: Date.now(), ack: () => undefined } });
      await p.idle(); // one at a time, so the 'stored' event belongs to input i
    }
  } finally {
    await pool.close();
  }
  return { ids: new Set(store.profilesById.keys()), perInput, files: new Map([...store.profilesById.values()].map((r) => [r.id, r.file])), azimuths: new Map([...store.profilesById.values()].map((r) => [r.id, r.azimuthDeg])), quarantined };
}

export interface ServiceProcess {
  child: ChildProcess;
  /** http://127.0.0.1:PORT of the service's API. */
  url: string;
  pid: number;
  log(): string;
  exited: Promise<number | null>;
}

/** Writes `config` as JSON and starts `lidar-pm serve --config` on it; resolves once the API listens. */
export function startServe(config: object, dir: string, name: string): Promise<ServiceProcess> {
  const configFile = join(dir, `${name}.config.json`);
  writeFileSync(configFile, JSON.stringify(config, null, 1));
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('LIDAR_PM_')) delete env[k];
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'lidar-pm.mjs'), 'serve', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'], env });
  trackChild(child);
  const logFile = join(dir, `${name}.log`);
  let text = '';
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start within 90 s:\n${text.slice(-4000)}`)), 90_000);
    let done = false;
    const onData = (d: Buffer) => {
      text += d.toString();
      if (text.length > 2_000_000) text = text.slice(-1_000_000);
      writeFileSync(logFile, text);
      const m = /HTTP API on (http:\/\/[^\s]+)/.exec(text);
      if (m && !done) {
        done = true;
        clearTimeout(timer);
        resolve({ child, url: m[1], pid: child.pid!, log: () => text, exited });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      if (!done) {
        clearTimeout(timer);
        reject(new Error(`service exited early (${code}):\n${text.slice(-4000)}`));
      }
    });
  });
}

/** SIGKILL (a crash) and wait for the exit. */
export async function crash(s: ServiceProcess): Promise<void> {
  s.child.kill('SIGKILL');
  await s.exited;
}

/** SIGTERM (graceful: drain, flush) and wait; resolves with the exit code. */
export async function shutdown(s: ServiceProcess): Promise<number | null> {
  s.child.kill('SIGTERM');
  return s.exited;
}

export async function until(cond: () => Promise<boolean> | boolean, timeoutMs: number, what: string, everyMs = 200): Promise<void> {
  const t0 = Date.now();
  let last = '';
  for (;;) {
    try {
      if (await cond()) return;
    } catch (e) {
      last = ` (last error: ${(e as Error).message})`; // not yet, e.g. the database is being written
    }
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function getJson<T = unknown>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.json()) as T };
}

export interface Readiness {
  ready: boolean;
  store: { kind: string; reachable: boolean; query_ok: boolean; spooled_points: number };
  sources: Array<{ name: string; connected: boolean }>;
  problems: string[];
}

export async function readyz(url: string): Promise<{ status: number; body: Readiness }> {
  return getJson<Readiness>(`${url}/readyz`);
}

/** The fields of GET /api/v1/stations/{id}/status the fault tests read. */
export interface StationStatusView {
  last_profile: string | null;
  reasons: string[];
  retrieval: { processed: number; quarantined: number; retried: number; last_error: string | null };
  store: { reachable: boolean; spooled_points: number; write_errors: number };
  sources: Array<{ name: string; connected: boolean }>;
}

/** GET /api/v1/stations/sofia/status (the operator view); throws unless 200. */
export async function stationStatus(url: string): Promise<StationStatusView> {
  const r = await getJson<StationStatusView>(`${url}/api/v1/stations/sofia/status`);
  if (r.status !== 200) throw new Error(`GET /api/v1/stations/sofia/status: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** One gauge/counter of /metrics by name and labels (undefined when absent). */
export async function metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/** Profile ids (with repeats, if any) in an embedded store file, read by a second connection. */
export async function embeddedIds(dbPath: string): Promise<string[]> {
  const store = createEmbeddedBackend({ path: dbPath });
  await store.open();
  try {
    return (await store.profiles({ station: 'sofia', fromMs: 0, toMs: END_MS, limit: 1_000_000 })).map((m) => m.id);
  } finally {
    await store.close();
  }
}

/**
 * Profile keys (station:channel:time) as InfluxDB holds them, with repeats: one row per stored
 * point of the profile measurement (tags station, channel; one point per time), read with InfluxQL.
 */
export async function influxIds(url: string, database: string): Promise<string[]> {
  const q = `SELECT "file", "params_id" FROM "raw"."profile" WHERE time >= 0 GROUP BY "station", "channel"`;
  const res = await fetch(`${url}/query?db=${encodeURIComponent(database)}&epoch=ms&q=${encodeURIComponent(q)}`, { signal: AbortSignal.timeout(30_000) });
  if (res.status !== 200) throw new Error(`influx query: HTTP ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { results: Array<{ series?: Array<{ tags: Record<string, string>; values: Array<[number, ...unknown[]]> }>; error?: string }> };
  if (body.results[0].error) throw new Error(body.results[0].error);
  const out: string[] = [];
  for (const s of body.results[0].series ?? []) for (const v of s.values) out.push(`${s.tags.station}:${s.tags.channel}:${v[0]}`);
  return out;
}

/** The duplicate entries of a list (empty when each appears once). */
export function duplicates(list: string[]): string[] {
  const seen = new Set<string>();
  const dup: string[] = [];
  for (const x of list) {
    if (seen.has(x)) dup.push(x);
    else seen.add(x);
  }
  return dup;
}

/** A service configuration for the fault tests (embedded store unless `store` is given). */
export function serviceConfig(dataDir: string, sources: object[], extra: { store?: object; params?: object; workers?: number; queueCapacity?: number } = {}): object {
  return {
    data_dir: dataDir,
    sources,
    params: { sofia: extra.params ?? {} },
    pipeline: { workers: extra.workers ?? 1, ...(extra.queueCapacity ? { queue_capacity: extra.queueCapacity } : {}) },
    http: { host: '127.0.0.1', port: 0 },
    ...(extra.store ? { store: extra.store } : {}),
  };
}
