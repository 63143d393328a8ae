/**
 * `npx tsx scripts/bench.ts [--quick] [--out FILE]` (part of `npm run bench`, scripts/bench-all.ts): retrieval benchmark (docs/performance.md).
 * For each record length (1000, 4000 and 16180 data bins + 200 pre-trigger bins; 16380 is the
 * longest Licel record) and each profile kind (vertical, 2 deg scan; scripts/bench/inputs.ts):
 * - the full chain (`retrieveFile`, both wavelengths, Monte Carlo off) with warm caches and with the
 *   molecular/geometry caches cleared before every call (cold): ns per bin, profiles per second;
 *   products into reused ProductBuffers as the ingest job runs it, and (fresh) with new product
 *   arrays on every call;
 * - the cost of one Monte Carlo realisation: (time with N realisations - time without) / N;
 * - bytes allocated per call and GC events while it runs;
 * - the per-stage breakdown (each kernel alone, scripts/bench/stages.ts);
 * - the arithmetic floor of the same workload (scripts/bench/floor.ts): the chain's unavoidable
 *   per-bin arithmetic as one lean kernel, run up to the same signal extents as the chain's profiles;
 * - throughput on every core: 1 and (cores) worker threads running the chain on the longest record
 *   (scripts/bench/parallel.ts).
 * Medians and 90th percentiles over repeated samples after a warm-up. Prints a table and writes
 * the numbers as JSON (default docs/bench/retrieval.json). --quick: small sizes, few samples (a
 * smoke run, written to the temporary directory unless --out is given; its numbers are not worth
 * quoting).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { clearRetrievalCaches, retrieveFile } from '../processing/retrieval/retrieve.js';
import { ProductBuffers } from '../processing/retrieval/product-buffers.js';
import { benchProfiles, type BenchProfile } from './bench/inputs.js';
import { bytesPerCall, gcDuring, heapUsedMiB, timeEach, timeIt, type Timing, type TimingOptions } from './bench/measure.js';
import { timeStages, type StageTiming } from './bench/stages.js';
import { throughput, type ThroughputResult } from './bench/parallel.js';
import { timeFloor } from './bench/floor.js';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, out: { type: 'string' } }, strict: true });
const quick = values.quick;
const outFile = values.out ?? (quick ? join(tmpdir(), 'lidar-pm-bench-quick.json') : join(import.meta.dirname, '..', 'docs', 'bench', 'retrieval.json'));
/** Data bins after the trigger; the record adds 200 pre-trigger bins (16180 + 200 = 16380, the Licel maximum). */
const DATA_BINS = quick ? [1000] : [1000, 4000, 16180];
const MC_RUNS = quick ? 4 : 20;
const chainOpts: TimingOptions = quick ? { warmup: 3, samples: 5, minSampleMs: 5 } : { warmup: 30, samples: 30, minSampleMs: 50 };
const stageOpts: TimingOptions = quick ? { warmup: 3, samples: 5, minSampleMs: 2 } : { warmup: 30, samples: 25, minSampleMs: 20 };

interface ChainResult {
  kind: string;
  scenario: string;
  dataBins: number;
  bins: number;
  profilesPerFile: number;
  azimuthDeg: number;
  elevationDeg: number;
  /** Products written into reused ProductBuffers (as the ingest job and the CLI run it). */
  warm: Timing & { nsPerBin: number; profilesPerSecond: number };
  /** The same with fresh product arrays on every call (no buffers). */
  fresh: Timing & { nsPerBin: number; profilesPerSecond: number };
  cold: Timing & { nsPerBin: number };
  monteCarlo: { runs: number; medianNs: number; perRealisationNs: number; perRealisationNsPerBin: number };
  memory: { bytesPerCall: number; productBytesPerCall: number; gcEventsPer100Calls: number; gcPauseMsPer100Calls: number };
  stages: StageTiming[];
  /** The floor kernel on records of the same length, up to each profile's signal extent (one past its last finite X). */
  floor: { extents: number[]; medianNs: number; nsPerBin: number };
}

/** One past the last finite range-corrected signal of each profile: how far the chain ran. */
function extents(products: { rcs: Float64Array }[]): number[] {
  return products.map((p) => {
    let end = p.rcs.length;
    while (end > 0 && !Number.isFinite(p.rcs[end - 1])) end--;
    return end;
  });
}

function productBytes(p: BenchProfile, profiles: number): number {
  // 15 Float64Array products and the Uint8Array qc per channel profile.
  return profiles * p.bins * (15 * 8 + 1);
}

async function benchChain(p: BenchProfile): Promise<ChainResult> {
  const buffers = new ProductBuffers();
  const run = () => retrieveFile(p.file, p.fileName, p.ctx, buffers);
  const runFresh = () => retrieveFile(p.file, p.fileName, p.ctx);
  const signalExtents = extents(run());
  const profiles = signalExtents.length;
  const warm = timeIt(run, chainOpts);
  const fresh = timeIt(runFresh, chainOpts);
  const cold = timeEach(clearRetrievalCaches, run, quick ? 5 : 30);
  const mcCtx = p.withMonteCarlo(MC_RUNS);
  const runMc = () => retrieveFile(p.file, p.fileName, mcCtx, buffers);
  const mc = timeIt(runMc, { warmup: quick ? 1 : 3, samples: quick ? 3 : 9, minSampleMs: 0 });
  const perRealisation = (mc.medianNs - warm.medianNs) / MC_RUNS;
  const bytes = bytesPerCall(run, quick ? 5 : 21);
  const gcCalls = quick ? 20 : 200;
  const gcs = await gcDuring(run, gcCalls);
  return {
    kind: p.kind,
    scenario: p.scenario,
    dataBins: p.dataBins,
    bins: p.bins,
    profilesPerFile: profiles,
    azimuthDeg: p.azimuthDeg,
    elevationDeg: p.elevationDeg,
    warm: { ...warm, nsPerBin: warm.medianNs / (profiles * p.bins), profilesPerSecond: (profiles * 1e9) / warm.medianNs },
    fresh: { ...fresh, nsPerBin: fresh.medianNs / (profiles * p.bins), profilesPerSecond: (profiles * 1e9) / fresh.medianNs },
    cold: { ...cold, nsPerBin: cold.medianNs / (profiles * p.bins) },
    monteCarlo: { runs: MC_RUNS, medianNs: mc.medianNs, perRealisationNs: perRealisation, perRealisationNsPerBin: perRealisation / (profiles * p.bins) },
    memory: { bytesPerCall: bytes, productBytesPerCall: productBytes(p, profiles), gcEventsPer100Calls: (100 * gcs.count) / gcCalls, gcPauseMsPer100Calls: (100 * gcs.pauseMs) / gcCalls },
    stages: timeStages(p, stageOpts),
    floor: floorOf(p.bins, signalExtents),
  };
}

function floorOf(bins: number, signalExtents: number[]): ChainResult['floor'] {
  let medianNs = 0;
  for (const extent of signalExtents) medianNs += timeFloor(bins, extent, stageOpts).medianNs;
  return { extents: signalExtents, medianNs, nsPerBin: medianNs / (signalExtents.length * bins) };
}

const f = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : '-');
const us = (ns: number) => f(ns / 1000, 1);

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ')).join('\n');
}

async function main(): Promise<void> {
  const heapBefore = heapUsedMiB();
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, loadavg: loadavg() };
  console.log(`retrieval benchmark${quick ? ' (--quick)' : ''}: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load ${machine.loadavg.map((l) => l.toFixed(2)).join(' ')}`);
  const results: ChainResult[] = [];
  for (const dataBins of DATA_BINS) {
    for (const p of benchProfiles(dataBins)) {
      process.stderr.write(`  ${p.kind} ${p.bins} bins...\n`);
      results.push(await benchChain(p));
    }
  }
  const heapAfter = heapUsedMiB();
  // Throughput on every core: the longest record, 1 and as many worker threads as cores.
  const parallel: ThroughputResult[] = [];
  const longest = DATA_BINS[DATA_BINS.length - 1];
  for (const kind of ['vertical', 'scan']) {
    for (const workers of [...new Set([1, Math.max(1, cpus().length)])]) {
      process.stderr.write(`  throughput: ${kind}, ${workers} worker(s)...\n`);
      parallel.push(await throughput(longest, kind, workers, quick ? 500 : 5000));
    }
  }

  console.log('\nFull chain (retrieveFile, 2 wavelengths = 2 profiles per file, Monte Carlo off, products into reused ProductBuffers; fresh-products: new arrays per call); ns/bin = time / (profiles x record bins); floor: scripts/bench/floor.ts up to the same signal extents');
  console.log(
    table([
      ['profile', 'bins', 'warm median us', 'p90 us', 'ns/bin', 'profiles/s', 'floor ns/bin', 'fresh-products ns/bin', 'cold median us', 'cold ns/bin', `MC/realisation us`, 'MC ns/bin', 'alloc KiB/call', 'products KiB', 'GC/100 calls'],
      ...results.map((r) => [
        r.kind,
        String(r.bins),
        us(r.warm.medianNs),
        us(r.warm.p90Ns),
        f(r.warm.nsPerBin),
        f(r.warm.profilesPerSecond, 0),
        f(r.floor.nsPerBin),
        f(r.fresh.nsPerBin),
        us(r.cold.medianNs),
        f(r.cold.nsPerBin),
        us(r.monteCarlo.perRealisationNs),
        f(r.monteCarlo.perRealisationNsPerBin),
        f(r.memory.bytesPerCall / 1024, 0),
        f(r.memory.productBytesPerCall / 1024, 0),
        f(r.memory.gcEventsPer100Calls, 0),
      ]),
    ]),
  );
  for (const r of results) {
    console.log(`\nStages, ${r.kind} ${r.bins} bins (532 nm pair; each kernel alone, median and p90 per call)`);
    console.log(table([['stage', 'median us', 'p90 us', 'ns/bin', 'alloc B/call'], ...r.stages.map((s) => [s.stage, us(s.medianNs), us(s.p90Ns), f(s.nsPerBin, 2), f(s.bytesPerCall, 0)])]));
  }
  console.log('\nThroughput (worker threads each running retrieveFile back to back; ns/bin = wall time / (all profiles x record bins))');
  console.log(table([['profile', 'bins', 'workers', 'profiles/s', 'ns/bin'], ...parallel.map((t) => [t.kind, String(t.bins), String(t.workers), f(t.profilesPerSecond, 0), f(t.nsPerBin)])]));
  console.log(`\nheap used: ${f(heapBefore)} MiB before, ${f(heapAfter)} MiB after`);
  mkdirSync(dirname(outFile), { recursive: true });
  const doc = { format: 'lidar-pm-bench/1', benchmark: 'retrieval', date: new Date().toISOString(), quick, command: `npx tsx scripts/bench.ts${quick ? ' --quick' : ''}`, machine, monteCarloRuns: MC_RUNS, heapUsedMiB: { before: heapBefore, after: heapAfter }, results, parallel };
  writeFileSync(outFile, JSON.stringify(doc, null, 2) + '\n');
  console.log(`written: ${outFile}`);
}

await main();
