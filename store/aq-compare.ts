/**
 * Lidar vs official AQ station, hour by hour and day by day (pure): the lidar's hourly mean in the
 * station's map cell beside the station's hourly value, daily means of both with the same rule
 * (>= 18 hours, local calendar days; result-store.ts dailyMeans), and agreement statistics over the
 * hours (days) where both exist: n, mean of each side, mean bias (lidar - station) and Pearson r.
 */
import { cellId, laeaForward } from '../processing/geometry/grid.js';
import { dailyMeans, localDays, type DayMean, type SeriesPoint } from './result-store.js';
import type { AqHourRecord } from './port.js';

export interface PairedHour {
  timeMs: number;
  /** NaN where that side has no value. */
  lidar: number;
  station: number;
  /** Lidar bins averaged (0 without a lidar value). */
  lidarBins: number;
}

export interface PairedDay {
  date: string;
  dayStartMs: number;
  lidar: number;
  station: number;
  lidarHours: number;
  stationHours: number;
}

export interface Agreement {
  /** Hours (days) where both sides have a value. */
  n: number;
  meanLidar: number;
  meanStation: number;
  /** mean(lidar - station); NaN when n = 0. */
  meanBias: number;
  /** Pearson correlation; NaN when n < 3 or a side is constant. */
  r: number;
}

/** Hours where either side has a value, oldest first. */
export function pairHours(lidar: readonly SeriesPoint[], station: readonly AqHourRecord[], product: 'pm10' | 'pm25'): PairedHour[] {
  const byTime = new Map<number, PairedHour>();
  const get = (t: number) => {
    let p = byTime.get(t);
    if (!p) byTime.set(t, (p = { timeMs: t, lidar: NaN, station: NaN, lidarBins: 0 }));
    return p;
  };
  for (const l of lidar) {
    if (!Number.isFinite(l.value)) continue;
    const p = get(l.timeMs);
    p.lidar = l.value;
    p.lidarBins = l.n;
  }
  for (const s of station) {
    const v = s[product];
    if (Number.isFinite(v)) get(s.timeMs).station = v;
  }
  return [...byTime.values()].sort((a, b) => a.timeMs - b.timeMs);
}

export function pairDays(hours: readonly PairedHour[], fromMs: number, toMs: number, timeZone: string): PairedDay[] {
  const days = localDays(fromMs, toMs, timeZone);
  const l: DayMean[] = dailyMeans(hours.map((h) => ({ timeMs: h.timeMs, value: h.lidar })), days);
  const s: DayMean[] = dailyMeans(hours.map((h) => ({ timeMs: h.timeMs, value: h.station })), days);
  return days.map((d, i) => ({ date: d.date, dayStartMs: d.startMs, lidar: l[i].mean, station: s[i].mean, lidarHours: l[i].hours, stationHours: s[i].hours }));
}

export function agreement(pairs: ReadonlyArray<{ lidar: number; station: number }>): Agreement {
  const both = pairs.filter((p) => Number.isFinite(p.lidar) && Number.isFinite(p.station));
  const n = both.length;
  if (n === 0) return { n: 0, meanLidar: NaN, meanStation: NaN, meanBias: NaN, r: NaN };
  let sl = 0, ss = 0;
  for (const p of both) {
    sl += p.lidar;
    ss += p.station;
  }
  const ml = sl / n, ms = ss / n;
  let cov = 0, vl = 0, vs = 0;
  for (const p of both) {
    cov += (p.lidar - ml) * (p.station - ms);
    vl += (p.lidar - ml) ** 2;
    vs += (p.station - ms) ** 2;
  }
  const r = n >= 3 && vl > 0 && vs > 0 ? cov / Math.sqrt(vl * vs) : NaN;
  return { n, meanLidar: ml, meanStation: ms, meanBias: ml - ms, r };
}

/**
 * The map cells of `sizeM` whose centre lies within `radiusM` of a point (LAEA metres), always
 * including the cell that contains the point; sorted.
 */
export function cellsNear(latDeg: number, lonDeg: number, radiusM: number, sizeM: number): string[] {
  const own = cellId(latDeg, lonDeg, sizeM);
  const [e, n] = laeaForward(latDeg, lonDeg);
  const out = new Set<string>([own]);
  if (radiusM > 0) {
    for (let i = Math.floor((e - radiusM) / sizeM); i <= Math.floor((e + radiusM) / sizeM); i++) {
      for (let j = Math.floor((n - radiusM) / sizeM); j <= Math.floor((n + radiusM) / sizeM); j++) {
        if (Math.hypot((i + 0.5) * sizeM - e, (j + 0.5) * sizeM - n) <= radiusM) out.add(`${sizeM}mE${i}N${j}`);
      }
    }
  }
  return [...out].sort();
}
