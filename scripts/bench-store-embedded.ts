/**
 * `npx tsx scripts/bench-store-embedded.ts [--days 7] [--cell-days 30] [--repeats 15] [--out FILE]`:
 * benchmark of the embedded store (docs/storage.md) through the ResultStore. `benchEmbeddedStore()`
 * is the same as a function (for scripts/bench.ts). It writes `days` of synthetic winter-scenario
 * data (profiles with all arrays, both channels, and their cell contributions; one batch per 15-min
 * cycle) after `cellDays - days` days of cell contributions alone (so the 30-day queries cover 30
 * days), then reports write throughput (profiles/s, points/s, MB/s of arrays), the file size, and
 * p50 latencies of the user queries: latest map, latest polar, a 24 h curtain (288 x 200), a 30-day
 * hourly district series and 30-day district statistics.
 *
 * Synthetic store workload with the shapes of the sofia-winter-inversion scenario (fixtures/scenarios,
 * processing/simulate/scenarios.ts): every 15 min a PPI at 2 deg over 190..350 deg (17 rays, 30 s
 * each), a PPI at 6 deg over 200..250 deg (6 rays) and a 60 s vertical, for the two glued channels;
 * 1800-bin profiles (7.5 m bins) with all 11 arrays; one cell contribution per 500 m grid cell a scan
 * ray crosses below 1 km above ground. Values are synthetic but realistic in size (PM10 80..250
 * ug/m3 under a 400 m inversion, extinction ~1e-4 1/m). Deterministic (no random source).
 * Used by scripts/bench-store-embedded.ts and scripts/measure-embedded-engines.ts.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createEmbeddedBackend } from '../store/embedded/index.js';
import { createResultStore, type ResultStore } from '../store/result-store.js';
import { PROFILE_ARRAY_NAMES, profileId, type CellRecord, type ProfileRecord, type WriteBatch } from '../store/port.js';

export const SYNTH_STATION = 'sofia';
export const SYNTH_CHANNELS = ['532o-glued', '1064o-glued'] as const;
export const CYCLE_MS = 900_000;
export const SYNTH_BINS = 1800;
const BIN_M = 7.5;
const STATION_ALT_M = 620;
const CELL_M = 500;
const MAP_TOP_AGL_M = 1000;

interface Pointing {
  offsetMs: number;
  dwellMs: number;
  azimuthDeg: number;
  elevationDeg: number;
}

/** The 24 pointings of one 15-min cycle. */
export const CYCLE: Pointing[] = [
  ...Array.from({ length: 17 }, (_, i) => ({ offsetMs: i * 30_000, dwellMs: 30_000, azimuthDeg: 190 + 10 * i, elevationDeg: 2 })),
  ...Array.from({ length: 6 }, (_, i) => ({ offsetMs: 510_000 + i * 30_000, dwellMs: 30_000, azimuthDeg: 200 + 10 * i, elevationDeg: 6 })),
  { offsetMs: 690_000, dwellMs: 60_000, azimuthDeg: 0, elevationDeg: 90 },
];

/** Diurnal factor of the winter evening episode (peak in the evening, low at noon). */
function diurnal(timeMs: number): number {
  const hour = ((timeMs / 3_600_000) % 24 + 24) % 24;
  return 0.75 + 0.45 * Math.cos(((hour - 19) / 24) * 2 * Math.PI);
}

function synthProfile(channel: string, cycleStartMs: number, p: Pointing, withArrays: boolean): ProfileRecord {
  const timeMs = cycleStartMs + p.offsetMs;
  const el = (p.elevationDeg * Math.PI) / 180;
  const base = 80 + 170 * diurnal(timeMs) * (0.6 + 0.4 * Math.cos(((p.azimuthDeg - 270) * Math.PI) / 180));
  const inversionM = 400 + 30 * Math.sin(timeMs / 3_000_000);
  const ch1064 = channel.startsWith('1064');
  const arrays: ProfileRecord['arrays'] = {};
  let validBins = 0;
  if (withArrays) {
    const f = () => new Float32Array(SYNTH_BINS);
    const height = f(), rcs = f(), beta = f(), alpha = f(), pm10 = f(), pm25 = f(), bs = f(), as = f(), p10s = f(), p25s = f();
    const qc = new Uint8Array(SYNTH_BINS);
    for (let i = 0; i < SYNTH_BINS; i++) {
      const r = (i + 0.5) * BIN_M;
      const agl = r * Math.sin(el) + 20;
      height[i] = STATION_ALT_M + r * Math.sin(el);
      const shape = agl < inversionM ? 1 : Math.exp(-(agl - inversionM) / 150) * 0.9 + 0.05;
      const wobble = 1 + 0.08 * Math.sin(i * 0.37 + timeMs / 1e6);
      const pm = base * shape * wobble;
      const a = pm * 4.2e-6 * (ch1064 ? 0.45 : 1);
      const b = a / 55;
      rcs[i] = 1e6 * (b + 1.2e-6) * Math.exp(-2 * a * r * 0.5);
      if (i < 19) {
        qc[i] = 1; // OVERLAP
        beta[i] = alpha[i] = pm10[i] = pm25[i] = bs[i] = as[i] = p10s[i] = p25s[i] = NaN;
        continue;
      }
      if (i > 1500) qc[i] |= 2; // LOW_SNR in the far range
      beta[i] = b;
      alpha[i] = a;
      pm10[i] = pm;
      pm25[i] = pm * 0.72;
      bs[i] = b * 0.1;
      as[i] = a * 0.15;
      p10s[i] = pm * 0.2;
      p25s[i] = pm * 0.15;
      if ((qc[i] & 2) === 0) validBins++;
    }
    Object.assign(arrays, { height_m: height, rcs, beta_aer: beta, alpha_aer: alpha, pm10, pm25, beta_aer_sigma: bs, alpha_aer_sigma: as, pm10_sigma: p10s, pm25_sigma: p25s, qc });
  }
  const vertical = p.elevationDeg >= 85;
  return {
    id: profileId(SYNTH_STATION, channel, timeMs),
    station: SYNTH_STATION,
    channel,
    mode: vertical ? 'vertical' : 'scan',
    timeMs,
    timeEndMs: timeMs + p.dwellMs,
    azimuthDeg: p.azimuthDeg,
    elevationDeg: p.elevationDeg,
    rangeStartM: BIN_M / 2,
    rangeStepM: BIN_M,
    bins: SYNTH_BINS,
    file: `SF${timeMs}.000000`,
    paramsId: 'p-0123456789abcdef',
    pblHeightM: vertical ? STATION_ALT_M + inversionM : NaN,
    pblQuality: vertical ? 0.8 : NaN,
    cloudBaseM: NaN,
    aod: 0.31,
    snr: 42,
    lidarConstant: vertical ? 5e13 : NaN,
    validBins,
    qcCounts: [19, SYNTH_BINS - 1501, 0, 0, 0, 0, 0, 0],
    receivedMs: timeMs + p.dwellMs + 2000,
    arrays,
  };
}

/** Synthetic district code of a grid cell ("01".."24" in a 10 km disc, "" outside). */
function district(x: number, y: number): string {
  const cx = (x + 0.5) * CELL_M, cy = (y + 0.5) * CELL_M;
  if (Math.hypot(cx, cy) > 10_000) return '';
  const sector = Math.floor(((Math.atan2(cy, cx) + Math.PI) / (2 * Math.PI)) * 12) % 12;
  const ring = Math.hypot(cx, cy) > 4000 ? 12 : 0;
  return String(1 + sector + ring).padStart(2, '0');
}

function synthCells(p: ProfileRecord): CellRecord[] {
  if (p.mode !== 'scan') return [];
  const el = (p.elevationDeg * Math.PI) / 180;
  const az = (p.azimuthDeg * Math.PI) / 180;
  const byCell = new Map<string, CellRecord>();
  const base = 80 + 170 * diurnal(p.timeMs) * (0.6 + 0.4 * Math.cos(((p.azimuthDeg - 270) * Math.PI) / 180));
  for (let i = 19; i < 1500; i++) {
    const r = (i + 0.5) * BIN_M;
    if (r * Math.sin(el) + 20 > MAP_TOP_AGL_M) break;
    const ground = r * Math.cos(el);
    const x = Math.floor((ground * Math.sin(az)) / CELL_M);
    const y = Math.floor((ground * Math.cos(az)) / CELL_M);
    const cell = `500mE${11040 + x}N${4340 + y}`;
    let c = byCell.get(cell);
    if (!c) {
      c = { station: p.station, channel: p.channel, cell, district: district(x, y), timeMs: p.timeMs, n: 0, pm10Sum: 0, pm25Sum: 0, alphaSum: 0 };
      byCell.set(cell, c);
    }
    const pm = base * (1 + 0.08 * Math.sin(i * 0.37));
    c.n++;
    c.pm10Sum += pm;
    c.pm25Sum += pm * 0.72;
    c.alphaSum += pm * 4.2e-6;
  }
  return [...byCell.values()];
}

export interface SynthOptions {
  startMs: number;
  /** Number of 15-min cycles. */
  cycles: number;
  /** Include profiles with arrays (default true); false writes cell contributions only. */
  profiles?: boolean;
}

/** One WriteBatch per cycle (both channels: 48 profiles and their cell contributions). */
export function* synthBatches(o: SynthOptions): Generator<WriteBatch> {
  const withProfiles = o.profiles ?? true;
  for (let c = 0; c < o.cycles; c++) {
    const t0 = o.startMs + c * CYCLE_MS;
    const profiles: ProfileRecord[] = [];
    const cells: CellRecord[] = [];
    for (const channel of SYNTH_CHANNELS) {
      for (const p of CYCLE) {
        const rec = synthProfile(channel, t0, p, withProfiles);
        if (withProfiles) profiles.push(rec);
        cells.push(...synthCells(rec));
      }
    }
    yield withProfiles ? { profiles, cells } : { cells };
  }
}

/** Bytes of the arrays of one synthetic profile (10 Float32 + 1 Uint8 arrays). */
export const SYNTH_ARRAY_BYTES = SYNTH_BINS * (4 * (PROFILE_ARRAY_NAMES.length - 1) + 1);

// ---------------------------------------------------------------- benchmark

export interface BenchStoreOptions {
  /** Days of full data (profiles + cells), default 7. */
  days?: number;
  /** Days of cell contributions in all (the first cellDays - days without profiles), default 30. */
  cellDays?: number;
  /** Timed repeats per query (after one warm-up), default 15. */
  repeats?: number;
  /** Directory for the database (default a temporary one, removed afterwards). */
  dir?: string;
}

function p50(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * The user queries both store benchmarks time (through the ResultStore, on synthBatches data that
 * starts at `start` and has `cellDays` days of cycles): p50 and minimum over `repeats` after a warm-up.
 * Throws when a query finds no data (a benchmark of empty answers would mean nothing).
 */
export async function measureStoreQueries(rs: ResultStore, start: number, cellDays: number, repeats: number): Promise<Record<string, { p50Ms: number; minMs: number }>> {
  const end = start + cellDays * 96 * CYCLE_MS;
  const ch = SYNTH_CHANNELS[0];
  const q = { station: SYNTH_STATION, channel: ch };
  // During the last ray of the last cycle's 2 deg PPI (17 rays), before the 6 deg sector starts.
  const afterPpi = end - CYCLE_MS + CYCLE[16].offsetMs + 25_000;
  const queries: Record<string, () => Promise<unknown>> = {
    'latest map (pm10, 17-ray PPI)': () => rs.latestMap({ ...q, product: 'pm10', nowMs: afterPpi }),
    'latest polar (pm10, 17 rays)': () => rs.latestPolar({ ...q, product: 'pm10', nowMs: afterPpi }),
    '24 h curtain 288 x 200 (beta_aer)': () => rs.curtain({ ...q, product: 'beta_aer', fromMs: end - 86_400_000, toMs: end, width: 288, height: 200, heightMinM: 600, heightMaxM: 5600 }),
    '30-day hourly district series': () => rs.series({ ...q, product: 'pm10', target: { district: '13' }, fromMs: end - 30 * 86_400_000, toMs: end, resolution: '1h' }),
    '30-day district statistics': () => rs.districtStats({ ...q, product: 'pm10', fromMs: end - 30 * 86_400_000, toMs: end }),
    'profile with all arrays': () => rs.profile(`${SYNTH_STATION}:${ch}:${end - CYCLE_MS}`),
  };
  const latencies: Record<string, { p50Ms: number; minMs: number }> = {};
  for (const [name, run] of Object.entries(queries)) {
    const result = await run();
    const empty = result === null || (Array.isArray(result) && result.length === 0) || (typeof result === 'object' && 'districts' in result && (result as { districts: unknown[] }).districts.length === 0);
    if (empty) throw new Error(`benchmark query "${name}" found no data`);
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const t = performance.now();
      await run();
      times.push(performance.now() - t);
    }
    latencies[name] = { p50Ms: Number(p50(times).toFixed(2)), minMs: Number(Math.min(...times).toFixed(2)) };
  }
  return latencies;
}

export async function benchEmbeddedStore(options: BenchStoreOptions = {}): Promise<object> {
  const days = options.days ?? 7;
  const cellDays = Math.max(days, options.cellDays ?? 30);
  const repeats = options.repeats ?? 15;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'lidar-pm-bench-store-'));
  const path = join(dir, 'bench.sqlite');
  const backend = createEmbeddedBackend({ path, rawRetentionMs: 0 });
  const rs = createResultStore(backend);
  await rs.backend.open();
  try {
    const start = Date.UTC(2018, 0, 1, 22); // 2018-01-02 00:00 Sofia
    const cellOnlyCycles = (cellDays - days) * 96;
    let cellOnlyRows = 0, cellOnlyMs = 0;
    for (const b of synthBatches({ startMs: start, cycles: cellOnlyCycles, profiles: false })) {
      const t = performance.now();
      await rs.write(b);
      cellOnlyMs += performance.now() - t;
      cellOnlyRows += b.cells!.length;
    }
    let profiles = 0, cells = 0, writeMs = 0;
    for (const b of synthBatches({ startMs: start + cellOnlyCycles * CYCLE_MS, cycles: days * 96 })) {
      const t = performance.now();
      await rs.write(b);
      writeMs += performance.now() - t;
      profiles += b.profiles!.length;
      cells += b.cells!.length;
    }
    await rs.flush();
    const latencies = await measureStoreQueries(rs, start, cellDays, repeats);
    await rs.close();
    const bytes = [path, `${path}-wal`].filter(existsSync).reduce((s, f) => s + statSync(f).size, 0);
    return {
      command: `npx tsx scripts/bench-store-embedded.ts --days ${days} --cell-days ${cellDays} --repeats ${repeats}`,
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '?', node: process.version },
      data: { days, cellDays, profiles, cellRowsWithProfiles: cells, cellOnlyRows, arrayBytesPerProfile: SYNTH_ARRAY_BYTES },
      write: {
        profilesPerS: Math.round(profiles / (writeMs / 1000)),
        pointsPerS: Math.round((profiles + cells) / (writeMs / 1000)),
        arrayMBPerS: Number(((profiles * SYNTH_ARRAY_BYTES) / 1e6 / (writeMs / 1000)).toFixed(1)),
        cellOnlyRowsPerS: cellOnlyRows > 0 ? Math.round(cellOnlyRows / (cellOnlyMs / 1000)) : null,
        writeSeconds: Number(((writeMs + cellOnlyMs) / 1000).toFixed(1)),
      },
      fileMB: Number((bytes / 1e6).toFixed(1)),
      queries: latencies,
    };
  } finally {
    await rs.close();
    if (!options.dir) rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { days: { type: 'string' }, 'cell-days': { type: 'string' }, repeats: { type: 'string' }, out: { type: 'string' } }, strict: true });
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const result = await benchEmbeddedStore({ days: num(values.days), cellDays: num(values['cell-days']), repeats: num(values.repeats) });
  const text = JSON.stringify(result, null, 2);
  console.log(text);
  if (values.out) writeFileSync(values.out, text + '\n');
}
