/**
 * GET /stations, GET /stations/:station/status (live operator view), GET /stations/:station/health
 * (stored housekeeping history), GET /stations/:station/channels/health (per-channel background
 * and SNR of the stored profiles).
 */
import { Type, type Static } from 'typebox';
import type { StationHealth } from '../../ingest/pipeline.js';
import type { ApiState, App } from '../state.js';
import { publicMessage } from '../errors.js';
import { sendJsonText } from '../cache.js';
import { DAY_MS, HOUR_MS, iso, nowOf, parseWindow, stationOf } from '../query.js';
import { MAX_LONG_WINDOW_MS } from '../../store/result-store.js';
import { ChannelHealth, StationHealthSummary, StationList, StationStatus, HealthHistory } from '../schemas/stations.js';
import { backgroundUnit } from '../../store/port.js';
import { PUBLIC_ERRORS, StationParams, StringEnum, TimeValue, errors } from '../schemas/common.js';

const STALE_WARN_MS = 30 * 60_000;
/** Most profiles one /channels/health answer covers (a day of the winter scenario is ~4600). */
const CHANNEL_HEALTH_MAX = 20_000;
const STALE_CRIT_MS = 2 * HOUR_MS;

function seconds(ms: number): number | null {
  return Number.isFinite(ms) ? ms / 1000 : null;
}

export function healthSummary(h: StationHealth | undefined): Static<typeof StationHealthSummary> | null {
  if (!h) return null;
  return {
    received: h.received,
    processed: h.processed,
    quarantined: h.quarantined,
    retried: h.retried,
    uncalibrated: h.uncalibrated,
    channel_errors: h.channelErrors,
    queue_depth: h.queueDepth,
    in_flight: h.inFlight,
    last_lag_s: seconds(h.lastLagMs),
    last_profile_age_s: seconds(h.lastProfileAgeMs),
    last_error: publicMessage(h.lastError),
  };
}

/** Newest stored profile time of a station (pipeline memory first, else the store's last 7 days). */
async function lastProfileMs(state: ApiState, station: string, h: StationHealth | undefined): Promise<number> {
  if (h && Number.isFinite(h.lastProfileMs)) return h.lastProfileMs;
  const now = nowOf(state.ctx);
  const [m] = await state.ctx.store.backend.profiles({ station, fromMs: now - 7 * DAY_MS, toMs: now + 1, order: 'desc', limit: 1 });
  return m ? m.timeMs : NaN;
}

/** Files (distinct measurement starts) per UTC hour over the 24 h before the current hour. */
async function completeness(state: ApiState, station: string, nowMs: number): Promise<{ last_hour_files: number | null; typical_files_per_hour: number | null; ratio: number | null }> {
  const hourStart = Math.floor(nowMs / HOUR_MS) * HOUR_MS;
  const metas = await state.ctx.store.backend.profiles({ station, fromMs: hourStart - 24 * HOUR_MS, toMs: hourStart, limit: 20_000 });
  const perHour = new Map<number, Set<number>>();
  for (const m of metas) {
    const h = Math.floor(m.timeMs / HOUR_MS) * HOUR_MS;
    let s = perHour.get(h);
    if (!s) perHour.set(h, (s = new Set()));
    s.add(m.timeMs);
  }
  const counts = [...perHour.values()].map((s) => s.size).sort((a, b) => a - b);
  const lastHour = perHour.get(hourStart - HOUR_MS)?.size ?? 0;
  const typical = counts.length >= 3 ? counts[Math.floor(counts.length / 2)] : null;
  return { last_hour_files: lastHour, typical_files_per_hour: typical, ratio: typical ? Math.min(1, lastHour / typical) : null };
}

/**
 * A store read for a live view: when the store cannot answer (an outage — the pipeline spools
 * meanwhile) the view still answers from memory with `fallback`, and `failed` receives the reason.
 */
async function orWhenStoreDown<T>(read: () => Promise<T>, fallback: T, failed?: (why: string) => void): Promise<T> {
  try {
    return await read();
  } catch (e) {
    failed?.(publicMessage((e as Error).message) ?? 'store read failed');
    return fallback;
  }
}

/** Health values for a public route: strings (e.g. pipeline.lastError) without paths or URLs. */
function publicValues(values: Record<string, number | string | boolean>): Record<string, number | string | boolean> {
  const out: Record<string, number | string | boolean> = {};
  for (const [k, v] of Object.entries(values)) out[k] = typeof v === 'string' ? (publicMessage(v) ?? '') : v;
  return out;
}

export function stationRoutes(api: App, state: ApiState): void {
  const { ctx } = state;

  api.get('/stations', {
    schema: {
      tags: ['stations'],
      summary: 'Configured lidar stations',
      description: 'Each station with its configuration (for the in-browser retrieval), the channels it has data for, its active parameter set, the time of its newest profile and a live health summary.',
      response: { 200: StationList, ...errors(...PUBLIC_ERRORS) },
    },
  }, async () => {
    const health = ctx.pipelineHealth();
    const stations = [];
    for (const [id, s] of Object.entries(ctx.stations)) {
      const last = await orWhenStoreDown(() => lastProfileMs(state, id, health[id]), NaN);
      stations.push({
        id,
        name: s.name,
        lat: s.lat,
        lon: s.lon,
        altitude_m: s.altitude_m,
        ground_altitude_m: s.ground_altitude_m ?? null,
        timezone: s.timezone,
        config: s,
        channels: await orWhenStoreDown(() => state.channels.channels(id), []),
        active_params_id: ctx.activeParams[id]?.paramsId ?? null,
        last_profile: iso(last),
        health: healthSummary(health[id]),
      });
    }
    return { stations };
  });

  api.get('/stations/:station/status', {
    schema: {
      tags: ['operations'],
      summary: 'Live status of a station (operator view)',
      description: 'Alive first: time since the last profile, ingest lag, completeness, retrieval success rate, queue depths, source and store connectivity, with a level (ok / warn / crit) and the reasons.',
      params: StationParams,
      response: { 200: StationStatus, ...errors(404, ...PUBLIC_ERRORS) },
    },
  }, async (req) => {
    const { station } = req.params;
    stationOf(ctx, station);
    const now = nowOf(ctx);
    const h = ctx.pipelineHealth()[station];
    let storeReadError: string | null = null;
    const readFailed = (why: string) => void (storeReadError ??= why);
    const last = await orWhenStoreDown(() => lastProfileMs(state, station, h), NaN, readFailed);
    const completenessNow = await orWhenStoreDown(() => completeness(state, station, now), { last_hour_files: null, typical_files_per_hour: null, ratio: null }, readFailed);
    const since = Number.isFinite(last) ? now - last : NaN;
    const d = ctx.depths();
    const st = ctx.store.status();
    const sources = ctx.sources().map((s) => ({ name: s.name, connected: s.connected }));
    const attempts = h ? h.processed + h.quarantined : 0;
    const reasons: string[] = [];
    let level: 'ok' | 'warn' | 'crit' = 'ok';
    const raise = (l: 'warn' | 'crit', why: string) => {
      reasons.push(why);
      if (l === 'crit' || level === 'ok') level = l;
    };
    if (storeReadError !== null) raise('crit', `the store cannot be read: ${storeReadError}`);
    else if (!Number.isFinite(since)) raise('crit', 'no profile in the last 7 days');
    else if (since > STALE_CRIT_MS) raise('crit', `no profile for ${Math.round(since / 60_000)} min`);
    else if (since > STALE_WARN_MS) raise('warn', `no profile for ${Math.round(since / 60_000)} min`);
    if (!st.reachable) raise('crit', 'the store is unreachable');
    if (st.spooledPoints > 0) raise('warn', `${st.spooledPoints} points wait in the store spool`);
    for (const s of sources) if (!s.connected) raise('warn', `source ${s.name} is not connected`);
    if (h && attempts > 0 && h.quarantined / attempts > 0.1) raise('warn', `${h.quarantined} of ${attempts} items quarantined`);
    return {
      station,
      now: new Date(now).toISOString(),
      level,
      reasons,
      last_profile: iso(last),
      since_last_profile_s: seconds(since),
      ingest_lag_s: seconds(h?.lastLagMs ?? NaN),
      ingest_lag_max_s: seconds(h?.maxLagMs ?? NaN),
      completeness: completenessNow,
      retrieval: {
        received: h?.received ?? 0,
        processed: h?.processed ?? 0,
        quarantined: h?.quarantined ?? 0,
        success_rate: attempts > 0 ? h!.processed / attempts : null,
        uncalibrated: h?.uncalibrated ?? 0,
        channel_errors: h?.channelErrors ?? 0,
        retried: h?.retried ?? 0,
        last_error: publicMessage(h?.lastError),
      },
      queue: { station_queued: h?.queueDepth ?? 0, station_in_flight: h?.inFlight ?? 0, pipeline_queued: d.queued, pipeline_running: d.running, retrieval_pool: d.pool },
      sources,
      store: { kind: ctx.store.backend.kind, reachable: st.reachable, spooled_points: st.spooledPoints, write_errors: st.writeErrors },
    };
  });

  api.get('/stations/:station/health', {
    schema: {
      tags: ['operations'],
      summary: 'Stored health history of a station',
      description: 'Housekeeping and pipeline records (laser energy, temperatures, high voltages, counters...) in [from, to). Default: the last 24 h; at most 400 days and `limit` records (oldest first).',
      params: StationParams,
      querystring: Type.Object(
        {
          from: Type.Optional(TimeValue),
          to: Type.Optional(TimeValue),
          fields: Type.Optional(Type.String({ pattern: '^[^,\\s]{1,128}(,[^,\\s]{1,128}){0,99}$', description: 'Comma-separated value names (default all)' })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, default: 5000 })),
        },
        { additionalProperties: false },
      ),
      response: { 200: HealthHistory, ...errors(404, ...PUBLIC_ERRORS) },
    },
  }, async (req, reply) => {
    const { station } = req.params;
    stationOf(ctx, station);
    const w = parseWindow(req.query, nowOf(ctx), DAY_MS, MAX_LONG_WINDOW_MS);
    const records = await ctx.store.healthHistory({ station, fromMs: w.fromMs, toMs: w.toMs, fields: req.query.fields?.split(','), limit: req.query.limit ?? 5000, order: 'asc' });
    const body = JSON.stringify({
      station,
      from: new Date(w.fromMs).toISOString(),
      to: new Date(w.toMs).toISOString(),
      records: records.map((r) => ({ time: new Date(r.timeMs).toISOString(), values: publicValues(r.values) })),
    });
    return sendJsonText(reply.header('cache-control', 'no-cache'), body);
  });

  api.get('/stations/:station/channels/health', {
    schema: {
      tags: ['operations'],
      summary: 'Background level and SNR per channel (operator view)',
      description: `For each channel with profiles whose measurement starts in [from, to) (default: the last 24 h; at most 7 days): the retrieval's background level (MHz for photon-counting and glued channels, mV for analog-only channels) and its reference SNR per profile, oldest first, as parallel arrays. \`mode\`: vertical profiles only (default; one geometry, so values compare over the day), scan profiles, or all. At most \`limit\` profiles (default and maximum ${CHANNEL_HEALTH_MAX}, the newest), \`truncated\` when there were more.`,
      params: StationParams,
      querystring: Type.Object(
        {
          from: Type.Optional(TimeValue),
          to: Type.Optional(TimeValue),
          mode: Type.Optional(StringEnum(['vertical', 'scan', 'all'] as const)),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: CHANNEL_HEALTH_MAX })),
        },
        { additionalProperties: false },
      ),
      response: { 200: ChannelHealth, ...errors(404, ...PUBLIC_ERRORS) },
    },
  }, async (req, reply) => {
    const { station } = req.params;
    stationOf(ctx, station);
    const q = req.query;
    const w = parseWindow(q, nowOf(ctx), DAY_MS, 7 * DAY_MS);
    const mode = q.mode ?? 'vertical';
    const limit = q.limit ?? CHANNEL_HEALTH_MAX;
    // Newest first so a truncated answer keeps the latest values; reversed below.
    const metas = await ctx.store.backend.profiles({ station, mode: mode === 'all' ? undefined : mode, fromMs: w.fromMs, toMs: w.toMs, order: 'desc', limit: limit + 1 });
    const num = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v : null);
    const by = new Map<string, { times: string[]; background: Array<number | null>; snr: Array<number | null> }>();
    for (const m of metas.slice(0, limit).reverse()) {
      let c = by.get(m.channel);
      if (!c) by.set(m.channel, (c = { times: [], background: [], snr: [] }));
      c.times.push(new Date(m.timeMs).toISOString());
      c.background.push(num(m.background));
      c.snr.push(num(m.snr));
    }
    const body = JSON.stringify({
      station,
      from: new Date(w.fromMs).toISOString(),
      to: new Date(w.toMs).toISOString(),
      mode,
      truncated: metas.length > limit,
      channels: [...by.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([channel, c]) => ({ channel, background_unit: backgroundUnit(channel), profiles: c.times.length, ...c })),
    });
    return sendJsonText(reply.header('cache-control', 'no-cache'), body);
  });
}
