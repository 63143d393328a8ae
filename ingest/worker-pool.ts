/**
 * A pool of retrieval worker threads (one per core by default; 0 = run jobs inline on the main
 * thread, same code). Jobs queue when every worker is busy; a worker that dies is replaced and its
 * job fails with a LidarError (the pipeline quarantines the input), so one poisonous file cannot
 * stop the pool.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { LidarError, type ErrorCode } from '../processing/errors.js';
import { runJob, type JobEnvironment, type JobInput, type JobOutput } from './job.js';

interface Pending {
  id: number;
  input: JobInput;
  resolve(out: JobOutput): void;
  reject(e: LidarError): void;
}

interface Slot {
  worker: Worker;
  job: Pending | null;
}

type Reply = { id: number; ok: true; output: JobOutput } | { id: number; ok: false; error: { code: ErrorCode; message: string; file?: string; offset?: number; field?: string } };

/**
 * One worker per core (scripts/bench-ingest.ts on 2 cores: 128-135 files/s with 2 workers, 110 with
 * 1; the main thread's share — transport, Licel header, store writes — fits beside them).
 */
export function defaultPoolSize(): number {
  return Math.max(1, availableParallelism());
}

export class RetrievalPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;
  /** Workers replaced after an unexpected exit. */
  restarts = 0;

  constructor(private readonly env: JobEnvironment, readonly size = defaultPoolSize()) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), { workerData: this.env });
    const slot: Slot = { worker, job: null };
    worker.on('message', (msg: Reply) => {
      const job = slot.job;
      if (!job || job.id !== msg.id) return;
      slot.job = null;
      worker.unref();
      if (msg.ok) job.resolve(msg.output);
      else {
        const { code, message, ...where } = msg.error;
        const err = new LidarError(code, message, {});
        Object.assign(err, where); // the message already names file/offset/field
        job.reject(err);
      }
      this.pump();
    });
    const onDeath = (why: string) => {
      const idx = this.slots.indexOf(slot);
      if (idx < 0) return;
      const job = slot.job;
      slot.job = null;
      if (this.closed) return;
      this.restarts++;
      this.slots[idx] = this.spawn();
      if (job) job.reject(new LidarError('LIDAR_ERR_BAD_VALUE', `retrieval worker died (${why}) on this input`, { file: job.input.name }));
      this.pump();
    };
    worker.on('error', (e) => onDeath(e.message));
    worker.on('exit', (code) => onDeath(`exit ${code}`));
    worker.unref();
    return slot;
  }

  /** Runs one job; rejects with a LidarError for bad input (decode or retrieval failure). */
  run(input: JobInput): Promise<JobOutput> {
    if (this.closed) return Promise.reject(new LidarError('LIDAR_ERR_IO', 'retrieval pool is closed'));
    if (this.size === 0) {
      try {
        return Promise.resolve(runJob(input, this.env));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return new Promise<JobOutput>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, input, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.job) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.ref(); // a job in flight keeps the process alive; an idle pool does not
      const bytes = job.input.bytes.slice(); // own buffer, transferred
      slot.worker.postMessage({ id: job.id, input: { ...job.input, bytes } }, [bytes.buffer]);
    }
  }

  /** Jobs waiting for a worker plus jobs running. */
  depth(): number {
    return this.queue.length + this.slots.filter((s) => s.job).length;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(new LidarError('LIDAR_ERR_IO', 'retrieval pool closed'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
