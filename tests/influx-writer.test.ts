// The InfluxDB writer's spooling when the spool has no room (logic test: the database is a fake that
// is always unreachable; the real influxd is in tests/store-influx.test.ts and the fault matrix).
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskSpool, SPOOL_HEADER_BYTES } from '../store/spool.js';
import { InfluxWriter, type PointLine } from '../store/influx/writer.js';
import { InfluxHttpError, type InfluxHttp } from '../store/influx/http.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function writerWith(maxBytes: number) {
  const dir = mkdtempSync(join(tmpdir(), 'lidar-writer-'));
  dirs.push(dir);
  const spool = new DiskSpool({ dir, maxBytes });
  const http = { write: async () => { throw new InfluxHttpError('network', 0, 'connect ECONNREFUSED (test)'); } } as unknown as InfluxHttp;
  const writer = new InfluxWriter({
    http,
    database: 'lidar',
    spool,
    spoolDir: dir,
    batchPoints: 10,
    batchBytes: 1 << 20,
    flushIntervalMs: 0,
    retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
    log: () => undefined,
    ensureSchema: async () => undefined,
    rollups: { reserve: async () => undefined, release: () => undefined, schedule: () => undefined },
  });
  return { spool, writer };
}

const lines = (n: number, tag: string): PointLine[] => Array.from({ length: n }, (_, i) => ({ rp: 'raw', line: `m,station=${tag} v=${i} ${1_500_000_000_000_000_000 + i}` }));

describe('influx writer, database unreachable', () => {
  it('spools a write whole when the spool has room', async () => {
    const { spool, writer } = writerWith(1 << 20);
    await spool.open();
    await writer.submit(lines(25, 'a'), []); // 3 chunks of at most 10 points
    expect(spool.stats()).toMatchObject({ records: 3, count: 25 });
    await writer.close();
  });

  it('refuses a write whole when only part of it fits: nothing of it is spooled, so a retry does not spool a part twice', async () => {
    const one = lines(10, 'a').map((l) => l.line).join('\n');
    const recordBytes = SPOOL_HEADER_BYTES + Buffer.byteLength(`${JSON.stringify({ rp: 'raw' })}\n${one}`);
    const { spool, writer } = writerWith(recordBytes * 2); // room for two of the three chunks
    await spool.open();
    await expect(writer.submit(lines(25, 'a'), [])).rejects.toMatchObject({ code: 'LIDAR_ERR_IO', message: expect.stringMatching(/spool full/) });
    expect(spool.stats()).toMatchObject({ records: 0, count: 0 });
    // A write that fits still goes in, and the retry of the refused one is refused again without growing the spool.
    await writer.submit(lines(10, 'b'), []);
    expect(spool.stats()).toMatchObject({ records: 1, count: 10 });
    await expect(writer.submit(lines(25, 'a'), [])).rejects.toMatchObject({ code: 'LIDAR_ERR_IO' });
    expect(spool.stats()).toMatchObject({ records: 1, count: 10 });
    await writer.close();
  });
});
