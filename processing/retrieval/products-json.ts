/**
 * Products of one profile in the contract's JSON form (snake_case, NaN as null, SI units, PM in
 * ug/m3, heights m a.s.l.) and as CSV rows (one row per bin).
 */
import type { ProfileProducts } from './retrieve.js';

/** Array values keep 7 significant digits (float32-like precision; the retrieval is not better). */
function arr(a: ArrayLike<number>): Array<number | null> {
  const out = new Array<number | null>(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Number.isFinite(a[i]) ? Number(a[i].toPrecision(7)) : null;
  return out;
}

function num(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

export interface ProfileJson {
  file: string;
  station: string;
  time_start: string;
  time_end: string;
  channel: { index: number; analog_index: number | null; photon_index: number | null; wavelength_nm: number; polarization: string; kind: string };
  azimuth_deg: number;
  elevation_deg: number;
  shots: number;
  range_m: Array<number | null>;
  height_m: Array<number | null>;
  lat: Array<number | null>;
  lon: Array<number | null>;
  rcs: Array<number | null>;
  beta_aer: Array<number | null>;
  alpha_aer: Array<number | null>;
  pm10: Array<number | null>;
  pm25: Array<number | null>;
  beta_aer_sigma: Array<number | null>;
  alpha_aer_sigma: Array<number | null>;
  pm10_sigma: Array<number | null>;
  pm25_sigma: Array<number | null>;
  alpha_aer_sens_lidar_ratio: Array<number | null>;
  alpha_aer_sens_reference: Array<number | null>;
  qc: number[];
  pbl_height_m: number | null;
  pbl_quality: number | null;
  cloud_base_m: number | null;
  aod: number | null;
  snr: number | null;
  lidar_constant: number | null;
  reference: { mode: string; from_m: number | null; to_m: number | null; range_m: number | null; beta_aer: number | null };
  effective_resolution_m: number;
  params_id: string;
}

export function profileToJson(p: ProfileProducts): ProfileJson {
  return {
    file: p.file,
    station: p.station,
    time_start: p.timeStartUtc,
    time_end: p.timeEndUtc,
    channel: {
      index: p.channel.index,
      analog_index: p.channel.analogIndex >= 0 ? p.channel.analogIndex : null,
      photon_index: p.channel.photonIndex >= 0 ? p.channel.photonIndex : null,
      wavelength_nm: p.channel.wavelengthNm,
      polarization: p.channel.polarization,
      kind: p.channel.kind,
    },
    azimuth_deg: p.azimuthDeg,
    elevation_deg: p.elevationDeg,
    shots: p.shots,
    range_m: arr(p.rangeM),
    height_m: arr(p.heightM),
    lat: arr(p.lat),
    lon: arr(p.lon),
    rcs: arr(p.rcs),
    beta_aer: arr(p.betaAer),
    alpha_aer: arr(p.alphaAer),
    pm10: arr(p.pm10),
    pm25: arr(p.pm25),
    beta_aer_sigma: arr(p.betaAerSigma),
    alpha_aer_sigma: arr(p.alphaAerSigma),
    pm10_sigma: arr(p.pm10Sigma),
    pm25_sigma: arr(p.pm25Sigma),
    alpha_aer_sens_lidar_ratio: arr(p.alphaAerSensLidarRatio),
    alpha_aer_sens_reference: arr(p.alphaAerSensReference),
    qc: Array.from(p.qc),
    pbl_height_m: num(p.pblHeightM),
    pbl_quality: num(p.pblQuality),
    cloud_base_m: num(p.cloudBaseM),
    aod: num(p.aod),
    snr: num(p.snr),
    lidar_constant: num(p.lidarConstant),
    reference: { mode: p.reference.mode, from_m: num(p.reference.fromM), to_m: num(p.reference.toM), range_m: num(p.reference.rangeM), beta_aer: num(p.reference.betaAer) },
    effective_resolution_m: p.effectiveResolutionM,
    params_id: p.paramsId,
  };
}

export const CSV_HEADER =
  'file,time_start,time_end,wavelength_nm,azimuth_deg,elevation_deg,range_m,height_m,lat,lon,beta_aer,alpha_aer,pm10,pm25,beta_aer_sigma,alpha_aer_sigma,pm10_sigma,pm25_sigma,qc,pbl_height_m,cloud_base_m,aod,params_id';

/** CSV rows (no header) of one profile: one row per bin; empty fields for NaN; the file name quoted when needed. */
export function profileToCsvRows(p: ProfileProducts): string[] {
  const f = (v: number) => (Number.isFinite(v) ? String(Number(v.toPrecision(7))) : '');
  const file = /[",\n]/.test(p.file) ? `"${p.file.replace(/"/g, '""')}"` : p.file;
  const head = `${file},${p.timeStartUtc},${p.timeEndUtc},${p.channel.wavelengthNm},${f(p.azimuthDeg)},${f(p.elevationDeg)}`;
  const tail = `${f(p.pblHeightM)},${f(p.cloudBaseM)},${f(p.aod)},${p.paramsId}`;
  const rows: string[] = [];
  for (let i = 0; i < p.rangeM.length; i++) {
    rows.push(
      [head, f(p.rangeM[i]), f(p.heightM[i]), f(p.lat[i]), f(p.lon[i]), f(p.betaAer[i]), f(p.alphaAer[i]), f(p.pm10[i]), f(p.pm25[i]), f(p.betaAerSigma[i]), f(p.alphaAerSigma[i]), f(p.pm10Sigma[i]), f(p.pm25Sigma[i]), String(p.qc[i]), tail].join(','),
    );
  }
  return rows;
}
