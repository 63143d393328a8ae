/**
 * `npx tsx scripts/bench-ingest.ts [--store embedded|influx] [--files N] [--stations N]
 *  [--latency-files N] [--latency-stations N] [--phases throughput,latency] [--quick] [--out FILE]`
 * (part of `npm run bench`, scripts/bench-all.ts): end-to-end ingest through a real mosquitto into a
 * store, in one process (MQTT source -> pipeline -> worker pool -> store), on this machine. The store
 * is the embedded SQLite store (default) or InfluxDB 1.x (`--store influx`: a real influxd started by
 * tests/harness/influxd.ts in a temporary directory). "Stored" is the pipeline's `stored` event: the
 * store's write() resolved (SQLite committed; InfluxDB accepted the points), before the MQTT ack.
 *
 * 1. Throughput: `--files` Licel files (default 300) of 4 datasets x 16380 bins (the longest Licel
 *    record; simulated 2 deg scans of the winter scenario, re-stamped 30 s apart) from `--stations`
 *    stations (default 100; the pipeline is ordered per station, stations run in parallel), published
 *    at once after a warm-up of 20 files; files/s and bins/s from the first publish to the last stored.
 *    Parameters: Monte Carlo off, calibration with the scenario's lidar constant (no vertical needed).
 * 2. Latency at a station's rate: the recorded winter files (4 x 2000 bins) with the default
 *    parameter set (Monte Carlo 50 realisations), each of `--latency-stations` stations (default 1)
 *    publishing one file every 500 ms (60x the station's 30 s cadence), `--latency-files` files each
 *    (default 60); publish -> stored, p50/p99.
 * Writes docs/bench/ingest.json (`--store influx`: docs/bench/ingest-influx.json) unless --out.
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
import { createInfluxBackend } from '../store/influx/index.js';
import type { StoreBackend } from '../store/port.js';
import { loadTerrain } from '../bin/io.js';
import { startMosquitto } from '../tests/harness/mosquitto.js';
import { startInfluxd, type InfluxdHandle } from '../tests/harness/influxd.js';
import { benchProfiles } from './bench/inputs.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    store: { type: 'string', default: 'embedded' },
    files: { type: 'string' },
    stations: { type: 'string' },
    'latency-files': { type: 'string' },
    'latency-stations': { type: 'string' },
    phases: { type: 'string', default: 'throughput,latency' },
  },
  strict: true,
});
const quick = values.quick;
const STORE = values.store;
if (STORE !== 'embedded' && STORE !== 'influx') throw new Error(`--store must be embedded or influx, not ${STORE}`);
const PHASES = new Set(values.phases.split(','));
for (const ph of PHASES) if (ph !== 'throughput' && ph !== 'latency') throw new Error(`unknown phase ${ph} (throughput, latency)`);
const ROOT = join(import.meta.dirname, '..');
const outFile = values.out ?? (quick ? join(tmpdir(), `lidar-pm-bench-ingest-${STORE}-quick.json`) : join(ROOT, 'docs', 'bench', STORE === 'embedded' ? 'ingest.json' : 'ingest-influx.json'));
const intArg = (v: string | undefined, dflt: number): number => {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`expected a positive integer, got ${v}`);
  return n;
};
const N_BIG = intArg(values.files, quick ? 20 : Number(process.env.BENCH_INGEST_FILES ?? 300));
const STATIONS = intArg(values.stations, quick ? 10 : 100);
const N_LATENCY = intArg(values['latency-files'], quick ? 10 : 60);
const LATENCY_STATIONS = intArg(values['latency-stations'], 1);
const LATENCY_INTERVAL_MS = 500;

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function run(): Promise<void> {
  const sofia = parseStation(JSON.parse(readFileSync(join(ROOT, 'config', 'stations', 'sofia.json'), 'utf8')));
  const districts = districtsFromGeoJson(JSON.parse(readFileSync(join(ROOT, 'geodata', 'sofia_districts_24_simplified.geojson'), 'utf8')));
  const env = { terrain: loadTerrain(), map: { cellSizeM: 500, maxHeightAglM: 500, districts } };
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, loadavg: loadavg() };
  const broker = await startMosquitto();
  const influxd: InfluxdHandle | null = STORE === 'influx' ? await startInfluxd() : null;
  const dir = mkdtempSync(join(tmpdir(), 'lidar-bench-ingest-'));
  const workers = Number(process.env.BENCH_INGEST_WORKERS ?? defaultPoolSize());
  console.log(`ingest benchmark${quick ? ' (--quick)' : ''}, ${STORE} store: ${machine.cpu}, ${machine.cores} cores, ${workers} retrieval workers, Node ${machine.node}`);

  function openStore(name: string): StoreBackend {
    if (influxd === null) return createEmbeddedBackend({ path: join(dir, `${name}.sqlite`) });
    // The scenario files are dated in the past: raw retention INF so no point is refused.
    return createInfluxBackend({ url: influxd.url, database: `bench_${name.replace(/[^a-z0-9]/gi, '_')}`, spoolDir: join(dir, `spool-${name}`), rawRetention: 'INF', logger: () => undefined });
  }

  async function pipelineWith(stations: Record<string, StationConfig>, paramsJson: object, clientId: string) {
    const store = openStore(clientId);
    await store.open();
    const params = resolveParams(paramsJson);
    const pool = new RetrievalPool(env, workers);
    const pipeline = new Pipeline({ store, stations, params: () => ({ params, paramsId: paramsId(params) }), quarantine: new Quarantine(join(dir, `q-${clientId}`)), pool, queueCapacity: 256, log: () => undefined });
    let quarantined = 0;
    pipeline.on('quarantined', () => quarantined++);
    const source = new MqttSource({ url: broker.url, clientId, maxInFlight: 64 });
    await pipeline.start();
    await source.start(pipeline.sink);
    return {
      store,
      pipeline,
      quarantined: () => quarantined,
      async close() {
        await source.stop();
        await pipeline.stop();
        await store.close();
        await pool.close();
      },
    };
  }
  /** Waits until `done()`; fails when files were quarantined instead (the numbers would be meaningless). */
  async function until(done: () => boolean, p: { quarantined(): number }, what: string): Promise<void> {
    while (!done()) {
      if (p.quarantined() > 0) throw new Error(`${what}: ${p.quarantined()} file(s) quarantined`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  const pub = await connectPublisher({ url: broker.url, clientId: 'bench-pub' });
  const stationId = (prefix: string, i: number) => `${prefix}${String(i).padStart(3, '0')}`;

  // 1. Throughput, 4 x 16380-bin files from many stations.
  let throughput: object | null = null;
  if (PHASES.has('throughput')) {
    const scan = benchProfiles(16180).find((p) => p.kind === 'scan')!;
    const constant = (scan.ctx.params.reference.lidarConstant as number) || 5e13;
    const big: Array<{ station: string; bytes: Uint8Array }> = [];
    for (let i = 0; i < N_BIG; i++) big.push({ station: stationId('b', i % STATIONS), bytes: encodeLicel(shiftLicelTimes(scan.file, i * 30_000, sofia.timezone)) });
    const bigStations: Record<string, StationConfig> = {};
    for (let s = 0; s < STATIONS; s++) bigStations[stationId('b', s)] = { ...sofia, id: stationId('b', s) };
    const binsPerFile = scan.file.datasets.reduce((s, d) => s + d.bins, 0);
    const t = await pipelineWith(bigStations, { monte_carlo: 0, reference: { mode: 'calibration', lidar_constant: constant } }, 'bench-throughput');
    let stored = 0;
    let profiles = 0;
    t.pipeline.on('stored', (e: { ids: string[] }) => {
      stored++;
      profiles += e.ids.length;
    });
    // Warm-up (not timed): worker start-up, JIT and the geometry caches, as in a running service.
    const WARMUP = quick ? 4 : 20;
    for (let i = 0; i < WARMUP; i++) await pub.publishRaw(stationId('b', i % STATIONS), encodeLicel(shiftLicelTimes(scan.file, -(i + 1) * 30_000, sofia.timezone)));
    await until(() => stored >= WARMUP, t, 'throughput warm-up');
    stored = 0;
    profiles = 0;
    const t0 = performance.now();
    await Promise.all(big.map((f) => pub.publishRaw(f.station, f.bytes)));
    const tPublished = performance.now();
    await until(() => stored >= N_BIG, t, 'throughput');
    const t1 = performance.now();
    const rss = process.memoryUsage().rss / 2 ** 20;
    await t.close();
    const seconds = (t1 - t0) / 1000;
    throughput = {
      files: N_BIG,
      stations: STATIONS,
      datasetsPerFile: scan.file.datasets.length,
      binsPerDataset: scan.file.datasets[0].bins,
      profilesStored: profiles,
      seconds,
      publishSeconds: (tPublished - t0) / 1000,
      filesPerSecond: N_BIG / seconds,
      msPerFile: (1000 * seconds) / N_BIG,
      binsPerSecond: (N_BIG * binsPerFile) / seconds,
      rssMiB: rss,
      target: '>= 100 files/s of 4 x 16380 bins',
    };
    console.log(`throughput: ${N_BIG} files of ${scan.file.datasets.length} x ${scan.file.datasets[0].bins} bins from ${STATIONS} stations in ${seconds.toFixed(2)} s: ${(N_BIG / seconds).toFixed(1)} files/s, ${((N_BIG * binsPerFile) / seconds / 1e6).toFixed(2)} M bins/s (rss ${rss.toFixed(0)} MiB)`);
  }

  // 2. Latency at each station's rate, default parameters, LATENCY_STATIONS stations at once.
  let latency: object | null = null;
  if (PHASES.has('latency')) {
    const WINTER = join(ROOT, 'fixtures', 'scenarios', 'sofia-winter-inversion');
    // From the first vertical on: the scans before it have no lidar constant yet (no retrieval work to time).
    const winterFiles = readdirSync(WINTER).filter((f) => f.startsWith('SF')).sort().slice(23, 23 + N_LATENCY);
    const latStations: Record<string, StationConfig> = {};
    for (let s = 0; s < LATENCY_STATIONS; s++) latStations[stationId('s', s)] = { ...sofia, id: stationId('s', s) };
    const l = await pipelineWith(latStations, {}, 'bench-latency');
    const publishedAt = new Map<string, number>();
    const latencies: number[] = [];
    l.pipeline.on('stored', (e: { station: string; file: string }) => {
      const p = publishedAt.get(`${e.station}|${e.file}`);
      if (p !== undefined) latencies.push(performance.now() - p);
    });
    const bytes = winterFiles.map((f) => new Uint8Array(readFileSync(join(WINTER, f))));
    const t0 = performance.now();
    // Each station publishes on its own 500 ms clock, the stations spread evenly over the interval.
    await Promise.all(
      Object.keys(latStations).map(async (station, s) => {
        await new Promise((r) => setTimeout(r, (s * LATENCY_INTERVAL_MS) / LATENCY_STATIONS));
        const start = performance.now();
        for (let i = 0; i < winterFiles.length; i++) {
          const due = start + i * LATENCY_INTERVAL_MS;
          while (performance.now() < due) await new Promise((r) => setTimeout(r, Math.max(1, due - performance.now())));
          publishedAt.set(`${station}|${winterFiles[i]}`, performance.now());
          await pub.publishRaw(station, bytes[i]);
        }
      }),
    );
    const total = winterFiles.length * LATENCY_STATIONS;
    await until(() => latencies.length >= total, l, 'latency');
    const seconds = (performance.now() - t0) / 1000;
    await l.close();
    const sorted = [...latencies].sort((a, b) => a - b);
    latency = {
      stations: LATENCY_STATIONS,
      filesPerStation: winterFiles.length,
      files: total,
      intervalMs: LATENCY_INTERVAL_MS,
      offeredFilesPerSecond: (LATENCY_STATIONS * 1000) / LATENCY_INTERVAL_MS,
      filesPerSecond: total / seconds,
      params: 'defaults (monte_carlo 50)',
      p50Ms: pct(sorted, 50),
      p99Ms: pct(sorted, 99),
      maxMs: sorted[sorted.length - 1],
      target: 'p99 < 1000 ms',
    };
    console.log(`latency (publish -> stored, ${LATENCY_STATIONS} station(s) at 1 file / ${LATENCY_INTERVAL_MS} ms each, default parameters): p50 ${pct(sorted, 50).toFixed(0)} ms, p99 ${pct(sorted, 99).toFixed(0)} ms, max ${sorted[sorted.length - 1].toFixed(0)} ms`);
  }

  await pub.close();
  await broker.cleanup();
  await influxd?.stop();
  rmSync(dir, { recursive: true, force: true });
  const args = process.argv.slice(2).join(' ');
  const doc = { benchmark: 'ingest', store: STORE, command: `npx tsx scripts/bench-ingest.ts${args ? ' ' + args : ''}`, date: new Date().toISOString(), quick, machine, workers, throughput, latency };
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify(doc, null, 2) + '\n');
  console.log(`written: ${outFile}`);
}

await run();
