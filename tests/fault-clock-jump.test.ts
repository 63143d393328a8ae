// Fault: the station clock jumps, so the input times jump backwards and forwards.
//
// Injects: the winter scenario from its first vertical on, cut into four segments at verticals and
// re-stamped with processing/licel/shift.ts as a station clock would stamp them, then published in
// that order through a real mosquitto into the service (`lidar-pm serve`, embedded store):
//   seg1 on time; seg2 with the clock 3 h behind (older than seg1); seg3 with the clock 2 h ahead
//   (the newest times of all); seg4 on time again (older than seg3). Then three more files:
//   - seg1's file at index RESENT again, byte-identical (a re-send);
//   - a different scan re-stamped to the start time of seg1's file at index CONFLICT (a clock that
//     went back and reused a time slot: same start time, different content);
//   - a file stamped 3 h after its arrival (a clock far ahead).
//
// What the pipeline does (and the test checks): the re-sent identical file is idempotent (stored again
// under the same keys, nothing new); the different file with an already stored start time is NOT
// allowed to overwrite: it is quarantined with its reason ("a different file with the same start time
// ... not overwritten"), the stored profile stays the first one; the file from the future is
// quarantined as an impossible header. Everything else is stored.
//
// Checks: (a)+(b) the stored id list equals that of an uninterrupted run of the same files in
// measurement-time order (so the calibration of every scan does not depend on the arrival order),
// each id once; the conflicting key still holds the first file; (c) no intervention; (d) health: the
// stored health record of the station (written by the service) counts the out-of-order files
// (pipeline.outOfOrder), the conflict (pipeline.timeConflicts) and 2 quarantined files; the station
// status reports the newest measurement (seg3's) as the last profile, and the latest-scan view shows
// seg3's scan, not the last one to arrive.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { faultWorkspace } from './fault-workspace.js';
import { startMosquitto, type MosquittoBroker } from './harness/mosquitto.js';
import { connectPublisher } from '../ingest/mqtt/publisher.js';
import { decodeLicel } from '../processing/licel/decode.js';
import { encodeLicel } from '../processing/licel/encode.js';
import { shiftLicelTimes } from '../processing/licel/shift.js';
import { localToUtcMs } from '../processing/time.js';
import { createEmbeddedBackend } from '../store/embedded/backend.js';
import { Quarantine } from '../ingest/quarantine.js';
import { WINTER_FILES, winterBytes, referenceRun, startServe, serviceConfig, until, metric, embeddedIds, duplicates, shutdown, stationStatus, getJson, STATION, END_MS, type ServiceProcess } from './fault-harness.js';

const PARAMS = { monte_carlo: 0 };
const HOUR_MS = 3_600_000;
let broker: MosquittoBroker | null = null;
let service: ServiceProcess | null = null;
const tmp = faultWorkspace('lidar-fault-clock-', async () => {
  service?.child.kill('SIGKILL');
  await broker?.cleanup();
});

interface Input {
  name: string;
  bytes: Uint8Array;
  timeMs: number;
}

function startMs(bytes: Uint8Array, name: string): number {
  return localToUtcMs(decodeLicel(bytes, name).header.startLocal, STATION.timezone);
}

function shifted(name: string, deltaMs: number): Input {
  const f = shiftLicelTimes(decodeLicel(winterBytes(name), name), deltaMs, STATION.timezone);
  const bytes = encodeLicel(f);
  return { name: f.header.fileName, bytes, timeMs: startMs(bytes, f.header.fileName) };
}

describe('fault: clock jumps in the input times', () => {
  it('stores each profile once whatever the order, refuses silent overwrites, counts the jumps', async () => {
    // Verticals (zenith 0) close every 15-min cycle: indices 23, 47, 71, ... Segments start at one.
    const isVertical = (i: number) => decodeLicel(winterBytes(WINTER_FILES[i]), WINTER_FILES[i]).header.zenithRaw === 0;
    expect([23, 71, 119, 167].every(isVertical)).toBe(true);
    const firstMs = startMs(winterBytes(WINTER_FILES[0]), WINTER_FILES[0]);
    const base = Date.now() - 6 * HOUR_MS - firstMs; // the recording moved to 6 h ago
    const segments: Array<{ from: number; to: number; clockMs: number }> = [
      { from: 23, to: 71, clockMs: 0 },
      { from: 71, to: 119, clockMs: -3 * HOUR_MS },
      { from: 119, to: 167, clockMs: 2 * HOUR_MS },
      { from: 167, to: WINTER_FILES.length, clockMs: 0 },
    ];
    const stream: Input[] = [];
    for (const seg of segments) for (let i = seg.from; i < seg.to; i++) stream.push(shifted(WINTER_FILES[i], base + seg.clockMs));
    const RESENT = 30;
    const CONFLICT = 31;
    const resent = stream[RESENT - 23];
    const original = stream[CONFLICT - 23];
    const other = shifted(WINTER_FILES[40], base);
    const conflicting = shifted(WINTER_FILES[40], base + original.timeMs - other.timeMs);
    expect(conflicting.timeMs).toBe(original.timeMs);
    expect(Buffer.compare(conflicting.bytes, original.bytes)).not.toBe(0);
    const azimuthOf = (x: Input) => decodeLicel(x.bytes, x.name).header.azimuthDeg;
    expect(azimuthOf(conflicting)).not.toBe(azimuthOf(original)); // an overwrite would show
    const future = shifted(WINTER_FILES[60], Date.now() + 3 * HOUR_MS - startMs(winterBytes(WINTER_FILES[60]), WINTER_FILES[60]));
    const arrivals = [...stream, resent, conflicting, future];

    // The known answer: the regular files in measurement-time order, uninterrupted.
    const inOrder = [...stream].sort((a, b) => a.timeMs - b.timeMs);
    const expected = await referenceRun(inOrder, PARAMS, join(tmp, 'q-ref'));
    expect(expected.quarantined).toBe(0);
    expect(expected.ids.size).toBeGreaterThan(100);
    // Files that arrive with a start before the newest start processed so far (quarantined ones aside).
    let newest = -Infinity;
    let outOfOrder = 0;
    for (const a of [...stream, resent]) {
      if (a.timeMs < newest) outOfOrder++;
      newest = Math.max(newest, a.timeMs);
    }
    expect(outOfOrder).toBeGreaterThan(70);

    broker = await startMosquitto();
    const dataDir = join(tmp, 'data');
    service = await startServe(serviceConfig(dataDir, [{ kind: 'mqtt', url: broker.url, client_id: 'fault-clock', announce_products: false }], { params: PARAMS }), tmp, 'service');
    const pub = await connectPublisher({ url: broker.url, clientId: 'fault-clock-station' });
    for (const a of arrivals) await pub.publishRaw('sofia', a.bytes);
    await pub.close();
    const done = async () => ((await metric(service!.url, 'lidar_pm_pipeline_processed_total', { station: 'sofia' })) ?? 0) + ((await metric(service!.url, 'lidar_pm_pipeline_quarantined_total', { station: 'sofia' })) ?? 0);
    await until(async () => (await done()) >= arrivals.length, 120_000, 'every file processed or quarantined');
    expect(await metric(service.url, 'lidar_pm_pipeline_quarantined_total', { station: 'sofia' })).toBe(2);

    // The newest measurement is seg3's, though seg4 and the extras arrived after it.
    const newestProfileMs = Math.max(...[...expected.ids].map((id) => Number(id.slice(id.lastIndexOf(':') + 1))));
    const status = await stationStatus(service.url);
    expect(Date.parse(status.last_profile ?? '')).toBe(newestProfileMs);
    const seg3 = stream.slice(119 - 23, 167 - 23);
    expect(newestProfileMs).toBeGreaterThanOrEqual(Math.min(...seg3.map((s) => s.timeMs)));
    const scan = (await getJson(`${service.url}/api/v1/stations/sofia/scan`)).body as { rays: Array<{ time: string }> };
    expect(scan.rays.length).toBeGreaterThan(0);
    const seg3Range = [Math.min(...seg3.map((s) => s.timeMs)), Math.max(...seg3.map((s) => s.timeMs))];
    for (const r of scan.rays) {
      expect(Date.parse(r.time)).toBeGreaterThanOrEqual(seg3Range[0]);
      expect(Date.parse(r.time)).toBeLessThanOrEqual(seg3Range[1]);
    }

    expect(await shutdown(service)).toBe(0); // writes the final health record
    service = null;
    const ids = await embeddedIds(join(dataDir, 'lidar-pm.sqlite'));
    expect(duplicates(ids)).toEqual([]);
    expect(new Set(ids)).toEqual(expected.ids);

    const store = createEmbeddedBackend({ path: join(dataDir, 'lidar-pm.sqlite') });
    await store.open();
    try {
      // The conflicting key still holds the first file.
      const atConflict = await store.profiles({ station: 'sofia', fromMs: original.timeMs, toMs: original.timeMs + 1 });
      expect(atConflict.length).toBeGreaterThan(0);
      for (const m of atConflict) {
        expect(m.file).toBe(expected.files.get(m.id));
        expect(m.azimuthDeg).toBe(expected.azimuths.get(m.id));
      }
      // The newest record with the service's counters (the Licel files' header records, licel.*, lie between).
      const [h] = await store.health({ station: 'sofia', fromMs: 0, toMs: END_MS, fields: ['pipeline.outOfOrder', 'pipeline.timeConflicts', 'pipeline.quarantined'], order: 'desc', limit: 1 });
      expect(h.values['pipeline.outOfOrder']).toBe(outOfOrder);
      expect(h.values['pipeline.timeConflicts']).toBe(1);
      expect(h.values['pipeline.quarantined']).toBe(2);
    } finally {
      await store.close();
    }
    const reasons = new Quarantine(join(dataDir, 'quarantine')).list().map((e) => e.message);
    expect(reasons.some((m) => /a different file with the same start time .* not overwritten/.test(m))).toBe(true);
    expect(reasons.some((m) => /is after its arrival/.test(m))).toBe(true);
  }, 240_000);
});
