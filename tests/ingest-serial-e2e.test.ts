// The committed serial capture (with corrupted, dropped and garbage frames) played through a real
// pseudo-terminal pair into SerialSource -> pipeline -> embedded store: every good Licel frame is
// retrieved and stored, the housekeeping frames become health records, and every bad frame and
// sequence gap is quarantined with its reason; the counts equal what the capture's manifest holds.
import { describe, expect, it, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSerialCapture } from '../ingest/serial/capture.js';
import { playSerialCapture } from '../ingest/serial/recorder.js';
import { SerialSource } from '../ingest/serial/source.js';
import { openRawSerialWriter } from '../ingest/serial/writer.js';
import { Pipeline } from '../ingest/pipeline.js';
import { Quarantine } from '../ingest/quarantine.js';
import { RetrievalPool } from '../ingest/worker-pool.js';
import { createEmbeddedBackend } from '../store/embedded/backend.js';
import { resolveParams, paramsId } from '../processing/retrieval/params.js';
import { parseStation } from '../processing/station.js';
import { districtsFromGeoJson } from '../processing/geometry/grid.js';
import { loadTerrain } from '../bin/io.js';
import { startPtyPair } from './harness/socat.js';
import { MemoryStore } from './memory-store.js';

const ROOT = join(import.meta.dirname, '..');
const CAPTURES = join(ROOT, 'fixtures', 'captures');
const WINTER = join(ROOT, 'fixtures', 'scenarios', 'sofia-winter-inversion');
const manifest = JSON.parse(readFileSync(join(CAPTURES, 'sofia-winter-inversion.serial.json'), 'utf8')) as {
  wire_bytes: number;
  licel: Array<{ seq: number; file: string }>;
  status: Array<{ seq: number; json: { time: string } }>;
  corrupted: Array<{ seq: number; reason: string }>;
  gaps: Array<{ expected: number; got: number; missing: number }>;
};
const station = parseStation(JSON.parse(readFileSync(join(ROOT, 'config', 'stations', 'sofia.json'), 'utf8')));
const districts = districtsFromGeoJson(JSON.parse(readFileSync(join(ROOT, 'geodata', 'sofia_districts_24_simplified.geojson'), 'utf8')));
const env = { terrain: loadTerrain(), map: { cellSizeM: 500, maxHeightAglM: 500, districts } };
const params = resolveParams({ monte_carlo: 0 });
const tmp = mkdtempSync(join(tmpdir(), 'lidar-serial-e2e-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function pipelineFor(store: Pick<MemoryStore, 'write' | 'profiles'>, dir: string, pool: RetrievalPool): Pipeline {
  return new Pipeline({ store, stations: { sofia: station }, params: () => ({ params, paramsId: paramsId(params) }), quarantine: new Quarantine(join(dir, 'quarantine')), pool, log: () => undefined });
}

describe('serial capture -> pty -> pipeline -> embedded store', () => {
  it('stores every good frame, quarantines every bad one, counts match the manifest', async () => {
    // Known answer: the good Licel files of the capture retrieved in order, without the transport.
    const inline = new RetrievalPool(env, 0);
    const memory = new MemoryStore();
    const reference = pipelineFor(memory, join(tmp, 'ref'), inline);
    for (const f of manifest.licel) {
      await reference.sink({ type: 'item', item: { kind: 'licel', station: 'sofia', bytes: new Uint8Array(readFileSync(join(WINTER, f.file))), name: f.file, origin: f.file, receivedMs: Date.now(), ack: () => undefined } });
    }
    await reference.idle();
    expect(memory.profilesById.size).toBeGreaterThan(150);

    const store = createEmbeddedBackend({ path: join(tmp, 'db.sqlite') });
    await store.open();
    const pool = new RetrievalPool(env, 1);
    const pipeline = pipelineFor(store, tmp, pool);
    const pty = await startPtyPair();
    const source = new SerialSource({ path: pty.b, station: 'sofia' });
    try {
      await source.start(pipeline.sink);
      const writer = await openRawSerialWriter({ path: pty.a });
      await playSerialCapture(readSerialCapture(new Uint8Array(readFileSync(join(CAPTURES, 'sofia-winter-inversion.serial')))), writer, { speed: 50 });
      const t0 = Date.now();
      while (source.stats().bytes < manifest.wire_bytes && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 50));
      await writer.close();
      await source.stop();
      await pipeline.idle();

      const h = pipeline.health().sofia;
      expect(h.processed).toBe(manifest.licel.length);
      expect(h.statusRecords).toBe(manifest.status.length);
      expect(h.quarantined).toBe(manifest.corrupted.length + manifest.gaps.length);
      const stored = await store.profiles({ station: 'sofia', fromMs: 0, toMs: 4102444800000, limit: 100000 });
      expect(new Set(stored.map((p) => p.id))).toEqual(new Set(memory.profilesById.keys()));
      expect(new Set(stored.map((p) => p.file))).toEqual(new Set([...memory.profilesById.values()].map((p) => p.file)));
      const health = await store.health({ station: 'sofia', fromMs: 0, toMs: 4102444800000 });
      // The status frames' records; the Licel frames' header housekeeping (licel.*, one per stored file) besides.
      const statusRecords = health.filter((r) => !Object.keys(r.values).every((k) => k.startsWith('licel.')));
      expect(statusRecords.map((r) => r.timeMs).sort()).toEqual(manifest.status.map((s) => Date.parse(s.json.time)).sort());
      const reasons = new Quarantine(join(tmp, 'quarantine')).list();
      expect(reasons.every((e) => e.code === 'LIDAR_ERR_BAD_FRAME')).toBe(true);
      expect(reasons.filter((e) => /sequence gap/.test(e.message))).toHaveLength(manifest.gaps.length);
      const byField = (f: string) => reasons.filter((e) => e.field === f).length;
      expect(byField('crc32')).toBe(manifest.corrupted.filter((c) => c.reason === 'crc').length);
      expect(byField('length')).toBe(manifest.corrupted.filter((c) => c.reason === 'length').length);
      expect(byField('type')).toBe(manifest.corrupted.filter((c) => c.reason === 'unknown_type').length);
    } finally {
      await source.stop().catch(() => undefined);
      await pty.stop();
      await store.close();
      await pool.close();
      await inline.close();
    }
  }, 180_000);
});
