/**
 * Throughput of the retrieval chain on several cores: `workers` worker threads (as the ingest
 * pipeline's pool runs it) each call `retrieveFile` on the same benchmark profile back to back for
 * `durationMs`, started together once all have warmed up. Reports profiles per second over all
 * workers and the wall-clock ns per bin that gives (elapsed / (profiles x record bins)): with two
 * workers on two cores, about half the single-thread figure if nothing else competes for the cores.
 */
import { Worker } from 'node:worker_threads';

export interface ThroughputResult {
  kind: string;
  bins: number;
  workers: number;
  durationMs: number;
  profiles: number;
  profilesPerSecond: number;
  /** Wall time per record bin over all workers' profiles. */
  nsPerBin: number;
}

interface WorkerAnswer {
  calls: number;
  profilesPerCall: number;
  bins: number;
  elapsedMs: number;
}

export async function throughput(dataBins: number, kind: string, workers: number, durationMs: number): Promise<ThroughputResult> {
  const entry = new URL('./parallel-entry.mjs', import.meta.url);
  const pool = Array.from({ length: workers }, () => new Worker(entry, { workerData: { dataBins, kind, durationMs } }));
  try {
    const answers = pool.map(
      (w) =>
        new Promise<WorkerAnswer>((resolve, reject) => {
          w.on('error', reject);
          w.on('message', (m: unknown) => {
            if (m !== 'ready') resolve(m as WorkerAnswer);
          });
        }),
    );
    await Promise.all(pool.map((w) => new Promise<void>((resolve, reject) => {
      w.on('error', reject);
      w.on('message', (m: unknown) => {
        if (m === 'ready') resolve();
      });
    })));
    for (const w of pool) w.postMessage('go');
    const done = await Promise.all(answers);
    const profiles = done.reduce((s, a) => s + a.calls * a.profilesPerCall, 0);
    const elapsedMs = Math.max(...done.map((a) => a.elapsedMs));
    return {
      kind,
      bins: done[0].bins,
      workers,
      durationMs: elapsedMs,
      profiles,
      profilesPerSecond: (profiles * 1000) / elapsedMs,
      nsPerBin: (elapsedMs * 1e6) / (profiles * done[0].bins),
    };
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
}
