// Official AQ-station hourly PM through the API over a real embedded store filled by the real
// pipeline (the recorded winter scenario, 2018-01-19 16:00-18:00 UTC): PUT /aq-stations/{id}/hourly
// (CSV and JSON, 201 then 200 on a repeat, 400 naming every bad line, 401/403/404), GET of the hours
// (JSON and CSV), the lidar-vs-station comparison (lidar side = the hourly series at the station's
// cell; statistics recomputed here from the returned pairs) and the official value in /aq-stations.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { createApi } from '../api/server.js';
import { parseCellId } from '../processing/geometry/grid.js';
import { distanceM } from '../processing/retrieval/calibrate.js';
import { buildApiFixture, type ApiFixture } from './api-fixture.js';

let f: ApiFixture;
let app: FastifyInstance;
beforeAll(async () => {
  f = await buildApiFixture();
  app = await createApi(f.ctx);
}, 240_000);
afterAll(async () => {
  await app?.close();
  await f?.close();
});

type Res = { statusCode: number; body: string; headers: Record<string, unknown> };
const req = (method: InjectOptions['method'], url: string, payload?: string | object, token?: string | null, contentType?: string): Promise<Res> =>
  app.inject({
    method,
    url,
    payload: payload as InjectOptions['payload'],
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(contentType ? { 'content-type': contentType } : {}) },
  }) as Promise<Res>;
const putCsv = (id: string, csv: string, token: string | null = f.token, query = '') => req('PUT', `/api/v1/aq-stations/${id}/hourly${query}`, csv, token, 'text/csv');

function errorOf(r: Res, status: number): { code: string; message: string; field?: string } {
  expect(r.statusCode, r.body).toBe(status);
  const b = JSON.parse(r.body) as { error: { code: string; message: string; field?: string } };
  expect(b.error.code).toMatch(/^LIDAR_ERR_/);
  return b.error;
}

const H = 3_600_000;

describe('PUT /aq-stations/{id}/hourly', () => {
  it('stores CSV hours (201), a repeat is 200 with nothing changed, GET returns them as JSON and CSV', async () => {
    const csv = 'time,pm10,pm25\n2018-01-10T10:00Z,40.5,21\n2018-01-10T11:00Z,55.25,\n2018-01-10T13:00+01:00,61,30.5\n';
    const first = await putCsv('BG0040A', csv);
    expect(first.statusCode, first.body).toBe(201);
    expect(JSON.parse(first.body)).toMatchObject({ aq_station: 'BG0040A', hours: 3, created: 3, updated: 0, unchanged: 0, from: '2018-01-10T10:00:00.000Z', to: '2018-01-10T13:00:00.000Z', source: 'api' });
    const again = await putCsv('BG0040A', csv);
    expect(again.statusCode, again.body).toBe(200);
    expect(JSON.parse(again.body)).toMatchObject({ hours: 3, created: 0, updated: 0, unchanged: 3 });

    const got = await req('GET', '/api/v1/aq-stations/BG0040A/hourly?from=2018-01-10T00:00Z&to=2018-01-11T00:00Z');
    expect(got.statusCode, got.body).toBe(200);
    const body = JSON.parse(got.body);
    expect(body.unit).toBe('ug/m3');
    expect(body.hours).toEqual([
      { time: '2018-01-10T10:00:00.000Z', pm10: 40.5, pm25: 21, source: 'api' },
      { time: '2018-01-10T11:00:00.000Z', pm10: 55.25, pm25: null, source: 'api' },
      { time: '2018-01-10T12:00:00.000Z', pm10: 61, pm25: 30.5, source: 'api' },
    ]);
    const csvOut = await req('GET', '/api/v1/aq-stations/BG0040A/hourly?from=2018-01-10T00:00Z&to=2018-01-11T00:00Z&format=csv');
    expect(csvOut.statusCode).toBe(200);
    expect(String(csvOut.headers['content-type'])).toMatch(/^text\/csv/);
    expect(String(csvOut.headers['content-disposition'])).toMatch(/attachment; filename="BG0040A-hourly-2018-01-10\.csv"/);
    expect(csvOut.body.split('\r\n')).toEqual([
      'hour start (UTC ISO 8601),pm10 (ug/m3),pm25 (ug/m3),source',
      '2018-01-10T10:00:00.000Z,40.5,21,api',
      '2018-01-10T11:00:00.000Z,55.25,,api',
      '2018-01-10T12:00:00.000Z,61,30.5,api',
      '',
    ]);
  });

  it('takes JSON, replaces changed hours (201, updated) and keeps the source', async () => {
    const url = '/api/v1/aq-stations/BG0079A/hourly';
    const hours = [{ time: '2018-01-11T00:00:00Z', pm10: 10, pm25: 5 }, { time: '2018-01-11T01:00:00Z', pm10: 12 }];
    const r1 = await req('PUT', url, { source: 'EEA E2a', hours }, f.token);
    expect(r1.statusCode, r1.body).toBe(201);
    const r2 = await req('PUT', url, { source: 'EEA E2a', hours: [{ ...hours[0], pm10: 11 }, hours[1]] }, f.token);
    expect(r2.statusCode, r2.body).toBe(201);
    expect(JSON.parse(r2.body)).toMatchObject({ created: 0, updated: 1, unchanged: 1, source: 'EEA E2a' });
    const got = JSON.parse((await req('GET', `${url}?from=2018-01-11&to=2018-01-12`)).body);
    expect(got.hours).toEqual([
      { time: '2018-01-11T00:00:00.000Z', pm10: 11, pm25: 5, source: 'EEA E2a' },
      { time: '2018-01-11T01:00:00.000Z', pm10: 12, pm25: null, source: 'EEA E2a' },
    ]);
    const bad = errorOf(await req('PUT', url, { hours: [{ time: '2018-01-11T00:30:00Z', pm10: 1 }, { time: '2018-01-11T02:00:00Z', pm10: 1e9 }] }, f.token), 400);
    expect(bad.message).toContain('hours[0].time');
    expect(bad.message).toContain('hours[1].pm10');
  });

  it('rejects bad CSV rows with every line number and stores nothing', async () => {
    const csv = [
      'time,pm10,pm25',
      '2018-01-12T00:00Z,20,10',
      '2018-01-12T01:00Z,abc,10', // line 3
      '2018-01-12T02:00Z,22,11',
      '2018-01-12T02:30Z,23,11', // line 5
      '2018-01-12T02:00Z,24,12', // line 6: duplicate of line 4
      '2018-01-12T04:00Z,25', // line 7: too few fields
    ].join('\n');
    const e = errorOf(await putCsv('BG0050A', csv), 400);
    expect(e.field).toBe('body');
    expect(e.message).toMatch(/^4 bad rows, nothing stored/);
    for (const line of [3, 5, 6, 7]) expect(e.message).toContain(`line ${line} `);
    expect(e.message).not.toContain('line 2 ');
    expect(e.message).not.toContain('line 4 ');
    expect(e.message).toContain('also on line 4');
    const got = JSON.parse((await req('GET', '/api/v1/aq-stations/BG0050A/hourly?from=2018-01-12&to=2018-01-13')).body);
    expect(got.hours).toEqual([]);
    const header = errorOf(await putCsv('BG0050A', 'when,pm10\n2018-01-12T00:00Z,1\n'), 400);
    expect(header.message).toContain('unknown column');
    expect(errorOf(await putCsv('BG0050A', ''), 400).message).toMatch(/empty|expected/);
  });

  it('needs a bearer token with the "aq" scope (401, 403) and a known AQ station (404)', async () => {
    const csv = 'time,pm10\n2018-01-13T00:00Z,1\n';
    const none = await putCsv('BG0050A', csv, null);
    errorOf(none, 401);
    expect(String(none.headers['www-authenticate'])).toMatch(/^Bearer/);
    errorOf(await putCsv('BG0050A', csv, 'lpm_not-a-known-token'), 401);
    expect(errorOf(await putCsv('BG0050A', csv, f.jobsOnlyToken), 403).message).toContain('"aq"');
    expect(errorOf(await putCsv('XX9999Z', csv), 404).field).toBe('id');
    expect(errorOf(await req('GET', '/api/v1/aq-stations/XX9999Z/hourly'), 404).field).toBe('id');
    expect(errorOf(await req('GET', '/api/v1/stations/sofia/aq-stations/XX9999Z/comparison'), 404).field).toBe('id');
    expect(errorOf(await req('GET', '/api/v1/stations/nowhere/aq-stations/BG0050A/comparison'), 404).field).toBe('station');
    // Nothing was stored by the refused requests.
    expect(JSON.parse((await req('GET', '/api/v1/aq-stations/BG0050A/hourly?from=2018-01-13&to=2018-01-14')).body).hours).toEqual([]);
  });
});

describe('lidar vs AQ station', () => {
  const from = '2018-01-19T12:00:00Z';
  const to = '2018-01-19T22:00:00Z';

  type Comparison = {
    cell: string;
    cells: string[];
    radius_m: number;
    hours: Array<{ time: string; lidar: number | null; station: number | null; lidar_bins: number }>;
    days: Array<{ date: string; lidar: number | null; station: number | null; lidar_hours: number; station_hours: number }>;
    stats: { hourly: { n: number; mean_bias: number | null; r: number | null; mean_lidar: number | null; mean_station: number | null } };
    product: string;
    unit: string;
  };
  const compare = async (id: string, extra = ''): Promise<Comparison> => {
    const r = await req('GET', `/api/v1/stations/sofia/aq-stations/${id}/comparison?from=${from}&to=${to}${extra}`);
    expect(r.statusCode, r.body).toBe(200);
    return JSON.parse(r.body) as Comparison;
  };

  it('pairs the lidar hourly mean near the station with the official hours; stats from the pairs; CSV of the pairs', async () => {
    // The scenario's scans cover no AQ station's own cell; within 1 km they reach at least one.
    const list = JSON.parse((await req('GET', '/api/v1/aq-stations?station=sofia')).body).stations as Array<{ id: string; lat: number; lon: number; cell: string }>;
    let id = '';
    for (const s of list) {
      const own = await compare(s.id);
      expect(own.cells).toEqual([s.cell]);
      const near = await compare(s.id, '&radius_m=1000');
      expect(near.cells).toContain(s.cell);
      for (const c of near.cells) {
        const g = parseCellId(c)!;
        expect(distanceM(s.lat, s.lon, g.centreLat, g.centreLon), c).toBeLessThanOrEqual(1001);
      }
      if (!id && near.hours.some((h) => h.lidar !== null)) id = s.id;
    }
    expect(id, 'an AQ station with lidar cells within 1 km').not.toBe('');
    // Official hours 14:00-19:00 UTC (a made-up but plausible winter evening).
    const official = [14, 15, 16, 17, 18, 19].map((h) => `2018-01-19T${h}:00Z,${30 + 9 * (h - 14)}`);
    expect((await putCsv(id, `time,pm10\n${official.join('\n')}\n`, f.token, '?source=EEA%20E2a')).statusCode).toBe(201);

    const c = await compare(id, '&radius_m=1000');
    expect(c.product).toBe('pm10');
    // Lidar side = the store's hourly series over those cells.
    const series = await f.store.series({ station: 'sofia', channel: '532o-glued', product: 'pm10', target: { cells: c.cells }, fromMs: Date.parse(from), toMs: Date.parse(to), resolution: '1h' });
    const lidarHours = c.hours.filter((h) => h.lidar !== null).map((h) => [h.time, h.lidar]);
    expect(lidarHours.length).toBeGreaterThan(0);
    expect(lidarHours).toEqual(series.filter((p) => Number.isFinite(p.value)).map((p) => [new Date(p.timeMs).toISOString(), Number(p.value.toPrecision(6))]));
    // Station side = what was PUT.
    expect(c.hours.filter((h) => h.station !== null).map((h) => [h.time.slice(0, 13), h.station])).toEqual([14, 15, 16, 17, 18, 19].map((h) => [`2018-01-19T${h}`, 30 + 9 * (h - 14)]));
    // Agreement over the hours with both values, recomputed here.
    const both = c.hours.filter((h) => h.lidar !== null && h.station !== null) as Array<{ lidar: number; station: number }>;
    expect(both.length).toBeGreaterThan(0);
    expect(c.stats.hourly.n).toBe(both.length);
    const bias = both.reduce((s, h) => s + (h.lidar - h.station), 0) / both.length;
    expect(c.stats.hourly.mean_bias).toBeCloseTo(bias, 3);
    if (both.length < 3) expect(c.stats.hourly.r).toBeNull();
    // One local day (Sofia, UTC+2): fewer than 18 hours on both sides, so no daily means.
    expect(c.days).toHaveLength(1);
    expect(c.days[0]).toMatchObject({ date: '2018-01-19', lidar: null, station: null, station_hours: 6 });

    const csv = await req('GET', `/api/v1/stations/sofia/aq-stations/${id}/comparison?from=${from}&to=${to}&radius_m=1000&format=csv`);
    expect(csv.statusCode).toBe(200);
    expect(String(csv.headers['content-type'])).toMatch(/^text\/csv/);
    const lines = csv.body.trimEnd().split('\r\n');
    expect(lines[0]).toBe('hour start (UTC ISO 8601),lidar pm10 (ug/m3),station pm10 (ug/m3),lidar n (bins)');
    expect(lines).toHaveLength(c.hours.length + 1);
    const daily = await req('GET', `/api/v1/stations/sofia/aq-stations/${id}/comparison?from=${from}&to=${to}&radius_m=1000&format=csv&resolution=1d`);
    expect(daily.body.split('\r\n')[0]).toBe('date (local),day start (UTC ISO 8601),lidar pm10 (ug/m3),station pm10 (ug/m3),lidar hours,station hours');

    // /aq-stations now shows the newest complete official hour (now = 18:01 UTC: the 17:00 hour).
    const after = JSON.parse((await req('GET', '/api/v1/aq-stations?station=sofia')).body).stations as Array<{ id: string; official: unknown }>;
    expect(after.find((s) => s.id === id)?.official).toEqual({ pm10: 57, pm25: null, time: '2018-01-19T17:00:00.000Z', averaging: 'one hour', source: 'EEA E2a' });
    // Stations without hours in the 48 h before now have none.
    for (const s of after) if (s.id !== id) expect(s.official, s.id).toBeNull();
  });

  it('computes daily means of both sides with the 18-hour rule and r over the days', async () => {
    // 20 official hours on each of 2018-01-05..07 (local days, Sofia UTC+2): daily means known by hand.
    const lines: string[] = [];
    for (const [d, base] of [[5, 40], [6, 60], [7, 20]] as const) {
      for (let h = 0; h < 20; h++) lines.push(`2018-01-0${d}T${String(h).padStart(2, '0')}:00+02:00,${base + (h % 2 === 0 ? 1 : -1)}`);
    }
    expect((await putCsv('BG0073A', `time,pm10\n${lines.join('\n')}\n`)).statusCode).toBe(201);
    const c = JSON.parse((await req('GET', '/api/v1/stations/sofia/aq-stations/BG0073A/comparison?from=2018-01-04T22:00Z&to=2018-01-07T22:00Z')).body);
    expect(c.days.map((d: { date: string; station: number | null; station_hours: number }) => [d.date, d.station, d.station_hours])).toEqual([
      ['2018-01-05', 40, 20],
      ['2018-01-06', 60, 20],
      ['2018-01-07', 20, 20],
    ]);
    // No lidar data in that window: no pairs, no agreement.
    expect(c.stats.hourly).toEqual({ n: 0, mean_lidar: null, mean_station: null, mean_bias: null, r: null });
    expect(c.stats.daily.n).toBe(0);
  });
});
