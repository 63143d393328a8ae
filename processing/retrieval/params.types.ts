/**
 * The parameter set (contract JSON; ../shared/design/ARCHITECTURE.md "Parameter set"): every field
 * optional; `resolveParams` (params.ts) fills the defaults of RETRIEVAL.md and validates.
 */
export type LidarRatioSpec = number | Array<[number, number]>;
export type RangeWindow = [number, number];

export interface ParameterSetJson {
  /** null (as absent): by wavelength, `defaultLidarRatioSr`. */
  lidar_ratio_sr?: LidarRatioSpec | null;
  reference?: {
    /** null (as absent): chosen per profile. */
    mode?: 'rayleigh' | 'value' | 'calibration' | 'slope' | null;
    window_m?: RangeWindow | 'auto';
    scattering_ratio?: number;
    /** null (as absent): not given. */
    range_m?: number | null;
    beta_aer?: number;
    /** null (as absent): not given. */
    lidar_constant?: number | null;
  };
  molecular?: {
    lidar_ratio_sr?: number;
    atmosphere?: 'us1976' | 'met';
    cross_section?: 'bucholtz1995' | 'freudenthaler2015';
  };
  /** window_m null (as absent): the last 10% of the bins. */
  background?: { window_m?: RangeWindow | 'pretrigger' | 'none' | null };
  dead_time_ns?: number;
  /** Project extension: the photon-counting dead-time model (default non-paralysable). */
  dead_time_model?: 'nonparalysable' | 'paralysable';
  overlap?: { full_overlap_m: number } | { table: Array<[number, number]> };
  smoothing_m?: number;
  /**
   * Analog/photon-counting gluing (project extension of the contract): `scale` fixes PC = scale * AN
   * (MHz per mV, from an instrument calibration over long averages) instead of fitting it per
   * profile; `low_mhz`/`high_mhz` the photon-counting window of the fit and the switch.
   */
  glue?: { scale?: number | null; low_mhz?: number; high_mhz?: number };
  monte_carlo?: number;
  seed?: number;
  channel?: 'auto' | number;
  pm?: { mee_pm10?: number; mee_pm25?: number; gamma?: number; rh?: number; angstrom?: number };
}

/** A validated parameter set with every default filled in. */
export interface ResolvedParams {
  /**
   * Constant (number) or a table of [range_m, sr] interpolated linearly, constant beyond its ends;
   * null when the set does not give one: the default for the wavelength (defaultLidarRatioSr).
   */
  lidarRatioSr: LidarRatioSpec | null;
  reference: {
    /** null: chosen per profile (rayleigh for elevation >= 15 deg, calibration below). */
    mode: 'rayleigh' | 'value' | 'calibration' | 'slope' | null;
    windowM: RangeWindow | 'auto';
    scatteringRatio: number;
    /** NaN when not given. */
    rangeM: number;
    betaAer: number;
    /** NaN when not given. */
    lidarConstant: number;
  };
  molecular: { lidarRatioSr: number; atmosphere: 'us1976' | 'met'; crossSection: 'bucholtz1995' | 'freudenthaler2015' };
  /** null = default: last 10% of the bins. */
  background: RangeWindow | 'pretrigger' | 'none' | null;
  deadTimeNs: number;
  deadTimeModel: 'nonparalysable' | 'paralysable';
  overlap: { fullOverlapM: number } | { table: Array<[number, number]> };
  smoothingM: number;
  /** scale NaN: fitted per profile. */
  glue: { scale: number; lowMHz: number; highMHz: number };
  monteCarlo: number;
  seed: number;
  channel: 'auto' | number;
  pm: { meePm10: number; meePm25: number; gamma: number; rh: number; angstrom: number };
}
