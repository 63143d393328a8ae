// The MQTT capture format (ingest/mqtt/capture.ts), playback pacing, the recorder, and the committed
// capture fixtures/captures/sofia-winter-inversion.mqtt (current, matches its manifest, plays back
// through a real mosquitto to an MqttSource and a recorder).
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isLidarError } from '../processing/errors.js';
import {
  encodeMqttCapture,
  playMqttCapture,
  readMqttCapture,
  type CapturedMessage,
  type MqttCapture,
  type PlaybackClock,
} from '../ingest/mqtt/capture.js';
import { connectPublisher } from '../ingest/mqtt/publisher.js';
import { recordMqtt } from '../ingest/mqtt/recorder.js';
import { MqttSource } from '../ingest/mqtt/source.js';
import type { InputItem } from '../ingest/source.js';
import { plan, SPEED } from '../scripts/make-mqtt-capture.js';
import { startMosquitto, type MosquittoBroker } from './harness/mosquitto.js';

const CAPTURES = join(import.meta.dirname, '..', 'fixtures', 'captures');
const WINTER = join(import.meta.dirname, '..', 'fixtures', 'scenarios', 'sofia-winter-inversion');
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function sample(): MqttCapture {
  const messages: CapturedMessage[] = [
    { tMs: 0, topic: 'lidar/a/online', qos: 1, retain: true, payload: new TextEncoder().encode('true') },
    { tMs: 12.5, topic: 'lidar/a/status', qos: 1, retain: false, properties: { payloadFormatIndicator: true, contentType: 'application/json', correlationData: Buffer.from([1, 2, 3]).toString('base64'), userProperties: { k: 'v', m: ['1', '2'] } }, payload: new TextEncoder().encode('{"x":1}') },
    { tMs: 12.5, topic: 'lidar/a/raw', qos: 0, retain: false, payload: Uint8Array.from({ length: 300 }, (_, i) => (i * 37) & 255) },
    { tMs: 40, topic: 'lidar/a/raw', qos: 2, retain: false, payload: new Uint8Array(0) },
  ];
  return { meta: { format: 'lidar-pm mqtt capture', version: 1, topics: ['lidar/#'], note: 'test' }, messages };
}

/** vi.waitFor with a readable failure: polls `pred` every 10 ms. */
const waitUntil = (what: string, pred: () => boolean, timeoutMs = 30_000): Promise<void> =>
  vi.waitFor(() => expect(pred(), `waiting for ${what}`).toBe(true), { timeout: timeoutMs, interval: 10 });

describe('capture format', () => {
  it('round-trips messages with properties, retain flags, binary and empty payloads', () => {
    const cap = sample();
    const bytes = encodeMqttCapture(cap);
    expect(String.fromCharCode(...bytes.subarray(0, 7))).toBe('LPMQCAP');
    const back = readMqttCapture(bytes);
    expect(back.meta).toMatchObject({ format: 'lidar-pm mqtt capture', version: 1, note: 'test' });
    expect(back.messages.map((m) => ({ ...m, payload: Array.from(m.payload) }))).toEqual(cap.messages.map((m) => ({ ...m, payload: Array.from(m.payload) })));
    // Payloads are stored verbatim (no base64): the file is barely larger than the payloads.
    const payloadBytes = cap.messages.reduce((n, m) => n + m.payload.length, 0);
    expect(bytes.length - payloadBytes).toBeLessThan(700);
  });

  it('reports every truncation and corruption as LIDAR_ERR_BAD_FRAME with a byte offset, never anything else', () => {
    const bytes = encodeMqttCapture(sample());
    const full = readMqttCapture(bytes).messages.length;
    for (let n = 0; n < bytes.length; n++) {
      let parsed: number | null = null;
      try {
        parsed = readMqttCapture(bytes.subarray(0, n)).messages.length;
      } catch (e) {
        expect(isLidarError(e) && e.code === 'LIDAR_ERR_BAD_FRAME', `cut at ${n}: ${String(e)}`).toBe(true);
        expect(isLidarError(e) ? e.offset : -1).toBeGreaterThanOrEqual(0);
      }
      // A cut exactly at a record boundary is a valid, shorter capture.
      if (parsed !== null) expect(parsed).toBeLessThan(full);
    }
    const wrongMagic = bytes.slice();
    wrongMagic[0] = 0x41;
    expect(() => readMqttCapture(wrongMagic)).toThrow(/magic/);
    const wrongVersion = bytes.slice();
    wrongVersion[7] = 9;
    expect(() => readMqttCapture(wrongVersion)).toThrow(/version 9/);
  });

  it('fuzz: random byte changes either parse or fail with a coded error', () => {
    const bytes = encodeMqttCapture(sample());
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (edits) => {
        const b = bytes.slice();
        for (const [i, v] of edits) b[i] = v;
        try {
          readMqttCapture(b);
        } catch (e) {
          if (!isLidarError(e) || e.code !== 'LIDAR_ERR_BAD_FRAME') throw e;
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('playMqttCapture', () => {
  function fakeClock(): PlaybackClock & { sleeps: number[] } {
    let t = 1000;
    const sleeps: number[] = [];
    return {
      sleeps,
      now: () => t,
      sleep: async (ms) => {
        sleeps.push(ms);
        t += ms;
      },
    };
  }

  it('publishes in order at (t_i - t_0) / speed, with the recorded retain flag, QoS and properties', async () => {
    const cap = sample();
    const calls: Array<{ topic: string; at: number; retain: boolean | undefined; qos: number | undefined; props: unknown }> = [];
    const clock = fakeClock();
    const res = await playMqttCapture(cap, { publish: async (topic, _p, o) => void calls.push({ topic, at: clock.now() - 1000, retain: o?.retain, qos: o?.qos, props: o?.properties }) }, { speed: 2.5, clock });
    expect(res.published).toBe(4);
    expect(calls.map((c) => c.at)).toEqual([0, 5, 5, 16]);
    expect(calls.map((c) => c.topic)).toEqual(cap.messages.map((m) => m.topic));
    expect(calls.map((c) => c.retain)).toEqual([true, false, false, false]);
    expect(calls.map((c) => c.qos)).toEqual([1, 1, 0, 1]);
    expect(calls[1]!.props).toMatchObject({ contentType: 'application/json', correlationData: Buffer.from([1, 2, 3]), userProperties: { k: 'v', m: ['1', '2'] } });
  });

  it('does not wait at speed Infinity, refuses speed <= 0, and reports a failed publish', async () => {
    const clock = fakeClock();
    await playMqttCapture(sample(), { publish: async () => {} }, { speed: Infinity, clock });
    expect(clock.sleeps).toEqual([]);
    await expect(playMqttCapture(sample(), { publish: async () => {} }, { speed: 0 })).rejects.toThrow(/speed/);
    await expect(playMqttCapture(sample(), { publish: async () => Promise.reject(new Error('broker said no')) }, { speed: Infinity })).rejects.toThrow(/broker said no/);
  });
});

describe('committed capture fixtures/captures/sofia-winter-inversion.mqtt', () => {
  const bytes = readFileSync(join(CAPTURES, 'sofia-winter-inversion.mqtt'));
  const manifest = JSON.parse(readFileSync(join(CAPTURES, 'sofia-winter-inversion.mqtt.json'), 'utf8')) as {
    sha256: string;
    bytes: number;
    speed: number;
    messages: Array<{ i: number; t_ms: number; topic: string; retain: boolean; bytes: number; sha256: string; file: string | null }>;
  };
  const capture = readMqttCapture(bytes);

  it('matches its manifest message by message', () => {
    expect(sha(bytes)).toBe(manifest.sha256);
    expect(bytes.length).toBe(manifest.bytes);
    expect(capture.messages.length).toBe(manifest.messages.length);
    capture.messages.forEach((m, i) => {
      const e = manifest.messages[i]!;
      expect({ t: m.tMs, topic: m.topic, retain: m.retain, bytes: m.payload.length, sha: sha(m.payload) }).toEqual({ t: e.t_ms, topic: e.topic, retain: e.retain, bytes: e.bytes, sha: e.sha256 });
      if (e.file !== null) expect(sha(m.payload)).toBe(sha(readFileSync(join(WINTER, e.file))));
    });
  });

  it('is current: the 192 winter files, 8 status messages and the online flag at the measurement pacing / speed', () => {
    const planned = plan();
    expect(manifest.speed).toBe(SPEED);
    expect(capture.messages.map((m) => [m.topic, m.tMs, sha(m.payload), m.retain])).toEqual(planned.map((p) => [p.topic, p.offsetMs / SPEED, sha(p.payload), p.retain]));
    const raw = capture.messages.filter((m) => m.topic === 'lidar/sofia/raw');
    expect(raw.length).toBe(192);
    const last = capture.messages.at(-1)!.tMs;
    expect(last).toBeLessThan(60_000);
    expect(last).toBeGreaterThan(10_000);
    const status = capture.messages.filter((m) => m.topic === 'lidar/sofia/status');
    expect(status.length).toBe(8);
    for (const m of status) {
      expect(m.properties).toEqual({ payloadFormatIndicator: true, contentType: 'application/json' });
      const doc = JSON.parse(new TextDecoder().decode(m.payload)) as Record<string, unknown>;
      expect(Object.keys(doc).sort()).toEqual(['detector_hv_v', 'laser_energy_mj', 'pressure_hpa', 'rain', 'rh_pct', 'shutter_open', 'temperatures', 'time'].sort());
      expect(Number.isNaN(Date.parse(doc.time as string))).toBe(false);
    }
  });

  describe('through a real mosquitto', () => {
    let broker: MosquittoBroker;
    let dir: string;
    beforeAll(async () => {
      broker = await startMosquitto();
      dir = mkdtempSync(join(tmpdir(), 'lidar-pm-mqtt-capture-test-'));
    });
    afterAll(async () => {
      await broker?.cleanup();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('plays back to an MqttSource (192 Licel + 8 status items) and re-records to the same messages', async () => {
      const out = join(dir, 'again.mqtt');
      const rec = await recordMqtt({ url: broker.url, out, topics: ['lidar/#'] });
      const items: InputItem[] = [];
      const src = new MqttSource({ url: broker.url, clientId: 'capture-replay', stopDrainMs: 0 });
      await src.start(async (e) => {
        if (e.type === 'item') {
          items.push(e.item);
          void e.item.ack('stored');
        }
      });
      const pub = await connectPublisher({ url: broker.url });
      try {
        await playMqttCapture(capture, pub, { speed: Infinity });
        await rec.waitFor(capture.messages.length);
        await waitUntil('200 items', () => items.length >= 200);
      } finally {
        await pub.close();
        await src.stop();
      }
      await rec.stop();
      expect(items.filter((it) => it.kind === 'licel').map((it) => sha(it.bytes))).toEqual(capture.messages.filter((m) => m.topic.endsWith('/raw')).map((m) => sha(m.payload)));
      expect(items.filter((it) => it.kind === 'status').length).toBe(8);
      const again = readMqttCapture(readFileSync(out));
      expect(again.messages.map((m) => [m.topic, m.qos, m.retain, m.properties, sha(m.payload)])).toEqual(capture.messages.map((m) => [m.topic, m.qos, m.retain, m.properties, sha(m.payload)]));
      expect(again.meta.topics).toEqual(['lidar/#']);
    });
  });
});
