// End to end through real components: the winter scenario published through a real mosquitto into
// the real service process (`lidar-pm serve`, MQTT source -> worker pool -> embedded store). The broker
// is restarted mid-stream and the service is SIGKILLed mid-stream and started again; afterwards every
// profile and map-cell contribution is stored exactly once: the stored id set equals the one an
// uninterrupted in-order run produces, and no key is duplicated.
import { describe, expect, it, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMosquitto, type MosquittoBroker } from './harness/mosquitto.js';
import { connectPublisher } from '../ingest/mqtt/publisher.js';
import { createEmbeddedBackend } from '../store/embedded/backend.js';
import { Pipeline } from '../ingest/pipeline.js';
import { Quarantine } from '../ingest/quarantine.js';
import { RetrievalPool } from '../ingest/worker-pool.js';
import { resolveParams, paramsId } from '../processing/retrieval/params.js';
import { parseStation } from '../processing/station.js';
import { districtsFromGeoJson } from '../processing/geometry/grid.js';
import { loadTerrain } from '../bin/io.js';
import { MemoryStore } from './memory-store.js';

const ROOT = join(import.meta.dirname, '..');
const WINTER = join(ROOT, 'fixtures', 'scenarios', 'sofia-winter-inversion');
const files = readdirSync(WINTER).filter((f) => f.startsWith('SF')).sort();
// Monte Carlo makes each file take ~20-40 ms, so the stream lasts long enough to be interrupted.
const PARAMS = { monte_carlo: 10 };
const tmp = mkdtempSync(join(tmpdir(), 'lidar-e2e-'));
const children = new Set<ChildProcess>();
let broker: MosquittoBroker | null = null;
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await broker?.cleanup();
  if (!process.env.KEEP_E2E) rmSync(tmp, { recursive: true, force: true }); // KEEP_E2E=1 keeps the logs and database
});

/** What an uninterrupted, in-order run stores (the known answer). */
async function expectedIds(): Promise<{ profiles: Set<string>; cells: number }> {
  const station = parseStation(JSON.parse(readFileSync(join(ROOT, 'config', 'stations', 'sofia.json'), 'utf8')));
  const districts = districtsFromGeoJson(JSON.parse(readFileSync(join(ROOT, 'geodata', 'sofia_districts_24_simplified.geojson'), 'utf8')));
  const params = resolveParams(PARAMS);
  const store = new MemoryStore();
  const pool = new RetrievalPool({ terrain: loadTerrain(), map: { cellSizeM: 500, maxHeightAglM: 500, districts } }, 0);
  const p = new Pipeline({ store, stations: { sofia: station }, params: () => ({ params, paramsId: paramsId(params) }), quarantine: new Quarantine(join(tmp, 'q-expected')), pool, log: () => undefined });
  for (const f of files) await p.sink({ type: 'item', item: { kind: 'licel', station: 'sofia', bytes: new Uint8Array(readFileSync(join(WINTER, f))), name: f, origin: f, receivedMs: Date.now(), ack: () => undefined } });
  await p.idle();
  await pool.close();
  return { profiles: new Set(store.profilesById.keys()), cells: store.cells.size };
}

function startService(configFile: string, logFile: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'lidar-pm.mjs'), 'serve', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start:\n${log}`)), 60_000);
    const onData = (d: Buffer) => {
      log += d.toString();
      writeFileSync(logFile, log);
      if (log.includes('source mqtt started')) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`service exited early (${code}):\n${log}`)));
  });
}

async function countStored(dbPath: string): Promise<{ ids: string[]; cells: number }> {
  const store = createEmbeddedBackend({ path: dbPath });
  await store.open();
  try {
    const metas = await store.profiles({ station: 'sofia', fromMs: 0, toMs: 4102444800000, limit: 100000 });
    const rows = await store.cellSums({ station: 'sofia', channel: '532o-glued', fromMs: 0, toMs: 4102444800000, groupBy: 'station' });
    return { ids: metas.map((m) => m.id), cells: rows.reduce((s, r) => s + r.contributions, 0) };
  } finally {
    await store.close();
  }
}

async function countFiles(dbPath: string): Promise<string[]> {
  const store = createEmbeddedBackend({ path: dbPath });
  await store.open();
  try {
    return (await store.profiles({ station: 'sofia', fromMs: 0, toMs: 4102444800000, limit: 100000 })).map((m) => m.file);
  } finally {
    await store.close();
  }
}

async function until(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('MQTT -> service -> embedded store, with a broker restart and a service kill', () => {
  it('stores every profile exactly once', async () => {
    const expected = await expectedIds();
    expect(expected.profiles.size).toBeGreaterThan(150);
    broker = await startMosquitto();
    const dataDir = join(tmp, 'data');
    const configFile = join(tmp, 'config.json');
    writeFileSync(
      configFile,
      JSON.stringify({ data_dir: dataDir, sources: [{ kind: 'mqtt', url: broker.url, client_id: 'e2e-pipeline', max_in_flight: 8, announce_products: true }], params: { sofia: PARAMS }, pipeline: { workers: 1 }, http: { host: '127.0.0.1', port: 0 } }),
    );
    // Other consumers see product summaries on lidar/{station}/products.
    const { connectAsync } = await import('mqtt');
    const watcher = await connectAsync(broker.url, { protocolVersion: 5, clientId: 'e2e-products-watcher', clean: false, properties: { sessionExpiryInterval: 600 } });
    const summaries: Array<{ station: string; file: string; channels: unknown[] }> = [];
    watcher.on('message', (topic, payload) => {
      if (topic === 'lidar/sofia/products') summaries.push(JSON.parse(payload.toString()));
    });
    await watcher.subscribeAsync('lidar/sofia/products', { qos: 1 });
    let service = await startService(configFile, join(tmp, 'service-1.log'));
    const pub = await connectPublisher({ url: broker.url, clientId: 'e2e-station' });
    const publish = async (from: number, to: number) => {
      for (const f of files.slice(from, to)) await pub.publishRaw('sofia', new Uint8Array(readFileSync(join(WINTER, f))));
    };
    const dbPath = join(dataDir, 'lidar-pm.sqlite');
    const stored = async () => (await countStored(dbPath)).ids.length;
    await publish(0, 128);
    await until(async () => (await stored()) >= 20, 60_000, 'the first profiles');
    await broker.restart(); // mid-stream: in-flight acks are lost with the connection and redelivered
    await until(async () => (await stored()) >= 60, 60_000, 'more profiles');
    service.kill('SIGKILL'); // mid-stream: whatever was not acked is redelivered to the persistent session
    await new Promise((r) => service.once('exit', r));
    const atKill = await stored();
    expect(atKill).toBeLessThan(expected.profiles.size * 0.75); // the kill really was mid-stream
    await publish(128, files.length); // queued by the broker for the absent session
    service = await startService(configFile, join(tmp, 'service-2.log'));
    await until(async () => (await stored()) >= expected.profiles.size, 180_000, 'all profiles stored');
    await pub.close();
    service.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => service.once('exit', r));
    expect(code).toBe(0);
    const final = await countStored(dbPath);
    expect(new Set(final.ids).size).toBe(final.ids.length); // no duplicate keys
    expect(new Set(final.ids)).toEqual(expected.profiles);
    expect(final.cells).toBe(expected.cells);
    // The second run got the unacknowledged messages back (its source counted redeliveries).
    const store = createEmbeddedBackend({ path: dbPath });
    await store.open();
    const health = await store.health({ station: 'sofia', fromMs: Date.now() - 600_000, toMs: Date.now() + 1000, fields: ['source.mqtt.redelivered'], order: 'desc', limit: 1 });
    await store.close();
    expect(Number(health[0].values['source.mqtt.redelivered'])).toBeGreaterThan(0);
    // A summary per file with products, at least once: announced before the ack, so a file redelivered
    // after the kill may announce twice, never zero times.
    const announced = new Set(summaries.map((m) => m.file));
    expect(announced).toEqual(new Set(await countFiles(dbPath)));
    expect(summaries.every((m) => m.station === 'sofia' && Array.isArray(m.channels) && m.channels.length > 0)).toBe(true);
    await watcher.endAsync();
    const quarantined = readdirSync(dataDir).includes('quarantine') ? readdirSync(join(dataDir, 'quarantine')) : [];
    expect(quarantined).toEqual([]);
  }, 300_000);
});
