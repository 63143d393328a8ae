/**
 * Timing and allocation helpers for the benchmarks: warm-up, repeated samples (each sample long
 * enough for the timer: fast kernels run several times per sample), median and 90th percentile;
 * bytes allocated per call (heap + array buffers, between forced collections) and GC events.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
/** A forced full collection (`--expose-gc` set at run time, so `tsx scripts/bench.ts` needs no flag). */
export const gc: () => void = (globalThis as { gc?: () => void }).gc ?? (runInNewContext('gc') as () => void);

export interface TimingOptions {
  /** Untimed calls first (JIT tiers, caches). */
  warmup: number;
  /** Timed samples. */
  samples: number;
  /** Shortest sample (ms): fast functions are called several times per sample. */
  minSampleMs: number;
}

export interface Timing {
  /** Per call, ns. */
  medianNs: number;
  p90Ns: number;
  minNs: number;
  samples: number;
  callsPerSample: number;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

/** Keeps results alive so the optimiser cannot drop the calls. */
let sink: unknown = null;
export function keep(v: unknown): void {
  sink = v;
}
export function sunk(): unknown {
  return sink;
}

/** Times `fn` (see TimingOptions); per-call times of each sample, sorted into median and p90. */
export function timeIt(fn: () => unknown, opts: TimingOptions): Timing {
  for (let k = 0; k < opts.warmup; k++) keep(fn());
  // Calls per sample so one sample lasts at least minSampleMs.
  let calls = 1;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < calls; k++) keep(fn());
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms >= opts.minSampleMs || calls >= 1 << 20) break;
    calls = Math.min(1 << 20, Math.max(calls * 2, Math.ceil((calls * opts.minSampleMs) / Math.max(ms, 1e-3))));
  }
  const perCall: number[] = [];
  for (let s = 0; s < opts.samples; s++) {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < calls; k++) keep(fn());
    perCall.push(Number(process.hrtime.bigint() - t0) / calls);
  }
  perCall.sort((a, b) => a - b);
  return { medianNs: quantile(perCall, 0.5), p90Ns: quantile(perCall, 0.9), minNs: perCall[0], samples: perCall.length, callsPerSample: calls };
}

/** Times single calls each preceded by an untimed `before` (e.g. clearing a cache for a cold run). */
export function timeEach(before: () => void, fn: () => unknown, samples: number): Timing {
  const perCall: number[] = [];
  for (let s = 0; s < samples; s++) {
    before();
    const t0 = process.hrtime.bigint();
    keep(fn());
    perCall.push(Number(process.hrtime.bigint() - t0));
  }
  perCall.sort((a, b) => a - b);
  return { medianNs: quantile(perCall, 0.5), p90Ns: quantile(perCall, 0.9), minNs: perCall[0], samples: perCall.length, callsPerSample: 1 };
}

/**
 * Memory where a call's allocations land: the young generation (bump-allocated), the large-object
 * spaces and array buffers (typed arrays' memory lives outside the heap).
 */
function allocatedSpaceBytes(): number {
  let bytes = process.memoryUsage().arrayBuffers;
  for (const s of getHeapSpaceStatistics()) {
    if (s.space_name === 'new_space' || s.space_name === 'new_large_object_space' || s.space_name === 'large_object_space') bytes += s.space_used_size;
  }
  return bytes;
}

/**
 * Bytes allocated by one warm call: the growth of the young generation, large-object spaces and
 * array buffers over the call, median over `runs` back-to-back calls (a call during which a
 * collection runs gives a smaller or negative growth; the median leaves those few out). No
 * collection is forced: after a forced full collection the next call partly runs in less optimised
 * code (every intermediate double boxed), which measured ~1 MB per call that warm calls do not make.
 */
export function bytesPerCall(fn: () => unknown, runs: number): number {
  for (let k = 0; k < 5; k++) keep(fn());
  const deltas: number[] = [];
  for (let k = 0; k < runs; k++) {
    const before = allocatedSpaceBytes();
    const result = fn();
    const after = allocatedSpaceBytes();
    keep(result);
    deltas.push(after - before);
  }
  deltas.sort((a, b) => a - b);
  return quantile(deltas, 0.5);
}

/** Garbage-collection events (and their total pause, ms) while `fn` runs `calls` times. */
export async function gcDuring(fn: () => unknown, calls: number): Promise<{ count: number; pauseMs: number }> {
  let count = 0;
  let pauseMs = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      count++;
      pauseMs += e.duration;
    }
  });
  gc();
  await new Promise((r) => setImmediate(r));
  obs.observe({ entryTypes: ['gc'] });
  for (let k = 0; k < calls; k++) keep(fn());
  await new Promise((r) => setTimeout(r, 20));
  obs.disconnect();
  return { count, pauseMs };
}

export function heapUsedMiB(): number {
  return process.memoryUsage().heapUsed / 2 ** 20;
}
