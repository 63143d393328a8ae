// MqttSource against a real mosquitto (tests/harness/mosquitto.ts): complete delivery of the winter
// scenario, PUBACK only after item.ack() (redelivery to the same persistent session), broker restart
// mid-stream, shared subscriptions, bad topics as rejects, and in-flight bounded by maxInFlight.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MqttSource, type MqttSourceOptions } from '../ingest/mqtt/source.js';
import { connectPublisher, type MqttPublisher } from '../ingest/mqtt/publisher.js';
import type { InputItem, RejectedInput, SourceEvent } from '../ingest/source.js';
import { freePort, startMosquitto, type MosquittoBroker } from './harness/mosquitto.js';

const WINTER = join(import.meta.dirname, '..', 'fixtures', 'scenarios', 'sofia-winter-inversion');

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

/** vi.waitFor with a readable failure: polls `pred` every 10 ms. */
const waitUntil = (what: string, pred: () => boolean, timeoutMs = 30_000): Promise<void> =>
  vi.waitFor(() => expect(pred(), `waiting for ${what}`).toBe(true), { timeout: timeoutMs, interval: 10 });

interface Collector {
  items: InputItem[];
  rejects: RejectedInput[];
  sink: (e: SourceEvent) => Promise<void>;
  /** Most items delivered and not yet acked at any moment. */
  maxOutstanding(): number;
  /** Most sink calls running at once. */
  maxConcurrentSink(): number;
}

/** A pipeline stand-in: `autoAck` acks each item once the sink has taken it (as if stored at once). */
function collector(opts: { autoAck: boolean; sinkDelay?: () => Promise<void> }): Collector {
  const items: InputItem[] = [];
  const rejects: RejectedInput[] = [];
  let outstanding = 0;
  let maxOutstanding = 0;
  let active = 0;
  let maxActive = 0;
  return {
    items,
    rejects,
    maxOutstanding: () => maxOutstanding,
    maxConcurrentSink: () => maxActive,
    async sink(e) {
      active++;
      maxActive = Math.max(maxActive, active);
      try {
        if (opts.sinkDelay) await opts.sinkDelay();
        if (e.type === 'reject') {
          rejects.push(e.reject);
          return;
        }
        const original = e.item.ack;
        outstanding++;
        maxOutstanding = Math.max(maxOutstanding, outstanding);
        e.item.ack = (outcome) => {
          outstanding--;
          return original(outcome);
        };
        items.push(e.item);
        if (opts.autoAck) queueMicrotask(() => void e.item.ack('stored'));
      } finally {
        active--;
      }
    },
  };
}

let broker: MosquittoBroker;
let publisher: MqttPublisher;
const sources: MqttSource[] = [];

function source(o: Omit<MqttSourceOptions, 'url'>): MqttSource {
  const s = new MqttSource({ url: broker.url, reconnectMinMs: 100, reconnectMaxMs: 1000, stopDrainMs: 0, ...o });
  sources.push(s);
  return s;
}

beforeAll(async () => {
  broker = await startMosquitto();
  publisher = await connectPublisher({ url: broker.url, clientId: 'test-publisher' });
});

afterAll(async () => {
  for (const s of sources) await s.stop().catch(() => {});
  await publisher?.close();
  await broker?.cleanup();
});

describe('MqttSource with a real mosquitto', () => {
  it('receives the 192 winter Licel files byte-exact, with status messages, and acks them all', async () => {
    const files = readdirSync(WINTER).filter((n) => n !== 'truth.json').sort();
    expect(files.length).toBe(192);
    const c = collector({ autoAck: true });
    const src = source({ clientId: 'winter-1', stations: ['sofia'], maxInFlight: 16 });
    await src.start(c.sink);
    expect(src.connected()).toBe(true);
    const status = [0, 1, 2, 3].map((k) => ({ time: `2018-01-19T${18 + k}:00:00+02:00`, laser_energy_mj: 80 + k, rain: false }));
    const sent = new Map<string, string>();
    const pubs: Promise<void>[] = [];
    files.forEach((name, i) => {
      const bytes = readFileSync(join(WINTER, name));
      sent.set(name, sha(bytes));
      pubs.push(publisher.publishRaw('sofia', bytes));
      if (i % 48 === 0) pubs.push(publisher.publishStatus('sofia', status[i / 48]!));
    });
    await Promise.all(pubs);
    await waitUntil('192 raw + 4 status items', () => c.items.length >= 196);
    await waitUntil('all acks', () => src.stats().acked >= 196);

    const raw = c.items.filter((it) => it.kind === 'licel');
    expect(raw.length).toBe(192);
    const got = new Map(raw.map((it) => [it.name ?? '', sha(it.bytes)]));
    expect(got).toEqual(sent); // names from the Licel header line 1, exact bytes
    for (const it of raw) {
      expect(it.station).toBe('sofia');
      expect(it.origin).toBe('mqtt:lidar/sofia/raw');
      expect(it.redelivered).toBe(false);
    }
    // QoS 1 on one connection keeps the publish order.
    expect(raw.map((it) => it.name)).toEqual(files);
    const st = c.items.filter((it) => it.kind === 'status').map((it) => JSON.parse(text(it.bytes)));
    expect(st).toEqual(status);
    expect(c.rejects).toEqual([]);
    const s = src.stats();
    expect(s.received).toBe(196);
    expect(s.acked).toBe(196);
    expect(s.stored).toBe(196);
    expect(s.in_flight).toBe(0);
    expect(s.redelivered).toBe(0);
  });

  it('sends the PUBACK only on item.ack(): unacked messages come back (DUP) to the same session, acked ones do not', async () => {
    const station = 'durable';
    const a = collector({ autoAck: false });
    const srcA = source({ clientId: 'durable-1', stations: [station], maxInFlight: 32 });
    await srcA.start(a.sink);
    for (let i = 0; i < 10; i++) await publisher.publishRaw(station, Buffer.from(`m${i}`));
    await waitUntil('10 items at A', () => a.items.length === 10);
    expect(a.items.every((it) => it.redelivered === false)).toBe(true);
    const ackedAtA = new Set<string>();
    for (const it of a.items.slice(0, 4)) {
      await it.ack('stored');
      ackedAtA.add(text(it.bytes));
    }
    expect(srcA.stats().acked).toBe(4);
    expect(srcA.stats().in_flight).toBe(6);
    await srcA.abort(); // crash: no DISCONNECT, 6 messages never acked

    // The presence will fired.
    const watcher = await connectAsync(broker.url, { protocolVersion: 5 });
    const presence: string[] = [];
    watcher.on('message', (_t, p) => presence.push(p.toString()));
    await watcher.subscribeAsync('lidar-pm/durable-1/online', { qos: 1 });
    await waitUntil('retained presence', () => presence.length >= 1);
    expect(presence[0]).toBe('false');

    // Published while nobody is connected: queued for the session, first delivery later.
    for (let i = 10; i < 13; i++) await publisher.publishRaw(station, Buffer.from(`m${i}`));

    const b = collector({ autoAck: true });
    const srcB = source({ clientId: 'durable-1', stations: [station], maxInFlight: 32 });
    await srcB.start(b.sink);
    await publisher.publishRaw(station, Buffer.from('sentinel'));
    await waitUntil('sentinel at B', () => b.items.some((it) => text(it.bytes) === 'sentinel'));
    const atB = b.items.map((it) => [text(it.bytes), it.redelivered] as const);
    // Exactly the 6 unacked ones, flagged as redelivered, then the queued and the new ones.
    expect(atB.filter(([, r]) => r).map(([p]) => p).sort()).toEqual(['m4', 'm5', 'm6', 'm7', 'm8', 'm9']);
    expect(atB.filter(([, r]) => !r).map(([p]) => p)).toEqual(['m10', 'm11', 'm12', 'sentinel']);
    for (const p of ackedAtA) expect(atB.some(([q]) => q === p)).toBe(false);
    expect(srcB.stats().redelivered).toBe(6);
    await waitUntil('presence true', () => presence.at(-1) === 'true');
    await watcher.endAsync();
  });

  it('ack after the connection is gone is not sent; the message is redelivered instead', async () => {
    const station = 'late';
    const a = collector({ autoAck: false });
    const srcA = source({ clientId: 'late-1', stations: [station] });
    await srcA.start(a.sink);
    await publisher.publishRaw(station, Buffer.from('late-0'));
    await waitUntil('item at A', () => a.items.length === 1);
    await srcA.abort();
    await a.items[0]!.ack('stored'); // the pipeline finishes after the crash of the connection
    expect(srcA.stats().stale_acks).toBe(1);
    expect(srcA.stats().acked).toBe(0);
    const b = collector({ autoAck: true });
    const srcB = source({ clientId: 'late-1', stations: [station] });
    await srcB.start(b.sink);
    await waitUntil('redelivery at B', () => b.items.length === 1);
    expect(text(b.items[0]!.bytes)).toBe('late-0');
    expect(b.items[0]!.redelivered).toBe(true);
  });

  it('two sources in one shared-subscription group split a stream: each gets some, together all, none twice', async () => {
    const station = 'shared';
    const c1 = collector({ autoAck: true });
    const c2 = collector({ autoAck: true });
    const s1 = source({ clientId: 'worker-1', stations: [station], sharedGroup: 'retrieval' });
    const s2 = source({ clientId: 'worker-2', stations: [station], sharedGroup: 'retrieval' });
    expect(s1.subscriptions()).toEqual(['$share/retrieval/lidar/shared/raw', '$share/retrieval/lidar/shared/status']);
    await s1.start(c1.sink);
    await s2.start(c2.sink);
    const n = 100;
    await Promise.all(Array.from({ length: n }, (_, i) => publisher.publishRaw(station, Buffer.from(`s${i}`))));
    await waitUntil('all 100 delivered', () => c1.items.length + c2.items.length >= n);
    const p1 = c1.items.map((it) => text(it.bytes));
    const p2 = c2.items.map((it) => text(it.bytes));
    expect(p1.length).toBeGreaterThan(0);
    expect(p2.length).toBeGreaterThan(0);
    expect(p1.filter((p) => p2.includes(p))).toEqual([]);
    expect(new Set([...p1, ...p2]).size).toBe(n);
    expect(p1.length + p2.length).toBe(n);
  });

  it('rejects bad topics with a reason and keeps running', async () => {
    const c = collector({ autoAck: true });
    const src = source({ clientId: 'badtopics-1', stations: '+' });
    await src.start(c.sink);
    const raw = await connectAsync(broker.url, { protocolVersion: 5 });
    const long = 'a'.repeat(65);
    const huge = 'b'.repeat(5000);
    const bad = [`lidar/BAD!/raw`, `lidar/${long}/raw`, `lidar/${huge}/status`, 'lidar/Upper/status', 'lidar/has space/raw', 'lidar/ünï/raw'];
    for (const t of bad) await raw.publishAsync(t, Buffer.from('x'), { qos: 1 });
    await raw.publishAsync('lidar/okstation/raw', Buffer.alloc(0), { qos: 1 }); // empty payload
    await raw.publishAsync('lidar/okstation/raw', Buffer.from('fine'), { qos: 1 });
    await waitUntil('good item', () => c.items.some((it) => it.station === 'okstation'));
    await waitUntil('7 rejects', () => c.rejects.length >= 7);
    const byOrigin = new Map(c.rejects.map((r) => [r.origin, r]));
    for (const t of bad) {
      const origin = `mqtt:${t.length > 200 ? `${t.slice(0, 200)}...` : t}`;
      const r = byOrigin.get(origin);
      expect(r, t.slice(0, 40)).toBeDefined();
      expect(r!.error.code).toBe('LIDAR_ERR_BAD_VALUE');
      expect(r!.error.message).toMatch(/station id .* does not match/);
      expect(r!.station).toBe(null);
      expect(r!.error.message.length).toBeLessThan(400); // a 5000-character topic is cut in the message
    }
    const empty = c.rejects.find((r) => r.station === 'okstation');
    expect(empty?.error.code).toBe('LIDAR_ERR_BAD_FRAME');
    expect(empty?.error.message).toMatch(/empty payload/);
    expect(src.connected()).toBe(true);
    expect(src.stats().rejected).toBeGreaterThanOrEqual(7);
    await raw.endAsync();
  });

  it('bounds in-flight messages to maxInFlight and calls the sink one event at a time', async () => {
    const station = 'bp';
    const maxInFlight = 4;
    const c = collector({ autoAck: false, sinkDelay: () => new Promise<void>((r) => setTimeout(r, 1)) });
    const src = source({ clientId: 'bp-1', stations: [station], maxInFlight });
    await src.start(c.sink);
    const n = 40;
    await Promise.all(Array.from({ length: n }, (_, i) => publisher.publishRaw(station, Buffer.from(`b${i}`))));
    await waitUntil('first 4', () => c.items.length === maxInFlight);
    // Nothing acked: no fifth item may come, whatever the broker sends (mosquitto 2.0.11 over-sends).
    await new Promise((r) => setTimeout(r, 300));
    expect(c.items.length).toBe(maxInFlight);
    expect(src.stats().in_flight).toBe(maxInFlight);
    // Ack one: exactly one more comes in.
    await c.items[0]!.ack('stored');
    await waitUntil('fifth', () => c.items.length === maxInFlight + 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(c.items.length).toBe(maxInFlight + 1);
    // Now ack as they come (in arrival order, slowly): all arrive, never more than 4 outstanding.
    let next = 1;
    const pump = setInterval(() => {
      if (next < c.items.length) void c.items[next++]!.ack(next % 2 ? 'stored' : 'quarantined');
    }, 2);
    await waitUntil('all 40', () => c.items.length === n && next === n, 30_000);
    clearInterval(pump);
    expect(c.items.map((it) => text(it.bytes))).toEqual(Array.from({ length: n }, (_, i) => `b${i}`));
    expect(c.maxOutstanding()).toBe(maxInFlight);
    expect(c.maxConcurrentSink()).toBe(1);
    await waitUntil('all acked', () => src.stats().acked === n);
    const s = src.stats();
    expect(s.max_in_flight_seen).toBe(maxInFlight);
    expect(s.in_flight).toBe(0);
    expect(s.stored + s.quarantined).toBe(n);
    expect(s.quarantined).toBeGreaterThan(0);
  });

  it('keeps the connection while reading is held for a stalled pipeline (keepalive 1 s, 4 s stall)', async () => {
    const station = 'stall';
    const c = collector({ autoAck: false });
    const src = source({ clientId: 'stall-1', stations: [station], maxInFlight: 2, keepaliveSec: 1 });
    await src.start(c.sink);
    for (let i = 0; i < 6; i++) await publisher.publishRaw(station, Buffer.from(`k${i}`));
    await waitUntil('2 items', () => c.items.length === 2);
    await c.items[0]!.ack('stored'); // mosquitto now sends more than the free slot: one message is parked
    await waitUntil('3 items', () => c.items.length === 3);
    await new Promise((r) => setTimeout(r, 4000)); // > 2 x the 1.5 s keepalive timeout of mqtt.js
    expect(src.stats()).toMatchObject({ reconnects: 0, redelivered: 0, connected: 1, in_flight: 2 });
    for (let i = 1; i < 6; i++) {
      await waitUntil(`item ${i}`, () => c.items.length > i);
      await c.items[i]!.ack('stored');
    }
    expect(c.items.map((it) => text(it.bytes))).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k5']);
    expect(src.stats()).toMatchObject({ reconnects: 0, acked: 6, in_flight: 0 });
  });

  it('stop() waits for items in the pipeline (stopDrainMs), acks those, and leaves the unacked ones with the broker', async () => {
    const station = 'graceful';
    const a = collector({ autoAck: false });
    const srcA = source({ clientId: 'graceful-1', stations: [station], stopDrainMs: 1000 });
    await srcA.start(a.sink);
    for (let i = 0; i < 3; i++) await publisher.publishRaw(station, Buffer.from(`g${i}`));
    await waitUntil('3 items', () => a.items.length === 3);
    const stopping = srcA.stop();
    expect(srcA.connected()).toBe(true); // still draining
    await a.items[0]!.ack('stored'); // finished during the drain window: acked
    await a.items[1]!.ack('quarantined');
    await stopping; // g2 never acked: stop gives up after stopDrainMs
    expect(srcA.connected()).toBe(false);
    expect(srcA.stats().acked).toBe(2);
    const b = collector({ autoAck: true });
    const srcB = source({ clientId: 'graceful-1', stations: [station] });
    await srcB.start(b.sink);
    await publisher.publishRaw(station, Buffer.from('sentinel'));
    await waitUntil('sentinel', () => b.items.some((it) => text(it.bytes) === 'sentinel'));
    expect(b.items.map((it) => [text(it.bytes), it.redelivered])).toEqual([
      ['g2', true],
      ['sentinel', false],
    ]);
  });

  it('refuses bad options with coded errors', () => {
    expect(() => new MqttSource({ url: broker.url, clientId: 'a/b' })).toThrow(/client id/);
    expect(() => new MqttSource({ url: broker.url, clientId: 'ok', stations: ['Sofia'] })).toThrow(/station id/);
    expect(() => new MqttSource({ url: 'http://x', clientId: 'ok' })).toThrow(/protocol/);
    expect(() => new MqttSource({ url: broker.url, clientId: 'ok', maxInFlight: 0 })).toThrow(/maxInFlight/);
  });

  it('start() fails with LIDAR_ERR_IO when no broker answers', async () => {
    const port = await freePort();
    const src = new MqttSource({ url: `mqtt://127.0.0.1:${port}`, clientId: 'nobody-home', startTimeoutMs: 800, reconnectMinMs: 100 });
    await expect(src.start(async () => {})).rejects.toMatchObject({ code: 'LIDAR_ERR_IO', message: expect.stringMatching(/not connected and subscribed within 800 ms/) });
    expect(src.connected()).toBe(false);
  });
});

describe('MqttSource across a broker restart', () => {
  let b2: MosquittoBroker;
  beforeAll(async () => {
    b2 = await startMosquitto();
  });
  afterAll(async () => {
    await b2?.cleanup();
  });

  it('mosquitto restarted (SIGTERM) mid-stream while publishing: every message arrives; duplicates are redeliveries or publisher resends', async () => {
    const c = collector({ autoAck: true });
    const src = new MqttSource({ url: b2.url, clientId: 'restart-1', stations: ['rs'], reconnectMinMs: 100, reconnectMaxMs: 400, stopDrainMs: 0 });
    const pub = await connectPublisher({ url: b2.url, clientId: 'restart-pub', reconnectMs: 100 });
    try {
      await src.start(c.sink);
      const n = 600;
      const pubs: Promise<void>[] = [];
      let restart: Promise<void> | null = null;
      for (let i = 0; i < n; i++) {
        pubs.push(pub.publishRaw('rs', Buffer.from(`r${i}`)));
        if (i % 25 === 24) await new Promise((r) => setTimeout(r, 2));
        if (i === 200) restart = b2.restart();
      }
      await restart;
      await Promise.all(pubs);
      await waitUntil('all distinct payloads', () => new Set(c.items.map((it) => text(it.bytes))).size === n, 60_000);
      const payloads = c.items.map((it) => text(it.bytes));
      expect(new Set(payloads)).toEqual(new Set(Array.from({ length: n }, (_, i) => `r${i}`)));
      const seen = new Set<string>();
      let unexplained = 0;
      for (const it of c.items) {
        const p = text(it.bytes);
        if (seen.has(p) && !it.redelivered) unexplained++;
        seen.add(p);
      }
      // A second copy without the DUP flag can only come from the publisher sending it again.
      expect(unexplained).toBeLessThanOrEqual(pub.stats().resent);
      expect(src.stats().reconnects).toBeGreaterThanOrEqual(1);
      expect(pub.stats().reconnects).toBeGreaterThanOrEqual(1);
      expect(src.connected()).toBe(true);
    } finally {
      await src.stop();
      await pub.close();
    }
  });
});
