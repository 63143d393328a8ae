/**
 * Reprocessing jobs: POST /jobs/reprocess (token scope "jobs"), GET /jobs, GET /jobs/:id (public:
 * progress bars), DELETE /jobs/:id (scope "jobs"). Progress also as SSE `job` events.
 */
import type { ApiState, App } from '../state.js';
import { BEARER } from '../state.js';
import { MAX_PENDING_JOBS, MAX_REPROCESS_WINDOW_MS } from '../jobs.js';
import { badRequest, conflict, notFound } from '../errors.js';
import { describeMs, parseTime, stationOf } from '../query.js';
import { PUBLIC_ERRORS, WRITE_ERRORS, errors } from '../schemas/common.js';
import { Job, JobIdParams, JobList, ReprocessBody } from '../schemas/jobs.js';

export function jobRoutes(api: App, state: ApiState): void {
  const { ctx, jobs } = state;

  api.post('/jobs/reprocess', {
    onRequest: state.requireScope('jobs'),
    schema: {
      tags: ['jobs'],
      summary: 'Reprocess a station\'s archived raw files with a parameter set',
      description: `Queues a job that runs the archived Licel files measured in [from, to) (at most ${describeMs(MAX_REPROCESS_WINDOW_MS)}) through the retrieval with the stored parameter set params_id and overwrites their stored products. One job per station runs at a time; at most ${MAX_PENDING_JOBS} wait or run (409 beyond). 202 with the job; follow it with GET /jobs/{id} or SSE \`job\` events. Token scope "jobs".`,
      security: BEARER,
      body: ReprocessBody,
      response: { 202: Job, ...errors(404, 409, ...WRITE_ERRORS) },
    },
  }, async (req, reply) => {
    const b = req.body;
    stationOf(ctx, b.station);
    const fromMs = parseTime(b.from, 'from');
    const toMs = parseTime(b.to, 'to');
    if (!(toMs > fromMs)) throw badRequest('to', 'invalid to: must be after from');
    if (toMs - fromMs > MAX_REPROCESS_WINDOW_MS) throw badRequest('to', `window from..to is ${describeMs(toMs - fromMs)}, longer than the allowed ${describeMs(MAX_REPROCESS_WINDOW_MS)}`);
    if (!ctx.rawArchiveDir) throw notFound('station', 'this service keeps no raw archive (pipeline.archive_raw is off): nothing to reprocess');
    const set = await ctx.store.getParamSet(b.params_id);
    if (!set) throw notFound('params_id', `unknown parameter set ${b.params_id} (POST /param-sets first)`);
    if (jobs.pending() >= MAX_PENDING_JOBS) throw conflict('station', `${MAX_PENDING_JOBS} jobs are already queued or running; wait or cancel one`);
    const job = jobs.submit({ station: b.station, fromMs, toMs, paramsId: set.id, paramsJson: set.json });
    return reply.code(202).header('location', `/api/v1/jobs/${job.id}`).send(job);
  });

  api.get('/jobs', {
    schema: { tags: ['jobs'], summary: 'Recent jobs (newest first; finished ones are kept for the last 50)', response: { 200: JobList, ...errors(...PUBLIC_ERRORS) } },
  }, async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    return { jobs: jobs.list() };
  });

  api.get('/jobs/:id', {
    schema: { tags: ['jobs'], summary: 'A job and its progress', params: JobIdParams, response: { 200: Job, ...errors(404, ...PUBLIC_ERRORS) } },
  }, async (req, reply) => {
    const job = jobs.get(req.params.id);
    if (!job) throw notFound('id', `unknown job ${req.params.id}`);
    reply.header('cache-control', 'no-store');
    return job;
  });

  api.delete('/jobs/:id', {
    onRequest: state.requireScope('jobs'),
    schema: {
      tags: ['jobs'],
      summary: 'Cancel a job',
      description: 'A queued job is cancelled at once, a running one after the file in progress (state "cancelled"; what it stored stays). A finished job is returned unchanged. Token scope "jobs".',
      security: BEARER,
      params: JobIdParams,
      response: { 200: Job, ...errors(404, ...WRITE_ERRORS) },
    },
  }, async (req) => {
    const job = jobs.cancel(req.params.id);
    if (!job) throw notFound('id', `unknown job ${req.params.id}`);
    return job;
  });
}
