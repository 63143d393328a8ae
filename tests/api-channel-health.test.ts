// GET /stations/{s}/channels/health and the background level the retrieval stores with each profile
// (ProfileMeta.background): the route against the store's own metadata, modes, truncation and errors,
// the profile list's new fields, and the stored background against the simulator's truth (the
// sky background of the winter scenario, in MHz for photon counting and mV for an analog channel).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { expectMatchesOpenApi, startApiApp, type ApiApp, type OpenApiDocument } from './harness/api-app.js';
import { retrieveChannel } from '../processing/retrieval/retrieve.js';
import { selectChannels } from '../processing/retrieval/signal.js';
import { resolveParams, paramsId } from '../processing/retrieval/params.js';
import { sofiaStation, WINTER_END_MS, WINTER_FILES, WINTER_START_MS, type ApiFixture } from './api-fixture.js';
import { fixtureFile, readTruth } from './retrieval-truth.js';
import type { ChannelHealthApi } from '../dashboard/src/lib/ops.js';

let api: ApiApp | null = null;
let f: ApiFixture;
let app: FastifyInstance;
let openapi: OpenApiDocument;

beforeAll(async () => {
  api = await startApiApp();
  ({ f, app, openapi } = api);
}, 300_000);
afterAll(() => api?.close());

const expectMatchesSchema = (route: string, body: unknown): void => expectMatchesOpenApi(openapi, route, 'get', body);

const get = (url: string) => app.inject({ method: 'GET', url });
const ROUTE = '/api/v1/stations/sofia/channels/health';
const FROM = new Date(WINTER_START_MS - 3_600_000).toISOString();
const TO = new Date(WINTER_END_MS + 3_600_000).toISOString();

interface Body {
  station: string;
  from: string;
  to: string;
  mode: string;
  truncated: boolean;
  channels: ChannelHealthApi[];
}

function expectError(r: { statusCode: number; body: string }, status: number, field: string): void {
  expect(r.statusCode, r.body).toBe(status);
  expect(JSON.parse(r.body).error.field).toBe(field);
}

describe('GET /stations/{station}/channels/health', () => {
  it('gives per channel the stored background and SNR of every vertical profile, oldest first (default: the last 24 h)', async () => {
    const r = await get(ROUTE);
    expect(r.statusCode, r.body).toBe(200);
    const b = JSON.parse(r.body) as Body;
    expectMatchesSchema('/api/v1/stations/{station}/channels/health', b);
    expect(b.mode).toBe('vertical');
    expect(b.truncated).toBe(false);
    expect(Date.parse(b.to) - Date.parse(b.from)).toBe(24 * 3_600_000);
    expect(b.channels.map((c) => c.channel)).toEqual(['1064o-glued', '532o-glued']);
    for (const c of b.channels) {
      // The store's own metadata of the same window is the reference.
      const metas = await f.store.backend.profiles({ station: 'sofia', channel: c.channel, mode: 'vertical', fromMs: Date.parse(b.from), toMs: Date.parse(b.to) });
      expect(metas.length).toBeGreaterThan(4);
      expect(c.profiles).toBe(metas.length);
      expect(c.background_unit).toBe('MHz'); // glued channels: the photon-counting background
      expect(c.times).toEqual(metas.map((m) => new Date(m.timeMs).toISOString()));
      expect(c.background).toEqual(metas.map((m) => (Number.isFinite(m.background) ? m.background : null)));
      expect(c.snr).toEqual(metas.map((m) => (Number.isFinite(m.snr) ? m.snr : null)));
      // Every vertical of the scenario has a background estimate (pre-trigger bins) and a reference SNR.
      expect(c.background.every((v) => typeof v === 'number' && v > 0)).toBe(true);
      expect(c.snr.every((v) => typeof v === 'number' && v > 0)).toBe(true);
    }
  });

  it('stores the background the simulator put in: photon counting in MHz (glued channels)', async () => {
    const truth = readTruth('sofia-winter-inversion');
    const b = JSON.parse((await get(`${ROUTE}?from=${FROM}&to=${TO}&mode=all`)).body) as Body;
    for (const [channel, wavelength] of [['532o-glued', 532], ['1064o-glued', 1064]] as const) {
      const sky = truth.instrument.channels.find((c) => c.kind === 'photon' && c.wavelength_nm === wavelength)!.sky_background;
      const c = b.channels.find((x) => x.channel === channel)!;
      const values = c.background.filter((v): v is number => v !== null);
      expect(values.length).toBe(c.profiles);
      const mean = values.reduce((a, v) => a + v, 0) / values.length;
      // 200 pre-trigger bins per profile: the mean over all profiles is within a few % of the truth.
      expect(Math.abs(mean / sky - 1), `${channel}: mean ${mean} MHz vs sky ${sky} MHz`).toBeLessThan(0.1);
    }
  });

  it('mode=scan and mode=all: the scan profiles, and both together', async () => {
    const q = `from=${FROM}&to=${TO}`;
    const vertical = JSON.parse((await get(`${ROUTE}?${q}`)).body) as Body;
    const scan = JSON.parse((await get(`${ROUTE}?${q}&mode=scan`)).body) as Body;
    const all = JSON.parse((await get(`${ROUTE}?${q}&mode=all`)).body) as Body;
    expect(scan.mode).toBe('scan');
    const count = (x: Body, ch: string) => x.channels.find((c) => c.channel === ch)?.profiles ?? 0;
    const scanMetas = await f.store.backend.profiles({ station: 'sofia', channel: '532o-glued', mode: 'scan', fromMs: Date.parse(FROM), toMs: Date.parse(TO) });
    expect(count(scan, '532o-glued')).toBe(scanMetas.length);
    expect(scanMetas.length).toBeGreaterThan(count(vertical, '532o-glued'));
    for (const ch of ['532o-glued', '1064o-glued']) expect(count(all, ch)).toBe(count(vertical, ch) + count(scan, ch));
    const times = all.channels[0].times.map(Date.parse);
    expect(times.every((t, i) => i === 0 || t >= times[i - 1])).toBe(true);
  });

  it('limit keeps the newest profiles and says truncated', async () => {
    const b = JSON.parse((await get(`${ROUTE}?from=${FROM}&to=${TO}&limit=3`)).body) as Body;
    expect(b.truncated).toBe(true);
    expect(b.channels.reduce((n, c) => n + c.profiles, 0)).toBe(3);
    const newest = await f.store.backend.profiles({ station: 'sofia', mode: 'vertical', fromMs: Date.parse(FROM), toMs: Date.parse(TO), order: 'desc', limit: 3 });
    const got = b.channels.flatMap((c) => c.times.map((t) => `${c.channel}@${t}`)).sort();
    expect(got).toEqual(newest.map((m) => `${m.channel}@${new Date(m.timeMs).toISOString()}`).sort());
  });

  it('an empty window gives no channels; bad queries 400 naming the field; unknown station 404', async () => {
    const empty = JSON.parse((await get(`${ROUTE}?from=2017-01-01T00:00:00Z&to=2017-01-02T00:00:00Z`)).body) as Body;
    expect(empty.channels).toEqual([]);
    expect(empty.truncated).toBe(false);
    expectError(await get(`${ROUTE}?mode=rhi`), 400, 'mode');
    expectError(await get(`${ROUTE}?limit=0`), 400, 'limit');
    expectError(await get(`${ROUTE}?limit=20001`), 400, 'limit');
    expectError(await get(`${ROUTE}?from=2018-01-01T00:00:00Z&to=2018-01-09T00:00:00Z`), 400, 'to');
    expectError(await get(`${ROUTE}?colour=red`), 400, 'colour');
    expectError(await get('/api/v1/stations/plovdiv/channels/health'), 404, 'station');
  });
});

describe('the profile list carries the scalar quality figures', () => {
  it('snr, background with its unit and pbl_quality equal the stored metadata', async () => {
    const r = await get(`/api/v1/stations/sofia/profiles?from=${FROM}&to=${TO}&mode=vertical&channel=532o-glued`);
    expect(r.statusCode).toBe(200);
    const b = JSON.parse(r.body) as { profiles: Array<{ id: string; snr: number | null; background: number | null; background_unit: string; pbl_quality: number | null }> };
    const metas = new Map((await f.store.backend.profiles({ station: 'sofia', channel: '532o-glued', mode: 'vertical', fromMs: Date.parse(FROM), toMs: Date.parse(TO) })).map((m) => [m.id, m]));
    expect(b.profiles.length).toBe(metas.size);
    const num = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v : null);
    for (const p of b.profiles) {
      const m = metas.get(p.id)!;
      expect(p.snr).toBe(num(m.snr));
      expect(p.background).toBe(num(m.background));
      expect(p.pbl_quality).toBe(num(m.pblQuality));
      expect(p.background_unit).toBe('MHz');
    }
    expect(b.profiles.some((p) => p.pbl_quality !== null)).toBe(true);
  });
});

describe('the retrieval background of an analog-only channel', () => {
  it('is in mV and equals the simulated sky background plus the recorder offset', () => {
    const truth = readTruth('sofia-winter-inversion');
    const name = WINTER_FILES[WINTER_FILES.length - 1];
    const file = fixtureFile('sofia-winter-inversion', name);
    const glued = selectChannels(file, 'auto', name).find((s) => s.wavelengthNm === 532)!;
    expect(glued.analog).toBeGreaterThanOrEqual(0);
    const params = resolveParams({ monte_carlo: 0 });
    const ctx = { station: sofiaStation, params, paramsId: paramsId(params), terrain: null };
    const analog = retrieveChannel(file, name, { ...glued, photon: -1 }, ctx);
    const sim = truth.instrument.channels.find((c) => c.kind === 'analog' && c.wavelength_nm === 532)!;
    expect(analog.channel.kind).toBe('analog');
    expect(analog.backgroundUnit).toBe('mV');
    const expected = sim.sky_background + sim.analog_offset_mv;
    expect(Math.abs(analog.backgroundMean - expected), `${analog.backgroundMean} mV vs ${expected} mV`).toBeLessThan(0.01 * expected + 0.01);
    const pc = retrieveChannel(file, name, { ...glued, analog: -1 }, ctx);
    expect(pc.backgroundUnit).toBe('MHz');
    // No background subtracted: no estimate.
    const none = resolveParams({ monte_carlo: 0, background: { window_m: 'none' } });
    expect(retrieveChannel(file, name, glued, { ...ctx, params: none, paramsId: paramsId(none) }).backgroundMean).toBeNaN();
  });
});
