/**
 * The store contract suite: every `StoreBackend` adapter calls `storeContract(name, make)` from its
 * own test file (tests/store-embedded.test.ts, tests/store-influx.test.ts). Adapter-agnostic: only
 * the port (store/port.ts) and the ResultStore (store/result-store.ts) are used, never SQL/InfluxQL.
 * Expected answers are computed by hand from the small synthetic data written in each test.
 *
 * Factory protocol: `make()` is called once per test and returns a FRESH, EMPTY store location
 * (a temp file, a new database name) with a backend over it that is NOT yet opened (the suite calls
 * `open()`). `reopen()` returns a NEW backend over the SAME location (the suite closes the first one
 * before and opens the new one itself). `cleanup()` closes whatever is still open (close() must be
 * idempotent) and removes the location.
 *
 * Conventions the suite checks: NaN/Infinity in scalar numbers read back as NaN (health values may
 * instead be left out); arrays round-trip bit-exact (Float32, NaN included); strings with quotes,
 * commas, newlines and non-ASCII characters round-trip exactly in free text (file names, health
 * strings, parameter sets) and either round-trip or are rejected with LIDAR_ERR_BAD_VALUE naming
 * the field in identifiers (station, channel, cell, district).
 */
import { cellId } from '../processing/geometry/grid.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLidarError } from '../processing/errors.js';
import {
  PROFILE_ARRAY_NAMES,
  profileId,
  type CellRecord,
  type CellSumRow,
  type HealthRecord,
  type ProfileArrays,
  type ProfileRecord,
  type StoreBackend,
} from '../store/port.js';
import { createResultStore } from '../store/result-store.js';

export interface ContractStore {
  /** A backend over a fresh, empty location; not yet opened. */
  backend: StoreBackend;
  /** A new backend over the same location (not yet opened); used for close/reopen durability. */
  reopen(): Promise<StoreBackend>;
  /** Closes every backend made for this location and removes it. */
  cleanup(): Promise<void>;
}

const ST = 'sofia';
const CH = '532o-glued';
const CH2 = '1064o-glued';
/** 2024-01-15T10:00:00Z (a whole hour; Sofia is UTC+2 in January). */
const T = Date.UTC(2024, 0, 15, 10, 0, 0);
const S = 1000;
const H = 3_600_000;
const D = 86_400_000;

// ---------------------------------------------------------------- record builders

function floats(values: number[]): Float32Array {
  return Float32Array.from(values);
}

/** A profile record with every field set; arrays of `bins` values derived from `seed`. */
export function makeProfile(o: Partial<ProfileRecord> & { timeMs: number; seed?: number }): ProfileRecord {
  const station = o.station ?? ST;
  const channel = o.channel ?? CH;
  const bins = o.bins ?? 8;
  const seed = o.seed ?? 1;
  const arrays: ProfileArrays = {};
  if (o.arrays) Object.assign(arrays, o.arrays);
  else {
    for (const [k, name] of PROFILE_ARRAY_NAMES.entries()) {
      if (name === 'qc') arrays.qc = Uint8Array.from({ length: bins }, (_, i) => (i * 37 + seed) & 255);
      else arrays[name] = Float32Array.from({ length: bins }, (_, i) => (i === 2 ? NaN : seed * 1.1 + k * 0.37 + i * 1e-3));
    }
  }
  const elevationDeg = o.elevationDeg ?? (o.mode === 'vertical' ? 90 : 2);
  return {
    id: profileId(station, channel, o.timeMs),
    station,
    channel,
    mode: o.mode ?? (elevationDeg >= 85 ? 'vertical' : 'scan'),
    timeMs: o.timeMs,
    timeEndMs: o.timeEndMs ?? o.timeMs + 30 * S,
    azimuthDeg: o.azimuthDeg ?? 0,
    elevationDeg,
    rangeStartM: o.rangeStartM ?? 3.75,
    rangeStepM: o.rangeStepM ?? 7.5,
    bins,
    file: o.file ?? `SF${o.timeMs}.000000`,
    paramsId: o.paramsId ?? 'p-test',
    pblHeightM: o.pblHeightM ?? 1020.5,
    pblQuality: o.pblQuality ?? 0.75,
    cloudBaseM: o.cloudBaseM ?? NaN,
    aod: o.aod ?? 0.3125,
    snr: o.snr ?? 17.25,
    background: 'background' in o ? o.background : 2.375,
    lidarConstant: o.lidarConstant ?? 5e13,
    validBins: o.validBins ?? bins - 1,
    qcCounts: o.qcCounts ?? [1, 2, 0, 0, 0, 0, 0, 3],
    receivedMs: o.receivedMs ?? o.timeMs + 40 * S,
    arrays,
  };
}

export function makeCell(o: Partial<CellRecord> & { cell: string; timeMs: number; n: number; pm10Sum: number }): CellRecord {
  return {
    station: o.station ?? ST,
    channel: o.channel ?? CH,
    cell: o.cell,
    district: o.district ?? '01',
    timeMs: o.timeMs,
    n: o.n,
    pm10Sum: o.pm10Sum,
    pm25Sum: o.pm25Sum ?? o.pm10Sum / 2,
    alphaSum: o.alphaSum ?? o.pm10Sum * 1e-6,
  };
}

// ---------------------------------------------------------------- assertions

function bytesOf(a: Float32Array | Uint8Array): number[] {
  return Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

/** Same numbers, NaN equal to NaN. */
function expectSameNumber(actual: number, expected: number, what: string): void {
  if (Number.isNaN(expected) || !Number.isFinite(expected)) expect(Number.isNaN(actual), `${what}: expected NaN, got ${actual}`).toBe(true);
  else expect(actual, what).toBe(expected);
}

function expectSameMeta(actual: ProfileRecord | Omit<ProfileRecord, 'arrays'>, expected: ProfileRecord): void {
  for (const k of ['id', 'station', 'channel', 'mode', 'timeMs', 'bins', 'file', 'paramsId'] as const) expect(actual[k], k).toBe(expected[k]);
  for (const k of ['timeEndMs', 'azimuthDeg', 'elevationDeg', 'rangeStartM', 'rangeStepM', 'pblHeightM', 'pblQuality', 'cloudBaseM', 'aod', 'snr', 'lidarConstant', 'validBins', 'receivedMs'] as const) {
    expectSameNumber(actual[k], expected[k], k);
  }
  expect(typeof actual.background, 'background is always read').toBe('number');
  expectSameNumber(actual.background!, expected.background ?? NaN, 'background');
  expect(actual.qcCounts.length).toBe(expected.qcCounts.length);
  actual.qcCounts.forEach((v, i) => expectSameNumber(v, expected.qcCounts[i], `qcCounts[${i}]`));
}

function expectSameArrays(actual: ProfileArrays, expected: ProfileArrays): void {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).filter((k) => expected[k as keyof ProfileArrays] !== undefined).sort());
  for (const [name, a] of Object.entries(expected)) {
    if (a === undefined) continue;
    const got = actual[name as keyof ProfileArrays];
    expect(got, name).toBeDefined();
    expect(got!.constructor, name).toBe(a.constructor);
    expect(got!.length, name).toBe(a.length);
    expect(bytesOf(got!), `${name} bytes`).toEqual(bytesOf(a));
  }
}

async function expectBadValue(p: Promise<unknown>, fieldPart?: string): Promise<void> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e, 'expected a rejection').not.toBeNull();
  expect(isLidarError(e), `expected a LidarError, got ${String(e)}`).toBe(true);
  if (!isLidarError(e)) return;
  expect(e.code).toBe('LIDAR_ERR_BAD_VALUE');
  if (fieldPart !== undefined) expect(`${e.field ?? ''} ${e.message}`).toContain(fieldPart);
}

function byKey(rows: CellSumRow[]): Map<string, CellSumRow> {
  return new Map(rows.map((r) => [`${Number.isNaN(r.timeMs) ? '-' : r.timeMs}|${r.key}`, r]));
}

function expectRow(rows: Map<string, CellSumRow>, key: string, want: { n: number; pm10Sum: number; pm25Sum?: number; alphaSum?: number; contributions: number }): void {
  const r = rows.get(key);
  expect(r, `row ${key} (have ${[...rows.keys()].join(', ')})`).toBeDefined();
  if (!r) return;
  expect(r.n, `${key} n`).toBe(want.n);
  expect(r.pm10Sum, `${key} pm10Sum`).toBeCloseTo(want.pm10Sum, 9);
  if (want.pm25Sum !== undefined) expect(r.pm25Sum, `${key} pm25Sum`).toBeCloseTo(want.pm25Sum, 9);
  if (want.alphaSum !== undefined) expect(r.alphaSum, `${key} alphaSum`).toBeCloseTo(want.alphaSum, 15);
  expect(r.contributions, `${key} contributions`).toBe(want.contributions);
}

// ---------------------------------------------------------------- the suite

export function storeContract(name: string, make: () => Promise<ContractStore>): void {
  describe(`store contract: ${name}`, () => {
    let h: ContractStore;
    let b: StoreBackend;

    beforeEach(async () => {
      h = await make();
      b = h.backend;
      await b.open();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    describe('profiles', () => {
      it('round-trips metadata and all arrays bit-exact (NaN, -0, Infinity, subnormals, every qc byte)', async () => {
        const bins = 256;
        const special = [NaN, -0, Infinity, -Infinity, 1.401298464324817e-45, 3.4028234663852886e38, -1.5e-7, 123456.789];
        const p = makeProfile({ timeMs: T, bins, seed: 3 });
        p.arrays.pm10 = Float32Array.from({ length: bins }, (_, i) => (i < special.length ? special[i] : i * 0.1));
        p.arrays.qc = Uint8Array.from({ length: bins }, (_, i) => i);
        // A NaN with a non-default payload must survive too.
        new DataView(p.arrays.pm10.buffer).setUint32(4 * 9, 0x7fc01234, true);
        await b.write({ profiles: [p] });
        await b.flush();
        const [meta] = await b.profiles({ station: ST, fromMs: T, toMs: T + 1 });
        expectSameMeta({ ...meta }, p);
        const [rec] = await b.profileArrays(ST, [p.id]);
        expectSameMeta(rec, p);
        expectSameArrays(rec.arrays, p.arrays);
      });

      it('reads NaN and +-Infinity in scalar numbers back as NaN (missing)', async () => {
        const p = makeProfile({ timeMs: T, pblHeightM: NaN, cloudBaseM: Infinity, aod: -Infinity, snr: NaN, lidarConstant: NaN, qcCounts: [1, NaN, 3] });
        await b.write({ profiles: [p] });
        const [meta] = await b.profiles({ station: ST, fromMs: T, toMs: T + 1 });
        for (const k of ['pblHeightM', 'cloudBaseM', 'aod', 'snr', 'lidarConstant'] as const) expect(Number.isNaN(meta[k]), k).toBe(true);
        expect(meta.qcCounts[0]).toBe(1);
        expect(Number.isNaN(meta.qcCounts[1])).toBe(true);
        expect(meta.qcCounts[2]).toBe(3);
      });

      it('stores the background level (NaN and absent read back as NaN)', async () => {
        const withBg = makeProfile({ timeMs: T, background: 0.8125 });
        const nanBg = makeProfile({ timeMs: T + 60 * S, background: NaN });
        const noBg = makeProfile({ timeMs: T + 120 * S });
        delete noBg.background;
        await b.write({ profiles: [withBg, nanBg, noBg] });
        await b.flush();
        const metas = await b.profiles({ station: ST, fromMs: T, toMs: T + H });
        expect(metas.map((m) => m.background)).toEqual([0.8125, NaN, NaN]);
        const [rec] = await b.profileArrays(ST, [withBg.id], ['qc']);
        expect(rec.background).toBe(0.8125);
        await expectBadValue(b.write({ profiles: [makeProfile({ timeMs: T + 180 * S, background: '1' as never })] }), 'profiles[0].background');
      });

      it('overwrites on the same (station, channel, time): one record with the new values, NaN replacing old values', async () => {
        const first = makeProfile({ timeMs: T, seed: 1, pblHeightM: 500, file: 'first' });
        const second = makeProfile({ timeMs: T, seed: 2, pblHeightM: NaN, aod: 0.5, file: 'second', paramsId: 'p-other' });
        await b.write({ profiles: [first] });
        await b.write({ profiles: [second] });
        const metas = await b.profiles({ station: ST, fromMs: T - H, toMs: T + H });
        expect(metas).toHaveLength(1);
        expectSameMeta(metas[0], second);
        const [rec] = await b.profileArrays(ST, [second.id]);
        expectSameArrays(rec.arrays, second.arrays);
        // Redelivery of the same record in one batch and again later: still one record.
        await b.write({ profiles: [second, second] });
        expect(await b.profiles({ station: ST, fromMs: T - H, toMs: T + H })).toHaveLength(1);
      });

      it('respects half-open time windows [fromMs, toMs)', async () => {
        await b.write({ profiles: [0, 1, 2, 3].map((k) => makeProfile({ timeMs: T + k * 30 * S })) });
        const times = async (fromMs: number, toMs: number) => (await b.profiles({ station: ST, fromMs, toMs })).map((m) => m.timeMs);
        expect(await times(T, T + 60 * S)).toEqual([T, T + 30 * S]);
        expect(await times(T + 1, T + 60 * S + 1)).toEqual([T + 30 * S, T + 60 * S]);
        expect(await times(T + 90 * S, T + 90 * S)).toEqual([]);
        expect(await times(T - H, T)).toEqual([]);
      });

      it('filters by channel and mode, orders and limits', async () => {
        await b.write({
          profiles: [
            makeProfile({ timeMs: T, azimuthDeg: 190 }),
            makeProfile({ timeMs: T + 30 * S, mode: 'vertical' }),
            makeProfile({ timeMs: T + 60 * S, azimuthDeg: 200 }),
            makeProfile({ timeMs: T + 45 * S, channel: CH2, azimuthDeg: 190 }),
            makeProfile({ timeMs: T + 50 * S, station: 'other' }),
          ],
        });
        const q = { station: ST, fromMs: T, toMs: T + H };
        expect((await b.profiles({ ...q, channel: CH })).map((m) => m.timeMs)).toEqual([T, T + 30 * S, T + 60 * S]);
        expect((await b.profiles({ ...q, channel: CH2 })).map((m) => m.id)).toEqual([profileId(ST, CH2, T + 45 * S)]);
        expect((await b.profiles(q)).map((m) => m.timeMs)).toEqual([T, T + 30 * S, T + 45 * S, T + 60 * S]);
        expect((await b.profiles({ ...q, channel: CH, mode: 'scan' })).map((m) => m.timeMs)).toEqual([T, T + 60 * S]);
        expect((await b.profiles({ ...q, mode: 'vertical' })).map((m) => m.mode)).toEqual(['vertical']);
        expect((await b.profiles({ ...q, channel: CH, order: 'desc' })).map((m) => m.timeMs)).toEqual([T + 60 * S, T + 30 * S, T]);
        expect((await b.profiles({ ...q, channel: CH, order: 'desc', limit: 2 })).map((m) => m.timeMs)).toEqual([T + 60 * S, T + 30 * S]);
        expect((await b.profiles({ ...q, channel: CH, limit: 1 })).map((m) => m.timeMs)).toEqual([T]);
        expect(await b.profiles({ ...q, channel: 'nope' })).toEqual([]);
      });

      it('returns requested arrays only and leaves out unknown ids', async () => {
        const p = makeProfile({ timeMs: T });
        await b.write({ profiles: [p] });
        const [rec, ...rest] = await b.profileArrays(ST, [p.id, profileId(ST, CH, T + 1), profileId(ST, 'nope', T)], ['pm10', 'qc']);
        expect(rest).toEqual([]);
        expectSameMeta(rec, p);
        expectSameArrays(rec.arrays, { pm10: p.arrays.pm10, qc: p.arrays.qc });
        expect(await b.profileArrays(ST, [])).toEqual([]);
      });

      it('stores a profile with only some arrays', async () => {
        const p = makeProfile({ timeMs: T, bins: 3, arrays: { rcs: floats([1, NaN, 3]), qc: Uint8Array.from([0, 2, 255]) } });
        await b.write({ profiles: [p] });
        const [rec] = await b.profileArrays(ST, [p.id]);
        expectSameArrays(rec.arrays, p.arrays);
      });

      it('round-trips huge profiles (16380 bins x 11 arrays)', async () => {
        const p = makeProfile({ timeMs: T, bins: 16380, seed: 7 });
        const q = makeProfile({ timeMs: T + 30 * S, bins: 16380, seed: 8 });
        await b.write({ profiles: [p, q] });
        const recs = await b.profileArrays(ST, [p.id, q.id]);
        expect(recs.map((r) => r.id).sort()).toEqual([p.id, q.id].sort());
        for (const r of recs) expectSameArrays(r.arrays, (r.id === p.id ? p : q).arrays);
      });
    });

    describe('cell sums', () => {
      // Two profiles' contributions (T + 10 min, T + 70 min), cells c1, c2 in district 01, c3 in 02, c4 outside.
      const t1 = T + 10 * 60 * S;
      const t2 = T + 70 * 60 * S;
      const cells = (): CellRecord[] => [
        makeCell({ cell: 'c1', district: '01', timeMs: t1, n: 2, pm10Sum: 100, pm25Sum: 50, alphaSum: 2e-4 }),
        makeCell({ cell: 'c2', district: '01', timeMs: t1, n: 3, pm10Sum: 60, pm25Sum: 30, alphaSum: 3e-4 }),
        makeCell({ cell: 'c3', district: '02', timeMs: t1, n: 1, pm10Sum: 7, pm25Sum: 4, alphaSum: 1e-5 }),
        makeCell({ cell: 'c1', district: '01', timeMs: t2, n: 4, pm10Sum: 80, pm25Sum: 40, alphaSum: 1e-4 }),
        makeCell({ cell: 'c4', district: '', timeMs: t2, n: 5, pm10Sum: 10, pm25Sum: 5, alphaSum: 5e-6 }),
        makeCell({ cell: 'c1', channel: CH2, district: '01', timeMs: t1, n: 9, pm10Sum: 900 }),
        makeCell({ cell: 'c1', station: 'other', district: '01', timeMs: t1, n: 9, pm10Sum: 900 }),
      ];
      const q = { station: ST, channel: CH };

      it('sums by cell, district and station over a window (aligned and unaligned windows agree)', async () => {
        await b.write({ cells: cells() });
        for (const [fromMs, toMs] of [[T, T + 2 * H], [T + 1, T + 2 * H - 1]]) {
          const byCell = byKey(await b.cellSums({ ...q, fromMs, toMs, groupBy: 'cell' }));
          expect(byCell.size).toBe(4);
          expectRow(byCell, '-|c1', { n: 6, pm10Sum: 180, pm25Sum: 90, alphaSum: 3e-4, contributions: 2 });
          expectRow(byCell, '-|c2', { n: 3, pm10Sum: 60, contributions: 1 });
          expectRow(byCell, '-|c3', { n: 1, pm10Sum: 7, contributions: 1 });
          expectRow(byCell, '-|c4', { n: 5, pm10Sum: 10, contributions: 1 });
          const byDistrict = byKey(await b.cellSums({ ...q, fromMs, toMs, groupBy: 'district' }));
          expect(byDistrict.size).toBe(3);
          expectRow(byDistrict, '-|01', { n: 9, pm10Sum: 240, pm25Sum: 120, contributions: 3 });
          expectRow(byDistrict, '-|02', { n: 1, pm10Sum: 7, contributions: 1 });
          expectRow(byDistrict, '-|', { n: 5, pm10Sum: 10, contributions: 1 });
          const byStation = await b.cellSums({ ...q, fromMs, toMs, groupBy: 'station' });
          expect(byStation).toHaveLength(1);
          expect(byStation[0].key).toBe(ST);
          expectRow(byKey(byStation), `-|${ST}`, { n: 15, pm10Sum: 257, pm25Sum: 129, contributions: 5 });
        }
      });

      it('reports the district of each cell with groupBy cell', async () => {
        await b.write({ cells: cells() });
        const rows = await b.cellSums({ ...q, fromMs: T, toMs: T + 2 * H, groupBy: 'cell' });
        expect(Object.fromEntries(rows.map((r) => [r.key, r.district]))).toEqual({ c1: '01', c2: '01', c3: '02', c4: '' });
      });

      it('respects half-open windows', async () => {
        await b.write({ cells: cells() });
        const only = async (fromMs: number, toMs: number) => (await b.cellSums({ ...q, fromMs, toMs, groupBy: 'station' }))[0]?.contributions ?? 0;
        expect(await only(t1, t2)).toBe(3);
        expect(await only(t1 + 1, t2 + 1)).toBe(2);
        expect(await only(t1, t1)).toBe(0);
        expect(await only(T, T + H)).toBe(3);
        expect(await only(T + H, T + 2 * H)).toBe(2);
      });

      it('buckets by hour and by day (UTC)', async () => {
        await b.write({ cells: cells() });
        const hourly = byKey(await b.cellSums({ ...q, fromMs: T, toMs: T + 2 * H, groupBy: 'district', bucket: '1h' }));
        expect(hourly.size).toBe(4);
        expectRow(hourly, `${T}|01`, { n: 5, pm10Sum: 160, contributions: 2 });
        expectRow(hourly, `${T}|02`, { n: 1, pm10Sum: 7, contributions: 1 });
        expectRow(hourly, `${T + H}|01`, { n: 4, pm10Sum: 80, contributions: 1 });
        expectRow(hourly, `${T + H}|`, { n: 5, pm10Sum: 10, contributions: 1 });
        const day0 = Date.UTC(2024, 0, 15);
        const daily = byKey(await b.cellSums({ ...q, fromMs: day0, toMs: day0 + D, groupBy: 'cell', bucket: '1d' }));
        expectRow(daily, `${day0}|c1`, { n: 6, pm10Sum: 180, contributions: 2 });
        const unaligned = byKey(await b.cellSums({ ...q, fromMs: T + 1, toMs: T + 2 * H - 1, groupBy: 'station', bucket: '1h' }));
        expectRow(unaligned, `${T}|${ST}`, { n: 6, pm10Sum: 167, contributions: 3 });
        expectRow(unaligned, `${T + H}|${ST}`, { n: 9, pm10Sum: 90, contributions: 2 });
      });

      it('filters by cells and by district', async () => {
        await b.write({ cells: cells() });
        const w = { ...q, fromMs: T, toMs: T + 2 * H };
        const some = byKey(await b.cellSums({ ...w, groupBy: 'station', cells: ['c1', 'c3', 'nope'] }));
        expectRow(some, `-|${ST}`, { n: 7, pm10Sum: 187, contributions: 3 });
        const d01 = byKey(await b.cellSums({ ...w, groupBy: 'cell', district: '01' }));
        expect([...d01.keys()].sort()).toEqual(['-|c1', '-|c2']);
        const d01h = byKey(await b.cellSums({ ...w, groupBy: 'district', district: '01', bucket: '1h' }));
        expect(d01h.size).toBe(2);
        expectRow(d01h, `${T + H}|01`, { n: 4, pm10Sum: 80, contributions: 1 });
        const outside = byKey(await b.cellSums({ ...w, groupBy: 'district', district: '' }));
        expectRow(outside, '-|', { n: 5, pm10Sum: 10, contributions: 1 });
        expect(await b.cellSums({ ...w, groupBy: 'cell', cells: [] })).toEqual([]);
      });

      it('does not double-count rewritten contributions (raw, hourly and daily)', async () => {
        await b.write({ cells: cells() });
        await b.write({ cells: [makeCell({ cell: 'c1', district: '01', timeMs: t1, n: 1, pm10Sum: 11, pm25Sum: 5, alphaSum: 1e-6 })] });
        await b.write({ cells: cells().slice(1, 3) }); // replayed unchanged
        const day0 = Date.UTC(2024, 0, 15);
        for (const [fromMs, toMs] of [[T, T + 2 * H], [T + 1, T + 2 * H - 1], [day0, day0 + D]]) {
          const byCell = byKey(await b.cellSums({ ...q, fromMs, toMs, groupBy: 'cell' }));
          expectRow(byCell, '-|c1', { n: 5, pm10Sum: 91, pm25Sum: 45, contributions: 2 });
          const st = byKey(await b.cellSums({ ...q, fromMs, toMs, groupBy: 'station' }));
          expectRow(st, `-|${ST}`, { n: 14, pm10Sum: 168, contributions: 5 });
        }
        const hourly = byKey(await b.cellSums({ ...q, fromMs: T, toMs: T + 2 * H, groupBy: 'district', bucket: '1h' }));
        expectRow(hourly, `${T}|01`, { n: 4, pm10Sum: 71, contributions: 2 });
        const hourlyCell = byKey(await b.cellSums({ ...q, fromMs: T, toMs: T + 2 * H, groupBy: 'cell', bucket: '1h' }));
        expectRow(hourlyCell, `${T}|c1`, { n: 1, pm10Sum: 11, contributions: 1 });
        const daily = byKey(await b.cellSums({ ...q, fromMs: day0, toMs: day0 + D, groupBy: 'station', bucket: '1d' }));
        expectRow(daily, `${day0}|${ST}`, { n: 14, pm10Sum: 168, contributions: 5 });
      });

      it('treats NaN sums as missing: skipped by sums, NaN when all are missing', async () => {
        await b.write({
          cells: [
            makeCell({ cell: 'a', timeMs: t1, n: 2, pm10Sum: 10, pm25Sum: NaN, alphaSum: NaN }),
            makeCell({ cell: 'a', timeMs: t2, n: 3, pm10Sum: 20, pm25Sum: 6, alphaSum: NaN }),
          ],
        });
        for (const [fromMs, toMs] of [[T, T + 2 * H], [T + 1, T + 2 * H - 1]]) {
          const [row] = await b.cellSums({ ...q, fromMs, toMs, groupBy: 'cell' });
          expect(row.n).toBe(5);
          expect(row.pm10Sum).toBe(30);
          expect(row.pm25Sum).toBe(6);
          expect(Number.isNaN(row.alphaSum)).toBe(true);
        }
      });
    });

    describe('health', () => {
      it('round-trips numbers, strings and booleans with their types', async () => {
        const rec: HealthRecord = { station: ST, timeMs: T, values: { laserEnergyMj: 42.5, count: 7, zero: 0, ok: true, shutter: false, note: 'a "quoted", comma\nnew line; ünïcødé ✓ 🌫', empty: '' } };
        await b.write({ health: [rec] });
        const [got] = await b.health({ station: ST, fromMs: T, toMs: T + 1 });
        expect(got.station).toBe(ST);
        expect(got.timeMs).toBe(T);
        expect(got.values).toEqual(rec.values);
        for (const [k, v] of Object.entries(rec.values)) expect(typeof got.values[k], k).toBe(typeof v);
      });

      it('reads NaN/Infinity values back as NaN or leaves them out', async () => {
        await b.write({ health: [{ station: ST, timeMs: T, values: { a: NaN, b: Infinity, c: 1 } }] });
        const [got] = await b.health({ station: ST, fromMs: T, toMs: T + 1 });
        expect(got.values.c).toBe(1);
        for (const k of ['a', 'b']) {
          const v = got.values[k];
          expect(v === undefined || (typeof v === 'number' && Number.isNaN(v)), `${k}: ${String(v)}`).toBe(true);
        }
      });

      it('windows, orders, limits, selects fields and overwrites values of the same time', async () => {
        await b.write({
          health: [0, 1, 2, 3].map((k) => ({ station: ST, timeMs: T + k * 60 * S, values: { temp: 20 + k, ok: k % 2 === 0 } })),
        });
        await b.write({ health: [{ station: ST, timeMs: T + 60 * S, values: { temp: 99 } }, { station: 'other', timeMs: T, values: { temp: 1 } }] });
        const all = await b.health({ station: ST, fromMs: T, toMs: T + 180 * S });
        expect(all.map((r) => r.timeMs)).toEqual([T, T + 60 * S, T + 120 * S]);
        expect(all[1].values).toEqual({ temp: 99, ok: false });
        const desc = await b.health({ station: ST, fromMs: T, toMs: T + H, order: 'desc', limit: 2 });
        expect(desc.map((r) => r.timeMs)).toEqual([T + 180 * S, T + 120 * S]);
        const temps = await b.health({ station: ST, fromMs: T, toMs: T + H, fields: ['temp'] });
        expect(temps.map((r) => r.values)).toEqual([{ temp: 20 }, { temp: 99 }, { temp: 22 }, { temp: 23 }]);
      });
    });

    describe('parameter sets', () => {
      it('puts, gets, lists and overwrites by id', async () => {
        const json = JSON.stringify({ lidarRatioSr: 55, note: 'quotes " and \\ and\nnewline, ünïcødé' });
        await b.putParamSet({ id: 'p-aaa', json, name: 'winter, "default"', createdMs: T });
        await b.putParamSet({ id: 'p-bbb', json: '{}', name: 'b', createdMs: T + 1 });
        expect(await b.getParamSet('p-aaa')).toEqual({ id: 'p-aaa', json, name: 'winter, "default"', createdMs: T });
        expect(await b.getParamSet('p-missing')).toBeNull();
        await b.putParamSet({ id: 'p-bbb', json: '{"x":1}', name: 'b2', createdMs: T + 2 });
        const list = await b.listParamSets();
        expect(list.map((p) => p.id).sort()).toEqual(['p-aaa', 'p-bbb']);
        expect(list.find((p) => p.id === 'p-bbb')).toEqual({ id: 'p-bbb', json: '{"x":1}', name: 'b2', createdMs: T + 2 });
      });
    });

    describe('official AQ-station hours', () => {
      const A = 'BG0050A';
      const aq = (timeMs: number, pm10: number, pm25 = NaN, source = 'EEA E2a', aqStation = A) => ({ aqStation, timeMs, pm10, pm25, source });

      it('round-trips hours with missing values, windows half-open, oldest first, per station', async () => {
        await b.writeAqHours([aq(T + 2 * H, 41.5, 20.25), aq(T, 33.77), aq(T + H, NaN, 12), aq(T + H, 99, NaN, 'x', 'BG0052A')]);
        await b.flush();
        expect(await b.aqHours({ aqStation: A, fromMs: T, toMs: T + 3 * H })).toEqual([
          aq(T, 33.77),
          aq(T + H, NaN, 12),
          aq(T + 2 * H, 41.5, 20.25),
        ]);
        expect((await b.aqHours({ aqStation: A, fromMs: T + H, toMs: T + 2 * H })).map((r) => r.timeMs)).toEqual([T + H]);
        expect(await b.aqHours({ aqStation: A, fromMs: T + 3 * H, toMs: T + 9 * H })).toEqual([]);
        expect(await b.aqHours({ aqStation: 'BG0052A', fromMs: T, toMs: T + 3 * H })).toEqual([aq(T + H, 99, NaN, 'x', 'BG0052A')]);
        expect((await b.aqHours({ aqStation: A, fromMs: T, toMs: T + 3 * H, limit: 2 })).map((r) => r.timeMs)).toEqual([T, T + H]);
      });

      it('is idempotent by (station, hour): a rewrite replaces every value, NaN included', async () => {
        await b.writeAqHours([aq(T, 50, 25, 'first')]);
        await b.writeAqHours([aq(T, 50, 25, 'first')]);
        await b.flush();
        expect(await b.aqHours({ aqStation: A, fromMs: T, toMs: T + H })).toEqual([aq(T, 50, 25, 'first')]);
        await b.writeAqHours([aq(T, 60, NaN, 'second, "quoted" ünïcødé')]);
        await b.flush();
        expect(await b.aqHours({ aqStation: A, fromMs: T, toMs: T + H })).toEqual([aq(T, 60, NaN, 'second, "quoted" ünïcødé')]);
        expect(await b.aqHours({ aqStation: A, fromMs: T - D, toMs: T + D })).toHaveLength(1);
      });

      it('rejects a bad record with BAD_VALUE naming the field and writes nothing of that call', async () => {
        await expectBadValue(b.writeAqHours([aq(T, 1), aq(T + 30 * 60_000, 2)]), 'aq[1].timeMs');
        await expectBadValue(b.writeAqHours([aq(T, 1), { ...aq(T + H, 2), pm10: '2' as unknown as number }]), 'aq[1].pm10');
        await expectBadValue(b.writeAqHours([aq(T, 1, NaN, 'ok', "x' OR '1'='1")]), 'aq[0].aqStation');
        await expectBadValue(b.aqHours({ aqStation: '', fromMs: T, toMs: T + H }), 'aqStation');
        await b.flush();
        expect(await b.aqHours({ aqStation: A, fromMs: T - D, toMs: T + D })).toEqual([]);
      });

      it('keeps AQ hours across close and reopen', async () => {
        await b.writeAqHours([aq(T, 12.5, 6.25)]);
        await b.flush();
        await b.close();
        const b2 = await h.reopen();
        await b2.open();
        expect(await b2.aqHours({ aqStation: A, fromMs: T, toMs: T + H })).toEqual([aq(T, 12.5, 6.25)]);
      });
    });

    describe('bad values', () => {
      const awkward = ['a "quoted" \'single\'', 'comma, separated', 'new\nline', 'tab\there', 'ünïcødé ✓ 🌫 София', 'back\\slash', 'x\' OR \'1\'=\'1', '"; DROP TABLE profiles; --', 'key=value space'];

      it('round-trips awkward strings in free text (file names)', async () => {
        const ps = awkward.map((file, k) => makeProfile({ timeMs: T + k * S, file }));
        await b.write({ profiles: ps });
        const metas = await b.profiles({ station: ST, fromMs: T, toMs: T + H });
        expect(metas.map((m) => m.file)).toEqual(awkward);
      });

      it('round-trips or rejects (BAD_VALUE naming the field) awkward identifiers', async () => {
        for (const [k, s] of awkward.entries()) {
          const timeMs = T + k * S;
          const rejected = async (p: Promise<unknown>, field: string): Promise<boolean> => {
            const e = await p.then(() => null, (err: unknown) => err);
            if (e === null) return false;
            expect(isLidarError(e) && e.code === 'LIDAR_ERR_BAD_VALUE', `${field} ${JSON.stringify(s)}: ${String(e)}`).toBe(true);
            if (isLidarError(e)) expect(`${e.field ?? ''} ${e.message}`).toContain(field);
            return true;
          };
          if (!(await rejected(b.write({ profiles: [makeProfile({ timeMs, station: s })] }), 'station'))) {
            const metas = await b.profiles({ station: s, fromMs: timeMs, toMs: timeMs + 1 });
            expect(metas.map((m) => m.station), s).toEqual([s]);
            const [rec] = await b.profileArrays(s, [profileId(s, CH, timeMs)], ['pm10']);
            expect(rec?.station, s).toBe(s);
          }
          if (!(await rejected(b.write({ profiles: [makeProfile({ timeMs, channel: s })] }), 'channel'))) {
            expect((await b.profiles({ station: ST, channel: s, fromMs: timeMs, toMs: timeMs + 1 })).map((m) => m.channel), s).toEqual([s]);
          }
          if (!(await rejected(b.write({ cells: [makeCell({ cell: s, district: s, timeMs, n: 1, pm10Sum: 1 })] }), 'cell'))) {
            const rows = await b.cellSums({ station: ST, channel: CH, fromMs: timeMs, toMs: timeMs + 1, groupBy: 'cell' });
            expect(rows.map((r) => [r.key, r.district]), s).toEqual([[s, s]]);
          }
        }
        // Nothing leaked into a plain query of the ordinary station.
        const ordinary = await b.profiles({ station: ST, channel: CH, fromMs: T, toMs: T + H });
        expect(ordinary.every((m) => m.station === ST && m.channel === CH)).toBe(true);
      });

      it('never matches everything for injection-like query values', async () => {
        await b.write({ profiles: [makeProfile({ timeMs: T })], cells: [makeCell({ cell: 'c1', timeMs: T, n: 1, pm10Sum: 1 })] });
        for (const s of ["' OR '1'='1", '" OR ""="', '/.*/', '*']) {
          const metas = await b.profiles({ station: s, fromMs: T, toMs: T + 1 }).catch((e: unknown) => (isLidarError(e) ? [] : Promise.reject(e)));
          expect(metas).toEqual([]);
          const rows = await b.cellSums({ station: ST, channel: CH, fromMs: T, toMs: T + 1, groupBy: 'cell', cells: [s] }).catch((e: unknown) => (isLidarError(e) ? [] : Promise.reject(e)));
          expect(rows).toEqual([]);
        }
      });

      it('rejects non-numeric times and wrongly typed values with BAD_VALUE naming the field', async () => {
        await expectBadValue(b.write({ profiles: [makeProfile({ timeMs: Number.NaN })] }), 'timeMs');
        await expectBadValue(b.write({ profiles: [{ ...makeProfile({ timeMs: T }), timeMs: 'soon' as unknown as number }] }), 'timeMs');
        await expectBadValue(b.write({ cells: [makeCell({ cell: 'c', timeMs: Infinity, n: 1, pm10Sum: 1 })] }), 'timeMs');
        await expectBadValue(b.write({ health: [{ station: ST, timeMs: T, values: { bad: { nested: 1 } as unknown as number } }] }), 'bad');
        // A rejected batch writes nothing.
        await expectBadValue(b.write({ profiles: [makeProfile({ timeMs: T }), makeProfile({ timeMs: Number.NaN })] }), 'timeMs');
        expect(await b.profiles({ station: ST, fromMs: T, toMs: T + 1 })).toEqual([]);
      });
    });

    describe('durability', () => {
      it('keeps everything across close and reopen of the same location', async () => {
        const p = makeProfile({ timeMs: T, seed: 5 });
        await b.write({
          profiles: [p],
          cells: [makeCell({ cell: 'c1', timeMs: T + 60 * S, n: 2, pm10Sum: 30 }), makeCell({ cell: 'c1', timeMs: T + 60 * S, n: 3, pm10Sum: 33 })],
          health: [{ station: ST, timeMs: T, values: { ok: true, v: 1.5, s: 'x' } }],
        });
        await b.putParamSet({ id: 'p-keep', json: '{"a":1}', name: 'keep', createdMs: T });
        await b.flush();
        await b.close();
        await b.close(); // idempotent
        const b2 = await h.reopen();
        await b2.open();
        const [rec] = await b2.profileArrays(ST, [p.id]);
        expectSameMeta(rec, p);
        expectSameArrays(rec.arrays, p.arrays);
        const hourly = byKey(await b2.cellSums({ station: ST, channel: CH, fromMs: T, toMs: T + H, groupBy: 'cell', bucket: '1h' }));
        expectRow(hourly, `${T}|c1`, { n: 3, pm10Sum: 33, contributions: 1 });
        expect((await b2.health({ station: ST, fromMs: T, toMs: T + 1 }))[0].values).toEqual({ ok: true, v: 1.5, s: 'x' });
        expect((await b2.getParamSet('p-keep'))?.name).toBe('keep');
        expect(b2.status().reachable).toBe(true);
        // Writes after the reopen overwrite the old values (no duplicate).
        await b2.write({ profiles: [makeProfile({ timeMs: T, seed: 6 })] });
        expect(await b2.profiles({ station: ST, fromMs: T, toMs: T + 1 })).toHaveLength(1);
      });
    });

    describe('ResultStore over the backend', () => {
      // Sweep A at 2 deg: 190, 200, 210 deg; a vertical; sweep B: 190, 200 deg; a vertical; a 1064 scan.
      const tA = [0, 30, 60].map((s) => T + s * S);
      const tV1 = T + 90 * S;
      const tB = [150, 180].map((s) => T + s * S);
      const tV2 = T + 210 * S;
      const bins = 4;
      const pm = (vals: number[]) => ({ pm10: floats(vals), height_m: floats([600, 610, 620, 630]), qc: Uint8Array.from([1, 0, 0, 2]) });
      const scanData = () => ({
        profiles: [
          ...tA.map((t, i) => makeProfile({ timeMs: t, azimuthDeg: 190 + 10 * i, elevationDeg: 2, bins, arrays: pm([i, i, i, i]) })),
          makeProfile({ timeMs: tV1, mode: 'vertical', elevationDeg: 90, bins, timeEndMs: tV1 + 60 * S, pblHeightM: 700, cloudBaseM: NaN, arrays: pm([1, 2, NaN, 4]) }),
          ...tB.map((t, i) => makeProfile({ timeMs: t, azimuthDeg: 190 + 10 * i, elevationDeg: 2, bins, arrays: pm([10 + i, 20, 30, NaN]) })),
          makeProfile({ timeMs: tV2, mode: 'vertical', elevationDeg: 90, bins, timeEndMs: tV2 + 60 * S, pblHeightM: NaN, cloudBaseM: 2000, arrays: pm([10, 20, 30, 40]) }),
          makeProfile({ timeMs: T + 240 * S, channel: CH2, azimuthDeg: 300, bins }),
        ],
        cells: [
          makeCell({ cell: 'c1', district: '01', timeMs: tA[0], n: 2, pm10Sum: 20 }),
          makeCell({ cell: 'c1', district: '01', timeMs: tA[1], n: 2, pm10Sum: 40 }),
          makeCell({ cell: 'c2', district: '02', timeMs: tA[1], n: 1, pm10Sum: 5 }),
          makeCell({ cell: 'c2', district: '02', timeMs: tA[2], n: 1, pm10Sum: 15 }),
          makeCell({ cell: 'c1', district: '01', timeMs: tB[0], n: 2, pm10Sum: 100, pm25Sum: 50, alphaSum: 2e-4 }),
          makeCell({ cell: 'c1', district: '01', timeMs: tB[1], n: 3, pm10Sum: 60, pm25Sum: 30, alphaSum: 1e-4 }),
          makeCell({ cell: 'c2', district: '02', timeMs: tB[1], n: 1, pm10Sum: 7, pm25Sum: 3, alphaSum: 1e-5 }),
          makeCell({ cell: 'c9', channel: CH2, district: '09', timeMs: T + 240 * S, n: 1, pm10Sum: 999 }),
        ],
      });

      it('finds the latest scan, complete or in progress, skipping interleaved verticals', async () => {
        const rs = createResultStore(b);
        await rs.write(scanData());
        const latest = await rs.latestScan({ station: ST, channel: CH, nowMs: T + 300 * S });
        expect(latest).not.toBeNull();
        expect(latest!.profiles.map((p) => p.id)).toEqual(tB.map((t) => profileId(ST, CH, t)));
        expect(latest!.elevationDeg).toBe(2);
        expect(latest!.fromMs).toBe(tB[0]);
        expect(latest!.toMs).toBe(tB[1] + 30 * S);
        const inProgress = await rs.latestScan({ station: ST, channel: CH, nowMs: tB[0] + 10 * S });
        expect(inProgress!.profiles.map((p) => p.timeMs)).toEqual([tB[0]]);
        const earlier = await rs.latestScan({ station: ST, channel: CH, nowMs: tV1 + 5 * S });
        expect(earlier!.profiles.map((p) => p.timeMs)).toEqual(tA);
        expect(await rs.latestScan({ station: ST, channel: CH, nowMs: T - 1 })).toBeNull();
        expect(await rs.latestScan({ station: ST, channel: CH, nowMs: T + 10 * H, lookBackMs: H })).toBeNull();
      });

      it('maps the latest scan: sum/n per cell with its district', async () => {
        const rs = createResultStore(b);
        await rs.write(scanData());
        // Scan B (2 rays) is still shorter than scan A (3 rays): by default the map shows A, the last complete one.
        const complete = await rs.latestMap({ station: ST, channel: CH, product: 'pm10', nowMs: T + 300 * S });
        expect(complete!.scan.profiles.map((p) => p.timeMs)).toEqual(tA);
        const map = await rs.latestMap({ station: ST, channel: CH, product: 'pm10', nowMs: T + 300 * S, complete: false });
        const cells = Object.fromEntries(map!.cells.map((c) => [c.cell, c]));
        expect(Object.keys(cells).sort()).toEqual(['c1', 'c2']);
        expect(cells.c1.value).toBeCloseTo(160 / 5, 12);
        expect(cells.c1.n).toBe(5);
        expect(cells.c1.district).toBe('01');
        expect(cells.c2.value).toBeCloseTo(7, 12);
        expect(cells.c2.district).toBe('02');
        const pm25 = await rs.latestMap({ station: ST, channel: CH, product: 'pm25', nowMs: T + 300 * S, complete: false });
        expect(pm25!.cells.find((c) => c.cell === 'c1')!.value).toBeCloseTo(80 / 5, 12);
        const alpha = await rs.latestMap({ station: ST, channel: CH, product: 'alpha_aer', nowMs: T + 300 * S, complete: false });
        expect(alpha!.cells.find((c) => c.cell === 'c1')!.value).toBeCloseTo(3e-4 / 5, 15);
        const older = await rs.latestMap({ station: ST, channel: CH, product: 'pm10', nowMs: tV1 });
        expect(Object.fromEntries(older!.cells.map((c) => [c.cell, c.value]))).toEqual({ c1: 15, c2: 10 });
      });

      it('returns the latest scan as polar rays with values and qc', async () => {
        const rs = createResultStore(b);
        await rs.write(scanData());
        const polar = await rs.latestPolar({ station: ST, channel: CH, product: 'pm10', nowMs: T + 300 * S, complete: false });
        expect((await rs.latestPolar({ station: ST, channel: CH, product: 'pm10', nowMs: T + 300 * S }))!.rays.map((r) => r.timeMs)).toEqual(tA);
        expect(polar!.rays.map((r) => [r.timeMs, r.azimuthDeg, r.elevationDeg, r.rangeStartM, r.rangeStepM])).toEqual([
          [tB[0], 190, 2, 3.75, 7.5],
          [tB[1], 200, 2, 3.75, 7.5],
        ]);
        expect(bytesOf(polar!.rays[1].values)).toEqual(bytesOf(floats([11, 20, 30, NaN])));
        expect(Array.from(polar!.rays[0].qc)).toEqual([1, 0, 0, 2]);
      });

      it('builds a curtain from vertical profiles (hand-computed means)', async () => {
        const rs = createResultStore(b);
        await rs.write(scanData());
        const c = await rs.curtain({ station: ST, channel: CH, product: 'pm10', fromMs: T, toMs: T + 240 * S, width: 2, height: 2, heightMinM: 600, heightMaxM: 640 });
        expect(Array.from(c.timesMs)).toEqual([T + 60 * S, T + 180 * S]);
        expect(Array.from(c.heightsM)).toEqual([610, 630]);
        expect(Array.from(c.values)).toEqual([1.5, 4, 15, 35]);
        expect(Array.from(c.pblHeightM)).toEqual([700, NaN]);
        expect(Array.from(c.pblQuality)).toEqual([0.75, NaN]);
        expect(Array.from(c.cloudBaseM)).toEqual([NaN, 2000]);
        expect(c.profilesUsed).toBe(2);
        const wide = await rs.curtain({ station: ST, channel: CH, product: 'pm10', fromMs: T, toMs: T + 240 * S, width: 4, height: 1, heightMinM: 600, heightMaxM: 620 });
        expect(Array.from(wide.values)).toEqual([NaN, 1.5, NaN, 15]);
        await expectBadValue(rs.curtain({ station: ST, channel: CH, product: 'pm10', fromMs: T, toMs: T + H, width: 5000, height: 10 }), 'width');
        await expectBadValue(rs.curtain({ station: ST, channel: CH, product: 'qc' as never, fromMs: T, toMs: T + H, width: 5, height: 10 }), 'product');
      });

      it('gives raw (per scan) series', async () => {
        const rs = createResultStore(b);
        await rs.write(scanData());
        const raw = await rs.series({ station: ST, channel: CH, product: 'pm10', target: { station: true }, fromMs: T, toMs: T + 300 * S, resolution: 'raw' });
        expect(raw.map((p) => p.timeMs)).toEqual([tA[0], tB[0]]);
        expect(raw[0].value).toBeCloseTo(80 / 6, 12);
        expect(raw[0].n).toBe(6);
        expect(raw[1].value).toBeCloseTo(167 / 6, 12);
        const c2 = await rs.series({ station: ST, channel: CH, product: 'pm10', target: { cell: 'c2' }, fromMs: T, toMs: T + 300 * S, resolution: 'raw' });
        expect(c2.map((p) => p.value)).toEqual([10, 7]);
      });

      it('resolves a point to the grid cell containing it', async () => {
        const rs = createResultStore(b);
        const lat = 42.6505;
        const lon = 23.3791;
        const cell = cellId(lat, lon, 500);
        await rs.write({ cells: [makeCell({ cell, district: '', timeMs: T, n: 2, pm10Sum: 50 }), makeCell({ cell: 'elsewhere', district: '', timeMs: T, n: 1, pm10Sum: 999 })] });
        const atPoint = await rs.series({ station: ST, channel: CH, product: 'pm10', target: { point: { lat, lon } }, fromMs: T, toMs: T + H, resolution: '1h' });
        expect(atPoint.map((p) => p.value)).toEqual([25]);
        await expectBadValue(rs.series({ station: ST, channel: CH, product: 'pm10', target: { point: { lat: 91, lon } }, fromMs: T, toMs: T + H, resolution: '1h' }), 'target.point.lat');
      });

      // District data over three local (Europe/Sofia, UTC+2) days starting 2024-01-16 00:00 local.
      const day1 = Date.UTC(2024, 0, 15, 22);
      const hourAt = (day: number, hour: number) => day1 + day * D + hour * H + 10 * 60 * S;
      const districtData = (): CellRecord[] => {
        const out: CellRecord[] = [];
        // District 05: day 1 20 hours at 60; day 2 17 hours at 100 (invalid); day 3 24 hours at (20 + 60) / 2 = 40.
        for (let hr = 0; hr < 20; hr++) out.push(makeCell({ cell: 'c5a', district: '05', timeMs: hourAt(0, hr), n: 4, pm10Sum: 240 }));
        for (let hr = 0; hr < 17; hr++) out.push(makeCell({ cell: 'c5a', district: '05', timeMs: hourAt(1, hr), n: 1, pm10Sum: 100 }));
        for (let hr = 0; hr < 24; hr++) {
          out.push(makeCell({ cell: 'c5a', district: '05', timeMs: hourAt(2, hr), n: 1, pm10Sum: 20 }));
          out.push(makeCell({ cell: 'c5b', district: '05', timeMs: hourAt(2, hr) + 60 * S, n: 1, pm10Sum: 60 }));
        }
        // District 06: day 1 exactly 18 hours at 30.
        for (let hr = 0; hr < 18; hr++) out.push(makeCell({ cell: 'c6', district: '06', timeMs: hourAt(0, hr), n: 2, pm10Sum: 60 }));
        // Outside every district: not a district.
        out.push(makeCell({ cell: 'cx', district: '', timeMs: hourAt(0, 1), n: 1, pm10Sum: 500 }));
        return out;
      };

      it('gives hourly and daily series (daily mean needs >= 18 hours, local calendar days)', async () => {
        const rs = createResultStore(b);
        await rs.write({ cells: districtData() });
        const q = { station: ST, channel: CH, product: 'pm10' as const, fromMs: day1, toMs: day1 + 3 * D };
        const daily = await rs.series({ ...q, target: { district: '05' }, resolution: '1d' });
        expect(daily.map((p) => p.timeMs)).toEqual([day1, day1 + D, day1 + 2 * D]);
        expect(daily.map((p) => p.n)).toEqual([20, 17, 24]);
        expect(daily[0].value).toBeCloseTo(60, 12);
        expect(Number.isNaN(daily[1].value)).toBe(true);
        expect(daily[2].value).toBeCloseTo(40, 12);
        const d6 = await rs.series({ ...q, target: { district: '06' }, resolution: '1d', timezone: 'Europe/Sofia' });
        expect(d6.map((p) => p.n)).toEqual([18, 0, 0]);
        expect(d6[0].value).toBeCloseTo(30, 12);
        const hourly = await rs.series({ ...q, fromMs: day1 + 2 * D, toMs: day1 + 2 * D + 3 * H, target: { district: '05' }, resolution: '1h' });
        expect(hourly.map((p) => p.timeMs)).toEqual([0, 1, 2].map((k) => day1 + 2 * D + k * H));
        expect(hourly.map((p) => p.value)).toEqual([40, 40, 40]);
        expect(hourly.map((p) => p.n)).toEqual([2, 2, 2]);
        const cellB = await rs.series({ ...q, fromMs: day1 + 2 * D, toMs: day1 + 2 * D + 2 * H, target: { cell: 'c5b' }, resolution: '1h' });
        expect(cellB.map((p) => p.value)).toEqual([60, 60]);
        const cells = await rs.series({ ...q, fromMs: day1, toMs: day1 + H, target: { cells: ['c5a', 'c6'] }, resolution: '1h' });
        expect(cells.map((p) => [p.value, p.n])).toEqual([[300 / 6, 6]]);
        const station = await rs.series({ ...q, fromMs: day1 + H, toMs: day1 + 2 * H, target: { station: true }, resolution: '1h' });
        expect(station.map((p) => [p.value, p.n])).toEqual([[800 / 7, 7]]);
      });

      it('computes district statistics against the EU limits', async () => {
        const rs = createResultStore(b);
        await rs.write({ cells: districtData() });
        const s = await rs.districtStats({ station: ST, channel: CH, product: 'pm10', fromMs: day1, toMs: day1 + 3 * D });
        expect(s.fromMs).toBe(day1);
        expect(s.toMs).toBe(day1 + 3 * D);
        expect(s.districts.map((d) => d.district)).toEqual(['05', '06']);
        const [d5, d6] = s.districts;
        expect(d5.days.map((d) => d.date)).toEqual(['2024-01-16', '2024-01-17', '2024-01-18']);
        expect(d5.days.map((d) => d.hours)).toEqual([20, 17, 24]);
        expect(d5.validDays).toBe(2);
        expect(d5.periodMean).toBeCloseTo(50, 12);
        const lim = (d: typeof d5, id: string) => d.limits.find((l) => l.limit.id === id)!;
        expect(d5.limits.map((l) => l.limit.id).sort()).toEqual(['2008/50/EC:pm10:day', '2008/50/EC:pm10:year', '2024/2881:pm10:day', '2024/2881:pm10:year']);
        expect(lim(d5, '2008/50/EC:pm10:day')).toMatchObject({ exceedanceDays: 1, allowedExceeded: false, periodMeanAbove: null });
        expect(lim(d5, '2024/2881:pm10:day')).toMatchObject({ exceedanceDays: 1, allowedExceeded: false });
        expect(lim(d5, '2008/50/EC:pm10:year')).toMatchObject({ exceedanceDays: null, periodMeanAbove: true });
        expect(d6.validDays).toBe(1);
        expect(d6.periodMean).toBeCloseTo(30, 12);
        expect(lim(d6, '2008/50/EC:pm10:day').exceedanceDays).toBe(0);
        expect(lim(d6, '2008/50/EC:pm10:year').periodMeanAbove).toBe(false);
        expect(lim(d6, '2024/2881:pm10:year').periodMeanAbove).toBe(true);
        const pm25 = await rs.districtStats({ station: ST, channel: CH, product: 'pm25', fromMs: day1, toMs: day1 + 3 * D });
        expect(pm25.districts[0].days[0].mean).toBeCloseTo(30, 12);
        expect(pm25.districts[0].limits.map((l) => l.limit.id).sort()).toEqual(['2008/50/EC:pm25:year', '2024/2881:pm25:day', '2024/2881:pm25:year']);
      });

      it('reads a profile with its parameter set and validates ids and windows', async () => {
        const rs = createResultStore(b);
        const p = makeProfile({ timeMs: T, paramsId: 'p-xyz' });
        await rs.write({ profiles: [p] });
        await rs.putParamSet({ id: 'p-xyz', json: '{"lidarRatioSr":55}', name: 'default', createdMs: T });
        const got = await rs.profile(p.id);
        expectSameMeta(got!.record, p);
        expectSameArrays(got!.record.arrays, p.arrays);
        expect(got!.paramSet?.json).toBe('{"lidarRatioSr":55}');
        expect(await rs.profile(profileId(ST, CH, T + 1))).toBeNull();
        for (const bad of ['', 'nocolons', 'a:b:', 'a:b:12x', ':b:1', 'a::1', 'a:b:1.5']) await expectBadValue(rs.profile(bad), 'id');
        await expectBadValue(rs.series({ station: ST, channel: CH, product: 'pm10', target: { station: true }, fromMs: T, toMs: T + 1000 * D, resolution: '1h' }), 'toMs');
        await expectBadValue(rs.latestScan({ station: ST, channel: CH, nowMs: T, lookBackMs: 365 * D }), 'lookBackMs');
        await expectBadValue(rs.districtStats({ station: ST, channel: CH, product: 'no2' as never, fromMs: T, toMs: T + D }), 'product');
      });
    });
  });
}
