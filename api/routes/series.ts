/**
 * GET /stations/:station/series (a product over time at a cell, point, district, AQ station or the
 * whole station) and GET /stations/:station/districts (district daily means and EU-limit
 * exceedances), as JSON or CSV.
 */
import { Type } from 'typebox';
import { MIN_HOURS_PER_DAY, limitsFor } from '../../store/limits.js';
import { MAX_LONG_WINDOW_MS, MAX_RAW_SERIES_WINDOW_MS, localDate } from '../../store/result-store.js';
import type { ApiState, App } from '../state.js';
import { attachment, toCsv } from '../csv.js';
import { DAY_MS, nowOf, parseTarget, parseWindow, stationOf, unitOf } from '../query.js';
import { Channel, Format, MapProduct, PUBLIC_ERRORS, PmProduct, StationParams, StringEnum, TimeValue, errors } from '../schemas/common.js';
import { DistrictsResponse, SeriesResponse } from '../schemas/series.js';

const JSON_TYPE = 'application/json; charset=utf-8';
const CSV_TYPE = 'text/csv; charset=utf-8; header=present';
const CsvText = Type.String({ description: 'RFC 4180 CSV with a header row naming the units' });

const AVERAGING = {
  raw: 'one scan: mean of the valid bins of one scan in the target',
  '1h': 'one hour (UTC): mean of the valid bins of the hour in the target',
  '1d': `one calendar day (station time zone): mean of the hourly means, reported with >= ${MIN_HOURS_PER_DAY} hours`,
} as const;
const DEFAULT_WINDOW = { raw: DAY_MS, '1h': 7 * DAY_MS, '1d': 30 * DAY_MS } as const;
const MAX_WINDOW = { raw: MAX_RAW_SERIES_WINDOW_MS, '1h': MAX_LONG_WINDOW_MS, '1d': MAX_LONG_WINDOW_MS } as const;

function round(v: number, digits = 6): number | null {
  return Number.isFinite(v) ? Number(v.toPrecision(digits)) : null;
}

export function seriesRoutes(api: App, state: ApiState): void {
  const { ctx, channels } = state;

  api.get('/stations/:station/series', {
    schema: {
      tags: ['series'],
      summary: 'Time series at a cell, point, district, AQ station or the whole station',
      description:
        'target: `cell:<id>`, `district:<code>`, `point:<lat>,<lon>` and `aq:<EoI code>` (both resolve to the grid cell containing them) or `station`. resolution: `raw` (one value per scan; window <= 48 h, default 24 h), `1h` (default 7 d) or `1d` (local calendar days, >= 18 hours; default 30 d); at most 400 days. format=csv downloads RFC 4180 CSV.',
      params: StationParams,
      querystring: Type.Object(
        {
          product: Type.Optional(MapProduct),
          target: Type.Optional(Type.String({ minLength: 1, maxLength: 100, default: 'station' })),
          channel: Type.Optional(Channel),
          from: Type.Optional(TimeValue),
          to: Type.Optional(TimeValue),
          resolution: Type.Optional(StringEnum(['raw', '1h', '1d'] as const, { default: '1h' })),
          format: Type.Optional(Format),
        },
        { additionalProperties: false },
      ),
      response: {
        200: { description: 'The series', content: { 'application/json': { schema: SeriesResponse }, 'text/csv': { schema: CsvText } } },
        ...errors(404, ...PUBLIC_ERRORS),
      },
    },
  }, async (req, reply) => {
    const { station } = req.params;
    const st = stationOf(ctx, station);
    const q = req.query;
    const product = q.product ?? 'pm10';
    const resolution = q.resolution ?? '1h';
    const target = parseTarget(ctx, q.target ?? 'station');
    const now = nowOf(ctx);
    const w = parseWindow(q, now, DEFAULT_WINDOW[resolution], MAX_WINDOW[resolution]);
    const channel = await channels.resolve(station, q.channel);
    const points = channel ? await ctx.store.series({ station, channel, product, target: target.target, fromMs: w.fromMs, toMs: w.toMs, resolution, timezone: st.timezone }) : [];
    const unit = unitOf(product);
    reply.header('cache-control', w.toMs < now - 3_600_000 ? 'public, max-age=300' : 'public, max-age=10');
    if (q.format === 'csv') {
      const nHeader = resolution === '1d' ? 'n (hours with data)' : 'n (bins)';
      const header = resolution === '1d' ? ['date (local)', 'time (UTC ISO 8601)', `${product} (${unit})`, nHeader] : ['time (UTC ISO 8601)', `${product} (${unit})`, nHeader];
      const rows = points.map((p) => {
        const t = new Date(p.timeMs).toISOString();
        return resolution === '1d' ? [localDate(p.timeMs, st.timezone), t, round(p.value), p.n] : [t, round(p.value), p.n];
      });
      const name = `${station}-${product}-${target.spec.replace(/[^A-Za-z0-9.-]+/g, '_')}-${resolution}-${new Date(w.fromMs).toISOString().slice(0, 10)}.csv`;
      return reply.header('content-type', CSV_TYPE).header('content-disposition', attachment(name)).send(toCsv(header, rows));
    }
    const body = {
      station,
      channel,
      product,
      unit,
      target: { spec: target.spec, kind: target.kind, cell: target.cell, district: target.district, label: target.label },
      resolution,
      averaging: AVERAGING[resolution],
      timezone: resolution === '1d' ? st.timezone : null,
      from: new Date(w.fromMs).toISOString(),
      to: new Date(w.toMs).toISOString(),
      points: points.map((p) => ({ time: new Date(p.timeMs).toISOString(), value: round(p.value), n: p.n })),
    };
    return reply.header('content-type', JSON_TYPE).send(JSON.stringify(body));
  });

  api.get('/stations/:station/districts', {
    schema: {
      tags: ['series'],
      summary: 'District daily means and EU limit exceedances',
      description:
        'Per district of the map: daily means (local calendar days of the station, >= 18 hours with data), valid days, the period mean, and per EU limit (2008/50/EC and, from 2030, (EU) 2024/2881) the exceedance days and whether the yearly allowance is used up. Default window: the 30 days before now; at most 400 days; expanded to whole days. Lidar-derived: indicative, not for compliance. format=csv: one row per district and day.',
      params: StationParams,
      querystring: Type.Object({ product: Type.Optional(PmProduct), channel: Type.Optional(Channel), from: Type.Optional(TimeValue), to: Type.Optional(TimeValue), format: Type.Optional(Format) }, { additionalProperties: false }),
      response: {
        200: { description: 'District statistics', content: { 'application/json': { schema: DistrictsResponse }, 'text/csv': { schema: CsvText } } },
        ...errors(404, ...PUBLIC_ERRORS),
      },
    },
  }, async (req, reply) => {
    const { station } = req.params;
    const st = stationOf(ctx, station);
    const q = req.query;
    const product = q.product ?? 'pm10';
    const now = nowOf(ctx);
    const w = parseWindow(q, now, 30 * DAY_MS, MAX_LONG_WINDOW_MS);
    const channel = await channels.resolve(station, q.channel);
    const r = await ctx.store.districtStats({ station, channel: channel ?? '532o-glued', product, fromMs: w.fromMs, toMs: w.toMs, timezone: st.timezone });
    const names = new Map(ctx.districts.map((d) => [d.code, d]));
    const limits = r.districts[0]?.limits.map((l) => l.limit) ?? limitsFor(product);
    const unit = unitOf(product);
    reply.header('cache-control', w.toMs < now - 3_600_000 ? 'public, max-age=300' : 'public, max-age=60');
    if (q.format === 'csv') {
      const daily = limits.filter((l) => l.averaging === 'day');
      const header = ['district', 'district name', 'date (local)', `daily mean ${product} (${unit})`, 'hours with data', `valid day (>= ${MIN_HOURS_PER_DAY} h)`, ...daily.map((l) => `above ${l.valueUgM3} ${unit} (${l.id})`)];
      const rows = r.districts.flatMap((d) =>
        d.days.map((day) => {
          const valid = Number.isFinite(day.mean);
          return [d.district, names.get(d.district)?.nameEn ?? '', day.date, round(day.mean), day.hours, valid, ...daily.map((l) => (valid ? day.mean > l.valueUgM3 : null))];
        }),
      );
      const name = `${station}-${product}-districts-${new Date(r.fromMs).toISOString().slice(0, 10)}.csv`;
      return reply.header('content-type', CSV_TYPE).header('content-disposition', attachment(name)).send(toCsv(header, rows));
    }
    const body = {
      station,
      channel,
      product,
      unit,
      timezone: r.timezone,
      from: new Date(r.fromMs).toISOString(),
      to: new Date(r.toMs).toISOString(),
      min_hours_per_day: MIN_HOURS_PER_DAY,
      limits: limits.map((l) => ({ id: l.id, directive: l.directive, citation: l.citation, averaging: l.averaging, value_ug_m3: l.valueUgM3, max_exceedances_per_year: l.maxExceedancesPerYear, applies_from: l.appliesFrom })),
      districts: r.districts.map((d) => ({
        district: d.district,
        name_en: names.get(d.district)?.nameEn ?? d.district,
        name_bg: names.get(d.district)?.nameBg ?? '',
        valid_days: d.validDays,
        period_mean: round(d.periodMean),
        days: d.days.map((day) => ({ date: day.date, mean: round(day.mean), hours: day.hours })),
        limits: d.limits.map((l) => ({ id: l.limit.id, exceedance_days: l.exceedanceDays, allowed_exceeded: l.allowedExceeded, period_mean_above: l.periodMeanAbove })),
      })),
    };
    return reply.header('content-type', JSON_TYPE).send(JSON.stringify(body));
  });
}
