// The public read routes of the API (api/), in-process with inject, over a real embedded store filled
// by the real pipeline from the winter scenario (tests/api-fixture.ts). Every route: success checked
// against the store's own answer, 400 naming the field, 404; ETag/304 and invalidation on new data;
// CSV; the binary curtain; responses valid against the schemas published in /docs/json.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { expectMatchesOpenApi, startApiApp, type ApiApp, type OpenApiDocument } from './harness/api-app.js';
import { CURTAIN_HEADER_BYTES } from '../api/curtain.js';
import { cellId, parseCellId } from '../processing/geometry/grid.js';
import { WINTER_DIR, WINTER_END_MS, WINTER_FILES, type ApiFixture } from './api-fixture.js';

let api: ApiApp | null = null;
let f: ApiFixture;
let app: FastifyInstance;
let openapi: OpenApiDocument;

beforeAll(async () => {
  api = await startApiApp();
  ({ f, app, openapi } = api);
});
afterAll(() => api?.close());

const expectMatchesSchema = (route: string, method: string, body: unknown, status = '200'): void => expectMatchesOpenApi(openapi, route, method, body, status);

function expectError(r: { statusCode: number; body: string }, status: number, field?: string): { code: string; message: string; field?: string } {
  expect(r.statusCode, r.body).toBe(status);
  const b = JSON.parse(r.body) as { error: { code: string; message: string; field?: string } };
  expect(typeof b.error.code).toBe('string');
  expect(b.error.code).toMatch(/^LIDAR_ERR_/);
  expect(b.error.message.length).toBeGreaterThan(5);
  expect(r.body).not.toMatch(/\bat .+\(.+:\d+:\d+\)|node_modules|\.ts:\d+/);
  if (field !== undefined) expect(b.error.field).toBe(field);
  return b.error;
}

const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });

describe('stations', () => {
  it('lists the configured station with its channels, active set, newest profile and health', async () => {
    const r = await get('/api/v1/stations');
    expect(r.statusCode).toBe(200);
    const b = JSON.parse(r.body);
    expectMatchesSchema('/api/v1/stations', 'get', b);
    expect(b.stations).toHaveLength(1);
    const s = b.stations[0];
    expect(s.id).toBe('sofia');
    expect(s.channels).toEqual(['1064o-glued', '532o-glued']);
    expect(s.active_params_id).toBe(f.ctx.activeParams.sofia.paramsId);
    expect(s.last_profile).toBe(new Date(f.pipeline.health().sofia.lastProfileMs).toISOString());
    expect(s.health.processed).toBe(WINTER_FILES.length);
    expect(s.config.channels['0'].wavelength_nm).toBe(532);
  });

  it('status: live view, 404 for an unknown station, warn when a source is down', async () => {
    const r = await get('/api/v1/stations/sofia/status');
    expect(r.statusCode).toBe(200);
    const b = JSON.parse(r.body);
    expectMatchesSchema('/api/v1/stations/{station}/status', 'get', b);
    expect(b.level).toBe('ok');
    expect(b.retrieval.processed).toBe(WINTER_FILES.length);
    expect(b.retrieval.success_rate).toBe(1);
    expect(b.since_last_profile_s).toBe((f.nowMs - f.pipeline.health().sofia.lastProfileMs) / 1000);
    expect(b.completeness.last_hour_files).toBe(96); // 17:00-18:00 UTC: 96 files of the schedule
    f.source.connected = false;
    try {
      const w = JSON.parse((await get('/api/v1/stations/sofia/status')).body);
      expect(w.level).toBe('warn');
      expect(w.reasons.join(' ')).toMatch(/test-feed/);
    } finally {
      f.source.connected = true;
    }
    expectError(await get('/api/v1/stations/paris/status'), 404, 'station');
    expectError(await get('/api/v1/stations/bad%20id/status'), 400, 'station');
  });

  it('status and the station list still answer while the store cannot be read (an outage), naming it', async () => {
    const backend = f.ctx.store.backend as { profiles: (...a: unknown[]) => Promise<unknown> };
    const real = backend.profiles;
    backend.profiles = async () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:8086');
    };
    try {
      const r = await get('/api/v1/stations/sofia/status');
      expect(r.statusCode).toBe(200);
      const b = JSON.parse(r.body);
      expectMatchesSchema('/api/v1/stations/{station}/status', 'get', b);
      expect(b.level).toBe('crit');
      expect(b.reasons.join(' ')).toMatch(/the store cannot be read/);
      expect(b.completeness).toEqual({ last_hour_files: null, typical_files_per_hour: null, ratio: null });
      // the newest profile time comes from the pipeline's memory
      expect(b.since_last_profile_s).toBe((f.nowMs - f.pipeline.health().sofia.lastProfileMs) / 1000);
      const l = await get('/api/v1/stations');
      expect(l.statusCode).toBe(200);
      expect(JSON.parse(l.body).stations[0].id).toBe('sofia');
    } finally {
      backend.profiles = real;
    }
    expect(JSON.parse((await get('/api/v1/stations/sofia/status')).body).level).toBe('ok');
  });

  it('health history: stored records in the window, strings without paths, 400 on a bad window', async () => {
    const t = WINTER_END_MS - 600_000;
    await f.store.write({ health: [{ station: 'sofia', timeMs: t, values: { 'laser.energy_mj': 42.5, 'pipeline.lastError': 'store write: cannot open /var/lib/lidar-pm/db.sqlite', rain: false, 'detector.hv': NaN } }] });
    const r = await get(`/api/v1/stations/sofia/health?from=${t - 1000}&to=${t + 1000}`);
    expect(r.statusCode).toBe(200);
    const b = JSON.parse(r.body);
    expectMatchesSchema('/api/v1/stations/{station}/health', 'get', b);
    expect(b.records).toHaveLength(1);
    expect(b.records[0].time).toBe(new Date(t).toISOString());
    expect(b.records[0].values['laser.energy_mj']).toBe(42.5);
    expect(b.records[0].values.rain).toBe(false);
    expect(b.records[0].values['detector.hv']).toBeNull();
    expect(b.records[0].values['pipeline.lastError']).toBe('store write: cannot open <path>');
    const only = JSON.parse((await get(`/api/v1/stations/sofia/health?from=${t - 1000}&to=${t + 1000}&fields=rain`)).body);
    expect(Object.keys(only.records[0].values)).toEqual(['rain']);
    expectError(await get('/api/v1/stations/sofia/health?from=2018-01-19T10:00:00Z&to=2018-01-19T09:00:00Z'), 400, 'to');
    expectError(await get('/api/v1/stations/sofia/health?from=2010-01-01&to=2018-01-01'), 400, 'to');
    expectError(await get('/api/v1/stations/sofia/health?from=yesterday'), 400, 'from');
    expectError(await get('/api/v1/stations/sofia/health?from=2018-01-19T10:00:00'), 400, 'from'); // no zone
    expectError(await get('/api/v1/stations/nowhere/health'), 404, 'station');
  });
});

describe('latest map and scan', () => {
  it('map: the latest scan as GeoJSON cells equal to the store\'s latestMap', async () => {
    const r = await get('/api/v1/stations/sofia/map?product=pm10');
    expect(r.statusCode).toBe(200);
    const b = JSON.parse(r.body);
    expectMatchesSchema('/api/v1/stations/{station}/map', 'get', b);
    const m = (await f.store.latestMap({ station: 'sofia', channel: '532o-glued', product: 'pm10', nowMs: f.nowMs }))!;
    expect(b.type).toBe('FeatureCollection');
    expect(b.channel).toBe('532o-glued');
    expect(b.scan.from).toBe(new Date(m.scan.fromMs).toISOString());
    expect(b.time).toBe(new Date(m.scan.toMs).toISOString());
    expect(b.features).toHaveLength(m.cells.length);
    expect(m.cells.length).toBeGreaterThan(5);
    for (const feat of b.features) {
      const cell = m.cells.find((c) => c.cell === feat.id)!;
      expect(feat.properties.n).toBe(cell.n);
      expect(feat.properties.value).toBeCloseTo(cell.value, Math.max(0, 5 - Math.ceil(Math.log10(Math.abs(cell.value) + 1))));
      expect(feat.properties.unit).toBe('ug/m3');
      expect(feat.properties.averaging).toBe('one scan');
      const ring = feat.geometry.coordinates[0];
      expect(ring).toHaveLength(5);
      expect(ring[4]).toEqual(ring[0]);
      const g = parseCellId(feat.id)!;
      const lons = ring.map((p: number[]) => p[0]);
      const lats = ring.map((p: number[]) => p[1]);
      expect(g.centreLon).toBeGreaterThan(Math.min(...lons));
      expect(g.centreLon).toBeLessThan(Math.max(...lons));
      expect(g.centreLat).toBeGreaterThan(Math.min(...lats));
      expect(g.centreLat).toBeLessThan(Math.max(...lats));
    }
    const alpha = JSON.parse((await get('/api/v1/stations/sofia/map?product=alpha_aer&channel=1064o-glued')).body);
    expect(alpha.unit).toBe('1/m');
    expect(alpha.channel).toBe('1064o-glued');
  });

  it('map at a past time, and an empty collection before any data', async () => {
    const early = JSON.parse((await get('/api/v1/stations/sofia/map?at=2018-01-19T16:30:00Z')).body);
    expect(Date.parse(early.scan.from)).toBeLessThanOrEqual(Date.parse('2018-01-19T16:30:00Z'));
    expect(Date.parse(early.time)).toBeGreaterThan(Date.parse('2018-01-19T16:00:00Z'));
    expect(early.features.length).toBeGreaterThan(0);
    const none = await get('/api/v1/stations/sofia/map?at=2017-06-01T00:00:00Z');
    expect(none.statusCode).toBe(200);
    const nb = JSON.parse(none.body);
    expect(nb.features).toEqual([]);
    expect(nb.scan).toBeNull();
    expect(nb.time).toBeNull();
  });

  it('map: 400 naming the field, 404 for an unknown station', async () => {
    expectError(await get('/api/v1/stations/sofia/map?product=pm1'), 400, 'product');
    expectError(await get('/api/v1/stations/sofia/map?channel=532%20nm'), 400, 'channel');
    expectError(await get('/api/v1/stations/sofia/map?at=noon'), 400, 'at');
    expectError(await get('/api/v1/stations/sofia/map?prodcut=pm10'), 400, 'prodcut');
    expectError(await get('/api/v1/stations/atlantis/map'), 404, 'station');
  });

  it('scan: rays with geometry and values equal to the store\'s latestPolar', async () => {
    const r = await get('/api/v1/stations/sofia/scan?product=pm10');
    expect(r.statusCode).toBe(200);
    expect(r.headers.etag).toBeDefined();
    const b = JSON.parse(r.body);
    expectMatchesSchema('/api/v1/stations/{station}/scan', 'get', b);
    const p = (await f.store.latestPolar({ station: 'sofia', channel: '532o-glued', product: 'pm10', nowMs: f.nowMs }))!;
    expect(b.rays).toHaveLength(p.rays.length);
    b.rays.forEach((ray: { id: string; values: Array<number | null>; qc: number[]; azimuth_deg: number; bins: number }, k: number) => {
      const s = p.rays[k];
      expect(ray.id).toBe(s.id);
      expect(ray.azimuth_deg).toBe(s.azimuthDeg);
      expect(ray.bins).toBe(s.values.length);
      expect(ray.qc).toEqual(Array.from(s.qc));
      for (let i = 0; i < s.values.length; i += 97) {
        if (Number.isFinite(s.values[i])) expect(ray.values[i]).toBeCloseTo(s.values[i], 2);
        else expect(ray.values[i]).toBeNull();
      }
    });
    expectError(await get('/api/v1/stations/sofia/scan?product=qc'), 400, 'product');
    expectError(await get('/api/v1/stations/nope/scan'), 404, 'station');
  });
});

describe('curtain', () => {
  const q = 'from=2018-01-19T16:00:00Z&to=2018-01-19T17:00:00Z&width=24&height=50&product=beta_aer';

  it('JSON and the binary Float32 form carry the same curtain as the store', async () => {
    const r = await get(`/api/v1/stations/sofia/curtain?${q}`);
    expect(r.statusCode).toBe(200);
    const j = JSON.parse(r.body);
    expectMatchesSchema('/api/v1/stations/{station}/curtain', 'get', j);
    const c = await f.store.curtain({ station: 'sofia', channel: '532o-glued', product: 'beta_aer', fromMs: Date.parse('2018-01-19T16:00:00Z'), toMs: Date.parse('2018-01-19T17:00:00Z'), width: 24, height: 50 });
    expect(j.profiles_used).toBe(c.profilesUsed);
    expect(c.profilesUsed).toBeGreaterThan(0);
    expect(j.values).toHaveLength(24);
    expect(j.values[0]).toHaveLength(50);
    expect(r.headers['cache-control']).toMatch(/max-age=300/); // a window that ended more than an hour ago

    const bin = await get(`/api/v1/stations/sofia/curtain?${q}&format=f32`);
    expect(bin.statusCode).toBe(200);
    expect(bin.headers['content-type']).toBe('application/vnd.lidar-pm.curtain+f32');
    expect(bin.headers.etag).not.toBe(r.headers.etag);
    const buf = bin.rawPayload;
    expect(buf.subarray(0, 4).toString('ascii')).toBe('LPMC');
    expect(buf.readUInt16LE(4)).toBe(2);
    expect(buf.readUInt16LE(6)).toBe(CURTAIN_HEADER_BYTES);
    const w = buf.readUInt32LE(8);
    const h = buf.readUInt32LE(12);
    expect([w, h]).toEqual([24, 50]);
    expect(buf.readUInt32LE(16)).toBe(c.profilesUsed);
    expect(buf.length).toBe(32 + 8 * w + 4 * h + 4 * w * h + 12 * w);
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);
    const times = new Float64Array(ab, 32, w);
    const heights = new Float32Array(ab, 32 + 8 * w, h);
    const values = new Float32Array(ab, 32 + 8 * w + 4 * h, w * h);
    const pbl = new Float32Array(ab, 32 + 8 * w + 4 * h + 4 * w * h, w);
    expect(Array.from(times)).toEqual(Array.from(c.timesMs));
    expect(heights[7]).toBeCloseTo(c.heightsM[7], 2);
    expect(Array.from(values).map((v) => (Number.isNaN(v) ? null : v))).toEqual(Array.from(c.values).map((v) => (Number.isNaN(v) ? null : v)));
    expect(Array.from(pbl).map((v) => (Number.isNaN(v) ? null : v))).toEqual(Array.from(c.pblHeightM).map((v) => (Number.isNaN(v) ? null : v)));
    const pblQuality = new Float32Array(ab, 32 + 8 * w + 4 * h + 4 * w * h + 8 * w, w);
    expect(Array.from(pblQuality).map((v) => (Number.isNaN(v) ? null : v))).toEqual(Array.from(c.pblQuality).map((v) => (Number.isNaN(v) ? null : v)));
    expect(j.pbl_quality).toHaveLength(w);
    // JSON value = binary value to 7 digits
    for (let col = 0; col < w; col++) {
      const v = values[col * h + 10];
      if (Number.isNaN(v)) expect(j.values[col][10]).toBeNull();
      else expect(j.values[col][10] / v).toBeCloseTo(1, 5);
    }
    const not = await get(`/api/v1/stations/sofia/curtain?${q}&format=f32`, { 'if-none-match': bin.headers.etag as string });
    expect(not.statusCode).toBe(304);
  });

  it('400 on bad grids and windows, 404 on unknown stations', async () => {
    expectError(await get('/api/v1/stations/sofia/curtain?width=0'), 400, 'width');
    expectError(await get('/api/v1/stations/sofia/curtain?height=5000'), 400, 'height');
    expectError(await get('/api/v1/stations/sofia/curtain?width=ten'), 400, 'width');
    expectError(await get('/api/v1/stations/sofia/curtain?format=png'), 400, 'format');
    expectError(await get('/api/v1/stations/sofia/curtain?from=2017-01-01&to=2018-01-01'), 400, 'to');
    expectError(await get('/api/v1/stations/sofia/curtain?height_min_m=3000&height_max_m=1000'), 400, 'height_max_m');
    expectError(await get('/api/v1/stations/sofia/curtain?product=pm1'), 400, 'product');
    expectError(await get('/api/v1/stations/nope/curtain'), 404, 'station');
  });
});

describe('series and districts', () => {
  const win = 'from=2018-01-19T16:00:00Z&to=2018-01-19T18:00:00Z';

  it('cell, point, district, AQ station and station targets resolve and match the store', async () => {
    const map = JSON.parse((await get('/api/v1/stations/sofia/map?at=2018-01-19T17:10:00Z')).body);
    const feat = map.features.find((x: { properties: { district: string; n: number } }) => x.properties.district !== '' && x.properties.n > 0);
    const cell = feat.id as string;
    const r = await get(`/api/v1/stations/sofia/series?target=cell:${cell}&resolution=1h&${win}`);
    expect(r.statusCode).toBe(200);
    const b = JSON.parse(r.body);
    expectMatchesSchema('/api/v1/stations/{station}/series', 'get', b);
    const s = await f.store.series({ station: 'sofia', channel: '532o-glued', product: 'pm10', target: { cell }, fromMs: Date.parse('2018-01-19T16:00:00Z'), toMs: Date.parse('2018-01-19T18:00:00Z'), resolution: '1h' });
    expect(s.length).toBeGreaterThan(0);
    expect(b.points.map((p: { n: number }) => p.n)).toEqual(s.map((p) => p.n));
    b.points.forEach((p: { value: number; time: string }, k: number) => {
      expect(p.time).toBe(new Date(s[k].timeMs).toISOString());
      expect(p.value / s[k].value).toBeCloseTo(1, 5);
    });
    expect(b.target).toMatchObject({ kind: 'cell', cell });
    // The cell's centre as a point resolves to the same cell and series.
    const g = parseCellId(cell)!;
    const pt = JSON.parse((await get(`/api/v1/stations/sofia/series?target=point:${g.centreLat.toFixed(6)},${g.centreLon.toFixed(6)}&resolution=1h&${win}`)).body);
    expect(pt.target).toMatchObject({ kind: 'point', cell });
    expect(pt.points).toEqual(b.points);
    // raw: one value per scan
    const raw = JSON.parse((await get(`/api/v1/stations/sofia/series?target=cell:${cell}&resolution=raw&${win}`)).body);
    expect(raw.points.length).toBeGreaterThan(b.points.length - 1);
    // district and station
    const d = JSON.parse((await get(`/api/v1/stations/sofia/series?target=district:${feat.properties.district}&${win}`)).body);
    expect(d.target).toMatchObject({ kind: 'district', district: feat.properties.district });
    expect(d.points.length).toBeGreaterThan(0);
    const st = JSON.parse((await get(`/api/v1/stations/sofia/series?target=station&resolution=1d&${win}`)).body);
    expect(st.timezone).toBe('Europe/Sofia');
    expect(st.points).toHaveLength(1); // one local day
    expect(st.points[0].value).toBeNull(); // 2 hours < 18: no valid daily mean
    expect(st.points[0].n).toBe(2);
    const aq = f.ctx.aqStations[0];
    const a = JSON.parse((await get(`/api/v1/stations/sofia/series?target=aq:${aq.id}&${win}`)).body);
    expect(a.target).toMatchObject({ kind: 'aq', cell: cellId(aq.lat, aq.lon, 500) });
  });

  it('CSV: RFC 4180 with units in the header and an attachment', async () => {
    const r = await get(`/api/v1/stations/sofia/series?target=station&resolution=1h&format=csv&${win}`);
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/csv/);
    expect(r.headers['content-disposition']).toMatch(/^attachment; filename="sofia-pm10-station-1h-2018-01-19\.csv"$/);
    const lines = r.body.split('\r\n');
    expect(lines[0]).toBe('time (UTC ISO 8601),pm10 (ug/m3),n (bins)');
    expect(lines[lines.length - 1]).toBe('');
    const json = JSON.parse((await get(`/api/v1/stations/sofia/series?target=station&resolution=1h&${win}`)).body);
    expect(lines.length - 2).toBe(json.points.length);
    expect(lines[1]).toBe(`${json.points[0].time},${json.points[0].value},${json.points[0].n}`);
  });

  it('series: 400 for bad targets and windows, 404 for unknown districts, AQ stations and cells off the grid', async () => {
    expectError(await get('/api/v1/stations/sofia/series?target=city'), 400, 'target');
    expectError(await get('/api/v1/stations/sofia/series?target=cell:abc'), 400, 'target');
    expectError(await get('/api/v1/stations/sofia/series?target=point:95,23'), 400, 'target');
    expectError(await get('/api/v1/stations/sofia/series?target=district:99'), 404, 'target');
    expectError(await get('/api/v1/stations/sofia/series?target=aq:XX0000'), 404, 'target');
    expectError(await get('/api/v1/stations/sofia/series?target=cell:1000mE5412N2215'), 404, 'target');
    expectError(await get('/api/v1/stations/sofia/series?resolution=raw&from=2018-01-10&to=2018-01-19'), 400, 'to');
    expectError(await get('/api/v1/stations/sofia/series?resolution=5min'), 400, 'resolution');
    expectError(await get('/api/v1/stations/sofia/series?format=xml'), 400, 'format');
    expectError(await get('/api/v1/stations/nope/series'), 404, 'station');
  });

  it('districts: daily means per local day with the EU limits, hours matching the district series; CSV', async () => {
    const r = await get(`/api/v1/stations/sofia/districts?product=pm10&${win}`);
    expect(r.statusCode).toBe(200);
    const b = JSON.parse(r.body);
    expectMatchesSchema('/api/v1/stations/{station}/districts', 'get', b);
    expect(b.limits.map((l: { id: string }) => l.id)).toEqual(['2008/50/EC:pm10:day', '2008/50/EC:pm10:year', '2024/2881:pm10:day', '2024/2881:pm10:year']);
    expect(b.districts.length).toBeGreaterThan(0);
    const d = b.districts[0];
    expect(d.name_en.length).toBeGreaterThan(0);
    expect(d.days).toHaveLength(1);
    expect(d.days[0].date).toBe('2018-01-19');
    expect(d.valid_days).toBe(0);
    expect(d.days[0].mean).toBeNull();
    const hourly = JSON.parse((await get(`/api/v1/stations/sofia/series?target=district:${d.district}&resolution=1h&${win}`)).body);
    expect(d.days[0].hours).toBe(hourly.points.length);
    const dayLimit = d.limits.find((l: { id: string }) => l.id === '2008/50/EC:pm10:day');
    expect(dayLimit.exceedance_days).toBe(0);
    expect(dayLimit.allowed_exceeded).toBe(false);
    const csv = await get(`/api/v1/stations/sofia/districts?product=pm25&format=csv&${win}`);
    expect(csv.headers['content-disposition']).toMatch(/attachment; filename="sofia-pm25-districts-/);
    const lines = csv.body.split('\r\n');
    expect(lines[0]).toBe('district,district name,date (local),daily mean pm25 (ug/m3),hours with data,valid day (>= 18 h),above 25 ug/m3 (2024/2881:pm25:day)');
    expect(lines.length - 2).toBe(JSON.parse((await get(`/api/v1/stations/sofia/districts?product=pm25&${win}`)).body).districts.length);
    expectError(await get('/api/v1/stations/sofia/districts?product=alpha_aer'), 400, 'product');
    expectError(await get('/api/v1/stations/sofia/districts?from=2016-01-01&to=2018-01-01'), 400, 'to');
    expectError(await get('/api/v1/stations/mars/districts'), 404, 'station');
  });
});

describe('profiles, AQ stations, parameter sets', () => {
  it('a profile with its arrays and parameter set; its raw file byte for byte', async () => {
    const scan = JSON.parse((await get('/api/v1/stations/sofia/scan')).body);
    const ray = scan.rays[0];
    const r = await get(`/api/v1/profiles/${ray.id}`);
    expect(r.statusCode).toBe(200);
    const p = JSON.parse(r.body);
    expectMatchesSchema('/api/v1/profiles/{id}', 'get', p);
    expect(p.id).toBe(ray.id);
    expect(p.pm10).toEqual(ray.values);
    expect(p.range_m).toHaveLength(p.bins);
    expect(p.range_m[1] - p.range_m[0]).toBeCloseTo(p.range_step_m, 4);
    expect(p.lat).toHaveLength(p.bins);
    expect(p.params_id).toBe(f.ctx.activeParams.sofia.paramsId);
    expect(p.params.monte_carlo).toBe(0);
    const raw = await get(`/api/v1/profiles/${ray.id}/raw`);
    expect(raw.statusCode).toBe(200);
    expect(raw.headers['content-type']).toBe('application/octet-stream');
    expect(raw.headers['content-disposition']).toBe(`attachment; filename="${p.file}"`);
    expect(Buffer.compare(raw.rawPayload, readFileSync(join(WINTER_DIR, p.file)))).toBe(0);
  });

  it('profiles: 404 for an unknown id, 400 for a malformed one', async () => {
    expectError(await get('/api/v1/profiles/sofia:532o-glued:1516377600001'), 404, 'id');
    expectError(await get('/api/v1/profiles/sofia:532o-glued:1516377600001/raw'), 404, 'id');
    expectError(await get('/api/v1/profiles/not-an-id'), 400, 'id');
    expectError(await get('/api/v1/profiles/sofia:532o-glued:12x/raw'), 400, 'id');
  });

  it('AQ stations with the cell they lie in and the lidar\'s latest PM where the scan covers it', async () => {
    const r = await get('/api/v1/aq-stations');
    expect(r.statusCode).toBe(200);
    const b = JSON.parse(r.body);
    expectMatchesSchema('/api/v1/aq-stations', 'get', b);
    expect(b.stations).toHaveLength(f.ctx.aqStations.length);
    const m10 = (await f.store.latestMap({ station: 'sofia', channel: '532o-glued', product: 'pm10', nowMs: f.nowMs }))!;
    for (const s of b.stations) {
      expect(s.cell).toBe(cellId(s.lat, s.lon, 500));
      const c = m10.cells.find((x) => x.cell === s.cell);
      if (c && Number.isFinite(c.value)) expect(s.lidar.pm10 / c.value).toBeCloseTo(1, 5);
      else if (!c) expect(s.lidar).toBeNull();
    }
    // Earlier, the 2 deg sweep covered more of the city: compare with a map at that time.
    expectError(await get('/api/v1/aq-stations?station=nope'), 404, 'station');
    expectError(await get('/api/v1/aq-stations?station=a%20b'), 400, 'station');
  });

  it('parameter sets: list with the active one, one by id, 404 and 400', async () => {
    const r = await get('/api/v1/param-sets');
    expect(r.statusCode).toBe(200);
    const b = JSON.parse(r.body);
    expectMatchesSchema('/api/v1/param-sets', 'get', b);
    const id = f.ctx.activeParams.sofia.paramsId;
    expect(b.active).toEqual({ sofia: id });
    expect(b.param_sets.map((p: { id: string }) => p.id)).toContain(id);
    const one = await get(`/api/v1/param-sets/${id}`);
    expect(one.statusCode).toBe(200);
    expectMatchesSchema('/api/v1/param-sets/{id}', 'get', JSON.parse(one.body));
    expect(JSON.parse(one.body).params.pm.mee_pm10).toBe(3.5);
    expectError(await get('/api/v1/param-sets/p-0123456789abcdef'), 404, 'id');
    expectError(await get('/api/v1/param-sets/latest'), 400, 'id');
  });

  it('unknown routes are coded 404s', async () => {
    const e = expectError(await get('/api/v1/stations/sofia/weather'), 404, 'path');
    expect(e.code).toBe('LIDAR_ERR_NOT_FOUND');
  });
});

describe('caching', () => {
  it('ETag, Cache-Control, 304 on If-None-Match, gzip on request, and a new ETag after new data (runs last: it stores more data)', async () => {
    const first = await get('/api/v1/stations/sofia/map');
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{20,}"$/);
    expect(first.headers['cache-control']).toMatch(/max-age=10.*stale-while-revalidate/);
    const again = await get('/api/v1/stations/sofia/map', { 'if-none-match': etag });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    expect((await get('/api/v1/stations/sofia/map', { 'if-none-match': '"other"' })).statusCode).toBe(200);
    const gz = await get('/api/v1/stations/sofia/map', { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    const { gunzipSync } = await import('node:zlib');
    expect(gunzipSync(gz.rawPayload).toString()).toBe(first.body);

    // Two hours later a new sweep arrives through the pipeline: the cached map is replaced at once.
    const before = f.nowMs;
    f.setNow(before + 2 * 3_600_000);
    try {
      await f.feed(WINTER_FILES.slice(0, 17), 2 * 3_600_000);
      const fresh = await get('/api/v1/stations/sofia/map', { 'if-none-match': etag });
      expect(fresh.statusCode).toBe(200);
      expect(fresh.headers.etag).not.toBe(etag);
      expect(Date.parse(JSON.parse(fresh.body).time)).toBeGreaterThan(before);
    } finally {
      f.setNow(before);
      (app as unknown as { state: { cache: { clear(): void } } }).state.cache.clear();
    }
  });
});

describe('profile listing', () => {
  it('lists the window newest first with filters and a limit, matching the store', async () => {
    const from = new Date(WINTER_END_MS - 2 * 3_600_000).toISOString();
    const to = new Date(WINTER_END_MS).toISOString();
    const r = await get(`/api/v1/stations/sofia/profiles?from=${from}&to=${to}`);
    expect(r.statusCode, r.body).toBe(200);
    const b = JSON.parse(r.body);
    expectMatchesSchema('/api/v1/stations/{station}/profiles', 'get', b);
    const stored = await f.ctx.store.backend.profiles({ station: 'sofia', fromMs: Date.parse(from), toMs: Date.parse(to), order: 'desc', limit: 10_000 });
    expect(stored.length).toBeGreaterThan(10);
    expect(b.profiles.map((p: { id: string }) => p.id)).toEqual(stored.map((m) => m.id));
    expect(b.truncated).toBe(false);
    const verticals = JSON.parse((await get(`/api/v1/stations/sofia/profiles?from=${from}&to=${to}&mode=vertical&channel=532o-glued&limit=2`)).body);
    expect(verticals.profiles).toHaveLength(2);
    expect(verticals.truncated).toBe(true);
    for (const p of verticals.profiles) {
      expect(p.mode).toBe('vertical');
      expect(p.channel).toBe('532o-glued');
      expect((await get(`/api/v1/profiles/${encodeURIComponent(p.id)}`)).statusCode).toBe(200);
    }
    expect(Date.parse(verticals.profiles[0].time_start)).toBeGreaterThan(Date.parse(verticals.profiles[1].time_start));
  });
  it('rejects bad input naming the field; unknown station 404', async () => {
    expectError(await get('/api/v1/stations/sofia/profiles?mode=rhi'), 400, 'mode');
    expectError(await get('/api/v1/stations/sofia/profiles?limit=0'), 400, 'limit');
    expectError(await get('/api/v1/stations/sofia/profiles?from=2018-01-01T00:00:00Z&to=2018-02-01T00:00:00Z'), 400, 'to');
    expectError(await get('/api/v1/stations/plovdiv/profiles'), 404, 'station');
  });
});
