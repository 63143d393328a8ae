// SerialSource, the writer, the recorder's playback and the committed capture through a REAL
// pseudo-terminal pair (socat, tests/harness/socat.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Hex } from '../processing/hash/sha256.js';
import { decodeLicel } from '../processing/licel/index.js';
import type { InputItem, RejectedInput, SourceEvent } from '../ingest/source.js';
import { captureBytes, readSerialCapture } from '../ingest/serial/capture.js';
import { playSerialCapture, recordSerial } from '../ingest/serial/recorder.js';
import { SerialSource } from '../ingest/serial/source.js';
import { encodeFrame } from '../ingest/serial/frame.js';
import { slipEncode } from '../ingest/serial/slip.js';
import { openRawSerialWriter, openSerialWriter, type SerialWriter } from '../ingest/serial/writer.js';
import { startPtyPair, type PtyPair } from './harness/socat.js';

const root = join(import.meta.dirname, '..');
const CAPTURE = join(root, 'fixtures', 'captures', 'sofia-winter-inversion.serial');
const SCENARIO = join(root, 'fixtures', 'scenarios', 'sofia-winter-inversion');

interface Manifest {
  wire_bytes: number;
  expected_counters: Record<string, number>;
  licel: Array<{ seq: number; file: string; sha256: string }>;
  status: Array<{ seq: number; sha256: string; json: Record<string, unknown> }>;
  corrupted: Array<{ seq: number; fault: string; reason: string; file?: string }>;
  dropped: Array<{ seq: number; file: string }>;
  gaps: Array<{ expected: number; got: number; missing: number }>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await (cleanups.pop() as () => Promise<void>)();
});

async function until(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function pair(): Promise<PtyPair> {
  const p = await startPtyPair();
  cleanups.push(() => p.stop());
  return p;
}

function collect(): { items: InputItem[]; rejects: RejectedInput[]; sink: (e: SourceEvent) => Promise<void> } {
  const items: InputItem[] = [];
  const rejects: RejectedInput[] = [];
  return {
    items,
    rejects,
    sink: async (e) => {
      if (e.type === 'item') items.push(e.item);
      else rejects.push(e.reject);
    },
  };
}

function startSource(path: string, sink: (e: SourceEvent) => Promise<void>, extra: Partial<ConstructorParameters<typeof SerialSource>[0]> = {}) {
  const source = new SerialSource({ path, station: 'sofia', reopenIntervalMs: 50, reopenMaxIntervalMs: 400, ...extra });
  cleanups.push(() => source.stop());
  return source.start(sink).then(() => source);
}

const seqOf = (origin: string) => Number(/#seq=(\d+)$/.exec(origin)?.[1]);

describe('serial over a real pty', () => {
  it('delivers the committed capture exactly as its manifest says', async () => {
    const manifest = JSON.parse(readFileSync(CAPTURE + '.json', 'utf8')) as Manifest;
    const capture = readSerialCapture(readFileSync(CAPTURE), CAPTURE);
    expect(capture.compressed).toBe(true);
    expect(capture.chunks.reduce((n, c) => n + c.bytes.length, 0)).toBe(manifest.wire_bytes);

    const pty = await pair();
    const got = collect();
    let n = 0;
    // A sink that takes its time now and then: the source pauses the port meanwhile.
    const source = await startSource(pty.b, async (e) => {
      if (++n % 8 === 0) await new Promise((r) => setTimeout(r, 5));
      await got.sink(e);
    });
    expect(source.connected()).toBe(true);
    const writer = await openRawSerialWriter({ path: pty.a });
    cleanups.push(() => writer.close());
    await playSerialCapture(capture, writer, { speed: 20 });
    await until('all bytes read', () => source.stats().bytes === manifest.wire_bytes);
    await source.stop(); // hands the events already read to the sink

    // Every good frame, in order, byte-exact, with its kind, seq, station and Licel name.
    const want = [
      ...manifest.licel.map((l) => ({ kind: 'licel', seq: l.seq, sha256: l.sha256, name: l.file as string | undefined })),
      ...manifest.status.map((s) => ({ kind: 'status', seq: s.seq, sha256: s.sha256, name: undefined })),
    ].sort((x, y) => x.seq - y.seq);
    expect(got.items.map((i) => ({ kind: i.kind, seq: seqOf(i.origin), sha256: sha256Hex(i.bytes), name: i.name }))).toEqual(want);
    for (const item of got.items) {
      expect(item.station).toBe('sofia');
      expect(item.origin.startsWith(`serial:${pty.b}#seq=`)).toBe(true);
      if (item.kind === 'licel') expect(decodeLicel(item.bytes, item.name).header.fileName).toBe(item.name);
      else expect(JSON.parse(new TextDecoder().decode(item.bytes))).toEqual(manifest.status.find((s) => s.seq === seqOf(item.origin))?.json);
    }

    // Every damaged frame rejected with its reason and seq; every gap reported.
    const frameRejects = got.rejects.filter((r) => !r.error.message.startsWith('sequence gap'));
    expect(frameRejects.map((r) => seqOf(r.origin))).toEqual(manifest.corrupted.map((c) => c.seq));
    const pattern: Record<string, RegExp> = {
      crc: /crc32 mismatch: expected 0x[0-9A-F]{8} \(computed over \d+ bytes of type\+seq\+payload\), actual 0x[0-9A-F]{8}/,
      length: /frame too short: 7 bytes, the minimum is 9/,
      unknown_type: /unknown frame type 3/,
    };
    manifest.corrupted.forEach((c, i) => {
      const r = frameRejects[i];
      expect(r.error.code).toBe('LIDAR_ERR_BAD_FRAME');
      expect(r.error.message).toMatch(pattern[c.reason]);
      expect(r.error.message).toContain(`seq ${c.seq}`);
      expect(r.bytes.length).toBeGreaterThan(0);
      expect(r.station).toBe('sofia');
    });
    const gapRejects = got.rejects.filter((r) => r.error.message.startsWith('sequence gap'));
    expect(gapRejects.map((r) => r.error.message.replace(/ \(.*$/, ''))).toEqual(
      manifest.gaps.map((g) => `sequence gap: expected ${g.expected}, got ${g.got}`),
    );
    expect(gapRejects.every((r) => r.bytes.length === 0)).toBe(true);

    // The counters equal the manifest's.
    const stats = source.stats();
    for (const [k, v] of Object.entries(manifest.expected_counters)) expect([k, stats[k]]).toEqual([k, v]);
    expect(stats.seq_gaps).toBe(manifest.dropped.length);
    expect(stats.received).toBe(got.items.length);
    expect(stats.rejected).toBe(got.rejects.length);
    expect(stats.reopens).toBe(0);
    expect(source.connected()).toBe(false);
  });

  it('reopens when the device goes away and comes back; counts lost frames and station restarts', async () => {
    const files = readdirSync(SCENARIO)
      .filter((f) => f !== 'truth.json')
      .sort()
      .slice(0, 15)
      .map((f) => new Uint8Array(readFileSync(join(SCENARIO, f))));
    const pty = await pair();
    const got = collect();
    const source = await startSource(pty.b, got.sink);
    const openWriter = async (startSeq: number): Promise<SerialWriter> => {
      const w = await openSerialWriter({ path: pty.a, startSeq });
      cleanups.push(() => w.close());
      return w;
    };

    let writer = await openWriter(0);
    for (const f of files.slice(0, 5)) await writer.send('licel', f);
    await until('first 5 frames', () => got.items.length === 5);

    // Unplug and replug: the station keeps counting, 2 frames are lost meanwhile.
    await pty.restart();
    await until('reopen', () => source.stats().reopens === 1 && source.connected());
    writer = await openWriter(7);
    for (const f of files.slice(7, 10)) await writer.send('licel', f);
    await until('frames after the reopen', () => got.items.length === 8);

    // Unplug again; this time the station restarted: its seq starts from 0.
    await pty.restart();
    await until('second reopen', () => source.stats().reopens === 2 && source.connected());
    writer = await openWriter(0);
    for (const f of files.slice(10, 15)) await writer.send('licel', f);
    await until('frames after the station restart', () => got.items.length === 13);

    expect(got.items.map((i) => seqOf(i.origin))).toEqual([0, 1, 2, 3, 4, 7, 8, 9, 0, 1, 2, 3, 4]);
    expect(got.items.map((i) => sha256Hex(i.bytes))).toEqual([...files.slice(0, 5), ...files.slice(7, 15)].map((f) => sha256Hex(f)));
    const stats = source.stats();
    expect(stats.seq_gaps).toBe(2);
    expect(stats.seq_restarts).toBe(1);
    expect(stats.crc_errors + stats.bad_length + stats.unknown_type).toBe(0);
    expect(got.rejects.map((r) => r.error.message)).toEqual(['sequence gap: expected 5, got 7 (2 frame(s) missing)']);
  });

  it('stops reading while the sink is busy and loses nothing', async () => {
    const pty = await pair();
    const got = collect();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const source = await startSource(pty.b, async (e) => {
      await gate;
      await got.sink(e);
    });
    cleanups.push(async () => release()); // runs before source.stop(), which waits for the sink
    const writer = await openRawSerialWriter({ path: pty.a });
    cleanups.push(() => writer.close());
    // 4 MB of frames: far more than the port's stream buffer (64 KiB) and the pty's buffers.
    const payload = new Uint8Array(64 * 1024).map((_, i) => (i * 7919) & 0xff);
    const frames = Array.from({ length: 64 }, (_, seq) => slipEncode(encodeFrame('licel', seq, payload)));
    let written = false;
    const writing = (async () => {
      for (const f of frames) await writer.write(f);
      written = true;
    })();
    await until('the first frame to reach the sink', () => source.stats().frames >= 1);
    await new Promise((r) => setTimeout(r, 500));
    // The sink has not accepted the first event: the source stopped reading, so the writer is blocked.
    expect(written).toBe(false);
    expect(source.stats().bytes).toBeLessThan(frames.reduce((n, f) => n + f.length, 0));
    release();
    await writing;
    await until('all frames', () => got.items.length === frames.length);
    expect(got.items.map((i) => seqOf(i.origin))).toEqual(frames.map((_, i) => i));
    expect(got.items.every((i) => sha256Hex(i.bytes) === sha256Hex(payload))).toBe(true);
    expect(source.stats().seq_gaps).toBe(0);
  });

  it('keeps retrying a device that is not plugged in yet, and opens it when it appears', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lidar-pm-serial-test-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const got = collect();
    const source = await startSource(join(dir, 'ttyB'), got.sink);
    expect(source.connected()).toBe(false);
    await until('failed attempts', () => source.stats().open_failures >= 2);
    const pty = await startPtyPair(dir);
    cleanups.push(() => pty.stop());
    await until('the device to open', () => source.connected());
    const writer = await openSerialWriter({ path: pty.a, startSeq: 41 });
    cleanups.push(() => writer.close());
    await writer.send('status', new TextEncoder().encode('{"rain":false}'));
    await until('the frame', () => got.items.length === 1);
    expect(got.items[0]).toMatchObject({ kind: 'status', origin: `serial:${pty.b}#seq=41` });
    expect(source.stats().reopens).toBe(1);
  });

  it('records what arrives at a port, byte-exact, until stopped, for a duration, or until the device goes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lidar-pm-serial-test-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const pty = await pair();
    const out = join(dir, 'rec.serial');
    const recording = await recordSerial({ path: pty.b, baudRate: 57600, out });
    const writer = await openRawSerialWriter({ path: pty.a });
    cleanups.push(() => writer.close());
    const blobs = Array.from({ length: 20 }, (_, i) => new Uint8Array(1000 + i * 517).map((_, j) => (i * 31 + j) & 0xff));
    for (const b of blobs) await writer.write(b);
    const total = blobs.reduce((n, b) => n + b.length, 0);
    await until('the recorder to get everything', () => recording.progress().bytes === total);
    const summary = await recording.stop();
    expect(summary).toMatchObject({ out, bytes: total, endedBy: 'stop' });
    const c = readSerialCapture(readFileSync(out));
    expect(c).toMatchObject({ baudRate: 57600, compressed: false });
    expect(c.chunks.length).toBe(summary.chunks);
    expect(Buffer.from(captureBytes(c)).equals(Buffer.concat(blobs))).toBe(true);
    expect(c.chunks.every((ch, i) => i === 0 || ch.offsetMs >= c.chunks[i - 1].offsetMs)).toBe(true);

    const timed = await recordSerial({ path: pty.b, out: join(dir, 'timed.serial'), durationMs: 100 });
    expect(await timed.done).toMatchObject({ endedBy: 'duration', bytes: 0 });

    const lost = await recordSerial({ path: pty.b, out: join(dir, 'lost.serial') });
    await writer.write(new Uint8Array([1, 2, 3]));
    await until('3 bytes', () => lost.progress().bytes === 3);
    await pty.restart();
    expect(await lost.done).toMatchObject({ endedBy: 'device-lost', bytes: 3 });
    expect([...captureBytes(readSerialCapture(readFileSync(join(dir, 'lost.serial'))))]).toEqual([1, 2, 3]);
  });
});
