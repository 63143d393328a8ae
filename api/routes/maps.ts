/**
 * The latest scan as map cells (GeoJSON) and as polar rays, time-height curtains (JSON or binary
 * Float32), and the AQ stations with the lidar's PM at their cell. Responses carry an ETag; "latest"
 * responses are cached per (station, product, channel) until the station stores something new.
 */
import { Type } from 'typebox';
import { districtAt, parseCellId, cellId } from '../../processing/geometry/grid.js';
import { MAX_CURTAIN_HEIGHT, MAX_CURTAIN_WIDTH } from '../../store/curtain.js';
import { MAX_CURTAIN_WINDOW_MS, type MapCell } from '../../store/result-store.js';
import type { ApiState, App } from '../state.js';
import { LATEST_CACHE_CONTROL, cacheKey, makeCached, sendCached, windowCacheControl } from '../cache.js';
import { curtainBinary, curtainJson, CURTAIN_CONTENT_TYPE } from '../curtain.js';
import { mapFeatureCollection, scanSummary } from '../geojson.js';
import { badRequest } from '../errors.js';
import { DAY_MS, nowOf, parseTime, parseWindow, stationOf, unitOf } from '../query.js';
import { Channel, MapProduct, POLAR_PRODUCTS, PUBLIC_ERRORS, PolarProduct, StationId, StationParams, StringEnum, TimeValue, errors } from '../schemas/common.js';
import { AqStationList, CurtainBinary, CurtainJson, MapCollection, PolarScan } from '../schemas/maps.js';

const JSON_TYPE = 'application/json; charset=utf-8';
const PAST_CACHE_CONTROL = 'public, max-age=300, stale-while-revalidate=600';

function f32ToJson(a: Float32Array): Array<number | null> {
  const out = new Array<number | null>(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Number.isFinite(a[i]) ? Number(a[i].toPrecision(7)) : null;
  return out;
}

export function mapRoutes(api: App, state: ApiState): void {
  const { ctx, cache, channels } = state;

  api.get('/stations/:station/map', {
    schema: {
      tags: ['maps'],
      summary: 'Latest scan as map cells (GeoJSON)',
      description:
        'The newest scan (in the 6 h before now, or before `at`) as a GeoJSON FeatureCollection of grid-cell polygons with the scan mean per cell. ETag + Cache-Control (10 s, stale-while-revalidate 30 s; 300 s with `at`); 304 on If-None-Match. Cached on the server (per product, channel and `at`) until the station stores a new profile.',
      params: StationParams,
      querystring: Type.Object({ product: Type.Optional(MapProduct), channel: Type.Optional(Channel), at: Type.Optional(TimeValue) }, { additionalProperties: false }),
      response: { 200: MapCollection, ...errors(404, ...PUBLIC_ERRORS) },
    },
  }, async (req, reply) => {
    const { station } = req.params;
    stationOf(ctx, station);
    const product = req.query.product ?? 'pm10';
    const at = req.query.at !== undefined ? parseTime(req.query.at, 'at') : null;
    const compute = async () => {
      const channel = await channels.resolve(station, req.query.channel);
      const result = channel ? await ctx.store.latestMap({ station, channel, product, nowMs: at ?? nowOf(ctx) }) : null;
      return makeCached(JSON.stringify(mapFeatureCollection({ station, channel, product, unit: unitOf(product) }, result)), JSON_TYPE);
    };
    const c = await cache.get(station, cacheKey(station, 'map', product, req.query.channel ?? '', at === null ? '' : String(at)), compute);
    return sendCached(req, reply, c, at === null ? LATEST_CACHE_CONTROL : PAST_CACHE_CONTROL);
  });

  api.get('/stations/:station/scan', {
    schema: {
      tags: ['maps'],
      summary: 'Latest scan as polar rays',
      description: 'The newest scan\'s profiles (rays) with their geometry and one product per bin (null = missing), plus the QC bits. Same caching as the map.',
      params: StationParams,
      querystring: Type.Object({ product: Type.Optional(PolarProduct), channel: Type.Optional(Channel), at: Type.Optional(TimeValue) }, { additionalProperties: false }),
      response: { 200: PolarScan, ...errors(404, ...PUBLIC_ERRORS) },
    },
  }, async (req, reply) => {
    const { station } = req.params;
    stationOf(ctx, station);
    const product = req.query.product ?? 'pm10';
    const at = req.query.at !== undefined ? parseTime(req.query.at, 'at') : null;
    const compute = async () => {
      const channel = await channels.resolve(station, req.query.channel);
      const result = channel ? await ctx.store.latestPolar({ station, channel, product, nowMs: at ?? nowOf(ctx) }) : null;
      const body = {
        station,
        channel,
        product,
        unit: unitOf(product),
        scan: result ? scanSummary(result.scan) : null,
        rays: (result?.rays ?? []).map((r) => ({
          id: r.id,
          time: new Date(r.timeMs).toISOString(),
          azimuth_deg: r.azimuthDeg,
          elevation_deg: r.elevationDeg,
          range_start_m: r.rangeStartM,
          range_step_m: r.rangeStepM,
          bins: r.values.length,
          values: f32ToJson(r.values),
          qc: Array.from(r.qc),
        })),
      };
      return makeCached(JSON.stringify(body), JSON_TYPE);
    };
    const c = await cache.get(station, cacheKey(station, 'scan', product, req.query.channel ?? '', at === null ? '' : String(at)), compute);
    return sendCached(req, reply, c, at === null ? LATEST_CACHE_CONTROL : PAST_CACHE_CONTROL);
  });

  api.get('/stations/:station/curtain', {
    schema: {
      tags: ['maps'],
      summary: 'Time-height curtain of the vertical profiles',
      description:
        'The vertical profiles of [from, to) (default: the 24 h before now, rounded up to the minute; at most 31 days) averaged onto width x height cells. `format=json` (values[column][row]) or `format=f32`, the compact little-endian binary of docs/api.md. ETag; 304 on If-None-Match.',
      params: StationParams,
      querystring: Type.Object(
        {
          product: Type.Optional(StringEnum(POLAR_PRODUCTS, { description: 'A per-bin product of the vertical profiles', default: 'beta_aer' })),
          channel: Type.Optional(Channel),
          from: Type.Optional(TimeValue),
          to: Type.Optional(TimeValue),
          width: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_CURTAIN_WIDTH, default: 288, description: 'Time columns' })),
          height: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_CURTAIN_HEIGHT, default: 200, description: 'Height rows' })),
          height_min_m: Type.Optional(Type.Number({ minimum: -500, maximum: 100_000, description: 'Bottom of the grid, m a.s.l. (default: the lowest bin)' })),
          height_max_m: Type.Optional(Type.Number({ minimum: -500, maximum: 100_000, description: 'Top of the grid, m a.s.l. (default: the highest bin)' })),
          format: Type.Optional(StringEnum(['json', 'f32'] as const, { default: 'json' })),
        },
        { additionalProperties: false },
      ),
      response: {
        200: { description: 'The curtain', content: { 'application/json': { schema: CurtainJson }, [CURTAIN_CONTENT_TYPE]: { schema: CurtainBinary } } },
        ...errors(404, ...PUBLIC_ERRORS),
      },
    },
  }, async (req, reply) => {
    const { station } = req.params;
    stationOf(ctx, station);
    const q = req.query;
    const product = q.product ?? 'beta_aer';
    const now = nowOf(ctx);
    const w = parseWindow(q, now, DAY_MS, MAX_CURTAIN_WINDOW_MS);
    if (q.height_min_m !== undefined && q.height_max_m !== undefined && !(q.height_max_m > q.height_min_m)) throw badRequest('height_max_m', `invalid height_max_m: must be above height_min_m (${q.height_min_m})`);
    const width = q.width ?? 288;
    const height = q.height ?? 200;
    const format = q.format ?? 'json';
    const key = cacheKey(station, 'curtain', product, q.channel ?? '', String(w.fromMs), String(w.toMs), String(width), String(height), String(q.height_min_m ?? ''), String(q.height_max_m ?? ''), format);
    const c = await cache.get(station, key, async () => {
      const channel = await channels.resolve(station, q.channel);
      const curtain = await ctx.store.curtain({ station, channel: channel ?? '532o-glued', product, fromMs: w.fromMs, toMs: w.toMs, width, height, heightMinM: q.height_min_m, heightMaxM: q.height_max_m });
      return format === 'f32' ? makeCached(curtainBinary(curtain), CURTAIN_CONTENT_TYPE) : makeCached(JSON.stringify(curtainJson(curtain, unitOf(product))), JSON_TYPE);
    });
    return sendCached(req, reply, c, windowCacheControl(w.toMs, now));
  });

  api.get('/aq-stations', {
    schema: {
      tags: ['maps'],
      summary: 'Official air-quality stations, with the lidar\'s latest PM at their cell',
      description: 'The AQ stations (EEA EoI codes) with the grid cell and district they lie in and, where the latest scan of the lidar station covers that cell, its PM10 and PM2.5 there (one-scan means), and the newest stored official hour of the station in the 48 h before now (`official`, null when none; PUT /aq-stations/{id}/hourly). Cached like the map.',
      querystring: Type.Object({ station: Type.Optional(StationId), channel: Type.Optional(Channel) }, { additionalProperties: false }),
      response: { 200: AqStationList, ...errors(404, ...PUBLIC_ERRORS) },
    },
  }, async (req, reply) => {
    const station = req.query.station ?? Object.keys(ctx.stations)[0] ?? null;
    if (station !== null) stationOf(ctx, station);
    const compute = async () => {
      const channel = station ? await channels.resolve(station, req.query.channel) : null;
      const byCell = async (product: 'pm10' | 'pm25') => {
        const r = station && channel ? await ctx.store.latestMap({ station, channel, product, nowMs: nowOf(ctx) }) : null;
        return { time: r ? new Date(r.scan.toMs).toISOString() : null, cells: new Map<string, MapCell>((r?.cells ?? []).map((c) => [c.cell, c])) };
      };
      const [pm10, pm25] = [await byCell('pm10'), await byCell('pm25')];
      const num = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? Number(v.toPrecision(6)) : null);
      // The newest complete official hour of each AQ station in the 48 h before now (PUT /aq-stations/{id}/hourly).
      const nowMs = nowOf(ctx);
      const officialOf = async (id: string) => {
        const hours = await ctx.store.backend.aqHours({ aqStation: id, fromMs: nowMs - 48 * 3_600_000, toMs: nowMs - 3_600_000 + 1, limit: 100 });
        const last = [...hours].reverse().find((h) => Number.isFinite(h.pm10) || Number.isFinite(h.pm25));
        return last ? { pm10: num(last.pm10), pm25: num(last.pm25), time: new Date(last.timeMs).toISOString(), averaging: 'one hour' as const, source: last.source } : null;
      };
      const official = new Map<string, Awaited<ReturnType<typeof officialOf>>>();
      for (const s of ctx.aqStations) official.set(s.id, await officialOf(s.id));
      const stations = ctx.aqStations.map((s) => {
        const cell = cellId(s.lat, s.lon, ctx.map.cellSizeM);
        const g = parseCellId(cell)!;
        const c10 = pm10.cells.get(cell);
        const c25 = pm25.cells.get(cell);
        return {
          id: s.id,
          name_en: s.name_en,
          name_bg: s.name_bg,
          lat: s.lat,
          lon: s.lon,
          ground_m: s.ground_m,
          station_type: s.station_type,
          area: s.area,
          cell,
          district: districtAt(ctx.districts, g.centreLat, g.centreLon),
          lidar: c10 || c25 ? { pm10: num(c10?.value), pm25: num(c25?.value), n: c10?.n ?? c25?.n ?? 0, time: pm10.time, averaging: 'one scan' as const } : null,
          official: official.get(s.id) ?? null,
        };
      });
      return makeCached(JSON.stringify({ station, channel, stations }), JSON_TYPE);
    };
    const c = station ? await cache.get(station, cacheKey(station, 'aq', req.query.channel ?? ''), compute) : await compute();
    return sendCached(req, reply, c, LATEST_CACHE_CONTROL);
  });
}
