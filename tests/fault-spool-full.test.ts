// Fault: the disk of the store spool is (nearly) full while the database is away.
//
// Injects: the service (`lidar-pm serve`, influx store, MQTT source) writes the first 30 winter files
// straight to InfluxDB; then InfluxDB is SIGKILLed and the rest of the scenario arrives, so every write
// goes to the disk spool, and the spool runs out of room:
// - "tmpfs": the spool directory is a 3 MiB tmpfs (`mount -t tmpfs -o size=3m`, we run as root), so
//   appends fail with ENOSPC from the kernel;
// - "budget": the spool's own byte budget (store.spool_max_bytes = 1 MiB, its minimum), so appends
//   are refused with "spool full". This path runs everywhere; the tmpfs path only where mounting works.
// Then InfluxDB comes back (same port and data) and nothing else is touched.
//
// Checks, the same on both paths: nothing acknowledged that is not durable: every profile the
// service announced as stored (its `stored` events on GET /api/v1/events, sent after the ack) is in
// InfluxDB (before the kill) or in the spool's segment files (after it); backpressure: the rest stays
// unacknowledged at the broker (the MQTT source is blocked at max_in_flight, the pipeline did not
// process most of the stream); health shows it: the pipeline's store retries keep growing
// (/metrics), the spool gauges stay within the budget, /readyz reports the store unreachable with
// points spooled. (a)+(b)+(c): once the database is back, everything is delivered by itself, each
// profile once (the InfluxDB rows equal an uninterrupted run), and the disk space comes back (the
// spool directory shrinks to almost nothing, the spool gauges go to 0).
// A last, unit-level case checks the spool's side of that: drained segments are deleted at once, and
// a crash after the deletion but before the head file moved on loses no later record.
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMosquitto, type MosquittoBroker } from './harness/mosquitto.js';
import { startInfluxd, type InfluxdHandle } from './harness/influxd.js';
import { connectPublisher } from '../ingest/mqtt/publisher.js';
import { createSpool, SPOOL_HEADER_BYTES } from '../store/spool.js';
import { WINTER_FILES, winterBytes, referenceRun, startServe, serviceConfig, until, readyz, metric, influxIds, duplicates, shutdown, type ServiceProcess } from './fault-harness.js';

const PARAMS = { monte_carlo: 10 };
const tmp = mkdtempSync(join(tmpdir(), 'lidar-fault-spool-'));
const mounts: string[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  for (const m of mounts) {
    try {
      execFileSync('umount', [m]);
    } catch {
      /* not mounted */
    }
  }
  if (!process.env.KEEP_FAULT) rmSync(tmp, { recursive: true, force: true });
});

/** Mounts a small tmpfs at dir; false when this machine does not let us (not root, no CAP_SYS_ADMIN). */
function mountTmpfs(dir: string, size: string): boolean {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    mounts.push(dir);
    return true;
  } catch {
    return false;
  }
}
const canMount = mountTmpfs(join(tmp, 'probe'), '1m');

/** Profile keys (station:channel:timeMs) in the line protocol of every record of a spool directory. */
function spooledProfileKeys(dir: string): Set<string> {
  const keys = new Set<string>();
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.seg'))) {
    const data = readFileSync(join(dir, name));
    for (let off = 0; off + SPOOL_HEADER_BYTES <= data.length; ) {
      const length = data.readUInt32BE(off + 4);
      if (off + SPOOL_HEADER_BYTES + length > data.length) break; // torn tail of a failed append
      const text = data.subarray(off + SPOOL_HEADER_BYTES, off + SPOOL_HEADER_BYTES + length).toString('utf8');
      for (const line of text.split('\n').slice(1)) {
        if (!line.startsWith('profile,')) continue;
        const tags = Object.fromEntries(line.slice(0, line.indexOf(' ')).split(',').slice(1).map((t) => t.split('=')));
        keys.add(`${tags.station}:${tags.channel}:${line.slice(line.lastIndexOf(' ') + 1)}`);
      }
      off += SPOOL_HEADER_BYTES + length;
    }
  }
  return keys;
}

function dirBytes(dir: string): number {
  return readdirSync(dir).reduce((s, n) => s + statSync(join(dir, n)).size, 0);
}

/** Collects the `stored` events of the service's event stream. */
function watchStored(url: string): { ids: Set<string>; files: () => number; close(): void } {
  const ids = new Set<string>();
  let files = 0;
  const abort = new AbortController();
  void (async () => {
    const res = await fetch(`${url}/api/v1/events?station=sofia`, { signal: abort.signal });
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += dec.decode(value, { stream: true });
      let cut;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const frame = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        if (!/^event: stored$/m.test(frame)) continue;
        const data = JSON.parse(/^data: (.*)$/m.exec(frame)![1]) as { ids: string[] };
        files++;
        for (const id of data.ids) ids.add(id);
      }
    }
  })().catch(() => undefined);
  return { ids, files: () => files, close: () => abort.abort() };
}

const modes = canMount ? (['tmpfs', 'budget'] as const) : (['budget'] as const);

describe.each(modes)('fault: spool disk full (%s)', (mode) => {
  it('acknowledges only what is durable, shows the refusal, delivers everything once space returns', async () => {
    const inputs = WINTER_FILES.map((name) => ({ name, bytes: winterBytes(name) }));
    const expected = await referenceRun(inputs, PARAMS, join(tmp, `q-ref-${mode}`));
    expect(expected.ids.size).toBeGreaterThan(150);

    const influx: InfluxdHandle = await startInfluxd();
    cleanups.push(() => influx.stop());
    const broker: MosquittoBroker = await startMosquitto();
    cleanups.push(() => broker.cleanup());
    const dataDir = join(tmp, `data-${mode}`);
    const spoolDir = join(tmp, `spool-${mode}`);
    if (mode === 'tmpfs') expect(mountTmpfs(spoolDir, '3m')).toBe(true);
    const store = { kind: 'influx', url: influx.url, database: 'lidar_spool', spool_dir: spoolDir, raw_retention: 'INF', ...(mode === 'budget' ? { spool_max_bytes: 1 << 20 } : {}) };
    const service: ServiceProcess = await startServe(serviceConfig(dataDir, [{ kind: 'mqtt', url: broker.url, client_id: `fault-spool-${mode}`, max_in_flight: 8, announce_products: false }], { params: PARAMS, store }), tmp, `service-${mode}`);
    cleanups.push(async () => void service.child.kill('SIGKILL'));
    const events = watchStored(service.url);
    cleanups.push(async () => events.close());

    // A first part goes straight to the database (the station's verticals are then in memory: a scan
    // without one would wait for a calibration read from the database instead of spooling).
    const first = 30;
    const pub = await connectPublisher({ url: broker.url, clientId: `fault-spool-station-${mode}` });
    for (const f of inputs.slice(0, first)) await pub.publishRaw('sofia', f.bytes);
    await until(async () => (await metric(service.url, 'lidar_pm_pipeline_processed_total', { station: 'sofia' })) === first && events.files() === first, 60_000, 'the first part processed');
    const direct = new Set(await influxIds(influx.url, 'lidar_spool'));
    const ackedDirect = new Set(events.ids);
    expect([...ackedDirect].filter((id) => !direct.has(id))).toEqual([]);

    await influx.kill();
    for (const f of inputs.slice(first)) await pub.publishRaw('sofia', f.bytes);
    await pub.close();

    // The refusal shows in health: the pipeline's store retries keep growing, the spool holds what
    // it can (at most its budget; on the nearly full disk a small record may still fit, so a few more
    // items can trickle through), /readyz is 503 with points spooled. (The reason text, "spool full" / ENOSPC, is the station's last error; the routes that
    // show it also query the store, see docs/reliability.md.) A refused write may have spooled its
    // first chunks, so the byte gauge can still creep up to the limit: it is not a plateau test.
    const minSpooled = mode === 'tmpfs' ? 1.5 * 2 ** 20 : 0.5 * 2 ** 20;
    await until(async () => ((await metric(service.url, 'lidar_pm_store_spooled_bytes')) ?? 0) > minSpooled, 90_000, `more than ${minSpooled} bytes spooled`);
    const retriesFull = (await metric(service.url, 'lidar_pm_pipeline_retries_total', { station: 'sofia' }))!;
    await until(async () => ((await metric(service.url, 'lidar_pm_pipeline_retries_total', { station: 'sofia' })) ?? 0) >= retriesFull + 3, 90_000, 'three more store retries');
    if (mode === 'budget') expect(await metric(service.url, 'lidar_pm_store_spooled_bytes')).toBeLessThanOrEqual(1 << 20);
    const ready = await readyz(service.url);
    expect(ready.status).toBe(503);
    expect(ready.body.store.spooled_points).toBeGreaterThan(0);

    // Backpressure: the stream is held at the broker, not acknowledged.
    const processed = (await metric(service.url, 'lidar_pm_pipeline_processed_total', { station: 'sofia' })) ?? 0;
    expect(processed).toBeLessThan(inputs.length / 2);
    expect(await metric(service.url, 'lidar_pm_source_stat', { source: 'mqtt', stat: 'in_flight' })).toBe(8);
    // Every acknowledged profile is durable: all `stored` events have arrived (one per processed
    // file); those of the first part are in the database, every later one is in a spool record.
    await until(() => events.files() >= processed, 30_000, 'the stored events of the processed files');
    const spooled = spooledProfileKeys(spoolDir);
    const ackedLater = [...events.ids].filter((id) => !ackedDirect.has(id));
    expect(ackedLater.length).toBeGreaterThan(0);
    expect(ackedLater.filter((id) => !spooled.has(id))).toEqual([]);

    // Space returns: the database is back, the spool drains, the held items go through.
    await influx.restart();
    await until(async () => new Set(await influxIds(influx.url, 'lidar_spool')).size >= expected.ids.size, 150_000, 'all profiles in InfluxDB');
    await until(async () => {
      const r = await readyz(service.url);
      return r.status === 200 && r.body.store.spooled_points === 0;
    }, 60_000, '/readyz 200 with the spool empty');
    expect(await metric(service.url, 'lidar_pm_store_spooled_bytes')).toBe(0);
    // The disk space itself is given back (consumed segments removed), not only the accounting.
    await until(() => dirBytes(spoolDir) < 64 * 1024, 30_000, `the spool directory to shrink (holds ${dirBytes(spoolDir)} bytes)`);

    expect(await shutdown(service)).toBe(0);
    events.close();
    const ids = await influxIds(influx.url, 'lidar_spool');
    expect(duplicates(ids)).toEqual([]);
    expect(new Set(ids)).toEqual(expected.ids);
  }, 300_000);
});

describe('spool: space given back when drained, crash-safe', () => {
  it('deletes the drained segments at once, and a crash before the head moved on loses nothing', async () => {
    const dir = join(tmp, 'unit-spool');
    const a = createSpool({ dir, maxBytes: 1 << 20 });
    await a.open();
    for (let i = 0; i < 3; i++) await a.append(`r${i}-${'x'.repeat(1000)}`, 1);
    const oldHead = { segment: 1, offset: 2 * (SPOOL_HEADER_BYTES + 1003) }; // where the head was before the last ack
    for (let r = await a.peek(); r !== null; r = await a.peek()) await a.ack(r.seq);
    expect(readdirSync(dir).filter((n) => n.endsWith('.seg'))).toEqual([]); // the bytes are gone from the disk
    await a.close();
    // The crash case: segment 1 removed, the process died before the head file moved on.
    writeFileSync(join(dir, 'head'), JSON.stringify(oldHead));
    const b = createSpool({ dir, maxBytes: 1 << 20 });
    await b.open();
    await b.append('new 1', 1);
    await b.append('new 2', 1);
    await b.close();
    const c = createSpool({ dir, maxBytes: 1 << 20 });
    await c.open();
    const texts: string[] = [];
    for (let r = await c.peek(); r !== null; r = await c.peek()) {
      texts.push(r.payload.toString('utf8'));
      await c.ack(r.seq);
    }
    await c.close();
    expect(texts).toEqual(['new 1', 'new 2']); // read from offset 0 of the next segment, not skipped
  });
});
