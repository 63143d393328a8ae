/**
 * The dashboard at /: the built files of ctx.settings.dashboardDir (@fastify/static; hashed assets
 * under /assets/ cached for a year, index.html never cached; unknown non-API GET paths answer
 * index.html so client-side routes work), or, when no dashboard is built, a small page saying so
 * with links to the API docs.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../state.js';

const PLACEHOLDER = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>lidar-pm</title></head>
<body>
<h1>lidar-pm</h1>
<p>The dashboard is not built (build it with <code>node dashboard/scripts/ensure-built.mjs</code> (npm start does) or set its folder in the configuration (<code>http.dashboard_dir</code>)).</p>
<ul>
<li><a href="/docs">API documentation (OpenAPI / Swagger UI)</a></li>
<li><a href="/api/v1/stations">Stations</a></li>
<li><a href="/healthz">Liveness</a>, <a href="/readyz">readiness</a>, <a href="/metrics">metrics</a></li>
</ul>
</body>
</html>
`;

/** Whether a not-found GET should get the dashboard's index.html (a client-side route). */
export function isDashboardRoute(req: FastifyRequest): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const path = req.url.split('?')[0];
  if (path.startsWith('/api/') || path === '/api' || path.startsWith('/docs') || /\.[A-Za-z0-9]{1,8}$/.test(path)) return false;
  const accept = req.headers.accept;
  return typeof accept === 'string' && accept.includes('text/html');
}

export async function registerDashboard(app: App, dashboardDir: string | null): Promise<((req: FastifyRequest, reply: FastifyReply) => FastifyReply) | null> {
  if (dashboardDir && existsSync(join(dashboardDir, 'index.html'))) {
    const root = resolve(dashboardDir);
    await app.register(fastifyStatic, {
      root,
      prefix: '/',
      index: ['index.html'],
      wildcard: true,
      dotfiles: 'deny',
      // The build writes .br and .gz copies (dashboard/vite.config.ts): send them to clients that accept them.
      preCompressed: true,
      setHeaders(reply, path) {
        if (path.endsWith('index.html')) reply.header('cache-control', 'no-cache');
        else if (path.includes(`${join(root, 'assets')}`)) reply.header('cache-control', 'public, max-age=31536000, immutable');
        else reply.header('cache-control', 'public, max-age=300');
      },
    });
    return (_req, reply) => reply.header('cache-control', 'no-cache').sendFile('index.html', root);
  }
  app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-cache').send(PLACEHOLDER));
  return null;
}
