/**
 * Makes fixtures/captures/sofia-winter-inversion.mqtt and its manifest (.mqtt.json): starts a real
 * mosquitto (tests/harness/mosquitto.ts), records `lidar/#` with the recorder while a publisher plays the 192
 * winter Licel files on `lidar/sofia/raw` at their measurement pacing (stop times) sped up SPEED
 * times, with a housekeeping message on `lidar/sofia/status` every 15 measurement minutes and the
 * retained `lidar/sofia/online` 'true' first.
 *
 * The recording is checked against what was published (same order, topics, bytes, retain flags,
 * properties). The committed file keeps the recorded messages but its arrival offsets are the
 * publish schedule (measurement offset / SPEED), so the file is byte-for-byte reproducible; the
 * measured deviation from that schedule is printed.
 *
 *   npx tsx scripts/make-mqtt-capture.ts
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeLicel } from '../processing/licel/index.js';
import { encodeMqttCapture, readMqttCapture, type MqttCapture } from '../ingest/mqtt/capture.js';
import { connectPublisher } from '../ingest/mqtt/publisher.js';
import { recordMqtt } from '../ingest/mqtt/recorder.js';
import { onlineTopic, rawTopic, statusTopic } from '../ingest/mqtt/topics.js';
import { startMosquitto } from '../tests/harness/mosquitto.js';

export const SCENARIO = 'sofia-winter-inversion';
export const STATION = 'sofia';
/** Measurement time / capture time: 2 h of measurements in 24 s. */
export const SPEED = 300;
const STATUS_EVERY_MS = 15 * 60_000;

const ROOT = join(import.meta.dirname, '..');
const SCENARIO_DIR = join(ROOT, 'fixtures', 'scenarios', SCENARIO);
const OUT_DIR = join(ROOT, 'fixtures', 'captures');

interface Planned {
  /** Measurement-time offset from the first file's start, ms. */
  offsetMs: number;
  topic: string;
  payload: Buffer;
  retain: boolean;
  file: string | null;
  kind: 'online' | 'status' | 'raw';
  status?: object;
}

/** Local 'YYYY-MM-DDTHH:MM:SS' (no zone) as ms on a zone-less clock. */
const localMs = (s: string): number => Date.parse(`${s}Z`);

function isoLocal(ms: number, utcOffsetHours: number): string {
  const sign = utcOffsetHours >= 0 ? '+' : '-';
  const h = String(Math.floor(Math.abs(utcOffsetHours))).padStart(2, '0');
  const m = String(Math.round((Math.abs(utcOffsetHours) % 1) * 60)).padStart(2, '0');
  return `${new Date(ms).toISOString().slice(0, 19)}${sign}${h}:${m}`;
}

const r2 = (x: number): number => Math.round(x * 100) / 100;

/** Plausible, deterministic housekeeping for a winter evening at Sofia (620 m). */
export function housekeeping(k: number, timeLocalMs: number, utcOffsetHours: number): object {
  return {
    time: isoLocal(timeLocalMs, utcOffsetHours),
    laser_energy_mj: r2(82.4 - 0.18 * k + 0.07 * Math.sin(k * 1.7)),
    temperatures: {
      laser_head_c: r2(24.6 + 0.12 * k),
      detector_532_c: r2(21.0 + 0.05 * k),
      detector_1064_c: r2(21.3 + 0.05 * k),
      enclosure_c: r2(19.8 - 0.15 * k),
      outside_c: r2(-2.4 - 0.35 * k),
    },
    detector_hv_v: { pmt_532: 780, pmt_1064: 820 },
    rh_pct: r2(Math.min(96, 81 + 1.6 * k)),
    pressure_hpa: r2(941.8 + 0.11 * k),
    shutter_open: true,
    rain: false,
  };
}

function utcOffsetHours(): number {
  return (JSON.parse(readFileSync(join(SCENARIO_DIR, 'truth.json'), 'utf8')) as { utc_offset_hours: number }).utc_offset_hours;
}

export function plan(): Planned[] {
  const offsetH = utcOffsetHours();
  const names = readdirSync(SCENARIO_DIR).filter((n) => n !== 'truth.json').sort();
  const files = names.map((name) => {
    const bytes = readFileSync(join(SCENARIO_DIR, name));
    const h = decodeLicel(bytes, name).header;
    return { name, bytes, startMs: localMs(h.startLocal), stopMs: localMs(h.stopLocal) };
  });
  const t0 = Math.min(...files.map((f) => f.startMs));
  const end = Math.max(...files.map((f) => f.stopMs));
  const out: Planned[] = [{ offsetMs: 0, topic: onlineTopic(STATION), payload: Buffer.from('true'), retain: true, file: null, kind: 'online' }];
  for (let k = 0; t0 + k * STATUS_EVERY_MS < end; k++) {
    const status = housekeeping(k, t0 + k * STATUS_EVERY_MS, offsetH);
    out.push({ offsetMs: k * STATUS_EVERY_MS, topic: statusTopic(STATION), payload: Buffer.from(JSON.stringify(status)), retain: false, file: null, kind: 'status', status });
  }
  for (const f of files) out.push({ offsetMs: f.stopMs - t0, topic: rawTopic(STATION), payload: f.bytes, retain: false, file: f.name, kind: 'raw' });
  // Stable: at equal offsets online < status < raw as pushed.
  return out.map((p, i) => ({ p, i })).sort((a, b) => a.p.offsetMs - b.p.offsetMs || a.i - b.i).map((x) => x.p);
}

async function main(): Promise<void> {
  const planned = plan();
  const work = mkdtempSync(join(tmpdir(), 'lidar-pm-capture-'));
  const tmpCapture = join(work, 'recording.mqtt');
  const broker = await startMosquitto();
  try {
    const recorder = await recordMqtt({ url: broker.url, topics: ['lidar/#'], out: tmpCapture, clientId: 'lidar-pm-capture-recorder' });
    const pub = await connectPublisher({ url: broker.url, clientId: 'sofia-station', willStation: STATION });
    const start = performance.now();
    for (const p of planned) {
      const wait = p.offsetMs / SPEED - (performance.now() - start);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (p.kind === 'online') await pub.publishOnline(STATION, true);
      else if (p.kind === 'status') await pub.publishStatus(STATION, p.status!);
      else await pub.publishRaw(STATION, p.payload);
    }
    await recorder.waitFor(planned.length, 30_000);
    const wallMs = performance.now() - start;
    await pub.close();
    await recorder.stop();

    const recorded = readMqttCapture(readFileSync(tmpCapture), tmpCapture);
    if (recorded.messages.length !== planned.length) throw new Error(`recorded ${recorded.messages.length} messages, published ${planned.length}`);
    const firstT = recorded.messages[0]!.tMs;
    let maxDeviationMs = 0;
    const messages = recorded.messages.map((m, i) => {
      const p = planned[i]!;
      if (m.topic !== p.topic || Buffer.compare(Buffer.from(m.payload), p.payload) !== 0 || m.retain !== p.retain || m.qos !== 1) {
        throw new Error(`message ${i} (${p.file ?? p.kind}) differs between publish and recording: ${m.topic} retain=${m.retain} qos=${m.qos}`);
      }
      if (p.kind === 'status' && m.properties?.contentType !== 'application/json') throw new Error(`message ${i}: status properties lost (${JSON.stringify(m.properties)})`);
      const nominal = p.offsetMs / SPEED;
      maxDeviationMs = Math.max(maxDeviationMs, Math.abs(m.tMs - firstT - nominal));
      return { ...m, tMs: nominal };
    });
    const capture: MqttCapture = {
      meta: {
        format: 'lidar-pm mqtt capture',
        version: 1,
        scenario: SCENARIO,
        station: STATION,
        speed: SPEED,
        topics: ['lidar/#'],
        measurementStart: isoLocal(localMs(decodeLicel(planned.find((p) => p.kind === 'raw')!.payload).header.startLocal), utcOffsetHours()),
        note: 'recorded through mosquitto 2.0.11 by scripts/make-mqtt-capture.ts; arrival offsets are the publish schedule (measurement offset / speed)',
      },
      messages,
    };
    const bytes = encodeMqttCapture(capture);
    // The committed file must read back to the same messages.
    const back = readMqttCapture(bytes);
    if (back.messages.length !== messages.length) throw new Error('capture does not read back');

    mkdirSync(OUT_DIR, { recursive: true });
    const capName = `${SCENARIO}.mqtt`;
    writeFileSync(join(OUT_DIR, capName), bytes);
    const manifest = {
      capture: capName,
      format: 'LPMQCAP version 1 (ingest/mqtt/capture.ts)',
      scenario: SCENARIO,
      speed: SPEED,
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      messages: messages.map((m, i) => ({
        i,
        t_ms: m.tMs,
        topic: m.topic,
        retain: m.retain,
        bytes: m.payload.length,
        sha256: createHash('sha256').update(m.payload).digest('hex'),
        file: planned[i]!.file,
      })),
    };
    writeFileSync(join(OUT_DIR, `${capName}.json`), JSON.stringify(manifest, null, 1) + '\n');
    const counts = { raw: planned.filter((p) => p.kind === 'raw').length, status: planned.filter((p) => p.kind === 'status').length, online: 1 };
    console.log(
      `${capName}: ${messages.length} messages (${counts.raw} raw, ${counts.status} status, ${counts.online} online), ${bytes.length} bytes; ` +
        `played in ${(wallMs / 1000).toFixed(1)} s (speed ${SPEED}); largest arrival deviation from the schedule ${maxDeviationMs.toFixed(1)} ms`,
    );
  } finally {
    await broker.cleanup();
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
