/**
 * The InfluxDB adapter (store/influx/) against a real influxd (tests/harness/influxd.ts): the shared
 * contract suite, then what is particular to InfluxDB — line protocol and InfluxQL escaping with
 * hostile strings, NaN/Infinity, 16380-bin and larger arrays (chunked string fields), overwrites,
 * roll-ups, data errors (HTTP 400) landing on the right write, retries on 5xx (through a small
 * fault-injecting HTTP proxy), the disk spool while influxd is down (SIGKILL mid-stream, restart,
 * every point exactly once), spool recovery after a process restart, and a full spool.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLidarError } from '../processing/errors.js';
import { profileId, PROFILE_ARRAY_NAMES, type CellRecord, type HealthRecord, type ProfileArrays, type ProfileRecord, type StoreBackend } from '../store/port.js';
import { createInfluxBackend, type InfluxBackendOptions } from '../store/influx/index.js';
import { ident, iql, join as joinQL, nameRegex, qualified, str, timeRange, timeMs, type InfluxQL } from '../store/influx/influxql.js';
import { bucketRuns, bucketStarts, HOUR_MS, rollupPhases, RollupQueue } from '../store/influx/rollup.js';
import { startInfluxd, type InfluxdHandle } from './harness/influxd.js';
import { storeContract } from './store-contract.js';

let influx: InfluxdHandle;
let dbCounter = 0;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  influx = await startInfluxd();
});

afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
  await influx?.stop();
});

// ---------- helpers ----------

const T0 = Date.UTC(2025, 0, 15, 6, 0, 0); // a winter morning; tests use rawRetention 'INF' unless they test retention

async function rawQuery(url: string, db: string | null, q: string): Promise<{ results: Array<{ series?: Array<{ columns: string[]; values: unknown[][]; tags?: Record<string, string> }>; error?: string }> }> {
  const params = new URLSearchParams({ epoch: 'ms', q });
  if (db !== null) params.set('db', db);
  const res = await fetch(`${url}/query`, { method: 'POST', body: params });
  return (await res.json()) as never;
}

async function count(url: string, db: string, rp: string, measurement: string, field: string): Promise<number> {
  const r = await rawQuery(url, db, `SELECT count("${field}") FROM "${db}"."${rp}"."${measurement}" WHERE time >= 0 AND time < 4000000000000ms`);
  const v = r.results[0]?.series?.[0]?.values?.[0]?.[1];
  return typeof v === 'number' ? v : 0;
}

interface Made {
  backend: StoreBackend;
  database: string;
  spoolDir: string;
  logs: string[];
}

async function makeBackend(url: string, opts: Partial<InfluxBackendOptions> = {}, database = `t${process.pid}_${dbCounter++}`): Promise<Made> {
  const spoolDir = opts.spoolDir ?? (await mkdtemp(join(tmpdir(), 'lidar-influx-spool-')));
  const logs: string[] = [];
  const backend = createInfluxBackend({ url, database, spoolDir, rawRetention: 'INF', logger: (l) => logs.push(l), ...opts });
  cleanups.push(async () => {
    await backend.close();
    await rm(spoolDir, { recursive: true, force: true });
  });
  return { backend, database, spoolDir, logs };
}

function floats(n: number, seed: number, withNaN = true): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(i * 0.37 + seed) * 10 ** ((i % 9) - 6);
  if (withNaN && n > 5) {
    a[1] = NaN;
    a[n - 1] = NaN;
  }
  return a;
}

function allArrays(bins: number, seed: number): ProfileArrays {
  const arrays: ProfileArrays = {};
  for (const [k, name] of PROFILE_ARRAY_NAMES.entries()) {
    if (name === 'qc') arrays.qc = Uint8Array.from({ length: bins }, (_, i) => (i * 7 + seed) & 255);
    else arrays[name] = floats(bins, seed + k);
  }
  return arrays;
}

function profile(timeMsValue: number, over: Partial<ProfileRecord> = {}): ProfileRecord {
  const station = over.station ?? 'sofia';
  const channel = over.channel ?? '532o-glued';
  const bins = over.bins ?? 300;
  return {
    id: profileId(station, channel, timeMsValue),
    station,
    channel,
    mode: 'scan',
    timeMs: timeMsValue,
    timeEndMs: timeMsValue + 30_000,
    azimuthDeg: 200,
    elevationDeg: 2,
    rangeStartM: 3.75,
    rangeStepM: 7.5,
    bins,
    file: 'SF2510106.000000',
    paramsId: 'p-0123abcd',
    pblHeightM: 950.5,
    pblQuality: 0.8,
    cloudBaseM: NaN,
    aod: 0.31,
    snr: 12.5,
    background: 3.25,
    lidarConstant: NaN,
    validBins: bins - 20,
    qcCounts: [10, 2, 0, 0, 0, 1, 0, 3],
    receivedMs: timeMsValue + 45_000,
    arrays: { pm10: floats(bins, 1), qc: new Uint8Array(bins).fill(2) },
    ...over,
  };
}

function cell(timeMsValue: number, i: number, over: Partial<CellRecord> = {}): CellRecord {
  return {
    station: 'sofia',
    channel: '532o-glued',
    cell: `500mE${11040 + (i % 5)}N${4340 + Math.floor(i / 5)}`,
    district: String((i % 24) + 1).padStart(2, '0'),
    timeMs: timeMsValue,
    n: 10 + i,
    pm10Sum: 100 * (i + 1) + 0.25,
    pm25Sum: 50 * (i + 1),
    alphaSum: 1e-4 * (i + 1),
    ...over,
  };
}

/** Comparable form: typed arrays to plain arrays (NaN compares equal in toEqual). */
function plain(r: ProfileRecord): unknown {
  const arrays: Record<string, number[]> = {};
  for (const [k, v] of Object.entries(r.arrays)) arrays[k] = Array.from(v as ArrayLike<number>);
  return { ...r, arrays };
}

async function captureError(p: Promise<unknown>): Promise<{ code?: string; message: string; field?: string }> {
  try {
    await p;
  } catch (e) {
    expect(isLidarError(e)).toBe(true);
    return e as { code: string; message: string; field?: string };
  }
  throw new Error('expected a rejection');
}

/** An HTTP proxy in front of influxd that records queries, counts answer bytes and injects faults. */
class FaultProxy {
  queries: string[] = [];
  queryAnswerBytes = 0;
  failWrites = 0;
  failStatus = 503;
  down = false;
  private constructor(
    readonly url: string,
    private readonly target: string,
  ) {}

  static async start(target: string): Promise<FaultProxy> {
    let proxy: FaultProxy | null = null;
    const server: Server = createServer((req, res) => void proxy!.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    proxy = new FaultProxy(`http://127.0.0.1:${port}`, target);
    cleanups.push(
      () =>
        new Promise((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
    );
    return proxy;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    if (this.down) {
      req.socket.destroy();
      return;
    }
    const path = req.url ?? '/';
    if (path.startsWith('/write') && this.failWrites > 0) {
      this.failWrites--;
      res.writeHead(this.failStatus, { 'content-type': 'application/json' });
      res.end('{"error":"injected failure"}');
      return;
    }
    if (path.startsWith('/query')) this.queries.push(new URLSearchParams(body.toString('utf8')).get('q') ?? '');
    const answer = await fetch(`${this.target}${path}`, { method: req.method, body: req.method === 'GET' ? undefined : body, headers: { 'content-type': String(req.headers['content-type'] ?? 'text/plain') } });
    const text = Buffer.from(await answer.arrayBuffer());
    if (path.startsWith('/query')) this.queryAnswerBytes += text.length;
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
    res.end(text);
  }
}

// ---------- the shared contract suite ----------

storeContract('influx', async () => {
  const database = `contract${process.pid}_${dbCounter++}`;
  const spoolDir = await mkdtemp(join(tmpdir(), 'lidar-influx-contract-'));
  const made: StoreBackend[] = [];
  const make = (): StoreBackend => {
    const b = createInfluxBackend({ url: influx.url, database, spoolDir, rawRetention: 'INF', logger: () => {} });
    made.push(b);
    return b;
  };
  return {
    backend: make(),
    reopen: async () => make(),
    cleanup: async () => {
      for (const b of made) await b.close();
      await rawQuery(influx.url, null, `DROP DATABASE "${database}"`);
      await rm(spoolDir, { recursive: true, force: true });
    },
  };
});

// ---------- InfluxQL builder ----------

describe('InfluxQL builder', () => {
  it('quotes string literals and identifiers for InfluxQL', () => {
    expect(str(`it's`).text).toBe(`'it\\'s'`);
    expect(str('a\\b').text).toBe(`'a\\\\b'`);
    expect(str('line\nbreak').text).toBe(`'line\\nbreak'`);
    expect(str(`'; DROP DATABASE x; --`).text).toBe(`'\\'; DROP DATABASE x; --'`);
    expect(ident('we"ird').text).toBe(`"we\\"ird"`);
    expect(qualified('d', 'r', 'm').text).toBe('"d"."r"."m"');
    expect(timeRange(5, 10).text).toBe('time >= 5ms AND time < 10ms');
  });

  it('refuses what it cannot quote or bound', () => {
    expect(() => ident('')).toThrow(/must not be empty/);
    expect(() => str('\uD800')).toThrow(/surrogate/);
    expect(() => timeRange(10, 5)).toThrow(/before it starts/);
    expect(() => timeMs(NaN)).toThrow(/integer time/);
    expect(() => timeMs(1.5)).toThrow(/integer time/);
    expect(() => nameRegex('a_', ['rcs|.*'], '_')).toThrow(/not allowed/);
    // A plain string smuggled past the type checker is refused at run time.
    expect(() => iql`SELECT * FROM m WHERE s = ${'x' as unknown as InfluxQL}`).toThrow(/not a built fragment/);
  });

  it('hostile literals reach influxd as one literal: no parse error, no effect, the database survives', async () => {
    const database = `q${process.pid}_${dbCounter++}`;
    await rawQuery(influx.url, null, `CREATE DATABASE "${database}"`);
    const hostile = [`'; DROP DATABASE "${database}"; --`, 'back\\slash\\', 'new\nline', `quo"te's`, '\\\'', 'ü中🙂'];
    for (const h of hostile) {
      const q = iql`SELECT * FROM ${qualified(database, 'autogen', 'm')} WHERE ${ident('tag')} = ${str(h)} AND ${timeRange(0, 1000)}`;
      const r = await rawQuery(influx.url, database, q.text);
      expect(r.results[0]?.error, h).toBeUndefined();
    }
    const dbs = await rawQuery(influx.url, null, 'SHOW DATABASES');
    expect(dbs.results[0]?.series?.[0]?.values.flat()).toContain(database);
    const many = joinQL([str('a'), str('b')], ', ');
    expect(many.text).toBe(`'a', 'b'`);
  });
});

describe('roll-up buckets', () => {
  it('groups touched hours into contiguous runs', () => {
    const hours = bucketStarts([T0 + 10, T0 + 5, T0 + HOUR_MS + 1, T0 + 3 * HOUR_MS, -1], HOUR_MS);
    expect(hours).toEqual([-HOUR_MS, T0, T0 + HOUR_MS, T0 + 3 * HOUR_MS]);
    expect(bucketRuns(hours, HOUR_MS)).toEqual([
      [-HOUR_MS, 0],
      [T0, T0 + 2 * HOUR_MS],
      [T0 + 3 * HOUR_MS, T0 + 4 * HOUR_MS],
    ]);
  });
});

describe('roll-up queue (owed hours on disk)', () => {
  const H = HOUR_MS;
  async function queue(spoolEmpty: () => boolean, runs: number[][], fail = { next: false }): Promise<{ q: RollupQueue; file: string; dir: string }> {
    const dir = await mkdtemp(join(tmpdir(), 'lidar-rollup-queue-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'owed.json');
    const q = new RollupQueue({
      file,
      spoolEmpty,
      delayMs: 3_600_000,
      log: () => {},
      run: async (hours) => {
        await new Promise((r) => setTimeout(r, 5));
        if (fail.next) {
          fail.next = false;
          throw new Error('database down');
        }
        runs.push(hours);
      },
    });
    cleanups.push(() => q.close());
    return { q, file, dir };
  }
  const onDisk = async (file: string): Promise<number[]> => (JSON.parse(await readFile(file, 'utf8')) as { hours: number[] }).hours;

  it('keeps reserved hours on disk, skips held hours, strikes off computed ones, keeps hours written again meanwhile', async () => {
    const runs: number[][] = [];
    const { q, file } = await queue(() => true, runs);
    await q.reserve([0, H]);
    expect(await onDisk(file)).toEqual([0, H]);
    await q.settle(); // both held: nothing runs
    expect(runs).toEqual([]);
    q.release([0, H]);
    await q.reserve([2 * H]); // held while "on the wire"
    const settling = q.settle();
    await q.reserve([H]); // hour H written again during the recomputation
    q.release([H]);
    await settling;
    expect(runs).toEqual([[0, H]]);
    expect(await onDisk(file)).toEqual([H, 2 * H]); // H stays owed (written again), 2H held
    q.release([2 * H]);
    await q.settle();
    expect(runs).toEqual([[0, H], [H, 2 * H]]);
    expect(await onDisk(file)).toEqual([]);
  });

  it('does not strike off hours while the spool holds points; a failed run keeps them; a new queue loads them', async () => {
    const runs: number[][] = [];
    let empty = false;
    const fail = { next: false };
    const { q, file } = await queue(() => empty, runs, fail);
    await Promise.all([q.reserve([5 * H]), q.reserve([6 * H]), q.reserve([5 * H])]);
    q.release([5 * H, 6 * H, 5 * H]);
    await q.settle();
    expect(runs).toEqual([[5 * H, 6 * H]]);
    expect(await onDisk(file)).toEqual([5 * H, 6 * H]); // spool not empty: may still change
    empty = true;
    fail.next = true;
    await expect(q.settle()).rejects.toThrow(/database down/);
    expect(await onDisk(file)).toEqual([5 * H, 6 * H]);
    const loaded = new RollupQueue({ file, spoolEmpty: () => true, delayMs: 3_600_000, log: () => {}, run: async (h) => void runs.push(h) });
    cleanups.push(() => loaded.close());
    expect(await loaded.load()).toBe(2);
    await loaded.settle();
    expect(runs[runs.length - 1]).toEqual([5 * H, 6 * H]);
    expect(await onDisk(file)).toEqual([]);
  });
});

// ---------- adapter against a real influxd ----------

describe('influx adapter', () => {
  it('open() creates the database, the raw RP (default, 90d) and the long RP (INF); idempotent', async () => {
    const { backend, database } = await makeBackend(influx.url, { rawRetention: undefined });
    await backend.open();
    await backend.open();
    const r = await rawQuery(influx.url, null, `SHOW RETENTION POLICIES ON "${database}"`);
    const rows = r.results[0]?.series?.[0]?.values ?? [];
    expect(rows.find((v) => v[0] === 'raw')?.slice(1, 2)).toEqual(['2160h0m0s']);
    expect(rows.find((v) => v[0] === 'raw')?.[4]).toBe(true);
    expect(rows.find((v) => v[0] === 'long')?.slice(1, 2)).toEqual(['0s']);
    // Reopening with another raw retention alters it.
    const again = await makeBackend(influx.url, { rawRetention: '30d' }, database);
    await again.backend.open();
    const r2 = await rawQuery(influx.url, null, `SHOW RETENTION POLICIES ON "${database}"`);
    expect(r2.results[0]?.series?.[0]?.values.find((v) => v[0] === 'raw')?.[1]).toBe('720h0m0s');
  });

  it('round-trips a 16380-bin profile with every array, and a 70000-bin array over many chunk fields', async () => {
    const { backend, database } = await makeBackend(influx.url);
    await backend.open();
    const big = profile(T0, { bins: 16380, arrays: allArrays(16380, 3) });
    const huge = profile(T0 + 60_000, { bins: 70_000, mode: 'vertical', elevationDeg: 90, arrays: { rcs: floats(70_000, 9) } });
    await backend.write({ profiles: [big, huge] });
    const back = await backend.profileArrays('sofia', [big.id, huge.id]);
    expect(back.map(plain)).toEqual([plain(big), plain(huge)]);
    expect(await count(influx.url, database, 'raw', 'profile', 'bins')).toBe(2);
  });

  it('profileArrays with a subset fetches only those fields (bytes on the wire) and returns only them', async () => {
    const proxy = await FaultProxy.start(influx.url);
    const { backend } = await makeBackend(proxy.url);
    await backend.open();
    const records = Array.from({ length: 4 }, (_, i) => profile(T0 + i * 30_000, { bins: 4000, arrays: allArrays(4000, i) }));
    await backend.write({ profiles: records });
    proxy.queryAnswerBytes = 0;
    const all = await backend.profileArrays('sofia', records.map((r) => r.id));
    const allBytes = proxy.queryAnswerBytes;
    proxy.queryAnswerBytes = 0;
    const some = await backend.profileArrays('sofia', records.map((r) => r.id), ['pm10']);
    const someBytes = proxy.queryAnswerBytes;
    expect(all.map(plain)).toEqual(records.map(plain));
    expect(some.map((r) => Object.keys(r.arrays))).toEqual(records.map(() => ['pm10']));
    expect(Array.from(some[2].arrays.pm10!)).toEqual(Array.from(records[2].arrays.pm10!));
    // 10 float arrays + qc vs 1 float array: the subset answer must be far smaller than the full one.
    expect(someBytes * 5).toBeLessThan(allBytes);
    const none = await backend.profileArrays('sofia', [records[0].id], []);
    expect(none[0].arrays).toEqual({});
    expect(none[0].pblHeightM).toBe(records[0].pblHeightM);
  });

  it('profileArrays returns exactly the requested ids, read by range or point by point (mixed modes, sparse picks, unknown ids)', async () => {
    const { backend } = await makeBackend(influx.url);
    await backend.open();
    const list: ProfileRecord[] = [];
    for (let i = 0; i < 40; i++) {
      const vertical = i % 10 === 9;
      list.push(profile(T0 + i * 30_000, { mode: vertical ? 'vertical' : 'scan', elevationDeg: vertical ? 90 : 2, channel: i % 2 === 0 ? '532o-glued' : '1064o-glued', arrays: { pm10: floats(300, i) } }));
    }
    await backend.write({ profiles: list });
    const pick = (idx: number[]): ProfileRecord[] => idx.map((i) => list[i]);
    const cases: number[][] = [
      [9, 19, 29, 39], // the verticals (dense among verticals: one range per channel)
      [0, 2, 4, 6, 8, 10, 12], // consecutive scans of one channel
      [1, 35, 9, 20, 38], // sparse picks: point by point
      list.map((_, i) => i), // everything
    ];
    for (const idx of cases) {
      const want = pick(idx);
      const ids = [...want.map((p) => p.id), profileId('sofia', '532o-glued', T0 + 1), profileId('sofia', 'nope', T0)];
      const got = await backend.profileArrays('sofia', ids, ['pm10']);
      expect(got.map((r) => r.id), idx.join(',')).toEqual(want.map((p) => p.id));
      for (const [k, r] of got.entries()) expect(Array.from(r.arrays.pm10!)).toEqual(Array.from(want[k].arrays.pm10!));
    }
    // Another station's ids are left out.
    expect(await backend.profileArrays('elsewhere', [list[0].id])).toEqual([]);
    await expect(backend.profileArrays('sofia', ['sofia:532o-glued:soon'])).rejects.toMatchObject({ code: 'LIDAR_ERR_BAD_VALUE' });
  });

  it('roll-ups owed when the process stops before recomputing them are recomputed by the next open() (kept on disk)', async () => {
    const spoolDir = await mkdtemp(join(tmpdir(), 'lidar-influx-spool-'));
    const database = `owed${process.pid}_${dbCounter++}`;
    const first = await makeBackend(influx.url, { spoolDir, rollupDelayMs: 3_600_000 }, database);
    await first.backend.open();
    await first.backend.write({ cells: [cell(T0, 0), cell(T0 + 2 * HOUR_MS, 1)] });
    // The process "dies" here: no close(), no flush(); the hours were never recomputed.
    expect(await count(influx.url, database, 'long', 'cell_1h', 'n')).toBe(0);
    const second = await makeBackend(influx.url, { spoolDir, rollupDelayMs: 10 }, database);
    await second.backend.open();
    const deadline = Date.now() + 20_000;
    while ((await count(influx.url, database, 'long', 'cell_1h', 'n')) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await count(influx.url, database, 'long', 'cell_1h', 'n')).toBe(2);
    expect(await count(influx.url, database, 'long', 'cell_1d', 'n')).toBe(2); // two cells, one day
  });

  it('profiles() filters by channel and mode, orders, limits, and keeps NaN metadata NaN', async () => {
    const { backend } = await makeBackend(influx.url);
    await backend.open();
    const list: ProfileRecord[] = [];
    for (let i = 0; i < 6; i++) {
      list.push(profile(T0 + i * 60_000, { channel: i % 2 === 0 ? '532o-glued' : '1064o-glued', mode: i % 3 === 0 ? 'vertical' : 'scan', pblHeightM: i === 4 ? NaN : 900 + i, qcCounts: [i, NaN, 0] }));
    }
    await backend.write({ profiles: list });
    const strip = ({ arrays: _a, ...meta }: ProfileRecord): unknown => meta;
    expect(await backend.profiles({ station: 'sofia', fromMs: T0, toMs: T0 + 10 * 60_000 })).toEqual(list.map(strip));
    expect((await backend.profiles({ station: 'sofia', channel: '1064o-glued', fromMs: T0, toMs: T0 + 10 * 60_000 })).map((p) => p.timeMs)).toEqual([1, 3, 5].map((i) => T0 + i * 60_000));
    expect((await backend.profiles({ station: 'sofia', mode: 'vertical', fromMs: T0, toMs: T0 + 10 * 60_000 })).map((p) => p.timeMs)).toEqual([0, 3].map((i) => T0 + i * 60_000));
    expect((await backend.profiles({ station: 'sofia', fromMs: T0, toMs: T0 + 10 * 60_000, order: 'desc', limit: 2 })).map((p) => p.timeMs)).toEqual([5, 4].map((i) => T0 + i * 60_000));
    // [from, to): the upper bound is exclusive.
    expect((await backend.profiles({ station: 'sofia', fromMs: T0, toMs: T0 + 60_000 })).length).toBe(1);
    expect(await backend.profiles({ station: 'elsewhere', fromMs: T0, toMs: T0 + 10 * 60_000 })).toEqual([]);
  });

  it('stores +/-Infinity in scalar numbers as missing (NaN), as the contract asks; arrays keep Infinity bit-exact', async () => {
    const { backend } = await makeBackend(influx.url);
    await backend.open();
    const arr = Float32Array.from([Infinity, -Infinity, NaN, 1]);
    const p = profile(T0, { aod: Infinity, snr: -Infinity, qcCounts: [Infinity, 1], bins: 4, arrays: { pm10: arr } });
    await backend.write({ profiles: [p], cells: [cell(T0, 0, { pm25Sum: Infinity })] });
    const [rec] = await backend.profileArrays('sofia', [p.id]);
    expect(rec.aod).toBeNaN();
    expect(rec.snr).toBeNaN();
    expect(rec.qcCounts).toEqual([NaN, 1]);
    expect(Array.from(rec.arrays.pm10!)).toEqual([Infinity, -Infinity, NaN, 1]);
    const [row] = await backend.cellSums({ station: 'sofia', channel: '532o-glued', fromMs: T0, toMs: T0 + 1, groupBy: 'cell' });
    expect(row.pm25Sum).toBeNaN();
    expect(row.pm10Sum).toBe(cell(T0, 0).pm10Sum);
  });

  it('rewriting a profile overwrites it exactly (NaN where a value was, fewer and shorter arrays); health values merge', async () => {
    const { backend, database } = await makeBackend(influx.url);
    await backend.open();
    const first = profile(T0, { bins: 20000, arrays: allArrays(20000, 1), pblHeightM: 800, aod: 0.4 });
    await backend.write({ profiles: [first], health: [{ station: 'sofia', timeMs: T0, values: { a: 1, b: 'x', c: true } }] });
    const second = profile(T0, { bins: 100, arrays: { pm25: floats(100, 5) }, pblHeightM: NaN, aod: 0.1, file: 'replayed' });
    await backend.write({ profiles: [second], health: [{ station: 'sofia', timeMs: T0, values: { a: 2, b: NaN } }] });
    expect((await backend.profileArrays('sofia', [first.id])).map(plain)).toEqual([plain(second)]);
    // Health values merge on rewrite (the contract's semantics): a is replaced, b and c stay (NaN writes nothing).
    expect(await backend.health({ station: 'sofia', fromMs: T0, toMs: T0 + 1 })).toEqual([{ station: 'sofia', timeMs: T0, values: { a: 2, b: 'x', c: true } }]);
    expect(await count(influx.url, database, 'raw', 'profile', 'bins')).toBe(1);
  });

  it('cell sums per cell/district/station, raw and from the 1h/1d roll-ups, agree with sums computed here, also after replays into past hours', async () => {
    const { backend, database } = await makeBackend(influx.url);
    await backend.open();
    const cells: CellRecord[] = [];
    // 3 days, a scan every 2 h, 12 cells per scan; written in two interleaved passes (the second a "replay").
    for (let h = 0; h < 72; h += 2) for (let i = 0; i < 12; i++) cells.push(cell(T0 + h * HOUR_MS + 7 * 60_000, i + (h % 3)));
    const outside = cell(T0 + 5 * HOUR_MS, 99, { district: '', cell: '500mE99999N99999' });
    cells.push(outside);
    await backend.write({ cells: cells.filter((_, k) => k % 2 === 0) });
    await backend.write({ cells: cells.filter((_, k) => k % 2 === 1) });
    // Replay an old hour with changed values: overwrite, not duplicate; its hour and day are recomputed.
    const replayed = cells.slice(0, 12).map((c) => ({ ...c, pm10Sum: c.pm10Sum + 1000 }));
    await backend.write({ cells: replayed });
    const final = [...replayed, ...cells.slice(12)];

    // Buckets are those whose start lies in [from, to): use a day-aligned window.
    const from = Math.floor(T0 / 86_400_000) * 86_400_000;
    const to = from + 4 * 86_400_000;
    type Acc = { n: number; pm10: number; pm25: number; alpha: number; c: number };
    const expected = (keyOf: (c: CellRecord) => string, bucketMs: number | null): Map<string, Acc> => {
      const m = new Map<string, Acc>();
      for (const c of final) {
        const b = bucketMs === null ? NaN : Math.floor(c.timeMs / bucketMs) * bucketMs;
        const k = `${keyOf(c)}|${b}`;
        const a = m.get(k) ?? { n: 0, pm10: 0, pm25: 0, alpha: 0, c: 0 };
        a.n += c.n;
        a.pm10 += c.pm10Sum;
        a.pm25 += c.pm25Sum;
        a.alpha += c.alphaSum;
        a.c += 1;
        m.set(k, a);
      }
      return m;
    };
    for (const groupBy of ['cell', 'district', 'station'] as const) {
      const keyOf = (c: CellRecord): string => (groupBy === 'cell' ? c.cell : groupBy === 'district' ? c.district : c.station);
      for (const bucket of [null, '1h', '1d'] as const) {
        const rows = await backend.cellSums({ station: 'sofia', channel: '532o-glued', fromMs: from, toMs: to, groupBy, bucket });
        const want = expected(keyOf, bucket === null ? null : bucket === '1h' ? HOUR_MS : 24 * HOUR_MS);
        expect(rows.length, `${groupBy} ${bucket}`).toBe(want.size);
        for (const r of rows) {
          const w = want.get(`${r.key}|${r.timeMs}`);
          expect(w, `${groupBy} ${bucket} ${r.key} ${r.timeMs}`).toBeDefined();
          expect(r.n).toBe(w!.n);
          expect(r.pm10Sum).toBeCloseTo(w!.pm10, 6);
          expect(r.pm25Sum).toBeCloseTo(w!.pm25, 6);
          expect(r.alphaSum).toBeCloseTo(w!.alpha, 12);
          expect(r.contributions).toBe(w!.c);
        }
      }
    }
    // Filters: some cells, one district (and '' = outside every district).
    const two = [cells[0].cell, cells[1].cell];
    const byCells = await backend.cellSums({ station: 'sofia', channel: '532o-glued', fromMs: from, toMs: to, groupBy: 'cell', cells: two });
    expect(byCells.map((r) => r.key).sort()).toEqual([...two].sort());
    const d = await backend.cellSums({ station: 'sofia', channel: '532o-glued', fromMs: from, toMs: to, groupBy: 'district', district: '' });
    expect(d).toEqual([{ timeMs: NaN, key: '', n: outside.n, pm10Sum: outside.pm10Sum, pm25Sum: outside.pm25Sum, alphaSum: outside.alphaSum, contributions: 1 }]);
    expect(await count(influx.url, database, 'raw', 'cell', 'n')).toBe(final.length);
  });

  it('health keeps value types and names (hostile names too), leaves NaN/Infinity out, and selects fields', async () => {
    const { backend } = await makeBackend(influx.url);
    await backend.open();
    const weird = `temp "C", x=1 ü`;
    const records: HealthRecord[] = [
      { station: 'sofia', timeMs: T0, values: { laserOn: true, mode: 'PPI "city"', [weird]: -3.5, missing: NaN, inf: -Infinity, count: 42 } },
      // The same name with another type in another record: separate typed fields, no conflict.
      { station: 'sofia', timeMs: T0 + 1000, values: { laserOn: 'unknown', count: 'many', [weird]: 1 } },
      // Every value missing: the record still exists.
      { station: 'sofia', timeMs: T0 + 2000, values: { missing: NaN } },
    ];
    await backend.write({ health: records });
    const { missing: _m, inf: _i, ...firstKept } = records[0].values;
    expect(await backend.health({ station: 'sofia', fromMs: T0, toMs: T0 + 3000 })).toEqual([
      { ...records[0], values: firstKept },
      records[1],
      { ...records[2], values: {} },
    ]);
    expect(await backend.health({ station: 'sofia', fromMs: T0, toMs: T0 + 3000, fields: [weird, 'missing', 'count'], order: 'desc', limit: 5 })).toEqual([
      { station: 'sofia', timeMs: T0 + 1000, values: { [weird]: 1, count: 'many' } },
      { station: 'sofia', timeMs: T0, values: { [weird]: -3.5, count: 42 } },
    ]);
  });

  it('parameter sets: put, get, list, overwrite, large JSON over several chunk fields', async () => {
    const { backend } = await makeBackend(influx.url);
    await backend.open();
    const bigJson = JSON.stringify({ table: Array.from({ length: 20000 }, (_, i) => i / 7), note: 'quotes " \\ and\nnewlines' });
    await backend.putParamSet({ id: 'p-2', json: bigJson, name: 'big', createdMs: 2000 });
    await backend.putParamSet({ id: 'p-1', json: '{"a":1}', name: 'first "one"', createdMs: 1000 });
    await backend.putParamSet({ id: 'p-1', json: '{"a":2}', name: 'first again', createdMs: 1000 });
    expect(await backend.getParamSet('p-2')).toEqual({ id: 'p-2', json: bigJson, name: 'big', createdMs: 2000 });
    expect(await backend.getParamSet('p-404')).toBeNull();
    expect((await backend.listParamSets()).map((p) => [p.id, p.json.length, p.name])).toEqual([
      ['p-1', 7, 'first again'],
      ['p-2', bigJson.length, 'big'],
    ]);
  });

  it('hostile strings: quotes, commas, spaces, equals and unicode in tags read back; newlines, backslashes in fields read back', async () => {
    const { backend } = await makeBackend(influx.url);
    await backend.open();
    const station = `so fia,"x"=y '; DROP DATABASE x; -- ü中🙂`;
    const channel = `532o=glued, "q"`;
    const p = profile(T0, {
      station,
      channel,
      id: profileId(station, channel, T0),
      file: 'line1\nline2\\back"quote"\'single\' tab\t=, ü',
      paramsId: '\\\\server\\share "p"',
    });
    const c = cell(T0, 0, { station, channel, cell: `c "1", =x`, district: `d 'ü'` });
    await backend.write({ profiles: [p, profile(T0 + 1000)], cells: [c], health: [{ station, timeMs: T0, values: { 'a b,c=d"e': 'v\n"\\', n: 1 } }] });
    expect((await backend.profileArrays(station, [p.id])).map(plain)).toEqual([plain(p)]);
    expect((await backend.profiles({ station, channel, fromMs: T0, toMs: T0 + 1 })).map((m) => m.id)).toEqual([p.id]);
    const sums = await backend.cellSums({ station, channel, fromMs: T0, toMs: T0 + 1, groupBy: 'cell', cells: [c.cell], district: c.district });
    expect(sums.map((r) => [r.key, r.n])).toEqual([[c.cell, c.n]]);
    const byDistrict = await backend.cellSums({ station, channel, fromMs: T0 - HOUR_MS, toMs: T0 + HOUR_MS, groupBy: 'district', bucket: '1h' });
    expect(byDistrict.map((r) => [r.key, r.timeMs, r.contributions])).toEqual([[c.district, T0, 1]]);
    expect(await backend.health({ station, fromMs: T0, toMs: T0 + 1 })).toEqual([{ station, timeMs: T0, values: { 'a b,c=d"e': 'v\n"\\', n: 1 } }]);
    // The other station's profile of the same batch is intact.
    expect((await backend.profiles({ station: 'sofia', fromMs: T0, toMs: T0 + 2000 })).map((m) => m.timeMs)).toEqual([T0 + 1000]);
  });

  it('refuses what InfluxDB cannot hold, naming the field; nothing of that write is stored; writes in the same HTTP batch are unaffected', async () => {
    const { backend, database } = await makeBackend(influx.url);
    await backend.open();
    const bad: Array<[string, Parameters<StoreBackend['write']>[0], RegExp]> = [
      ['backslash in a tag', { profiles: [profile(T0), profile(T0 + 1, { channel: 'a\\b', id: profileId('sofia', 'a\\b', T0 + 1) })] }, /profiles\[1\]\.channel.*backslash/],
      ['newline in a tag', { cells: [cell(T0, 1), cell(T0, 2, { cell: 'x\ny' })] }, /cells\[1\]\.cell.*control character/],
      ['Infinity as a bin count', { cells: [cell(T0, 1, { n: Infinity })] }, /cells\[0\]\.n/],
      ['NaN time', { cells: [cell(NaN, 1)] }, /cells\[0\]\.timeMs/],
      ['null health value', { health: [{ station: 'sofia', timeMs: T0, values: { t: null as unknown as number } }] }, /health\[0\]\.values\.t/],
      ['fractional time', { profiles: [profile(T0 + 0.5)] }, /profiles\[0\]\.timeMs/],
      ['empty station', { profiles: [profile(T0, { station: '', id: profileId('', '532o-glued', T0) })] }, /profiles\[0\]\.station.*empty/],
      ['wrong array type', { profiles: [profile(T0, { arrays: { pm10: [1, 2] as unknown as Float32Array } })] }, /profiles\[0\]\.arrays\.pm10/],
      ['unknown array', { profiles: [profile(T0, { arrays: { nope: new Float32Array(2) } as unknown as ProfileArrays })] }, /profiles\[0\]\.arrays\.nope/],
      ['id mismatch', { profiles: [profile(T0, { id: 'sofia:x:1' })] }, /profiles\[0\]\.id/],
      ['lone surrogate', { profiles: [profile(T0, { file: 'a\uDC00' })] }, /profiles\[0\]\.file.*surrogate/],
      ['bad mode', { profiles: [profile(T0, { mode: 'ppi' as never })] }, /profiles\[0\]\.mode/],
    ];
    for (const [what, batch, pattern] of bad) {
      // A good write submitted in the same tick travels in the same HTTP batch.
      const good = backend.write({ cells: [cell(T0 + 5000, 3)] });
      const e = await captureError(backend.write(batch));
      await good;
      expect(e.code, what).toBe('LIDAR_ERR_BAD_VALUE');
      expect(e.message, what).toMatch(pattern);
    }
    expect(await count(influx.url, database, 'raw', 'profile', 'bins')).toBe(0);
    expect(await count(influx.url, database, 'raw', 'cell', 'n')).toBe(1);
    expect((await backend.cellSums({ station: 'sofia', channel: '532o-glued', fromMs: T0, toMs: T0 + HOUR_MS, groupBy: 'station' }))[0].pm10Sum).toBe(cell(T0 + 5000, 3).pm10Sum);
  });

  it('a data error from InfluxDB (points outside the retention policy) rejects that write only, with BAD_VALUE, not retried', async () => {
    const { backend, logs } = await makeBackend(influx.url, { rawRetention: '90d' });
    await backend.open();
    const now = Math.floor(Date.now() / 1000) * 1000;
    const old = profile(Date.UTC(2018, 0, 19, 18));
    const fresh = [profile(now - 60_000), profile(now - 30_000)];
    const [oldResult, freshResult] = await Promise.allSettled([backend.write({ profiles: [old] }), backend.write({ profiles: fresh })]);
    expect(freshResult.status).toBe('fulfilled');
    expect(oldResult.status).toBe('rejected');
    const e = (oldResult as PromiseRejectedResult).reason as { code: string; message: string };
    expect(e.code).toBe('LIDAR_ERR_BAD_VALUE');
    expect(e.message).toMatch(/retention policy/);
    expect(logs.some((l) => /data error, not retried/.test(l))).toBe(true);
    expect((await backend.profiles({ station: 'sofia', fromMs: now - HOUR_MS, toMs: now + 1 })).map((p) => p.timeMs)).toEqual(fresh.map((p) => p.timeMs));
    expect(backend.status().spooledPoints).toBe(0);
  });

  it('a field type conflict (the field exists with another type) rejects the write that hits it; the batch partner is stored', async () => {
    const { backend, database } = await makeBackend(influx.url);
    await backend.open();
    // Someone else wrote "aod" as a string into this shard.
    const res = await fetch(`${influx.url}/write?db=${database}&rp=raw&precision=ms`, { method: 'POST', body: `profile,station=other aod="text" ${T0}` });
    expect(res.status).toBe(204);
    const [a, b] = await Promise.allSettled([backend.write({ profiles: [profile(T0 + 1000)] }), backend.write({ health: [{ station: 'sofia', timeMs: T0, values: { x: 1 } }] })]);
    expect(a.status).toBe('rejected');
    expect(((a as PromiseRejectedResult).reason as Error).message).toMatch(/field type conflict/);
    expect(b.status).toBe('fulfilled');
    expect((await backend.health({ station: 'sofia', fromMs: T0, toMs: T0 + 1 })).length).toBe(1);
  });

  it('every query is time-bounded (checked on the wire)', async () => {
    const proxy = await FaultProxy.start(influx.url);
    const { backend } = await makeBackend(proxy.url);
    await backend.open();
    await backend.write({ profiles: [profile(T0)], cells: [cell(T0, 1), cell(T0 + 2 * 86_400_000, 1)], health: [{ station: 'sofia', timeMs: T0, values: { a: 1 } }] });
    await backend.putParamSet({ id: 'p-1', json: '{}', name: 'x', createdMs: 1 });
    await backend.profiles({ station: 'sofia', fromMs: T0, toMs: T0 + 1 });
    await backend.profileArrays('sofia', [profile(T0).id]);
    for (const bucket of [null, '1h', '1d'] as const) await backend.cellSums({ station: 'sofia', channel: '532o-glued', fromMs: T0, toMs: T0 + 3 * 86_400_000, groupBy: 'district', bucket });
    await backend.health({ station: 'sofia', fromMs: T0, toMs: T0 + 1 });
    await backend.getParamSet('p-1');
    await backend.listParamSets();
    const selects = proxy.queries.flatMap((q) => q.split(/;\s*(?=SELECT)/)).filter((q) => /^\s*SELECT/.test(q));
    expect(selects.length).toBeGreaterThan(8);
    for (const q of selects) expect(q, q).toMatch(/WHERE .*time >= -?\d+ms AND time < -?\d+ms/);
  });

  it('retries a 5xx with backoff and stores the batch without spooling', async () => {
    const proxy = await FaultProxy.start(influx.url);
    const { backend, database } = await makeBackend(proxy.url, { retry: { attempts: 4, baseDelayMs: 10, maxDelayMs: 50 } });
    await backend.open();
    proxy.failWrites = 2;
    await backend.write({ profiles: [profile(T0)] });
    expect(backend.status()).toMatchObject({ spooledPoints: 0, reachable: true });
    expect(backend.status().writeErrors).toBe(2);
    expect(backend.status().lastError).toMatch(/503/);
    expect(await count(influx.url, database, 'raw', 'profile', 'bins')).toBe(1);
  });

  it('starts while the database is down, spools, then drains when it answers (schema created late)', async () => {
    const proxy = await FaultProxy.start(influx.url);
    proxy.down = true;
    const { backend, database, logs } = await makeBackend(proxy.url, { retry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 100 } });
    await backend.open();
    expect(backend.status().reachable).toBe(false);
    await backend.write({ profiles: [profile(T0)], cells: [cell(T0, 0)] });
    expect(backend.status().spooledPoints).toBe(2);
    await expect(backend.flush(300)).rejects.toMatchObject({ code: 'LIDAR_ERR_IO' });
    await expect(backend.profiles({ station: 'sofia', fromMs: T0, toMs: T0 + 1 })).rejects.toMatchObject({ code: 'LIDAR_ERR_IO' });
    proxy.down = false;
    await backend.flush(20_000);
    expect(backend.status()).toMatchObject({ spooledPoints: 0, spooledBytes: 0, reachable: true });
    expect(await count(influx.url, database, 'raw', 'profile', 'bins')).toBe(1);
    const hourly = await backend.cellSums({ station: 'sofia', channel: '532o-glued', fromMs: T0, toMs: T0 + HOUR_MS, groupBy: 'station', bucket: '1h' });
    expect(hourly.map((r) => r.contributions)).toEqual([1]);
    expect(logs.some((l) => /spooling writes to/.test(l))).toBe(true);
    expect(logs.some((l) => /spool drained/.test(l))).toBe(true);
  });
});

describe('influx adapter: influxd killed and restarted', () => {
  let crash: InfluxdHandle;
  beforeAll(async () => {
    crash = await startInfluxd();
  });
  afterAll(async () => {
    await crash?.stop();
  });

  it('SIGKILL during a stream of 2000 profiles + cells, restart on the same port/data: after the drain every point is there exactly once', async () => {
    const { backend, database, logs } = await makeBackend(crash.url, { retry: { attempts: 2, baseDelayMs: 20, maxDelayMs: 300 }, requestTimeoutMs: 5000 });
    await backend.open();
    const profiles: ProfileRecord[] = [];
    const cells: CellRecord[] = [];
    for (let i = 0; i < 2000; i++) {
      const t = T0 + i * 15_000;
      profiles.push(profile(t, { channel: i % 2 === 0 ? '532o-glued' : '1064o-glued', bins: 200, arrays: { pm10: floats(200, i) } }));
      for (let k = 0; k < 3; k++) cells.push(cell(t, k + (i % 4), { channel: i % 2 === 0 ? '532o-glued' : '1064o-glued' }));
    }
    let maxSpooled = 0;
    let restarted: Promise<void> | null = null;
    const writes: Promise<void>[] = [];
    for (let g = 0; g < 100; g++) {
      if (g === 30) await crash.kill();
      if (g === 60) restarted = crash.restart();
      writes.push(backend.write({ profiles: profiles.slice(g * 20, g * 20 + 20), cells: cells.slice(g * 60, g * 60 + 60) }));
      if (g % 4 === 0) await writes[writes.length - 1];
      maxSpooled = Math.max(maxSpooled, backend.status().spooledPoints);
      await new Promise((r) => setTimeout(r, 25));
    }
    await Promise.all(writes);
    await restarted;
    await backend.flush(60_000);
    expect(maxSpooled).toBeGreaterThan(0);
    expect(backend.status().spooledPoints).toBe(0);
    expect(logs.some((l) => /spooling writes to/.test(l))).toBe(true);
    expect(logs.some((l) => /spool drained/.test(l))).toBe(true);

    const to = T0 + 2000 * 15_000;
    expect(await count(crash.url, database, 'raw', 'profile', 'bins')).toBe(2000);
    expect(await count(crash.url, database, 'raw', 'cell', 'n')).toBe(cells.length);
    const ids = [];
    for (const channel of ['532o-glued', '1064o-glued']) ids.push(...(await backend.profiles({ station: 'sofia', channel, fromMs: T0, toMs: to })).map((p) => p.id));
    expect(ids.length).toBe(2000);
    expect(new Set(ids)).toEqual(new Set(profiles.map((p) => p.id)));
    // The roll-ups saw every contribution exactly once too (hours touched while spooled were recomputed).
    for (const channel of ['532o-glued', '1064o-glued']) {
      const want = cells.filter((c) => c.channel === channel);
      const hourly = await backend.cellSums({ station: 'sofia', channel, fromMs: T0, toMs: to, groupBy: 'station', bucket: '1h' });
      expect(hourly.reduce((s, r) => s + r.contributions, 0)).toBe(want.length);
      expect(hourly.reduce((s, r) => s + r.n, 0)).toBe(want.reduce((s, c) => s + c.n, 0));
    }
  });

  it('the spool survives a process restart: a new backend on the same spool dir drains it on open()', async () => {
    const spoolDir = await mkdtemp(join(tmpdir(), 'lidar-influx-spool-'));
    const database = `restart${process.pid}_${dbCounter++}`;
    const first = await makeBackend(crash.url, { spoolDir, retry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 50 } }, database);
    await first.backend.open();
    await first.backend.write({ profiles: [profile(T0)] });
    await crash.kill();
    const spooled = Array.from({ length: 30 }, (_, i) => profile(T0 + (i + 1) * 1000));
    for (let i = 0; i < 30; i += 10) await first.backend.write({ profiles: spooled.slice(i, i + 10), cells: [cell(T0 + i * 1000, i)] });
    expect(first.backend.status().spooledPoints).toBe(33);
    await first.backend.close();
    await crash.restart();
    const second = await makeBackend(crash.url, { spoolDir }, database);
    await second.backend.open();
    expect(second.logs.some((l) => /from an earlier run/.test(l))).toBe(true);
    await second.backend.flush(30_000);
    expect(await count(crash.url, database, 'raw', 'profile', 'bins')).toBe(31);
    expect(await count(crash.url, database, 'raw', 'cell', 'n')).toBe(3);
    const hourly = await second.backend.cellSums({ station: 'sofia', channel: '532o-glued', fromMs: T0, toMs: T0 + HOUR_MS, groupBy: 'station', bucket: '1h' });
    expect(hourly.map((r) => r.contributions)).toEqual([3]);
  });

  it('a full spool refuses writes with LIDAR_ERR_IO (never drops silently); accepted writes all arrive', async () => {
    const { backend, database } = await makeBackend(crash.url, { spoolMaxBytes: 64 * 1024, retry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 50 } });
    await backend.open();
    await crash.kill();
    const accepted: ProfileRecord[] = [];
    let refused: { code?: string; message: string } | null = null;
    for (let i = 0; i < 100 && refused === null; i++) {
      const p = profile(T0 + i * 1000, { bins: 1000, arrays: { pm10: floats(1000, i) } });
      try {
        await backend.write({ profiles: [p] });
        accepted.push(p);
      } catch (e) {
        refused = e as { code?: string; message: string };
      }
    }
    expect(refused?.code).toBe('LIDAR_ERR_IO');
    expect(refused?.message).toMatch(/spool full/);
    expect(accepted.length).toBeGreaterThan(3);
    expect(backend.status().spooledBytes).toBeLessThanOrEqual(64 * 1024);
    expect(backend.status().spooledPoints).toBe(accepted.length);
    await crash.restart();
    await backend.flush(30_000);
    expect(await count(crash.url, database, 'raw', 'profile', 'bins')).toBe(accepted.length);
  });
});

describe('roll-up statements', () => {
  it('are plain grouped SELECTs (no SELECT ... INTO, which 2.x/3.x compatibility endpoints refuse), bounded in time, in three phases', () => {
    const T0 = Date.UTC(2024, 0, 15, 10);
    const phases = rollupPhases('lidar', 'raw', 'long', [T0, T0 + HOUR_MS, T0 + 5 * HOUR_MS]);
    expect(phases.map((p) => p.map((s) => s.into))).toEqual([['cell_1h'], ['district_1h'], ['cell_1d', 'district_1d']]);
    for (const step of phases.flat()) {
      const text = step.query.text;
      expect(text).not.toMatch(/\bINTO\b/i);
      expect(text).toMatch(/^SELECT /);
      for (const stmt of text.split('; ')) expect(stmt).toMatch(/time >= \d+ms AND time < \d+ms/);
    }
  });
});
