/**
 * Pressure and temperature versus height for the molecular atmosphere.
 *
 * Method: U.S. Standard Atmosphere 1976 (NOAA/NASA/USAF, NOAA-S/T 76-1562, 1976), lower atmosphere to
 * 86 km geometric: geometric height z is converted to geopotential H = r0 z / (r0 + z) (r0 = 6356766 m),
 * the temperature is piecewise linear in H over the seven layers (lapse rates -6.5, 0, +1.0, +2.8, 0,
 * -2.8, -2.0 K/km with bases 0, 11, 20, 32, 47, 51, 71 km), and the pressure is the exact hydrostatic
 * solution per layer (as in the standard's pressure equations):
 *   gradient layer   P = Pb (Tb / T)^(g0 M0 / (R* L)),   isothermal layer   P = Pb exp(-g0 M0 (H - Hb) / (R* Tb)).
 * Constants are the 1976 ones (g0 = 9.80665 m/s^2, M0 = 28.9644 g/mol, R* = 8.31432 J/(mol K)) so the
 * published tables are reproduced. Temperatures are the molecular-scale temperature (equal to the kinetic
 * temperature below 80 km, within 0.05% up to 86 km). Above 86 km (outside the lower-atmosphere model) the
 * profile continues isothermally at 186.946 K; below 0 m the first layer's lapse rate continues (the
 * 1976 tables start at -5 km with the same rule).
 *
 * Surface scaling (`surface` with P0 and/or T0 at a station height h0): the temperature offset
 * dT = T0 - T_std(h0) is applied in full at and below h0 and fades linearly in geopotential height to zero
 * at the standard tropopause (11 km; or 10 km above h0 if h0 is higher than 1 km); the pressure is then
 * re-integrated hydrostatically from P0 (or from P_std(h0) if only T0 is given) through that temperature
 * profile, with the same exact per-layer formulas (hypsometric equation, e.g. Wallace & Hobbs 2006,
 * Atmospheric Science, sect. 3.2). So P(h0) = P0 and T(h0) = T0 exactly and the profile stays in
 * hydrostatic balance; with T0 unchanged this reduces to scaling the standard pressure by P0 / P_std(h0).
 *
 * Soundings (`metAtmosphere`): linear interpolation of T and of ln P in geometric height between the
 * nodes (nodes reproduced exactly); above the top the same offset-fading standard shape, anchored at the
 * top node, is integrated hydrostatically; below the bottom node the standard tropospheric lapse rate
 * (-6.5 K/km) continues from the bottom node, again hydrostatically.
 */
import { LidarError } from '../errors.js';

export interface AtmosphereState {
  pressurePa: Float64Array;
  temperatureK: Float64Array;
}

export interface SurfaceMet {
  /** Height (m a.s.l., geometric) where the surface values hold. */
  heightM: number;
  pressurePa?: number;
  temperatureK?: number;
}

export interface MetProfile {
  /** Geometric height, m a.s.l., strictly increasing. */
  heightM: Float64Array;
  pressurePa: Float64Array;
  temperatureK: Float64Array;
}

/** Standard gravity, m/s^2 (US1976). */
const G0 = 9.80665;
/** Mean molar mass of sea-level air, kg/mol (US1976). */
const M0 = 0.0289644;
/** Universal gas constant as adopted by US1976, J/(mol K). */
const R_STAR = 8.31432;
/** Hydrostatic constant g0 M0 / R*, K/m. */
const GMR = (G0 * M0) / R_STAR;
/** Effective earth radius of the geopotential conversion, m (US1976). */
const R0_M = 6_356_766;
const SEA_LEVEL_PRESSURE_PA = 101_325;
const SEA_LEVEL_TEMPERATURE_K = 288.15;
/** Layer bases (geopotential m) and the lapse rate (K/m) that holds from each base to the next. */
const STD_BASE_H = [0, 11_000, 20_000, 32_000, 47_000, 51_000, 71_000, 84_852];
const STD_LAPSE = [-0.0065, 0, 0.001, 0.0028, 0, -0.0028, -0.002, 0];
const TROPOPAUSE_H = 11_000;
/** The surface / top offset fades to zero over at least this geopotential depth. */
const MIN_FADE_DEPTH_M = 10_000;
const TROPOSPHERE_LAPSE = STD_LAPSE[0];

/** A piecewise-linear temperature profile in geopotential height with base pressures. */
interface LayeredProfile {
  baseH: Float64Array;
  baseT: Float64Array;
  baseP: Float64Array;
  /** Lapse rate (K/m) from each base up to the next; the last layer extends upwards. */
  lapse: Float64Array;
  /** Lapse rate used below the lowest base. */
  lapseBelow: number;
}

export function geopotentialHeightM(geometricM: number): number {
  return (R0_M * geometricM) / (R0_M + geometricM);
}

/** T and P at geopotential H from a base (Hb, Tb, Pb) with lapse rate L: exact hydrostatic solution. */
function layerPressure(Hb: number, Tb: number, Pb: number, L: number, H: number, T: number): number {
  if (L === 0) return Pb * Math.exp((-GMR * (H - Hb)) / Tb);
  return T > 0 ? Pb * Math.pow(Tb / T, GMR / L) : NaN;
}

function buildProfile(nodesH: number[], nodesT: number[], anchorP: number, lapseBelow: number): LayeredProfile {
  const n = nodesH.length;
  const baseH = Float64Array.from(nodesH);
  const baseT = Float64Array.from(nodesT);
  const lapse = new Float64Array(n);
  const baseP = new Float64Array(n);
  baseP[0] = anchorP;
  for (let i = 0; i < n - 1; i++) {
    lapse[i] = (baseT[i + 1] - baseT[i]) / (baseH[i + 1] - baseH[i]);
    baseP[i + 1] = layerPressure(baseH[i], baseT[i], baseP[i], lapse[i], baseH[i + 1], baseT[i + 1]);
  }
  lapse[n - 1] = 0;
  return { baseH, baseT, baseP, lapse, lapseBelow };
}

function evaluate(p: LayeredProfile, H: number, outIndex: number, out: AtmosphereState): void {
  if (Number.isNaN(H)) {
    out.pressurePa[outIndex] = NaN;
    out.temperatureK[outIndex] = NaN;
    return;
  }
  const n = p.baseH.length;
  let i: number;
  let L: number;
  if (H < p.baseH[0]) {
    i = 0;
    L = p.lapseBelow;
  } else {
    i = n - 1;
    while (H < p.baseH[i]) i--;
    L = p.lapse[i];
  }
  const T = p.baseT[i] + L * (H - p.baseH[i]);
  out.temperatureK[outIndex] = T > 0 ? T : NaN;
  out.pressurePa[outIndex] = layerPressure(p.baseH[i], p.baseT[i], p.baseP[i], L, H, T);
}

const STANDARD: LayeredProfile = (() => {
  const t = [SEA_LEVEL_TEMPERATURE_K];
  for (let i = 1; i < STD_BASE_H.length; i++) t.push(t[i - 1] + STD_LAPSE[i - 1] * (STD_BASE_H[i] - STD_BASE_H[i - 1]));
  return buildProfile(STD_BASE_H, t, SEA_LEVEL_PRESSURE_PA, TROPOSPHERE_LAPSE);
})();

/** Standard T and P at one geometric height. */
function standardAt(geometricM: number): { T: number; P: number } {
  const tmp: AtmosphereState = { pressurePa: new Float64Array(1), temperatureK: new Float64Array(1) };
  evaluate(STANDARD, geopotentialHeightM(geometricM), 0, tmp);
  return { T: tmp.temperatureK[0], P: tmp.pressurePa[0] };
}

/**
 * The standard shape anchored at (anchor height, T, P): temperature offset fading to 0 at
 * max(tropopause, anchor + 10 km) in geopotential height, pressure hydrostatic from the anchor.
 */
function anchoredProfile(anchorGeometricM: number, anchorT: number, anchorP: number): LayeredProfile {
  const Ha = geopotentialHeightM(anchorGeometricM);
  const stdAnchor = standardAt(anchorGeometricM);
  const dT = anchorT - stdAnchor.T;
  const fadeEnd = Math.max(TROPOPAUSE_H, Ha + MIN_FADE_DEPTH_M);
  const heights = [Ha];
  for (const hb of STD_BASE_H) if (hb > Ha && hb < fadeEnd) heights.push(hb);
  heights.push(fadeEnd);
  for (const hb of STD_BASE_H) if (hb > fadeEnd) heights.push(hb);
  const tmp: AtmosphereState = { pressurePa: new Float64Array(1), temperatureK: new Float64Array(1) };
  const temps = heights.map((H) => {
    evaluate(STANDARD, H, 0, tmp);
    const w = H >= fadeEnd ? 0 : (fadeEnd - H) / (fadeEnd - Ha);
    return tmp.temperatureK[0] + dT * w;
  });
  temps[0] = anchorT; // exact at the anchor
  return buildProfile(heights, temps, anchorP, TROPOSPHERE_LAPSE);
}

function checkOut(out: AtmosphereState | undefined, n: number): AtmosphereState {
  if (out === undefined) return { pressurePa: new Float64Array(n), temperatureK: new Float64Array(n) };
  if (out.pressurePa.length !== n || out.temperatureK.length !== n) {
    throw new LidarError(
      'LIDAR_ERR_BAD_VALUE',
      `invalid output buffer length: ${out.pressurePa.length}/${out.temperatureK.length} (expected ${n})`,
      { field: 'out' },
    );
  }
  return out;
}

function checkSurface(surface: SurfaceMet): void {
  if (!(Number.isFinite(surface.heightM) && surface.heightM >= -5_000 && surface.heightM <= 10_000)) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid surface height: ${surface.heightM} m (expected -5000..10000)`, {
      field: 'surface.heightM',
    });
  }
  const p = surface.pressurePa;
  if (p !== undefined && !(p >= 10_000 && p <= 120_000)) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid surface pressure: ${p} Pa (expected 10000..120000 Pa)`, {
      field: 'surface.pressurePa',
    });
  }
  const t = surface.temperatureK;
  if (t !== undefined && !(t >= 150 && t <= 350)) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid surface temperature: ${t} K (expected 150..350 K)`, {
      field: 'surface.temperatureK',
    });
  }
}

/**
 * US Standard Atmosphere 1976 at geometric heights (m a.s.l.), optionally matched to surface P0/T0
 * (see the header for the scaling). NaN heights give NaN.
 */
export function us1976(heightsM: ArrayLike<number>, surface?: SurfaceMet, out?: AtmosphereState): AtmosphereState {
  const n = heightsM.length;
  const res = checkOut(out, n);
  let profile = STANDARD;
  if (surface !== undefined && (surface.pressurePa !== undefined || surface.temperatureK !== undefined)) {
    checkSurface(surface);
    const std = standardAt(surface.heightM);
    profile = anchoredProfile(surface.heightM, surface.temperatureK ?? std.T, surface.pressurePa ?? std.P);
  }
  for (let i = 0; i < n; i++) evaluate(profile, geopotentialHeightM(heightsM[i]), i, res);
  return res;
}

function checkMet(met: MetProfile): void {
  const n = met.heightM.length;
  if (n < 1 || met.pressurePa.length !== n || met.temperatureK.length !== n) {
    throw new LidarError(
      'LIDAR_ERR_BAD_VALUE',
      `invalid met profile: ${n} heights, ${met.pressurePa.length} pressures, ${met.temperatureK.length} temperatures`,
      { field: 'met' },
    );
  }
  for (let i = 0; i < n; i++) {
    const h = met.heightM[i];
    const p = met.pressurePa[i];
    const t = met.temperatureK[i];
    if (!Number.isFinite(h) || (i > 0 && !(h > met.heightM[i - 1]))) {
      throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid met height at node ${i}: ${h} m (must be finite and increasing)`, {
        field: 'met.heightM',
      });
    }
    if (!(p > 0 && p < Infinity) || (i > 0 && !(p < met.pressurePa[i - 1]))) {
      throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid met pressure at node ${i}: ${p} Pa (must be > 0 and decreasing)`, {
        field: 'met.pressurePa',
      });
    }
    if (!(t > 0 && t < Infinity)) {
      throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid met temperature at node ${i}: ${t} K`, { field: 'met.temperatureK' });
    }
  }
}

/**
 * Pressure and temperature from a sounding (heights m a.s.l.): linear in T and ln P between nodes,
 * the US1976 shape matched to the top node above it, hydrostatic -6.5 K/km extrapolation below it.
 */
export function metAtmosphere(met: MetProfile, heightsM: ArrayLike<number>, out?: AtmosphereState): AtmosphereState {
  checkMet(met);
  const n = heightsM.length;
  const res = checkOut(out, n);
  const m = met.heightM.length;
  const zs = met.heightM;
  const ps = met.pressurePa;
  const ts = met.temperatureK;
  const top = anchoredProfile(zs[m - 1], ts[m - 1], ps[m - 1]);
  const bottomH = geopotentialHeightM(zs[0]);
  let seg = 0; // segment search starts where the last one ended: O(1) for sorted heights
  for (let i = 0; i < n; i++) {
    const z = heightsM[i];
    if (Number.isNaN(z)) {
      res.pressurePa[i] = NaN;
      res.temperatureK[i] = NaN;
    } else if (z > zs[m - 1]) {
      evaluate(top, geopotentialHeightM(z), i, res);
    } else if (z === zs[m - 1]) {
      res.pressurePa[i] = ps[m - 1];
      res.temperatureK[i] = ts[m - 1];
    } else if (z < zs[0]) {
      const H = geopotentialHeightM(z);
      const T = ts[0] + TROPOSPHERE_LAPSE * (H - bottomH);
      res.temperatureK[i] = T;
      res.pressurePa[i] = layerPressure(bottomH, ts[0], ps[0], TROPOSPHERE_LAPSE, H, T);
    } else {
      if (seg > m - 2 || z < zs[seg]) seg = 0;
      while (z >= zs[seg + 1]) seg++;
      const f = (z - zs[seg]) / (zs[seg + 1] - zs[seg]);
      res.temperatureK[i] = ts[seg] + f * (ts[seg + 1] - ts[seg]);
      res.pressurePa[i] = ps[seg] * Math.exp(f * Math.log(ps[seg + 1] / ps[seg]));
    }
  }
  return res;
}

const MET_COLUMNS = ['height_m', 'pressure_hpa', 'temperature_k'] as const;

/**
 * Parse the contract sounding CSV: header `height_m,pressure_hpa,temperature_k` (any column order,
 * extra columns ignored), heights m a.s.l. strictly increasing, pressure hPa (returned in Pa),
 * temperature K. Blank lines and lines starting with '#' are skipped.
 */
export function parseMetCsv(text: string, file?: string): MetProfile {
  const where = (field?: string) => (file === undefined ? { field } : { file, field });
  const lines = text.split(/\r?\n/);
  let columns: number[] | undefined;
  let headerCount = 0;
  const h: number[] = [];
  const p: number[] = [];
  const t: number[] = [];
  for (let li = 0; li < lines.length; li++) {
    const line = lines[li].trim();
    if (line === '' || line.startsWith('#')) continue;
    const cells = line.split(',').map((c) => c.trim());
    if (columns === undefined) {
      const names = cells.map((c) => c.toLowerCase());
      columns = MET_COLUMNS.map((name) => {
        const idx = names.indexOf(name);
        if (idx < 0) {
          throw new LidarError('LIDAR_ERR_BAD_VALUE', `line ${li + 1}: missing column ${name} in header "${line}"`, where(name));
        }
        return idx;
      });
      headerCount = cells.length;
      continue;
    }
    if (cells.length < headerCount) {
      throw new LidarError('LIDAR_ERR_BAD_VALUE', `line ${li + 1}: ${cells.length} fields, expected ${headerCount}`, where());
    }
    const values = columns.map((idx, k) => {
      const cell = cells[idx];
      const v = cell === '' ? NaN : Number(cell);
      if (!Number.isFinite(v)) {
        throw new LidarError('LIDAR_ERR_BAD_VALUE', `line ${li + 1}: invalid number: "${cell}"`, where(MET_COLUMNS[k]));
      }
      return v;
    });
    const [height, pHpa, tK] = values;
    if (h.length > 0 && !(height > h[h.length - 1])) {
      throw new LidarError(
        'LIDAR_ERR_BAD_VALUE',
        `line ${li + 1}: height ${height} m is not above the previous ${h[h.length - 1]} m (heights must increase)`,
        where('height_m'),
      );
    }
    if (!(pHpa > 0) || (p.length > 0 && !(pHpa * 100 < p[p.length - 1]))) {
      throw new LidarError('LIDAR_ERR_BAD_VALUE', `line ${li + 1}: invalid pressure: ${pHpa} hPa (must be > 0 and decrease with height)`, where('pressure_hpa'));
    }
    if (!(tK > 0)) {
      throw new LidarError('LIDAR_ERR_BAD_VALUE', `line ${li + 1}: invalid temperature: ${tK} K`, where('temperature_k'));
    }
    h.push(height);
    p.push(pHpa * 100);
    t.push(tK);
  }
  if (columns === undefined) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `no header line (expected ${MET_COLUMNS.join(',')})`, where());
  }
  if (h.length === 0) throw new LidarError('LIDAR_ERR_BAD_VALUE', 'no data rows after the header', where());
  return { heightM: Float64Array.from(h), pressurePa: Float64Array.from(p), temperatureK: Float64Array.from(t) };
}
