/**
 * The instrument half of the forward model: what a Licel transient recorder writes for a given
 * optical signal. Photon counting: non-paralysable dead time, then Poisson counts accumulated over
 * the shots. Analog: a DC baseline plus the signal, per-shot Gaussian noise (electronic + a
 * signal-proportional term), quantisation by the ADC, clipping at the input range.
 * Units follow the Licel convention (../../docs/licel.md): photon counting in MHz, analog in mV,
 * counts per bin per shot = MHz * binWidthM / 150.
 */
import { LidarError } from '../errors.js';
import type { Rng } from '../random.js';

export type ChannelKind = 'analog' | 'photon';

export interface SimChannel {
  wavelengthNm: number;
  kind: ChannelKind;
  deviceId: string;
  laser: number;
  pmtVoltageV: number;
  polarization: string;
  /**
   * Lidar constant C in X = C * (beta_aer + beta_mol) * T^2 with X the background-subtracted,
   * range-corrected, dead-time-corrected signal: photon counting MHz m^3 sr, analog mV m^3 sr.
   */
  lidarConstant: number;
  /** Sky background: photon counting MHz, analog mV. */
  skyBackground: number;
  /** Analog DC baseline (mV); 0 for photon counting. */
  analogOffsetMv: number;
  /** Analog per-shot electronic noise, standard deviation (mV). */
  analogNoiseMv: number;
  /** Analog signal-dependent noise: variance per shot += analogShotNoiseMv * V (mV^2). */
  analogShotNoiseMv: number;
  adcBits: number;
  /** Analog: input range (V). Photon counting: discriminator level (informational). */
  inputRangeV: number;
  /** Photon counting dead time (ns, non-paralysable); 0 for analog. */
  deadTimeNs: number;
  /** Analog delay against photon counting in bins (written as the header bin shift). */
  analogDelayBins: number;
  /** Lambertian reflectance of the ground where the beam hits terrain (hard target). */
  groundReflectance: number;
}

export interface Instrument {
  bins: number;
  binWidthM: number;
  /** Index of the bin at which the laser fires (bins before it are pre-trigger: background only). */
  zeroBin: number;
  repetitionRateHz: number;
  /** Geometric overlap O(r) = 1 - exp(-(r / overlapR0M)^2). */
  overlapR0M: number;
  channels: SimChannel[];
}

/** Overlap function of the simulated telescope: O(r) = 1 - exp(-(r/r0)^2) (0 at r <= 0). */
export function overlapAt(rangeM: number, r0M: number): number {
  if (!(rangeM > 0)) return 0;
  const x = rangeM / r0M;
  return 1 - Math.exp(-x * x);
}

/** Range beyond which O(r) >= level (inverse of overlapAt). */
export function fullOverlapRangeM(r0M: number, level = 0.99): number {
  return r0M * Math.sqrt(-Math.log(1 - level));
}

/**
 * Expected photon-counting rate after dead time (MHz) for a true rate (MHz):
 * non-paralysable detector, S_meas = S / (1 + S tau).
 */
export function deadTimeMeasuredRateMHz(trueRateMHz: number, deadTimeNs: number): number {
  return trueRateMHz / (1 + trueRateMHz * deadTimeNs * 1e-3);
}

/**
 * Digitises one channel: `signal` is the optical signal at the detector in the channel's physical
 * units (MHz or mV, without background), already on the recorder's bin grid. Returns the raw
 * accumulated integers for `shots` shots, and writes the expected (noise-free) physical values the
 * recorder would report into `expected` when given.
 */
export function digitize(
  channel: SimChannel,
  signal: Float64Array,
  shots: number,
  binWidthM: number,
  rng: Rng | null,
  expected?: Float64Array,
): Uint32Array {
  if (!(shots > 0) || !Number.isInteger(shots)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid shot count: ${shots}`, { field: 'shots' });
  const n = signal.length;
  const raw = new Uint32Array(n);
  if (channel.kind === 'photon') {
    const countsPerMHz = (binWidthM / 150) * shots;
    for (let i = 0; i < n; i++) {
      const measured = deadTimeMeasuredRateMHz(signal[i] + channel.skyBackground, channel.deadTimeNs);
      const mean = measured * countsPerMHz;
      if (expected) expected[i] = measured;
      raw[i] = rng ? rng.poisson(mean) : Math.round(mean);
    }
    return raw;
  }
  const fullScale = 2 ** channel.adcBits;
  const lsbMv = (channel.inputRangeV * 1000) / fullScale;
  const maxSum = shots * (fullScale - 1);
  for (let i = 0; i < n; i++) {
    const volts = signal[i] + channel.skyBackground + channel.analogOffsetMv;
    const meanCode = Math.min(volts / lsbMv, fullScale - 1);
    if (expected) expected[i] = meanCode * lsbMv;
    let sum = shots * meanCode;
    if (rng) {
      const varianceMv2 = channel.analogNoiseMv ** 2 + channel.analogShotNoiseMv * Math.max(volts, 0);
      // Quantisation adds 1/12 LSB^2 per shot; per-shot noise sums over the shots.
      sum += Math.sqrt(shots * (varianceMv2 / (lsbMv * lsbMv) + 1 / 12)) * rng.normal();
    }
    raw[i] = Math.min(Math.max(Math.round(sum), 0), maxSum);
  }
  return raw;
}
