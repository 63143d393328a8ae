/**
 * MEE (and hygroscopic growth) calibration against an air-quality station (RETRIEVAL.md section 6,
 * "Calibration"; docs/calibration.md). Pure: runs in Node and in the browser.
 *
 * 1. Pairing. From every near-horizontal profile (elevation < 15 deg) take the bins whose ground
 *    position lies within `radiusM` of the station and at most `maxAglM` above the ground below
 *    them, with a valid extinction (range > 0, no QC_NO_PM bit, no LOW_SNR). Each bin's alpha_aer at
 *    the channel wavelength becomes the dry 550 nm extinction of the current parameter set without
 *    its MEE:  alpha_d = alpha * (lambda / 550)^AE / f(RH)  (pm.ts humidityGrowth, Hanel 1976).
 *    Bins are averaged per UTC hour (all profiles whose mid-time falls in the hour; at least
 *    `minBins`) and paired with the station's hourly PM of that hour (hour-start time stamps). When
 *    the station CSV has an rh column, f(RH) uses the station's RH of the hour (else the set's RH):
 *    the MEE then refers to dry aerosol (RH_ref = 0) like the set's MEE, free of the hour-to-hour
 *    humidity swings.
 * 2. MEE. Model alpha_d = MEE * PM * 1e-6 (PM in ug/m3), a regression through the origin fitted by
 *    Huber M-estimation (Huber 1964, Ann. Math. Stat. 35, 73; tuning c = 1.345, 95% efficiency at
 *    the normal) with iteratively reweighted least squares (Holland & Welsch 1977, Commun. Stat. A6,
 *    813), started from the median of the ratios alpha_d / PM (the through-origin analogue of the
 *    Theil-Sen estimator, Sen 1968, JASA 63, 1379) and a MAD scale (1.4826 MAD of the residuals,
 *    re-estimated each iteration). Standard error: the sandwich (heteroscedasticity-consistent)
 *    covariance of the M-estimate, s^2 n/(n-1) sum x^2 psi^2 / (sum x^2 psi')^2 (Huber 1967, Proc.
 *    5th Berkeley Symp. 1, 221; White 1980, Econometrica 48, 817), since PM errors grow with PM.
 *    Reported with n, r^2 (squared Pearson correlation of lidar-derived and station PM), RMSE and bias
 *    (mean of lidar minus station) of the PM predicted from the lidar with the fitted MEE.
 * 3. gamma (optional, needs station RH): ln(alpha_wet550 / PM) = ln MEE_dry - gamma ln(1 - RH),
 *    a straight line fitted by the same Huber IRLS with an intercept (start: Theil-Sen slope, median
 *    intercept). RH capped at 0.95 like the growth law. The MEE is then fitted with the new gamma.
 */
import { LidarError } from '../errors.js';
import { localToUtcMs, toIsoUtc } from '../time.js';
import { humidityGrowth, RH_CAP } from './pm.js';
import { medianInPlace } from './preprocess.js';
import { QC, QC_NO_PM } from './qc.js';
import { canonicalParams, paramsId, resolveParams } from './params.js';
import type { ResolvedParams } from './params.types.js';

// ---------------------------------------------------------------------------------------------
// Robust regression

export interface RobustFit {
  /** Slope (and intercept for the line fit; 0 through the origin). */
  slope: number;
  intercept: number;
  slopeSigma: number;
  interceptSigma: number;
  /** Robust residual scale (1.4826 MAD). */
  scale: number;
  /** Final IRLS weights (1 = treated as normal, < 1 = down-weighted). */
  weights: Float64Array;
  iterations: number;
}

/** Huber tuning constant: 95% asymptotic efficiency at the normal distribution. */
export const HUBER_C = 1.345;
const MAD_NORMAL = 1.4826;

function median(values: ArrayLike<number>): number {
  return medianInPlace(Float64Array.from(values), values.length);
}

function madScale(residuals: Float64Array): number {
  const m = median(residuals.map(Math.abs));
  return MAD_NORMAL * m;
}

function checkXY(x: ArrayLike<number>, y: ArrayLike<number>, min: number): number {
  const n = x.length;
  if (y.length !== n) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid regression input: ${n} x values, ${y.length} y values`, { field: 'y' });
  if (n < min) throw new LidarError('LIDAR_ERR_BAD_VALUE', `too few points for a regression: ${n} (need >= ${min})`, { field: 'n' });
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(x[i]) || !Number.isFinite(y[i])) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid regression point ${i}: (${x[i]}, ${y[i]})`, { field: 'x' });
  }
  return n;
}

/**
 * Huber IRLS for y = a + b x (withIntercept) or y = b x. `b0`/`a0` start values. The scale is the
 * MAD of the current residuals; when it is 0 (an exact fit of more than half the points) the start
 * is returned with a zero scale, which is the exact answer for noise-free data.
 */
function huberIrls(x: ArrayLike<number>, y: ArrayLike<number>, withIntercept: boolean, a0: number, b0: number, maxIter: number): RobustFit {
  const n = x.length;
  let a = a0;
  let b = b0;
  const r = new Float64Array(n);
  const w = new Float64Array(n).fill(1);
  let s = 0;
  let it = 0;
  for (; it < maxIter; it++) {
    for (let i = 0; i < n; i++) r[i] = y[i] - a - b * x[i];
    s = madScale(r);
    if (!(s > 0)) {
      // More than half the points lie exactly on the line: least squares on those.
      s = 0;
      break;
    }
    for (let i = 0; i < n; i++) {
      const u = Math.abs(r[i]) / s;
      w[i] = u <= HUBER_C ? 1 : HUBER_C / u;
    }
    // Weighted least squares.
    let sw = 0, swx = 0, swy = 0, swxx = 0, swxy = 0;
    for (let i = 0; i < n; i++) {
      sw += w[i];
      swx += w[i] * x[i];
      swy += w[i] * y[i];
      swxx += w[i] * x[i] * x[i];
      swxy += w[i] * x[i] * y[i];
    }
    let na: number, nb: number;
    if (withIntercept) {
      const det = sw * swxx - swx * swx;
      if (!(det > 0)) throw new LidarError('LIDAR_ERR_BAD_VALUE', 'the regression is degenerate: the x values do not vary', { field: 'x' });
      nb = (sw * swxy - swx * swy) / det;
      na = (swy - nb * swx) / sw;
    } else {
      if (!(swxx > 0)) throw new LidarError('LIDAR_ERR_BAD_VALUE', 'the regression is degenerate: all x values are 0', { field: 'x' });
      na = 0;
      nb = swxy / swxx;
    }
    const done = Math.abs(nb - b) <= 1e-10 * Math.max(Math.abs(nb), 1e-300) && Math.abs(na - a) <= 1e-10 * Math.max(Math.abs(na), Math.abs(nb), 1e-300);
    a = na;
    b = nb;
    if (done) {
      it++;
      break;
    }
  }
  for (let i = 0; i < n; i++) r[i] = y[i] - a - b * x[i];
  // Sandwich covariance A^-1 B A^-1 (Huber 1967; White 1980): A = sum psi'(u) X X', B = s^2 sum psi(u)^2
  // X X' * n/(n-p); valid when the scatter grows with x (PM errors roughly proportional to PM).
  const p = withIntercept ? 2 : 1;
  let slopeSigma = 0;
  let interceptSigma = 0;
  if (s > 0 && n > p) {
    let a00 = 0, a01 = 0, a11 = 0, b00 = 0, b01 = 0, b11 = 0;
    for (let i = 0; i < n; i++) {
      const u = r[i] / s;
      const inside = Math.abs(u) <= HUBER_C;
      const psi = inside ? u : Math.sign(u) * HUBER_C;
      const dpsi = inside ? 1 : 0;
      const xi = x[i];
      a00 += dpsi;
      a01 += dpsi * xi;
      a11 += dpsi * xi * xi;
      b00 += psi * psi;
      b01 += psi * psi * xi;
      b11 += psi * psi * xi * xi;
    }
    const k = (s * s * n) / (n - p);
    if (withIntercept) {
      const det = a00 * a11 - a01 * a01;
      if (det > 0) {
        // A^-1 = [[a11, -a01], [-a01, a00]] / det; V = A^-1 B A^-1 (symmetric 2x2).
        const i00 = a11 / det, i01 = -a01 / det, i11 = a00 / det;
        const v00 = i00 * (b00 * i00 + b01 * i01) + i01 * (b01 * i00 + b11 * i01);
        const v11 = i01 * (b00 * i01 + b01 * i11) + i11 * (b01 * i01 + b11 * i11);
        interceptSigma = Math.sqrt(k * v00);
        slopeSigma = Math.sqrt(k * v11);
      } else slopeSigma = interceptSigma = Infinity;
    } else {
      slopeSigma = a11 > 0 ? Math.sqrt((k * b11) / (a11 * a11)) : Infinity;
    }
  }
  return { slope: b, intercept: a, slopeSigma, interceptSigma, scale: s, weights: w, iterations: it };
}

/**
 * Robust regression through the origin y = b x (Huber IRLS from the median of the ratios y/x).
 * Points with x = 0 carry no slope information for the start but stay in the fit.
 */
export function robustSlopeThroughOrigin(x: ArrayLike<number>, y: ArrayLike<number>, maxIter = 100): RobustFit {
  const n = checkXY(x, y, 1);
  const ratios: number[] = [];
  for (let i = 0; i < n; i++) if (x[i] !== 0) ratios.push(y[i] / x[i]);
  if (ratios.length === 0) throw new LidarError('LIDAR_ERR_BAD_VALUE', 'the regression is degenerate: all x values are 0', { field: 'x' });
  return huberIrls(x, y, false, 0, median(ratios), maxIter);
}

/** Robust straight line y = a + b x (Huber IRLS from the Theil-Sen slope and the median intercept). */
export function robustLine(x: ArrayLike<number>, y: ArrayLike<number>, maxIter = 100): RobustFit {
  const n = checkXY(x, y, 2);
  const slopes: number[] = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (x[j] !== x[i]) slopes.push((y[j] - y[i]) / (x[j] - x[i]));
  if (slopes.length === 0) throw new LidarError('LIDAR_ERR_BAD_VALUE', 'the regression is degenerate: the x values do not vary', { field: 'x' });
  const b0 = median(slopes);
  const a0 = median(Array.from({ length: n }, (_, i) => y[i] - b0 * x[i]));
  return huberIrls(x, y, true, a0, b0, maxIter);
}

// ---------------------------------------------------------------------------------------------
// AQ station hourly CSV

export interface AqHour {
  /** Hour start, UTC ms. */
  timeMs: number;
  /** ug/m3; NaN = missing. */
  pm10: number;
  pm25: number;
  /** Fraction 0-1; NaN = missing. */
  rh: number;
}

export interface AqSeries {
  file: string;
  hasPm25: boolean;
  hasRh: boolean;
  hours: AqHour[];
}

const HOUR_MS = 3_600_000;
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/** UTF-8 byte length of a string (no TextEncoder: the ES2022 library has none). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * Parses a station CSV `time,pm10[,pm25][,rh]` (header required, columns in any order, `pm10` and
 * `time` required). time: ISO 8601 hour start with 'Z' or an offset; a naive time is in `timeZone`
 * (IANA, default UTC). PM in ug/m3, rh as a fraction 0-1; an empty field is missing. Errors
 * (LIDAR_ERR_BAD_VALUE) name the file, the byte offset, the field and the line.
 */
export function parseAqCsv(text: string, file: string, timeZone = 'UTC'): AqSeries {
  const lines = text.split('\n');
  let offset = 0;
  const fail = (lineNo: number, lineOffset: number, field: string, detail: string): never => {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `line ${lineNo}: ${detail}`, { file, offset: lineOffset, field });
  };
  let header: string[] | null = null;
  let col = { time: -1, pm10: -1, pm25: -1, rh: -1 };
  const hours: AqHour[] = [];
  const seen = new Map<number, number>();
  for (let k = 0; k < lines.length; k++) {
    const lineNo = k + 1;
    const lineOffset = offset;
    offset += utf8Length(lines[k]) + 1;
    let line = lines[k].endsWith('\r') ? lines[k].slice(0, -1) : lines[k];
    if (k === 0 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    if (line.trim() === '' || line.startsWith('#')) continue;
    const cells = line.split(',').map((c) => c.trim());
    if (header === null) {
      header = cells.map((c) => c.toLowerCase());
      const allowed = ['time', 'pm10', 'pm25', 'rh'];
      header.forEach((h, i) => {
        if (!allowed.includes(h)) fail(lineNo, lineOffset, h || `column ${i + 1}`, `unknown column ${JSON.stringify(cells[i])} (expected time,pm10[,pm25][,rh])`);
        if (header!.indexOf(h) !== i) fail(lineNo, lineOffset, h, `duplicate column ${JSON.stringify(h)}`);
      });
      col = { time: header.indexOf('time'), pm10: header.indexOf('pm10'), pm25: header.indexOf('pm25'), rh: header.indexOf('rh') };
      if (col.time < 0) fail(lineNo, lineOffset, 'time', 'missing column "time" (expected the header time,pm10[,pm25][,rh])');
      if (col.pm10 < 0) fail(lineNo, lineOffset, 'pm10', 'missing column "pm10" (expected the header time,pm10[,pm25][,rh])');
      continue;
    }
    if (cells.length !== header.length) fail(lineNo, lineOffset, header[Math.min(cells.length, header.length - 1)], `expected ${header.length} fields, found ${cells.length}`);
    const t = cells[col.time];
    const m = ISO_RE.exec(t);
    if (!m) fail(lineNo, lineOffset, 'time', `invalid time ${JSON.stringify(t)} (expected ISO 8601, e.g. 2018-01-19T16:00Z or 2018-01-19T18:00+02:00)`);
    const [, Y, Mo, D, h, mi, sec, , zone] = m!;
    const naive = `${Y}-${Mo}-${D}T${h}:${mi}:${sec ?? '00'}`;
    let ms = Date.parse(naive + 'Z');
    if (Number.isNaN(ms) || Number(Mo) > 12 || Number(D) > 31 || Number(h) > 23 || Number(mi) > 59 || new Date(ms).getUTCDate() !== Number(D)) fail(lineNo, lineOffset, 'time', `invalid time ${JSON.stringify(t)}`);
    if (zone === undefined) {
      try {
        ms = localToUtcMs(naive, timeZone);
      } catch (e) {
        if (e instanceof LidarError) fail(lineNo, lineOffset, 'time', e.message);
        throw e;
      }
    } else if (zone !== 'Z') {
      const sign = zone[0] === '-' ? -1 : 1;
      const digits = zone.slice(1).replace(':', '');
      const offH = Number(digits.slice(0, 2));
      const offM = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
      if (offH > 18 || offM > 59) fail(lineNo, lineOffset, 'time', `invalid UTC offset in ${JSON.stringify(t)}`);
      ms -= sign * (offH * 60 + offM) * 60_000;
    }
    if (ms % HOUR_MS !== 0) fail(lineNo, lineOffset, 'time', `time ${JSON.stringify(t)} is not the start of a UTC hour (${toIsoUtc(ms)})`);
    const prev = seen.get(ms);
    if (prev !== undefined) fail(lineNo, lineOffset, 'time', `duplicate hour ${toIsoUtc(ms)} (also on line ${prev})`);
    seen.set(ms, lineNo);
    const value = (c: number, field: string, min: number, max: number, unit: string): number => {
      if (c < 0) return NaN;
      const s = cells[c];
      if (s === '') return NaN;
      const v = Number(s);
      if (!Number.isFinite(v) || v < min || v > max) {
        const hint = field === 'rh' && v > 1 && v <= 100 ? ' (a fraction 0-1 is expected, not percent)' : '';
        fail(lineNo, lineOffset, field, `invalid ${field}: ${JSON.stringify(s)} (expected ${unit} in [${min}, ${max}] or empty)${hint}`);
      }
      return v;
    };
    hours.push({
      timeMs: ms,
      pm10: value(col.pm10, 'pm10', -50, 5000, 'ug/m3'),
      pm25: value(col.pm25, 'pm25', -50, 5000, 'ug/m3'),
      rh: value(col.rh, 'rh', 0, 1, 'a fraction'),
    });
  }
  if (header === null) throw new LidarError('LIDAR_ERR_BAD_VALUE', 'empty file (expected the header time,pm10[,pm25][,rh])', { file, offset: 0, field: 'time' });
  hours.sort((a, b) => a.timeMs - b.timeMs);
  return { file, hasPm25: col.pm25 >= 0, hasRh: col.rh >= 0, hours };
}

// ---------------------------------------------------------------------------------------------
// AQ stations

export interface AqStation {
  id: string;
  name: string;
  lat: number;
  lon: number;
  /** Ground altitude (m a.s.l.) at the station; null when unknown. */
  groundM: number | null;
}

/**
 * Finds a station by id (case-insensitive) in a station list JSON
 * `{stations: [{id, name_en, lat, lon, ground_m}]}` (config/aq-stations/*.json).
 */
export function findAqStation(json: unknown, code: string, file?: string): AqStation {
  const where = (field: string) => ({ field, ...(file ? { file } : {}) });
  const list = (json as { stations?: unknown } | null)?.stations;
  if (!Array.isArray(list)) throw new LidarError('LIDAR_ERR_BAD_VALUE', 'invalid AQ station list: expected {"stations": [...]}', where('stations'));
  const ids: string[] = [];
  for (let k = 0; k < list.length; k++) {
    const s = list[k] as Record<string, unknown>;
    if (typeof s?.id !== 'string') throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid stations[${k}].id: ${JSON.stringify(s?.id)}`, where(`stations[${k}].id`));
    ids.push(s.id);
    if (s.id.toLowerCase() !== code.toLowerCase()) continue;
    const num = (v: unknown, f: string, min: number, max: number): number => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid stations[${k}].${f}: ${JSON.stringify(v)} (expected a number in [${min}, ${max}])`, where(`stations[${k}].${f}`));
      return v;
    };
    return {
      id: s.id,
      name: typeof s.name_en === 'string' ? s.name_en : s.id,
      lat: num(s.lat, 'lat', -90, 90),
      lon: num(s.lon, 'lon', -180, 180),
      groundM: s.ground_m === null || s.ground_m === undefined ? null : num(s.ground_m, 'ground_m', -500, 9000),
    };
  }
  throw new LidarError('LIDAR_ERR_NOT_FOUND', `unknown AQ station '${code}' (known: ${ids.join(', ')})`, where('--aq-station'));
}

// ---------------------------------------------------------------------------------------------
// Lidar profiles and pairing

/** What calibration needs of a profile: ProfileProducts or the products JSON (null = NaN). */
export interface CalibrationProfile {
  /** ISO 8601 UTC. */
  timeStartUtc: string;
  timeEndUtc?: string;
  elevationDeg: number;
  wavelengthNm: number;
  rangeM: ArrayLike<number | null>;
  heightM: ArrayLike<number | null>;
  lat: ArrayLike<number | null>;
  lon: ArrayLike<number | null>;
  alphaAer: ArrayLike<number | null>;
  qc: ArrayLike<number>;
  paramsId?: string;
}

/** Profiles from the JSON of `lidar-pm retrieve --json` ({profiles: [...]}); errors name the field. */
export function profilesFromProductsJson(json: unknown, file?: string): CalibrationProfile[] {
  const where = (field: string) => ({ field, ...(file ? { file } : {}) });
  const profiles = (json as { profiles?: unknown } | null)?.profiles;
  if (!Array.isArray(profiles)) throw new LidarError('LIDAR_ERR_BAD_VALUE', 'not a products JSON: expected {"profiles": [...]} (lidar-pm retrieve --json)', where('profiles'));
  return profiles.map((p: Record<string, unknown>, k) => {
    const f = (name: string) => `profiles[${k}].${name}`;
    const bad = (name: string, why: string): never => {
      throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid ${f(name)}: ${why}`, where(f(name)));
    };
    if (p === null || typeof p !== 'object') bad('', 'expected an object');
    if (typeof p.time_start !== 'string' || Number.isNaN(Date.parse(p.time_start))) bad('time_start', `${JSON.stringify(p.time_start)} (expected an ISO 8601 time)`);
    if (typeof p.elevation_deg !== 'number') bad('elevation_deg', JSON.stringify(p.elevation_deg));
    const ch = p.channel as { wavelength_nm?: unknown } | undefined;
    if (typeof ch?.wavelength_nm !== 'number' || !(ch.wavelength_nm > 0)) bad('channel.wavelength_nm', JSON.stringify(ch?.wavelength_nm));
    const arr = (name: string): Array<number | null> => {
      const a = p[name];
      if (!Array.isArray(a)) bad(name, 'expected an array');
      return a as Array<number | null>;
    };
    const alpha = arr('alpha_aer');
    const out: CalibrationProfile = {
      timeStartUtc: p.time_start as string,
      timeEndUtc: typeof p.time_end === 'string' ? p.time_end : undefined,
      elevationDeg: p.elevation_deg as number,
      wavelengthNm: ch!.wavelength_nm as number,
      rangeM: arr('range_m'),
      heightM: arr('height_m'),
      lat: arr('lat'),
      lon: arr('lon'),
      alphaAer: alpha,
      qc: arr('qc') as number[],
      paramsId: typeof p.params_id === 'string' ? p.params_id : undefined,
    };
    for (const name of ['range_m', 'height_m', 'lat', 'lon', 'qc'] as const) if ((p[name] as unknown[]).length !== alpha.length) bad(name, `length ${(p[name] as unknown[]).length} (alpha_aer has ${alpha.length})`);
    return out;
  });
}

export interface PairingOptions {
  /** Horizontal distance from the station, m (default 500). */
  radiusM?: number;
  /** Height above the ground below the bin, m (default 150). */
  maxAglM?: number;
  /** Profiles at or above this elevation are not used (default 15 deg). */
  maxElevationDeg?: number;
  /** Bins an hour needs (default 20). */
  minBins?: number;
  /** Channel wavelength to use (default: the one nearest 550 nm among the profiles). */
  wavelengthNm?: number;
  /** Ground height (m a.s.l.) at a point, NaN where unknown (the DEM); the station ground is used there. */
  groundM?: (latDeg: number, lonDeg: number) => number;
}

export interface LidarHour {
  /** Hour start, UTC ms. */
  timeMs: number;
  nBins: number;
  nProfiles: number;
  /** Mean dry 550 nm extinction without MEE (1/m) and mean ambient 550 nm extinction (1/m). */
  alphaDry550: number;
  alphaWet550: number;
}

export interface PairingDiagnostics {
  profiles: number;
  nearHorizontal: number;
  wavelengthNm: number;
  /** Bins within the radius (range > 0), of those below max AGL, of those valid. */
  binsInRadius: number;
  binsBelowAgl: number;
  binsValid: number;
  binsNoGround: number;
  /** Nearest distance of any bin of a near-horizontal profile to the station, m. */
  nearestM: number;
  hoursWithBins: number;
  hoursEnough: number;
}

/** Horizontal distance (m), haversine on a sphere of radius 6371 km. */
export function distanceM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const r = Math.PI / 180;
  const dLat = (lat2 - lat1) * r;
  const dLon = (lon2 - lon1) * r;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371_000 * Math.asin(Math.min(1, Math.sqrt(a)));
}

function positive(v: number, field: string): number {
  if (!(v > 0) || !Number.isFinite(v)) throw new LidarError('LIDAR_ERR_USAGE', `invalid ${field}: ${v} (a positive number)`, { field });
  return v;
}

/** The wavelength nearest 550 nm among the profiles (the shorter one on a tie). */
export function defaultWavelength(profiles: readonly CalibrationProfile[]): number {
  let best = NaN;
  for (const p of profiles) {
    const d = Math.abs(p.wavelengthNm - 550);
    const db = Math.abs(best - 550);
    if (Number.isNaN(best) || d < db || (d === db && p.wavelengthNm < best)) best = p.wavelengthNm;
  }
  return best;
}

/**
 * Hourly means of the dry 550 nm extinction (without MEE) at the bins near the station (see the
 * header). `params.pm` gives AE, gamma, RH and RH_ref = 0. Hours with fewer than minBins bins are
 * left out (counted in the diagnostics).
 */
export function pairBins(profiles: readonly CalibrationProfile[], station: AqStation, params: ResolvedParams, opts: PairingOptions = {}): { hours: LidarHour[]; diagnostics: PairingDiagnostics } {
  const radiusM = positive(opts.radiusM ?? 500, '--radius-m');
  const maxAglM = positive(opts.maxAglM ?? 150, '--max-agl-m');
  const maxElev = opts.maxElevationDeg ?? 15;
  const minBins = opts.minBins ?? 20;
  if (!Number.isInteger(minBins) || minBins < 1) throw new LidarError('LIDAR_ERR_USAGE', `invalid --min-bins: ${minBins} (an integer >= 1)`, { field: '--min-bins' });
  const wavelengthNm = opts.wavelengthNm ?? defaultWavelength(profiles);
  const pm = params.pm;
  const growth = humidityGrowth(pm.rh, pm.gamma, 0);
  const d: PairingDiagnostics = { profiles: profiles.length, nearHorizontal: 0, wavelengthNm, binsInRadius: 0, binsBelowAgl: 0, binsValid: 0, binsNoGround: 0, nearestM: Infinity, hoursWithBins: 0, hoursEnough: 0 };
  const acc = new Map<number, { n: number; sum: number; profiles: number }>();
  const val = (a: ArrayLike<number | null>, i: number): number => {
    const v = a[i];
    return v === null || v === undefined ? NaN : v;
  };
  for (const p of profiles) {
    if (!(p.elevationDeg < maxElev) || p.wavelengthNm !== wavelengthNm) continue;
    d.nearHorizontal++;
    const start = Date.parse(p.timeStartUtc);
    const end = p.timeEndUtc !== undefined ? Date.parse(p.timeEndUtc) : NaN;
    const mid = Number.isFinite(end) ? 0.5 * (start + end) : start;
    const hour = Math.floor(mid / HOUR_MS) * HOUR_MS;
    let used = 0;
    for (let i = 0; i < p.alphaAer.length; i++) {
      const r = val(p.rangeM, i);
      if (!(r > 0)) continue;
      const lat = val(p.lat, i);
      const lon = val(p.lon, i);
      if (!Number.isFinite(lat) || !Number.isFinite(lon)) continue;
      const dist = distanceM(station.lat, station.lon, lat, lon);
      if (dist < d.nearestM) d.nearestM = dist;
      if (dist > radiusM) continue;
      d.binsInRadius++;
      let ground = opts.groundM ? opts.groundM(lat, lon) : NaN;
      if (!Number.isFinite(ground)) ground = station.groundM ?? NaN;
      if (!Number.isFinite(ground)) {
        d.binsNoGround++;
        continue;
      }
      if (!(val(p.heightM, i) - ground <= maxAglM)) continue;
      d.binsBelowAgl++;
      const a = val(p.alphaAer, i);
      if (!Number.isFinite(a) || (p.qc[i] & (QC_NO_PM | QC.LOW_SNR)) !== 0) continue;
      d.binsValid++;
      used++;
      let h = acc.get(hour);
      if (!h) acc.set(hour, (h = { n: 0, sum: 0, profiles: 0 }));
      h.n++;
      h.sum += a;
    }
    if (used > 0) acc.get(hour)!.profiles++;
  }
  const hours: LidarHour[] = [];
  const toDryFor = (wl: number) => Math.pow(wl / 550, pm.angstrom);
  for (const [timeMs, h] of [...acc.entries()].sort((x, y) => x[0] - y[0])) {
    d.hoursWithBins++;
    if (h.n < minBins) continue;
    d.hoursEnough++;
    const wet = (h.sum / h.n) * toDryFor(wavelengthNm);
    hours.push({ timeMs, nBins: h.n, nProfiles: h.profiles, alphaWet550: wet, alphaDry550: wet / growth });
  }
  return { hours, diagnostics: d };
}

// ---------------------------------------------------------------------------------------------
// The calibration

export interface CalibrationOptions extends PairingOptions {
  /** Also fit gamma (needs the rh column). */
  fitGamma?: boolean;
  /** Paired hours the fit needs (default 3, at least 2). */
  minHours?: number;
}

export interface MeeFit {
  n: number;
  mee_m2_per_g: number;
  mee_sigma_m2_per_g: number;
  r2: number;
  rmse_ug_m3: number;
  bias_ug_m3: number;
  /** Hours the Huber weights down-weighted (|residual| > 1.345 s). */
  n_downweighted: number;
}

export interface GammaFit {
  n: number;
  gamma: number;
  gamma_sigma: number;
  /** exp(intercept): the dry MEE the humidity fit implies (PM10), m2/g. */
  mee_dry_m2_per_g: number;
  rh_min: number;
  rh_max: number;
}

export interface HourPair {
  time: string;
  n_bins: number;
  n_profiles: number;
  alpha_dry550_per_m: number;
  alpha_wet550_per_m: number;
  pm10_station: number | null;
  pm25_station: number | null;
  rh_station: number | null;
  pm10_lidar: number | null;
  pm25_lidar: number | null;
}

export interface CalibrationResult {
  n_hours: number;
  pm10: MeeFit;
  pm25: MeeFit | null;
  gamma: GammaFit | null;
  params: ResolvedParams;
  hours: HourPair[];
  diagnostics: PairingDiagnostics & { aqHours: number; overlappingHours: number };
  notes: string[];
}

function round(v: number, digits = 6): number {
  return Number(v.toPrecision(digits));
}

function fitMee(alpha: number[], pm: number[]): MeeFit {
  const x = pm.map((v) => v * 1e-6);
  const fit = robustSlopeThroughOrigin(x, alpha);
  const mee = fit.slope;
  const pred = alpha.map((a) => (a / mee) * 1e6);
  const n = pm.length;
  let se = 0, bias = 0, mx = 0, my = 0;
  for (let i = 0; i < n; i++) {
    se += (pred[i] - pm[i]) ** 2;
    bias += pred[i] - pm[i];
    mx += pred[i];
    my += pm[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (pred[i] - mx) * (pm[i] - my);
    sxx += (pred[i] - mx) ** 2;
    syy += (pm[i] - my) ** 2;
  }
  const r2 = sxx > 0 && syy > 0 ? (sxy * sxy) / (sxx * syy) : NaN;
  return {
    n,
    mee_m2_per_g: mee,
    mee_sigma_m2_per_g: fit.slopeSigma,
    r2,
    rmse_ug_m3: Math.sqrt(se / n),
    bias_ug_m3: bias / n,
    n_downweighted: Array.from(fit.weights).filter((w) => w < 1).length,
  };
}

function describeNoPairs(d: CalibrationResult['diagnostics'], station: AqStation, o: Required<Pick<PairingOptions, 'radiusM' | 'maxAglM' | 'minBins' | 'maxElevationDeg'>>, firstLidar: string, lastLidar: string, aqSpan: string): string {
  if (d.profiles === 0) return 'no lidar profiles';
  if (d.nearHorizontal === 0) return `no near-horizontal profiles (elevation < ${o.maxElevationDeg} deg) at ${d.wavelengthNm} nm`;
  if (d.binsInRadius === 0) return `no bins within ${o.radiusM} m of ${station.id} (nearest bin ${Number.isFinite(d.nearestM) ? `${Math.round(d.nearestM)} m` : 'far'} away)`;
  if (d.binsBelowAgl === 0) return d.binsNoGround > 0 ? `no ground height for the bins near ${station.id} (outside the DEM and no station ground_m)` : `no bins within ${o.radiusM} m of ${station.id} lie below ${o.maxAglM} m above the ground`;
  if (d.binsValid === 0) return `${d.binsBelowAgl} bins near ${station.id}, none valid (QC: overlap, cloud, terrain, saturated or low SNR)`;
  if (d.hoursEnough === 0) return `no hour with >= ${o.minBins} valid bins near ${station.id} (${d.binsValid} bins in ${d.hoursWithBins} hours)`;
  if (d.overlappingHours === 0) return `no overlapping hours: lidar ${firstLidar}..${lastLidar}, station PM ${aqSpan}`;
  return `${d.hoursEnough} lidar hours with >= ${o.minBins} bins near ${station.id} (${firstLidar}..${lastLidar}), ${d.overlappingHours} of them with station PM10`;
}

/**
 * Fits MEE_PM10 (and MEE_PM2.5 when the station has it; gamma when asked) and returns the input
 * parameter set with them replaced. Throws LIDAR_ERR_BAD_VALUE (field 'paired hours') when fewer
 * than minHours hours pair, saying why.
 */
export function calibrate(profiles: readonly CalibrationProfile[], aq: AqSeries, station: AqStation, params: ResolvedParams, opts: CalibrationOptions = {}): CalibrationResult {
  const minHours = opts.minHours ?? 3;
  if (!Number.isInteger(minHours) || minHours < 2) throw new LidarError('LIDAR_ERR_USAGE', `invalid --min-hours: ${minHours} (an integer >= 2)`, { field: '--min-hours' });
  if (opts.fitGamma && !aq.hasRh) throw new LidarError('LIDAR_ERR_USAGE', `--fit-gamma needs an rh column in the station CSV`, { file: aq.file, field: 'rh' });
  const resolvedOpts = { radiusM: opts.radiusM ?? 500, maxAglM: opts.maxAglM ?? 150, minBins: opts.minBins ?? 20, maxElevationDeg: opts.maxElevationDeg ?? 15 };
  const notes: string[] = [];

  const byHour = new Map(aq.hours.map((h) => [h.timeMs, h]));
  const pairFor = (hours: LidarHour[]) => hours.map((h) => ({ h, a: byHour.get(h.timeMs) })).filter((x): x is { h: LidarHour; a: AqHour } => x.a !== undefined);

  // gamma first (it changes the dry extinction the MEE is fitted to).
  let gamma: GammaFit | null = null;
  let fitted = params;
  const { hours: lidarHours, diagnostics } = pairBins(profiles, station, params, opts);
  const pairs = pairFor(lidarHours);
  const p10 = pairs.filter((x) => Number.isFinite(x.a.pm10));
  const diag = { ...diagnostics, aqHours: aq.hours.length, overlappingHours: p10.length };
  if (p10.length < minHours) {
    const iso = (ms: number) => toIsoUtc(ms);
    const fl = lidarHours.length ? iso(lidarHours[0].timeMs) : '-';
    const ll = lidarHours.length ? iso(lidarHours[lidarHours.length - 1].timeMs) : '-';
    const span = aq.hours.length ? `${iso(aq.hours[0].timeMs)}..${iso(aq.hours[aq.hours.length - 1].timeMs)}` : '(no rows)';
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `only ${p10.length} paired hours (need >= ${minHours}): ${describeNoPairs(diag, station, resolvedOpts, fl, ll, span)}`, { file: aq.file, field: 'paired hours' });
  }

  if (opts.fitGamma) {
    const g = p10.filter((x) => Number.isFinite(x.a.rh) && x.a.pm10 > 0 && x.h.alphaWet550 > 0);
    if (g.length < minHours) throw new LidarError('LIDAR_ERR_BAD_VALUE', `only ${g.length} paired hours with rh and positive PM10 and extinction (need >= ${minHours}) for --fit-gamma`, { file: aq.file, field: 'rh' });
    const x = g.map((p) => Math.log(1 - Math.min(p.a.rh, RH_CAP)));
    const y = g.map((p) => Math.log((p.h.alphaWet550 * 1e6) / p.a.pm10));
    if (Math.max(...x) - Math.min(...x) < 1e-9) throw new LidarError('LIDAR_ERR_BAD_VALUE', `rh does not vary over the ${g.length} paired hours: gamma cannot be fitted`, { file: aq.file, field: 'rh' });
    const fit = robustLine(x, y);
    const value = -fit.slope;
    if (!(value >= 0 && value <= 2)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `fitted gamma ${round(value, 4)} +/- ${round(fit.slopeSigma, 2)} is outside the parameter range [0, 2]`, { file: aq.file, field: 'gamma' });
    const rhs = g.map((p) => p.a.rh);
    gamma = { n: g.length, gamma: value, gamma_sigma: fit.slopeSigma, mee_dry_m2_per_g: Math.exp(fit.intercept), rh_min: Math.min(...rhs), rh_max: Math.max(...rhs) };
    fitted = { ...params, pm: { ...params.pm, gamma: value } };
  }
  // Dry extinction with the (possibly new) gamma, at the station's hourly RH where the CSV has one,
  // else at the set's RH.
  const dryOf = (h: LidarHour, a: AqHour | undefined): number => h.alphaWet550 / humidityGrowth(a !== undefined && Number.isFinite(a.rh) ? a.rh : fitted.pm.rh, fitted.pm.gamma, 0);
  const pm10 = fitMee(p10.map((x) => dryOf(x.h, x.a)), p10.map((x) => x.a.pm10));
  let pm25: MeeFit | null = null;
  if (aq.hasPm25) {
    const p25 = pairs.filter((x) => Number.isFinite(x.a.pm25));
    if (p25.length >= minHours) pm25 = fitMee(p25.map((x) => dryOf(x.h, x.a)), p25.map((x) => x.a.pm25));
    else notes.push(`PM2.5 not fitted: ${p25.length} paired hours (need >= ${minHours}); mee_pm25 unchanged`);
  }
  const check = (fit: MeeFit, field: string) => {
    if (!(fit.mee_m2_per_g > 0 && fit.mee_m2_per_g <= 50)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `fitted ${field} ${round(fit.mee_m2_per_g, 4)} m2/g is outside the parameter range (0, 50]`, { file: aq.file, field });
  };
  check(pm10, 'pm.mee_pm10');
  if (pm25) check(pm25, 'pm.mee_pm25');
  // Round-trip through the contract form so the result is exactly what resolveParams accepts.
  const out = resolveParams(JSON.parse(canonicalParams({ ...fitted, pm: { ...fitted.pm, meePm10: pm10.mee_m2_per_g, meePm25: pm25 ? pm25.mee_m2_per_g : fitted.pm.meePm25 } })));

  const hours: HourPair[] = lidarHours.map((h) => {
    const a = byHour.get(h.timeMs);
    const dry = dryOf(h, a);
    const n = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v : null);
    return {
      time: toIsoUtc(h.timeMs),
      n_bins: h.nBins,
      n_profiles: h.nProfiles,
      alpha_dry550_per_m: round(dry),
      alpha_wet550_per_m: round(h.alphaWet550),
      pm10_station: n(a?.pm10),
      pm25_station: n(a?.pm25),
      rh_station: n(a?.rh),
      pm10_lidar: round((dry / out.pm.meePm10) * 1e6, 5),
      pm25_lidar: round((dry / out.pm.meePm25) * 1e6, 5),
    };
  });
  return { n_hours: p10.length, pm10, pm25, gamma, params: out, hours, diagnostics: diag, notes };
}

/** The contract output (docs/calibration.md) of a calibration. */
export function calibrationReport(r: CalibrationResult, station: AqStation, input: { paramsId: string; fittedAt: string; options: Record<string, unknown> }) {
  const mee = (f: MeeFit | null) =>
    f && { n: f.n, mee_m2_per_g: round(f.mee_m2_per_g), mee_sigma_m2_per_g: round(f.mee_sigma_m2_per_g, 3), r2: round(f.r2, 4), rmse_ug_m3: round(f.rmse_ug_m3, 4), bias_ug_m3: round(f.bias_ug_m3, 4), n_downweighted: f.n_downweighted };
  const d = r.diagnostics;
  return {
    station: { id: station.id, name: station.name, lat: station.lat, lon: station.lon, ground_m: station.groundM },
    n_hours: r.n_hours,
    pm10: mee(r.pm10)!,
    pm25: mee(r.pm25),
    gamma: r.gamma && { n: r.gamma.n, gamma: round(r.gamma.gamma, 4), gamma_sigma: round(r.gamma.gamma_sigma, 3), mee_dry_m2_per_g: round(r.gamma.mee_dry_m2_per_g, 4), rh_min: r.gamma.rh_min, rh_max: r.gamma.rh_max },
    params: JSON.parse(canonicalParams(r.params)) as unknown,
    params_id: paramsId(r.params),
    calibration: {
      fitted_at: input.fittedAt,
      method:
        'Huber M-estimation (c = 1.345, MAD scale) by IRLS through the origin, alpha_dry550 = MEE * PM (Huber 1964; Holland & Welsch 1977); gamma: Huber line ln(alpha_wet550/PM) = ln MEE - gamma ln(1 - RH)',
      stats: {
        input_params_id: input.paramsId,
        options: input.options,
        wavelength_nm: d.wavelengthNm,
        profiles: d.profiles,
        near_horizontal_profiles: d.nearHorizontal,
        bins_in_radius: d.binsInRadius,
        bins_below_agl: d.binsBelowAgl,
        bins_valid: d.binsValid,
        lidar_hours: d.hoursWithBins,
        lidar_hours_enough_bins: d.hoursEnough,
        aq_hours: d.aqHours,
        notes: r.notes,
        hours: r.hours,
      },
    },
  };
}

export type CalibrationReport = ReturnType<typeof calibrationReport>;
