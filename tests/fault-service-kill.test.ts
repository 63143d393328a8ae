// Fault: the pipeline process (`lidar-pm serve`) is killed with SIGKILL mid-stream and started again.
//
// Injects: the whole winter scenario (192 Licel files) waits at a real mosquitto for the service's
// persistent MQTT session; the service is SIGKILLed while it is part-way through (up to 8 messages
// in flight, retrieved or being stored, none of them acknowledged yet), then started again with the
// same configuration and data directory. (tests/ingest-e2e.test.ts does the same with a broker
// restart and more publishing in between; this test adds the live health checks.)
//
// Checks: (a) no profile lost and (b) none duplicated: the stored id list equals the set of an
// uninterrupted in-order run, each id once, nothing quarantined; (c) recovery: the only manual step
// is the restart of the killed process; the broker redelivers what was not acknowledged; (d) health
// of the new process: /metrics shows the redelivered messages (MQTT DUP) and the pipeline's
// processed count, /readyz is 200, the station status names no store or source problem.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { faultWorkspace } from './fault-workspace.js';
import { startMosquitto, type MosquittoBroker } from './harness/mosquitto.js';
import { connectPublisher } from '../ingest/mqtt/publisher.js';
import { WINTER_FILES, winterBytes, referenceRun, startServe, serviceConfig, until, readyz, metric, embeddedIds, duplicates, shutdown, crash, stationStatus, type ServiceProcess } from './fault-harness.js';

const PARAMS = { monte_carlo: 30 }; // slow enough per file that the kill lands mid-stream
let broker: MosquittoBroker | null = null;
let service: ServiceProcess | null = null;
const tmp = faultWorkspace('lidar-fault-kill-', async () => {
  service?.child.kill('SIGKILL');
  await broker?.cleanup();
});

describe('fault: service SIGKILLed mid-stream and restarted', () => {
  it('stores every profile exactly once and the new process reports the redeliveries', async () => {
    const inputs = WINTER_FILES.map((name) => ({ name, bytes: winterBytes(name) }));
    const expected = await referenceRun(inputs, PARAMS, join(tmp, 'q-ref'));
    expect(expected.ids.size).toBeGreaterThan(150);

    broker = await startMosquitto();
    const dataDir = join(tmp, 'data');
    const config = serviceConfig(dataDir, [{ kind: 'mqtt', url: broker.url, client_id: 'fault-kill', max_in_flight: 8, announce_products: false }], { params: PARAMS });
    service = await startServe(config, tmp, 'service-1');
    const dbPath = join(dataDir, 'lidar-pm.sqlite');
    const stored = async () => new Set(await embeddedIds(dbPath)).size;

    const pub = await connectPublisher({ url: broker.url, clientId: 'fault-kill-station' });
    for (const f of inputs) await pub.publishRaw('sofia', f.bytes);
    await pub.close();
    await until(async () => (await stored()) >= 30, 60_000, 'the first profiles');
    const processedBefore = (await metric(service.url, 'lidar_pm_pipeline_processed_total', { station: 'sofia' })) ?? 0;
    await crash(service);
    expect(processedBefore).toBeLessThan(inputs.length - 8); // mid-stream: messages were in flight
    const atKill = await stored();
    expect(atKill).toBeLessThan(expected.ids.size * 0.8); // mid-stream

    service = await startServe(config, tmp, 'service-2');
    await until(async () => (await stored()) >= expected.ids.size, 120_000, 'all profiles stored');
    await until(async () => (await metric(service!.url, 'lidar_pm_source_stat', { source: 'mqtt', stat: 'in_flight' })) === 0, 60_000, 'no MQTT message in flight');

    // Health of the restarted process.
    const redelivered = await metric(service.url, 'lidar_pm_source_stat', { source: 'mqtt', stat: 'redelivered' });
    const processed = await metric(service.url, 'lidar_pm_pipeline_processed_total', { station: 'sofia' });
    expect(redelivered).toBeGreaterThan(0); // what was in flight at the kill came back marked DUP
    expect(processed).toBeGreaterThan(0);
    expect(processed).toBeLessThan(inputs.length); // it finished the stream, it did not redo it
    expect((await readyz(service.url)).status).toBe(200);
    const status = await stationStatus(service.url);
    expect(status.retrieval.quarantined).toBe(0);
    expect(status.store.reachable).toBe(true);
    expect(status.sources.every((s) => s.connected)).toBe(true);

    expect(await shutdown(service)).toBe(0);
    service = null;
    const ids = await embeddedIds(dbPath);
    expect(duplicates(ids)).toEqual([]);
    expect(new Set(ids)).toEqual(expected.ids);
  }, 240_000);
});
