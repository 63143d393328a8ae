/**
 * The embedded (SQLite) store: the shared contract suite over temp files, plus what only the
 * embedded adapter promises: one file on disk after close, a second connection reading while the
 * first writes, retention pruning that keeps the roll-ups, rejected huge or malformed input.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isLidarError } from '../processing/errors.js';
import { createEmbeddedBackend } from '../store/embedded/index.js';
import { SCHEMA_SQL, SCHEMA_VERSION } from '../store/embedded/schema.js';
import Database from 'better-sqlite3';
import { profileId, type StoreBackend } from '../store/port.js';
import { makeCell, makeProfile, storeContract } from './store-contract.js';

const T = Date.UTC(2024, 0, 15, 10);
const H = 3_600_000;
const D = 86_400_000;
const dirs: string[] = [];

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'lidar-pm-store-'));
  dirs.push(d);
  return d;
}

storeContract('embedded', async () => {
  const dir = tempDir();
  const path = join(dir, 'nested', 'store.sqlite');
  const made: StoreBackend[] = [];
  const mk = () => {
    const b = createEmbeddedBackend({ path, rawRetentionMs: 0 });
    made.push(b);
    return b;
  };
  return {
    backend: mk(),
    reopen: async () => mk(),
    cleanup: async () => {
      for (const b of made) await b.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('embedded store specifics', () => {
  const open: StoreBackend[] = [];
  afterEach(async () => {
    for (const b of open.splice(0)) await b.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  async function opened(path: string, options: { rawRetentionMs?: number } = {}) {
    const b = createEmbeddedBackend({ path, rawRetentionMs: options.rawRetentionMs ?? 0 });
    open.push(b);
    await b.open();
    return b;
  }

  it('opens a schema-version-1 file: adds the background column, old rows read NaN, new rows keep it', async () => {
    const dir = tempDir();
    const path = join(dir, 'v1.sqlite');
    const T = Date.UTC(2024, 0, 15, 10, 0, 0);
    // Layout 1: the profiles table without `background`.
    const v1Sql = SCHEMA_SQL.replace(' received_ms REAL, background REAL,', ' received_ms REAL,');
    expect(v1Sql).not.toBe(SCHEMA_SQL);
    const db = new Database(path);
    db.exec(v1Sql);
    db.pragma('user_version = 1');
    db.prepare(
      "INSERT INTO profiles (station, channel, time_ms, mode, bins, file, params_id, snr, qc_counts) VALUES ('sofia', '532o-glued', ?, 'vertical', 8, 'old', 'p-old', 21.5, '[]')",
    ).run(T);
    db.close();
    const b = await opened(path);
    const [old] = await b.profiles({ station: 'sofia', fromMs: T, toMs: T + 1 });
    expect(old.snr).toBe(21.5);
    expect(old.background).toBeNaN();
    await b.write({ profiles: [makeProfile({ timeMs: T + 60_000, background: 0.5 })] });
    const metas = await b.profiles({ station: 'sofia', fromMs: T, toMs: T + 120_000 });
    expect(metas.map((m) => m.background)).toEqual([NaN, 0.5]);
    await b.close();
    open.splice(open.indexOf(b), 1);
    const check = new Database(path, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    check.close();
  });

  it('does not write trailing NaNs of long records, and reads them back bit-exact', async () => {
    const dir = tempDir();
    const bins = 16380;
    const tailNaN = (k: number) => Float32Array.from({ length: bins }, (_, i) => (i < 3000 ? k + i * 1e-3 : NaN));
    const odd = tailNaN(9);
    new Uint32Array(odd.buffer)[bins - 1] = 0x7fc00001; // a non-canonical NaN at the end is data: kept
    const arrays = { beta_aer: tailNaN(1), alpha_aer: tailNaN(2), pm10: odd, qc: new Uint8Array(bins).fill(8) };
    const sizes: number[] = [];
    for (const [i, withNaNTail] of [true, false].entries()) {
      const path = join(dir, `s${i}.sqlite`);
      const b = await opened(path);
      const a = withNaNTail ? arrays : { ...arrays, beta_aer: arrays.beta_aer.map((v) => (Number.isNaN(v) ? 0 : v)), alpha_aer: arrays.alpha_aer.map((v) => (Number.isNaN(v) ? 0 : v)) };
      await b.write({ profiles: [makeProfile({ timeMs: T, bins, arrays: a })] });
      const [rec] = await b.profileArrays('sofia', [profileId('sofia', '532o-glued', T)]);
      for (const name of ['beta_aer', 'alpha_aer', 'pm10', 'qc'] as const) {
        const got = rec.arrays[name]!;
        expect(got.length).toBe(bins);
        expect(new Uint8Array(got.buffer, got.byteOffset, got.byteLength)).toEqual(new Uint8Array(a[name].buffer, a[name].byteOffset, a[name].byteLength));
      }
      await b.close();
      open.splice(open.indexOf(b), 1);
      sizes.push(readdirSync(dir).filter((f) => f.startsWith(`s${i}.sqlite`)).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0));
    }
    expect(sizes[0]).toBeLessThan(sizes[1] - 2 * 4 * (bins - 3000) * 0.9); // two arrays' NaN tails not stored
  });

  it('is one file on disk after close', async () => {
    const dir = tempDir();
    const path = join(dir, 'lidar-pm.sqlite');
    const b = await opened(path);
    await b.open(); // idempotent
    await b.write({ profiles: [makeProfile({ timeMs: T })], cells: [makeCell({ cell: 'c', timeMs: T, n: 1, pm10Sum: 2 })] });
    await b.close();
    expect(readdirSync(dir)).toEqual(['lidar-pm.sqlite']);
    expect(b.status().reachable).toBe(false);
  });

  it('serves a second connection reading while the first writes', async () => {
    const path = join(tempDir(), 's.sqlite');
    const writer = await opened(path);
    const reader = await opened(path);
    for (let k = 0; k < 20; k++) {
      await writer.write({ profiles: [makeProfile({ timeMs: T + k * 1000 })] });
      const seen = await reader.profiles({ station: 'sofia', fromMs: T, toMs: T + H });
      expect(seen).toHaveLength(k + 1);
    }
  });

  it('prunes raw rows beyond the retention but keeps the hourly roll-ups', async () => {
    const path = join(tempDir(), 'r.sqlite');
    const b = createEmbeddedBackend({ path, rawRetentionMs: 10 * D });
    open.push(b);
    await b.open();
    const old = T - 30 * D;
    await b.write({
      profiles: [makeProfile({ timeMs: old }), makeProfile({ timeMs: T })],
      cells: [makeCell({ cell: 'c', timeMs: old + 60_000, n: 2, pm10Sum: 8 }), makeCell({ cell: 'c', timeMs: T, n: 1, pm10Sum: 1 })],
      health: [{ station: 'sofia', timeMs: old, values: { a: 1 } }],
    });
    const deleted = await b.prune();
    expect(deleted).toBeGreaterThanOrEqual(4);
    expect((await b.profiles({ station: 'sofia', fromMs: old - D, toMs: T + D })).map((p) => p.timeMs)).toEqual([T]);
    expect(await b.profileArrays('sofia', [profileId('sofia', '532o-glued', old)])).toEqual([]);
    expect(await b.health({ station: 'sofia', fromMs: old - D, toMs: T })).toEqual([]);
    // Hour-aligned windows read the roll-ups, which keep the pruned hour.
    const rolled = await b.cellSums({ station: 'sofia', channel: '532o-glued', fromMs: old, toMs: old + H, groupBy: 'cell', bucket: '1h' });
    expect(rolled.map((r) => [r.n, r.pm10Sum])).toEqual([[2, 8]]);
    // A replay of the pruned contribution is ignored, also after a reopen: the hour is not counted twice.
    await b.close();
    const again = await opened(path, { rawRetentionMs: 10 * D });
    await again.write({ cells: [makeCell({ cell: 'c', timeMs: old + 60_000, n: 2, pm10Sum: 8 })] });
    const replayed = await again.cellSums({ station: 'sofia', channel: '532o-glued', fromMs: old, toMs: old + H, groupBy: 'cell', bucket: '1h' });
    expect(replayed.map((r) => [r.n, r.pm10Sum])).toEqual([[2, 8]]);
    // Within the horizon, writes go through as usual.
    await again.write({ cells: [makeCell({ cell: 'c', timeMs: T + 60_000, n: 1, pm10Sum: 3 })] });
    const recent = await again.cellSums({ station: 'sofia', channel: '532o-glued', fromMs: T, toMs: T + H, groupBy: 'cell' });
    expect(recent.map((r) => [r.n, r.pm10Sum])).toEqual([[2, 4]]);
  });

  it('rejects malformed input with BAD_VALUE naming the field', async () => {
    const b = await opened(join(tempDir(), 'v.sqlite'));
    const cases: Array<[unknown, string]> = [
      [{ profiles: [{ ...makeProfile({ timeMs: T }), bins: 3 }] }, 'profiles[0].arrays.height_m'],
      [{ profiles: [makeProfile({ timeMs: T, arrays: { pm10: new Float64Array(8) as unknown as Float32Array } })] }, 'profiles[0].arrays.pm10'],
      [{ profiles: [makeProfile({ timeMs: T, arrays: { bogus: new Float32Array(8) } as never })] }, 'profiles[0].arrays.bogus'],
      [{ profiles: [makeProfile({ timeMs: T, mode: 'ppi' as never })] }, 'profiles[0].mode'],
      [{ profiles: [makeProfile({ timeMs: T, station: '' })] }, 'profiles[0].station'],
      [{ profiles: [makeProfile({ timeMs: T, bins: 100_000, arrays: {} })] }, 'profiles[0].bins'],
      [{ profiles: [makeProfile({ timeMs: T, file: 'lone \ud800 surrogate' })] }, 'profiles[0].file'],
      [{ cells: [makeCell({ cell: 'c', timeMs: T, n: -1, pm10Sum: 1 })] }, 'cells[0].n'],
      [{ cells: [makeCell({ cell: 'c', timeMs: T + 0.5, n: 1, pm10Sum: 1 })] }, 'cells[0].timeMs'],
      [{ health: [{ station: 'sofia', timeMs: T, values: { 'bad\nname': 1 } }] }, 'health[0].values'],
      [{ health: [{ station: 'sofia', timeMs: T, values: { x: null } }] }, 'health[0].values.x'],
      [{ profiles: 'nope' }, 'profiles'],
    ];
    for (const [batch, field] of cases) {
      const e = await b.write(batch as never).then(() => null, (err: unknown) => err);
      expect(isLidarError(e) && e.code === 'LIDAR_ERR_BAD_VALUE', `${field}: ${String(e)}`).toBe(true);
      if (isLidarError(e)) expect(e.field).toContain(field);
    }
    expect(await b.profiles({ station: 'sofia', fromMs: 0, toMs: T + D })).toEqual([]);
    const q = await b.profiles({ station: 'sofia', fromMs: T, toMs: T - 1 }).then(() => null, (err: unknown) => err);
    expect(isLidarError(q) && q.field === 'toMs').toBe(true);
    const lim = await b.profiles({ station: 'sofia', fromMs: T, toMs: T + 1, limit: 0 }).then(() => null, (err: unknown) => err);
    expect(isLidarError(lim) && lim.field === 'limit').toBe(true);
    const ids = await b.profileArrays('sofia', ['sofia:532o-glued:abc']).then(() => null, (err: unknown) => err);
    expect(isLidarError(ids) && ids.field === 'ids[0]').toBe(true);
  });

  it('keeps NUL characters and long free text intact', async () => {
    const b = await opened(join(tempDir(), 't.sqlite'));
    const text = 'nul\u0000inside ' + 'x'.repeat(60_000);
    await b.write({ health: [{ station: 'sofia', timeMs: T, values: { log: text } }] });
    const [rec] = await b.health({ station: 'sofia', fromMs: T, toMs: T + 1 });
    expect(rec.values.log).toBe(text);
  });

  it('refuses to use a file that is not an SQLite database (LIDAR_ERR_IO)', async () => {
    const path = join(tempDir(), 'garbage.sqlite');
    writeFileSync(path, 'this is not a database '.repeat(100));
    const b = createEmbeddedBackend({ path });
    const e = await b.open().then(() => null, (err: unknown) => err);
    expect(isLidarError(e) && e.code === 'LIDAR_ERR_IO', String(e)).toBe(true);
    expect(b.status().lastError).toContain('garbage.sqlite');
    expect(existsSync(path)).toBe(true);
    const notOpen = await b.profiles({ station: 'x', fromMs: 0, toMs: 1 }).then(() => null, (err: unknown) => err);
    expect(isLidarError(notOpen) && notOpen.code === 'LIDAR_ERR_IO').toBe(true);
  });
});
