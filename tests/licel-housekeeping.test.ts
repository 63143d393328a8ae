// The instrument housekeeping of every Licel header as a health record (ingest/records.ts
// licelHousekeepingRecord, written by the pipeline with the file's products): the values are the
// header's own (compared with decodeLicel of the same bytes), at the file's measurement start, the
// same record again for the same file, nothing for a quarantined file; Raymetrics temperature and
// pressure only where the header has them; inactive datasets and unused lasers left out.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pipeline } from '../ingest/pipeline.js';
import { Quarantine } from '../ingest/quarantine.js';
import { RetrievalPool } from '../ingest/worker-pool.js';
import { licelHousekeepingRecord } from '../ingest/records.js';
import type { JobEnvironment } from '../ingest/job.js';
import type { InputItem } from '../ingest/source.js';
import { decodeLicel } from '../processing/licel/decode.js';
import { encodeLicel } from '../processing/licel/encode.js';
import { LicelDataType, type LicelFile } from '../processing/licel/types.js';
import { localToUtcMs } from '../processing/time.js';
import { resolveParams, paramsId } from '../processing/retrieval/params.js';
import { parseStation } from '../processing/station.js';
import { districtsFromGeoJson } from '../processing/geometry/grid.js';
import { channelKey, type HealthRecord, type StoreBackend } from '../store/port.js';
import { createEmbeddedBackend } from '../store/embedded/index.js';
import { MemoryStore } from './memory-store.js';

const ROOT = join(import.meta.dirname, '..');
const WINTER = join(ROOT, 'fixtures', 'scenarios', 'sofia-winter-inversion');
const station = parseStation(JSON.parse(readFileSync(join(ROOT, 'config', 'stations', 'sofia.json'), 'utf8')));
const districts = districtsFromGeoJson(JSON.parse(readFileSync(join(ROOT, 'geodata', 'sofia_districts_24_simplified.geojson'), 'utf8')));
const env: JobEnvironment = { terrain: null, map: { cellSizeM: 500, maxHeightAglM: 500, districts } };
const params = resolveParams({ monte_carlo: 0 });
const files = readdirSync(WINTER).filter((f) => f.startsWith('SF')).sort();
const VERTICAL = files.find((f) => f.endsWith('.123000'))!; // the 12:30 vertical (profiles without a constant)
const FIRST_SCAN = files[0]; // a scan before any vertical: no lidar constant, no profiles

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(store: Pick<StoreBackend, 'write' | 'profiles'> = new MemoryStore()) {
  const dir = mkdtempSync(join(tmpdir(), 'lidar-housekeeping-'));
  dirs.push(dir);
  const quarantine = new Quarantine(join(dir, 'quarantine'));
  const pool = new RetrievalPool(env, 0);
  const pipeline = new Pipeline({ store, stations: { sofia: station }, params: () => ({ params, paramsId: paramsId(params) }), quarantine, pool, retryMinMs: 10, log: () => undefined });
  const acks: string[] = [];
  const feed = async (bytes: Uint8Array, name: string) => {
    const item: InputItem = { kind: 'licel', station: 'sofia', bytes, origin: `test:${name}`, name, receivedMs: Date.now(), ack: (o) => void acks.push(`${name}:${o}`) };
    await pipeline.sink({ type: 'item', item });
    await pipeline.idle();
  };
  return { dir, store, quarantine, pool, pipeline, feed, acks };
}

/** What the record must hold, from the decoded header (active analog/photon datasets, lasers in use). */
function expectedValues(file: LicelFile): Record<string, number> {
  const want: Record<string, number> = {};
  const h = file.header;
  const lasers = [
    [h.laser1Shots, h.laser1RateHz],
    [h.laser2Shots, h.laser2RateHz],
    [h.laser3Shots, h.laser3RateHz],
  ];
  const signal = file.datasets.filter((d) => d.active && (d.dataType === LicelDataType.Analog || d.dataType === LicelDataType.PhotonCounting));
  lasers.forEach(([shots, rate], k) => {
    if (shots > 0 || signal.some((d) => d.laser === k + 1)) {
      want[`licel.laser${k + 1}.shots`] = shots;
      want[`licel.laser${k + 1}.rate_hz`] = rate;
    }
  });
  for (const d of signal) {
    const key = channelKey(d.wavelengthNm, d.polarization, d.dataType === LicelDataType.Analog ? 'analog' : 'photon');
    want[`licel.${key}.pmt_voltage_v`] = d.pmtVoltageV;
    want[`licel.${key}.shots`] = d.shots;
    if (d.dataType === LicelDataType.Analog) {
      want[`licel.${key}.adc_bits`] = d.adcBits;
      want[`licel.${key}.input_range_v`] = d.inputRangeV;
    }
  }
  if (Number.isFinite(h.temperatureC)) want['licel.temperature_c'] = h.temperatureC;
  if (Number.isFinite(h.pressureHpa)) want['licel.pressure_hpa'] = h.pressureHpa;
  return want;
}

const startMs = (file: LicelFile) => localToUtcMs(file.header.startLocal, station.timezone);

describe('Licel header housekeeping as a health record', () => {
  it('the pipeline stores the header values at the measurement start, the same record again for the same file, also for a file without profiles', async () => {
    const t = setup();
    const store = t.store as MemoryStore;
    const vertical = readFileSync(join(WINTER, VERTICAL));
    const scan = readFileSync(join(WINTER, FIRST_SCAN));
    await t.feed(scan, FIRST_SCAN);
    await t.feed(vertical, VERTICAL);
    expect(t.acks).toEqual([`${FIRST_SCAN}:stored`, `${VERTICAL}:stored`]);
    // The scan had no lidar constant yet: no profiles, but its housekeeping is stored.
    expect(t.pipeline.health().sofia.uncalibrated).toBeGreaterThan(0);
    expect([...store.profilesById.values()].every((p) => p.mode === 'vertical')).toBe(true);
    expect(store.healthRecords).toHaveLength(2);
    for (const [rec, bytes] of [
      [store.healthRecords[0], scan],
      [store.healthRecords[1], vertical],
    ] as const) {
      const file = decodeLicel(bytes);
      expect(rec.station).toBe('sofia');
      expect(rec.timeMs).toBe(startMs(file));
      expect(rec.values).toEqual(expectedValues(file));
    }
    // The fixture's facts the rules rely on: one laser in use (2 and 3 left out), four detectors with their voltage.
    const v = store.healthRecords[1].values;
    expect(Object.keys(v).filter((k) => k.startsWith('licel.laser'))).toEqual(['licel.laser1.shots', 'licel.laser1.rate_hz']);
    expect(Object.keys(v).filter((k) => k.endsWith('.pmt_voltage_v')).sort()).toEqual(['licel.1064o-analog.pmt_voltage_v', 'licel.1064o-photon.pmt_voltage_v', 'licel.532o-analog.pmt_voltage_v', 'licel.532o-photon.pmt_voltage_v']);
    expect(v['licel.temperature_c']).toBeUndefined();
    // Same file again (a redelivery): the same key and values.
    await t.feed(vertical, VERTICAL);
    expect(store.healthRecords).toHaveLength(3);
    expect(store.healthRecords[2]).toEqual(store.healthRecords[1]);
    await t.pool.close();
  });

  it('a quarantined file writes no housekeeping (undecodable, impossible times, a different file at a stored start time)', async () => {
    const t = setup();
    const store = t.store as MemoryStore;
    const vertical = readFileSync(join(WINTER, VERTICAL));
    await t.feed(vertical.subarray(0, 2000), 'truncated.dat');
    const backwards = decodeLicel(vertical);
    backwards.header.stopLocal = '2018-01-19T12:00:00'; // before its start
    const backwardsBytes = encodeLicel(backwards);
    await t.feed(backwardsBytes, 'backwards.dat');
    expect(store.healthRecords).toEqual([]);
    await t.feed(vertical, VERTICAL);
    expect(store.healthRecords).toHaveLength(1);
    const other = decodeLicel(vertical);
    other.datasets[0].pmtVoltageV += 50; // a different file with the same start time
    await t.feed(encodeLicel(other), 'conflict.dat');
    expect(t.acks).toEqual(['truncated.dat:quarantined', 'backwards.dat:quarantined', `${VERTICAL}:stored`, 'conflict.dat:quarantined']);
    expect(t.quarantine.list()).toHaveLength(3);
    expect(store.healthRecords).toHaveLength(1);
    expect(store.healthRecords[0].values).toEqual(expectedValues(decodeLicel(vertical)));
    // The backwards file decodes: its header housekeeping exists, and was still not written.
    expect(licelHousekeepingRecord(decodeLicel(backwardsBytes), 'sofia', 0)).not.toBeNull();
    await t.pool.close();
  });

  it('Raymetrics temperature and pressure are stored where the header has them', async () => {
    const t = setup();
    const store = t.store as MemoryStore;
    const file = decodeLicel(readFileSync(join(WINTER, VERTICAL)));
    file.header.format = 'raymetrics';
    file.header.azimuthDeg = 190;
    file.header.longitudeDeg = 23.4; // Raymetrics positions have one decimal
    file.header.latitudeDeg = 42.7;
    file.header.temperatureC = -3.5;
    file.header.pressureHpa = 945.2;
    file.header.laser3Shots = NaN; // classic line 3 has no laser 3
    file.header.laser3RateHz = NaN;
    file.header.controllerTimestampMs = NaN;
    const bytes = encodeLicel(file);
    const decoded = decodeLicel(bytes);
    expect(decoded.header.temperatureC).toBe(-3.5);
    await t.feed(bytes, 'raymetrics.dat');
    expect(t.acks).toEqual(['raymetrics.dat:stored']);
    expect(store.healthRecords).toHaveLength(1);
    expect(store.healthRecords[0].values).toEqual(expectedValues(decoded));
    expect(store.healthRecords[0].values['licel.temperature_c']).toBe(decoded.header.temperatureC);
    expect(store.healthRecords[0].values['licel.pressure_hpa']).toBe(decoded.header.pressureHpa);
    await t.pool.close();
  });

  it('inactive and squared-sum datasets and unused lasers are left out; a channel key twice in a file gets the dataset position', () => {
    const file = decodeLicel(readFileSync(join(WINTER, VERTICAL)));
    file.datasets[3].active = false; // 1064o-photon
    file.datasets.push({ ...file.datasets[0], dataType: LicelDataType.AnalogSquared, deviceId: 'S2A0' });
    file.datasets.push({ ...file.datasets[1], pmtVoltageV: 700, laser: 2 }); // a second 532o-photon, on laser 2
    file.header.laser2Shots = 0;
    file.header.laser2RateHz = 0;
    const rec = licelHousekeepingRecord(file, 'sofia', 1_500_000_000_000) as HealthRecord;
    expect(rec.timeMs).toBe(1_500_000_000_000);
    const names = Object.keys(rec.values);
    expect(names.some((n) => n.startsWith('licel.1064o-photon'))).toBe(false);
    expect(names.some((n) => n.startsWith('licel.532o-photon.'))).toBe(false);
    expect(rec.values['licel.532o-photon-ds1.pmt_voltage_v']).toBe(file.datasets[1].pmtVoltageV);
    expect(rec.values['licel.532o-photon-ds5.pmt_voltage_v']).toBe(700);
    expect(rec.values['licel.532o-analog.pmt_voltage_v']).toBe(file.datasets[0].pmtVoltageV); // the squared sum does not count
    // Laser 2 fired no shot but an active dataset uses it: recorded (its zero rate is a fault); laser 3 unused: left out.
    expect(rec.values['licel.laser2.rate_hz']).toBe(0);
    expect(names.some((n) => n.startsWith('licel.laser3'))).toBe(false);
    // No active dataset and no laser fired: nothing to record.
    const idle = decodeLicel(readFileSync(join(WINTER, VERTICAL)));
    for (const d of idle.datasets) d.active = false;
    idle.header.laser1Shots = 0;
    expect(licelHousekeepingRecord(idle, 'sofia', 0)).toBeNull();
  });

  it('the embedded store keeps one record per file: a re-ingested file replaces its values', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lidar-housekeeping-db-'));
    dirs.push(dir);
    const backend = createEmbeddedBackend({ path: join(dir, 'store.sqlite'), rawRetentionMs: 0 });
    await backend.open();
    const t = setup(backend);
    const vertical = readFileSync(join(WINTER, VERTICAL));
    const file = decodeLicel(vertical);
    await t.feed(vertical, VERTICAL);
    await t.feed(vertical, VERTICAL);
    const at = startMs(file);
    const got = await backend.health({ station: 'sofia', fromMs: at - 3_600_000, toMs: at + 3_600_000 });
    expect(got).toEqual([{ station: 'sofia', timeMs: at, values: expectedValues(file) }]);
    await t.pool.close();
    await backend.close();
  });
});
