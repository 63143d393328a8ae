/**
 * The generic disk spool (store/spool.ts): order, bound, restart recovery, torn tails. No database.
 */
import { mkdtemp, readdir, rm, writeFile, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLidarError } from '../processing/errors.js';
import { createSpool, encodeSpoolRecord, segmentName, SPOOL_HEADER_BYTES, type DiskSpool, type SpoolOptions } from '../store/spool.js';

let dir: string;
const logs: string[] = [];
const spools: DiskSpool[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lidar-spool-test-'));
  logs.length = 0;
});

afterEach(async () => {
  for (const s of spools.splice(0)) await s.close();
  await rm(dir, { recursive: true, force: true });
});

function make(opts: Partial<SpoolOptions> = {}): DiskSpool {
  const s = createSpool({ dir, maxBytes: 1 << 20, logger: (l) => logs.push(l), ...opts });
  spools.push(s);
  return s;
}

async function drainAll(s: DiskSpool): Promise<Array<{ text: string; count: number }>> {
  const out: Array<{ text: string; count: number }> = [];
  for (;;) {
    const r = await s.peek();
    if (r === null) return out;
    out.push({ text: r.payload.toString('utf8'), count: r.count });
    await s.ack(r.seq);
  }
}

function payloadFor(i: number): string {
  // Varying sizes, including empty and multi-byte text.
  return i % 7 === 0 ? '' : `record ${i} é中 ` + 'x'.repeat((i * 37) % 500);
}

async function segments(): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.seg')).sort();
}

describe('disk spool', () => {
  it('returns records in append order with their counts, across segment rotation', async () => {
    const s = make({ segmentBytes: 2000 });
    await s.open();
    for (let i = 0; i < 60; i++) await s.append(payloadFor(i), i + 1);
    expect(s.stats().records).toBe(60);
    expect(s.stats().count).toBe((60 * 61) / 2);
    expect((await segments()).length).toBeGreaterThan(3);
    const got = await drainAll(s);
    expect(got.map((g) => g.text)).toEqual(Array.from({ length: 60 }, (_, i) => payloadFor(i)));
    expect(got.map((g) => g.count)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(s.stats()).toEqual({ records: 0, count: 0, bytes: 0 });
    // Consumed segments are deleted (at most the tail one stays).
    expect((await segments()).length).toBeLessThanOrEqual(1);
  });

  it('concurrent appends keep the order in which they were called', async () => {
    const s = make({ segmentBytes: 4096 });
    await s.open();
    await Promise.all(Array.from({ length: 40 }, (_, i) => s.append(`c${i}`, 1)));
    expect((await drainAll(s)).map((g) => g.text)).toEqual(Array.from({ length: 40 }, (_, i) => `c${i}`));
  });

  it('refuses a record that would exceed maxBytes with LIDAR_ERR_IO, keeps what it holds, and accepts again after acks', async () => {
    const recordBytes = SPOOL_HEADER_BYTES + 100;
    const s = make({ maxBytes: recordBytes * 5 });
    await s.open();
    for (let i = 0; i < 5; i++) await s.append('y'.repeat(100), 10);
    let error: unknown = null;
    try {
      await s.append('z'.repeat(100), 10);
    } catch (e) {
      error = e;
    }
    expect(isLidarError(error)).toBe(true);
    expect((error as { code: string }).code).toBe('LIDAR_ERR_IO');
    expect((error as Error).message).toMatch(/spool full/);
    expect(s.stats()).toEqual({ records: 5, count: 50, bytes: recordBytes * 5 });
    const first = await s.peek();
    await s.ack(first!.seq);
    await s.append('z'.repeat(100), 10);
    const all = await drainAll(s);
    expect(all.length).toBe(5);
    expect(all[4].text).toBe('z'.repeat(100));
  });

  it('survives a restart: acked records stay gone, the rest comes back in order', async () => {
    const a = make({ segmentBytes: 1500 });
    await a.open();
    for (let i = 0; i < 30; i++) await a.append(payloadFor(i), 2);
    for (let i = 0; i < 12; i++) {
      const r = await a.peek();
      await a.ack(r!.seq);
    }
    await a.close();
    const b = make({ segmentBytes: 1500 });
    const recovery = await b.open();
    expect(recovery.records).toBe(18);
    expect(recovery.count).toBe(36);
    expect(recovery.truncatedBytes).toBe(0);
    await b.append('after restart', 1);
    const got = await drainAll(b);
    expect(got.map((g) => g.text)).toEqual([...Array.from({ length: 18 }, (_, i) => payloadFor(i + 12)), 'after restart']);
  });

  it('recovers a segment whose last record was torn by a crash mid-append, keeping every complete record', async () => {
    const a = make();
    await a.open();
    for (let i = 0; i < 5; i++) await a.append(`complete ${i}`, 3);
    await a.close();
    const [seg] = await segments();
    const path = join(dir, seg);
    const sizeBefore = (await stat(path)).size;
    const torn = encodeSpoolRecord(Buffer.from('this record never finished'), 9).subarray(0, SPOOL_HEADER_BYTES + 5);
    await writeFile(path, torn, { flag: 'a' });

    const b = make();
    const recovery = await b.open();
    expect(recovery.records).toBe(5);
    expect(recovery.truncatedBytes).toBe(torn.length);
    expect((await stat(path)).size).toBe(sizeBefore);
    expect(logs.some((l) => /truncated at byte/.test(l))).toBe(true);
    await b.append('after recovery', 1);
    await b.close();

    const c = make();
    await c.open();
    expect((await drainAll(c)).map((g) => g.text)).toEqual([0, 1, 2, 3, 4].map((i) => `complete ${i}`).concat('after recovery'));
  });

  it('recovers from a torn header, garbage bytes and a checksum mismatch at the tail', async () => {
    for (const damage of ['header', 'garbage', 'crc'] as const) {
      await rm(dir, { recursive: true, force: true });
      const a = make();
      await a.open();
      for (let i = 0; i < 4; i++) await a.append(`r${i}`, 1);
      await a.close();
      const path = join(dir, (await segments())[0]);
      if (damage === 'header') await writeFile(path, Buffer.from([0x4c, 0x53, 0x50]), { flag: 'a' });
      if (damage === 'garbage') await writeFile(path, Buffer.from('\x00\xffgarbage after a crash'), { flag: 'a' });
      if (damage === 'crc') {
        const data = await readFile(path);
        data[data.length - 1] ^= 0xff; // flips a byte of the last record's payload
        await writeFile(path, data);
      }
      const b = make();
      await b.open();
      const expected = damage === 'crc' ? ['r0', 'r1', 'r2'] : ['r0', 'r1', 'r2', 'r3'];
      expect((await drainAll(b)).map((g) => g.text), damage).toEqual(expected);
      await b.close();
    }
  });

  it('a torn tail in one segment does not lose the later segments', async () => {
    const a = make({ segmentBytes: 200 });
    await a.open();
    for (let i = 0; i < 12; i++) await a.append(`seg-record-${i}-${'p'.repeat(60)}`, 1);
    await a.close();
    const segs = await segments();
    expect(segs.length).toBeGreaterThan(2);
    // Corrupt the end of the first segment (its last record's payload).
    const firstPath = join(dir, segs[0]);
    const data = await readFile(firstPath);
    data[data.length - 2] ^= 0x55;
    await writeFile(firstPath, data);
    const b = make({ segmentBytes: 200 });
    const recovery = await b.open();
    const texts = (await drainAll(b)).map((g) => g.text);
    expect(recovery.truncatedBytes).toBeGreaterThan(0);
    // Exactly one record (the damaged one) is gone; everything after it in later segments is there, in order.
    expect(texts.length).toBe(11);
    const all = Array.from({ length: 12 }, (_, i) => `seg-record-${i}-${'p'.repeat(60)}`);
    const missing = all.filter((t) => !texts.includes(t));
    expect(missing.length).toBe(1);
    expect(texts).toEqual(all.filter((t) => t !== missing[0]));
  });

  it('an unreadable head file delivers from the oldest segment again (at least once), with a log line', async () => {
    const a = make();
    await a.open();
    for (let i = 0; i < 3; i++) await a.append(`h${i}`, 1);
    const r = await a.peek();
    await a.ack(r!.seq);
    await a.close();
    await writeFile(join(dir, 'head'), '{not json');
    const b = make();
    await b.open();
    expect((await drainAll(b)).map((g) => g.text)).toEqual(['h0', 'h1', 'h2']);
    expect(logs.some((l) => /unreadable head/.test(l))).toBe(true);
  });

  it('rejects use before open and acks of the wrong record', async () => {
    const s = make();
    await expect(s.append('x')).rejects.toMatchObject({ code: 'LIDAR_ERR_USAGE' });
    await s.open();
    await s.append('x');
    await expect(s.ack(12345)).rejects.toMatchObject({ code: 'LIDAR_ERR_USAGE' });
    expect(segmentName(7)).toBe('000000000007.seg');
  });
});
