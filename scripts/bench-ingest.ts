/**
 * `npx tsx scripts/bench-ingest.ts [--quick] [--out FILE]` (part of `npm run bench`): end-to-end ingest
 * through a real mosquitto into the embedded store, in one process (MQTT source -> pipeline -> worker
 * pool -> SQLite), on this machine.
 *
 * 1. Throughput: N Licel files of 4 datasets x 16380 bins (the longest Licel record; simulated 2 deg
 *    scans of the winter scenario, re-stamped 30 s apart) from 100 stations, published at once after a
 *    warm-up of 20 files; files/s and bins/s from the first publish to the last stored. Parameters: Monte Carlo off, calibration
 *    with the scenario's lidar constant (no vertical needed).
 * 2. Latency at one station's rate: the recorded winter files (4 x 2000 bins) with the default
 *    parameter set (Monte Carlo 50 realisations) published one every 500 ms (60x the station's 30 s
 *    cadence); publish -> stored (store write committed, before the ack), p50/p99.
 * Writes docs/bench/ingest.json.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeLicel } from '../processing/licel/encode.js';
import { shiftLicelTimes } from '../processing/licel/shift.js';
import { parseStation, type StationConfig } from '../processing/station.js';
import { paramsId, resolveParams } from '../processing/retrieval/params.js';
import { districtsFromGeoJson } from '../processing/geometry/grid.js';
import { Pipeline } from '../ingest/pipeline.js';
import { Quarantine } from '../ingest/quarantine.js';
import { defaultPoolSize, RetrievalPool } from '../ingest/worker-pool.js';
import { MqttSource } from '../ingest/mqtt/source.js';
import { connectPublisher } from '../ingest/mqtt/publisher.js';
import { createEmbeddedBackend } from '../store/embedded/backend.js';
import { loadTerrain } from '../bin/io.js';
import { startMosquitto } from '../tests/harness/mosquitto.js';
import { benchProfiles } from './bench/inputs.js';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, out: { type: 'string' } }, strict: true });
const quick = values.quick;
const ROOT = join(import.meta.dirname, '..');
const outFile = values.out ?? (quick ? join(tmpdir(), 'lidar-pm-bench-ingest-quick.json') : join(ROOT, 'docs', 'bench', 'ingest.json'));
const N_BIG = quick ? 20 : Number(process.env.BENCH_INGEST_FILES ?? 300);
const STATIONS = quick ? 10 : 100;
const N_LATENCY = quick ? 10 : 60;

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function run(): Promise<void> {
  const sofia = parseStation(JSON.parse(readFileSync(join(ROOT, 'config', 'stations', 'sofia.json'), 'utf8')));
  const districts = districtsFromGeoJson(JSON.parse(readFileSync(join(ROOT, 'geodata', 'sofia_districts_24_simplified.geojson'), 'utf8')));
  const env = { terrain: loadTerrain(), map: { cellSizeM: 500, maxHeightAglM: 500, districts } };
  const broker = await startMosquitto();
  const dir = mkdtempSync(join(tmpdir(), 'lidar-bench-ingest-'));
  const workers = Number(process.env.BENCH_INGEST_WORKERS ?? defaultPoolSize());
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, loadavg: loadavg() };
  console.log(`ingest benchmark${quick ? ' (--quick)' : ''}: ${machine.cpu}, ${machine.cores} cores, ${workers} retrieval workers, Node ${machine.node}`);

  async function pipelineWith(stations: Record<string, StationConfig>, paramsJson: object, clientId: string) {
    const store = createEmbeddedBackend({ path: join(dir, `${clientId}.sqlite`) });
    await store.open();
    const params = resolveParams(paramsJson);
    const pool = new RetrievalPool(env, workers);
    const pipeline = new Pipeline({ store, stations, params: () => ({ params, paramsId: paramsId(params) }), quarantine: new Quarantine(join(dir, `q-${clientId}`)), pool, queueCapacity: 256, log: () => undefined });
    const source = new MqttSource({ url: broker.url, clientId, maxInFlight: 64 });
    await pipeline.start();
    await source.start(pipeline.sink);
    return {
      store,
      pipeline,
      async close() {
        await source.stop();
        await pipeline.stop();
        await store.close();
        await pool.close();
      },
    };
  }

  // 1. Throughput, 4 x 16380-bin files from many stations.
  const scan = benchProfiles(16180).find((p) => p.kind === 'scan')!;
  const constant = (scan.ctx.params.reference.lidarConstant as number) || 5e13;
  const big: Array<{ station: string; bytes: Uint8Array }> = [];
  for (let i = 0; i < N_BIG; i++) big.push({ station: `b${String(i % STATIONS).padStart(3, '0')}`, bytes: encodeLicel(shiftLicelTimes(scan.file, i * 30_000, sofia.timezone)) });
  const bigStations: Record<string, StationConfig> = {};
  for (let s = 0; s < STATIONS; s++) bigStations[`b${String(s).padStart(3, '0')}`] = { ...sofia, id: `b${String(s).padStart(3, '0')}` };
  const binsPerFile = scan.file.datasets.reduce((s, d) => s + d.bins, 0);
  const t = await pipelineWith(bigStations, { monte_carlo: 0, reference: { mode: 'calibration', lidar_constant: constant } }, 'bench-throughput');
  let stored = 0;
  let profiles = 0;
  t.pipeline.on('stored', (e: { ids: string[] }) => {
    stored++;
    profiles += e.ids.length;
  });
  const pub = await connectPublisher({ url: broker.url, clientId: 'bench-pub' });
  // Warm-up (not timed): worker start-up, JIT and the geometry caches, as in a running service.
  const WARMUP = quick ? 4 : 20;
  for (let i = 0; i < WARMUP; i++) await pub.publishRaw(`b${String(i % STATIONS).padStart(3, '0')}`, encodeLicel(shiftLicelTimes(scan.file, -(i + 1) * 30_000, sofia.timezone)));
  while (stored < WARMUP) await new Promise((r) => setTimeout(r, 5));
  stored = 0;
  profiles = 0;
  const t0 = performance.now();
  await Promise.all(big.map((f) => pub.publishRaw(f.station, f.bytes)));
  const tPublished = performance.now();
  while (stored < N_BIG) await new Promise((r) => setTimeout(r, 5));
  const t1 = performance.now();
  const rss = process.memoryUsage().rss / 2 ** 20;
  await t.close();
  const seconds = (t1 - t0) / 1000;
  const throughput = {
    files: N_BIG,
    stations: STATIONS,
    datasetsPerFile: scan.file.datasets.length,
    binsPerDataset: scan.file.datasets[0].bins,
    profilesStored: profiles,
    seconds,
    publishSeconds: (tPublished - t0) / 1000,
    filesPerSecond: N_BIG / seconds,
    binsPerSecond: (N_BIG * binsPerFile) / seconds,
    rssMiB: rss,
    target: '>= 100 files/s of 4 x 16380 bins',
  };
  console.log(`throughput: ${N_BIG} files of ${scan.file.datasets.length} x ${scan.file.datasets[0].bins} bins from ${STATIONS} stations in ${seconds.toFixed(2)} s: ${throughput.filesPerSecond.toFixed(1)} files/s, ${(throughput.binsPerSecond / 1e6).toFixed(2)} M bins/s (rss ${rss.toFixed(0)} MiB)`);

  // 2. Latency at one station's rate, default parameters.
  const WINTER = join(ROOT, 'fixtures', 'scenarios', 'sofia-winter-inversion');
  // From the first vertical on: the scans before it have no lidar constant yet (no retrieval work to time).
  const winterFiles = readdirSync(WINTER).filter((f) => f.startsWith('SF')).sort().slice(23, 23 + N_LATENCY);
  const l = await pipelineWith({ sofia }, {}, 'bench-latency');
  const publishedAt = new Map<string, number>();
  const latencies: number[] = [];
  l.pipeline.on('stored', (e: { file: string }) => {
    const p = publishedAt.get(e.file);
    if (p !== undefined) latencies.push(performance.now() - p);
  });
  for (const f of winterFiles) {
    const bytes = new Uint8Array(readFileSync(join(WINTER, f)));
    publishedAt.set(f, performance.now());
    await pub.publishRaw('sofia', bytes);
    await new Promise((r) => setTimeout(r, 500));
  }
  while (latencies.length < winterFiles.length) await new Promise((r) => setTimeout(r, 20));
  await l.close();
  await pub.close();
  const sorted = [...latencies].sort((a, b) => a - b);
  const latency = { files: winterFiles.length, intervalMs: 500, params: 'defaults (monte_carlo 50)', p50Ms: pct(sorted, 50), p99Ms: pct(sorted, 99), maxMs: sorted[sorted.length - 1], target: 'p99 < 1000 ms' };
  console.log(`latency (publish -> stored, one station, default parameters, 1 file / 500 ms): p50 ${latency.p50Ms.toFixed(0)} ms, p99 ${latency.p99Ms.toFixed(0)} ms, max ${latency.maxMs.toFixed(0)} ms`);

  await broker.cleanup();
  rmSync(dir, { recursive: true, force: true });
  const doc = { command: `npx tsx scripts/bench-ingest.ts${quick ? ' --quick' : ''}`, date: new Date().toISOString(), machine, workers, throughput, latency };
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify(doc, null, 2) + '\n');
  console.log(`written: ${outFile}`);
}

await run();
