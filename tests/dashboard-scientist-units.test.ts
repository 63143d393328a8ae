// Unit tests of the scientist view's pure helpers (dashboard/src/lib): the inspector's parameter
// fields against the server's validator (processing/retrieval/params.ts), the set sent for the
// browser/server comparison, the range-height view geometry, the PPI read-out and the job follower
// (SSE first, polling as fall-back) with a fake event source.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PARAM_FIELDS, WINDOW_BOUNDS, channelWavelengthNm, checkParams, comparisonSet, getPath, parseNumberField, parseWindow, rangeText, setPath, type NumberField } from '../dashboard/src/lib/param-fields.js';
import { DEFAULT_PARAMS, canonicalParams, resolveParams } from '../processing/retrieval/params.js';
import { isLidarError } from '../processing/errors.js';
import { azimuthDiffDeg, pickRhiRays, rhiAzimuths, rhiRuns, terrainProfile, type ProfileMeta } from '../dashboard/src/lib/rhi.js';
import { azimuthOfOffset, ppiAt, ppiPick, ppiStep } from '../dashboard/src/lib/ppi-hover.js';
import type { ScanRay } from '../dashboard/src/lib/ppi.js';
import { followJob, isFinal, newerJob, type JobEventSource, type JobView } from '../dashboard/src/lib/job-follow.js';
import { MESSAGES, placeholders } from '../dashboard/src/lib/i18n.js';

/** The field the server's validator names for a set, or null when it accepts it. */
function refusedField(set: unknown): string | null {
  try {
    resolveParams(set, 'test');
    return null;
  } catch (e) {
    if (isLidarError(e)) return e.field ?? '?';
    throw e;
  }
}

/** A set with only `path` set, plus what cross-field rules need (glue: high > low). */
function setWith(path: string, value: unknown): Record<string, unknown> {
  let s: Record<string, unknown> = {};
  if (path === 'glue.low_mhz') s = setPath(s, 'glue.high_mhz', 1000);
  if (path === 'glue.high_mhz') s = setPath(s, 'glue.low_mhz', 0);
  return setPath(s, path, value);
}

describe('inspector parameter fields = the server validator', () => {
  const numbers = Object.entries(PARAM_FIELDS).filter(([, f]) => f.kind === 'number') as Array<[string, NumberField]>;

  it.each(numbers)('%s: the bounds are those of resolveParams', (_name, f) => {
    const eps = Math.max(1e-9, (f.max - f.min) * 1e-9);
    // accepted at (or just inside) both ends
    expect(refusedField(setWith(f.path, f.minExclusive ? f.min + eps : f.min))).toBeNull();
    // glue.low_mhz = 1000 cannot be valid: glue.high_mhz must be above it and is at most 1000
    expect(refusedField(setWith(f.path, f.path === 'glue.low_mhz' ? f.max - eps : f.max))).toBeNull();
    // refused just outside, naming the field
    expect(refusedField(setWith(f.path, f.minExclusive ? f.min : f.min - eps))).toBe(f.path);
    expect(refusedField(setWith(f.path, f.max + eps * 10))).toBe(f.path);
    if (f.nullable) expect(refusedField(setWith(f.path, null))).toBeNull();
    // the same bounds in the UI's own parser
    expect(parseNumberField(f, String(f.max))).toEqual({ ok: true, value: f.max });
    expect(parseNumberField(f, String(f.max + eps * 10)).ok).toBe(false);
    expect(parseNumberField(f, String(f.minExclusive ? f.min : f.min - eps)).ok).toBe(false);
  });

  it('choice fields offer exactly the values the validator accepts', () => {
    for (const f of Object.values(PARAM_FIELDS)) {
      if (f.kind !== 'choice') continue;
      for (const o of f.options) expect(refusedField(setPath({}, f.path, o)), `${f.path}=${o}`).toBeNull();
      expect(refusedField(setPath({}, f.path, 'bogus'))).toBe(f.path);
    }
  });

  it('covers every single-number and choice field of the contract the retrieval uses (not monte_carlo, seed, channel)', () => {
    const canonical = JSON.parse(canonicalParams(DEFAULT_PARAMS)) as Record<string, unknown>;
    const leaves: string[] = [];
    const walk = (o: Record<string, unknown>, prefix: string) => {
      for (const [k, v] of Object.entries(o)) {
        const p = prefix ? `${prefix}.${k}` : k;
        if (v !== null && typeof v === 'object' && !Array.isArray(v)) walk(v as Record<string, unknown>, p);
        else leaves.push(p);
      }
    };
    walk(canonical, '');
    const shown = new Set<string>([...Object.values(PARAM_FIELDS).map((f) => f.path), WINDOW_BOUNDS.reference.path, WINDOW_BOUNDS.background.path]);
    const missing = leaves.filter((p) => !shown.has(p) && !['monte_carlo', 'seed', 'channel', 'reference.lidar_constant'].includes(p));
    expect(missing).toEqual([]);
  });

  it('window bounds match the validator', () => {
    expect(refusedField({ reference: { window_m: [WINDOW_BOUNDS.reference.min, WINDOW_BOUNDS.reference.max] } })).toBeNull();
    expect(refusedField({ reference: { window_m: [WINDOW_BOUNDS.reference.min - 1, 5000] } })).toBe('reference.window_m');
    expect(refusedField({ background: { window_m: [WINDOW_BOUNDS.background.min, WINDOW_BOUNDS.background.max] } })).toBeNull();
    expect(refusedField({ background: { window_m: [0, WINDOW_BOUNDS.background.max + 1] } })).toBe('background.window_m');
    for (const s of WINDOW_BOUNDS.background.special) expect(refusedField({ background: { window_m: s } })).toBeNull();
    expect(parseWindow('6000', '8000', 0, 100_000)).toEqual([6000, 8000]);
    expect(parseWindow('8000', '6000', 0, 100_000)).toBeNull();
    expect(parseWindow('', '6000', 0, 100_000)).toBeNull();
    expect(parseWindow('-5', '6000', 0, 100_000)).toBeNull();
    expect(parseWindow('abc', '6000', 0, 100_000)).toBeNull();
  });

  it('parses typed numbers: empty is null only for nullable fields', () => {
    expect(parseNumberField(PARAM_FIELDS.lidarRatio, '')).toEqual({ ok: true, value: null });
    expect(parseNumberField(PARAM_FIELDS.smoothing, ' ')).toEqual({ ok: false, why: 'required' });
    expect(parseNumberField(PARAM_FIELDS.lidarRatio, '0.5')).toEqual({ ok: false, why: 'range' });
    expect(parseNumberField(PARAM_FIELDS.lidarRatio, 'x')).toEqual({ ok: false, why: 'number' });
    expect(parseNumberField(PARAM_FIELDS.meePm10, '0')).toEqual({ ok: false, why: 'range' });
    expect(parseNumberField(PARAM_FIELDS.meePm10, '4.2')).toEqual({ ok: true, value: 4.2 });
    expect(rangeText(PARAM_FIELDS.meePm10)).toBe('(0, 50]');
    expect(rangeText(PARAM_FIELDS.rh)).toBe('[0, 1]');
  });

  it('reads and writes by path without changing the input', () => {
    const a = { pm: { mee_pm10: 3.5 }, overlap: { full_overlap_m: 300 } };
    const b = setPath(a, 'pm.gamma', 0.4);
    expect(a).toEqual({ pm: { mee_pm10: 3.5 }, overlap: { full_overlap_m: 300 } });
    expect(b).toEqual({ pm: { mee_pm10: 3.5, gamma: 0.4 }, overlap: { full_overlap_m: 300 } });
    expect(getPath(b, 'pm.gamma')).toBe(0.4);
    expect(getPath(b, 'reference.mode')).toBeUndefined();
    expect(setPath({ reference: 'x' }, 'reference.mode', 'rayleigh')).toEqual({ reference: { mode: 'rayleigh' } });
  });

  it('checkParams gives the validator field and message', () => {
    expect(checkParams(JSON.parse(canonicalParams(DEFAULT_PARAMS)))).toBeNull();
    const bad = checkParams({ pm: { rh: 1.5 } });
    expect(bad?.field).toBe('pm.rh');
    expect(bad?.message).toMatch(/invalid pm\.rh: 1\.5/);
    expect(checkParams({ glue: { low_mhz: 20, high_mhz: 10 } })?.field).toBe('glue.high_mhz');
    expect(checkParams({ nonsense: 1 })?.field).toBe('nonsense');
  });

  it('the comparison set: Monte Carlo off, a calibration-mode scan gets its constant written in', () => {
    const stored = JSON.parse(canonicalParams(DEFAULT_PARAMS)) as Record<string, unknown>;
    const scan = comparisonSet(stored, { scan: true, lidarConstant: 1.25e13 });
    expect(getPath(scan, 'monte_carlo')).toBe(0);
    expect(getPath(scan, 'reference.lidar_constant')).toBe(1.25e13);
    expect(checkParams(scan)).toBeNull();
    expect(getPath(stored, 'monte_carlo')).toBe(50); // input unchanged
    const vertical = comparisonSet(stored, { scan: false, lidarConstant: 1.25e13 });
    expect(getPath(vertical, 'reference.lidar_constant')).toBeNull();
    const rayleigh = comparisonSet(setPath(stored, 'reference.mode', 'rayleigh'), { scan: true, lidarConstant: 1.25e13 });
    expect(getPath(rayleigh, 'reference.lidar_constant')).toBeNull();
    const given = comparisonSet(setPath(stored, 'reference.lidar_constant', 7), { scan: true, lidarConstant: 1.25e13 });
    expect(getPath(given, 'reference.lidar_constant')).toBe(7);
    expect(channelWavelengthNm('1064o-analog')).toBe(1064);
    expect(channelWavelengthNm('x')).toBeNaN();
  });
});

describe('range-height view geometry', () => {
  const meta = (id: string, az: number | null, el: number, t: string, mode: 'scan' | 'vertical' = 'scan'): ProfileMeta => ({ id, channel: '532o-glued', mode, time_start: t, azimuth_deg: az, elevation_deg: el });
  const metas = [
    meta('a', 220, 2, '2026-01-01T10:00:00Z'),
    meta('b', 220, 2, '2026-01-01T10:15:00Z'),
    meta('c', 221.5, 6, '2026-01-01T10:05:00Z'),
    meta('d', 230, 6, '2026-01-01T10:06:00Z'),
    meta('e', 0, 90, '2026-01-01T10:10:00Z', 'vertical'),
    meta('f', 0, 90, '2026-01-01T10:12:00Z', 'vertical'),
    meta('g', 359, 2, '2026-01-01T10:12:00Z'),
  ];

  it('azimuth differences wrap around north', () => {
    expect(azimuthDiffDeg(359, 1)).toBe(2);
    expect(azimuthDiffDeg(10, 350)).toBe(20);
    expect(azimuthDiffDeg(180, 0)).toBe(180);
  });

  it('lists azimuths with their number of elevations (verticals excluded)', () => {
    expect(rhiAzimuths(metas)).toEqual([
      { azimuthDeg: 220, elevations: 1 },
      { azimuthDeg: 221.5, elevations: 1 },
      { azimuthDeg: 230, elevations: 1 },
      { azimuthDeg: 359, elevations: 1 },
    ]);
  });

  it('picks the newest ray per elevation near the azimuth and the newest vertical', () => {
    expect(pickRhiRays(metas, 220, 2).map((m) => m.id)).toEqual(['b', 'c', 'f']);
    expect(pickRhiRays(metas, 220, 1).map((m) => m.id)).toEqual(['b', 'f']);
    expect(pickRhiRays(metas, 1, 2).map((m) => m.id)).toEqual(['g', 'f']);
  });

  it('colour runs cover every bin with range and height, masked as class -1, at horizontal distance', () => {
    const ray = { elevation_deg: 60, range_m: [null, 100, 200, 300, 400, 500], height_m: [null, 710, 790, 880, 960, 1050], values: [5, 1, 1, null, 2, 2] };
    const runs = rhiRuns(ray, (v) => (v === null ? -1 : v));
    expect(runs.map((r) => r.cls)).toEqual([1, -1, 2]);
    // first run starts half a bin before bin 1 (extrapolated), ends half way to bin 3
    expect(runs[0].x0).toBeCloseTo(50 * 0.5, 6);
    expect(runs[0].x1).toBeCloseTo(250 * 0.5, 6);
    expect(runs[0].z1).toBeCloseTo((790 + 880) / 2, 6);
    expect(runs[1].x0).toBeCloseTo(runs[0].x1, 9);
    expect(runs[2].x1).toBeCloseTo(550 * 0.5, 6);
    expect(rhiRuns({ elevation_deg: 2, range_m: [null], height_m: [null], values: [1] }, () => 0)).toEqual([]);
  });

  it('terrain profile samples the DEM along the azimuth, leaving out points outside it', () => {
    expect(terrainProfile((d) => 600 + d / 10, 1000, 250)).toEqual([[0, 600], [250, 625], [500, 650], [750, 675], [1000, 700]]);
    expect(terrainProfile((d) => (d > 500 ? NaN : 600), 1000, 500)).toEqual([[0, 600], [500, 600]]);
    expect(terrainProfile(() => 1, 100, 0)).toEqual([]);
  });
});

describe('PPI read-out', () => {
  const rays: ScanRay[] = [
    { azimuth_deg: 200, elevation_deg: 0, range_start_m: -15, range_step_m: 7.5, values: Array.from({ length: 400 }, (_, i) => (i === 135 ? null : i)) },
    { azimuth_deg: 210, elevation_deg: 0, range_start_m: -15, range_step_m: 7.5, values: Array.from({ length: 400 }, (_, i) => 1000 + i) },
  ];
  const offset = (azDeg: number, px: number): [number, number] => [px * Math.sin((azDeg * Math.PI) / 180), -px * Math.cos((azDeg * Math.PI) / 180)];

  it('canvas offsets to azimuth: north up, clockwise', () => {
    expect(azimuthOfOffset(0, -1)).toBeCloseTo(0, 9);
    expect(azimuthOfOffset(1, 0)).toBeCloseTo(90, 9);
    expect(azimuthOfOffset(0, 1)).toBeCloseTo(180, 9);
    expect(azimuthOfOffset(-1, 0)).toBeCloseTo(270, 9);
  });

  it('finds the ray and bin under the pointer', () => {
    // 0.5 px per m; 500 m at 201 deg: ray 200, bin (500 + 15) / 7.5 = 68.67 -> 69
    const [dx, dy] = offset(201, 250);
    const p = ppiPick(rays, dx, dy, 0.5);
    expect(p).toMatchObject({ ray: 0, bin: 69, azimuthDeg: 200, value: 69 });
    expect(p!.distanceM).toBeCloseTo(500, 6);
    const q = ppiPick(rays, ...offset(208, 500), 0.5);
    expect(q).toMatchObject({ ray: 1, bin: 135, value: 1135 });
    expect(ppiPick(rays, ...offset(200, (135 * 7.5 - 15) * 0.5), 0.5)).toMatchObject({ ray: 0, bin: 135, value: null });
  });

  it('keyboard stepping: rays by azimuth, bins along the ray, clamped, pre-trigger bins skipped', () => {
    const three: ScanRay[] = [rays[1], { ...rays[0], azimuth_deg: 190 }, rays[0]]; // 210, 190, 200
    const start = ppiStep(three, null, 'ArrowUp')!;
    expect(start.ray).toBe(2); // the middle ray by azimuth (200)
    expect(ppiStep(three, { ray: 2, bin: 50 }, 'ArrowRight')).toEqual({ ray: 0, bin: 50 });
    expect(ppiStep(three, { ray: 2, bin: 50 }, 'ArrowLeft')).toEqual({ ray: 1, bin: 50 });
    expect(ppiStep(three, { ray: 1, bin: 50 }, 'ArrowLeft')).toEqual({ ray: 1, bin: 50 }); // first ray stays
    expect(ppiStep(three, { ray: 2, bin: 395 }, 'ArrowUp')).toEqual({ ray: 2, bin: 399 });
    expect(ppiStep(three, { ray: 2, bin: 5 }, 'ArrowDown')).toEqual({ ray: 2, bin: 3 }); // bins 0-2 are at or before the lidar
    expect(ppiStep(three, { ray: 2, bin: 50 }, 'Home')).toEqual({ ray: 2, bin: 3 });
    expect(ppiStep(three, { ray: 2, bin: 50 }, 'x')).toBeNull();
    expect(ppiAt(three, 2, 69)).toMatchObject({ azimuthDeg: 200, value: 69, rangeM: 69 * 7.5 - 15 });
    expect(ppiAt(three, 2, 400)).toBeNull();
    expect(ppiAt(three, 5, 1)).toBeNull();
  });

  it('nothing outside the rays or beyond the last bin', () => {
    expect(ppiPick(rays, ...offset(230, 100), 0.5)).toBeNull();
    expect(ppiPick(rays, ...offset(200, 5000), 0.5)).toBeNull();
    expect(ppiPick([], 1, 1, 0.5)).toBeNull();
  });
});

describe('job follower (SSE first, polling as fall-back)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  const job = (state: JobView['state'], done: number): JobView => ({ id: 'job-1', state, files_total: 4, files_done: done, files_failed: 0, profiles_stored: done, progress: done / 4, last_error: null });
  it('newerJob: a late cancel answer (running) never puts a finished job back; less progress is ignored', () => {
    // The race seen in the browser test: the stream delivered "cancelled" and the follower stopped,
    // then the DELETE's own answer (taken while the job still ran) arrived.
    expect(newerJob(job('cancelled', 2), job('running', 1)).state).toBe('cancelled');
    expect(newerJob(job('done', 4), job('queued', 0)).state).toBe('done');
    expect(newerJob(job('running', 2), job('cancelled', 2)).state).toBe('cancelled');
    expect(newerJob(job('running', 3), job('running', 1)).files_done).toBe(3);
    expect(newerJob(job('running', 1), job('running', 3)).files_done).toBe(3);
    expect(newerJob(null, job('queued', 0)).state).toBe('queued');
    expect(newerJob({ ...job('done', 4), id: 'job-0' }, job('queued', 0)).state).toBe('queued'); // another job
  });

  class FakeSource implements JobEventSource {
    readyState = 0;
    onopen: ((e: unknown) => void) | null = null;
    onerror: ((e: unknown) => void) | null = null;
    closed = false;
    listeners: Array<(e: { data: string }) => void> = [];
    addEventListener(_t: 'job', l: (e: { data: string }) => void) {
      this.listeners.push(l);
    }
    close() {
      this.closed = true;
      this.readyState = 2;
    }
    emit(j: unknown) {
      for (const l of this.listeners) l({ data: JSON.stringify(j) });
    }
  }

  it('takes the SSE job events, ignores other jobs and stale updates, and stops at the final state', async () => {
    vi.useFakeTimers();
    const es = new FakeSource();
    const seen: JobView[] = [];
    const modes: string[] = [];
    const getJob = vi.fn(async () => job('queued', 0));
    followJob({ jobId: 'job-1', open: () => es, getJob, onJob: (j) => seen.push(j), onMode: (m) => modes.push(m) });
    es.readyState = 1;
    es.onopen!({});
    await vi.advanceTimersByTimeAsync(0);
    expect(getJob).toHaveBeenCalledTimes(1); // catches up once after opening
    es.emit(job('running', 2));
    es.emit({ ...job('running', 3), id: 'job-2' });
    es.emit(job('running', 1)); // older than what was seen
    es.emit('not json at all');
    es.emit(job('done', 4));
    es.emit(job('running', 4)); // after the end: ignored
    expect(seen.map((j) => `${j.state}:${j.files_done}`)).toEqual(['queued:0', 'running:2', 'done:4']);
    expect(modes).toEqual(['sse']);
    expect(es.closed).toBe(true);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(getJob).toHaveBeenCalledTimes(1); // no polling while the stream works
    expect(isFinal('cancelled')).toBe(true);
  });

  it('while the stream is open, a catch-up GET every safetyMs covers a failed first GET and a lost final event', async () => {
    vi.useFakeTimers();
    const es = new FakeSource();
    const seen: string[] = [];
    let calls = 0;
    const getJob = vi.fn(async () => {
      calls++;
      if (calls === 1) throw new Error('429');
      return job('done', 4);
    });
    followJob({ jobId: 'job-1', open: () => es, getJob, onJob: (j) => seen.push(j.state), onError: () => undefined, safetyMs: 5000 });
    es.readyState = 1;
    es.onopen!({});
    await vi.advanceTimersByTimeAsync(0);
    expect(seen).toEqual([]); // the catch-up GET failed and no event came
    await vi.advanceTimersByTimeAsync(5000);
    expect(seen).toEqual(['done']);
    expect(es.closed).toBe(true);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(getJob).toHaveBeenCalledTimes(2); // stopped at the final state
  });

  it('polls when the stream does not open in time, and stops at the final state', async () => {
    vi.useFakeTimers();
    const es = new FakeSource();
    let calls = 0;
    const getJob = vi.fn(async () => (++calls >= 3 ? job('done', 4) : job('running', calls)));
    const seen: string[] = [];
    const modes: string[] = [];
    followJob({ jobId: 'job-1', open: () => es, getJob, onJob: (j) => seen.push(j.state), onMode: (m) => modes.push(m), pollMs: 1000, openTimeoutMs: 3000 });
    await vi.advanceTimersByTimeAsync(2999);
    expect(getJob).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(modes).toEqual(['poll']);
    expect(es.closed).toBe(true);
    await vi.advanceTimersByTimeAsync(5000);
    expect(seen).toEqual(['running', 'running', 'done']);
    expect(getJob).toHaveBeenCalledTimes(3);
  });

  it('polls when the stream is closed for good or EventSource is missing', async () => {
    vi.useFakeTimers();
    const es = new FakeSource();
    const getJob = vi.fn(async () => job('running', 1));
    const modes: string[] = [];
    const stop = followJob({ jobId: 'job-1', open: () => es, getJob, onJob: () => undefined, onMode: (m) => modes.push(m), pollMs: 1000 });
    es.readyState = 2;
    es.onerror!({});
    await vi.advanceTimersByTimeAsync(2500);
    expect(modes).toEqual(['poll']);
    expect(getJob).toHaveBeenCalledTimes(3);
    stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(getJob).toHaveBeenCalledTimes(3);
    const none = vi.fn(async () => job('failed', 0));
    const seen: string[] = [];
    followJob({ jobId: 'job-1', open: () => null, getJob: none, onJob: (j) => seen.push(j.state) });
    await vi.advanceTimersByTimeAsync(0);
    expect(seen).toEqual(['failed']);
  });
});

describe('scientist strings', () => {
  it('every new key is in both languages with the same placeholders', () => {
    const keys = Object.keys(MESSAGES.en).filter((k) => /^(rhi_|ppi_readout|sc_channel|in_)/.test(k));
    expect(keys.length).toBeGreaterThan(60);
    for (const k of keys) {
      const bg = (MESSAGES.bg as Record<string, string>)[k];
      expect(bg, k).toBeTruthy();
      expect(placeholders(bg).sort(), k).toEqual(placeholders((MESSAGES.en as Record<string, string>)[k]).sort());
    }
  });
});
