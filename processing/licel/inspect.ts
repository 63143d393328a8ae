/**
 * The `lidar-pm licel inspect` summary of one decoded file (contract: ARCHITECTURE.md "Command
 * line"): header summary and per-dataset statistics of the raw integers, snake_case keys,
 * NaN written as null. Raw sums are exact: at most 2^20 bins of < 2^32 each stay below 2^53.
 */
import { physicalUnit, type LicelPhysicalUnit } from './physical.js';
import { LicelDataType, type LicelDataset, type LicelFile, type LicelHeaderFormat } from './types.js';

export type LicelDatasetKind = 'analog' | 'photon' | 'analog_squared' | 'photon_squared';

export interface LicelDatasetSummary {
  /** Position in the file (0-based): the dataset's key. */
  index: number;
  id: string;
  type: LicelDatasetKind;
  active: boolean;
  laser: number;
  wavelength_nm: number;
  polarization: string;
  bins: number;
  bin_width_m: number;
  shots: number;
  adc_bits: number;
  input_range_v: number;
  pmt_voltage_v: number;
  /** Header bin shift in bins (whole + thousandths / 1000). */
  bin_shift: number;
  unit: LicelPhysicalUnit;
  raw_first: number;
  raw_last: number;
  raw_sum: number;
  raw_min: number;
  raw_max: number;
}

export interface LicelFileSummary {
  file: string;
  file_name_in_header: string;
  format: LicelHeaderFormat;
  site: string;
  start_local: string;
  stop_local: string;
  altitude_m: number;
  lat: number;
  lon: number;
  zenith_raw: number;
  azimuth_deg: number | null;
  temperature_c: number | null;
  pressure_hpa: number | null;
  custom_text: string;
  scan: {
    azimuth_start_deg: number; azimuth_stop_deg: number; azimuth_step_deg: number;
    zenith_start_deg: number; zenith_stop_deg: number; zenith_step_deg: number; azimuth_offset_deg: number;
  } | null;
  lasers: Array<{ laser: number; shots: number; rate_hz: number }>;
  controller_timestamp_ms: number | null;
  datasets: LicelDatasetSummary[];
}

const KINDS: Record<number, LicelDatasetKind> = {
  [LicelDataType.Analog]: 'analog',
  [LicelDataType.PhotonCounting]: 'photon',
  [LicelDataType.AnalogSquared]: 'analog_squared',
  [LicelDataType.PhotonSquared]: 'photon_squared',
};

const orNull = (v: number): number | null => (Number.isNaN(v) ? null : v);

function summarizeDataset(ds: LicelDataset, index: number): LicelDatasetSummary {
  const { raw } = ds;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i];
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return {
    index,
    id: ds.deviceId,
    type: KINDS[ds.dataType],
    active: ds.active,
    laser: ds.laser,
    wavelength_nm: ds.wavelengthNm,
    polarization: ds.polarization,
    bins: ds.bins,
    bin_width_m: ds.binWidthM,
    shots: ds.shots,
    adc_bits: ds.adcBits,
    input_range_v: ds.inputRangeV,
    pmt_voltage_v: ds.pmtVoltageV,
    bin_shift: ds.binShiftWhole + ds.binShiftThousandths / 1000,
    unit: physicalUnit(ds),
    raw_first: raw[0],
    raw_last: raw[raw.length - 1],
    raw_sum: sum,
    raw_min: min,
    raw_max: max,
  };
}

/** Summary of one decoded file; `fileName` is how the caller names it (e.g. the path given). */
export function inspectLicel(file: LicelFile, fileName: string): LicelFileSummary {
  const h = file.header;
  const lasers = [
    { laser: 1, shots: h.laser1Shots, rate_hz: h.laser1RateHz },
    { laser: 2, shots: h.laser2Shots, rate_hz: h.laser2RateHz },
  ];
  if (!Number.isNaN(h.laser3Shots)) lasers.push({ laser: 3, shots: h.laser3Shots, rate_hz: h.laser3RateHz });
  const s = h.scan;
  return {
    file: fileName,
    file_name_in_header: h.fileName,
    format: h.format,
    site: h.site,
    start_local: h.startLocal,
    stop_local: h.stopLocal,
    altitude_m: h.altitudeM,
    lat: h.latitudeDeg,
    lon: h.longitudeDeg,
    zenith_raw: h.zenithRaw,
    azimuth_deg: orNull(h.azimuthDeg),
    temperature_c: orNull(h.temperatureC),
    pressure_hpa: orNull(h.pressureHpa),
    custom_text: h.customText,
    scan:
      s === null
        ? null
        : {
            azimuth_start_deg: s.azimuthStartDeg, azimuth_stop_deg: s.azimuthStopDeg, azimuth_step_deg: s.azimuthStepDeg,
            zenith_start_deg: s.zenithStartDeg, zenith_stop_deg: s.zenithStopDeg, zenith_step_deg: s.zenithStepDeg,
            azimuth_offset_deg: s.azimuthOffsetDeg,
          },
    lasers,
    controller_timestamp_ms: orNull(h.controllerTimestampMs),
    datasets: file.datasets.map(summarizeDataset),
  };
}
