/**
 * Licel raw integers -> physical values, in the Licel software's own convention
 * (LICEL.md section 7; Licel_TCPIP_Python `licel_data.py` normalizeData, scaleAnalogData,
 * scale_PhotonCounting, getSquareRootBinary, normalizeSquaredData):
 * - analog:           mV  = raw / shots * (inputRangeV * 1000) / 2^adcBits
 * - photon counting:  MHz = raw / shots * 150 / binWidthM   (count rate over the bin's 2*dr/c)
 * - squared datasets (S2A/S2P): `physicalValues` returns the stored integers unchanged (unit 'raw');
 *   `squaredDatasetStd` turns them into the per-shot sample standard deviation.
 * Missing normalisation (shots = 0, bin width <= 0) gives NaN, never Infinity.
 */
import { LidarError } from '../errors.js';
import { LicelDataType, type LicelDataset } from './types.js';

export type LicelPhysicalUnit = 'mV' | 'MHz' | 'raw';

/** Unit of `physicalValues(ds)`. */
export function physicalUnit(ds: LicelDataset): LicelPhysicalUnit {
  if (ds.dataType === LicelDataType.Analog) return 'mV';
  if (ds.dataType === LicelDataType.PhotonCounting) return 'MHz';
  return 'raw';
}

function output(out: Float64Array | undefined, n: number): Float64Array {
  if (out === undefined) return new Float64Array(n);
  if (out.length < n) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `output length ${out.length} < ${n} bins`, { field: 'out' });
  }
  return out;
}

/**
 * Per-bin physical values (unit: `physicalUnit(ds)`), written to `out` if given. `raw` (default the
 * dataset's own) lets a caller convert a modified copy — e.g. Monte Carlo realisations — with the
 * same arithmetic; `n` converts only the first n bins.
 */
export function physicalValues(ds: LicelDataset, out?: Float64Array, raw: ArrayLike<number> = ds.raw, n = raw.length): Float64Array {
  if (n > raw.length) throw new LidarError('LIDAR_ERR_BAD_VALUE', `bin count ${n} > ${raw.length} raw values`, { field: 'raw' });
  const result = output(out, n);
  const { shots } = ds;
  if (ds.dataType === LicelDataType.AnalogSquared || ds.dataType === LicelDataType.PhotonSquared) {
    for (let i = 0; i < n; i++) result[i] = raw[i];
    return result;
  }
  if (!(shots > 0)) return result.fill(NaN, 0, n);
  if (ds.dataType === LicelDataType.Analog) {
    // Division by 2^bits is exact, so folding it into one factor keeps Licel's rounding.
    const mvPerCount = (ds.inputRangeV * 1000) / 2 ** ds.adcBits;
    for (let i = 0; i < n; i++) result[i] = (raw[i] / shots) * mvPerCount;
    return result;
  }
  if (!(ds.binWidthM > 0)) return result.fill(NaN, 0, n);
  const binWidthM = ds.binWidthM;
  for (let i = 0; i < n; i++) result[i] = ((raw[i] / shots) * 150) / binWidthM;
  return result;
}

/**
 * Per-shot sample standard deviation from a squared dataset (S2A: mV, S2P: MHz, i.e. the unit of
 * the signal it describes). Licel stores sqrt(shots * sum(x^2) - sum(x)^2) per bin
 * (getSquareRootBinary); the sample standard deviation is that / sqrt(shots * (shots - 1))
 * (normalizeSquaredData), then scaled like the analog / photon-counting signal. The error of the
 * mean is this / sqrt(shots). Fewer than 2 shots gives NaN.
 */
export function squaredDatasetStd(ds: LicelDataset, out?: Float64Array): Float64Array {
  let scale: number;
  if (ds.dataType === LicelDataType.AnalogSquared) scale = (ds.inputRangeV * 1000) / 2 ** ds.adcBits;
  else if (ds.dataType === LicelDataType.PhotonSquared) scale = ds.binWidthM > 0 ? 150 / ds.binWidthM : NaN;
  else {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `dataset ${ds.deviceId} (data type ${ds.dataType}) is not a squared dataset`, {
      field: 'dataType',
    });
  }
  const result = output(out, ds.raw.length);
  const n = ds.raw.length;
  if (!(ds.shots >= 2)) return result.fill(NaN, 0, n);
  const divider = Math.sqrt(ds.shots * (ds.shots - 1));
  for (let i = 0; i < n; i++) result[i] = (ds.raw[i] / divider) * scale;
  return result;
}
