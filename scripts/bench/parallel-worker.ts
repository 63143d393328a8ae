/**
 * One worker of the throughput benchmark (scripts/bench/parallel.ts): builds the benchmark profile,
 * warms up, says 'ready', and on 'go' runs `retrieveFile` (products into reused buffers) back to back for the given time; answers
 * with the number of calls, profiles per call, record bins and the elapsed time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { retrieveFile } from '../../processing/retrieval/retrieve.js';
import { ProductBuffers } from '../../processing/retrieval/product-buffers.js';
import { benchProfiles } from './inputs.js';

const { dataBins, kind, durationMs } = workerData as { dataBins: number; kind: string; durationMs: number };
const p = benchProfiles(dataBins).find((x) => x.kind === kind);
if (!p) throw new Error(`no ${kind} benchmark profile`);
// Products into reused buffers, as the ingest pool's workers run the chain (ingest/job.ts).
const buffers = new ProductBuffers();
const run = () => retrieveFile(p.file, p.fileName, p.ctx, buffers);
const profilesPerCall = run().length;
for (let i = 0; i < 30; i++) run();
parentPort!.once('message', () => {
  const t0 = performance.now();
  let calls = 0;
  while (performance.now() - t0 < durationMs) {
    run();
    calls++;
  }
  parentPort!.postMessage({ calls, profilesPerCall, bins: p.bins, elapsedMs: performance.now() - t0 });
});
parentPort!.postMessage('ready');
