/**
 * From the raw integers of one wavelength's datasets to one background-subtracted signal in the
 * photon-counting scale (MHz) with its per-bin noise: Licel physical units -> dead time (photon
 * counting) -> background -> analog bin shift -> analog/photon gluing (RETRIEVAL.md section 1, steps
 * 1-5). Monte Carlo calls it again with perturbed raw arrays, so it takes the raw data explicitly.
 */
import { LidarError } from '../errors.js';
import type { LicelFile } from '../licel/types.js';
import type { StationChannel } from '../station.js';
import { physicalValues } from '../licel/physical.js';
import { backgroundStats, deadTimeCorrect, shiftBins } from './preprocess.js';
import { glue, type GlueResult } from './glue.js';
import { extentFromWindows, firstBins, nanBeyond, signalExtent, type BlockSums, type NanTail } from './extent.js';
import { QC } from './qc.js';

/** The datasets one retrieval profile uses: an analog and/or a photon-counting dataset of one wavelength. */
export interface ChannelSelection {
  wavelengthNm: number;
  polarization: string;
  /** Dataset indices in the file, -1 when absent. */
  analog: number;
  photon: number;
}

/** Vibrational Raman shifts (cm^-1) of N2, O2 and H2O: the usual inelastic channels of an aerosol lidar. */
const RAMAN_SHIFTS_PER_CM = [2330.7, 1556.4, 3657.0];
/** A channel within this distance (nm) of a Raman line of another channel's wavelength is that Raman channel. */
const RAMAN_MATCH_NM = 1.5;

/** Wavelength (nm) of the Raman line shifted by `shiftPerCm` from the laser line `laserNm`. */
export function ramanWavelengthNm(laserNm: number, shiftPerCm: number): number {
  return 1e7 / (1e7 / laserNm - shiftPerCm);
}

/**
 * True when `wavelengthNm` is the N2, O2 or H2O vibrational Raman line (within 1.5 nm) of one of
 * `others` (e.g. 387 and 408 nm next to 355 nm, 607 and 660 nm next to 532 nm): such a channel
 * carries no elastic backscatter and must not go through the elastic (Fernald) inversion.
 */
export function isRamanOf(wavelengthNm: number, others: readonly number[]): boolean {
  for (const laser of others) {
    if (!(laser > 0) || laser >= wavelengthNm) continue;
    for (const shift of RAMAN_SHIFTS_PER_CM) {
      if (Math.abs(ramanWavelengthNm(laser, shift) - wavelengthNm) <= RAMAN_MATCH_NM) return true;
    }
  }
  return false;
}

/**
 * Wavelength of dataset `k`: the header's, or — when the header says 0 (some acquisition programs
 * never fill it) — the station's `channels[k].wavelength_nm`; 0 when neither knows.
 */
export function datasetWavelengthNm(file: LicelFile, k: number, stationChannels?: Record<string, StationChannel>): number {
  const w = file.datasets[k].wavelengthNm;
  if (w > 0) return w;
  const fromStation = stationChannels?.[String(k)]?.wavelength_nm;
  return fromStation !== undefined && fromStation > 0 ? fromStation : 0;
}

/**
 * 'auto': every elastic wavelength/polarisation, analog and photon counting glued; Raman channels
 * (`isRamanOf` another signal wavelength of the file) are left out. A number: that dataset alone.
 * Wavelengths come from the header, else from the station's channel settings (`datasetWavelengthNm`).
 */
export function selectChannels(file: LicelFile, channel: 'auto' | number, fileName?: string, stationChannels?: Record<string, StationChannel>): ChannelSelection[] {
  const ds = file.datasets;
  if (channel !== 'auto') {
    const d = ds[channel];
    if (!d) throw new LidarError('LIDAR_ERR_NOT_FOUND', `no dataset ${channel} (the file has ${ds.length})`, { file: fileName, field: 'channel' });
    if (d.dataType !== 0 && d.dataType !== 1) throw new LidarError('LIDAR_ERR_BAD_VALUE', `dataset ${channel} (${d.deviceId}) is a squared-sum dataset, not a signal`, { file: fileName, field: 'channel' });
    const wavelengthNm = datasetWavelengthNm(file, channel, stationChannels);
    if (!(wavelengthNm > 0)) throw new LidarError('LIDAR_ERR_NOT_FOUND', `dataset ${channel} (${d.deviceId}) has no wavelength (header 0); give channels.${channel}.wavelength_nm in the station settings`, { file: fileName, field: 'channel' });
    return [{ wavelengthNm, polarization: d.polarization, analog: d.dataType === 0 ? channel : -1, photon: d.dataType === 1 ? channel : -1 }];
  }
  const signal = ds.map((d, k) => (d.active && (d.dataType === 0 || d.dataType === 1) ? datasetWavelengthNm(file, k, stationChannels) : 0));
  const out: ChannelSelection[] = [];
  ds.forEach((d, k) => {
    const wavelengthNm = signal[k];
    if (!(wavelengthNm > 0) || isRamanOf(wavelengthNm, signal)) return;
    let sel = out.find((s) => s.wavelengthNm === wavelengthNm && s.polarization === d.polarization);
    if (!sel) {
      sel = { wavelengthNm, polarization: d.polarization, analog: -1, photon: -1 };
      out.push(sel);
    }
    if (d.dataType === 0 && sel.analog < 0) sel.analog = k;
    if (d.dataType === 1 && sel.photon < 0) sel.photon = k;
  });
  if (out.length === 0) {
    const unnamed = ds.some((d, k) => d.active && (d.dataType === 0 || d.dataType === 1) && !(signal[k] > 0));
    const hint = unnamed ? ' (the header gives wavelength 0: set channels.<dataset>.wavelength_nm in the station settings)' : '';
    throw new LidarError('LIDAR_ERR_NOT_FOUND', `no elastic signal dataset with a wavelength in the file${hint}`, { file: fileName, field: 'channel' });
  }
  return out;
}

export interface SignalOptions {
  bins: number;
  /**
   * Process bins [0, end) only (default: all `bins`): beyond the signal's extent the record is
   * noise (`recordExtent`). The prepared signal and its sigma read NaN there, the qc 0. The
   * background window must lie below `end`.
   */
  end?: number;
  /** Background window as bin indices [from, to), or null for none. */
  backgroundBins: [number, number] | null;
  deadTimeNs: number;
  deadTimeModel: 'nonparalysable' | 'paralysable';
  /** Gluing: a known scale (NaN: fit it) and the photon-counting window (MHz). */
  glue: { scale: number; lowMHz: number; highMHz: number };
}

export interface PreparedSignal {
  /** Background-subtracted signal in the photon-counting scale (MHz) — or mV for analog-only channels. */
  signal: Float64Array;
  /** Per-bin noise (1 sigma) of `signal`. */
  sigma: Float64Array;
  /** SATURATED flags of the data actually used in each bin. */
  qc: Uint8Array;
  unit: 'MHz' | 'mV';
  glue: GlueResult | null;
  /** First bin from which the photon-counting data are used (bins when never; 0 without analog). */
  switchBin: number;
  backgroundMean: number;
  backgroundStd: number;
}

/** Reusable buffers for one bin count (the Monte Carlo loop prepares signals many times). */
export class SignalWorkspace {
  readonly pc: Float64Array;
  readonly pcSigma: Float64Array;
  readonly an: Float64Array;
  readonly anShifted: Float64Array;
  readonly anSigma: Float64Array;
  readonly qcPc: Uint8Array;
  readonly out: PreparedSignal;
  /** `out.signal` and `out.sigma` are NaN, `out.qc` 0, from here on (extent.ts NanTail). */
  readonly tail: NanTail;
  constructor(readonly bins: number) {
    this.tail = { nanFrom: bins };
    this.pc = new Float64Array(bins);
    this.pcSigma = new Float64Array(bins);
    this.an = new Float64Array(bins);
    this.anShifted = new Float64Array(bins);
    this.anSigma = new Float64Array(bins);
    this.qcPc = new Uint8Array(bins);
    this.out = { signal: new Float64Array(bins), sigma: new Float64Array(bins), qc: new Uint8Array(bins), unit: 'MHz', glue: null, switchBin: 0, backgroundMean: NaN, backgroundStd: NaN };
  }

  /** The buffers' first `end` bins (views on the same memory; the arrays themselves for all bins). */
  views(end: number): SignalBuffers {
    const v = <T extends Float64Array | Uint8Array>(a: T): T => firstBins(a, end);
    return { pc: v(this.pc), pcSigma: v(this.pcSigma), an: v(this.an), anShifted: v(this.anShifted), anSigma: v(this.anSigma), qcPc: v(this.qcPc), signal: v(this.out.signal), sigma: v(this.out.sigma), qc: v(this.out.qc) };
  }
}

/** The arrays `prepareSignal` works on (all of one length). */
interface SignalBuffers {
  pc: Float64Array;
  pcSigma: Float64Array;
  an: Float64Array;
  anShifted: Float64Array;
  anSigma: Float64Array;
  qcPc: Uint8Array;
  signal: Float64Array;
  sigma: Float64Array;
  qc: Uint8Array;
}

/**
 * Where the record's signal ends, judged on the raw data before any processing (so that preparing,
 * screening and inverting can all stop there): the extent test (extent.ts) on the background-
 * subtracted raw sums of the photon-counting dataset (Poisson noise: variance = the counts), else of
 * the analog one (noise: the raw spread in the background window). The whole record (`bins`) when
 * there is no background window or it lies in the far half of the record (it must be prepared too),
 * or the analog background gives no noise scale.
 */
export function recordExtent(file: LicelFile, sel: ChannelSelection, bins: number, backgroundBins: [number, number] | null): number {
  if (backgroundBins === null || backgroundBins[1] > bins / 2 || backgroundBins[1] <= backgroundBins[0]) return bins;
  const [from, to] = backgroundBins;
  const ds = file.datasets[sel.photon >= 0 ? sel.photon : sel.analog];
  const raw = ds.raw;
  const { mean, std: spread, n } = backgroundStats(raw, from, to);
  const poisson = sel.photon >= 0;
  if (!poisson && !(spread > 0)) return bins;
  // Noise variance per bin: the counts themselves (Poisson), or the background spread squared.
  const blockSums: BlockSums = (start, stop, size, sums, variances) => {
    for (let q = 0, hi = stop; hi > start; q++, hi -= size) {
      const lo = Math.max(start, hi - size);
      // Two interleaved sums (half the dependency chain): the raw data are 32-bit integers, whose
      // sums are exact in a double in any order (a record's < 2^46), so the result is the same.
      let s0 = 0;
      let s1 = 0;
      let zeros0 = 0;
      let zeros1 = 0;
      let i = lo;
      for (; i + 1 < hi; i += 2) {
        const r0 = raw[i];
        const r1 = raw[i + 1];
        s0 += r0;
        s1 += r1;
        zeros0 += +(r0 === 0); // (branch-free; Math.max on the counts costs twice the loop)
        zeros1 += +(r1 === 0);
      }
      if (i < hi) {
        s0 += raw[i];
        zeros0 += +(raw[i] === 0);
      }
      const s = s0 + s1;
      const zeros = zeros0 + zeros1;
      sums[q] = s - mean * (hi - lo);
      // Poisson: the sum of max(count, 1) (a 0 count still has a variance of ~1), exact in integers.
      variances[q] = poisson ? s + zeros : spread * spread * (hi - lo);
    }
  };
  // The mean of n background bins is itself uncertain by spread^2 / n (Poisson: ~ mean / n).
  return Math.max(to, extentFromWindows(to, bins, blockSums, n > 1 ? (spread * spread) / n : 0));
}

/**
 * Prepares one channel. `rawPhoton`/`rawAnalog` default to the datasets' own raw data (Monte Carlo
 * passes perturbed copies). Photon-counting noise is Poisson from the raw counts, propagated through
 * the dead-time correction; analog noise is the standard deviation in the background window.
 */
export function prepareSignal(
  file: LicelFile,
  sel: ChannelSelection,
  opts: SignalOptions,
  ws: SignalWorkspace,
  rawPhoton?: Uint32Array | Float64Array,
  rawAnalog?: Uint32Array | Float64Array,
): PreparedSignal {
  const { backgroundBins } = opts;
  const out = ws.out;
  const bins = Math.min(opts.end ?? opts.bins, opts.bins);
  if (backgroundBins && backgroundBins[1] > bins) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid prepared range: ${bins} bins end before the background window [${backgroundBins[0]}, ${backgroundBins[1]})`, { field: 'end' });
  // Everything below works on the first `bins` bins; beyond, no signal.
  const w = ws.views(bins);
  // Beyond the prepared range: no signal (NaN) and no flag, reset where an earlier call wrote.
  out.qc.fill(0, 0, Math.max(bins, ws.tail.nanFrom));
  nanBeyond(ws.tail, bins, out.signal, out.sigma);
  out.glue = null;
  const pcDs = sel.photon >= 0 ? file.datasets[sel.photon] : null;
  const anDs = sel.analog >= 0 ? file.datasets[sel.analog] : null;
  const bg = (x: Float64Array) => (backgroundBins ? backgroundStats(x, backgroundBins[0], backgroundBins[1]) : { mean: 0, std: NaN, n: 0 });

  let pcBg = { mean: 0, std: NaN, n: 0 };
  if (pcDs) {
    const raw = rawPhoton ?? pcDs.raw;
    physicalValues(pcDs, w.pc, raw, bins);
    const countToMHz = 150 / pcDs.binWidthM / pcDs.shots;
    w.qcPc.fill(0);
    deadTimeCorrect(w.pc, opts.deadTimeNs, opts.deadTimeModel, w.pc, w.qcPc);
    const tau = opts.deadTimeNs * 1e-3;
    const pcSigma = w.pcSigma;
    if (opts.deadTimeModel === 'nonparalysable') {
      for (let i = 0; i < bins; i++) {
        // Poisson on the counts; dN/dS = 1/(1 - S tau)^2 for the non-paralysable correction.
        const measured = raw[i] * countToMHz;
        const d = 1 - measured * tau;
        pcSigma[i] = (Math.sqrt(Math.max(raw[i], 1)) * countToMHz) / (d * d);
      }
    } else {
      for (let i = 0; i < bins; i++) {
        // Paralysable S = N exp(-N tau): dN/dS = exp(N tau) / (1 - N tau), N the corrected rate.
        const n = w.pc[i];
        pcSigma[i] = ((Math.sqrt(Math.max(raw[i], 1)) * countToMHz) * Math.exp(n * tau)) / (1 - n * tau);
      }
    }
    pcBg = bg(w.pc);
    const pc = w.pc;
    const pcMean = pcBg.mean;
    for (let i = 0; i < bins; i++) pc[i] -= pcMean;
  }
  let anBg = { mean: 0, std: NaN, n: 0 };
  if (anDs) {
    const raw = rawAnalog ?? anDs.raw;
    physicalValues(anDs, w.an, raw, bins);
    const shift = anDs.binShiftWhole + anDs.binShiftThousandths / 1000;
    if (shift !== 0) shiftBins(w.an, shift, w.anShifted);
    else w.anShifted.set(w.an);
    anBg = bg(w.anShifted);
    const fullScaleMv = anDs.inputRangeV * 1000 * 0.98;
    for (let i = 0; i < bins; i++) {
      const v = w.anShifted[i];
      w.anShifted[i] = v - anBg.mean;
      w.anSigma[i] = anBg.std;
      // Saturation is judged on the recorded (unshifted) sample that lands in bin i.
      const j = Math.min(bins - 1, Math.max(0, Math.round(i + shift)));
      if (w.an[j] >= fullScaleMv) w.qc[i] |= QC.SATURATED;
    }
  }

  if (pcDs && anDs) {
    // The fit runs where the photon counting still holds signal (extent.ts): beyond, both traces
    // are noise about zero whose chance excursions into the rate window only dilute the fit.
    const g = glue(w.anShifted, w.pc, 0, signalExtent(w.pc, w.pcSigma, 0, bins), w.signal, {
      sigmaAnalog: w.anSigma,
      sigmaPc: w.pcSigma,
      outSigma: w.sigma,
      lowMHz: opts.glue.lowMHz,
      highMHz: opts.glue.highMHz,
      ...(Number.isFinite(opts.glue.scale) ? { fixedScale: opts.glue.scale } : {}),
    });
    out.glue = g;
    // The switch bin: from here on the glued signal is the photon-counting one.
    const sw = g.switchBin;
    out.switchBin = sw;
    w.qc.set(w.qcPc.subarray(sw, bins), sw);
    out.unit = 'MHz';
    out.backgroundMean = pcBg.mean;
    out.backgroundStd = pcBg.std;
  } else if (pcDs) {
    w.signal.set(w.pc);
    w.sigma.set(w.pcSigma);
    w.qc.set(w.qcPc);
    out.switchBin = 0;
    out.unit = 'MHz';
    out.backgroundMean = pcBg.mean;
    out.backgroundStd = pcBg.std;
  } else if (anDs) {
    w.signal.set(w.anShifted);
    w.sigma.set(w.anSigma);
    out.switchBin = opts.bins;
    out.unit = 'mV';
    out.backgroundMean = anBg.mean;
    out.backgroundStd = anBg.std;
  } else {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', 'channel selection has neither an analog nor a photon-counting dataset', { field: 'channel' });
  }
  return out;
}
