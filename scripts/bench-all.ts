/**
 * `npm run bench [-- --quick] [-- --only name,name] [-- --merge] [-- --out FILE] [-- --details DIR]`: every
 * benchmark of docs/performance.md, one after the other, each as a child process (its own heap,
 * worker pool, brokers and servers), then ONE table on stdout (benchmark, workload, metric, value,
 * unit) and one JSON file (default docs/bench/summary.json) with the machine (nproc, CPU model, Node,
 * load average at the start and end, date), every row, the growth tables and each benchmark's command
 * and wall time. The children's own output goes to stderr (progress); each writes its detailed JSON
 * into `--details` (default docs/bench/, with --quick a temporary folder). `--merge` (with --only):
 * replace only the selected benchmarks in an existing summary (`--out`), keep the others (each
 * benchmark records its own date and load average).
 *
 * Benchmarks (`--only` takes these names):
 *   retrieval        scripts/bench.ts: the chain in ns/bin at 1200, 4200 and 16380 bins (growth with bins), its arithmetic floor
 *   ingest-embedded  scripts/bench-ingest.ts: MQTT -> pipeline -> SQLite, files/s and publish -> stored latency
 *   ingest-influx    the same into InfluxDB (a real influxd)
 *   ingest-files     throughput at 3 numbers of files (growth with profiles through the pipeline)
 *   ingest-stations  throughput and latency with 1, 2 and 4 stations at once (growth with stations)
 *   store-embedded   scripts/bench-store-embedded.ts: a week of data, write profiles/s, query latencies
 *   store-days       the embedded store holding 1 and 3 days (with store-embedded's 7: growth with stored profiles)
 *   store-influx     scripts/bench-store-influx.ts: the same week into InfluxDB, points/s, query latencies
 *   api              scripts/bench-api.ts: requests/s, p50/p99 at 10, 100 and 500 connections
 *   dashboard        scripts/bench-dashboard.ts: draw times in headless Chromium
 * --quick runs each with a tiny workload (a smoke run; its numbers are not worth quoting).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = join(import.meta.dirname, '..');

export interface Row {
  benchmark: string;
  workload: string;
  metric: string;
  value: number;
  unit: string;
}

interface Run {
  /** Arguments after `node --import tsx`. */
  args: string[];
  /** Detail JSON the child writes (under the details folder). */
  file: string;
}

interface Bench {
  name: string;
  /** The child processes (most benchmarks have one; the growth ones one per size). */
  runs(quick: boolean, detail: (file: string) => string): Run[];
  /** Rows and growth entries from the detail JSON documents, in the order of runs(). */
  rows(docs: any[]): { rows: Row[]; growth?: Record<string, object[]> };
}

const r = (benchmark: string, workload: string, metric: string, value: number, unit: string): Row => ({ benchmark, workload, metric, value, unit });
const round = (v: number, digits: number) => (Number.isFinite(v) ? Number(v.toFixed(digits)) : v);

function ingestRows(benchmark: string, doc: any): Row[] {
  const rows: Row[] = [];
  const t = doc.throughput;
  if (t) {
    const w = `${t.files} files of ${t.datasetsPerFile} x ${t.binsPerDataset} bins, ${t.stations} stations, MC off, MQTT -> ${doc.store}`;
    rows.push(r(benchmark, w, 'throughput', round(t.filesPerSecond, 1), 'files/s'), r(benchmark, w, 'per file', round(t.msPerFile, 2), 'ms'));
  }
  const l = doc.latency;
  if (l) {
    const w = `${l.stations} station(s) x ${l.filesPerStation} winter files (4 x 2000 bins), 1 per ${l.intervalMs} ms each, MC 50, MQTT -> ${doc.store}`;
    rows.push(r(benchmark, w, 'latency p50', round(l.p50Ms, 1), 'ms'), r(benchmark, w, 'latency p99', round(l.p99Ms, 1), 'ms'));
  }
  return rows;
}

function storeRows(benchmark: string, doc: any, kind: string): Row[] {
  const w = `${doc.data.days} days of winter-scenario profiles (${doc.data.profiles} profiles, 1800 bins), ${doc.data.cellDays} days of cells, ${kind}`;
  const rows = [r(benchmark, w, 'write', doc.write.profilesPerS, 'profiles/s'), r(benchmark, w, 'write', doc.write.pointsPerS, 'points/s')];
  for (const [q, v] of Object.entries(doc.queries as Record<string, { p50Ms: number }>)) rows.push(r(benchmark, w, `${q} p50`, v.p50Ms, 'ms'));
  return rows;
}

const INGEST = 'scripts/bench-ingest.ts';
const GROWTH_FILES = { full: [100, 300, 900], quick: [5, 10, 20] };
const GROWTH_STATIONS = [1, 2, 4];
const GROWTH_DAYS = { full: [1, 3], quick: [1, 2] };

export const BENCHES: Bench[] = [
  {
    name: 'retrieval',
    runs: (quick, d) => [{ args: ['scripts/bench.ts', ...(quick ? ['--quick'] : []), '--out', d('retrieval.json')], file: d('retrieval.json') }],
    rows([doc]) {
      const rows: Row[] = [];
      const growth: object[] = [];
      for (const x of doc.results) {
        const w = `retrieveFile, ${x.kind} (${x.scenario}), ${x.bins} bins, 2 profiles/file, MC off, warm, products into reused buffers`;
        rows.push(r('retrieval', w, 'time per bin', round(x.warm.nsPerBin, 1), 'ns/bin'), r('retrieval', w, 'profiles', round(x.warm.profilesPerSecond, 0), 'profiles/s'));
        rows.push(r('retrieval', w, 'bytes allocated per call', round(x.memory.bytesPerCall / 1024, 1), 'KiB'));
        const wmc = `retrieveFile, ${x.kind} (${x.scenario}), ${x.bins} bins, 2 profiles/file, Monte Carlo ${x.monteCarlo.runs} realisations minus none, per realisation`;
        rows.push(r('retrieval', wmc, 'Monte Carlo per realisation', round(x.monteCarlo.perRealisationNsPerBin, 1), 'ns/bin'), r('retrieval', wmc, 'Monte Carlo per realisation', round(x.monteCarlo.perRealisationNs / 1000, 1), 'us/file'));
        if (x.fresh) {
          const wf = `retrieveFile, ${x.kind} (${x.scenario}), ${x.bins} bins, 2 profiles/file, MC off, warm, fresh product arrays`;
          rows.push(r('retrieval', wf, 'time per bin (fresh products)', round(x.fresh.nsPerBin, 1), 'ns/bin'));
        }
        if (x.floor) {
          const wf = `arithmetic floor (scripts/bench/floor.ts), ${x.kind}, ${x.bins} bins, up to the chain's signal extents (${x.floor.extents.join(', ')} bins)`;
          rows.push(r('retrieval', wf, 'floor time per bin', round(x.floor.nsPerBin, 1), 'ns/bin'));
        }
        growth.push({ kind: x.kind, bins: x.bins, usPerFile: round(x.warm.medianNs / 1000, 1), nsPerBin: round(x.warm.nsPerBin, 1), coldNsPerBin: round(x.cold.nsPerBin, 1), profilesPerS: round(x.warm.profilesPerSecond, 0), floorNsPerBin: x.floor ? round(x.floor.nsPerBin, 1) : null });
      }
      for (const t of doc.parallel ?? []) {
        const w = `retrieveFile, ${t.kind}, ${t.bins} bins, MC off, ${t.workers} worker thread${t.workers > 1 ? 's' : ''} (throughput)`;
        rows.push(r('retrieval', w, 'time per bin (wall)', round(t.nsPerBin, 1), 'ns/bin'), r('retrieval', w, 'profiles', round(t.profilesPerSecond, 0), 'profiles/s'));
      }
      return { rows, growth: { bins: growth } };
    },
  },
  {
    name: 'ingest-embedded',
    runs: (quick, d) => [{ args: [INGEST, '--store', 'embedded', ...(quick ? ['--quick'] : []), '--out', d('ingest.json')], file: d('ingest.json') }],
    rows: ([doc]) => ({ rows: ingestRows('ingest-embedded', doc) }),
  },
  {
    name: 'ingest-influx',
    runs: (quick, d) => [{ args: [INGEST, '--store', 'influx', ...(quick ? ['--quick'] : []), '--out', d('ingest-influx.json')], file: d('ingest-influx.json') }],
    rows: ([doc]) => ({ rows: ingestRows('ingest-influx', doc) }),
  },
  {
    name: 'ingest-files',
    runs: (quick, d) =>
      GROWTH_FILES[quick ? 'quick' : 'full'].map((n) => ({ args: [INGEST, '--phases', 'throughput', '--files', String(n), '--stations', String(quick ? 5 : 100), '--out', d(`growth/ingest-files-${n}.json`)], file: d(`growth/ingest-files-${n}.json`) })),
    rows(docs) {
      const rows = docs.flatMap((doc) => ingestRows('ingest-files', doc));
      const growth = docs.map((doc) => ({ files: doc.throughput.files, profiles: doc.throughput.profilesStored, stations: doc.throughput.stations, seconds: round(doc.throughput.seconds, 2), filesPerS: round(doc.throughput.filesPerSecond, 1), msPerFile: round(doc.throughput.msPerFile, 2), rssMiB: round(doc.throughput.rssMiB, 0) }));
      return { rows, growth: { profiles: growth } };
    },
  },
  {
    name: 'ingest-stations',
    runs: (quick, d) =>
      GROWTH_STATIONS.map((s) => ({
        args: [INGEST, '--stations', String(s), '--files', String((quick ? 4 : 40) * s), '--latency-stations', String(s), '--latency-files', String(quick ? 3 : 30), '--out', d(`growth/ingest-stations-${s}.json`)],
        file: d(`growth/ingest-stations-${s}.json`),
      })),
    rows(docs) {
      const rows = docs.flatMap((doc) => ingestRows('ingest-stations', doc));
      const growth = docs.map((doc) => ({
        stations: doc.throughput.stations,
        throughputFiles: doc.throughput.files,
        filesPerS: round(doc.throughput.filesPerSecond, 1),
        msPerFile: round(doc.throughput.msPerFile, 2),
        latencyOfferedFilesPerS: doc.latency.offeredFilesPerSecond,
        latencyP50Ms: round(doc.latency.p50Ms, 1),
        latencyP99Ms: round(doc.latency.p99Ms, 1),
      }));
      return { rows, growth: { stations: growth } };
    },
  },
  {
    name: 'store-embedded',
    runs: (quick, d) => [{ args: ['scripts/bench-store-embedded.ts', ...(quick ? ['--days', '1', '--cell-days', '1', '--repeats', '3'] : ['--days', '7', '--cell-days', '30', '--repeats', '15']), '--out', d('store-embedded.json')], file: d('store-embedded.json') }],
    rows: ([doc]) => ({ rows: storeRows('store-embedded', doc, 'SQLite'), growth: { storedProfiles: [storeGrowth(doc)] } }),
  },
  {
    name: 'store-days',
    runs: (quick, d) =>
      GROWTH_DAYS[quick ? 'quick' : 'full'].map((days) => ({
        args: ['scripts/bench-store-embedded.ts', '--days', String(days), '--cell-days', String(quick ? days : 30), '--repeats', quick ? '3' : '15', '--out', d(`growth/store-days-${days}.json`)],
        file: d(`growth/store-days-${days}.json`),
      })),
    rows: (docs) => ({ rows: docs.flatMap((doc) => storeRows('store-days', doc, 'SQLite')), growth: { storedProfiles: docs.map(storeGrowth) } }),
  },
  {
    name: 'store-influx',
    runs: (quick, d) => [{ args: ['scripts/bench-store-influx.ts', ...(quick ? ['--days', '1', '--cell-days', '1', '--repeats', '3'] : ['--days', '7', '--cell-days', '30', '--repeats', '15']), '--out', d('store-influx.json')], file: d('store-influx.json') }],
    rows: ([doc]) => ({ rows: storeRows('store-influx', doc, 'InfluxDB 1.x (own influxd)') }),
  },
  {
    name: 'api',
    runs: (quick, d) => [{ args: ['scripts/bench-api.ts', ...(quick ? ['--duration', '1', '--repeats', '1'] : ['--duration', '8', '--repeats', '3']), '--connections', '10,100,500', '--out', d('api.json')], file: d('api.json') }],
    rows([doc]) {
      const rows: Row[] = [];
      const growth: object[] = [];
      for (const x of doc.results) {
        const w = `${x.scenario}, ${x.connections} connections, ${doc.data.hoursOfScenario} h of the winter scenario`;
        rows.push(r('api', w, 'requests', x.requestsPerS, 'req/s'), r('api', w, 'latency p50', x.p50Ms, 'ms'), r('api', w, 'latency p99', x.p99Ms, 'ms'));
        if (x.non2xx + x.errors > 0) rows.push(r('api', w, 'non-2xx + errors', x.non2xx + x.errors, 'responses'));
        growth.push({ scenario: x.scenario, connections: x.connections, requestsPerS: x.requestsPerS, p50Ms: x.p50Ms, p99Ms: x.p99Ms, non2xx: x.non2xx, errors: x.errors });
      }
      return { rows, growth: { connections: growth } };
    },
  },
  {
    name: 'dashboard',
    runs: (quick, d) => [{ args: ['scripts/bench-dashboard.ts', ...(quick ? ['--quick'] : ['--draws', '15']), '--out', d('dashboard.json')], file: d('dashboard.json') }],
    rows([doc]) {
      const rows: Row[] = [];
      for (const x of Object.values(doc.results as Record<string, { workload: string; medianMs: number; p90Ms: number }>)) {
        rows.push(r('dashboard', `${x.workload}, headless Chromium`, 'draw median', round(x.medianMs, 1), 'ms'), r('dashboard', `${x.workload}, headless Chromium`, 'draw p90', round(x.p90Ms, 1), 'ms'));
      }
      return { rows };
    },
  },
];

function storeGrowth(doc: any): object {
  const q = doc.queries as Record<string, { p50Ms: number }>;
  const pick = (prefix: string) => Object.entries(q).find(([k]) => k.startsWith(prefix))?.[1].p50Ms ?? null;
  return { days: doc.data.days, profiles: doc.data.profiles, fileMB: doc.fileMB, writeProfilesPerS: doc.write.profilesPerS, latestMapMs: pick('latest map'), curtain24hMs: pick('24 h curtain'), districtSeries30dMs: pick('30-day hourly'), districtStats30dMs: pick('30-day district statistics') };
}

/** Runs a child with its output on our stderr; rejects on a non-zero exit or after `timeoutMs`. */
function runChild(args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, stdio: ['ignore', 2, 2], env: process.env });
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${args.join(' ')} exited with ${signal ?? code}${signal ? ' (timeout?)' : ''}`));
    });
  });
}

export function formatTable(rows: Row[]): string {
  const cells = [['benchmark', 'workload', 'metric', 'value', 'unit'], ...rows.map((x) => [x.benchmark, x.workload, x.metric, String(x.value), x.unit])];
  const widths = cells[0].map((_, c) => Math.max(...cells.map((row) => row[c].length)));
  const line = (row: string[]) => row.map((v, c) => (c === 3 ? v.padStart(widths[c]) : v.padEnd(widths[c]))).join(' | ').trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('-|-'), ...cells.slice(1).map(line)].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, merge: { type: 'boolean', default: false }, out: { type: 'string' }, details: { type: 'string' } }, strict: true });
  const quick = values.quick;
  const names = BENCHES.map((b) => b.name);
  const only = values.only?.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of only ?? []) if (!names.includes(n)) throw new Error(`--only: unknown benchmark "${n}" (${names.join(', ')})`);
  const selected = BENCHES.filter((b) => only === undefined || only.includes(b.name));
  const tempDetails = values.details === undefined && quick ? mkdtempSync(join(tmpdir(), 'lidar-pm-bench-all-')) : null;
  const detailsDir = values.details ?? tempDetails ?? join(ROOT, 'docs', 'bench');
  const outFile = values.out ?? (quick ? join(tmpdir(), 'lidar-pm-bench-summary-quick.json') : join(ROOT, 'docs', 'bench', 'summary.json'));
  const detail = (file: string) => join(detailsDir, file);
  const cpuList = cpus();
  const machine = {
    nproc: availableParallelism(),
    cpuModel: cpuList[0]?.model ?? 'unknown',
    cpuMHz: cpuList[0]?.speed ?? null,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverageAtStart: loadavg().map((l) => round(l, 2)),
  };
  const started = new Date();
  process.stderr.write(`bench-all${quick ? ' --quick' : ''}: ${selected.map((b) => b.name).join(', ')}; ${machine.nproc} cores, ${machine.cpuModel}, Node ${machine.node}, load ${machine.loadAverageAtStart.join(' ')}\n`);
  const previous = values.merge && existsSync(outFile) ? JSON.parse(readFileSync(outFile, 'utf8')) : null;
  if (previous && previous.quick !== quick) throw new Error(`--merge: ${outFile} is ${previous.quick ? 'a --quick' : 'a full'} run`);
  const selectedNames = new Set(selected.map((b) => b.name));
  const rows: Row[] = [];
  const benchmarks: Record<string, { growth?: Record<string, object[]> } & Record<string, unknown>> = {};
  const failed: string[] = [];
  const t0 = performance.now();
  for (const b of selected) {
    const runs = b.runs(quick, detail);
    const tb = performance.now();
    const loadBefore = loadavg().map((l) => round(l, 2));
    try {
      for (const run of runs) {
        mkdirSync(dirname(run.file), { recursive: true });
        process.stderr.write(`\n== ${b.name}: node --import tsx ${run.args.join(' ')}\n`);
        await runChild(run.args, (quick ? 5 : 15) * 60_000);
      }
      const docs = runs.map((run) => JSON.parse(readFileSync(run.file, 'utf8')));
      const got = b.rows(docs);
      rows.push(...got.rows);
      benchmarks[b.name] = { date: new Date().toISOString(), commands: runs.map((run) => `npx tsx ${run.args.join(' ')}`), details: runs.map((run) => relative(ROOT, run.file)), seconds: round((performance.now() - tb) / 1000, 1), loadAverageAtStart: loadBefore, growth: got.growth };
    } catch (e) {
      failed.push(b.name);
      benchmarks[b.name] = { commands: runs.map((run) => `npx tsx ${run.args.join(' ')}`), error: (e as Error).message, seconds: round((performance.now() - tb) / 1000, 1) };
      process.stderr.write(`!! ${b.name} failed: ${(e as Error).message}\n`);
    }
  }
  const seconds = round((performance.now() - t0) / 1000, 1);
  // --merge: the other benchmarks' entries and rows from the previous summary, in the suite's order.
  const allBenchmarks: typeof benchmarks = {};
  const allRows: Row[] = [];
  for (const b of BENCHES) {
    if (selectedNames.has(b.name)) {
      if (benchmarks[b.name]) allBenchmarks[b.name] = benchmarks[b.name];
      allRows.push(...rows.filter((x) => x.benchmark === b.name));
    } else if (previous?.benchmarks?.[b.name]) {
      allBenchmarks[b.name] = previous.benchmarks[b.name];
      allRows.push(...(previous.rows as Row[]).filter((x) => x.benchmark === b.name));
    }
  }
  const growth: Record<string, object[]> = {};
  for (const entry of Object.values(allBenchmarks)) for (const [k, list] of Object.entries(entry.growth ?? {})) (growth[k] ??= []).push(...list);
  growth.storedProfiles?.sort((a, b) => (a as { days: number }).days - (b as { days: number }).days);
  const allFailed = Object.entries(allBenchmarks).filter(([, v]) => 'error' in v).map(([k]) => k);
  const doc = {
    format: 'lidar-pm-bench-summary/1',
    command: `npm run bench${quick ? ' -- --quick' : ''}${only ? ` -- --only ${only.join(',')}${values.merge ? ' --merge' : ''}` : ''}`,
    date: started.toISOString(),
    quick,
    machine: { ...machine, loadAverageAtEnd: loadavg().map((l) => round(l, 2)) },
    seconds,
    mergedFrom: previous ? { command: previous.command, date: previous.date, machine: previous.machine, seconds: previous.seconds } : undefined,
    failed: allFailed,
    benchmarks: allBenchmarks,
    rows: allRows,
    growth,
  };
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify(doc, null, 2) + '\n');
  console.log(`lidar-pm benchmarks${quick ? ' (--quick: tiny workloads, numbers not worth quoting)' : ''}, ${started.toISOString()}: ${machine.nproc} cores (${machine.cpuModel}), Node ${machine.node}, load average at start ${machine.loadAverageAtStart.join(' / ')}`);
  console.log(formatTable(allRows));
  console.log(`${rows.length} rows from ${selected.length - failed.length} of ${selected.length} benchmarks in ${seconds} s${failed.length ? `; FAILED: ${failed.join(', ')}` : ''}${previous ? `; ${allRows.length - rows.length} rows kept from ${previous.date}` : ''}`);
  console.log(`written: ${relative(process.cwd(), outFile) || outFile}`);
  if (tempDetails !== null && existsSync(tempDetails)) rmSync(tempDetails, { recursive: true, force: true });
  if (failed.length > 0) process.exitCode = 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
