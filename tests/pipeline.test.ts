// The ingest pipeline over the folder source: completeness, calibration of scans from the vertical,
// quarantine of bad input, idempotent re-ingest, store retries, worker threads = inline results.
// (Logic tests: the store here is in memory; the real stores are exercised in tests/ingest-e2e.test.ts.)
import { describe, expect, it, afterEach } from 'vitest';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pipeline } from '../ingest/pipeline.js';
import { FolderSource } from '../ingest/folder.js';
import { Quarantine } from '../ingest/quarantine.js';
import { RetrievalPool } from '../ingest/worker-pool.js';
import type { JobEnvironment } from '../ingest/job.js';
import { resolveParams, paramsId } from '../processing/retrieval/params.js';
import { parseStation } from '../processing/station.js';
import { districtsFromGeoJson } from '../processing/geometry/grid.js';
import { loadTerrain } from '../bin/io.js';
import { MemoryStore } from './memory-store.js';

const ROOT = join(import.meta.dirname, '..');
const WINTER = join(ROOT, 'fixtures', 'scenarios', 'sofia-winter-inversion');
const station = parseStation(JSON.parse(readFileSync(join(ROOT, 'config', 'stations', 'sofia.json'), 'utf8')));
const districts = districtsFromGeoJson(JSON.parse(readFileSync(join(ROOT, 'geodata', 'sofia_districts_24_simplified.geojson'), 'utf8')));
const env: JobEnvironment = { terrain: loadTerrain(), map: { cellSizeM: 500, maxHeightAglM: 500, districts } };
const params = resolveParams({ monte_carlo: 0 });
const files = readdirSync(WINTER).filter((f) => f.startsWith('SF')).sort();

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(poolSize = 0) {
  const dir = mkdtempSync(join(tmpdir(), 'lidar-pipeline-'));
  dirs.push(dir);
  const store = new MemoryStore();
  const quarantine = new Quarantine(join(dir, 'quarantine'));
  const pool = new RetrievalPool(env, poolSize);
  const pipeline = new Pipeline({ store, stations: { sofia: station }, params: () => ({ params, paramsId: paramsId(params) }), quarantine, pool, archiveDir: join(dir, 'archive'), retryMinMs: 10, log: () => undefined });
  const inbox = join(dir, 'inbox');
  const source = new FolderSource({ dir: inbox, station: 'sofia', stableMs: 150, pollMs: 50 });
  return { dir, store, quarantine, pool, pipeline, inbox, source };
}

async function until(cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('pipeline over a watched folder', () => {
  it('takes every file once complete, calibrates scans from the vertical, quarantines garbage', async () => {
    const t = setup();
    await t.pipeline.start();
    await t.source.start(t.pipeline.sink);
    const take = files.slice(0, 40); // 2 deg sweep, 6 deg sweep, the 16:12 vertical, the next 2 deg sweep
    for (const f of take) copyFileSync(join(WINTER, f), join(t.inbox, f));
    writeFileSync(join(t.inbox, 'garbage.dat'), 'this is not a Licel file\r\n');
    writeFileSync(join(t.inbox, 'truncated.dat'), readFileSync(join(WINTER, files[0])).subarray(0, 2000));
    await until(() => t.source.stats().done + t.source.stats().quarantined === take.length + 2);
    await t.pipeline.idle();
    await t.source.stop();

    const h = t.pipeline.health().sofia;
    expect(h.received).toBe(take.length + 2);
    expect(h.processed).toBe(take.length);
    expect(h.quarantined).toBe(2);
    // Scans before the first vertical have no lidar constant; after it, the 532 nm channel is calibrated.
    const verticalIdx = take.findIndex((f) => f.endsWith('.123000'));
    expect(verticalIdx).toBeGreaterThan(0);
    expect(h.constants['532o-glued']).toBeGreaterThan(4.5e13);
    expect(h.constants['532o-glued']).toBeLessThan(5.5e13);
    const ids = [...t.store.profilesById.values()];
    const scans532 = ids.filter((p) => p.channel === '532o-glued' && p.mode === 'scan');
    expect(scans532.length).toBe(take.length - verticalIdx - 1);
    expect(ids.filter((p) => p.mode === 'vertical').length).toBe(2); // both wavelengths of the vertical
    // Scans record the constant they were retrieved with: the accepted one of that vertical.
    const vertical532 = ids.find((p) => p.mode === 'vertical' && p.channel === '532o-glued')!;
    expect(vertical532.lidarConstant).toBe(h.constants['532o-glued']);
    for (const p of scans532) expect(p.lidarConstant).toBe(vertical532.lidarConstant);
    expect(t.store.cells.size).toBeGreaterThan(40); // 17 calibrated rays, valid to tau = 0.7 in the winter inversion (~1-3 km)
    expect([...t.store.cells.values()].some((c) => c.district !== '')).toBe(true);
    // Files moved; quarantine entries name the problem.
    expect(readdirSync(join(t.inbox, 'quarantine')).sort()).toEqual(['garbage.dat', 'truncated.dat']);
    const q = t.quarantine.list();
    expect(q).toHaveLength(2);
    for (const e of q) {
      expect(e.code).toBe('LIDAR_ERR_LICEL_FORMAT');
      expect(e.message).toMatch(/garbage\.dat|truncated\.dat/);
      expect(existsSync(e.path)).toBe(true);
    }
    // The raw bytes of every processed file are archived.
    const day = readdirSync(join(t.dir, 'archive', 'sofia'));
    expect(readdirSync(join(t.dir, 'archive', 'sofia', day[0])).length).toBe(take.length);
    await t.pool.close();
  });

  it('takes a file written slowly in pieces only when complete', async () => {
    const t = setup();
    await t.pipeline.start();
    await t.source.start(t.pipeline.sink);
    const bytes = readFileSync(join(WINTER, files[23])); // the vertical
    const path = join(t.inbox, files[23]);
    const fd = openSync(path, 'w');
    for (let off = 0; off < bytes.length; off += 4096) {
      writeSync(fd, bytes.subarray(off, Math.min(bytes.length, off + 4096)));
      await new Promise((r) => setTimeout(r, 60)); // slower than the poll, faster than stableMs
    }
    closeSync(fd);
    await until(() => t.source.stats().done === 1);
    await t.pipeline.idle();
    await t.source.stop();
    expect(t.pipeline.health().sofia.quarantined).toBe(0);
    expect(t.store.profilesById.size).toBe(2);
    await t.pool.close();
  });

  it('re-ingesting the same files overwrites (same ids), and store failures are retried, not lost', async () => {
    const t = setup();
    await t.pipeline.start();
    const take = files.slice(23, 29); // the vertical first, so both passes calibrate the same scans
    const feed = async () => {
      for (const f of take) {
        await t.pipeline.sink({ type: 'item', item: { kind: 'licel', station: 'sofia', bytes: new Uint8Array(readFileSync(join(WINTER, f))), origin: `test:${f}`, name: f, receivedMs: Date.now(), ack: () => undefined } });
      }
      await t.pipeline.idle();
    };
    await feed();
    const first = new Map([...t.store.profilesById].map(([k, v]) => [k, v.arrays.beta_aer]));
    const cellCount = t.store.cells.size;
    t.store.failNext = 3;
    await feed();
    expect(t.pipeline.health().sofia.retried).toBe(3);
    expect(t.store.profilesById.size).toBe(first.size);
    expect(t.store.cells.size).toBe(cellCount);
    for (const [k, v] of t.store.profilesById) expect(v.arrays.beta_aer).toEqual(first.get(k));
    await t.pool.close();
  });

  it('a scan gets the constant of the latest vertical before it however it arrives: out of order, again, after a restart', async () => {
    const feed = async (pipeline: Pipeline, names: string[]) => {
      for (const f of names) await pipeline.sink({ type: 'item', item: { kind: 'licel', station: 'sofia', bytes: new Uint8Array(readFileSync(join(WINTER, f))), origin: `test:${f}`, name: f, receivedMs: Date.now(), ack: () => undefined } });
      await pipeline.idle();
    };
    const constantsOf = (store: MemoryStore) => new Map([...store.profilesById.values()].filter((p) => p.mode === 'scan').map((p) => [p.id, p.lidarConstant]));
    // In order: verticals at files 23, 47 and 71, the scans between them.
    const inOrder = setup();
    await feed(inOrder.pipeline, files.slice(23, 84));
    const expected = constantsOf(inOrder.store);
    const verticals = [...inOrder.store.profilesById.values()].filter((p) => p.mode === 'vertical' && p.channel === '532o-glued');
    expect(verticals.length).toBe(3);
    expect(new Set(verticals.map((v) => v.lidarConstant)).size).toBe(3); // three different constants to tell apart
    // A process stores up to file 83, is restarted, and the new one first gets an old file again (a
    // redelivery), then later ones again: each scan still gets the constant of the latest vertical
    // before it (file 71's for 72-83, which the new process never saw).
    const t = setup();
    await feed(t.pipeline, files.slice(23, 84));
    const restarted = new Pipeline({ store: t.store, stations: { sofia: station }, params: () => ({ params, paramsId: paramsId(params) }), quarantine: t.quarantine, pool: t.pool, retryMinMs: 10, log: () => undefined });
    await feed(restarted, [files[50], ...files.slice(72, 84), files[30]]);
    const got = constantsOf(t.store);
    expect(got.size).toBe(expected.size);
    for (const [id, c] of expected) expect(got.get(id), id).toBe(c);
    await inOrder.pool.close();
    await t.pool.close();
  }, 120_000);

  it('worker threads give the same records as inline retrieval', async () => {
    const a = setup(0);
    const b = setup(2);
    for (const t of [a, b]) {
      await t.pipeline.start();
      for (const f of files.slice(22, 28)) {
        await t.pipeline.sink({ type: 'item', item: { kind: 'licel', station: 'sofia', bytes: new Uint8Array(readFileSync(join(WINTER, f))), origin: `test:${f}`, name: f, receivedMs: Date.now(), ack: () => undefined } });
      }
      await t.pipeline.idle();
    }
    expect(a.store.profilesById.size).toBeGreaterThan(4);
    expect([...b.store.profilesById.keys()].sort()).toEqual([...a.store.profilesById.keys()].sort());
    for (const [k, v] of a.store.profilesById) {
      const w = b.store.profilesById.get(k)!;
      expect(w.arrays.pm10).toEqual(v.arrays.pm10);
      expect(w.arrays.qc).toEqual(v.arrays.qc);
    }
    await a.pool.close();
    await b.pool.close();
  });

  it('a batch the store refuses (bad value) is quarantined with the store\'s reason, not retried forever; the rest goes on', async () => {
    const t = setup();
    await t.pipeline.start();
    const acks: string[] = [];
    t.store.refuse = (b) => (b.health ?? []).some((h) => h.values.note === 'refuse me');
    const status = (note: string) => ({
      type: 'item' as const,
      item: { kind: 'status' as const, station: 'sofia', bytes: new TextEncoder().encode(JSON.stringify({ time: '2018-01-19T16:00:00Z', note })), origin: `test:${note}`, receivedMs: Date.now(), ack: (o: string) => void acks.push(`${note}:${o}`) },
    });
    await t.pipeline.sink(status('refuse me'));
    await t.pipeline.sink(status('fine'));
    const f = files[23];
    await t.pipeline.sink({ type: 'item', item: { kind: 'licel', station: 'sofia', bytes: new Uint8Array(readFileSync(join(WINTER, f))), origin: `test:${f}`, name: f, receivedMs: Date.now(), ack: (o: string) => void acks.push(`licel:${o}`) } });
    await t.pipeline.idle();
    expect(acks).toEqual(['refuse me:quarantined', 'fine:stored', 'licel:stored']);
    expect(t.pipeline.health().sofia.retried).toBe(0);
    expect(t.pipeline.health().sofia.lastError).toMatch(/store refused the result: field values: value refused by the store/);
    const q = t.quarantine.list();
    expect(q).toHaveLength(1);
    expect(q[0].code).toBe('LIDAR_ERR_BAD_VALUE');
    expect(q[0].message).toMatch(/^store refused the result: field values: value refused by the store \(test\)/);
    // The stored status, then the Licel file's header housekeeping (licel.*, stored with its profiles).
    expect(t.store.healthRecords.map((h) => h.values.note ?? (Object.keys(h.values).every((k) => k.startsWith('licel.')) ? 'licel header' : '?'))).toEqual(['fine', 'licel header']);
    await t.pool.close();
  });

  it('unknown stations, bad status JSON and source rejects are quarantined with their reason; acks follow durability', async () => {
    const t = setup();
    await t.pipeline.start();
    const acks: string[] = [];
    const item = (station: string | null, kind: 'licel' | 'status', text: string) => ({
      type: 'item' as const,
      item: { kind, station, bytes: new TextEncoder().encode(text), origin: `test:${kind}`, receivedMs: Date.now(), ack: (o: string) => void acks.push(o) },
    });
    await t.pipeline.sink(item('nowhere', 'licel', 'x'));
    await t.pipeline.sink(item('sofia', 'status', '{"time": "2018-01-19T16:00:00Z", "laser": {"energy_mj": 180.5}, "shutter": false, "note": "ok"}'));
    await t.pipeline.sink(item('sofia', 'status', '{not json'));
    await t.pipeline.sink(item('sofia', 'status', '{"time": "yesterday"}'));
    const { LidarError } = await import('../processing/errors.js');
    await t.pipeline.sink({ type: 'reject', reject: { station: 'sofia', origin: 'serial:/dev/x#seq=9', bytes: new Uint8Array([1, 2, 3]), error: new LidarError('LIDAR_ERR_BAD_FRAME', 'bad CRC'), receivedMs: Date.now() } });
    await t.pipeline.idle();
    expect(acks.sort()).toEqual(['quarantined', 'quarantined', 'quarantined', 'stored']);
    const reasons = t.quarantine.list().map((e) => `${e.code} ${e.message}`);
    expect(reasons.some((r) => /LIDAR_ERR_NOT_FOUND.*unknown station "nowhere"/.test(r))).toBe(true);
    expect(reasons.some((r) => /status is not UTF-8 JSON/.test(r))).toBe(true);
    expect(reasons.some((r) => /invalid status time "yesterday"/.test(r))).toBe(true);
    expect(reasons.some((r) => /LIDAR_ERR_BAD_FRAME.*bad CRC/.test(r))).toBe(true);
    expect(t.store.healthRecords).toEqual([{ station: 'sofia', timeMs: Date.parse('2018-01-19T16:00:00Z'), values: { 'laser.energy_mj': 180.5, shutter: false, note: 'ok' } }]);
    await t.pool.close();
  });

  it('impossible headers and files the retrieval cannot use are quarantined with the reason', async () => {
    const t = setup();
    await t.pipeline.start();
    const { decodeLicel } = await import('../processing/licel/decode.js');
    const { encodeLicel } = await import('../processing/licel/encode.js');
    const base = decodeLicel(new Uint8Array(readFileSync(join(WINTER, files[23]))), files[23]);
    const variant = (name: string, header: object, datasets = base.datasets) => ({ name, bytes: encodeLicel({ ...base, header: { ...base.header, ...header }, datasets }) });
    const cases = [
      variant('stop-before-start', { startLocal: '2018-01-19T18:12:30', stopLocal: '2018-01-19T18:12:00' }),
      variant('two-days', { stopLocal: '2018-01-21T18:12:30' }),
      variant('future', { startLocal: '2030-01-01T00:00:00', stopLocal: '2030-01-01T00:00:30' }),
      variant('no-shots', {}, base.datasets.map((d) => ({ ...d, shots: 0 }))),
    ];
    for (const c of cases) {
      await t.pipeline.sink({ type: 'item', item: { kind: 'licel', station: 'sofia', bytes: c.bytes, origin: `test:${c.name}`, name: c.name, receivedMs: Date.UTC(2018, 0, 19, 17), ack: () => undefined } });
    }
    await t.pipeline.idle();
    const reasons = Object.fromEntries(t.quarantine.list().map((e) => [e.message.split(/[,:]/)[0], e.message]));
    if (Object.keys(reasons).length !== 4) throw new Error(JSON.stringify(t.quarantine.list().map((e) => e.message)));
    expect(reasons['stop-before-start']).toMatch(/impossible header: stop .* before start/);
    expect(reasons['two-days']).toMatch(/spans 48.0 h/);
    expect(reasons['future']).toMatch(/is after its arrival/);
    expect(reasons['no-shots']).toMatch(/0 shots/);
    expect(t.store.profilesById.size).toBe(0);
    await t.pool.close();
  });
});
