// Fault: the serial device is removed and re-created under the running service (a USB unplug and
// replug).
//
// Injects: the service (`lidar-pm serve`, serial source -> pipeline -> embedded store) reads SLIP
// frames from one end of a real socat pseudo-terminal pair; the station side writes the winter
// scenario's Licel files as frames into the other end. After the first 100 files, socat is stopped:
// both device links vanish and the open port sees the device go. It stays away until the service has
// failed to reopen it, then socat is started again on the same link paths (a new /dev/pts behind
// them) and the station sends the rest, continuing its frame sequence numbers.
// (tests/serial-pty.test.ts covers the reopen at the source level; this is the whole service.)
//
// Checks: (a) no profile lost and (b) none duplicated: the stored ids equal those of an uninterrupted
// in-order run, each once; no sequence gap, nothing quarantined; (c) the service recovers by itself:
// it reopens the device path without a restart; (d) health shows it: /readyz is 503 naming the serial
// source while the device is gone and 200 after; /metrics counts the failed open attempts and the
// reopen.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { faultWorkspace } from './fault-workspace.js';
import { startPtyPair, type PtyPair } from './harness/socat.js';
import { openSerialWriter } from '../ingest/serial/writer.js';
import { WINTER_FILES, winterBytes, referenceRun, startServe, serviceConfig, until, readyz, metric, embeddedIds, duplicates, shutdown, type ServiceProcess } from './fault-harness.js';

const PARAMS = { monte_carlo: 0 };
let pty: PtyPair | null = null;
let service: ServiceProcess | null = null;
const tmp = faultWorkspace('lidar-fault-serial-', async () => {
  service?.child.kill('SIGKILL');
  await pty?.stop();
});

describe('fault: serial device removed and re-created', () => {
  it('reopens the device by itself, stores every profile once, health shows the outage and the reopen', async () => {
    const inputs = WINTER_FILES.map((name) => ({ name, bytes: winterBytes(name) }));
    const expected = await referenceRun(inputs, PARAMS, join(tmp, 'q-ref'));
    expect(expected.ids.size).toBeGreaterThan(150);

    const ptyDir = join(tmp, 'dev');
    mkdirSync(ptyDir);
    pty = await startPtyPair({ dir: ptyDir });
    const dataDir = join(tmp, 'data');
    service = await startServe(serviceConfig(dataDir, [{ kind: 'serial', path: pty.b, station: 'sofia' }], { params: PARAMS }), tmp, 'service');
    const source = `serial:${pty.b}`;
    const stat = (name: string) => metric(service!.url, 'lidar_pm_source_stat', { source, stat: name });
    const processed = async () => (await metric(service!.url, 'lidar_pm_pipeline_processed_total', { station: 'sofia' })) ?? 0;
    await until(async () => (await readyz(service!.url)).status === 200, 30_000, 'the serial source open');

    const part = 100;
    let writer = await openSerialWriter({ path: pty.a });
    for (const f of inputs.slice(0, part)) await writer.send('licel', f.bytes);
    await until(async () => (await processed()) === part, 60_000, 'the first part processed');
    await writer.close();

    // Unplug: the device and its links are gone.
    await pty.stop();
    expect(existsSync(pty.b)).toBe(false);
    await until(async () => {
      const r = await readyz(service!.url);
      return r.status === 503 && r.body.problems.includes(`source ${source} not connected`);
    }, 30_000, '/readyz 503 naming the serial source');
    await until(async () => ((await stat('open_failures')) ?? 0) >= 1, 30_000, 'a failed reopen attempt');

    // Replug on the same path.
    pty = await startPtyPair({ dir: ptyDir });
    await until(async () => (await readyz(service!.url)).status === 200, 60_000, '/readyz 200 after the replug');
    expect(await stat('reopens')).toBeGreaterThanOrEqual(1);
    writer = await openSerialWriter({ path: pty.a, startSeq: part });
    for (const f of inputs.slice(part)) await writer.send('licel', f.bytes);
    await until(async () => (await processed()) === inputs.length, 90_000, 'every file processed');
    await writer.close();

    expect(await stat('seq_gaps')).toBe(0);
    expect(await stat('received')).toBe(inputs.length);
    expect(await metric(service.url, 'lidar_pm_pipeline_quarantined_total', { station: 'sofia' })).toBe(0);
    expect(await shutdown(service)).toBe(0);
    service = null;
    const ids = await embeddedIds(join(dataDir, 'lidar-pm.sqlite'));
    expect(duplicates(ids)).toEqual([]);
    expect(new Set(ids)).toEqual(expected.ids);
  }, 240_000);
});
