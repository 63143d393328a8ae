/**
 * Makes the committed serial capture fixtures/captures/sofia-winter-inversion.serial and its manifest
 * (`npx tsx scripts/make-serial-capture.ts`; ~1 min, most of it Brotli).
 *
 * The 192 Licel files of the winter scenario are sent as SLIP frames (ARCHITECTURE.md "Transports")
 * into one end of a real socat pty pair, paced by their header start times sped up SPEED times, with
 * status frames and deterministic faults from a seeded generator; the recorder captures the other end.
 * The manifest lists exactly what the capture holds and the counters a correct reader must end with.
 * It is checked here by decoding the capture offline (ingest/serial/stream.ts) and comparing; any
 * difference fails the script. Re-running yields the same manifest (only the chunk timings differ).
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRng } from '../processing/random.js';
import { sha256Hex } from '../processing/hash/sha256.js';
import { decodeLicel } from '../processing/licel/index.js';
import { encodeFrame } from '../ingest/serial/frame.js';
import { slipEncode, SLIP_END, SLIP_ESC } from '../ingest/serial/slip.js';
import { captureBytes, compressSerialCapture, readSerialCapture } from '../ingest/serial/capture.js';
import { recordSerial } from '../ingest/serial/recorder.js';
import { openRawSerialWriter } from '../ingest/serial/writer.js';
import { SerialStreamDecoder, zeroSerialCounters, type SerialCounters } from '../ingest/serial/stream.js';
import { startPtyPair } from '../tests/harness/socat.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SCENARIO = 'sofia-winter-inversion';
const SEED = 20180119;
/** 2 h of scenario time in 30 s. */
const SPEED = 240;
const BAUD = 115200;
const OUT_DIR = join(root, 'fixtures', 'captures');
const CAPTURE_NAME = `${SCENARIO}.serial`;
/** Frame type for the unknown-type fault: a type this reader does not know (say, a future log frame). */
const UNKNOWN_TYPE = 3;

type Fault = 'payload-byte-flipped' | 'truncated' | 'dropped';

interface LicelInput {
  file: string;
  bytes: Uint8Array;
  /** Header start time, ms since the first file's. */
  tMs: number;
  startLocal: string;
}

type Planned =
  | { what: 'licel'; tMs: number; input: LicelInput; fault: Fault | null }
  | { what: 'status'; tMs: number; json: Record<string, unknown> }
  | { what: 'runt'; tMs: number }
  | { what: 'unknown-type'; tMs: number }
  | { what: 'garbage'; tMs: number; bytes: Uint8Array };

function loadScenario(): { inputs: LicelInput[]; utcOffsetHours: number; hv: Record<string, number> } {
  const dir = join(root, 'fixtures', 'scenarios', SCENARIO);
  const truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as { utc_offset_hours: number };
  const raw = readdirSync(dir)
    .filter((n) => n !== 'truth.json')
    .map((file) => {
      const bytes = new Uint8Array(readFileSync(join(dir, file)));
      const decoded = decodeLicel(bytes, file);
      return { file, bytes, startLocal: decoded.header.startLocal, decoded };
    })
    .sort((x, y) => (x.startLocal < y.startLocal ? -1 : x.startLocal > y.startLocal ? 1 : x.file < y.file ? -1 : 1));
  const t0 = Date.parse(raw[0].startLocal + 'Z');
  const hv: Record<string, number> = {};
  for (const d of raw[0].decoded.datasets) hv[`${d.wavelengthNm}${d.dataType === 0 ? 'a' : 'p'}`] = d.pmtVoltageV;
  return {
    inputs: raw.map((r) => ({ file: r.file, bytes: r.bytes, startLocal: r.startLocal, tMs: Date.parse(r.startLocal + 'Z') - t0 })),
    utcOffsetHours: truth.utc_offset_hours,
    hv,
  };
}

/** Local 'YYYY-MM-DDTHH:MM:SS' time (as ms on a zone-less clock) with the station's UTC offset. */
function isoLocal(ms: number, utcOffsetHours: number): string {
  const sign = utcOffsetHours >= 0 ? '+' : '-';
  const h = String(Math.floor(Math.abs(utcOffsetHours))).padStart(2, '0');
  const m = String(Math.round((Math.abs(utcOffsetHours) % 1) * 60)).padStart(2, '0');
  return `${new Date(ms).toISOString().slice(0, 19)}${sign}${h}:${m}`;
}

function plan(inputs: LicelInput[], utcOffsetHours: number, hv: Record<string, number>): Planned[] {
  const rng = createRng(SEED);
  const int = (lo: number, hi: number) => lo + Math.floor(rng.uniform() * (hi - lo + 1));
  // Fault positions: distinct, at least 4 files apart, away from both ends.
  const taken: number[] = [];
  const pick = (): number => {
    for (;;) {
      const i = int(3, inputs.length - 5);
      if (taken.every((t) => Math.abs(t - i) >= 4)) {
        taken.push(i);
        return i;
      }
    }
  };
  const faults = new Map<number, Fault>();
  for (let k = 0; k < 5; k++) faults.set(pick(), 'payload-byte-flipped');
  faults.set(pick(), 'truncated');
  faults.set(pick(), 'dropped');
  const double = pick();
  faults.set(double, 'dropped');
  faults.set(double + 1, 'dropped');

  const out: Planned[] = inputs.map((input, i) => ({ what: 'licel', tMs: input.tMs, input, fault: faults.get(i) ?? null }));
  const after = (i: number, ms: number) => inputs[i].tMs + ms;
  // Housekeeping every 48 files (~24 min), 10 s after a file; the same fields as the MQTT status
  // messages (scripts/make-mqtt-capture.ts), values drawn from the seeded generator.
  const r2 = (x: number) => Math.round(x * 100) / 100;
  for (let i = 20; i < inputs.length; i += 48) {
    const localMs = Date.parse(inputs[i].startLocal + 'Z') + 10_000;
    out.push({
      what: 'status',
      tMs: after(i, 10_000),
      json: {
        time: isoLocal(localMs, utcOffsetHours),
        laser_energy_mj: r2(80 + 4 * rng.uniform()),
        temperatures: {
          laser_head_c: r2(24 + 2 * rng.uniform()),
          detector_532_c: r2(20.5 + rng.uniform()),
          detector_1064_c: r2(20.8 + rng.uniform()),
          enclosure_c: r2(19 + 2 * rng.uniform()),
          outside_c: r2(-4 + 2 * rng.uniform()),
        },
        detector_hv_v: { pmt_532: hv['532a'], pmt_1064: hv['1064a'] },
        rh_pct: r2(78 + 15 * rng.uniform()),
        pressure_hpa: r2(941 + 2 * rng.uniform()),
        shutter_open: true,
        rain: false,
      },
    });
  }
  out.push({ what: 'runt', tMs: after(int(30, 60), 12_000) });
  out.push({ what: 'unknown-type', tMs: after(int(90, 120), 14_000) });
  for (let k = 0; k < 2; k++) {
    const bytes = new Uint8Array(int(40, 300)).map(() => int(0, 255));
    for (let j = 0; j < bytes.length; j++) if (bytes[j] === SLIP_END || bytes[j] === SLIP_ESC) bytes[j] = 0x3f;
    // A burst that starts with a frame type byte would be read as a damaged frame, not noise.
    if (bytes[0] === 1 || bytes[0] === 2) bytes[0] = 0x7e;
    out.push({ what: 'garbage', tMs: after(k === 0 ? int(60, 90) : int(140, 170), 20_000), bytes });
  }
  // Stable: planned times never tie with a file's (files are >= 30 s apart, extras at +10..20 s).
  return out.sort((x, y) => x.tMs - y.tMs);
}

interface Manifest {
  format: string;
  capture: string;
  made_by: string;
  scenario: string;
  seed: number;
  speed: number;
  line: { baud_rate: number; data_bits: number; parity: string; stop_bits: number };
  framing: string;
  wire_bytes: number;
  expected_counters: SerialCounters;
  licel: Array<{ seq: number; file: string; bytes: number; sha256: string; t_ms: number }>;
  status: Array<{ seq: number; bytes: number; sha256: string; json: Record<string, unknown> }>;
  corrupted: Array<{ seq: number; fault: string; reason: 'crc' | 'length' | 'unknown_type'; file?: string; detail: string }>;
  dropped: Array<{ seq: number; file: string }>;
  gaps: Array<{ expected: number; got: number; missing: number }>;
  garbage: Array<{ after_seq: number; bytes: number }>;
}

/** Wire bytes of the planned items, in order, and the manifest describing them. */
function build(planned: Planned[]): { writes: Array<{ tMs: number; bytes: Uint8Array }>; manifest: Manifest } {
  const rng = createRng(SEED + 1);
  const int = (lo: number, hi: number) => lo + Math.floor(rng.uniform() * (hi - lo + 1));
  const writes: Array<{ tMs: number; bytes: Uint8Array }> = [];
  const m: Manifest = {
    format: 'lidar-pm-serial-capture-manifest/1',
    capture: CAPTURE_NAME,
    made_by: 'npx tsx scripts/make-serial-capture.ts',
    scenario: `fixtures/scenarios/${SCENARIO}`,
    seed: SEED,
    speed: SPEED,
    line: { baud_rate: BAUD, data_bits: 8, parity: 'none', stop_bits: 1 },
    framing: 'SLIP (RFC 1055), END before and after each frame; frame = type u8 | seq u32 LE | payload | crc32 u32 LE',
    wire_bytes: 0,
    expected_counters: zeroSerialCounters(),
    licel: [],
    status: [],
    corrupted: [],
    dropped: [],
    gaps: [],
    garbage: [],
  };
  const c = m.expected_counters;
  let seq = 0;
  const drop: { pending: { expected: number; missing: number } | null } = { pending: null };
  const send = (tMs: number, frame: Uint8Array) => {
    writes.push({ tMs, bytes: slipEncode(frame) });
  };
  // A reader sees a gap at the next frame with a trustworthy seq (good or unknown type) after dropped
  // ones; damaged frames in between are subtracted from the jump (stream.ts), so `missing` is the
  // number dropped.
  const trusted = (s: number) => {
    if (drop.pending) {
      m.gaps.push({ expected: drop.pending.expected, got: s, missing: drop.pending.missing });
      drop.pending = null;
    }
  };
  for (const p of planned) {
    if (p.what === 'garbage') {
      writes.push({ tMs: p.tMs, bytes: p.bytes });
      m.garbage.push({ after_seq: seq - 1, bytes: p.bytes.length });
      c.garbage_bytes += p.bytes.length;
      continue;
    }
    const s = seq++;
    if (p.what === 'licel') {
      const { file, bytes } = p.input;
      if (p.fault === 'dropped') {
        m.dropped.push({ seq: s, file });
        if (drop.pending) drop.pending.missing++;
        else drop.pending = { expected: s, missing: 1 };
        c.seq_gaps++;
        continue;
      }
      const frame = encodeFrame('licel', s, bytes);
      if (p.fault === 'payload-byte-flipped') {
        const at = int(0, bytes.length - 1);
        const mask = 1 << int(0, 7);
        frame[5 + at] ^= mask;
        send(p.tMs, frame);
        m.corrupted.push({ seq: s, fault: p.fault, reason: 'crc', file, detail: `payload byte ${at} xor 0x${mask.toString(16).padStart(2, '0')}` });
        c.crc_errors++;
        continue;
      } else if (p.fault === 'truncated') {
        const keep = int(1000, bytes.length - 1000);
        send(p.tMs, frame.subarray(0, 5 + keep));
        m.corrupted.push({ seq: s, fault: p.fault, reason: 'crc', file, detail: `sent type, seq and the first ${keep} payload bytes, no CRC (sender reset)` });
        c.crc_errors++;
        continue;
      } else {
        send(p.tMs, frame);
        m.licel.push({ seq: s, file, bytes: bytes.length, sha256: sha256Hex(bytes), t_ms: p.tMs });
        c.frames++;
      }
    } else if (p.what === 'status') {
      const payload = new TextEncoder().encode(JSON.stringify(p.json));
      send(p.tMs, encodeFrame('status', s, payload));
      m.status.push({ seq: s, bytes: payload.length, sha256: sha256Hex(payload), json: p.json });
      c.frames++;
    } else if (p.what === 'runt') {
      // A status frame cut after type, seq and two payload bytes (7 bytes, no CRC).
      send(p.tMs, encodeFrame('status', s, new TextEncoder().encode('{"time":')).subarray(0, 7));
      m.corrupted.push({ seq: s, fault: 'runt', reason: 'length', detail: 'status frame cut to 7 bytes (type, seq, 2 payload bytes)' });
      c.bad_length++;
      continue;
    } else {
      send(p.tMs, encodeFrame(UNKNOWN_TYPE, s, new TextEncoder().encode('log: firmware 2.4 self-test ok')));
      m.corrupted.push({ seq: s, fault: 'unknown-type', reason: 'unknown_type', detail: `valid frame of type ${UNKNOWN_TYPE}` });
      c.unknown_type++;
    }
    trusted(s);
  }
  m.wire_bytes = writes.reduce((n, w) => n + w.bytes.length, 0);
  c.bytes = m.wire_bytes;
  return { writes, manifest: m };
}

/** Decodes the capture offline and compares with the manifest; throws on any difference. */
function verify(bytes: Uint8Array, m: Manifest): void {
  const dec = new SerialStreamDecoder();
  const events = dec.push(bytes);
  const problems: string[] = [];
  const same = (what: string, got: unknown, want: unknown) => {
    if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${what}: got ${JSON.stringify(got)}, manifest ${JSON.stringify(want)}`);
  };
  same('counters', dec.counters, m.expected_counters);
  const frames = events.flatMap((e) => (e.type === 'frame' ? [e] : []));
  same('licel frames', frames.filter((f) => f.kind === 'licel').map((f) => [f.seq, sha256Hex(f.payload)]), m.licel.map((l) => [l.seq, l.sha256]));
  same('status frames', frames.filter((f) => f.kind === 'status').map((f) => [f.seq, sha256Hex(f.payload)]), m.status.map((s) => [s.seq, s.sha256]));
  const rejects = events.flatMap((e) => (e.type === 'reject' && e.reason !== 'seq_gap' ? [e] : []));
  same('rejects', rejects.map((r) => [r.seq, r.reason]), m.corrupted.map((x) => [x.seq, x.reason]));
  const gaps = events.flatMap((e) => (e.type === 'reject' && e.reason === 'seq_gap' ? [e.error.message] : []));
  same(
    'gaps',
    gaps.map((g) => /^sequence gap: expected \d+, got \d+ \(\d+ /.exec(g)?.[0]),
    m.gaps.map((g) => `sequence gap: expected ${g.expected}, got ${g.got} (${g.missing} `),
  );
  if (problems.length > 0) throw new Error(`capture does not match its manifest:\n${problems.join('\n')}`);
}

async function main(): Promise<void> {
  const { inputs, utcOffsetHours, hv } = loadScenario();
  const { writes, manifest } = build(plan(inputs, utcOffsetHours, hv));
  const expected = new Uint8Array(manifest.wire_bytes);
  let n = 0;
  for (const w of writes) {
    expected.set(w.bytes, n);
    n += w.bytes.length;
  }

  const work = mkdtempSync(join(tmpdir(), 'lidar-pm-serial-capture-'));
  const pty = await startPtyPair(work);
  try {
    const rawFile = join(work, 'raw.serial');
    const recording = await recordSerial({ path: pty.b, baudRate: BAUD, out: rawFile });
    const writer = await openRawSerialWriter({ path: pty.a, baudRate: BAUD });
    const t0 = performance.now();
    for (const w of writes) {
      const wait = t0 + w.tMs / SPEED - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      await writer.write(w.bytes);
    }
    const deadline = Date.now() + 30_000;
    while (recording.progress().bytes < manifest.wire_bytes) {
      if (Date.now() > deadline) throw new Error(`recorder got ${recording.progress().bytes} of ${manifest.wire_bytes} bytes`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await writer.close();
    const summary = await recording.stop();
    const capture = readFileSync(rawFile);
    const recorded = captureBytes(readSerialCapture(capture));
    if (Buffer.compare(Buffer.from(recorded), Buffer.from(expected)) !== 0) throw new Error('recorded bytes differ from the bytes written');
    verify(recorded, manifest);
    const compressed = compressSerialCapture(capture);
    mkdirSync(OUT_DIR, { recursive: true });
    writeFileSync(join(OUT_DIR, CAPTURE_NAME), compressed);
    writeFileSync(join(OUT_DIR, `${CAPTURE_NAME}.json`), JSON.stringify(manifest, null, 1) + '\n');
    console.log(
      `${CAPTURE_NAME}: ${summary.chunks} chunks, ${summary.bytes} wire bytes in ${summary.durationMs} ms; ` +
        `file ${capture.length} bytes raw, ${compressed.length} bytes compressed`,
    );
    console.log(`counters: ${JSON.stringify(manifest.expected_counters)}`);
  } finally {
    await pty.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
