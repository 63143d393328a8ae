/**
 * The Licel raw-data model shared by the decoder, the encoder, the simulator and the retrieval.
 * Field meanings: ../shared/design/LICEL.md (sections 2-7). Datasets are keyed by their position
 * in the file: names and device IDs are not unique in real files.
 */

/** Dataset data type (descriptor field 2). */
export const LicelDataType = {
  Analog: 0,
  PhotonCounting: 1,
  /** Sum of squares of an analog dataset (device ID S2A...). */
  AnalogSquared: 2,
  /** Sum of squares of a photon-counting dataset (device ID S2P...). */
  PhotonSquared: 3,
} as const;
export type LicelDataType = (typeof LicelDataType)[keyof typeof LicelDataType];

/**
 * Header layout written/read:
 * - `classic`: line 2 ends at the zenith angle (2-digit zenith, 4+1-decimal lon/lat), line 3 has 5 tokens.
 * - `licel2022`: newest Licel spec: 11-char lon/lat (6 decimals), zenith and azimuth with one decimal,
 *   optional quoted custom text; line 3 with laser 3, reserved fields and optional controller timestamp.
 * - `raymetrics`: classic plus `azimuth T0 P0` on line 2 and optionally the Raymetrics scan line.
 */
export type LicelHeaderFormat = 'classic' | 'licel2022' | 'raymetrics';

/** The Raymetrics scanning line (only in Raymetrics scanning files). Angles in Raymetrics convention. */
export interface RaymetricsScanLine {
  azimuthStartDeg: number;
  azimuthStopDeg: number;
  azimuthStepDeg: number;
  zenithStartDeg: number;
  zenithStopDeg: number;
  zenithStepDeg: number;
  azimuthOffsetDeg: number;
}

export interface LicelHeader {
  format: LicelHeaderFormat;
  /** Line 1 verbatim (trimmed): the file name as written by the acquisition software. */
  fileName: string;
  /** Site name (may contain spaces). */
  site: string;
  /**
   * Start and stop times as written, in the acquisition PC's clock, with no time zone:
   * ISO-like 'YYYY-MM-DDTHH:MM:SS'. The zone is a station setting.
   */
  startLocal: string;
  stopLocal: string;
  altitudeM: number;
  longitudeDeg: number;
  latitudeDeg: number;
  /** The header's zenith field as written; its meaning depends on the station's zenith convention. */
  zenithRaw: number;
  /** Azimuth (licel2022 field 10, or the Raymetrics extra); NaN where the header has none. */
  azimuthDeg: number;
  /** licel2022 optional quoted custom text (without quotes); '' if none. */
  customText: string;
  /** Raymetrics line-2 extras: surface temperature (deg C) and pressure (hPa); NaN where absent. */
  temperatureC: number;
  pressureHpa: number;
  /** Raymetrics scan line, or null. */
  scan: RaymetricsScanLine | null;
  /** Line 3: shots and repetition rates (Hz) of lasers 1-3 (laser 3 NaN/0 in classic files). */
  laser1Shots: number;
  laser1RateHz: number;
  laser2Shots: number;
  laser2RateHz: number;
  laser3Shots: number;
  laser3RateHz: number;
  /** licel2022 line-3 controller timestamp (ms), NaN if absent. */
  controllerTimestampMs: number;
  /** Unknown trailing tokens of line 2 and line 3, kept so a re-encode reproduces them. */
  extraLine2Tokens: string[];
  extraLine3Tokens: string[];
}

export interface LicelDataset {
  active: boolean;
  dataType: LicelDataType;
  /** Laser source (1, 2, 3). */
  laser: number;
  /** Number of bins of this dataset's block (may differ between datasets). */
  bins: number;
  /** Descriptor field 5 (legacy '1', or a polarisation code from Licel's Python writer), as written. */
  field5: string;
  pmtVoltageV: number;
  binWidthM: number;
  /** Wavelength in nm (0 if unset). */
  wavelengthNm: number;
  /** Polarisation letter: 'o' none, 'p' parallel, 's' perpendicular, 'r'/'l' circular (as written). */
  polarization: string;
  /** Header bin shift: whole bins (field 11) and thousandths of a bin (field 12). */
  binShiftWhole: number;
  binShiftThousandths: number;
  /** ADC bits (analog); 0 for photon counting. */
  adcBits: number;
  /** Number of laser shots summed in this dataset. */
  shots: number;
  /** Analog: input range in volts. Photon counting: discriminator level (informational). */
  inputRangeV: number;
  /** Device ID, e.g. BT0, BC0, S2A1. */
  deviceId: string;
  /** Raw accumulated integers (unsigned 32-bit little-endian in the file). */
  raw: Uint32Array;
}

export interface LicelFile {
  header: LicelHeader;
  datasets: LicelDataset[];
}
