/** GET /events: server-sent events (api/sse.ts). */
import { Type } from 'typebox';
import type { ApiState, App } from '../state.js';
import { unavailable } from '../errors.js';
import { stationOf } from '../query.js';
import { PUBLIC_ERRORS, StationId, errors } from '../schemas/common.js';
import { MAX_CLIENTS } from '../sse.js';

export function eventRoutes(api: App, state: ApiState): void {
  api.get('/events', {
    exposeHeadRoute: false,
    schema: {
      tags: ['live'],
      summary: 'Live updates (Server-Sent Events)',
      description:
        'A text/event-stream: `stored` when a Licel file\'s profiles are stored (a new vertical profile or scan step; data {station, file, time, channels, uncalibrated, ids, cells}), `status` per station status record, `quarantined` {station, code}, `job` (reprocessing progress, the job object), `params` {station, params_id}. A comment line every 15 s keeps the connection open; clients reconnect after 5 s (retry). `station` limits the stream to one station. At most 1000 clients.',
      querystring: Type.Object({ station: Type.Optional(StationId) }, { additionalProperties: false }),
      response: { 200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: Type.String() } } }, ...errors(404, ...PUBLIC_ERRORS) },
    },
  }, async (req, reply) => {
    if (req.query.station !== undefined) stationOf(state.ctx, req.query.station);
    if (state.hub.size >= MAX_CLIENTS) throw unavailable(`too many event-stream clients (${MAX_CLIENTS}); try again later`);
    reply.hijack();
    const headers = reply.getHeaders() as Record<string, string | number | string[]>;
    state.hub.attach(reply.raw, headers, req.query.station ?? null);
  });
}
