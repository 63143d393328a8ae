/**
 * Scan detection (pure): splits a station channel's profiles into scans. A scan is a maximal run of
 * consecutive 'scan'-mode profiles (vertical profiles interleaved are skipped and do not break it)
 * with the same elevation (within `elevationTolDeg`), the azimuth moving in one direction without
 * coming back to an azimuth already swept (total rotation < 360 deg, no zero step), and gaps between
 * one profile's end and the next one's start of at most `maxGapMs`.
 *
 * Runs are built oldest first: a scan starts where the previous one broke (a fly-back to the start
 * azimuth, an elevation change, a gap), so a sweep that has just begun is its own (in-progress) scan
 * and the last run is the latest complete-or-in-progress scan. A continuous rotation without
 * fly-back is cut every 360 deg counted from the first profile of the look-back window.
 */
import type { ProfileMeta } from './port.js';

export interface ScanOptions {
  /** Largest elevation difference inside one scan (default 0.05 deg). */
  elevationTolDeg?: number;
  /** Largest gap between consecutive profiles of one scan (default 5 min). */
  maxGapMs?: number;
}

export interface ScanRun {
  station: string;
  channel: string;
  /** Elevation of the first profile of the run. */
  elevationDeg: number;
  /** Start of the first profile (ms UTC). */
  fromMs: number;
  /** End of the last profile (ms UTC), always > its start: [fromMs, toMs) holds every profile start of the run. */
  toMs: number;
  /** Oldest first. */
  profiles: ProfileMeta[];
}

export const DEFAULT_ELEVATION_TOL_DEG = 0.05;
export const DEFAULT_MAX_GAP_MS = 300_000;
/** Azimuth steps smaller than this count as "the same azimuth again". */
const MIN_STEP_DEG = 1e-6;

/** Signed smallest rotation from a to b, in (-180, 180]. */
export function azimuthStepDeg(fromDeg: number, toDeg: number): number {
  let d = (((toDeg - fromDeg) % 360) + 360) % 360;
  if (d > 180) d -= 360;
  return d;
}

function endMs(p: ProfileMeta): number {
  return Number.isFinite(p.timeEndMs) && p.timeEndMs > p.timeMs ? p.timeEndMs : p.timeMs + 1;
}

function runOf(profiles: ProfileMeta[]): ScanRun {
  const first = profiles[0];
  const last = profiles[profiles.length - 1];
  return { station: last.station, channel: last.channel, elevationDeg: first.elevationDeg, fromMs: first.timeMs, toMs: endMs(last), profiles };
}

/** All scans among `profiles` (any order; only mode 'scan' is used), oldest scan first. */
export function splitScans(profiles: readonly ProfileMeta[], options: ScanOptions = {}): ScanRun[] {
  const tol = options.elevationTolDeg ?? DEFAULT_ELEVATION_TOL_DEG;
  const maxGap = options.maxGapMs ?? DEFAULT_MAX_GAP_MS;
  const scans = profiles.filter((p) => p.mode === 'scan').sort((a, b) => a.timeMs - b.timeMs);
  const runs: ProfileMeta[][] = [];
  let run: ProfileMeta[] = [];
  let direction = 0;
  let rotation = 0;
  for (const p of scans) {
    const prev = run[run.length - 1];
    let joins = false;
    if (prev) {
      const step = azimuthStepDeg(prev.azimuthDeg, p.azimuthDeg);
      const sameElevation = Math.abs(p.elevationDeg - run[0].elevationDeg) <= tol;
      const gapOk = p.timeMs - endMs(prev) <= maxGap;
      const moves = Math.abs(step) >= MIN_STEP_DEG && (direction === 0 || Math.sign(step) === direction);
      const noRepeat = Math.abs(rotation + step) < 360 - MIN_STEP_DEG;
      joins = sameElevation && gapOk && moves && noRepeat;
      if (joins) {
        direction = Math.sign(step);
        rotation += step;
      }
    }
    if (!joins && run.length > 0) {
      runs.push(run);
      run = [];
      direction = 0;
      rotation = 0;
    }
    run.push(p);
  }
  if (run.length > 0) runs.push(run);
  return runs.map(runOf);
}

/**
 * The latest scan (the run ending at the newest scan profile), or null without scan profiles. With
 * `complete`, the newest run that is as long as the longest run at its elevation in the window (a
 * sweep still in progress, with fewer rays, gives way to the last full one; the newest run when no
 * run is complete).
 */
export function latestScanOf(profiles: readonly ProfileMeta[], options: ScanOptions = {}, complete = false): ScanRun | null {
  const runs = splitScans(profiles, options);
  if (runs.length === 0) return null;
  if (!complete) return runs[runs.length - 1];
  const tol = options.elevationTolDeg ?? DEFAULT_ELEVATION_TOL_DEG;
  const longestAt = (e: number) => Math.max(...runs.filter((r) => Math.abs(r.elevationDeg - e) <= tol).map((r) => r.profiles.length));
  for (let i = runs.length - 1; i >= 0; i--) if (runs[i].profiles.length >= longestAt(runs[i].elevationDeg)) return runs[i];
  return runs[runs.length - 1];
}
