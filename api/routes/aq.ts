/**
 * Official AQ-station hourly PM (ExEA/EEA): PUT /aq-stations/:id/hourly (token scope "aq"; CSV
 * `time,pm10[,pm25]` or JSON), GET /aq-stations/:id/hourly (JSON or CSV), and
 * GET /stations/:station/aq-stations/:id/comparison: the lidar's hourly mean in the AQ station's
 * map cell beside the station's value, daily means of both and their agreement (store/aq-compare.ts).
 */
import { Type } from 'typebox';
import { cellId } from '../../processing/geometry/grid.js';
import { isLidarError } from '../../processing/errors.js';
import { agreement, cellsNear, pairDays, pairHours, type Agreement } from '../../store/aq-compare.js';
import { describeBadRows, parseStationCsvRows } from '../../store/aq-csv.js';
import type { AqHourRecord } from '../../store/port.js';
import { MAX_LONG_WINDOW_MS } from '../../store/result-store.js';
import type { AqStationInfo } from '../context.js';
import type { ApiState, App } from '../state.js';
import { BEARER } from '../state.js';
import { attachment, toCsv } from '../csv.js';
import { badRequest, notFound } from '../errors.js';
import { DAY_MS, HOUR_MS, nowOf, parseTime, parseWindow, stationOf, unitOf } from '../query.js';
import { Channel, Format, PUBLIC_ERRORS, PmProduct, StringEnum, TimeValue, WRITE_ERRORS, errors } from '../schemas/common.js';
import { AqComparisonResponse, AqHoursBody, AqHoursResponse, AqPairParams, AqPutResponse, AqStationParams } from '../schemas/aq.js';

const JSON_TYPE = 'application/json; charset=utf-8';
const CSV_TYPE = 'text/csv; charset=utf-8; header=present';
const CsvText = Type.String({ description: 'RFC 4180 CSV with a header row naming the units' });
/** Largest lidar radius around an AQ station of the comparison (m). */
export const MAX_RADIUS_M = 3000;
/** Most hours one PUT may carry (a leap year is 8784). */
export const MAX_AQ_HOURS_PER_PUT = 20_000;
const OFFICIAL_AVERAGING = 'one hour (UTC hour start), official measurement of the AQ station (ExEA/EEA); provisional unless the source says verified';
const LIDAR_AVERAGING = 'one hour (UTC): mean of the valid lidar bins of the hour in the AQ station\'s map cell';

type JsonHours = { source?: string; hours: Array<{ time: string; pm10?: number | null; pm25?: number | null }> };

function round(v: number, digits = 6): number | null {
  return Number.isFinite(v) ? Number(v.toPrecision(digits)) : null;
}

function aqStationOf(list: readonly AqStationInfo[], id: string): AqStationInfo {
  const s = list.find((x) => x.id === id);
  if (!s) throw notFound('id', `unknown AQ station ${JSON.stringify(id)} (known: ${list.map((x) => x.id).join(', ') || 'none'})`);
  return s;
}

function statsJson(a: Agreement) {
  return { n: a.n, mean_lidar: round(a.meanLidar), mean_station: round(a.meanStation), mean_bias: round(a.meanBias), r: round(a.r, 4) };
}

const sameValue = (a: number, b: number) => (Number.isNaN(a) && Number.isNaN(b)) || a === b;

export function aqRoutes(api: App, state: ApiState): void {
  const { ctx, channels } = state;

  api.addContentTypeParser('text/csv', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  api.put('/aq-stations/:id/hourly', {
    onRequest: state.requireScope('aq'),
    schema: {
      tags: ['aq'],
      summary: 'Store an AQ station\'s official hourly PM',
      description:
        `Body: text/csv \`time,pm10[,pm25]\` (header row; time = hour start, ISO 8601 with Z or an offset, or naive in \`timezone\`, default UTC; empty = missing; an \`rh\` column is ignored) or JSON {source?, hours: [{time, pm10, pm25}]}. At most ${MAX_AQ_HOURS_PER_PUT} hours. Idempotent by (station, hour): 201 when at least one hour is new or changed, 200 when every hour was already stored with the same values. Any bad row rejects the request (400, nothing stored) with every bad line number (CSV) or index (JSON). Token scope "aq".`,
      security: BEARER,
      params: AqStationParams,
      querystring: Type.Object({
        source: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Source label for CSV bodies (default "api")' })),
        timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'IANA zone of naive CSV times (default UTC)' })),
      }, { additionalProperties: false }),
      body: { content: { 'text/csv': { schema: Type.String({ maxLength: 4_000_000 }) }, 'application/json': { schema: AqHoursBody } } },
      response: { 200: AqPutResponse, 201: AqPutResponse, ...errors(404, ...WRITE_ERRORS) },
    },
  }, async (req, reply) => {
    const aq = aqStationOf(ctx.aqStations, req.params.id);
    const body = req.body as unknown as string | JsonHours;
    let source = req.query.source ?? 'api';
    let hours: Array<Omit<AqHourRecord, 'aqStation' | 'source'>>;
    if (typeof body === 'string') {
      let parsed;
      try {
        parsed = parseStationCsvRows(body, 'request body', req.query.timezone ?? 'UTC');
      } catch (e) {
        if (isLidarError(e) && e.code !== 'LIDAR_ERR_IO') throw badRequest(e.field ?? 'body', e.message.replace(/^request body, (byte \d+, )?(field [^:]+: )?/, ''));
        throw e;
      }
      if (parsed.bad.length > 0) throw badRequest('body', `${parsed.bad.length} bad row${parsed.bad.length > 1 ? 's' : ''}, nothing stored: ${describeBadRows(parsed.bad)}`);
      hours = parsed.hours;
    } else {
      if (body.source !== undefined) source = body.source;
      const seen = new Map<number, number>();
      const bad: string[] = [];
      hours = [];
      body.hours.forEach((h, i) => {
        let t: number;
        try {
          t = parseTime(h.time, `hours[${i}].time`);
        } catch (e) {
          bad.push(`hours[${i}].time: ${(e as Error).message}`);
          return;
        }
        if (t % HOUR_MS !== 0) return void bad.push(`hours[${i}].time: ${h.time} is not the start of a UTC hour`);
        if (seen.has(t)) return void bad.push(`hours[${i}].time: duplicate hour ${new Date(t).toISOString()} (also hours[${seen.get(t)}])`);
        seen.set(t, i);
        const v = (x: number | null | undefined, name: string): number => {
          if (x === null || x === undefined) return NaN;
          if (!(x >= -50 && x <= 5000)) bad.push(`hours[${i}].${name}: ${x} is outside [-50, 5000] ug/m3`);
          return x;
        };
        hours.push({ timeMs: t, pm10: v(h.pm10, 'pm10'), pm25: v(h.pm25, 'pm25') });
      });
      if (bad.length > 0) throw badRequest('hours', `${bad.length} bad hour${bad.length > 1 ? 's' : ''}, nothing stored: ${bad.slice(0, 20).join('; ')}${bad.length > 20 ? `; and ${bad.length - 20} more` : ''}`);
    }
    if (hours.length > MAX_AQ_HOURS_PER_PUT) throw badRequest('body', `${hours.length} hours, more than the allowed ${MAX_AQ_HOURS_PER_PUT} per request`);
    const records: AqHourRecord[] = hours.map((h) => ({ aqStation: aq.id, timeMs: h.timeMs, pm10: h.pm10, pm25: h.pm25, source }));
    let created = 0, updated = 0;
    if (records.length > 0) {
      const fromMs = Math.min(...records.map((r) => r.timeMs));
      const toMs = Math.max(...records.map((r) => r.timeMs)) + HOUR_MS;
      const before = new Map((await ctx.store.backend.aqHours({ aqStation: aq.id, fromMs, toMs, limit: 1_000_000 })).map((r) => [r.timeMs, r]));
      for (const r of records) {
        const old = before.get(r.timeMs);
        if (!old) created++;
        else if (!sameValue(old.pm10, r.pm10) || !sameValue(old.pm25, r.pm25) || old.source !== r.source) updated++;
      }
      await ctx.store.backend.writeAqHours(records);
      for (const s of Object.keys(ctx.stations)) state.invalidate(s);
    }
    const times = records.map((r) => r.timeMs);
    return reply.code(created + updated > 0 ? 201 : 200).send({
      aq_station: aq.id,
      hours: records.length,
      created,
      updated,
      unchanged: records.length - created - updated,
      from: times.length ? new Date(Math.min(...times)).toISOString() : null,
      to: times.length ? new Date(Math.max(...times) + HOUR_MS).toISOString() : null,
      source,
    });
  });

  api.get('/aq-stations/:id/hourly', {
    schema: {
      tags: ['aq'],
      summary: 'An AQ station\'s stored official hourly PM',
      description: 'Hours of [from, to) (default: the 7 days before now; at most 400 days), oldest first; null = not measured. format=csv downloads RFC 4180 CSV.',
      params: AqStationParams,
      querystring: Type.Object({ from: Type.Optional(TimeValue), to: Type.Optional(TimeValue), format: Type.Optional(Format) }, { additionalProperties: false }),
      response: {
        200: { description: 'The hours', content: { 'application/json': { schema: AqHoursResponse }, 'text/csv': { schema: CsvText } } },
        ...errors(404, ...PUBLIC_ERRORS),
      },
    },
  }, async (req, reply) => {
    const aq = aqStationOf(ctx.aqStations, req.params.id);
    const now = nowOf(ctx);
    const w = parseWindow(req.query, now, 7 * DAY_MS, MAX_LONG_WINDOW_MS);
    const rows = await ctx.store.backend.aqHours({ aqStation: aq.id, fromMs: w.fromMs, toMs: w.toMs, limit: 1_000_000 });
    reply.header('cache-control', 'public, max-age=60');
    if (req.query.format === 'csv') {
      const csv = toCsv(['hour start (UTC ISO 8601)', 'pm10 (ug/m3)', 'pm25 (ug/m3)', 'source'], rows.map((r) => [new Date(r.timeMs).toISOString(), round(r.pm10), round(r.pm25), r.source]));
      return reply.header('content-type', CSV_TYPE).header('content-disposition', attachment(`${aq.id}-hourly-${new Date(w.fromMs).toISOString().slice(0, 10)}.csv`)).send(csv);
    }
    const body = {
      aq_station: aq.id,
      name_en: aq.name_en,
      name_bg: aq.name_bg,
      unit: 'ug/m3' as const,
      averaging: OFFICIAL_AVERAGING,
      from: new Date(w.fromMs).toISOString(),
      to: new Date(w.toMs).toISOString(),
      hours: rows.map((r) => ({ time: new Date(r.timeMs).toISOString(), pm10: round(r.pm10), pm25: round(r.pm25), source: r.source })),
    };
    return reply.header('content-type', JSON_TYPE).send(JSON.stringify(body));
  });

  api.get('/stations/:station/aq-stations/:id/comparison', {
    schema: {
      tags: ['aq'],
      summary: 'Lidar vs official AQ station, hourly and daily',
      description:
        'Per hour of [from, to) (default: the 7 days before now; at most 400 days) where either side has a value: the lidar\'s hourly mean in the AQ station\'s map cell (or in the cells within radius_m of it) and the station\'s official hourly value; per local calendar day (station time zone) the daily means of both (>= 18 hours each); agreement (n, means, mean bias = lidar - station, Pearson r) over the hours and the days with both values. format=csv: the paired hours (resolution=1h, default) or days (resolution=1d).',
      params: AqPairParams,
      querystring: Type.Object({
        product: Type.Optional(PmProduct),
        channel: Type.Optional(Channel),
        from: Type.Optional(TimeValue),
        to: Type.Optional(TimeValue),
        format: Type.Optional(Format),
        resolution: Type.Optional(StringEnum(['1h', '1d'] as const, { default: '1h', description: 'Rows of the CSV' })),
        radius_m: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_RADIUS_M, default: 0, description: 'Lidar side: the map cells whose centre is within this distance of the AQ station, with the station\'s own cell (0: that cell only)' })),
      }, { additionalProperties: false }),
      response: {
        200: { description: 'The paired series', content: { 'application/json': { schema: AqComparisonResponse }, 'text/csv': { schema: CsvText } } },
        ...errors(404, ...PUBLIC_ERRORS),
      },
    },
  }, async (req, reply) => {
    const { station } = req.params;
    const st = stationOf(ctx, station);
    const aq = aqStationOf(ctx.aqStations, req.params.id);
    const q = req.query;
    const product = q.product ?? 'pm10';
    const now = nowOf(ctx);
    const w = parseWindow(q, now, 7 * DAY_MS, MAX_LONG_WINDOW_MS);
    const cell = cellId(aq.lat, aq.lon, ctx.map.cellSizeM);
    const radiusM = q.radius_m ?? 0;
    const cells = cellsNear(aq.lat, aq.lon, radiusM, ctx.map.cellSizeM);
    const channel = await channels.resolve(station, q.channel);
    // Whole hours covering the window, so the first and last hours are complete on both sides.
    const fromMs = Math.floor(w.fromMs / HOUR_MS) * HOUR_MS;
    const toMs = Math.ceil(w.toMs / HOUR_MS) * HOUR_MS;
    const lidar = channel ? await ctx.store.series({ station, channel, product, target: { cells }, fromMs, toMs, resolution: '1h', timezone: st.timezone }) : [];
    const official = await ctx.store.backend.aqHours({ aqStation: aq.id, fromMs, toMs, limit: 1_000_000 });
    const hours = pairHours(lidar, official, product);
    const days = pairDays(hours, fromMs, toMs, st.timezone);
    const unit = unitOf(product);
    reply.header('cache-control', w.toMs < now - HOUR_MS ? 'public, max-age=300' : 'public, max-age=60');
    if (q.format === 'csv') {
      const daily = q.resolution === '1d';
      const csv = daily
        ? toCsv(['date (local)', 'day start (UTC ISO 8601)', `lidar ${product} (${unit})`, `station ${product} (${unit})`, 'lidar hours', 'station hours'], days.map((d) => [d.date, new Date(d.dayStartMs).toISOString(), round(d.lidar), round(d.station), d.lidarHours, d.stationHours]))
        : toCsv(['hour start (UTC ISO 8601)', `lidar ${product} (${unit})`, `station ${product} (${unit})`, 'lidar n (bins)'], hours.map((h) => [new Date(h.timeMs).toISOString(), round(h.lidar), round(h.station), h.lidarBins]));
      const name = `${station}-vs-${aq.id}-${product}-${daily ? '1d' : '1h'}-${new Date(fromMs).toISOString().slice(0, 10)}.csv`;
      return reply.header('content-type', CSV_TYPE).header('content-disposition', attachment(name)).send(csv);
    }
    const body = {
      station,
      channel,
      aq_station: aq.id,
      name_en: aq.name_en,
      name_bg: aq.name_bg,
      cell,
      radius_m: radiusM,
      cells,
      product,
      unit,
      timezone: st.timezone,
      from: new Date(fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
      lidar_averaging: radiusM > 0 ? `one hour (UTC): mean of the valid lidar bins of the hour in the ${cells.length} map cells within ${radiusM} m of the AQ station` : LIDAR_AVERAGING,
      station_averaging: OFFICIAL_AVERAGING,
      hours: hours.map((h) => ({ time: new Date(h.timeMs).toISOString(), lidar: round(h.lidar), station: round(h.station), lidar_bins: h.lidarBins })),
      days: days.map((d) => ({ date: d.date, time: new Date(d.dayStartMs).toISOString(), lidar: round(d.lidar), station: round(d.station), lidar_hours: d.lidarHours, station_hours: d.stationHours })),
      stats: { hourly: statsJson(agreement(hours)), daily: statsJson(agreement(days)) },
    };
    return reply.header('content-type', JSON_TYPE).send(JSON.stringify(body));
  });
}
