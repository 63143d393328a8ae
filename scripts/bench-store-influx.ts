/**
 * `npx tsx scripts/bench-store-influx.ts [--url http://host:8086] [--days 7] [--cell-days 30] [--repeats 15] [--inflight 1] [--out FILE]`:
 * benchmark of the InfluxDB store (docs/storage.md ("InfluxDB adapter")) through the ResultStore, on the same
 * synthetic winter-scenario workload as the embedded store's benchmark (scripts/bench-store-embedded.ts:
 * every 15 min a 17-ray PPI at 2 deg, a 6-ray sector at 6 deg and a vertical, both glued channels,
 * 1800-bin profiles with all 11 arrays, ~25 cell contributions per scan profile). Starts its own
 * influxd (tests/harness/influxd.ts) in a temporary directory unless --url is given (then it writes
 * into a fresh database `lidar_bench_<pid>` and drops it afterwards).
 *
 * Reports write throughput (profiles/s, points/s, MB/s of arrays; each write() is one 15-min cycle,
 * `inflight` of them outstanding, roll-ups included) and p50/min latencies of the user queries:
 * latest map, latest polar, a 24 h curtain of verticals, a 30-day hourly district series, 30-day
 * district statistics, one profile with all arrays. `benchInfluxStore()` is the same as a function.
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createInfluxBackend } from '../store/influx/index.js';
import { createResultStore } from '../store/result-store.js';
import { startInfluxd } from '../tests/harness/influxd.js';
import { CYCLE_MS, measureStoreQueries, SYNTH_ARRAY_BYTES, synthBatches } from './bench-store-embedded.js';

export interface BenchInfluxOptions {
  /** Days of full data (profiles + cells), default 7. */
  days?: number;
  /** Days of cell contributions in all (the first cellDays - days without profiles), default 30. */
  cellDays?: number;
  /** Timed repeats per query (after one warm-up), default 15. */
  repeats?: number;
  /** write() calls outstanding at once (default 1: each cycle is awaited, like one station's pipeline). */
  inflight?: number;
}

/** Bytes of all files under a directory (influxd's data + wal). */
function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

export async function benchInfluxStore(url?: string, options: BenchInfluxOptions = {}): Promise<object> {
  const days = options.days ?? 7;
  const cellDays = Math.max(days, options.cellDays ?? 30);
  const repeats = options.repeats ?? 15;
  const inflight = Math.max(1, options.inflight ?? 1);
  const server = url === undefined ? await startInfluxd() : null;
  const baseUrl = url ?? server!.url;
  const database = `lidar_bench_${process.pid}`;
  const spoolDir = mkdtempSync(join(tmpdir(), 'lidar-bench-influx-spool-'));
  const logs: string[] = [];
  // The workload is dated 2018 (as the embedded benchmark): raw retention INF so nothing is refused.
  const backend = createInfluxBackend({ url: baseUrl, database, spoolDir, rawRetention: 'INF', logger: (l) => logs.push(l) });
  const rs = createResultStore(backend);
  await rs.backend.open();
  try {
    const start = Date.UTC(2018, 0, 1, 22); // 2018-01-02 00:00 Sofia
    const cellOnlyCycles = (cellDays - days) * 96;
    /** Wall time of the writes, without the time spent making the synthetic batches. */
    const run = async (batches: Iterable<Parameters<typeof rs.write>[0]>, count: (b: Parameters<typeof rs.write>[0]) => void): Promise<number> => {
      const t = performance.now();
      let making = 0;
      const pending = new Set<Promise<void>>();
      const it = batches[Symbol.iterator]();
      for (;;) {
        const m = performance.now();
        const next = it.next();
        making += performance.now() - m;
        if (next.done === true) break;
        count(next.value);
        const p: Promise<void> = rs.write(next.value).finally(() => pending.delete(p));
        pending.add(p);
        if (pending.size >= inflight) await Promise.race(pending);
      }
      await Promise.all(pending);
      await rs.flush(600_000); // includes the roll-ups owed for the hours written
      return performance.now() - t - making;
    };
    const seriesKeys = { profile: new Set<string>(), cell: new Set<string>(), district: new Set<string>() };
    const noteSeries = (b: Parameters<typeof rs.write>[0]): void => {
      for (const p of b.profiles ?? []) seriesKeys.profile.add(`${p.station}|${p.channel}|${p.mode}`);
      for (const c of b.cells ?? []) {
        seriesKeys.cell.add(`${c.station}|${c.channel}|${c.cell}|${c.district}`);
        seriesKeys.district.add(`${c.station}|${c.channel}|${c.district}`);
      }
    };
    let cellOnlyRows = 0;
    const cellOnlyMs = await run(synthBatches({ startMs: start, cycles: cellOnlyCycles, profiles: false }), (b) => {
      cellOnlyRows += b.cells!.length;
      noteSeries(b);
    });
    let profiles = 0;
    let cells = 0;
    const writeMs = await run(synthBatches({ startMs: start + cellOnlyCycles * CYCLE_MS, cycles: days * 96 }), (b) => {
      profiles += b.profiles!.length;
      cells += b.cells!.length;
      noteSeries(b);
    });
    if (backend.status().writeErrors > 0) throw new Error(`benchmark writes failed: ${backend.status().lastError}`);
    // Series per measurement = distinct tag sets written (the cell roll-ups repeat the cell series).
    const series = {
      profile: seriesKeys.profile.size,
      cell: seriesKeys.cell.size,
      cell_1h: seriesKeys.cell.size,
      cell_1d: seriesKeys.cell.size,
      district_1h: seriesKeys.district.size,
      district_1d: seriesKeys.district.size,
    };
    const latencies = await measureStoreQueries(rs, start, cellDays, repeats);
    return {
      command: `npx tsx scripts/bench-store-influx.ts --days ${days} --cell-days ${cellDays} --repeats ${repeats} --inflight ${inflight}${url === undefined ? '' : ' --url ' + url}`,
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '?', node: process.version, influxd: url === undefined ? 'own influxd (tests/harness), same machine' : url },
      through: 'ResultStore (store/result-store.ts) over the influx backend',
      data: { days, cellDays, profiles, cellRowsWithProfiles: cells, cellOnlyRows, arrayBytesPerProfile: SYNTH_ARRAY_BYTES },
      write: {
        profilesPerS: Math.round(profiles / (writeMs / 1000)),
        pointsPerS: Math.round((profiles + cells) / (writeMs / 1000)),
        arrayMBPerS: Number(((profiles * SYNTH_ARRAY_BYTES) / 1e6 / (writeMs / 1000)).toFixed(1)),
        cellOnlyPointsPerS: cellOnlyRows > 0 ? Math.round(cellOnlyRows / (cellOnlyMs / 1000)) : null,
        writeSeconds: Number(((writeMs + cellOnlyMs) / 1000).toFixed(1)),
      },
      seriesCardinality: series,
      diskMB: server === null ? null : Number((dirBytes(server.dataDir) / 1e6).toFixed(1)),
      queries: latencies,
      status: backend.status(),
    };
  } finally {
    await rs.close();
    if (url !== undefined) {
      await fetch(`${baseUrl}/query`, { method: 'POST', body: new URLSearchParams({ q: `DROP DATABASE "${database}"` }) }).catch(() => {});
    }
    await server?.stop();
    rmSync(spoolDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: { url: { type: 'string' }, days: { type: 'string' }, 'cell-days': { type: 'string' }, repeats: { type: 'string' }, inflight: { type: 'string' }, out: { type: 'string' } },
    strict: true,
  });
  const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
  const result = await benchInfluxStore(values.url, { days: num(values.days), cellDays: num(values['cell-days']), repeats: num(values.repeats), inflight: num(values.inflight) });
  const text = JSON.stringify(result, null, 2);
  console.log(text);
  if (values.out) writeFileSync(values.out, text + '\n');
}
