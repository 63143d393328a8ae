/**
 * The HTTP API: `createApi(ctx)` builds the Fastify 5 server over what the service hands it
 * (api/context.ts) and returns it ready but not listening (`lidar-pm serve` calls listen()).
 *
 * Layout: security headers + CORS, the OpenAPI document, the error and not-found handlers and the
 * request metrics apply everywhere; /healthz, /readyz, /metrics at the root (never rate-limited);
 * every public and write route under /api/v1 with the per-IP rate limit; Swagger UI at /docs; the
 * dashboard (or a placeholder page) at /.
 */
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from './context.js';
import { createAuthenticator, type Scope } from './auth.js';
import { ResponseCache } from './cache.js';
import { ChannelDirectory } from './channels.js';
import { HttpError, errorResponse, type ErrorBody } from './errors.js';
import { JobRunner } from './jobs.js';
import { HttpMetrics, startLoopMonitor } from './metrics.js';
import { EventHub } from './sse.js';
import type { ApiState, App, Log } from './state.js';
import { registerSecurity } from './plugins/security.js';
import { registerDocsUi, registerOpenApi } from './plugins/docs.js';
import { isDashboardRoute, registerDashboard } from './plugins/dashboard.js';
import { stationRoutes } from './routes/stations.js';
import { mapRoutes } from './routes/maps.js';
import { profileRoutes } from './routes/profiles.js';
import { seriesRoutes } from './routes/series.js';
import { paramRoutes } from './routes/params.js';
import { jobRoutes } from './routes/jobs.js';
import { calibrationRoutes } from './routes/calibration.js';
import { aqRoutes } from './routes/aq.js';
import { eventRoutes } from './routes/events.js';
import { operationRoutes } from './routes/operations.js';

export const API_PREFIX = '/api/v1';

const defaultLog: Log = (level, message) => {
  const line = `${new Date().toISOString()} ${level.toUpperCase()} api: ${message}\n`;
  (level === 'info' ? process.stdout : process.stderr).write(line);
};

export interface ApiHandle {
  /** The state behind the routes (tests and the service read the caches and the job runner). */
  state: ApiState;
}

export interface ApiOptions {
  /** Heartbeat period of the event stream (default 15 s). */
  sseHeartbeatMs?: number;
  /** Server-side lifetime of cached "latest" responses (default 10 s; new data invalidates them earlier). */
  cacheTtlMs?: number;
  /** How long a /readyz answer is reused (default 1 s: probes cannot flood the store). */
  readyCacheMs?: number;
}

/** Builds the server (not listening). Throws LIDAR_ERR_BAD_VALUE for bad settings (tokens). */
export async function createApi(ctx: ApiContext, options: ApiOptions = {}): Promise<FastifyInstance & ApiHandle> {
  const log: Log = ctx.log ?? defaultLog;
  const authenticate = createAuthenticator(ctx.settings.tokens);
  const base = Fastify({
    logger: false,
    bodyLimit: ctx.settings.bodyLimitBytes,
    trustProxy: ctx.settings.trustProxy,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    ajv: { customOptions: { removeAdditional: false, allowUnionTypes: true } },
    // The router's own rejections (a path parameter over maxParamLength, a path that is not valid
    // percent-encoded UTF-8) as coded errors too, without echoing the URL.
    frameworkErrors: (err, _req, reply) => {
      const long = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
      const body: ErrorBody = { error: { code: 'LIDAR_ERR_BAD_VALUE', message: long ? 'a path parameter is longer than 200 characters' : 'the URL path is not valid percent-encoded UTF-8', field: 'path' } };
      void (reply as FastifyReply).code(long ? 414 : 400).header('cache-control', 'no-store').send(body);
    },
  });
  const app = base.withTypeProvider<TypeBoxTypeProvider>() as App;

  const cache = new ResponseCache(options.cacheTtlMs ?? 10_000, 512);
  const channels = new ChannelDirectory(ctx);
  const jobs = new JobRunner(ctx);
  // Invalidate before the event hub announces the new data, so a client reacting to the event reads it.
  const onStored = (e: { station?: unknown; ids?: unknown } | undefined) => {
    channels.learn(e?.ids);
    if (typeof e?.station === 'string') cache.invalidateStation(e.station);
  };
  ctx.events.on('stored', onStored);
  const hub = new EventHub([
    { emitter: ctx.events, events: ['stored', 'status', 'quarantined'] },
    { emitter: jobs, events: ['job'] },
  ], options.sseHeartbeatMs);
  const http = new HttpMetrics();
  startLoopMonitor();
  const state: ApiState = {
    ctx,
    cache,
    channels,
    jobs,
    hub,
    http,
    log,
    requireScope: (scope: Scope) =>
      async function requireToken(req) {
        authenticate(req.headers.authorization, scope);
      },
    invalidate: (station) => cache.invalidateStation(station),
  };
  jobs.onWrite = state.invalidate;

  app.setErrorHandler((err, _req, reply) => {
    const r = errorResponse(err, (m) => log('error', m));
    for (const [k, v] of Object.entries(r.headers)) reply.header(k, v);
    return reply.code(r.status).header('cache-control', 'no-store').send(r.body);
  });

  app.addHook('onResponse', async (req, reply) => {
    http.observe(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });
  app.addHook('preClose', async () => {
    ctx.events.off('stored', onStored);
    hub.close(); // ends the event streams, or the server would wait for them
    await jobs.close();
  });

  await registerSecurity(app, ctx.settings);
  await registerOpenApi(app);

  await app.register(async (ops) => operationRoutes(ops as App, state, options.readyCacheMs ?? 1000));
  await app.register(
    async (api) => {
      await api.register(rateLimit, {
        global: true,
        max: ctx.settings.rateLimitPerMinute,
        timeWindow: 60_000,
        errorResponseBuilder: (_req, c) =>
          new HttpError(429, 'LIDAR_ERR_USAGE', `rate limit of ${c.max} requests per minute exceeded; retry in ${c.after}`, undefined, { 'retry-after': String(Math.max(1, Math.ceil(c.ttl / 1000))) }),
      });
      const a = api as App;
      stationRoutes(a, state);
      mapRoutes(a, state);
      seriesRoutes(a, state);
      profileRoutes(a, state);
      paramRoutes(a, state);
      jobRoutes(a, state);
      calibrationRoutes(a, state);
      aqRoutes(a, state);
      eventRoutes(a, state);
    },
    { prefix: API_PREFIX },
  );
  await registerDocsUi(app);
  const dashboardIndex = await registerDashboard(app, ctx.settings.dashboardDir);

  app.setNotFoundHandler((req, reply) => {
    if (dashboardIndex && isDashboardRoute(req)) return dashboardIndex(req, reply);
    const path = req.url.split('?')[0].slice(0, 200);
    return reply.code(404).header('cache-control', 'no-store').send({ error: { code: 'LIDAR_ERR_NOT_FOUND', message: `no route ${req.method} ${path}`, field: 'path' } });
  });

  await app.ready();
  return Object.assign(app, { state }) as unknown as FastifyInstance & ApiHandle;
}
