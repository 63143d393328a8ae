/**
 * Parameter sets: GET /param-sets, GET /param-sets/:id (public), POST /param-sets and
 * POST /stations/:station/active-params (token scope "params").
 */
import { canonicalParams, paramsId } from '../../processing/retrieval/params.js';
import type { ApiState, App } from '../state.js';
import { BEARER } from '../state.js';
import { notFound } from '../errors.js';
import { paramSetJson } from '../profile-json.js';
import { nowOf, stationOf } from '../query.js';
import { PUBLIC_ERRORS, StationParams, WRITE_ERRORS, errors } from '../schemas/common.js';
import { ActiveParams, ActiveParamsBody, ParamSet, ParamSetBody, ParamSetIdParams, ParamSetList } from '../schemas/profiles.js';
import { paramsFromBody } from './profiles.js';

type ParamSetView = { id: string; name: string; created: string; params: unknown };

export function paramRoutes(api: App, state: ApiState): void {
  const { ctx } = state;

  api.get('/param-sets', {
    schema: {
      tags: ['parameters'],
      summary: 'Stored parameter sets and the active set of each station',
      response: { 200: ParamSetList, ...errors(...PUBLIC_ERRORS) },
    },
  }, async () => {
    const sets = await ctx.store.listParamSets();
    return {
      param_sets: sets.sort((a, b) => b.createdMs - a.createdMs).map((p) => paramSetJson(p) as ParamSetView),
      active: Object.fromEntries(Object.keys(ctx.stations).map((s) => [s, ctx.activeParams[s]?.paramsId ?? null])),
    };
  });

  api.get('/param-sets/:id', {
    schema: {
      tags: ['parameters'],
      summary: 'One parameter set',
      params: ParamSetIdParams,
      response: { 200: ParamSet, ...errors(404, ...PUBLIC_ERRORS) },
    },
  }, async (req, reply) => {
    const p = await ctx.store.getParamSet(req.params.id);
    if (!p) throw notFound('id', `unknown parameter set ${req.params.id}`);
    reply.header('cache-control', 'public, max-age=3600, immutable');
    return paramSetJson(p) as ParamSetView;
  });

  api.post('/param-sets', {
    onRequest: state.requireScope('params'),
    schema: {
      tags: ['parameters'],
      summary: 'Store a parameter set',
      description: 'Validates the set (unknown keys and out-of-range values are 400 naming the field, e.g. params.reference.window_m), stores its canonical form under its content id and returns it (201; 200 when that exact set was stored before). Token scope "params".',
      security: BEARER,
      body: ParamSetBody,
      response: { 200: ParamSet, 201: ParamSet, ...errors(...WRITE_ERRORS) },
    },
  }, async (req, reply) => {
    const resolved = paramsFromBody(req.body.params, 'params');
    const id = paramsId(resolved);
    const existing = await ctx.store.getParamSet(id);
    if (existing) return reply.code(200).send(paramSetJson(existing) as ParamSetView);
    const record = { id, json: canonicalParams(resolved), name: req.body.name ?? id, createdMs: nowOf(ctx) };
    await ctx.store.putParamSet(record);
    return reply.code(201).send(paramSetJson(record) as ParamSetView);
  });

  api.post('/stations/:station/active-params', {
    onRequest: state.requireScope('params'),
    schema: {
      tags: ['parameters'],
      summary: 'Make a stored parameter set the active one of a station',
      description: 'Files the station sends from now on are retrieved with it (stored products keep the set that made them; reprocess a window to change those). Announced as an SSE `params` event. Token scope "params".',
      security: BEARER,
      params: StationParams,
      body: ActiveParamsBody,
      response: { 200: ActiveParams, ...errors(404, ...WRITE_ERRORS) },
    },
  }, async (req) => {
    const { station } = req.params;
    stationOf(ctx, station);
    const id = req.body.params_id;
    if (!(await ctx.store.getParamSet(id))) throw notFound('params_id', `unknown parameter set ${id} (POST /param-sets first)`);
    await ctx.activateParams(station, id);
    state.hub.broadcast('params', { station, params_id: id });
    return { station, params_id: id };
  });
}
