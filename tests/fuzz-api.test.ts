// Bad input for the HTTP API (issue 8): every route, enumerated from the running server (its route
// tree and its OpenAPI document, not a hand-written list), is called with random path parameters,
// query strings (random and repeated keys, unicode, huge values, NaN/Infinity/negative/exponent
// numbers, malformed and out-of-range dates) and, for write routes, random bodies (JSON that fits the
// schema's shape with bad values, arbitrary JSON, non-JSON, wrong content types), through
// app.inject with a valid admin token. Checked for every answer: never a 5xx; every error is a
// coded JSON body `{error: {code, message, field}}` without internals; a 400 names the field at
// fault; each request answers (a request that does not answer within REQUEST_DEADLINE_MS fails the
// run as a hang). The server-sent events route is fuzzed over a real socket (a good request
// streams for ever). Seeded: a failure prints the seed and the counterexample.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { createApi } from '../api/server.js';
import { buildApiFixture, WINTER_FILES, type ApiFixture } from './api-fixture.js';
import { enumerateRoutes, fillPath, isWriteMethod, pathParamNames, pct, type RouteInfo } from './fuzz-routes.js';

const SEED = 0x5eed_0008;
/** Runs per route (reads) and per write route; modest so the file stays well under a minute. */
const RUNS_READ = 100;
const RUNS_WRITE = 150;
/** A request not answered by then is a hang (generous: a loaded 2-core CI machine). */
const REQUEST_DEADLINE_MS = 20_000;

let f: ApiFixture;
let app: FastifyInstance;
let routes: RouteInfo[];
/** Valid values of path parameters by name, so that some requests get past the path check. */
let validPath: Record<string, string[]>;

beforeAll(async () => {
  f = await buildApiFixture({ files: WINTER_FILES.slice(0, 30) });
  app = await createApi(f.ctx);
  routes = await enumerateRoutes(app);
  const metas = await f.store.backend.profiles({ station: 'sofia', fromMs: 0, toMs: Date.UTC(2100, 0, 1) });
  validPath = {
    station: ['sofia'],
    id: [metas[0]?.id, metas.at(-1)?.id, f.ctx.activeParams.sofia.paramsId, 'job-000000000000'].filter((x): x is string => typeof x === 'string'),
  };
}, 120_000);
afterAll(async () => {
  await app?.close();
  await f?.close();
});

type Res = { statusCode: number; body: string; headers: Record<string, unknown> };

async function inject(opts: InjectOptions): Promise<Res> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return (await Promise.race([
      app.inject(opts),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${REQUEST_DEADLINE_MS} ms: ${opts.method} ${opts.url}`)), REQUEST_DEADLINE_MS))),
    ])) as Res;
  } finally {
    clearTimeout(timer);
  }
}

/** The checks every answer must pass. */
function checkAnswer(r: Res, what: string): void {
  expect(r.statusCode, `${what} -> ${r.statusCode} ${r.body.slice(0, 300)}`).toBeLessThan(500);
  if (r.statusCode < 400) return;
  let body: { error?: { code?: unknown; message?: unknown; field?: unknown } };
  try {
    body = JSON.parse(r.body);
  } catch {
    throw new Error(`${what} -> ${r.statusCode} with a body that is not JSON: ${r.body.slice(0, 200)}`);
  }
  expect(String(body.error?.code), what).toMatch(/^LIDAR_ERR_[A-Z_]+$/);
  expect(typeof body.error?.message, what).toBe('string');
  expect((body.error?.message as string).length, what).toBeGreaterThan(0);
  // No internals: stack frames, source files, temp paths, module folders.
  expect(r.body, what).not.toMatch(/\bat .+\(.+:\d+:\d+\)|node_modules|\.ts:\d+|\/tmp\/|lidar-api-/);
  if (r.statusCode === 400) {
    expect(typeof body.error?.field, `${what}: a 400 names the field: ${r.body}`).toBe('string');
    expect((body.error?.field as string).length, `${what}: empty field: ${r.body}`).toBeGreaterThan(0);
  }
}

// ---------- generators ----------

const NUMBERISH = ['NaN', 'Infinity', '-Infinity', '-1', '0', '-0', '1e3', '1e309', '-1e309', '1.5', '0x10', '1_000', ' 1', '', '+5', '9007199254740993', '1e-400', '00012'];
const DATEISH = [
  '2018-01-19T16:00:00Z', '2018-01-19', '2018-02-30T00:00:00Z', '2018-01-19T25:00:00Z', '2018-13-01', '9999-12-31T23:59:59Z', '+275760-09-13T00:00:00Z',
  '-271821-04-20T00:00:00Z', '1516377600000', '-1516377600000', '99999999999999999999', '1e13', 'yesterday', 'now', '0', 'T', '2018-01-19T16:00:00+25:00',
  '2018-01-19 16:00', '2018-01-19T16:00:00.123456789Z', '1970-01-01T00:00:00Z', '2100-01-01T00:00:00Z',
];
const HOSTILE = ['%', '%FF', '%E0%A4%A', '%ED%A0%80', "x' ; DROP DATABASE lidar; --", '"\n', '../../etc/passwd', '%00', '\u0000', '<script>alert(1)</script>', '{"$gt":""}', 'sofia\r\nX-Injected: 1', '\uD800', 'ü中🙂', '*', '/'];

const textArb = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 2, arbitrary: fc.constantFrom(...NUMBERISH) },
  { weight: 2, arbitrary: fc.constantFrom(...DATEISH) },
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 20_000 }).map((n) => 'x'.repeat(n)) },
);

/** Values a query parameter's schema suggests (enum members, bounds and just outside them), or text. */
function valueArb(schema: Record<string, unknown> | undefined, validStation: boolean): fc.Arbitrary<string> {
  const suggestions: string[] = [];
  if (Array.isArray(schema?.enum)) suggestions.push(...(schema.enum as unknown[]).map(String), String((schema.enum as unknown[])[0]).toUpperCase());
  for (const k of ['minimum', 'maximum', 'minLength', 'maxLength']) {
    const v = schema?.[k];
    if (typeof v === 'number') suggestions.push(String(v), String(v - 1), String(v + 1), String(v * 10));
  }
  if (validStation) suggestions.push('sofia', 'BG0079A', 'cell:5:5', 'district:05', 'station', 'point:42.69,23.32', 'aq:BG0079A', '532o-glued');
  return suggestions.length > 0 ? fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...suggestions) }, { weight: 3, arbitrary: textArb }) : textArb;
}

function queryArb(route: RouteInfo): fc.Arbitrary<Array<[string, string]>> {
  const params = (route.op?.parameters ?? []).filter((p) => p.in === 'query');
  const known = params.map((p) => p.name);
  const keyArb = known.length > 0 ? fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...known) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) }) : fc.string({ maxLength: 8 });
  const pairArb = keyArb.chain((k) => valueArb(params.find((p) => p.name === k)?.schema, true).map((v) => [k, v] as [string, string]));
  // Repeated keys come from drawing the same key twice.
  return fc.array(pairArb, { maxLength: 6 });
}

/** Known-good values of a route's path parameter (those matching its schema pattern). */
function validFor(route: RouteInfo, name: string): string[] {
  const pattern = route.op?.parameters?.find((p) => p.in === 'path' && p.name === name)?.schema?.pattern;
  const good = (validPath[name] ?? []).filter((v) => typeof pattern !== 'string' || new RegExp(pattern).test(v));
  return good.length > 0 ? good : ['x'];
}

function pathArb(route: RouteInfo): fc.Arbitrary<{ values: Record<string, string>; raw: boolean }> {
  const names = pathParamNames(route.path);
  const one = (name: string) => fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...validFor(route, name)) }, { weight: 3, arbitrary: textArb });
  return fc.record({ values: fc.tuple(...names.map(one)).map((vs) => Object.fromEntries(names.map((n, i) => [n, vs[i]]))), raw: fc.boolean() });
}

/** Suffixes for wildcard routes: traversal attempts, encoded and not, and random text. */
const suffixArb = fc.oneof(
  fc.constantFrom('../../../../etc/passwd', '..%2F..%2F..%2F..%2Fetc%2Fpasswd', '%2e%2e/%2e%2e/%2e%2e/etc/passwd', '....//....//etc/passwd', 'index.html', 'swagger-ui.css', '%00', '%', 'a'.repeat(300), ''),
  textArb.map((t) => pct(t)),
);

function queryString(pairs: Array<[string, string]>, raw: boolean): string {
  if (pairs.length === 0) return '';
  // Raw: only what would break the URL itself is encoded; stray '%' and invalid escapes reach the query parser as is.
  const enc = raw ? (s: string) => s.replace(/[#&=?]|[^\x21-\x7e]/gu, (c) => pct(c)) : pct;
  return '?' + pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
}

/** A JSON-ish value for a body field: right types with bad values, wrong types, nesting. */
const fieldValueArb: fc.Arbitrary<unknown> = fc.oneof(
  textArb,
  fc.constantFrom(...DATEISH),
  fc.double(),
  fc.integer(),
  fc.constantFrom(1e308, -1e308, 0, -1, 2 ** 53 + 1, 1e-320),
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 3 }),
  fc.array(fc.record({ time: fc.constantFrom(...DATEISH), pm10: fc.oneof(fc.double(), fc.constant(null), textArb), pm25: fc.option(fc.double()), rh: fc.option(fc.double()) }, { requiredKeys: [] }), { maxLength: 5 }),
  fc.dictionary(fc.oneof(fc.constantFrom('monte_carlo', 'reference', 'window_m', 'lidar_ratio_sr', 'height_min_m', '__proto__', 'constructor'), fc.string({ maxLength: 8 })), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
);

interface BodyCase {
  payload: string | undefined;
  contentType: string | undefined;
}

function bodyArb(route: RouteInfo): fc.Arbitrary<BodyCase> {
  const schema = route.op?.requestBody?.content?.['application/json']?.schema as { properties?: Record<string, unknown> } | undefined;
  const keys = Object.keys(schema?.properties ?? {});
  const shaped = fc
    .tuple(fc.subarray(keys), fc.array(fc.tuple(fc.constantFrom(...keys, 'extra', '__proto__'), fieldValueArb), { maxLength: 3 }), fc.array(fieldValueArb, { minLength: keys.length, maxLength: keys.length }))
    .map(([present, extra, vals]) => {
      const o: Record<string, unknown> = {};
      present.forEach((k) => (o[k] = vals[keys.indexOf(k)]));
      for (const [k, v] of extra) o[k] = v;
      return JSON.stringify(o);
    });
  const json = 'application/json';
  return fc.oneof(
    { weight: keys.length > 0 ? 6 : 0, arbitrary: shaped.map((p) => ({ payload: p, contentType: json })) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => ({ payload: JSON.stringify(v), contentType: json })) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((s) => ({ payload: s, contentType: json })) },
    { weight: 1, arbitrary: fc.constantFrom('{', '{"params": {', '[]', 'null', '""', '{"a":1}{"b":2}', '\uFEFF{}', '{"params":{}}'.repeat(3)).map((s) => ({ payload: s, contentType: json })) },
    { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'application/xml', 'application/json-seq', '').chain((ct) => fc.string({ maxLength: 50 }).map((s) => ({ payload: s, contentType: ct }))) },
    { weight: 1, arbitrary: fc.constant({ payload: undefined, contentType: undefined }) },
    { weight: 1, arbitrary: fc.constant({ payload: '', contentType: json }) },
  );
}

// ---------- the properties ----------

/** Routes fuzzed through inject: everything but HEAD/OPTIONS duplicates and the event stream. */
const fuzzable = (r: RouteInfo) => (r.method === 'GET' || isWriteMethod(r.method)) && !/\/events$/.test(r.path);

describe('every API route under random input', () => {
  it('enumerates the routes from the server: reads, writes, operations, docs', () => {
    const keys = routes.map((r) => `${r.method} ${r.path}`);
    expect(keys).toContain('GET /api/v1/stations/:station/map');
    expect(keys).toContain('POST /api/v1/param-sets');
    expect(keys).toContain('GET /healthz');
    expect(routes.filter(fuzzable).length).toBeGreaterThanOrEqual(25);
  });

  it('read routes: random path parameters and query strings -> 2xx/3xx/4xx, coded errors naming the field', async () => {
    let requests = 0;
    const statuses = new Map<number, number>();
    for (const route of routes.filter((r) => fuzzable(r) && !isWriteMethod(r.method))) {
      await fc.assert(
        fc.asyncProperty(pathArb(route), queryArb(route), fc.boolean(), suffixArb, async (p, q, rawQuery, suffix) => {
          // Wildcard routes (docs assets, the dashboard) get random suffixes.
          const path = route.path.endsWith('*') ? route.path.slice(0, -1) + suffix : fillPath(route.path, p.values, p.raw && !/[/?#%\s]|[^\x21-\x7e]/.test(Object.values(p.values).join('')));
          const url = path + queryString(q, rawQuery);
          const r = await inject({ method: 'GET', url });
          requests++;
          statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1);
          checkAnswer(r, `GET ${url.slice(0, 300)}`);
          expect(r.body).not.toMatch(/root:x:0:0/);
        }),
        { seed: SEED, numRuns: RUNS_READ, endOnFailure: true },
      );
    }
    // The generators reach both sides: accepted requests and rejected ones.
    expect(requests).toBeGreaterThan(500);
    expect([...statuses.keys()].some((s) => s === 200)).toBe(true);
    expect([...statuses.keys()].some((s) => s === 400)).toBe(true);
    if (process.env.FUZZ_API_VERBOSE) console.log(requests, Object.fromEntries(statuses));
  }, 180_000);

  it('write routes (valid token): random bodies, content types and path parameters -> never a 5xx, coded errors', async () => {
    const statuses = new Map<number, number>();
    for (const route of routes.filter((r) => fuzzable(r) && isWriteMethod(r.method))) {
      await fc.assert(
        fc.asyncProperty(pathArb(route), bodyArb(route), queryArb(route), async (p, b, q) => {
          const url = fillPath(route.path, p.values) + queryString(q, false);
          const headers: Record<string, string> = { authorization: `Bearer ${f.token}` };
          if (b.contentType !== undefined) headers['content-type'] = b.contentType;
          const r = await inject({ method: route.method as InjectOptions['method'], url, payload: b.payload, headers });
          statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1);
          checkAnswer(r, `${route.method} ${url.slice(0, 200)} ${b.contentType} ${String(b.payload).slice(0, 200)}`);
        }),
        { seed: SEED, numRuns: RUNS_WRITE, endOnFailure: true },
      );
    }
    expect([...statuses.keys()].some((s) => s === 400)).toBe(true);
    expect([...statuses.keys()].some((s) => s === 415)).toBe(true);
    if (process.env.FUZZ_API_VERBOSE) console.log(Object.fromEntries(statuses));
    // Cancel what the fuzzing may have started, so the fixture closes promptly.
    for (const j of f.ctx.store ? ((JSON.parse((await inject({ method: 'GET', url: '/api/v1/jobs' })).body).jobs ?? []) as Array<{ id: string; state: string }>) : []) {
      if (j.state === 'queued' || j.state === 'running') await inject({ method: 'DELETE', url: `/api/v1/jobs/${j.id}`, headers: { authorization: `Bearer ${f.token}` } });
    }
  }, 180_000);

  it('a body-only check: every write route answers a 400 naming a body field for a well-formed JSON object with wrong types', async () => {
    for (const route of routes.filter((r) => isWriteMethod(r.method) && r.op?.requestBody)) {
      const schema = route.op!.requestBody!.content!['application/json']!.schema as { properties?: Record<string, unknown> };
      const key = Object.keys(schema.properties ?? {})[0];
      const url = fillPath(route.path, Object.fromEntries(pathParamNames(route.path).map((n) => [n, validFor(route, n)[0]])));
      const r = await inject({ method: route.method as InjectOptions['method'], url, payload: { [key]: [[1, { a: NaN }]] }, headers: { authorization: `Bearer ${f.token}` } });
      checkAnswer(r, `${route.method} ${url}`);
      expect(r.statusCode, `${route.method} ${url}: ${r.body}`).toBe(400);
      const field = String(JSON.parse(r.body).error.field);
      expect([...Object.keys(schema.properties ?? {}), 'body'].some((k) => field === k || field.startsWith(`${k}.`) || field.startsWith(`${k}[`)), r.body).toBe(true);
    }
  });

  it('the event stream (real socket): random station filters -> 200 text/event-stream or a coded 400', async () => {
    const events = routes.find((r) => /\/events$/.test(r.path) && r.method === 'GET');
    expect(events).toBeDefined();
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address() as { port: number };
    const base = `http://127.0.0.1:${addr.port}`;
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(queryArb(events!), async (q) => {
        const ac = new AbortController();
        const timer = setTimeout(() => ac.abort(), REQUEST_DEADLINE_MS);
        try {
          const res = await fetch(base + events!.path + queryString(q, false), { signal: ac.signal });
          statuses.add(res.status);
          // 431: Node's own HTTP parser refused a request line over its 16 KiB header limit, before the app.
          if (res.status === 431) return;
          if (res.status === 200) {
            expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
          } else {
            const body = await res.text();
            checkAnswer({ statusCode: res.status, body, headers: {} }, `GET events ${JSON.stringify(q)}`);
          }
        } finally {
          clearTimeout(timer);
          ac.abort();
        }
      }),
      { seed: SEED, numRuns: 40, endOnFailure: true },
    );
    expect(statuses.has(400)).toBe(true);
  }, 120_000);
});
