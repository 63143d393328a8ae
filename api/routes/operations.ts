/**
 * Operations: GET /healthz (alive), GET /readyz (store and sources), GET /metrics (Prometheus).
 * Not rate-limited, not under /api/v1.
 */
import { Type, type Static } from 'typebox';
import type { ApiState, App } from '../state.js';
import { renderMetrics } from '../metrics.js';

const PROBE_TIMEOUT_MS = 2000;

const Readiness = Type.Object({
  ready: Type.Boolean(),
  store: Type.Object({ kind: Type.String(), reachable: Type.Boolean(), query_ok: Type.Boolean(), spooled_points: Type.Integer() }),
  sources: Type.Array(Type.Object({ name: Type.String(), connected: Type.Boolean() })),
  problems: Type.Array(Type.String()),
});

export function operationRoutes(app: App, state: ApiState, readyCacheMs: number): void {
  const { ctx } = state;
  let ready: { at: number; value: Static<typeof Readiness> } | null = null;

  const probeStore = async (): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        ctx.store.getParamSet('p-0000000000000000'),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('timeout')), PROBE_TIMEOUT_MS);
        }),
      ]);
      return true;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  };

  app.get('/healthz', {
    config: { rateLimit: false },
    schema: { tags: ['operations'], summary: 'Liveness: 200 while the process runs', response: { 200: Type.Object({ status: Type.Literal('alive'), uptime_s: Type.Number() }) } },
  }, async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    return { status: 'alive' as const, uptime_s: process.uptime() };
  });

  app.get('/readyz', {
    config: { rateLimit: false },
    schema: {
      tags: ['operations'],
      summary: 'Readiness: the store answers and every source is connected',
      description: '200 when ready, 503 with the same body naming what is not (store unreachable or its probe query failing, sources disconnected).',
      response: { 200: Readiness, 503: Readiness },
    },
  }, async (_req, reply) => {
    const now = Date.now();
    if (!ready || now - ready.at >= readyCacheMs) {
      const st = ctx.store.status();
      const queryOk = await probeStore();
      const sources = ctx.sources().map((s) => ({ name: s.name, connected: s.connected }));
      const problems: string[] = [];
      if (!st.reachable) problems.push('store unreachable');
      if (!queryOk) problems.push('store query failed');
      for (const s of sources) if (!s.connected) problems.push(`source ${s.name} not connected`);
      ready = { at: now, value: { ready: problems.length === 0, store: { kind: ctx.store.backend.kind, reachable: st.reachable, query_ok: queryOk, spooled_points: st.spooledPoints }, sources, problems } };
    }
    reply.header('cache-control', 'no-store');
    return reply.code(ready.value.ready ? 200 : 503).send(ready.value);
  });

  app.get('/metrics', {
    config: { rateLimit: false },
    schema: {
      tags: ['operations'],
      summary: 'Prometheus metrics (text exposition format 0.0.4)',
      response: { 200: { description: 'Prometheus text', content: { 'text/plain': { schema: Type.String() } } } },
    },
  }, async (_req, reply) => {
    const text = renderMetrics(ctx, state.http, { sseClients: state.hub.size, jobs: state.jobs.counts() });
    return reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8').header('cache-control', 'no-store').send(text);
  });
}
