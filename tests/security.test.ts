// Security of the service (issue 8), over the real API (createApi on a real store filled by the real
// pipeline), a real influxd (tests/harness/influxd.ts) and headless Debian Chromium:
// - every state-changing route, enumerated from the server (a new write route without auth fails
//   here), answers 401 without a token, with a malformed header and with an unknown token (before
//   its body is even parsed), and 403 with a token lacking the route's scope;
// - every body-taking route answers 413 (coded) for a body over the configured limit, also over a
//   real socket;
// - a flood of concurrent requests (autocannon) against a listening server with a low limit: the
//   excess gets 429 with Retry-After, nothing 5xx, /healthz keeps answering during and after;
// - the InfluxQL builder (store/influx/influxql.ts): any string quoted by str()/ident() reads back as
//   exactly that literal under a reference tokenizer of InfluxQL's quoted-string grammar, and a whole
//   query keeps its structure (no unescaped quote, no `;`); against a real influxd, hostile literals
//   and station ids are rejected with 400 at the API or stored and queried literally, and the
//   database is still there afterwards;
// - the Content-Security-Policy blocks inline scripts and inline handlers in a real browser (with a
//   securitypolicyviolation event), and the built dashboard loads without a CSP violation.
// What tests/api-write.test.ts already checks per route by hand (messages, WWW-Authenticate) is not
// repeated beyond what the enumeration needs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { createApi } from '../api/server.js';
import { createInfluxBackend, type InfluxBackend } from '../store/influx/index.js';
import { ident, iql, qualified, str, timeRange } from '../store/influx/influxql.js';
import { isLidarError } from '../processing/errors.js';
import { buildApiFixture, ROOT, sha256Hex, WINTER_FILES, type ApiFixture } from './api-fixture.js';
import { enumerateRoutes, fillPath, isWriteMethod, pathParamNames, plausibleBody, type RouteInfo } from './fuzz-routes.js';
import { startInfluxd, type InfluxdHandle } from './harness/influxd.js';
import { chromiumAvailable, launchChromium, watchPage } from './harness/chromium.js';

const SEED = 0x5eed_0008;
const NO_SCOPE_TOKEN = 'lpm_no-scope-token-for-security-tests';

interface AutocannonResult {
  statusCodeStats: Record<string, { count: number }>;
  errors: number;
  timeouts: number;
  requests: { total: number };
}
const autocannon = createRequire(import.meta.url)('autocannon') as (opts: Record<string, unknown>) => Promise<AutocannonResult>;

let f: ApiFixture;
let app: FastifyInstance;
let routes: RouteInfo[];
let validPath: Record<string, string>;

beforeAll(async () => {
  f = await buildApiFixture({
    files: WINTER_FILES.slice(0, 30),
    settings: { bodyLimitBytes: 16_384 },
  });
  // A third token that is known but holds no scope at all: 403 everywhere.
  f.ctx.settings.tokens = [...f.ctx.settings.tokens, { name: 'no-scope', sha256: sha256Hex(NO_SCOPE_TOKEN), scopes: [] }];
  app = await createApi(f.ctx);
  routes = await enumerateRoutes(app);
  const metas = await f.store.backend.profiles({ station: 'sofia', fromMs: 0, toMs: Date.UTC(2100, 0, 1) });
  validPath = { station: 'sofia', id: metas[0].id };
}, 120_000);
afterAll(async () => {
  await app?.close();
  await f?.close();
});

type Res = { statusCode: number; body: string; headers: Record<string, unknown> };

function expectCoded(r: Res, status: number, field?: string, what = ''): void {
  expect(r.statusCode, `${what}: ${r.body}`).toBe(status);
  const b = JSON.parse(r.body) as { error: { code: string; message: string; field?: string } };
  expect(b.error.code, what).toMatch(/^LIDAR_ERR_/);
  if (field !== undefined) expect(b.error.field, what).toBe(field);
}

/** A route's path with path parameters that pass its schema (so auth is what decides). */
function urlOf(route: RouteInfo): string {
  return fillPath(route.path, Object.fromEntries(pathParamNames(route.path).map((n) => {
    const pattern = route.op?.parameters?.find((p) => p.in === 'path' && p.name === n)?.schema?.pattern;
    const candidates = [validPath[n], 'p-0000000000000000', 'job-000000000000', 'x'].filter((v): v is string => typeof v === 'string');
    return [n, candidates.find((v) => typeof pattern !== 'string' || new RegExp(pattern).test(v)) ?? 'x'];
  })));
}

const writeRoutes = () => routes.filter((r) => isWriteMethod(r.method));

describe('public routes cannot write', () => {
  it('the enumeration finds the write routes and every one is documented with bearer security', () => {
    const writes = writeRoutes();
    expect(writes.length).toBeGreaterThanOrEqual(6);
    for (const r of writes) {
      expect(r.op, `${r.method} ${r.path} is not in the OpenAPI document`).toBeDefined();
      expect(r.op?.security, `${r.method} ${r.path}`).toEqual([{ bearerAuth: [] }]);
    }
    // Only GET/HEAD/OPTIONS routes are left without a token requirement.
    for (const r of routes.filter((x) => !isWriteMethod(x.method))) expect(['GET', 'HEAD', 'OPTIONS']).toContain(r.method);
  });

  it('every write route: 401 without a token, malformed or unknown token (even with a garbage body); 403 without the scope', async () => {
    for (const route of writeRoutes()) {
      const url = urlOf(route);
      const what = `${route.method} ${url}`;
      const method = route.method as InjectOptions['method'];
      const body = plausibleBody(route);
      const cases: Array<[Record<string, string>, number]> = [
        [{}, 401],
        [{ authorization: 'Bearer' }, 401],
        [{ authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` }, 401],
        [{ authorization: `Bearer ${f.token} extra` }, 401],
        [{ authorization: `bearer ${f.token}` }, 401],
        [{ authorization: 'Bearer lpm_wrong-token' }, 401],
        [{ authorization: `Bearer ${f.token.slice(0, -1)}` }, 401],
        [{ authorization: `Bearer ${NO_SCOPE_TOKEN}` }, 403],
      ];
      for (const [headers, status] of cases) {
        const r = await app.inject({ method, url, payload: body as InjectOptions['payload'], headers });
        expectCoded(r, status, 'authorization', `${what} ${JSON.stringify(headers)}`);
        // The token is checked before the body is parsed: a garbage body changes nothing.
        const g = await app.inject({ method, url, payload: '{not json', headers: { ...headers, 'content-type': 'application/json' } });
        expectCoded(g, status, 'authorization', `${what} garbage body ${JSON.stringify(headers)}`);
      }
    }
  });

  it('reads do not change state: every GET route called, parameter sets, active sets and jobs unchanged', async () => {
    const before = JSON.stringify([await f.store.backend.listParamSets(), f.ctx.activeParams, JSON.parse((await app.inject('/api/v1/jobs')).body)]);
    for (const route of routes.filter((r) => r.method === 'GET' && !/\/events$/.test(r.path) && !r.path.includes('*'))) {
      const r = await app.inject({ method: 'GET', url: urlOf(route), headers: { authorization: `Bearer ${f.token}` } });
      expect(r.statusCode, `${route.path}: ${r.body.slice(0, 200)}`).toBeLessThan(500);
    }
    const after = JSON.stringify([await f.store.backend.listParamSets(), f.ctx.activeParams, JSON.parse((await app.inject('/api/v1/jobs')).body)]);
    expect(after).toBe(before);
  });
});

describe('oversized bodies', () => {
  it('every body-taking route answers a coded 413 for a body over the limit (valid token)', async () => {
    const limit = f.ctx.settings.bodyLimitBytes;
    for (const route of writeRoutes()) {
      const url = urlOf(route);
      const big = JSON.stringify({ params: { pad: 'x'.repeat(limit + 10) } });
      const r = await app.inject({ method: route.method as InjectOptions['method'], url, payload: big, headers: { authorization: `Bearer ${f.token}`, 'content-type': 'application/json' } });
      expectCoded(r, 413, 'body', `${route.method} ${url}`);
      // Just under the limit is not a 413 (the limit is the configured one, not something smaller).
      const small = JSON.stringify({ params: { pad: 'x'.repeat(limit - 100) } });
      const s = await app.inject({ method: route.method as InjectOptions['method'], url, payload: small, headers: { authorization: `Bearer ${f.token}`, 'content-type': 'application/json' } });
      expect(s.statusCode, `${route.method} ${url}: ${s.body.slice(0, 200)}`).not.toBe(413);
      expect(s.statusCode).toBeLessThan(500);
    }
  });

  it('over a real socket: a 4 MiB body (declared length and chunked) gets 413 and the server keeps serving', async () => {
    const srv = await createApi(f.ctx);
    try {
      await srv.listen({ host: '127.0.0.1', port: 0 });
      const base = `http://127.0.0.1:${(srv.server.address() as { port: number }).port}`;
      const route = writeRoutes().find((r) => r.method === 'POST')!;
      const payload = JSON.stringify({ params: { pad: 'x'.repeat(4 * 1024 * 1024) } });
      const declared = await fetch(base + urlOf(route), { method: 'POST', body: payload, headers: { authorization: `Bearer ${f.token}`, 'content-type': 'application/json' } });
      expect(declared.status).toBe(413);
      expect(((await declared.json()) as { error: { field: string } }).error.field).toBe('body');
      // Chunked: no content-length, the limit is enforced while reading.
      const chunks = new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < 64; i++) c.enqueue(new TextEncoder().encode(i === 0 ? '{"params":{"pad":"' + 'x'.repeat(65_000) : 'x'.repeat(65_536)));
          c.close();
        },
      });
      const chunked = await fetch(base + urlOf(route), { method: 'POST', body: chunks, duplex: 'half', headers: { authorization: `Bearer ${f.token}`, 'content-type': 'application/json' } } as RequestInit);
      expect(chunked.status).toBe(413);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    } finally {
      await srv.close();
    }
  });
});

describe('rate limiting under a flood', () => {
  it('a real server with a limit of 30/min flooded by 40 connections: the excess is 429 with Retry-After, no 5xx, health answers throughout', async () => {
    const LIMIT = 30;
    const srv = await createApi({ ...f.ctx, settings: { ...f.ctx.settings, rateLimitPerMinute: LIMIT } });
    try {
      await srv.listen({ host: '127.0.0.1', port: 0 });
      const base = `http://127.0.0.1:${(srv.server.address() as { port: number }).port}`;
      let flooding = true;
      const healthDuring: number[] = [];
      const poll = (async () => {
        while (flooding) {
          const ac = new AbortController();
          const t = setTimeout(() => ac.abort(), 30_000);
          try {
            healthDuring.push((await fetch(`${base}/healthz`, { signal: ac.signal })).status);
          } catch {
            healthDuring.push(0);
          } finally {
            clearTimeout(t);
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      const t0 = Date.now();
      const result = await autocannon({
        url: `${base}/api/v1/stations/sofia/map`,
        connections: 40,
        amount: 1200,
        timeout: 30,
        requests: [{ method: 'GET' }],
      });
      const floodMs = Date.now() - t0;
      flooding = false;
      await poll;
      const counts = Object.fromEntries(Object.entries(result.statusCodeStats).map(([k, v]) => [k, v.count]));
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      expect(result.errors + result.timeouts, JSON.stringify(counts)).toBe(0);
      expect(total).toBe(1200);
      expect(Object.keys(counts).filter((s) => Number(s) >= 500), JSON.stringify(counts)).toEqual([]);
      // Exactly the limit got through (one window of 60 s unless the flood itself took longer).
      const windows = Math.ceil(floodMs / 60_000);
      if (windows <= 1) expect(counts['200']).toBe(LIMIT);
      else expect(counts['200']).toBeLessThanOrEqual(LIMIT * windows);
      expect(counts['429']).toBe(total - (counts['200'] ?? 0));
      // Health answered while the API was flooded (operations are not rate-limited).
      expect(healthDuring.length).toBeGreaterThan(0);
      expect(healthDuring.every((s) => s === 200), JSON.stringify(healthDuring)).toBe(true);
      // After the flood: the limit still holds, coded, with Retry-After; the service is healthy.
      const after = await fetch(`${base}/api/v1/stations`);
      expect(after.status).toBe(429);
      const retry = Number(after.headers.get('retry-after'));
      expect(Number.isInteger(retry) && retry >= 1 && retry <= 60, String(retry)).toBe(true);
      const b = (await after.json()) as { error: { code: string; message: string } };
      expect(b.error.code).toBe('LIDAR_ERR_USAGE');
      expect(b.error.message).toMatch(new RegExp(`rate limit of ${LIMIT} requests per minute`));
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      // Write routes share the limit: no way around it with a token.
      const w = await fetch(`${base}/api/v1/param-sets`, { method: 'POST', body: '{"params":{}}', headers: { authorization: `Bearer ${f.token}`, 'content-type': 'application/json' } });
      expect(w.status).toBe(429);
    } finally {
      await srv.close();
    }
  }, 120_000);
});

// ---------- InfluxQL ----------

/**
 * Reference tokenizer of InfluxQL's quoted tokens (influxql scanner ScanString / ScanIdent): from
 * an opening quote, `\\`, `\'`, `\"` and `\n` are escapes, any other backslash sequence, a raw
 * newline or carriage return (the reader turns CR into a newline), a NUL (the scanner's eof rune) or
 * the end of input is an error; the matching quote ends it. influxd 1.x agrees (checked below).
 */
function readQuoted(text: string, at: number): { value: string; end: number } {
  const quote = text[at];
  if (quote !== "'" && quote !== '"') throw new Error(`no quote at ${at}`);
  let value = '';
  for (let i = at + 1; i < text.length; ) {
    const ch = text.codePointAt(i)!;
    const c = String.fromCodePoint(ch);
    if (c === quote) return { value, end: i + 1 };
    if (c === '\n' || c === '\r') throw new Error('raw newline (or carriage return, read as one) in a quoted token');
    if (ch === 0) throw new Error('NUL in a quoted token (the scanner reads it as end of input)');
    if (c === '\\') {
      const next = text[i + 1];
      if (next === 'n') value += '\n';
      else if (next === '\\' || next === "'" || next === '"') value += next;
      else throw new Error(`bad escape \\${next}`);
      i += 2;
      continue;
    }
    value += c;
    i += c.length;
  }
  throw new Error('unterminated quoted token');
}

/** The query with every quoted token replaced by Q (strings) or I (identifiers), and their values. */
function skeleton(text: string): { shape: string; strings: string[]; idents: string[] } {
  let shape = '';
  const strings: string[] = [];
  const idents: string[] = [];
  for (let i = 0; i < text.length; ) {
    if (text[i] === "'" || text[i] === '"') {
      const { value, end } = readQuoted(text, i);
      (text[i] === "'" ? strings : idents).push(value);
      shape += text[i] === "'" ? 'Q' : 'I';
      i = end;
    } else shape += text[i++];
  }
  return { shape, strings, idents };
}

/** Strings rich in what matters to the grammar: quotes, backslashes, newlines, ; -- and unicode. */
const hostileString = fc.oneof(
  fc.string({ unit: fc.constantFrom("'", '"', '\\', '\n', ';', '-', ' ', 'n', 'a', '\r', '\t', 'ü', '🙂', '`', '/'), maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom("x' ; DROP DATABASE lidar; --", '"\n', "\\'", '\\', "'", '"', "'; DROP DATABASE \"lidar\"; --", '\\n', 'a\u0000b'),
);

describe('no InfluxQL built from unchecked input', () => {
  it('str() and ident(): any string reads back as exactly that literal, or is refused with a coded error', () => {
    fc.assert(
      fc.property(hostileString, (s) => {
        for (const [build, quote] of [[str, "'"], [ident, '"']] as const) {
          let text: string;
          try {
            text = build(s).text;
          } catch (e) {
            // Refusing is fine (empty identifier, lone surrogate, NUL), if coded.
            expect(isLidarError(e) && e.code === 'LIDAR_ERR_BAD_VALUE', String(e)).toBe(true);
            continue;
          }
          expect(text[0]).toBe(quote);
          const { value, end } = readQuoted(text, 0);
          expect(end).toBe(text.length);
          expect(value).toBe(s);
        }
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('a whole query keeps its structure whatever the values: no quote escapes its token, no ; outside one', () => {
    fc.assert(
      fc.property(hostileString, hostileString, hostileString, hostileString, fc.integer({ min: 0, max: 2 ** 40 }), fc.nat(1e9), (db, m, tag, value, from, span) => {
        let q: string;
        try {
          q = iql`SELECT * FROM ${qualified(db, 'autogen', m)} WHERE ${ident(tag)} = ${str(value)} AND ${timeRange(from, from + span)}`.text;
        } catch (e) {
          expect(isLidarError(e) && e.code === 'LIDAR_ERR_BAD_VALUE', String(e)).toBe(true);
          return;
        }
        const s = skeleton(q);
        expect(s.shape).toBe(`SELECT * FROM I.I.I WHERE I = Q AND time >= ${from}ms AND time < ${from + span}ms`);
        expect(s.idents).toEqual([db, 'autogen', m, tag]);
        expect(s.strings).toEqual([value]);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });
});

describe('hostile ids against a real influxd', () => {
  let influx: InfluxdHandle;
  let spoolDir: string;
  let backend: InfluxBackend;
  let fi: ApiFixture;
  let ai: FastifyInstance;
  const DB = 'lidar';

  const rawQuery = async (q: string, db: string | null = DB): Promise<{ results: Array<{ error?: string; series?: Array<{ values: unknown[][] }> }>; error?: string }> => {
    const params = new URLSearchParams({ q, epoch: 'ms' });
    if (db) params.set('db', db);
    const r = await fetch(`${influx.url}/query`, { method: 'POST', body: params });
    return (await r.json()) as { results: Array<{ error?: string; series?: Array<{ values: unknown[][] }> }>; error?: string };
  };
  const databases = async () => ((await rawQuery('SHOW DATABASES', null)).results[0]?.series?.[0]?.values ?? []).flat();

  beforeAll(async () => {
    influx = await startInfluxd();
    spoolDir = await mkdtemp(join(tmpdir(), 'lidar-security-spool-'));
    backend = createInfluxBackend({ url: influx.url, database: DB, spoolDir, rawRetention: 'INF', logger: () => undefined }) as InfluxBackend;
    fi = await buildApiFixture({ backend, files: WINTER_FILES.slice(0, 30) });
    ai = await createApi(fi.ctx);
  }, 120_000);
  afterAll(async () => {
    await ai?.close();
    await fi?.close();
    await influx?.stop();
    if (spoolDir) await rm(spoolDir, { recursive: true, force: true });
  });

  it('str() literals, arbitrary ones included, reach influxd as one literal: no parse error, no rows, the database survives', async () => {
    const samples = [...fc.sample(hostileString, { seed: SEED, numRuns: 150 }), "x' ; DROP DATABASE lidar; --", '"\n', "'; DROP DATABASE \"lidar\"; --", 'a\rb', 'a\u0000b'];
    let refused = 0;
    for (const s of samples) {
      let q: string;
      try {
        q = iql`SELECT * FROM ${qualified(DB, 'raw', s)} WHERE ${ident('station')} = ${str(s)} AND ${timeRange(0, 9 * 10 ** 12)}`.text;
      } catch (e) {
        expect(isLidarError(e)).toBe(true);
        // Only what InfluxQL cannot quote is refused: empty identifiers, NUL, CR, lone surrogates.
        expect(s === '' || /[\u0000\r]/.test(s), JSON.stringify(s)).toBe(true);
        refused++;
        continue;
      }
      const r = await rawQuery(q);
      expect(r.error, `${JSON.stringify(s)} -> ${q}`).toBeUndefined();
      expect(r.results[0]?.error, `${JSON.stringify(s)} -> ${q}`).toBeUndefined();
      expect(r.results).toHaveLength(1);
      expect(r.results[0]?.series ?? []).toEqual([]);
    }
    expect(refused).toBeLessThan(samples.length / 2);
    expect(await databases()).toContain(DB);
  }, 60_000);

  it('the API answers hostile station ids, channels, fields and targets with 400/404 (never 5xx) and the database still exists', async () => {
    const hostile = ["x' ; DROP DATABASE lidar; --", '"\n', "sofia'--", 'sofia" OR 1=1', 'sofia\\', 'sofia;DROP'];
    const stationRoutes = routes.filter((r) => r.method === 'GET' && r.path.includes(':station') && !/\/events$/.test(r.path));
    expect(stationRoutes.length).toBeGreaterThanOrEqual(8);
    for (const h of hostile) {
      for (const route of stationRoutes) {
        const r = await ai.inject({ method: 'GET', url: fillPath(route.path, { station: h }) });
        expectCoded(r, 400, 'station', `${route.path} ${JSON.stringify(h)}`);
      }
      for (const url of [
        `/api/v1/stations/sofia/map?channel=${encodeURIComponent(h)}`,
        `/api/v1/stations/sofia/curtain?channel=${encodeURIComponent(h)}`,
        `/api/v1/stations/sofia/health?fields=${encodeURIComponent(h)}`,
        `/api/v1/stations/sofia/series?target=${encodeURIComponent(`district:${h}`)}`,
        `/api/v1/stations/sofia/series?target=${encodeURIComponent(`cell:${h}`)}`,
        `/api/v1/profiles/${encodeURIComponent(`sofia:${h}:1516377600000`)}`,
        `/api/v1/param-sets/${encodeURIComponent(h)}`,
        `/api/v1/aq-stations?station=${encodeURIComponent(h)}`,
      ]) {
        // Rejected (400/404), or queried literally (200 with nothing found): never a 5xx.
        const r = await ai.inject(url);
        expect(r.statusCode, `${url}: ${r.body}`).toBeLessThan(500);
        if (r.statusCode >= 400) expectCoded(r, r.statusCode, undefined, url);
        else expect(r.body, url).not.toMatch(/"value":\s*[0-9]/);
      }
    }
    expect(await databases()).toContain(DB);
    const map = await ai.inject('/api/v1/stations/sofia/map');
    expect(map.statusCode).toBe(200);
  }, 60_000);

  it('a hostile station id is stored and queried back literally through the store; one it cannot hold is a coded 400-class error', async () => {
    const station = "x' ; DROP DATABASE lidar; --";
    const timeMs = Date.UTC(2024, 0, 1);
    const values = { note: `it's "quoted" \\ ; DROP DATABASE lidar; --\nnext line`, t_c: 21.5, ok: true };
    await backend.write({ health: [{ station, timeMs, values }] });
    await backend.flush();
    const back = await backend.health({ station, fromMs: timeMs - 1000, toMs: timeMs + 1000 });
    expect(back).toEqual([{ station, timeMs, values }]);
    // A neighbouring station id sees nothing of it (the literal matched exactly, no OR / wildcard).
    expect(await backend.health({ station: "x' ", fromMs: timeMs - 1000, toMs: timeMs + 1000 })).toEqual([]);
    for (const bad of ['"\n', 'a\u0000b', 'back\\slash', '\uD800']) {
      const e = await backend.health({ station: bad, fromMs: 0, toMs: 1 }).then(() => null, (x: unknown) => x);
      expect(isLidarError(e) && e.code === 'LIDAR_ERR_BAD_VALUE', `${JSON.stringify(bad)}: ${String(e)}`).toBe(true);
    }
    expect(await databases()).toContain(DB);
  });
});

// ---------- CSP in a real browser ----------

describe.skipIf(!chromiumAvailable())('the Content-Security-Policy in headless Chromium', () => {
  let tmp: string;
  let srv: FastifyInstance | null = null;
  let base = '';

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'lidar-csp-'));
    const dir = join(tmp, 'site');
    mkdirSync(join(dir, 'assets'), { recursive: true });
    // A page with an external script (allowed) that records violations, an inline script, an inline
    // event handler and a javascript: URL (all three must be blocked).
    writeFileSync(
      join(dir, 'index.html'),
      [
        '<!doctype html><html><head><meta charset="utf-8"><script src="/assets/probe.js"></script>',
        '<script>window.__inlineRan = true;</script></head>',
        '<body><div id="app">csp probe</div><img id="img" src="/missing.png" onerror="window.__handlerRan = true">',
        '<a id="js" href="javascript:window.__jsUrlRan = true">x</a></body></html>',
      ].join(''),
    );
    writeFileSync(
      join(dir, 'assets', 'probe.js'),
      "window.__external = true; window.__violations = []; document.addEventListener('securitypolicyviolation', function (e) { window.__violations.push(e.violatedDirective + ' ' + e.blockedURI); });" +
        " try { eval('window.__evalRan = true'); } catch (e) { window.__evalBlocked = String(e); }",
    );
    srv = await createApi({ ...f.ctx, settings: { ...f.ctx.settings, dashboardDir: dir } });
    await srv.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(srv.server.address() as { port: number }).port}`;
  }, 60_000);
  afterAll(async () => {
    await srv?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('inline scripts, inline handlers, javascript: URLs and injected <script> elements do not run and raise violations', async () => {
    const res = await fetch(`${base}/`, { headers: { accept: 'text/html' } });
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/script-src 'self'/);
    expect(csp).toMatch(/script-src-attr 'none'/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      await page.goto(`${base}/`, { waitUntil: 'load' });
      // Predicates as functions: Playwright evaluates a string predicate with eval inside the page,
      // which this very policy forbids (an EvalError, depending on when the first poll runs).
      type Probe = { __external?: boolean; __violations: unknown[] };
      await page.waitForFunction(() => (globalThis as unknown as Probe).__external === true && (globalThis as unknown as Probe).__violations.length >= 2, undefined, { timeout: 30_000 });
      await page.click('#js');
      // Injected after load, as an XSS would: a <script> with text, an element with an inline handler.
      await page.evaluate(`(() => {
        const s = document.createElement('script');
        s.textContent = 'window.__injectedRan = true';
        document.body.appendChild(s);
        const d = document.createElement('div');
        d.setAttribute('onclick', 'window.__injectedHandlerRan = true');
        document.body.appendChild(d);
        d.click();
      })()`).catch(() => undefined);
      await page.waitForFunction(() => (globalThis as unknown as Probe).__violations.length >= 5, undefined, { timeout: 30_000 });
      const state = (await page.evaluate(`({
        inline: window.__inlineRan === true, handler: window.__handlerRan === true, jsUrl: window.__jsUrlRan === true,
        injected: window.__injectedRan === true, injectedHandler: window.__injectedHandlerRan === true, evalRan: window.__evalRan === true, evalBlocked: window.__evalBlocked,
        violations: window.__violations,
      })`)) as { inline: boolean; handler: boolean; jsUrl: boolean; injected: boolean; injectedHandler: boolean; evalRan: boolean; evalBlocked: unknown; violations: string[] };
      expect(state, JSON.stringify(state)).toMatchObject({ inline: false, handler: false, jsUrl: false, injected: false, injectedHandler: false, evalRan: false });
      expect(String(state.evalBlocked)).toMatch(/EvalError|unsafe-eval|Content Security Policy/);
      const directives = state.violations.map((v) => v.split(' ')[0]);
      expect(directives.filter((d) => d === 'script-src-elem' || d === 'script-src').length, state.violations.join('; ')).toBeGreaterThanOrEqual(2);
      expect(directives.filter((d) => d === 'script-src-attr').length, state.violations.join('; ')).toBeGreaterThanOrEqual(2);
    } finally {
      await browser.close();
    }
  }, 90_000);

  it('the built dashboard loads under the CSP without a violation, console error or foreign request', async () => {
    let dist = join(ROOT, 'dashboard', 'dist');
    if (!existsSync(join(dist, 'index.html'))) {
      dist = join(tmp, 'dist');
      const build = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'dashboard/vite.config.ts', '--outDir', dist, '--emptyOutDir', '--logLevel', 'warn'], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 170_000,
        env: { ...process.env, NODE_ENV: 'production' },
      });
      if (build.status !== 0) throw new Error(`vite build failed:\n${build.stdout}\n${build.stderr}`);
    }
    const dash = await createApi({ ...f.ctx, settings: { ...f.ctx.settings, dashboardDir: dist } });
    const browser = await launchChromium();
    try {
      await dash.listen({ host: '127.0.0.1', port: 0 });
      const origin = `http://127.0.0.1:${(dash.server.address() as { port: number }).port}`;
      const page = await browser.context.newPage();
      const problems = await watchPage(page, origin);
      const res = await page.goto(`${origin}/`, { waitUntil: 'load' });
      expect(res?.headers()['content-security-policy']).toMatch(/script-src 'self'/);
      // The app mounted something (its root element has children) and had time to fetch its data.
      await page.waitForFunction(() => {
        const a = (globalThis as unknown as { document: { querySelector(s: string): { children: { length: number } } | null } }).document.querySelector('#app');
        return !!a && a.children.length > 0;
      }, undefined, { timeout: 30_000 });
      await page.waitForLoadState('networkidle', { timeout: 30_000 }).catch(() => undefined);
      expect(problems.cspViolations, problems.cspViolations.join('\n')).toEqual([]);
      expect(problems.foreignRequests).toEqual([]);
      expect(problems.pageErrors, problems.pageErrors.join('\n')).toEqual([]);
    } finally {
      await browser.close();
      await dash.close();
    }
  }, 240_000);
});
