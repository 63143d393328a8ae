/**
 * Retrieval worker thread: runs ingest/job.ts runJob for the pipeline's pool (ingest/worker-pool.ts).
 * workerData = JobEnvironment; messages in: { id, input: JobInput }; out: { id, ok, output | error }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isLidarError } from '../processing/errors.js';
import { runJob, type JobEnvironment, type JobInput, type JobOutput } from './job.js';

const env = workerData as JobEnvironment;

function transferables(out: JobOutput): ArrayBuffer[] {
  const list: ArrayBuffer[] = [];
  for (const p of out.profiles) for (const a of Object.values(p.arrays)) if (a) list.push(a.buffer as ArrayBuffer);
  return list;
}

parentPort!.on('message', (msg: { id: number; input: JobInput }) => {
  try {
    const output = runJob(msg.input, env);
    parentPort!.postMessage({ id: msg.id, ok: true, output }, transferables(output));
  } catch (e) {
    const error = isLidarError(e) ? e.toJSON() : { code: 'LIDAR_ERR_BAD_VALUE', message: `retrieval crashed: ${e instanceof Error ? e.message : String(e)}` };
    parentPort!.postMessage({ id: msg.id, ok: false, error });
  }
});
