/**
 * Soak: N hours (default 24) of the Sofia winter scenario — the 2 h recording looped and re-stamped,
 * each pass continuing after the previous one, ending an hour before now — published as fast as the
 * service takes them through a real mosquitto into a real `lidar-pm serve` process with a real
 * influxd store. Every few seconds the service's resident memory (VmRSS from /proc/<pid>/status) and
 * V8 heap (from its /metrics) are sampled. At the end the profiles in InfluxDB are compared with the
 * known answer (an in-memory run of the first two passes, shifted), and the curve and a summary are
 * written (docs/bench/soak.json) and printed.
 *
 *   npx tsx scripts/soak.ts                     # 24 h of data, docs/bench/soak.json
 *   npx tsx scripts/soak.ts --hours 1 --out /tmp/soak.json --sample-ms 1000
 *
 * Options: --hours H (data hours), --window N (files published but not yet processed, default 64:
 * the broker's queue stays bounded), --sample-ms (default 3000), --workers (default: the service's
 * default, one per core), --monte-carlo (default: the parameter default), --out FILE, --keep (keep the
 * temp dir with the service log). Exit code 1 when the stored set differs from the expected one.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeLicel } from '../processing/licel/decode.js';
import { encodeLicel } from '../processing/licel/encode.js';
import { shiftLicelTimes } from '../processing/licel/shift.js';
import { loadReplayFiles, replayPeriodMs } from '../ingest/replay.js';
import { connectPublisher } from '../ingest/mqtt/publisher.js';
import { startInfluxd } from '../tests/harness/influxd.js';
import { startMosquitto } from '../tests/harness/mosquitto.js';
import { WINTER, STATION, referenceRun, startServe, serviceConfig, metric, influxIds, duplicates, shutdown, until } from '../tests/fault-harness.js';

const HOUR_MS = 3_600_000;

interface Sample {
  t_s: number;
  rss_mib: number;
  heap_mib: number | null;
  published: number;
  processed: number;
  spooled_points: number;
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den > 0 ? num / den : NaN;
}

export interface SoakResult {
  expected: number;
  stored: number;
  duplicates: number;
  files: number;
  ok: boolean;
  summary: Record<string, number | string>;
}

export async function soak(opts: { hours: number; window: number; sampleMs: number; workers?: number; monteCarlo?: number; out: string | null; keep: boolean; log?: (line: string) => void }): Promise<SoakResult> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const tmp = mkdtempSync(join(tmpdir(), 'lidar-soak-'));
  const files = await loadReplayFiles(WINTER, STATION.timezone);
  const period = replayPeriodMs(files);
  const first = files[0].timeMs;
  const spanMs = opts.hours * HOUR_MS;
  // The data end an hour before now (the pipeline refuses start times > 1 h after arrival).
  const base = Date.now() - HOUR_MS - spanMs - first;
  const plan: Array<{ index: number; loop: number; deltaMs: number }> = [];
  for (let loop = 0; ; loop++) {
    let added = false;
    for (let i = 0; i < files.length; i++) {
      if (loop * period + (files[i].timeMs - first) >= spanMs) break;
      plan.push({ index: i, loop, deltaMs: Math.round((base + loop * period) / 1000) * 1000 });
      added = true;
    }
    if (!added) break;
  }
  const params = opts.monteCarlo === undefined ? {} : { monte_carlo: opts.monteCarlo };

  // Known answer: pass 0 and pass 1 (a later pass is calibrated by the previous one's verticals like pass 1).
  const t0Ref = Date.now();
  const refInputs = [...files.map((f) => ({ name: f.name, bytes: f.bytes })), ...files.map((f) => {
    const shifted = shiftLicelTimes(decodeLicel(f.bytes, f.name), period, STATION.timezone);
    return { name: shifted.header.fileName, bytes: encodeLicel(shifted) };
  })];
  const ref = await referenceRun(refInputs, params, join(tmp, 'q-ref'));
  const refDelta = [0, Math.round(period / 1000) * 1000];
  const expected = new Set<string>();
  for (const p of plan) {
    const pass = Math.min(p.loop, 1);
    for (const id of ref.perInput[pass * files.length + p.index]) {
      const cut = id.lastIndexOf(':');
      expected.add(`${id.slice(0, cut)}:${Number(id.slice(cut + 1)) - refDelta[pass] + p.deltaMs}`);
    }
  }
  log(`soak: ${opts.hours} h of data = ${plan.length} files (${files.length} per 2 h pass), ${expected.size} profiles expected (reference in ${((Date.now() - t0Ref) / 1000).toFixed(1)} s)`);

  const influx = await startInfluxd();
  const broker = await startMosquitto();
  const database = 'lidar_soak';
  let service: Awaited<ReturnType<typeof startServe>> | null = null;
  const samples: Sample[] = [];
  let published = 0;
  try {
    const dataDir = join(tmp, 'data');
    const store = { kind: 'influx', url: influx.url, database, spool_dir: join(dataDir, 'spool') };
    service = await startServe(serviceConfig(dataDir, [{ kind: 'mqtt', url: broker.url, client_id: 'soak', announce_products: false }], { params, store, ...(opts.workers === undefined ? {} : { workers: opts.workers }) }), tmp, 'service');
    const svc = service;
    const started = Date.now();
    let processed = 0;
    let spooled = 0;
    const sample = async () => {
      const [heap, proc, sp] = await Promise.all([
        metric(svc.url, 'nodejs_heap_used_bytes').catch(() => undefined),
        metric(svc.url, 'lidar_pm_pipeline_processed_total', { station: 'sofia' }).catch(() => undefined),
        metric(svc.url, 'lidar_pm_store_spooled_points').catch(() => undefined),
      ]);
      processed = proc ?? processed;
      spooled = sp ?? spooled;
      samples.push({ t_s: (Date.now() - started) / 1000, rss_mib: rssKiB(svc.pid) / 1024, heap_mib: heap === undefined ? null : heap / 2 ** 20, published, processed, spooled_points: spooled });
    };
    await sample();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        await new Promise((r) => setTimeout(r, opts.sampleMs));
        if (sampling) await sample().catch((e: Error) => log(`soak: sample failed: ${e.message}`));
      }
    })();

    const pub = await connectPublisher({ url: broker.url, clientId: 'soak-station' });
    let lastNote = Date.now();
    for (const p of plan) {
      // Bounded backlog: publish while fewer than `window` files wait for the service.
      while (published - processed >= opts.window) {
        await new Promise((r) => setTimeout(r, 100));
        processed = (await metric(svc.url, 'lidar_pm_pipeline_processed_total', { station: 'sofia' }).catch(() => undefined)) ?? processed;
      }
      const f = files[p.index];
      const bytes = p.deltaMs === 0 ? f.bytes : encodeLicel(shiftLicelTimes(decodeLicel(f.bytes, f.name), p.deltaMs, STATION.timezone));
      await pub.publishRaw('sofia', bytes);
      published++;
      if (Date.now() - lastNote > 30_000) {
        lastNote = Date.now();
        const s = samples[samples.length - 1];
        log(`soak: ${published}/${plan.length} published, ${processed} processed, RSS ${s.rss_mib.toFixed(0)} MiB, ${((Date.now() - started) / 1000).toFixed(0)} s`);
      }
    }
    await pub.close();
    await until(async () => ((await metric(svc.url, 'lidar_pm_pipeline_processed_total', { station: 'sofia' })) ?? 0) >= plan.length, 30 * 60_000, 'every file processed', 500);
    await until(async () => (await metric(svc.url, 'lidar_pm_store_spooled_points')) === 0, 10 * 60_000, 'the spool empty', 500);
    await sample();
    sampling = false;
    await sampler;
    const wallS = (Date.now() - started) / 1000;
    const code = await shutdown(svc);
    service = null;
    const ids = await influxIds(influx.url, database);
    const dup = duplicates(ids);
    const got = new Set(ids);
    const missing = [...expected].filter((id) => !got.has(id));
    const extra = [...got].filter((id) => !expected.has(id));
    const ok = dup.length === 0 && missing.length === 0 && extra.length === 0 && code === 0;

    const rss = samples.map((s) => s.rss_mib);
    const half = samples.filter((s) => s.t_s >= wallS / 2);
    const summary = {
      wall_s: Math.round(wallS),
      data_hours: opts.hours,
      data_hours_per_wall_minute: Number((opts.hours / (wallS / 60)).toFixed(2)),
      files_per_second: Number((plan.length / wallS).toFixed(1)),
      rss_start_mib: Number(rss[0].toFixed(1)),
      rss_peak_mib: Number(Math.max(...rss).toFixed(1)),
      rss_end_mib: Number(rss[rss.length - 1].toFixed(1)),
      rss_slope_second_half_mib_per_wall_minute: Number((slope(half.map((s) => s.t_s / 60), half.map((s) => s.rss_mib)) || 0).toFixed(3)),
      heap_peak_mib: Number(Math.max(...samples.map((s) => s.heap_mib ?? 0)).toFixed(1)),
      heap_end_mib: Number((samples[samples.length - 1].heap_mib ?? NaN).toFixed(1)),
      heap_slope_second_half_mib_per_wall_minute: Number((slope(half.filter((s) => s.heap_mib !== null).map((s) => s.t_s / 60), half.filter((s) => s.heap_mib !== null).map((s) => s.heap_mib!)) || 0).toFixed(3)),
      exit_code: String(code),
    };
    const result: SoakResult = { expected: expected.size, stored: got.size, duplicates: dup.length, files: plan.length, ok, summary };
    log(`soak: ${ok ? 'OK' : 'FAILED'}: ${got.size} of ${expected.size} expected profiles in InfluxDB (${missing.length} missing, ${extra.length} unexpected, ${dup.length} duplicated), service exit ${code}`);
    log(`soak: ${plan.length} files in ${summary.wall_s} s (${summary.data_hours_per_wall_minute} data hours per minute); RSS start ${summary.rss_start_mib} / peak ${summary.rss_peak_mib} / end ${summary.rss_end_mib} MiB; second-half slope ${summary.rss_slope_second_half_mib_per_wall_minute} MiB/min; heap peak ${summary.heap_peak_mib} MiB, end ${summary.heap_end_mib} MiB`);
    if (opts.out) {
      mkdirSync(dirname(resolve(opts.out)), { recursive: true });
      writeFileSync(
        opts.out,
        JSON.stringify(
          {
            command: `npx tsx scripts/soak.ts --hours ${opts.hours}${opts.workers === undefined ? '' : ` --workers ${opts.workers}`}${opts.monteCarlo === undefined ? '' : ` --monte-carlo ${opts.monteCarlo}`}`,
            date: new Date().toISOString(),
            machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, loadavg: loadavg() },
            setup: 'winter scenario looped + re-stamped -> mosquitto -> lidar-pm serve (MQTT source, influx store) -> influxd 1.x; publishing paced by a backlog window',
            params: Object.keys(params).length ? params : 'defaults',
            window: opts.window,
            result: { ...result, missing: missing.slice(0, 20), unexpected: extra.slice(0, 20) },
            samples,
          },
          null,
          1,
        ) + '\n',
      );
      log(`soak: curve written to ${opts.out}`);
    }
    return result;
  } finally {
    if (service) service.child.kill('SIGKILL');
    await broker.cleanup();
    await influx.stop();
    if (!opts.keep) rmSync(tmp, { recursive: true, force: true });
    else log(`soak: kept ${tmp}`);
  }
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]).endsWith(join('scripts', 'soak.ts'));
if (isMain) {
  const { values } = parseArgs({
    options: {
      hours: { type: 'string', default: '24' },
      window: { type: 'string', default: '64' },
      'sample-ms': { type: 'string', default: '3000' },
      workers: { type: 'string' },
      'monte-carlo': { type: 'string' },
      out: { type: 'string', default: 'docs/bench/soak.json' },
      keep: { type: 'boolean', default: false },
    },
  });
  const hours = Number(values.hours);
  if (!(hours > 0 && hours <= 24 * 30)) throw new Error(`--hours must be in (0, 720], got ${values.hours}`);
  soak({
    hours,
    window: Number(values.window),
    sampleMs: Number(values['sample-ms']),
    workers: values.workers === undefined ? undefined : Number(values.workers),
    monteCarlo: values['monte-carlo'] === undefined ? undefined : Number(values['monte-carlo']),
    out: values.out,
    keep: values.keep,
  }).then(
    (r) => process.exit(r.ok ? 0 : 1),
    (e: Error) => {
      console.error(e.stack ?? e.message);
      process.exit(2);
    },
  );
}
