/**
 * A 3-D, time-dependent aerosol field over a city basin: surface PM10 from an urban background,
 * hot spots (dense districts) and line sources (main roads) scaled by a diurnal factor and reduced up
 * the mountain slope; a mixed layer capped at an altitude (a.s.l.) with an entrainment zone (erfc
 * transition); a free troposphere decaying with height and aerosol-free above a given altitude; an
 * optional lofted layer; an optional water cloud. Optical properties follow the retrieval's own
 * PM model run backwards (../../docs/simulator.md):
 *   alpha_aer(lambda) = PM10 * 1e-6 * MEE_PM10 * f(RH) * (lambda / 550 nm)^-AE,  f(RH) = (1 - RH)^-gamma
 * (f(RH) is the retrieval's own `humidityGrowth`, so the two stay one model)
 *   beta_aer = alpha_aer / S_aer(lambda);  PM2.5 = PM10 * MEE_PM10 / MEE_PM2.5
 */
import { LidarError } from '../errors.js';
import { interpolateTable } from '../retrieval/preprocess.js';
import { humidityGrowth } from '../retrieval/pm.js';

export interface HotSpot {
  latDeg: number;
  lonDeg: number;
  /** Gaussian e-folding radius (m). */
  radiusM: number;
  /** Surface PM10 added at the centre (ug/m3) before the diurnal factor. */
  pm10: number;
  label?: string;
}

export interface LineSource {
  /** Polyline vertices [lat, lon]. */
  path: Array<[number, number]>;
  /** Gaussian e-folding half width across the road (m). */
  halfWidthM: number;
  pm10: number;
  label?: string;
}

export interface AerosolOptics {
  /** Aerosol lidar ratio (sr) per wavelength (nm). */
  lidarRatioSr: Record<string, number>;
  angstrom: number;
  meePm10: number;
  meePm25: number;
  gamma: number;
  /** Relative humidity as a fraction (0-1). */
  rh: number;
}

export interface CloudLayer {
  baseAslM: number;
  thicknessM: number;
  /** Mean extinction in the cloud (1/m); rises linearly from 0.5x at base to 1.5x at top. */
  extinctionPerM: number;
  lidarRatioSr: number;
}

export interface AerosolFieldSpec {
  /** Field origin (usually the lidar) for the local plane used by line sources. */
  originLatDeg: number;
  originLonDeg: number;
  /** Urban background surface PM10 (ug/m3). */
  backgroundPm10: number;
  hotSpots: HotSpot[];
  roads: LineSource[];
  /** Diurnal multiplier of the urban surface PM (background + sources): [local hour, factor], linear. */
  diurnal: Array<[number, number]>;
  /** Surface PM is multiplied by exp(-max(0, terrain - basinFloorM) / slopeScaleM). */
  basinFloorM: number;
  slopeScaleM: number;
  /** Mixing-layer top (m a.s.l.) vs local hour: [hour, m], linear. */
  mixingTopAsl: Array<[number, number]>;
  /** Spatial undulation of the top: amplitude (m) and wavelength (m) along x and y. */
  mixingTopWaveM: number;
  mixingTopWavelengthM: number;
  /** Full width of the entrainment zone (m): the erfc transition spans about this depth. */
  entrainmentThicknessM: number;
  /** Within the mixed layer PM decreases as exp(-z_agl / mixedLayerDecayM) (Infinity: well mixed). */
  mixedLayerDecayM: number;
  /** Free troposphere: PM10 just above the top, decaying with scale height, zero above topAslM. */
  freeTroposphere: { pm10: number; scaleHeightM: number; topAslM: number };
  loftedLayer?: { baseAslM: number; topAslM: number; pm10: number; edgeM: number };
  cloud?: CloudLayer;
  optics: AerosolOptics;
}

const M_PER_DEG_LAT = 111_320;

/** Linear interpolation in an [x, y] table, clamped at its ends (the retrieval's table interpolation). */
function clampedTable(table: Array<[number, number]>, x: number): number {
  if (table.length === 0) throw new LidarError('LIDAR_ERR_BAD_VALUE', 'empty interpolation table');
  return interpolateTable(table, x, table[table.length - 1][1]);
}

/** Local plane coordinates (x east, y north, m) relative to the field origin. */
function localXY(field: AerosolFieldSpec, latDeg: number, lonDeg: number): [number, number] {
  const y = (latDeg - field.originLatDeg) * M_PER_DEG_LAT;
  const x = (lonDeg - field.originLonDeg) * M_PER_DEG_LAT * Math.cos((field.originLatDeg * Math.PI) / 180);
  return [x, y];
}

function distanceToSegment(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const t = len2 > 0 ? Math.min(1, Math.max(0, ((px - ax) * dx + (py - ay) * dy) / len2)) : 0;
  return Math.hypot(px - ax - t * dx, py - ay - t * dy);
}

/** Urban surface PM10 (ug/m3) at a place and local hour, before the slope reduction. */
export function surfacePm10(field: AerosolFieldSpec, latDeg: number, lonDeg: number, hourLocal: number): number {
  const [x, y] = localXY(field, latDeg, lonDeg);
  let pm = field.backgroundPm10;
  for (const s of field.hotSpots) {
    const [sx, sy] = localXY(field, s.latDeg, s.lonDeg);
    const d2 = (x - sx) ** 2 + (y - sy) ** 2;
    pm += s.pm10 * Math.exp(-d2 / (s.radiusM * s.radiusM));
  }
  for (const road of field.roads) {
    let d = Infinity;
    for (let k = 1; k < road.path.length; k++) {
      const [ax, ay] = localXY(field, road.path[k - 1][0], road.path[k - 1][1]);
      const [bx, by] = localXY(field, road.path[k][0], road.path[k][1]);
      d = Math.min(d, distanceToSegment(x, y, ax, ay, bx, by));
    }
    pm += road.pm10 * Math.exp(-(d * d) / (road.halfWidthM * road.halfWidthM));
  }
  return pm * clampedTable(field.diurnal, hourLocal);
}

/** Mixing-layer top (m a.s.l.) at a place and local hour: the true PBL height there. */
export function mixingTopAslM(field: AerosolFieldSpec, latDeg: number, lonDeg: number, hourLocal: number): number {
  const [x, y] = localXY(field, latDeg, lonDeg);
  const k = (2 * Math.PI) / field.mixingTopWavelengthM;
  return clampedTable(field.mixingTopAsl, hourLocal) + field.mixingTopWaveM * Math.sin(k * x) * Math.cos(k * y);
}

/** Complementary error function (Numerical Recipes erfcc, Chebyshev fit, |relative error| < 1.2e-7). */
export function erfc(x: number): number {
  // Beyond 10 the value (< 2e-45) is zero for any aerosol amount; exact zeros keep clean air clean.
  if (x > 10) return 0;
  if (x < -10) return 2;
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/**
 * PM10 (ug/m3) at a point. `terrainM` is the ground height below the point (NaN: use the basin floor).
 * `topAslM` is mixingTopAslM(...) at that place and hour (passed in so callers evaluate it once).
 */
export function pm10At(field: AerosolFieldSpec, latDeg: number, lonDeg: number, heightAslM: number, terrainM: number, hourLocal: number, topAslM: number): number {
  const ground = Number.isFinite(terrainM) ? terrainM : field.basinFloorM;
  const slope = Math.exp(-Math.max(0, ground - field.basinFloorM) / field.slopeScaleM);
  const surface = surfacePm10(field, latDeg, lonDeg, hourLocal) * slope;
  const zAgl = Math.max(0, heightAslM - ground);
  const mixed = surface * (Number.isFinite(field.mixedLayerDecayM) ? Math.exp(-zAgl / field.mixedLayerDecayM) : 1);
  const ft = field.freeTroposphere;
  let pm = 0;
  // Above the free troposphere's top the air is aerosol-free (only a lofted layer, if placed there).
  if (heightAslM < ft.topAslM) {
    const free = ft.pm10 * Math.exp(-Math.max(0, heightAslM - topAslM) / ft.scaleHeightM);
    // erfc transition: the mixed-layer share falls from 1 to 0 across the entrainment zone centred on the top.
    const sigma = field.entrainmentThicknessM / 4;
    const share = 0.5 * erfc((heightAslM - topAslM) / (Math.SQRT2 * sigma));
    pm = free + Math.max(0, mixed - free) * share;
  }
  const lofted = field.loftedLayer;
  if (lofted) {
    const rise = 0.5 * erfc((lofted.baseAslM - heightAslM) / (Math.SQRT2 * lofted.edgeM));
    const fall = 0.5 * erfc((heightAslM - lofted.topAslM) / (Math.SQRT2 * lofted.edgeM));
    pm += lofted.pm10 * rise * fall;
  }
  return pm;
}

/** Aerosol extinction (1/m) at a wavelength per ug/m3 of PM10: MEE * 1e-6 * f(RH) * (lambda/550)^-AE. */
export function extinctionPerPm10(optics: AerosolOptics, wavelengthNm: number): number {
  return optics.meePm10 * 1e-6 * humidityGrowth(optics.rh, optics.gamma) * Math.pow(wavelengthNm / 550, -optics.angstrom);
}

export function lidarRatioFor(optics: AerosolOptics, wavelengthNm: number): number {
  const s = optics.lidarRatioSr[String(wavelengthNm)];
  if (!(s > 0)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `no aerosol lidar ratio for ${wavelengthNm} nm`, { field: 'optics.lidarRatioSr' });
  return s;
}

/** Cloud extinction (1/m) at a height: linear rise from 0.5x to 1.5x the mean across the layer. */
export function cloudExtinctionAt(cloud: CloudLayer | undefined, heightAslM: number): number {
  if (!cloud) return 0;
  const f = (heightAslM - cloud.baseAslM) / cloud.thicknessM;
  if (f < 0 || f > 1) return 0;
  return cloud.extinctionPerM * (0.5 + f);
}
