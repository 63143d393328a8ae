/**
 * GET /profiles/:id (one stored profile with its parameter set), GET /profiles/:id/raw (its archived
 * Licel file, for the in-browser retrieval), POST /profiles/:id/preview (the retrieval run again on
 * that file with other parameters, not stored; token scope "preview").
 */
import { readFile } from 'node:fs/promises';
import { Type } from 'typebox';
import { isLidarError } from '../../processing/errors.js';
import { canonicalParams, paramsId, resolveParams } from '../../processing/retrieval/params.js';
import type { ResolvedParams } from '../../processing/retrieval/params.types.js';
import type { ApiState, App } from '../state.js';
import { BEARER } from '../state.js';
import { archivedFile } from '../archive.js';
import { storedConstantsAt } from '../constants.js';
import { badRequest, notFound } from '../errors.js';
import { profileJson } from '../profile-json.js';
import { attachment } from '../csv.js';
import { sendJsonText } from '../cache.js';
import { PUBLIC_ERRORS, WRITE_ERRORS, errors } from '../schemas/common.js';
import { Preview, PreviewBody, Profile, ProfileIdParams, ProfileList } from '../schemas/profiles.js';
import { DAY_MS, nowOf, parseWindow, stationOf } from '../query.js';
import { backgroundUnit } from '../../store/port.js';
import { Channel, StationParams, StringEnum, TimeValue } from '../schemas/common.js';

const HOUR_MS = 3_600_000;
const PROFILE_LIST_MAX = 10_000;

export const PREVIEW_MAX_MONTE_CARLO = 200;

/** A parameter set from a request body: errors name the field under `prefix`. */
export function paramsFromBody(json: unknown, prefix: string): ResolvedParams {
  try {
    return resolveParams(json, 'request body');
  } catch (e) {
    if (isLidarError(e)) {
      const field = e.field && e.field !== 'parameter set' ? `${prefix}.${e.field}` : prefix;
      throw badRequest(field, e.message.replace(/^request body, field [^:]+: /, ''));
    }
    throw e;
  }
}

export function profileRoutes(api: App, state: ApiState): void {
  const { ctx } = state;

  const load = async (id: string) => {
    const p = await ctx.store.profile(id);
    if (!p) throw notFound('id', `no stored profile ${id}`);
    return p;
  };

  api.get('/stations/:station/profiles', {
    schema: {
      tags: ['profiles'],
      summary: 'The stored profiles of a time window (metadata, newest first)',
      description: `Ids, times, mode (vertical or scan), geometry and scalar products of the profiles whose measurement starts in [from, to) (default: the 6 h before now; at most 7 days), optionally of one channel and mode; at most \`limit\` (default 1000, at most ${PROFILE_LIST_MAX}), newest first, \`truncated\` when there were more. For picking profiles to open with GET /profiles/{id}.`,
      params: StationParams,
      querystring: Type.Object(
        {
          from: Type.Optional(TimeValue),
          to: Type.Optional(TimeValue),
          channel: Type.Optional(Channel),
          mode: Type.Optional(StringEnum(['vertical', 'scan'] as const)),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: PROFILE_LIST_MAX })),
        },
        { additionalProperties: false },
      ),
      response: { 200: ProfileList, ...errors(404, ...PUBLIC_ERRORS) },
    },
  }, async (req, reply) => {
    const { station } = req.params;
    stationOf(ctx, station);
    const q = req.query;
    const w = parseWindow(q, nowOf(ctx), 6 * HOUR_MS, 7 * DAY_MS);
    const limit = q.limit ?? 1000;
    const metas = await ctx.store.backend.profiles({ station, channel: q.channel, mode: q.mode, fromMs: w.fromMs, toMs: w.toMs, order: 'desc', limit: limit + 1 });
    const num = (v: number) => (Number.isFinite(v) ? v : null);
    const body = {
      station,
      from: new Date(w.fromMs).toISOString(),
      to: new Date(w.toMs).toISOString(),
      truncated: metas.length > limit,
      profiles: metas.slice(0, limit).map((m) => ({
        id: m.id,
        channel: m.channel,
        mode: m.mode,
        time_start: new Date(m.timeMs).toISOString(),
        time_end: new Date(m.timeEndMs).toISOString(),
        azimuth_deg: num(m.azimuthDeg),
        elevation_deg: num(m.elevationDeg),
        file: m.file,
        params_id: m.paramsId,
        valid_bins: num(m.validBins),
        pbl_height_m: num(m.pblHeightM),
        cloud_base_m: num(m.cloudBaseM),
        aod: num(m.aod),
        lidar_constant: num(m.lidarConstant),
        pbl_quality: num(m.pblQuality),
        snr: num(m.snr),
        background: num(m.background ?? NaN),
        background_unit: backgroundUnit(m.channel),
      })),
    };
    return reply.header('cache-control', 'public, max-age=10').send(body);
  });

  api.get('/profiles/:id', {
    schema: {
      tags: ['profiles'],
      summary: 'One stored profile with its products and parameter set',
      description: 'Every per-bin array the store keeps (contract names, SI units, PM in ug/m3, heights m a.s.l., null = missing), range/lat/lon of the bins, the scalar products and the parameter set that made it. Immutable until reprocessed: ETag.',
      params: ProfileIdParams,
      response: { 200: Profile, ...errors(404, ...PUBLIC_ERRORS) },
    },
  }, async (req, reply) => {
    const { record, paramSet } = await load(req.params.id);
    const body = JSON.stringify(profileJson(record, paramSet, ctx.stations[record.station]));
    return sendJsonText(reply.header('cache-control', 'public, max-age=60'), body);
  });

  api.get('/profiles/:id/raw', {
    schema: {
      tags: ['profiles'],
      summary: 'The archived Licel raw file of a profile',
      description: 'The bytes the pipeline received (application/octet-stream), for the in-browser retrieval. 404 when the profile is unknown or its raw file is not archived.',
      params: ProfileIdParams,
      response: { 200: { description: 'Licel raw file', content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } } }, ...errors(404, ...PUBLIC_ERRORS) },
    },
  }, async (req, reply) => {
    const { record } = await load(req.params.id);
    const path = await archivedFile(ctx.rawArchiveDir, record.station, record.timeMs, record.file);
    if (!path) throw notFound('id', `the raw file of ${record.id} (${record.file}) is not archived`);
    const bytes = await readFile(path);
    return reply.header('content-type', 'application/octet-stream').header('content-disposition', attachment(record.file)).header('cache-control', 'public, max-age=3600').send(bytes as never);
  });

  api.post('/profiles/:id/preview', {
    onRequest: state.requireScope('preview'),
    schema: {
      tags: ['profiles'],
      summary: 'Retrieval preview with other parameters (not stored)',
      description: `Runs the retrieval on the profile's archived raw file with the given parameter set through the worker pool and returns that channel's products like GET /profiles/{id}; nothing is stored. Scans get the lidar constant of the latest vertical before them (as in the pipeline) unless the set gives reference.lidar_constant. monte_carlo is limited to ${PREVIEW_MAX_MONTE_CARLO}. Token scope "preview".`,
      security: BEARER,
      params: ProfileIdParams,
      body: PreviewBody,
      response: { 200: Preview, ...errors(404, ...WRITE_ERRORS) },
    },
  }, async (req, reply) => {
    const { record } = await load(req.params.id);
    const station = ctx.stations[record.station];
    if (!station) throw notFound('id', `station ${record.station} of ${record.id} is not configured`);
    const params = paramsFromBody(req.body.params, 'params');
    if (params.monteCarlo > PREVIEW_MAX_MONTE_CARLO) throw badRequest('params.monte_carlo', `invalid params.monte_carlo: ${params.monteCarlo} (at most ${PREVIEW_MAX_MONTE_CARLO} in a preview)`);
    const path = await archivedFile(ctx.rawArchiveDir, record.station, record.timeMs, record.file);
    if (!path) throw notFound('id', `the raw file of ${record.id} (${record.file}) is not archived`);
    const bytes = new Uint8Array(await readFile(path));
    const constants = record.mode === 'scan' ? await storedConstantsAt(ctx.store, record.station, record.timeMs) : {};
    const id = paramsId(params);
    let out;
    try {
      out = await ctx.pool.run({ bytes, name: record.file, receivedMs: record.receivedMs, station, params, paramsId: id, constants, minCalibrationReferenceM: ctx.minCalibrationReferenceM ?? 5000 });
    } catch (e) {
      if (isLidarError(e) && e.code !== 'LIDAR_ERR_IO') throw badRequest('params', `the retrieval failed with these parameters: ${e.message}`);
      throw e;
    }
    const p = out.profiles.find((x) => x.channel === record.channel);
    if (!p) {
      if (out.uncalibrated.includes(record.channel)) throw badRequest('params.reference', `no lidar constant for ${record.channel} in the 6 h before this scan: give params.reference.lidar_constant`);
      const err = out.channelErrors.find((c) => c.channel === record.channel);
      throw badRequest('params', `channel ${record.channel} failed: ${err ? err.error.message : 'not retrieved with these parameters'}`);
    }
    const json = profileJson(p, { id, json: canonicalParams(params), name: 'preview', createdMs: Date.now() }, station);
    const body = JSON.stringify({ ...json, preview: true, stored_params_id: record.paramsId, constants });
    return sendJsonText(reply.header('cache-control', 'no-store'), body);
  });
}
