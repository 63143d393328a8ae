/**
 * `npx tsx scripts/bench-api.ts [--duration 10] [--repeats 3] [--connections 10,100,500] [--out FILE]`: HTTP benchmark of the
 * API. A child process fills an embedded store with `--repeats` x 2 hours of the Sofia winter scenario
 * through the real pipeline (inline retrieval; tests/api-fixture.ts), starts the API on a free port
 * (rate limit off for the benchmark) and serves; this process drives it with autocannon (keep-alive
 * HTTP/1.1, no pipelining) so client and server do not share an event loop. Scenarios, each at 10,
 * 100 and 500 connections (`--connections`) for `--duration` seconds:
 *   - latest map (GeoJSON, served from the per-station cache; the target is >= 2000 req/s with
 *     p99 < 50 ms at 100 connections), and the map of the last full 17-ray PPI (`at=`, also cached),
 *   - 24 h curtain 288 x 200 as JSON and as binary f32 (same window every time: cached),
 *   - 24 h curtain f32 with a different window every request (cache misses: store query + encoding).
 * Prints and writes requests/s, p50/p99 latency, throughput, errors.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number; max: number };
  throughput: { average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const HOUR_MS = 3_600_000;

async function serveChild(repeats: number): Promise<void> {
  const { buildApiFixture } = await import('../tests/api-fixture.js');
  const { createApi } = await import('../api/server.js');
  const t0 = Date.now();
  const f = await buildApiFixture({ repeats, settings: { rateLimitPerMinute: 1_000_000_000 } });
  const app = await createApi(f.ctx);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address() as { port: number };
  const metas = await f.store.backend.profiles({ station: 'sofia', fromMs: 0, toMs: f.nowMs + 1, limit: 100_000 });
  process.stdout.write(`${JSON.stringify({ port: address.port, nowMs: f.nowMs, profiles: metas.length, fillSeconds: (Date.now() - t0) / 1000 })}\n`);
  const stop = async () => {
    await app.close();
    await f.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

function startChild(repeats: number): Promise<{ child: ChildProcess; info: { port: number; nowMs: number; profiles: number; fillSeconds: number } }> {
  const script = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, ['--import', 'tsx', script, '--serve-child', '--repeats', String(repeats)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve({ child, info: JSON.parse(out.slice(0, nl)) });
    });
    child.once('exit', (code) => reject(new Error(`server child exited early (${code})`)));
  });
}

/** Sum and count of the server's own latency histogram for a route (GET /metrics). */
async function serverTime(base: string, route: string): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const pick = (suffix: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`lidar_pm_http_request_duration_seconds_${suffix}{method="GET",route="${route}"}`));
    return line ? Number(line.split(' ').pop()) : 0;
  };
  return { sum: pick('sum'), count: pick('count') };
}

async function measure(name: string, base: string, path: string | (() => string), connections: number, durationS: number) {
  const route = (typeof path === 'string' ? path : path()).split('?')[0].replace('/sofia/', '/:station/');
  const before = await serverTime(base, route);
  const opts: Record<string, unknown> = { url: base, connections, duration: durationS, pipelining: 1, headers: { accept: 'application/json' } };
  if (typeof path === 'string') opts.url = `${base}${path}`;
  else opts.requests = [{ method: 'GET', setupRequest: (req: Record<string, unknown>) => ({ ...req, path: path() }) }];
  const r = await autocannon(opts);
  const after = await serverTime(base, route);
  const row = {
    scenario: name,
    connections,
    requestsPerS: Math.round(r.requests.average),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
    throughputMBPerS: Number((r.throughput.average / 1e6).toFixed(1)),
    requests: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    /** Mean time inside the server (request received to response sent), from its /metrics histogram. */
    serverMeanMs: after.count > before.count ? Number((((after.sum - before.sum) / (after.count - before.count)) * 1000).toFixed(3)) : null,
  };
  console.error(`${name.padEnd(36)} c=${String(connections).padStart(3)}  ${String(row.requestsPerS).padStart(6)} req/s  p50 ${row.p50Ms} ms  p99 ${row.p99Ms} ms  server ${row.serverMeanMs} ms  ${row.throughputMBPerS} MB/s  non2xx ${row.non2xx} errors ${row.errors}`);
  return row;
}

export async function benchApi(options: { durationS?: number; repeats?: number; connections?: number[] } = {}): Promise<object> {
  const durationS = options.durationS ?? 10;
  const repeats = options.repeats ?? 3;
  const levels = options.connections ?? [10, 100, 500];
  const { child, info } = await startChild(repeats);
  try {
    const base = `http://127.0.0.1:${info.port}`;
    const to = Math.ceil(info.nowMs / 60_000) * 60_000;
    const window = `from=${new Date(to - 24 * HOUR_MS).toISOString()}&to=${new Date(to).toISOString()}&width=288&height=200&product=beta_aer`;
    const mapPath = '/api/v1/stations/sofia/map?product=pm10';
    // The end of the last full 17-ray 2 deg PPI (a sweep starts every 15 min and takes 8.5 min).
    const ppiEnd = Math.floor(info.nowMs / 900_000) * 900_000 - 900_000 + 505_000; // 8 min 25 s: the 17th ray (started at 8 min) is in, the sector not yet
    const ppiPath = `/api/v1/stations/sofia/map?product=pm10&at=${ppiEnd}`;
    // Sizes of what is served (and a check that there is data).
    const map = await fetch(`${base}${mapPath}`);
    const mapBody = await map.text();
    const features = (JSON.parse(mapBody) as { features: unknown[] }).features.length;
    if (features === 0) throw new Error('the latest map is empty: nothing to benchmark');
    const ppiBody = await (await fetch(`${base}${ppiPath}`)).text();
    const ppi = JSON.parse(ppiBody) as { features: unknown[]; scan: { profiles: number } | null };
    if (!ppi.scan || ppi.scan.profiles !== 17) throw new Error(`expected a 17-ray PPI at ${new Date(ppiEnd).toISOString()}, got ${ppi.scan?.profiles ?? 'none'}`);
    const curtainJson = await (await fetch(`${base}/api/v1/stations/sofia/curtain?${window}`)).text();
    const curtainBin = await (await fetch(`${base}/api/v1/stations/sofia/curtain?${window}&format=f32`)).arrayBuffer();
    let k = 0;
    const uncached = () => {
      k++;
      const t = to - k * 60_000; // a new window each request
      return `/api/v1/stations/sofia/curtain?from=${new Date(t - 24 * HOUR_MS).toISOString()}&to=${new Date(t).toISOString()}&width=288&height=200&product=beta_aer&format=f32`;
    };
    const results = [];
    for (const c of levels) results.push(await measure('latest map (cached GeoJSON)', base, mapPath, c, durationS));
    for (const c of levels) results.push(await measure('map of a full 17-ray PPI (at=, cached)', base, ppiPath, c, durationS));
    for (const c of levels) results.push(await measure('24 h curtain JSON (cached)', base, `/api/v1/stations/sofia/curtain?${window}`, c, durationS));
    for (const c of levels) results.push(await measure('24 h curtain f32 (cached)', base, `/api/v1/stations/sofia/curtain?${window}&format=f32`, c, durationS));
    for (const c of levels) results.push(await measure('24 h curtain f32 (uncached)', base, uncached, c, durationS));
    const map100 = results.find((r) => r.scenario.startsWith('latest map') && r.connections === 100);
    return {
      benchmark: 'api',
      command: `npx tsx scripts/bench-api.ts --duration ${durationS} --repeats ${repeats} --connections ${levels.join(',')}`,
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '?', node: process.version, loadAverageAtEnd: loadavg().map((x) => Number(x.toFixed(2))) },
      data: { hoursOfScenario: 2 * repeats, profiles: info.profiles, fillSeconds: info.fillSeconds, mapFeatures: features, mapBytes: Buffer.byteLength(mapBody), ppiMapFeatures: ppi.features.length, ppiMapBytes: Buffer.byteLength(ppiBody), curtainJsonBytes: Buffer.byteLength(curtainJson), curtainF32Bytes: curtainBin.byteLength },
      results,
      target: { scenario: 'latest map at 100 connections', requestsPerS: '>= 2000', p99Ms: '< 50', met: map100 === undefined ? null : map100.requestsPerS >= 2000 && map100.p99Ms < 50 && map100.non2xx === 0 && map100.errors === 0 },
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { duration: { type: 'string' }, repeats: { type: 'string' }, connections: { type: 'string' }, out: { type: 'string' }, 'serve-child': { type: 'boolean', default: false } }, strict: true });
  const repeats = values.repeats === undefined ? 3 : Number(values.repeats);
  if (values['serve-child']) await serveChild(repeats);
  else {
    const connections = values.connections === undefined ? undefined : values.connections.split(',').map(Number);
    if (connections?.some((c) => !Number.isInteger(c) || c < 1)) throw new Error(`--connections: positive integers, got ${values.connections}`);
    const result = await benchApi({ durationS: values.duration === undefined ? undefined : Number(values.duration), repeats, connections });
    const text = JSON.stringify(result, null, 2);
    console.log(text);
    if (values.out) writeFileSync(values.out, text + '\n');
  }
}
