// MQTT topic names (ingest/mqtt/topics.ts): building, parsing, station id validation.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLidarError } from '../processing/errors.js';
import { licelNameOf } from '../ingest/mqtt/source.js';
import { parseTopic, presenceTopic, productsTopic, rawTopic, statusTopic, onlineTopic, subscriptionFilter } from '../ingest/mqtt/topics.js';

describe('topics', () => {
  it('builds the contract topics', () => {
    expect(rawTopic('sofia')).toBe('lidar/sofia/raw');
    expect(statusTopic('sofia')).toBe('lidar/sofia/status');
    expect(onlineTopic('sofia')).toBe('lidar/sofia/online');
    expect(productsTopic('sofia')).toBe('lidar/sofia/products');
    expect(presenceTopic('worker-1')).toBe('lidar-pm/worker-1/online');
    expect(subscriptionFilter('raw', '+')).toBe('lidar/+/raw');
    expect(subscriptionFilter('raw', '+', 'retrieval')).toBe('$share/retrieval/lidar/+/raw');
    expect(subscriptionFilter('status', 'plovdiv_2')).toBe('lidar/plovdiv_2/status');
  });

  it('refuses bad station ids when building, naming the id', () => {
    for (const bad of ['', 'Sofia', 'a/b', 'a+', '#', 'x'.repeat(65), 'sofia ', 'ü']) {
      let err: unknown;
      try {
        rawTopic(bad);
      } catch (e) {
        err = e;
      }
      expect(isLidarError(err) && err.code === 'LIDAR_ERR_BAD_VALUE', JSON.stringify(bad)).toBe(true);
    }
    expect(() => rawTopic('x'.repeat(65))).toThrow(/station id/);
    expect(rawTopic('x'.repeat(64))).toBe(`lidar/${'x'.repeat(64)}/raw`);
    expect(() => presenceTopic('a/b')).toThrow(/client id/);
    expect(() => subscriptionFilter('raw', '+', 'bad group')).toThrow(/shared subscription group/);
  });

  it('parses contract topics and rejects everything else with a reason', () => {
    expect(parseTopic('lidar/sofia/raw')).toEqual({ ok: true, station: 'sofia', kind: 'raw' });
    expect(parseTopic('lidar/s-1_x/status')).toEqual({ ok: true, station: 's-1_x', kind: 'status' });
    const cases: Array<[string, RegExp]> = [
      ['lidar/Sofia/raw', /station id "Sofia"/],
      [`lidar/${'a'.repeat(65)}/raw`, /does not match/],
      ['lidar/sofia/raw/extra', /is not lidar\/\{station\}/],
      ['lidar/sofia', /is not lidar/],
      ['other/sofia/raw', /is not lidar/],
      ['lidar/sofia/bogus', /unknown message kind "bogus"/],
      ['lidar//raw', /station id ""/],
    ];
    for (const [topic, re] of cases) {
      const p = parseTopic(topic);
      expect(p.ok, topic).toBe(false);
      if (!p.ok) {
        expect(p.error.code).toBe('LIDAR_ERR_BAD_VALUE');
        expect(p.error.message).toMatch(re);
      }
    }
  });

  it('never throws on arbitrary topics, and accepts exactly the valid ids', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        const p = parseTopic(`lidar/${s}/raw`);
        expect(p.ok).toBe(/^[a-z0-9_-]{1,64}$/.test(s));
        if (!p.ok) expect(p.error.message.length).toBeLessThan(400);
      }),
      { numRuns: 1000 },
    );
  });

  it('derives item names from Licel line 1 only when it is a plain file name', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(licelNameOf(enc(' SF1811918.003000      \r\n Sofia ...'))).toBe('SF1811918.003000');
    expect(licelNameOf(enc('../../etc/passwd\r\nx'))).toBe(undefined);
    expect(licelNameOf(enc('no line end'))).toBe(undefined);
    expect(licelNameOf(new Uint8Array(0))).toBe(undefined);
  });
});
