// Fault: the MQTT broker is KILLED (SIGKILL, no clean shutdown) mid-stream and started again.
//
// Injects: the winter scenario (192 Licel files) is published to a real mosquitto (persistence on,
// autosave every second) and consumed by the real service process (`lidar-pm serve`, MQTT source ->
// worker pool -> embedded store). While the service is part-way through (checked: it has processed
// fewer files than were published, so messages are in flight), the broker is SIGKILLed; messages in
// flight to the service lose their PUBACK path. The broker is restarted on the same port with its
// persistence file.
// (tests/ingest-e2e.test.ts covers the graceful broker restart, SIGTERM, and the service kill.)
//
// Checks: (a) no profile lost and (b) none duplicated: the stored id list equals the set an
// uninterrupted in-order run stores, each id once, nothing quarantined; (c) the service recovers by
// itself: no restart of the service, its MQTT source reconnects and the broker redelivers what was
// unacknowledged; (d) health shows it: /readyz turns 503 naming the MQTT source while the broker is
// down and 200 again afterwards; /metrics counts the reconnect and the redeliveries.
//
// What a broker SIGKILL can lose is the broker's business: messages it PUBACKed to the publisher but
// had not saved yet (autosave_interval). The kill is therefore made after the broker's persistence
// file was written following the last PUBACK, so the test measures our side, not mosquitto's window.
import { describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { faultWorkspace } from './fault-workspace.js';
import { startMosquitto, type MosquittoBroker } from './harness/mosquitto.js';
import { connectPublisher } from '../ingest/mqtt/publisher.js';
import { WINTER_FILES, winterBytes, referenceRun, startServe, serviceConfig, until, readyz, metric, embeddedIds, duplicates, shutdown, type ServiceProcess } from './fault-harness.js';

const PARAMS = { monte_carlo: 30 }; // ~50-100 ms per file on one worker: the stream lasts long enough to be cut
let broker: MosquittoBroker | null = null;
let service: ServiceProcess | null = null;
const tmp = faultWorkspace('lidar-fault-broker-', async () => {
  service?.child.kill('SIGKILL');
  await broker?.cleanup();
});

describe('fault: MQTT broker SIGKILLed mid-stream', () => {
  it('stores every profile exactly once, reconnects by itself, and health shows the outage', async () => {
    const inputs = WINTER_FILES.map((name) => ({ name, bytes: winterBytes(name) }));
    const expected = await referenceRun(inputs, PARAMS, join(tmp, 'q-ref'));
    expect(expected.ids.size).toBeGreaterThan(150);

    broker = await startMosquitto();
    const dataDir = join(tmp, 'data');
    service = await startServe(serviceConfig(dataDir, [{ kind: 'mqtt', url: broker.url, client_id: 'fault-broker', max_in_flight: 8, announce_products: false }], { params: PARAMS }), tmp, 'service');
    const dbPath = join(dataDir, 'lidar-pm.sqlite');
    const stored = async () => new Set(await embeddedIds(dbPath)).size;
    expect((await readyz(service.url)).status).toBe(200);

    const pub = await connectPublisher({ url: broker.url, clientId: 'fault-broker-station' });
    for (const f of inputs) await pub.publishRaw('sofia', f.bytes);
    const lastPubackMs = Date.now();
    await pub.close();
    await until(async () => (await stored()) >= 20, 60_000, 'the first profiles');
    // The broker saved its state after the last PUBACK (so the kill tests our side, see the header).
    await until(() => statSync(join(broker!.dir, 'mosquitto.db')).mtimeMs > lastPubackMs + 50, 20_000, 'a broker autosave after the last publish');
    const processedAtKill = (await metric(service.url, 'lidar_pm_pipeline_processed_total', { station: 'sofia' })) ?? 0;
    await broker.kill();
    expect(processedAtKill).toBeLessThan(inputs.length - 8); // mid-stream: a full window of messages was in flight

    // Health while the broker is down: not ready, naming the MQTT source.
    await until(async () => {
      const r = await readyz(service!.url);
      return r.status === 503 && r.body.problems.some((p) => /source mqtt not connected/.test(p));
    }, 30_000, '/readyz 503 naming the MQTT source');

    await broker.restart(); // same port, same persistence file
    await until(async () => (await readyz(service!.url)).status === 200, 60_000, '/readyz 200 after the broker is back');
    await until(async () => (await stored()) >= expected.ids.size, 120_000, 'all profiles stored');
    // Drained: nothing left in flight (late redeliveries would only rewrite, but wait for them).
    await until(async () => (await metric(service!.url, 'lidar_pm_source_stat', { source: 'mqtt', stat: 'in_flight' })) === 0, 60_000, 'no MQTT message in flight');

    const reconnects = await metric(service.url, 'lidar_pm_source_stat', { source: 'mqtt', stat: 'reconnects' });
    const received = await metric(service.url, 'lidar_pm_source_stat', { source: 'mqtt', stat: 'received' });
    const quarantined = await metric(service.url, 'lidar_pm_pipeline_quarantined_total', { station: 'sofia' });
    expect(reconnects).toBeGreaterThanOrEqual(1);
    // Unacknowledged messages came again after the reconnect: more deliveries than files.
    expect(received).toBeGreaterThan(inputs.length);
    expect(quarantined).toBe(0);

    expect(await shutdown(service)).toBe(0);
    service = null;
    const ids = await embeddedIds(dbPath);
    expect(duplicates(ids)).toEqual([]);
    expect(new Set(ids)).toEqual(expected.ids);
  }, 240_000);
});
