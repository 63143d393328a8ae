// Bad input for the station housekeeping message (issue 8): property-based fuzzing of parseStatus
// (ingest/status.ts, the parser of MQTT `lidar/{station}/status` and serial type-2 frames) with
// arbitrary JSON values, arbitrary strings and bytes, deep nesting, huge and non-finite numbers and
// the prototype-pollution keys (__proto__, constructor, prototype). Checked: the parser returns a
// record or throws a LidarError LIDAR_ERR_BAD_VALUE naming the field with a short message, nothing
// else; an accepted record holds every leaf of the document under its dotted name (nothing silently
// dropped) and is storable by both stores (a record the store then refuses would block the station's
// queue: the pipeline retries store writes); Object.prototype is never touched. End to end, hostile
// status messages through the real pipeline and store never block the station.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { parseStatus } from '../ingest/status.js';
import { isLidarError, LidarError } from '../processing/errors.js';
import { checkHealth } from '../store/embedded/validate.js';
import { healthLine } from '../store/influx/schema.js';
import type { HealthRecord } from '../store/port.js';
import { createApi } from '../api/server.js';
import { buildApiFixture, WINTER_FILES, type ApiFixture } from './api-fixture.js';

const SEED = 0x5eed_0008;
const RECEIVED_MS = Date.UTC(2024, 5, 1, 12, 0, 0);
const enc = new TextEncoder();

type Outcome = { ok: true; record: HealthRecord } | { ok: false; error: LidarError };

/** Runs the parser; anything thrown that is not a coded LidarError fails the test. */
function parse(bytes: Uint8Array): Outcome {
  try {
    return { ok: true, record: parseStatus(bytes, 'sofia', RECEIVED_MS, 'mqtt:lidar/sofia/status') };
  } catch (e) {
    if (!isLidarError(e)) throw new Error(`parseStatus threw a non-LidarError: ${String(e)}`);
    return { ok: false, error: e };
  }
}

/** The leaves (non-null primitives) of a JSON document under their dotted names. */
function leaves(doc: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    if (v === null) continue;
    if (typeof v === 'object' && !Array.isArray(v)) leaves(v, `${prefix}${k}.`, out);
    else out.set(prefix + k, v);
  }
  return out;
}

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'time'];

function checkOutcome(o: Outcome, doc?: unknown): void {
  if (!o.ok) {
    expect(o.error.code).toBe('LIDAR_ERR_BAD_VALUE');
    expect(typeof o.error.field).toBe('string');
    expect(o.error.field!.length).toBeGreaterThan(0);
    // A clear, bounded message: never the whole hostile input echoed back.
    expect(o.error.message.length).toBeLessThanOrEqual(400);
    return;
  }
  const r = o.record;
  expect(r.station).toBe('sofia');
  expect(Number.isSafeInteger(r.timeMs)).toBe(true);
  expect(Object.getPrototypeOf(r.values)).toBe(Object.prototype);
  // Storable by both stores: a record the store refused would be retried for ever.
  expect(() => checkHealth(r, 'health')).not.toThrow();
  expect(() => healthLine(r, 'health')).not.toThrow();
  if (doc !== undefined) {
    // Every leaf is there, under its dotted name, as an own property; nothing else is.
    const want = leaves(doc);
    want.delete('time');
    expect(Object.keys(r.values).sort()).toEqual([...want.keys()].sort());
    for (const [k, v] of want) {
      expect(Object.hasOwn(r.values, k), k).toBe(true);
      expect(r.values[k], k).toBe(v);
    }
  }
}

function prototypeIsClean(): void {
  // Nothing was added to the shared prototypes.
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(OBJECT_PROTO_NAMES);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}
const OBJECT_PROTO_NAMES = Object.getOwnPropertyNames(Object.prototype).sort();

/** Keys: plausible names, the dangerous ones, and anything. */
const keyArb = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[a-z_][a-z0-9_]{0,10}$/) },
  { weight: 2, arbitrary: fc.constantFrom(...PROTO_KEYS) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom('', 'a.b', 'x'.repeat(65), 'ü', 'a b', 'a\nb') },
);
const leafArb = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 5e-324),
  fc.boolean(),
  fc.constant(null),
  fc.string({ unit: 'binary', maxLength: 40 }),
  // Lone surrogates written as JSON escapes reach the parser as lone UTF-16 code units.
  fc.constantFrom('\uD800', 'a\uDFFFb', '\uDBFF\uDBFF', '🙂', 'x'.repeat(256), 'x'.repeat(257)),
);
const { tree: docArb } = fc.letrec<{ tree: Record<string, unknown>; node: unknown }>((tie) => ({
  tree: fc.dictionary(keyArb, tie('node'), { maxKeys: 6 }),
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leafArb, tie('tree'), fc.array(leafArb, { maxLength: 3 })),
}));

describe('parseStatus under bad input', () => {
  it('arbitrary JSON documents (dangerous keys, odd leaves, nesting): a complete record or a coded error', () => {
    fc.assert(
      fc.property(docArb, (doc) => {
        // JSON.stringify writes "__proto__" as an ordinary key: JSON.parse makes it an own property.
        const text = JSON.stringify(doc);
        checkOutcome(parse(enc.encode(text)), JSON.parse(text));
        prototypeIsClean();
      }),
      { seed: SEED, numRuns: 1500 },
    );
  });

  it('arbitrary JSON values at the top level', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const o = parse(enc.encode(JSON.stringify(v) ?? 'null'));
        checkOutcome(o, typeof v === 'object' && v !== null && !Array.isArray(v) ? v : undefined);
        if (typeof v !== 'object' || v === null || Array.isArray(v)) expect(o.ok).toBe(false);
        prototypeIsClean();
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('arbitrary strings and bytes (not UTF-8, not JSON, truncated JSON)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 400 }),
          fc.string({ unit: 'binary', maxLength: 200 }).map((s) => enc.encode(s)),
          docArb.chain((d) => {
            const t = JSON.stringify(d);
            return fc.nat(t.length).map((n) => enc.encode(t.slice(0, n)));
          }),
        ),
        (bytes) => {
          checkOutcome(parse(bytes));
          prototypeIsClean();
        },
      ),
      { seed: SEED, numRuns: 1500 },
    );
  });

  it('prototype-pollution payloads: no pollution, every value kept or a coded error', () => {
    const payloads = [
      '{"__proto__": {"polluted": 1}}',
      '{"__proto__": 5}',
      '{"__proto__": "x", "a": 1}',
      '{"constructor": {"prototype": {"polluted": 1}}}',
      '{"constructor": 1, "prototype": true, "toString": "s", "hasOwnProperty": 2}',
      '{"a": {"__proto__": {"polluted": true}}}',
      '{"__proto__": null}',
      '{"time": "2024-06-01T11:00:00Z", "__proto__": {"time": 1}}',
    ];
    for (const p of payloads) {
      const o = parse(enc.encode(p));
      checkOutcome(o, JSON.parse(p));
      prototypeIsClean();
    }
  });

  it('deep nesting, huge documents and huge numbers: coded errors, no stack overflow escapes', () => {
    const deep = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
    const wide = (n: number) => `{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',')}}`;
    const cases: Array<[string, string, boolean]> = [
      ['3 levels', deep(3), true],
      ['4 levels', deep(4), false],
      ['100000 levels', deep(100_000), false],
      ['200 values', wide(200), true],
      ['201 values', wide(201), false],
      ['100000 values', wide(100_000), false],
      ['1e400 (Infinity after JSON.parse)', '{"t": 1e400}', false],
      ['-1e400', '{"t": -1e400}', false],
      ['huge integer', `{"n": ${'9'.repeat(400)}}`, false],
      ['1e308', '{"n": 1e308}', true],
      ['deep arrays', `{"a": ${'['.repeat(50_000)}${']'.repeat(50_000)}}`, false],
      ['time 1e400', '{"time": 1e400}', false],
      ['time far future', '{"time": 4102444800000}', false],
      ['time before 1990', '{"time": "1989-12-31T23:59:59Z"}', false],
      ['time garbage', '{"time": "yesterday"}', false],
      ['time boolean', '{"time": true}', false],
      ['time ok', '{"time": "2024-06-01T11:59:00Z", "v": 1}', true],
    ];
    for (const [name, text, ok] of cases) {
      const o = parse(enc.encode(text));
      expect(o.ok, name).toBe(ok);
      checkOutcome(o);
    }
  });
});

describe('hostile status messages through the real pipeline and store', () => {
  let f: ApiFixture;
  let app: FastifyInstance;
  beforeAll(async () => {
    f = await buildApiFixture({ files: WINTER_FILES.slice(0, 4) });
    app = await createApi(f.ctx);
  });
  afterAll(async () => {
    await app?.close();
    await f?.close();
  });

  it('never block the station: every message is stored or quarantined, then a Licel file still goes through', async () => {
    const samples = fc.sample(docArb, { seed: SEED, numRuns: 150 }).map((d) => enc.encode(JSON.stringify(d)));
    samples.push(
      enc.encode('{"a": "\\ud800"}'),
      enc.encode('{"__proto__": 5, "b": 1}'),
      enc.encode('{"s": "\\udfff\\ud800", "t": 1}'),
      new Uint8Array([0xff, 0xfe, 0x00]),
    );
    const outcomes: string[] = [];
    let n = 0;
    for (const bytes of samples) {
      const name = `status-${n++}.json`;
      await f.pipeline.sink({
        type: 'item',
        item: { kind: 'status', station: 'sofia', bytes, name, origin: `fuzz:${name}`, receivedMs: f.nowMs, ack: (o: string) => void outcomes.push(o) },
      } as Parameters<typeof f.pipeline.sink>[0]);
    }
    // A poison message would make the pipeline retry its store write for ever: idle() would not resolve.
    await withDeadline(f.pipeline.idle(), 60_000, 'pipeline did not become idle: a status message blocks the station');
    expect(outcomes).toHaveLength(samples.length);
    expect(new Set(outcomes)).toEqual(new Set(['stored', 'quarantined']));
    expect(f.pipeline.health().sofia.retried).toBe(0);
    await f.feed(WINTER_FILES.slice(4, 5));
    prototypeIsClean();
    // The API serves what was stored.
    const r = await app.inject(`/api/v1/stations/sofia/health?from=${new Date(f.nowMs - 86_400_000 * 2).toISOString()}&to=${new Date(f.nowMs + 60_000).toISOString()}`);
    expect(r.statusCode, r.body).toBe(200);
    const s = await app.inject('/api/v1/stations/sofia/status');
    expect(s.statusCode, s.body).toBe(200);
  }, 120_000);
});

async function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
