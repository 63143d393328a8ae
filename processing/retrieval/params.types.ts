/**
 * The parameter set (contract JSON; ../shared/design/ARCHITECTURE.md "Parameter set"): every field
 * optional; `resolveParams` (params.ts) fills the defaults of RETRIEVAL.md and validates.
 */
export type LidarRatioSpec = number | Array<[number, number]>;
export type RangeWindow = [number, number];

export interface ParameterSetJson {
  lidar_ratio_sr?: LidarRatioSpec;
  reference?: {
    mode?: 'rayleigh' | 'value' | 'calibration' | 'slope';
    window_m?: RangeWindow | 'auto';
    scattering_ratio?: number;
    range_m?: number;
    beta_aer?: number;
    lidar_constant?: number;
  };
  molecular?: {
    lidar_ratio_sr?: number;
    atmosphere?: 'us1976' | 'met';
    cross_section?: 'bucholtz1995' | 'freudenthaler2015';
  };
  background?: { window_m?: RangeWindow | 'pretrigger' | 'none' };
  dead_time_ns?: number;
  overlap?: { full_overlap_m: number } | { table: Array<[number, number]> };
  smoothing_m?: number;
  monte_carlo?: number;
  seed?: number;
  channel?: 'auto' | number;
  pm?: { mee_pm10?: number; mee_pm25?: number; gamma?: number; rh?: number; angstrom?: number };
}

/** A validated parameter set with every default filled in. */
export interface ResolvedParams {
  /** Constant (number) or a table of [range_m, sr] interpolated linearly, constant beyond its ends. */
  lidarRatioSr: LidarRatioSpec;
  reference: {
    /** null: chosen per profile (rayleigh for elevation >= 15 deg, calibration below). */
    mode: 'rayleigh' | 'value' | 'calibration' | 'slope' | null;
    windowM: RangeWindow | 'auto';
    scatteringRatio: number;
    rangeM: number;
    betaAer: number;
    /** NaN when not given. */
    lidarConstant: number;
  };
  molecular: { lidarRatioSr: number; atmosphere: 'us1976' | 'met'; crossSection: 'bucholtz1995' | 'freudenthaler2015' };
  /** null = default: last 10% of the bins. */
  background: RangeWindow | 'pretrigger' | 'none' | null;
  deadTimeNs: number;
  overlap: { fullOverlapM: number } | { table: Array<[number, number]> };
  smoothingM: number;
  monteCarlo: number;
  seed: number;
  channel: 'auto' | number;
  pm: { meePm10: number; meePm25: number; gamma: number; rh: number; angstrom: number };
}
