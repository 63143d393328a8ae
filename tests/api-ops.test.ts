// Operations and security of the API: /healthz, /readyz (503 naming what is down), /metrics as valid
// Prometheus text, the OpenAPI document (structure, every route, security of write routes), Swagger
// UI under the strict CSP, security headers, CORS, rate limits (429 on public routes, operations
// exempt), the dashboard's static serving, and coded errors without internals when the store fails.
import { brotliCompressSync, brotliDecompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createApi } from '../api/server.js';
import { buildApiFixture, type ApiFixture } from './api-fixture.js';

let f: ApiFixture;
let app: FastifyInstance;
beforeAll(async () => {
  f = await buildApiFixture({ files: undefined });
  app = await createApi(f.ctx, { readyCacheMs: 0 });
});
afterAll(async () => {
  await app?.close();
  await f?.close();
});

const get = (a: FastifyInstance, url: string, headers: Record<string, string> = {}) => a.inject({ method: 'GET', url, headers });

describe('health, readiness, metrics', () => {
  it('/healthz answers 200 while the process runs', async () => {
    const r = await get(app, '/healthz');
    expect(r.statusCode).toBe(200);
    expect(JSON.parse(r.body).status).toBe('alive');
  });

  it('/readyz: 200 when the store answers and the sources are connected, 503 naming a disconnected source', async () => {
    const ok = await get(app, '/readyz');
    expect(ok.statusCode).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ ready: true, store: { kind: 'embedded', reachable: true, query_ok: true }, problems: [] });
    f.source.connected = false;
    try {
      const down = await get(app, '/readyz');
      expect(down.statusCode).toBe(503);
      const b = JSON.parse(down.body);
      expect(b.ready).toBe(false);
      expect(b.problems).toEqual(['source test-feed not connected']);
    } finally {
      f.source.connected = true;
    }
  });

  it('/metrics is valid Prometheus text with pipeline, queue, store, HTTP and SSE metrics', async () => {
    await get(app, '/api/v1/stations');
    await get(app, '/api/v1/stations/sofia/map');
    await get(app, '/api/v1/stations/nowhere/map');
    const r = await get(app, '/metrics');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const samples = parsePrometheus(r.body);
    const value = (name: string, labels: Record<string, string> = {}) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(value('lidar_pm_pipeline_processed_total', { station: 'sofia' })).toBe(f.pipeline.health().sofia.processed);
    expect(value('lidar_pm_pipeline_quarantined_total', { station: 'sofia' })).toBe(0);
    expect(value('lidar_pm_ingest_lag_seconds', { station: 'sofia' })).toBe(f.pipeline.health().sofia.lastLagMs / 1000);
    expect(value('lidar_pm_queue_depth', { queue: 'pipeline_queued' })).toBe(0);
    expect(value('lidar_pm_store_reachable', { kind: 'embedded' })).toBe(1);
    expect(value('lidar_pm_store_write_errors_total')).toBe(0);
    expect(value('lidar_pm_source_connected', { source: 'test-feed' })).toBe(1);
    expect(value('lidar_pm_sse_clients')).toBe(0);
    expect(value('lidar_pm_http_requests_total', { route: '/api/v1/stations/:station/map', status: '200' })).toBe(1);
    expect(value('lidar_pm_http_requests_total', { route: '/api/v1/stations/:station/map', status: '404' })).toBe(1);
    expect(value('lidar_pm_http_request_duration_seconds_count', { route: '/api/v1/stations', method: 'GET' })).toBe(1);
  });
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict reader of the text exposition format 0.0.4: throws on any malformed line. */
function parsePrometheus(text: string): Sample[] {
  expect(text.endsWith('\n')).toBe(true);
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const sampleRe = new RegExp(`^(${NAME})(?:\\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*",?)*)\\})? (-?(?:[0-9.e+-]+|NaN|\\+Inf|-Inf))$`);
  for (const line of text.slice(0, -1).split('\n')) {
    if (line.startsWith('# HELP ')) {
      expect(line).toMatch(new RegExp(`^# HELP ${NAME} .+$`));
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const m = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line);
      expect(m, line).not.toBeNull();
      expect(types.has(m![1]), `duplicate TYPE ${m![1]}`).toBe(false);
      types.set(m![1], m![2]);
      continue;
    }
    const m = sampleRe.exec(line);
    expect(m, `bad sample line: ${line}`).not.toBeNull();
    const labels: Record<string, string> = {};
    for (const lm of (m![2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[lm[1]] = lm[2];
    const family = m![1].replace(/_(bucket|sum|count)$/, '');
    expect(types.has(m![1]) || types.get(family) === 'histogram', `sample ${m![1]} without TYPE`).toBe(true);
    samples.push({ name: m![1], labels, value: Number(m![3].replace('+Inf', 'Infinity')) });
  }
  // Histogram buckets are cumulative and end with +Inf = count.
  const buckets = samples.filter((s) => s.name.endsWith('_bucket'));
  const series = new Map<string, Sample[]>();
  for (const b of buckets) {
    const { le, ...rest } = b.labels;
    const key = `${b.name}${JSON.stringify(rest)}`;
    if (!series.has(key)) series.set(key, []);
    series.get(key)!.push({ ...b, labels: { le } });
  }
  for (const [key, list] of series) {
    for (let i = 1; i < list.length; i++) expect(list[i].value, key).toBeGreaterThanOrEqual(list[i - 1].value);
    expect(list[list.length - 1].labels.le).toBe('+Inf');
  }
  return samples;
}

describe('OpenAPI document and Swagger UI', () => {
  const operations: Array<[string, string]> = [
    ['get', '/api/v1/stations'],
    ['get', '/api/v1/stations/{station}/map'],
    ['get', '/api/v1/stations/{station}/scan'],
    ['get', '/api/v1/stations/{station}/curtain'],
    ['get', '/api/v1/stations/{station}/series'],
    ['get', '/api/v1/stations/{station}/districts'],
    ['get', '/api/v1/stations/{station}/health'],
    ['get', '/api/v1/stations/{station}/status'],
    ['get', '/api/v1/stations/{station}/channels/health'],
    ['get', '/api/v1/aq-stations'],
    ['get', '/api/v1/stations/{station}/profiles'],
    ['get', '/api/v1/profiles/{id}'],
    ['get', '/api/v1/profiles/{id}/raw'],
    ['post', '/api/v1/profiles/{id}/preview'],
    ['get', '/api/v1/param-sets'],
    ['get', '/api/v1/param-sets/{id}'],
    ['post', '/api/v1/param-sets'],
    ['post', '/api/v1/stations/{station}/active-params'],
    ['post', '/api/v1/jobs/reprocess'],
    ['get', '/api/v1/jobs'],
    ['get', '/api/v1/jobs/{id}'],
    ['delete', '/api/v1/jobs/{id}'],
    ['post', '/api/v1/stations/{station}/calibrations'],
    ['put', '/api/v1/aq-stations/{id}/hourly'],
    ['get', '/api/v1/aq-stations/{id}/hourly'],
    ['get', '/api/v1/stations/{station}/aq-stations/{id}/comparison'],
    ['get', '/api/v1/events'],
    ['get', '/healthz'],
    ['get', '/readyz'],
    ['get', '/metrics'],
  ];

  it('/docs/json is an OpenAPI 3.1 document with every route, its parameters, responses and security', async () => {
    const r = await get(app, '/docs/json');
    expect(r.statusCode).toBe(200);
    const doc = JSON.parse(r.body);
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('lidar-pm API');
    expect(typeof doc.info.version).toBe('string');
    expect(doc.components.securitySchemes.bearerAuth).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
    const listed = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
    expect(listed.sort()).toEqual(operations.map(([m, p]) => `${m} ${p}`).sort());
    for (const [method, path] of operations) {
      const op = doc.paths[path][method];
      expect(op.summary, `${method} ${path}`).toBeTruthy();
      expect(Object.keys(op.responses).some((s) => /^2\d\d$/.test(s)), `${method} ${path} 2xx`).toBe(true);
      for (const [status, resp] of Object.entries(op.responses as Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>)) {
        expect(resp.description, `${method} ${path} ${status} description`).toBeTruthy();
        if (resp.content) for (const [type, c] of Object.entries(resp.content)) expect(c.schema, `${method} ${path} ${status} ${type}`).toBeDefined();
      }
      for (const name of path.match(/\{(\w+)\}/g) ?? []) {
        const p = (op.parameters ?? []).find((x: { name: string; in: string }) => `{${x.name}}` === name && x.in === 'path');
        expect(p, `${method} ${path} path parameter ${name}`).toBeDefined();
        expect(p.required).toBe(true);
      }
      for (const p of op.parameters ?? []) {
        expect(['path', 'query', 'header', 'cookie']).toContain(p.in);
        expect(p.schema, `${method} ${path} ${p.name}`).toBeDefined();
      }
      const isWrite = method !== 'get';
      expect(op.security ?? null, `${method} ${path} security`).toEqual(isWrite ? [{ bearerAuth: [] }] : null);
      if (isWrite) {
        expect(op.responses['401']).toBeDefined();
        expect(op.responses['403']).toBeDefined();
      }
      if (path.startsWith('/api/') && method === 'get') expect(op.responses['429'], `${method} ${path} 429`).toBeDefined();
    }
    // Every $ref resolves.
    const refs = [...r.body.matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]);
    for (const ref of refs) {
      expect(ref.startsWith('#/')).toBe(true);
      const target = ref.slice(2).split('/').reduce((o: Record<string, unknown> | undefined, k) => (o ? (o[k] as Record<string, unknown>) : undefined), doc);
      expect(target, ref).toBeDefined();
    }
  });

  it('Swagger UI loads only same-origin scripts and styles under the strict CSP', async () => {
    const r = await get(app, '/docs');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-security-policy']).toBe(EXPECTED_CSP);
    const scripts = [...r.body.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, inline] of scripts) {
      expect(inline.trim()).toBe(''); // no inline script
      const src = /src="([^"]+)"/.exec(attrs)![1];
      expect(src).toMatch(/^(\.\/|\/docs\/)/);
    }
    expect(r.body).not.toMatch(/\sstyle=|<style|https?:\/\//);
    for (const asset of ['/docs/static/swagger-ui-bundle.js', '/docs/static/swagger-ui.css', '/docs/static/swagger-initializer.js']) {
      const a = await get(app, asset);
      expect(a.statusCode, asset).toBe(200);
    }
    const init = (await get(app, '/docs/static/swagger-initializer.js')).body;
    expect(init).toMatch(/resolveUrl\('\.\/json'\)/); // the spec from this server
    expect(init).toMatch(/validatorUrl: null/); // no call to the public validator
    expect(init).not.toMatch(/petstore/);
  });
});

const EXPECTED_CSP =
  "default-src 'self';base-uri 'self';script-src 'self';script-src-attr 'none';style-src 'self';img-src 'self' data: blob:;font-src 'self' data:;connect-src 'self';worker-src 'self' blob:;object-src 'none';frame-ancestors 'none';form-action 'self'";

describe('security headers and CORS', () => {
  it('strict CSP and the other security headers on API responses, errors and the root page', async () => {
    for (const url of ['/api/v1/stations', '/api/v1/stations/nowhere/map', '/', '/healthz']) {
      const r = await get(app, url);
      expect(r.headers['content-security-policy'], url).toBe(EXPECTED_CSP);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(r.headers['referrer-policy']).toBe('no-referrer');
      expect(r.headers['cross-origin-opener-policy']).toBe('same-origin');
      expect(r.headers['x-powered-by']).toBeUndefined();
    }
    const root = await get(app, '/');
    expect(root.body).toMatch(/dashboard is not built/);
    expect(root.body).toMatch(/href="\/docs"/);
    expect(root.body).not.toMatch(/<script|style=/);
  });

  it('CORS only for the configured origins; preflight for write routes', async () => {
    const allowed = await get(app, '/api/v1/stations', { origin: 'https://dashboard.example.org' });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://dashboard.example.org');
    expect(String(allowed.headers['access-control-expose-headers'])).toMatch(/ETag/);
    const other = await get(app, '/api/v1/stations', { origin: 'https://evil.example.com' });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const pre = await app.inject({ method: 'OPTIONS', url: '/api/v1/param-sets', headers: { origin: 'https://dashboard.example.org', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
    expect(pre.statusCode).toBe(204);
    expect(String(pre.headers['access-control-allow-methods'])).toMatch(/POST/);
    expect(String(pre.headers['access-control-allow-headers']).toLowerCase()).toMatch(/authorization/);
  });
});

describe('rate limit', () => {
  it('429 with a coded error and Retry-After beyond the per-minute limit; operations are exempt', async () => {
    const limited = await createApi({ ...f.ctx, settings: { ...f.ctx.settings, rateLimitPerMinute: 3 } });
    try {
      for (let i = 0; i < 3; i++) expect((await get(limited, '/api/v1/stations')).statusCode).toBe(200);
      const r = await get(limited, '/api/v1/stations/sofia/map');
      expect(r.statusCode).toBe(429);
      const b = JSON.parse(r.body);
      expect(b.error.code).toBe('LIDAR_ERR_USAGE');
      expect(b.error.message).toMatch(/rate limit of 3 requests per minute/);
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
      expect(r.headers['x-ratelimit-limit']).toBe('3');
      // Write routes are limited too; health, readiness, metrics and docs are not.
      expect((await limited.inject({ method: 'POST', url: '/api/v1/param-sets', payload: { params: {} }, headers: { authorization: `Bearer ${f.token}` } })).statusCode).toBe(429);
      for (let i = 0; i < 10; i++) {
        for (const url of ['/healthz', '/readyz', '/metrics', '/docs/json']) expect((await get(limited, url)).statusCode, url).toBe(200);
      }
    } finally {
      await limited.close();
    }
  });
});

describe('dashboard', () => {
  it('serves the built dashboard at / with client-side routes, cache headers and the CSP', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lidar-dash-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><html><head><script type="module" src="/assets/app-3f2a.js"></script></head><body><div id="app"></div></body></html>');
    writeFileSync(join(dir, 'assets', 'app-3f2a.js'), 'console.log("lidar-pm");');
    writeFileSync(join(dir, 'assets', 'app-3f2a.js.br'), brotliCompressSync('console.log("lidar-pm");'));
    const dash = await createApi({ ...f.ctx, settings: { ...f.ctx.settings, dashboardDir: dir } });
    try {
      const index = await get(dash, '/', { accept: 'text/html' });
      expect(index.statusCode).toBe(200);
      expect(index.body).toMatch(/<div id="app">/);
      expect(index.headers['cache-control']).toBe('no-cache');
      expect(index.headers['content-security-policy']).toBe(EXPECTED_CSP);
      const js = await get(dash, '/assets/app-3f2a.js');
      expect(js.statusCode).toBe(200);
      expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      // The build's pre-compressed copies go to clients that accept them.
      const br = await dash.inject({ method: 'GET', url: '/assets/app-3f2a.js', headers: { 'accept-encoding': 'br' } });
      expect(br.headers['content-encoding']).toBe('br');
      expect(brotliDecompressSync(br.rawPayload).toString()).toBe('console.log("lidar-pm");');
      const route = await get(dash, '/map/district/05', { accept: 'text/html,application/xhtml+xml' });
      expect(route.statusCode).toBe(200);
      expect(route.body).toBe(index.body);
      const api404 = await get(dash, '/api/v1/nothing', { accept: 'text/html' });
      expect(api404.statusCode).toBe(404);
      expect(JSON.parse(api404.body).error.code).toBe('LIDAR_ERR_NOT_FOUND');
      expect((await get(dash, '/assets/missing.js')).statusCode).toBe(404);
      expect((await get(dash, '/api/v1/stations')).statusCode).toBe(200);
    } finally {
      await dash.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('failures', () => {
  it('a store that fails answers 503 coded errors without internals, and /readyz says so (runs last: closes the store)', async () => {
    await f.store.close();
    const r = await get(app, '/api/v1/stations/sofia/map?at=2018-01-19T17:00:00Z');
    expect(r.statusCode).toBe(503);
    const b = JSON.parse(r.body);
    expect(b.error.code).toBe('LIDAR_ERR_IO');
    expect(b.error.message).toMatch(/unavailable/);
    expect(r.body).not.toMatch(/sqlite|\/tmp\/|\.ts|at \w+ \(/i);
    expect(r.headers['retry-after']).toBe('5');
    const ready = await get(app, '/readyz');
    expect(ready.statusCode).toBe(503);
    expect(JSON.parse(ready.body).problems).toContain('store query failed');
    expect((await get(app, '/healthz')).statusCode).toBe(200);
  });
});
