/**
 * Reprocessing jobs: the archived raw files of one station in a window [from, to) run again through
 * the retrieval pool with a stored parameter set, in measurement order (verticals calibrate the scans
 * after them, as in the pipeline), and their records overwrite the stored ones (the store's keys are
 * idempotent). One job runs per station at a time; at most MAX_PENDING jobs wait or run in all.
 * Progress is on the job object (GET /jobs/:id) and emitted as 'job' events (SSE), at most every
 * PROGRESS_EVERY_MS and at every state change. DELETE cancels: a queued job at once, a running one
 * between two files.
 *
 * Known limit (docs/storage.md): a profile that no longer contributes to a cell after reprocessing
 * leaves its old contribution (the port has no delete).
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isLidarError } from '../processing/errors.js';
import { resolveParams } from '../processing/retrieval/params.js';
import type { ResolvedParams } from '../processing/retrieval/params.types.js';
import type { ApiContext } from './context.js';
import { archivedFilesOfDay, countArchived, dayFolders } from './archive.js';
import { CALIBRATION_MAX_AGE_MS, ConstantTrack } from './constants.js';
import { nowOf } from './query.js';

export const MAX_PENDING_JOBS = 8;
export const MAX_REPROCESS_WINDOW_MS = 7 * 86_400_000;
const PROGRESS_EVERY_MS = 250;
const KEEP_FINISHED = 50;

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface JobView {
  id: string;
  kind: 'reprocess';
  station: string;
  from: string;
  to: string;
  params_id: string;
  state: JobState;
  /** Files in the window's day folders (an upper bound until listing is done), processed, failed. */
  files_total: number;
  files_done: number;
  files_failed: number;
  profiles_stored: number;
  progress: number;
  created: string;
  started: string | null;
  finished: string | null;
  last_error: string | null;
}

interface Job {
  view: JobView;
  fromMs: number;
  toMs: number;
  params: ResolvedParams;
  cancel: boolean;
  lastEmitMs: number;
}

export interface ReprocessRequest {
  station: string;
  fromMs: number;
  toMs: number;
  paramsId: string;
  paramsJson: string;
}

export class JobRunner extends EventEmitter {
  private readonly jobs = new Map<string, Job>();
  private readonly chains = new Map<string, Promise<void>>();
  private closed = false;
  /** Called after each write of a job (the API drops its cached responses of the station). */
  onWrite: (station: string) => void = () => undefined;

  constructor(private readonly ctx: ApiContext) {
    super();
  }

  pending(): number {
    let n = 0;
    for (const j of this.jobs.values()) if (j.view.state === 'queued' || j.view.state === 'running') n++;
    return n;
  }

  counts(): { queued: number; running: number } {
    let queued = 0;
    let running = 0;
    for (const j of this.jobs.values()) {
      if (j.view.state === 'queued') queued++;
      else if (j.view.state === 'running') running++;
    }
    return { queued, running };
  }

  get(id: string): JobView | null {
    return this.jobs.get(id)?.view ?? null;
  }

  list(): JobView[] {
    return [...this.jobs.values()].map((j) => j.view).reverse();
  }

  /** Queues a job (the caller checked the station, window, parameter set and archive). */
  submit(r: ReprocessRequest): JobView {
    const params = resolveParams(JSON.parse(r.paramsJson), r.paramsId);
    const now = Date.now();
    const id = `job-${randomBytes(6).toString('hex')}`;
    const view: JobView = {
      id,
      kind: 'reprocess',
      station: r.station,
      from: new Date(r.fromMs).toISOString(),
      to: new Date(r.toMs).toISOString(),
      params_id: r.paramsId,
      state: 'queued',
      files_total: 0,
      files_done: 0,
      files_failed: 0,
      profiles_stored: 0,
      progress: 0,
      created: new Date(now).toISOString(),
      started: null,
      finished: null,
      last_error: null,
    };
    const job: Job = { view, fromMs: r.fromMs, toMs: r.toMs, params, cancel: false, lastEmitMs: 0 };
    this.jobs.set(id, job);
    this.prune();
    const prev = this.chains.get(r.station) ?? Promise.resolve();
    const next = prev.then(() => this.run(job));
    this.chains.set(r.station, next);
    void next.finally(() => {
      if (this.chains.get(r.station) === next) this.chains.delete(r.station);
    });
    this.emitJob(job, true);
    return view;
  }

  /** Cancels a queued or running job; null for an unknown id. */
  cancel(id: string): JobView | null {
    const job = this.jobs.get(id);
    if (!job) return null;
    if (job.view.state === 'queued') {
      job.cancel = true;
      this.finish(job, 'cancelled');
    } else if (job.view.state === 'running') job.cancel = true;
    return job.view;
  }

  private prune(): void {
    const finished = [...this.jobs.values()].filter((j) => j.view.finished !== null);
    for (const j of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.jobs.delete(j.view.id);
  }

  private emitJob(job: Job, force: boolean): void {
    const now = Date.now();
    if (!force && now - job.lastEmitMs < PROGRESS_EVERY_MS) return;
    job.lastEmitMs = now;
    const v = job.view;
    v.progress = v.files_total > 0 ? Math.min(1, (v.files_done + v.files_failed) / v.files_total) : v.state === 'done' ? 1 : 0;
    this.emit('job', { ...v });
  }

  private finish(job: Job, state: JobState, error?: string): void {
    job.view.state = state;
    job.view.finished = new Date().toISOString();
    if (error) job.view.last_error = error;
    if (state === 'done') job.view.files_total = job.view.files_done + job.view.files_failed;
    this.emitJob(job, true);
  }

  private async run(job: Job): Promise<void> {
    if (job.cancel || this.closed) {
      if (job.view.state === 'queued') this.finish(job, 'cancelled');
      return;
    }
    const { ctx } = this;
    const v = job.view;
    v.state = 'running';
    v.started = new Date().toISOString();
    const station = ctx.stations[v.station];
    const archive = ctx.rawArchiveDir!;
    try {
      v.files_total = await countArchived(archive, v.station, job.fromMs, job.toMs);
      this.emitJob(job, true);
      const constants = new ConstantTrack();
      await constants.load(ctx.store, v.station, job.fromMs - CALIBRATION_MAX_AGE_MS, job.fromMs);
      let listed = 0;
      let seenFolders = 0;
      const folders = dayFolders(job.fromMs, job.toMs);
      for (const day of folders) {
        const files = await archivedFilesOfDay(archive, v.station, day, job.fromMs, job.toMs, station.timezone);
        listed += files.length;
        seenFolders++;
        if (seenFolders === folders.length) v.files_total = listed;
        for (const f of files) {
          if (job.cancel || this.closed) {
            this.finish(job, 'cancelled');
            return;
          }
          try {
            const bytes = new Uint8Array(await readFile(f.path));
            const out = await ctx.pool.run({
              bytes,
              name: f.name,
              receivedMs: nowOf(ctx),
              station,
              params: job.params,
              paramsId: v.params_id,
              constants: constants.at(f.timeMs),
              minCalibrationReferenceM: ctx.minCalibrationReferenceM ?? 5000,
            });
            for (const [ch, value] of Object.entries(out.newConstants)) constants.add(ch, out.timeMs, value);
            if (out.profiles.length > 0) {
              await ctx.store.write({ profiles: out.profiles, cells: out.cells });
              v.profiles_stored += out.profiles.length;
              this.onWrite(v.station);
            }
            v.files_done++;
          } catch (e) {
            v.files_failed++;
            v.last_error = `${f.name}: ${isLidarError(e) ? `${e.code}: ${e.message}` : 'retrieval failed'}`;
            if (isLidarError(e) && e.code === 'LIDAR_ERR_IO') throw e; // the store is down: stop, do not skip files
          }
          this.emitJob(job, false);
        }
      }
      this.finish(job, 'done');
    } catch (e) {
      const msg = isLidarError(e) ? `${e.code}: ${e.message}` : String(e);
      (ctx.log ?? ((l, m) => console.error(`[api] ${l}: ${m}`)))('error', `job ${v.id} failed: ${msg}`);
      this.finish(job, 'failed', isLidarError(e) && e.code !== 'LIDAR_ERR_IO' ? msg : 'the store or the retrieval pool failed (logged on the server)');
    }
  }

  /** Cancels everything and waits for running jobs to stop. */
  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.jobs.values()) if (j.view.state === 'queued' || j.view.state === 'running') j.cancel = true;
    await Promise.allSettled([...this.chains.values()]);
  }
}
