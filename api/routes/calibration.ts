/**
 * POST /stations/:station/calibrations (token scope "calibrate"): fits the MEE (and gamma) of the
 * station's stored near-horizontal profiles against hourly PM of an AQ station given in the body,
 * with processing/retrieval/calibrate.ts (robust Huber fit, docs/calibration.md). Only rays that pass
 * within the pairing radius of the AQ station are read from the store.
 */
import { beamGeometry } from '../../processing/geometry/beam.js';
import { terrainHeightM } from '../../processing/geometry/terrain.js';
import { isLidarError } from '../../processing/errors.js';
import { resolveParams } from '../../processing/retrieval/params.js';
import { calibrate, calibrationReport, distanceM, type AqHour, type AqStation, type CalibrationProfile } from '../../processing/retrieval/calibrate.js';
import type { ProfileMeta } from '../../store/port.js';
import type { ApiState, App } from '../state.js';
import { BEARER } from '../state.js';
import { preferredChannel } from '../channels.js';
import { badRequest, notFound } from '../errors.js';
import { describeMs, parseTime, stationOf } from '../query.js';
import { StationParams, WRITE_ERRORS, errors } from '../schemas/common.js';
import { CalibrationBody, CalibrationResponse } from '../schemas/jobs.js';

export const MAX_CALIBRATION_WINDOW_MS = 31 * 86_400_000;
const HOUR_MS = 3_600_000;
const MAX_ELEVATION_DEG = 15;
const ARRAY_CHUNK = 200;

function bearingDeg(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const r = Math.PI / 180;
  const y = Math.sin((lon2 - lon1) * r) * Math.cos(lat2 * r);
  const x = Math.cos(lat1 * r) * Math.sin(lat2 * r) - Math.sin(lat1 * r) * Math.cos(lat2 * r) * Math.cos((lon2 - lon1) * r);
  return ((Math.atan2(y, x) / r) % 360 + 360) % 360;
}

/** Whether a ray can pass within radiusM of a point at distance d and bearing b from the lidar (generous: 1.5 x radius). */
function rayPassesNear(m: ProfileMeta, d: number, b: number, radiusM: number): boolean {
  if (d <= radiusM) return true;
  const maxRange = m.rangeStartM + m.bins * m.rangeStepM;
  if (maxRange < d - radiusM) return false;
  const delta = Math.abs((((m.azimuthDeg - b) % 360) + 540) % 360 - 180);
  if (delta >= 90) return false;
  return d * Math.sin((delta * Math.PI) / 180) <= 1.5 * radiusM;
}

function wavelengthOf(channel: string): number {
  const m = /^(\d+)/.exec(channel);
  return m ? Number(m[1]) : NaN;
}

export function calibrationRoutes(api: App, state: ApiState): void {
  const { ctx } = state;

  api.post('/stations/:station/calibrations', {
    onRequest: state.requireScope('calibrate'),
    schema: {
      tags: ['parameters'],
      summary: 'Fit the MEE against an AQ station\'s hourly PM',
      description: `Pairs the station's stored near-horizontal bins within radius_m of the AQ station and at most max_agl_m above the ground (hourly means, >= min_bins per hour) with the given hourly PM (time = hour start) in [from, to) (at most ${describeMs(MAX_CALIBRATION_WINDOW_MS)}), and fits MEE (Huber regression through the origin; docs/calibration.md). Returns n, mee, r2, rmse, bias and the parameter set with the fitted MEE (not stored: POST it to /param-sets). 400 when fewer than min_hours hours pair, saying why. Token scope "calibrate".`,
      security: BEARER,
      params: StationParams,
      body: CalibrationBody,
      response: { 200: CalibrationResponse, ...errors(404, ...WRITE_ERRORS) },
    },
  }, async (req) => {
    const { station } = req.params;
    const st = stationOf(ctx, station);
    const b = req.body;
    const aqInfo = ctx.aqStations.find((s) => s.id === b.aq_station);
    if (!aqInfo) throw notFound('aq_station', `unknown AQ station ${JSON.stringify(b.aq_station)} (known: ${ctx.aqStations.map((s) => s.id).join(', ')})`);
    const fromMs = parseTime(b.from, 'from');
    const toMs = parseTime(b.to, 'to');
    if (!(toMs > fromMs)) throw badRequest('to', 'invalid to: must be after from');
    if (toMs - fromMs > MAX_CALIBRATION_WINDOW_MS) throw badRequest('to', `window from..to is ${describeMs(toMs - fromMs)}, longer than the allowed ${describeMs(MAX_CALIBRATION_WINDOW_MS)}`);
    const hours: AqHour[] = b.pm.map((h, i) => {
      const t = parseTime(h.time, `pm[${i}].time`);
      if (t % HOUR_MS !== 0) throw badRequest(`pm[${i}].time`, `invalid pm[${i}].time: ${h.time} is not the start of an hour`);
      const v = (x: number | null | undefined) => (x === null || x === undefined ? NaN : x);
      return { timeMs: t, pm10: v(h.pm10), pm25: v(h.pm25), rh: v(h.rh) };
    });
    hours.sort((x, y) => x.timeMs - y.timeMs);
    for (let i = 1; i < hours.length; i++) if (hours[i].timeMs === hours[i - 1].timeMs) throw badRequest('pm', `two values for the hour ${new Date(hours[i].timeMs).toISOString()}`);

    const radiusM = b.radius_m ?? 500;
    const metas = (await ctx.store.backend.profiles({ station, mode: 'scan', channel: b.channel, fromMs, toMs, limit: 20_000 })).filter((m) => m.elevationDeg < MAX_ELEVATION_DEG);
    const channel = b.channel ?? preferredChannel(new Set(metas.map((m) => m.channel)).values());
    if (!channel) throw badRequest('from', `no near-horizontal profiles of ${station} between ${new Date(fromMs).toISOString()} and ${new Date(toMs).toISOString()}`);
    const d = distanceM(st.lat, st.lon, aqInfo.lat, aqInfo.lon);
    const brg = bearingDeg(st.lat, st.lon, aqInfo.lat, aqInfo.lon);
    const near = metas.filter((m) => m.channel === channel && rayPassesNear(m, d, brg, radiusM));
    if (near.length === 0) {
      const n = metas.filter((m) => m.channel === channel).length;
      throw badRequest('aq_station', `none of the ${n} near-horizontal ${channel} profiles of ${station} in the window passes within ${radiusM} m of ${aqInfo.id} (${(d / 1000).toFixed(1)} km from the lidar at azimuth ${brg.toFixed(0)} deg)`);
    }

    const profiles: CalibrationProfile[] = [];
    const idCount = new Map<string, number>();
    for (let i = 0; i < near.length; i += ARRAY_CHUNK) {
      const records = await ctx.store.backend.profileArrays(station, near.slice(i, i + ARRAY_CHUNK).map((m) => m.id), ['alpha_aer', 'height_m', 'qc']);
      for (const r of records) {
        const { alpha_aer: alpha, height_m: height, qc } = r.arrays;
        if (!alpha || !height || !qc) continue;
        const range = new Float64Array(r.bins);
        for (let k = 0; k < r.bins; k++) range[k] = r.rangeStartM + k * r.rangeStepM;
        const g = beamGeometry(range, { latDeg: st.lat, lonDeg: st.lon, altitudeM: st.altitude_m }, r.azimuthDeg, r.elevationDeg);
        profiles.push({
          timeStartUtc: new Date(r.timeMs).toISOString(),
          timeEndUtc: Number.isFinite(r.timeEndMs) ? new Date(r.timeEndMs).toISOString() : undefined,
          elevationDeg: r.elevationDeg,
          wavelengthNm: wavelengthOf(r.channel),
          rangeM: range,
          heightM: height,
          lat: g.latDeg,
          lon: g.lonDeg,
          alphaAer: alpha,
          qc,
          paramsId: r.paramsId,
        });
        idCount.set(r.paramsId, (idCount.get(r.paramsId) ?? 0) + 1);
      }
    }
    // The parameter set that made most of these profiles (its pm block converts the extinction).
    const inputId = [...idCount.entries()].sort((x, y) => y[1] - x[1])[0]?.[0] ?? ctx.activeParams[station]?.paramsId;
    const set = inputId ? await ctx.store.getParamSet(inputId) : null;
    const params = set ? resolveParams(JSON.parse(set.json), set.id) : ctx.activeParams[station]?.params ?? resolveParams(undefined);
    const aqStation: AqStation = { id: aqInfo.id, name: aqInfo.name_en, lat: aqInfo.lat, lon: aqInfo.lon, groundM: Number.isFinite(aqInfo.ground_m) ? aqInfo.ground_m : null };
    const terrain = ctx.terrain;
    const options = { radiusM, maxAglM: b.max_agl_m ?? 150, minBins: b.min_bins ?? 20, minHours: b.min_hours ?? 3, fitGamma: b.fit_gamma ?? false, wavelengthNm: wavelengthOf(channel) };
    let result;
    try {
      result = calibrate(profiles, { file: 'request body', hasPm25: hours.some((h) => Number.isFinite(h.pm25)), hasRh: hours.some((h) => Number.isFinite(h.rh)), hours }, aqStation, params, {
        ...options,
        groundM: terrain ? (lat, lon) => terrainHeightM(terrain, lat, lon) : undefined,
      });
    } catch (e) {
      if (isLidarError(e) && e.code !== 'LIDAR_ERR_IO') throw badRequest(e.field === 'rh' ? 'pm' : e.field === 'paired hours' ? 'pm' : (e.field ?? 'pm'), e.message.replace(/^request body, field [^:]+: /, ''));
      throw e;
    }
    const report = calibrationReport(result, aqStation, { paramsId: inputId ?? '', fittedAt: new Date().toISOString(), options });
    return {
      station,
      aq_station: aqInfo.id,
      channel,
      n: report.pm10.n,
      mee: report.pm10.mee_m2_per_g,
      r2: Number.isFinite(report.pm10.r2) ? report.pm10.r2 : null,
      rmse: report.pm10.rmse_ug_m3,
      bias: report.pm10.bias_ug_m3,
      pm10: { ...report.pm10, r2: Number.isFinite(report.pm10.r2) ? report.pm10.r2 : null },
      pm25: report.pm25 ? { ...report.pm25, r2: Number.isFinite(report.pm25.r2) ? report.pm25.r2 : null } : null,
      gamma: report.gamma,
      input_params_id: inputId ?? '',
      params_id: report.params_id,
      params: report.params,
      hours: report.calibration.stats.hours,
      notes: report.calibration.stats.notes,
    };
  });
}
