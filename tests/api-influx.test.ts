// End to end through a real InfluxDB: influxd started by the harness on a free port, the winter
// scenario run through the real pipeline into the InfluxDB adapter, and the latest map, a curtain
// and a series read through the API; they equal what the same input gives through the embedded store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createApi } from '../api/server.js';
import { createInfluxBackend } from '../store/influx/index.js';
import { startInfluxd, type InfluxdHandle } from './harness/influxd.js';
import { buildApiFixture, WINTER_FILES, type ApiFixture } from './api-fixture.js';

const FILES = WINTER_FILES.slice(0, 72); // two 2 deg sweeps, a 6 deg sector, three verticals
let influx: InfluxdHandle;
let spoolDir: string;
let fi: ApiFixture;
let fe: ApiFixture;
let ai: FastifyInstance;
let ae: FastifyInstance;

beforeAll(async () => {
  influx = await startInfluxd();
  spoolDir = await mkdtemp(join(tmpdir(), 'lidar-api-influx-spool-'));
  const backend = createInfluxBackend({ url: influx.url, database: 'api_e2e', spoolDir, rawRetention: 'INF', logger: () => undefined });
  fi = await buildApiFixture({ backend, files: FILES });
  fe = await buildApiFixture({ files: FILES });
  ai = await createApi(fi.ctx);
  ae = await createApi(fe.ctx);
});
afterAll(async () => {
  await ai?.close();
  await ae?.close();
  await fi?.close();
  await fe?.close();
  await influx?.stop();
  if (spoolDir) await rm(spoolDir, { recursive: true, force: true });
});

function expectSameNumbers(a: unknown, b: unknown, path = ''): void {
  if (typeof a === 'number' && typeof b === 'number') {
    if (a === b) return;
    expect(Math.abs(a - b), path).toBeLessThanOrEqual(1e-5 * Math.max(Math.abs(a), Math.abs(b)));
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    expect(a.length, path).toBe(b.length);
    a.forEach((x, i) => expectSameNumbers(x, b[i], `${path}[${i}]`));
    return;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    expect(Object.keys(a).sort(), path).toEqual(Object.keys(b).sort());
    for (const k of Object.keys(a)) expectSameNumbers((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    return;
  }
  expect(a, path).toEqual(b);
}

describe('API over a real InfluxDB store', () => {
  it('the store in use is InfluxDB and the API is ready', async () => {
    expect(fi.ctx.store.backend.kind).toBe('influx');
    const r = await ai.inject('/readyz');
    expect(r.statusCode).toBe(200);
    expect(JSON.parse(r.body).store.kind).toBe('influx');
  });

  it('latest map: the same GeoJSON as through the embedded store', async () => {
    const ri = await ai.inject('/api/v1/stations/sofia/map?product=pm10');
    const re = await ae.inject('/api/v1/stations/sofia/map?product=pm10');
    expect(ri.statusCode).toBe(200);
    const gi = JSON.parse(ri.body);
    expect(gi.features.length).toBeGreaterThan(5);
    expect(gi.scan.profiles).toBeGreaterThan(1);
    gi.features.sort((x: { id: string }, y: { id: string }) => (x.id < y.id ? -1 : 1));
    const ge = JSON.parse(re.body);
    ge.features.sort((x: { id: string }, y: { id: string }) => (x.id < y.id ? -1 : 1));
    expectSameNumbers(gi, ge);
    expect(ri.headers.etag).toBeDefined();
    expect((await ai.inject({ url: '/api/v1/stations/sofia/map?product=pm10', headers: { 'if-none-match': ri.headers.etag as string } })).statusCode).toBe(304);
  });

  it('curtain (JSON and binary) and an hourly series: the same as through the embedded store', async () => {
    const q = 'from=2018-01-19T16:00:00Z&to=2018-01-19T16:45:00Z&width=9&height=40&product=beta_aer';
    const ci = await ai.inject(`/api/v1/stations/sofia/curtain?${q}`);
    expect(ci.statusCode).toBe(200);
    const ji = JSON.parse(ci.body);
    expect(ji.profiles_used).toBeGreaterThanOrEqual(3);
    expect(ji.values.flat().some((v: number | null) => v !== null)).toBe(true);
    expectSameNumbers(ji, JSON.parse((await ae.inject(`/api/v1/stations/sofia/curtain?${q}`)).body));
    const bi = await ai.inject(`/api/v1/stations/sofia/curtain?${q}&format=f32`);
    const be = await ae.inject(`/api/v1/stations/sofia/curtain?${q}&format=f32`);
    expect(bi.rawPayload.length).toBe(be.rawPayload.length);
    expect(bi.rawPayload.subarray(0, 32)).toEqual(be.rawPayload.subarray(0, 32));
    const s = 'target=station&resolution=1h&from=2018-01-19T16:00:00Z&to=2018-01-19T17:00:00Z';
    const si = JSON.parse((await ai.inject(`/api/v1/stations/sofia/series?${s}`)).body);
    expect(si.points).toHaveLength(1);
    expectSameNumbers(si, JSON.parse((await ae.inject(`/api/v1/stations/sofia/series?${s}`)).body));
  });
});
