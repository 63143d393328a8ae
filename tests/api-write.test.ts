// The write routes of the API over a real embedded store filled by the real pipeline: bearer tokens
// (401 missing/malformed/unknown, 403 lacking scope), parameter sets and activation (the pipeline then
// retrieves with the new set), retrieval previews (not stored), reprocessing jobs (progress, results,
// cancel, queue bound) and the MEE calibration; 400 naming the field, 404, 413.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { createApi } from '../api/server.js';
import { MAX_PENDING_JOBS } from '../api/jobs.js';
import { paramsId, resolveParams } from '../processing/retrieval/params.js';
import { buildApiFixture, WINTER_DIR, WINTER_FILES, type ApiFixture } from './api-fixture.js';

let f: ApiFixture;
let app: FastifyInstance;
beforeAll(async () => {
  f = await buildApiFixture();
  app = await createApi(f.ctx);
});
afterAll(async () => {
  await app?.close();
  await f?.close();
});

const truth = JSON.parse(readFileSync(join(WINTER_DIR, 'truth.json'), 'utf8')) as { profiles: Array<{ file: string; time_start_utc: string; elevation_deg: number }> };

type Res = { statusCode: number; body: string; headers: Record<string, unknown> };
const req = (method: InjectOptions['method'], url: string, payload?: unknown, token?: string | null, headers: Record<string, string> = {}): Promise<Res> =>
  app.inject({ method, url, payload: payload as InjectOptions['payload'], headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } }) as Promise<Res>;

function expectError(r: Res, status: number, field?: string): { code: string; message: string; field?: string } {
  expect(r.statusCode, r.body).toBe(status);
  const b = JSON.parse(r.body) as { error: { code: string; message: string; field?: string } };
  expect(b.error.code).toMatch(/^LIDAR_ERR_/);
  expect(r.body).not.toMatch(/\bat .+\(.+:\d+:\d+\)|node_modules|\.ts:\d+|\/tmp\//);
  if (field !== undefined) expect(b.error.field).toBe(field);
  return b.error;
}

async function waitJob(id: string, done: (j: { state: string }) => boolean, timeoutMs = 60_000): Promise<Record<string, unknown> & { state: string }> {
  const t0 = Date.now();
  for (;;) {
    const j = JSON.parse((await req('GET', `/api/v1/jobs/${id}`)).body);
    if (done(j)) return j;
    if (Date.now() - t0 > timeoutMs) throw new Error(`job ${id} still ${j.state}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A stored 532 nm scan profile measured after the first vertical (so it is calibrated). */
async function aScanProfileId(): Promise<string> {
  const metas = await f.store.backend.profiles({ station: 'sofia', channel: '532o-glued', mode: 'scan', fromMs: Date.parse('2018-01-19T16:15:00Z'), toMs: Date.parse('2018-01-19T16:20:00Z') });
  return metas[0].id;
}

describe('tokens', () => {
  const writeRoutes: Array<[InjectOptions['method'], string, unknown]> = [
    ['POST', '/api/v1/param-sets', { params: {} }],
    ['POST', '/api/v1/stations/sofia/active-params', { params_id: 'p-0000000000000000' }],
    ['POST', '/api/v1/profiles/sofia:532o-glued:1516378500000/preview', { params: {} }],
    ['POST', '/api/v1/jobs/reprocess', { station: 'sofia', from: '2018-01-19T16:00:00Z', to: '2018-01-19T17:00:00Z', params_id: 'p-0000000000000000' }],
    ['DELETE', '/api/v1/jobs/job-000000000000', undefined],
    ['POST', '/api/v1/stations/sofia/calibrations', { aq_station: 'BG0079A', from: '2018-01-19T16:00:00Z', to: '2018-01-19T18:00:00Z', pm: [{ time: '2018-01-19T16:00:00Z', pm10: 1 }] }],
  ];

  it('every write route: 401 without a token, with a malformed header, with an unknown token', async () => {
    for (const [method, url, body] of writeRoutes) {
      const none = await req(method, url, body);
      expectError(none, 401, 'authorization');
      expect(none.headers['www-authenticate']).toBe('Bearer realm="lidar-pm"');
      expectError(await req(method, url, body, null, { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }), 401, 'authorization');
      const bad = await req(method, url, body, 'lpm_wrong-token');
      expectError(bad, 401, 'authorization');
      expect(bad.headers['www-authenticate']).toMatch(/error="invalid_token"/);
      // A token differing only in its last character is still unknown.
      expectError(await req(method, url, body, f.token.slice(0, -1) + (f.token.endsWith('A') ? 'B' : 'A')), 401, 'authorization');
    }
  });

  it('403 for a valid token without the route\'s scope; the scoped token works where it may', async () => {
    for (const [method, url, body] of writeRoutes) {
      const r = await req(method, url, body, f.jobsOnlyToken);
      if (url.includes('/jobs')) expect(r.statusCode).not.toBe(403);
      else {
        const e = expectError(r, 403, 'authorization');
        expect(e.message).toMatch(/jobs-bot.*scope/);
      }
    }
  });
});

describe('parameter sets', () => {
  it('stores a validated set under its content id (201, then 200 for the same set) and lists it', async () => {
    const params = { monte_carlo: 0, pm: { mee_pm10: 4.2 }, smoothing_m: 30 };
    const r = await req('POST', '/api/v1/param-sets', { name: 'winter MEE', params }, f.token);
    expect(r.statusCode).toBe(201);
    const b = JSON.parse(r.body);
    expect(b.id).toBe(paramsId(resolveParams(params)));
    expect(b.name).toBe('winter MEE');
    expect(b.params.pm.mee_pm10).toBe(4.2);
    expect(b.params.reference.mode).toBeNull(); // canonical: every field spelled out
    const again = await req('POST', '/api/v1/param-sets', { params: { ...params } }, f.token);
    expect(again.statusCode).toBe(200);
    expect(JSON.parse(again.body).id).toBe(b.id);
    const list = JSON.parse((await req('GET', '/api/v1/param-sets')).body);
    expect(list.param_sets.map((p: { id: string }) => p.id)).toContain(b.id);
    expect((await req('GET', `/api/v1/param-sets/${b.id}`)).statusCode).toBe(200);
  });

  it('400 naming the parameter, for bad values, unknown keys, bad bodies; 413 for a huge body', async () => {
    expect(expectError(await req('POST', '/api/v1/param-sets', { params: { reference: { window_m: [8000, 6000] } } }, f.token), 400, 'params.reference.window_m').message).toMatch(/8000/);
    expectError(await req('POST', '/api/v1/param-sets', { params: { lidar_ratio: 50 } }, f.token), 400, 'params.lidar_ratio');
    expectError(await req('POST', '/api/v1/param-sets', { params: { pm: { mee_pm10: -1 } } }, f.token), 400, 'params.pm.mee_pm10');
    expectError(await req('POST', '/api/v1/param-sets', { name: 'x' }, f.token), 400, 'params');
    expectError(await req('POST', '/api/v1/param-sets', { params: {}, colour: 'red' }, f.token), 400, 'colour');
    expectError(await req('POST', '/api/v1/param-sets', { params: [] }, f.token), 400, 'params');
    expectError(await req('POST', '/api/v1/param-sets', '{"params": {', f.token, { 'content-type': 'application/json' }), 400, 'body');
    expectError(await req('POST', '/api/v1/param-sets', 'params=1', f.token, { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'content-type');
    const huge = { params: { overlap: { table: Array.from({ length: 120_000 }, (_, i) => [i, 1]) } } };
    expectError(await req('POST', '/api/v1/param-sets', huge, f.token), 413, 'body');
  });

  it('activating a set makes the pipeline retrieve new files with it; 404/400 for unknown sets and stations', async () => {
    const params = { monte_carlo: 0, pm: { mee_pm10: 7 } };
    const id = JSON.parse((await req('POST', '/api/v1/param-sets', { params }, f.token)).body).id as string;
    const before = f.ctx.activeParams.sofia;
    const r = await req('POST', '/api/v1/stations/sofia/active-params', { params_id: id }, f.token);
    expect(r.statusCode).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ station: 'sofia', params_id: id });
    expect(f.ctx.activeParams.sofia.paramsId).toBe(id);
    try {
      // The vertical file again, now retrieved with the new set (same key: it overwrites).
      const vertical = truth.profiles.find((p) => p.elevation_deg === 90)!;
      await f.feed([vertical.file]);
      const pid = `sofia:532o-glued:${Date.parse(vertical.time_start_utc)}`;
      expect(JSON.parse((await req('GET', `/api/v1/profiles/${pid}`)).body).params_id).toBe(id);
      expect(JSON.parse((await req('GET', '/api/v1/param-sets')).body).active.sofia).toBe(id);
    } finally {
      await f.ctx.activateParams('sofia', before.paramsId);
      const vertical = truth.profiles.find((p) => p.elevation_deg === 90)!;
      await f.feed([vertical.file]);
    }
    expectError(await req('POST', '/api/v1/stations/sofia/active-params', { params_id: 'p-0123456789abcdef' }, f.token), 404, 'params_id');
    expectError(await req('POST', '/api/v1/stations/oslo/active-params', { params_id: id }, f.token), 404, 'station');
    expectError(await req('POST', '/api/v1/stations/sofia/active-params', { params_id: 'latest' }, f.token), 400, 'params_id');
  });
});

describe('preview', () => {
  it('runs the retrieval on the archived raw file with other parameters and stores nothing', async () => {
    const id = await aScanProfileId();
    const stored = JSON.parse((await req('GET', `/api/v1/profiles/${id}`)).body);
    const r = await req('POST', `/api/v1/profiles/${id}/preview`, { params: { monte_carlo: 0, pm: { mee_pm10: 7 } } }, f.token);
    expect(r.statusCode, r.body).toBe(200);
    const p = JSON.parse(r.body);
    expect(p.preview).toBe(true);
    expect(p.stored_params_id).toBe(stored.params_id);
    expect(p.params_id).toBe(paramsId(resolveParams({ monte_carlo: 0, pm: { mee_pm10: 7 } })));
    expect(p.params.pm.mee_pm10).toBe(7);
    expect(p.constants['532o-glued']).toBeGreaterThan(0);
    // PM = dry extinction / MEE: doubling the MEE halves PM10 in every valid bin; extinction unchanged.
    let checked = 0;
    for (let i = 0; i < p.bins; i++) {
      if (stored.pm10[i] !== null && p.pm10[i] !== null && stored.pm10[i] > 1) {
        expect(p.pm10[i] / stored.pm10[i]).toBeCloseTo(0.5, 4);
        checked++;
      }
      if (stored.alpha_aer[i] !== null) expect(p.alpha_aer[i]).toBeCloseTo(stored.alpha_aer[i], 10);
    }
    expect(checked).toBeGreaterThan(100);
    expect(JSON.parse((await req('GET', `/api/v1/profiles/${id}`)).body).pm10).toEqual(stored.pm10);
  });

  it('400 for bad parameters and a too-large Monte Carlo, 404 for unknown profiles', async () => {
    const id = await aScanProfileId();
    expectError(await req('POST', `/api/v1/profiles/${id}/preview`, { params: { monte_carlo: 1000 } }, f.token), 400, 'params.monte_carlo');
    expectError(await req('POST', `/api/v1/profiles/${id}/preview`, { params: { smoothing_m: 'lots' } }, f.token), 400, 'params.smoothing_m');
    expectError(await req('POST', `/api/v1/profiles/${id}/preview`, {}, f.token), 400, 'params');
    expectError(await req('POST', '/api/v1/profiles/sofia:532o-glued:1000/preview', { params: {} }, f.token), 404, 'id');
    expectError(await req('POST', '/api/v1/profiles/bad/preview', { params: {} }, f.token), 400, 'id');
  });
});

describe('reprocessing jobs', () => {
  it('reprocesses a window with a stored set: progress to done, the products replaced', async () => {
    const params = { monte_carlo: 0, pm: { mee_pm10: 7 } };
    const pid = JSON.parse((await req('POST', '/api/v1/param-sets', { params }, f.token)).body).id as string;
    const from = '2018-01-19T16:10:00Z';
    const to = '2018-01-19T16:30:00Z';
    const inWindow = truth.profiles.filter((p) => Date.parse(p.time_start_utc) >= Date.parse(from) && Date.parse(p.time_start_utc) < Date.parse(to));
    const before = await f.store.backend.profiles({ station: 'sofia', channel: '532o-glued', fromMs: Date.parse(from), toMs: Date.parse(to) });
    expect(before.every((m) => m.paramsId !== pid)).toBe(true);
    const beforeMap = (await req('GET', '/api/v1/stations/sofia/map?at=2018-01-19T16:29:00Z')).body;

    const r = await req('POST', '/api/v1/jobs/reprocess', { station: 'sofia', from, to, params_id: pid }, f.jobsOnlyToken);
    expect(r.statusCode, r.body).toBe(202);
    const job = JSON.parse(r.body);
    expect(r.headers.location).toBe(`/api/v1/jobs/${job.id}`);
    expect(job).toMatchObject({ station: 'sofia', params_id: pid, from: new Date(from).toISOString() });
    const done = await waitJob(job.id, (j) => j.state !== 'queued' && j.state !== 'running');
    expect(done.state).toBe('done');
    expect(done.files_done).toBe(inWindow.length);
    expect(done.files_failed).toBe(0);
    expect(done.files_total).toBe(inWindow.length);
    expect(done.progress).toBe(1);
    const allChannels = await f.store.backend.profiles({ station: 'sofia', fromMs: Date.parse(from), toMs: Date.parse(to) });
    expect(done.profiles_stored).toBe(allChannels.length); // every stored profile of the window rewritten, no new ones
    const after = await f.store.backend.profiles({ station: 'sofia', channel: '532o-glued', fromMs: Date.parse(from), toMs: Date.parse(to) });
    expect(after.map((m) => m.id)).toEqual(before.map((m) => m.id));
    expect(after.every((m) => m.paramsId === pid)).toBe(true);
    const afterMap = (await req('GET', '/api/v1/stations/sofia/map?at=2018-01-19T16:29:00Z')).body;
    expect(afterMap).not.toBe(beforeMap);
    const list = JSON.parse((await req('GET', '/api/v1/jobs')).body);
    expect(list.jobs[0].id).toBe(job.id);
  });

  it('cancel stops a running job between files; finished jobs stay as they were', async () => {
    const pid = f.ctx.activeParams.sofia.paramsId;
    const r = await req('POST', '/api/v1/jobs/reprocess', { station: 'sofia', from: '2018-01-19T16:00:00Z', to: '2018-01-19T18:00:00Z', params_id: pid }, f.token);
    const job = JSON.parse(r.body);
    const del = await req('DELETE', `/api/v1/jobs/${job.id}`, undefined, f.jobsOnlyToken);
    expect(del.statusCode).toBe(200);
    const end = await waitJob(job.id, (j) => j.state !== 'queued' && j.state !== 'running');
    expect(end.state).toBe('cancelled');
    expect(end.files_done as number).toBeLessThan(WINTER_FILES.length);
    const again = await req('DELETE', `/api/v1/jobs/${job.id}`, undefined, f.token);
    expect(JSON.parse(again.body).state).toBe('cancelled');
    expectError(await req('DELETE', '/api/v1/jobs/job-0123456789ab', undefined, f.token), 404, 'id');
    expectError(await req('GET', '/api/v1/jobs/job-0123456789ab'), 404, 'id');
    expectError(await req('GET', '/api/v1/jobs/42'), 400, 'id');
  });

  it(`400 for bad windows, 404 for unknown stations and sets, 409 beyond ${MAX_PENDING_JOBS} pending jobs`, async () => {
    const pid = f.ctx.activeParams.sofia.paramsId;
    const body = (o: Record<string, unknown>) => ({ station: 'sofia', from: '2018-01-19T16:00:00Z', to: '2018-01-19T18:00:00Z', params_id: pid, ...o });
    expectError(await req('POST', '/api/v1/jobs/reprocess', body({ from: '2018-01-01T00:00:00Z' }), f.token), 400, 'to');
    expectError(await req('POST', '/api/v1/jobs/reprocess', body({ to: '2018-01-19T15:00:00Z' }), f.token), 400, 'to');
    expectError(await req('POST', '/api/v1/jobs/reprocess', body({ from: 'soon' }), f.token), 400, 'from');
    expectError(await req('POST', '/api/v1/jobs/reprocess', body({ station: 'rome' }), f.token), 404, 'station');
    expectError(await req('POST', '/api/v1/jobs/reprocess', body({ params_id: 'p-ffffffffffffffff' }), f.token), 404, 'params_id');
    expectError(await req('POST', '/api/v1/jobs/reprocess', body({ params_id: undefined }), f.token), 400, 'params_id');
    const ids: string[] = [];
    let refused: Res | null = null;
    for (let i = 0; i <= MAX_PENDING_JOBS && refused === null; i++) {
      const r = await req('POST', '/api/v1/jobs/reprocess', body({}), f.token);
      if (r.statusCode === 202) ids.push(JSON.parse(r.body).id);
      else refused = r;
    }
    for (const id of ids) await req('DELETE', `/api/v1/jobs/${id}`, undefined, f.token);
    expect(refused).not.toBeNull();
    expectError(refused!, 409, 'station');
    for (const id of ids) await waitJob(id, (j) => j.state === 'cancelled' || j.state === 'done');
  });
});

describe('calibration', () => {
  const base = { aq_station: 'BG0079A', from: '2018-01-19T16:00:00Z', to: '2018-01-19T18:00:00Z', min_hours: 2, radius_m: 1000, max_agl_m: 400, min_bins: 5 };

  it('fits the MEE that links the stored extinction to the given hourly PM', async () => {
    // First pass: any PM, to learn the hourly dry extinction the API pairs.
    const first = await req('POST', '/api/v1/stations/sofia/calibrations', { ...base, pm: [{ time: '2018-01-19T16:00:00Z', pm10: 100 }, { time: '2018-01-19T17:00:00Z', pm10: 150 }] }, f.token);
    expect(first.statusCode, first.body).toBe(200);
    const hours = JSON.parse(first.body).hours as Array<{ time: string; alpha_dry550_per_m: number }>;
    expect(hours.length).toBe(2);
    // Station PM made with MEE 5.0: the fit must give 5.0, perfect r2, no bias.
    const pm = hours.map((h) => ({ time: h.time, pm10: (h.alpha_dry550_per_m * 1e6) / 5.0, pm25: null }));
    const r = await req('POST', '/api/v1/stations/sofia/calibrations', { ...base, pm }, f.token);
    expect(r.statusCode, r.body).toBe(200);
    const b = JSON.parse(r.body);
    expect(b.n).toBe(2);
    expect(b.mee).toBeCloseTo(5.0, 3);
    expect(b.r2).toBeCloseTo(1, 6);
    expect(Math.abs(b.rmse)).toBeLessThan(0.01);
    expect(Math.abs(b.bias)).toBeLessThan(0.01);
    expect(b.params.pm.mee_pm10).toBeCloseTo(5.0, 3);
    expect(b.params_id).toBe(paramsId(resolveParams(b.params)));
    expect(b.input_params_id).toBe(f.ctx.activeParams.sofia.paramsId);
    expect(b.channel).toBe('532o-glued');
  });

  it('400 for unpaired data and bad hours, 404 for unknown AQ stations', async () => {
    const pm = [{ time: '2018-01-19T16:00:00Z', pm10: 100 }, { time: '2018-01-19T17:00:00Z', pm10: 150 }];
    expect(expectError(await req('POST', '/api/v1/stations/sofia/calibrations', { ...base, min_hours: 3, pm }, f.token), 400, 'pm').message).toMatch(/only 2 paired hours/);
    expectError(await req('POST', '/api/v1/stations/sofia/calibrations', { ...base, pm: [{ time: '2018-01-19T16:30:00Z', pm10: 1 }] }, f.token), 400, 'pm[0].time');
    expectError(await req('POST', '/api/v1/stations/sofia/calibrations', { ...base, pm: [{ time: '2018-01-19T16:00:00Z', pm10: -5 }] }, f.token), 400, 'pm[0].pm10');
    expectError(await req('POST', '/api/v1/stations/sofia/calibrations', { ...base, pm: [] }, f.token), 400, 'pm');
    expectError(await req('POST', '/api/v1/stations/sofia/calibrations', { ...base, from: '2017-01-01T00:00:00Z', pm }, f.token), 400, 'to');
    expectError(await req('POST', '/api/v1/stations/sofia/calibrations', { ...base, aq_station: 'BG0052A', pm }, f.token), 400, 'aq_station');
    expectError(await req('POST', '/api/v1/stations/sofia/calibrations', { ...base, aq_station: 'XX9999A', pm }, f.token), 404, 'aq_station');
    expectError(await req('POST', '/api/v1/stations/lyon/calibrations', { ...base, pm }, f.token), 404, 'station');
  });
});
