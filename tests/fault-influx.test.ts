// Fault: InfluxDB is killed (SIGKILL) mid-write and restarted, under the running service.
//
// Injects: the service (`lidar-pm serve`, store = a real influxd 1.x, disk spool in the data dir)
// ingests the winter scenario from a real mosquitto. While profiles are being written, influxd is
// SIGKILLed (writes in progress fail with connection errors; the WAL keeps what it had acknowledged),
// stays down until the service has noticed, and is started again on the same port and data dir.
// (tests/store-influx.test.ts does the same at the store level; this is the whole service.)
//
// Checks: (a) no profile lost and (b) none duplicated: the profile points in InfluxDB (one row per
// station + channel + time) equal the set of an uninterrupted in-order run, each once; (c) the service
// recovers by itself (no restart of it): writes go to the spool while the database is away and the
// spool drains when it is back; (d) health shows it: /readyz and /metrics report the store
// unreachable and the points waiting in the spool during the outage (/readyz 503, /metrics gauges),
// /metrics counts the failed writes, and afterwards /readyz is 200 with an empty spool.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { faultWorkspace } from './fault-workspace.js';
import { startMosquitto, type MosquittoBroker } from './harness/mosquitto.js';
import { startInfluxd, type InfluxdHandle } from './harness/influxd.js';
import { connectPublisher } from '../ingest/mqtt/publisher.js';
import { WINTER_FILES, winterBytes, referenceRun, startServe, serviceConfig, until, readyz, metric, influxIds, duplicates, shutdown, stationStatus, type ServiceProcess } from './fault-harness.js';

const PARAMS = { monte_carlo: 30 }; // slow enough per file that the kill lands mid-stream
const DB = 'lidar_fault';
let broker: MosquittoBroker | null = null;
let influx: InfluxdHandle | null = null;
let service: ServiceProcess | null = null;
const tmp = faultWorkspace('lidar-fault-influx-', async () => {
  service?.child.kill('SIGKILL');
  await broker?.cleanup();
  await influx?.stop();
});

describe('fault: InfluxDB SIGKILLed mid-write and restarted', () => {
  it('ends with every profile in InfluxDB exactly once; health showed the outage and the spool', async () => {
    const inputs = WINTER_FILES.map((name) => ({ name, bytes: winterBytes(name) }));
    const expected = await referenceRun(inputs, PARAMS, join(tmp, 'q-ref'));
    expect(expected.ids.size).toBeGreaterThan(150);

    influx = await startInfluxd();
    broker = await startMosquitto();
    const dataDir = join(tmp, 'data');
    // The fixtures are from 2018: keep raw data forever (the default 90 d policy would refuse them).
    const store = { kind: 'influx', url: influx.url, database: DB, spool_dir: join(dataDir, 'spool'), raw_retention: 'INF' };
    service = await startServe(serviceConfig(dataDir, [{ kind: 'mqtt', url: broker.url, client_id: 'fault-influx', max_in_flight: 8, announce_products: false }], { params: PARAMS, store }), tmp, 'service');
    const stored = async () => new Set(await influxIds(influx!.url, DB)).size;

    const pub = await connectPublisher({ url: broker.url, clientId: 'fault-influx-station' });
    for (const f of inputs) await pub.publishRaw('sofia', f.bytes);
    await pub.close();
    await until(async () => (await stored()) >= 20, 60_000, 'the first profiles in InfluxDB');
    await influx.kill(); // mid-write
    const processedAtKill = (await metric(service.url, 'lidar_pm_pipeline_processed_total', { station: 'sofia' })) ?? 0;
    expect(processedAtKill).toBeLessThan(inputs.length * 0.8); // the stream was still flowing
    const errorsBefore = (await metric(service.url, 'lidar_pm_store_write_errors_total')) ?? 0;

    // Health during the outage: not ready, the store unreachable, points waiting in the spool.
    // (GET /api/v1/stations/sofia/status needs the store to answer, so it is not the probe here.)
    let ready = await readyz(service.url);
    await until(async () => {
      ready = await readyz(service!.url);
      return ready.status === 503 && ready.body.store.reachable === false && ready.body.store.spooled_points > 0;
    }, 60_000, '/readyz 503: store unreachable, points spooled');
    expect(ready.body.problems).toContain('store unreachable');
    expect((await metric(service.url, 'lidar_pm_store_write_errors_total'))!).toBeGreaterThan(errorsBefore);
    expect(await metric(service.url, 'lidar_pm_store_reachable', { kind: 'influx' })).toBe(0);
    expect(await metric(service.url, 'lidar_pm_store_spooled_points')).toBeGreaterThan(0);

    await influx.restart(); // same port, same data dir; the service is not touched
    await until(async () => (await stored()) >= expected.ids.size, 120_000, 'all profiles in InfluxDB');
    await until(async () => {
      const r = await readyz(service!.url);
      return r.status === 200 && r.body.store.spooled_points === 0;
    }, 60_000, '/readyz 200 with the spool drained');
    const after = await stationStatus(service.url);
    expect(after.store.reachable).toBe(true);
    expect(after.store.spooled_points).toBe(0);
    expect(after.retrieval.quarantined).toBe(0);

    expect(await shutdown(service)).toBe(0);
    service = null;
    const ids = await influxIds(influx.url, DB);
    expect(duplicates(ids)).toEqual([]);
    expect(new Set(ids)).toEqual(expected.ids);
  }, 240_000);
});
