/**
 * Per-stage costs: each kernel of the retrieval chain timed alone on the data of one benchmark
 * profile (the 532 nm analog + photon-counting pair), with its inputs prepared once by the same
 * kernels in chain order. The stages do not add up exactly to the chain (the chain also masks,
 * flags, copies the products and runs the sensitivity inversions), so the chain is timed as a whole
 * in bench.ts.
 */
import { us1976 } from '../../processing/atmosphere/standard-atmosphere.js';
import { molecularProfile } from '../../processing/atmosphere/rayleigh.js';
import { beamGeometry, binCentreRangesM, elevationFromHeader } from '../../processing/geometry/beam.js';
import { terrainBlockedBin } from '../../processing/geometry/terrain.js';
import { physicalValues } from '../../processing/licel/physical.js';
import { localToUtcMs } from '../../processing/time.js';
import { detectCloud } from '../../processing/retrieval/cloud.js';
import { glue } from '../../processing/retrieval/glue.js';
import { detectHardTarget } from '../../processing/retrieval/hard-target.js';
import { fernald, fernaldCalibrated, type FernaldInput } from '../../processing/retrieval/klett.js';
import { defaultLidarRatioSr, lidarRatioProfile } from '../../processing/retrieval/params.js';
import { pblHeight } from '../../processing/retrieval/pbl.js';
import { extinctionToPm } from '../../processing/retrieval/pm.js';
import { backgroundStats, deadTimeCorrect, overlapCorrect, rangeCorrect, shiftBins } from '../../processing/retrieval/preprocess.js';
import { QC } from '../../processing/retrieval/qc.js';
import { attenuatedMolecular, autoReferenceWindow, rayleighFit } from '../../processing/retrieval/reference.js';
import { prepareSignal, selectChannels, SignalWorkspace } from '../../processing/retrieval/signal.js';
import type { BenchProfile } from './inputs.js';
import { bytesPerCall, timeIt, type Timing, type TimingOptions } from './measure.js';

export interface StageTiming extends Timing {
  stage: string;
  /** Median ns per bin of the record. */
  nsPerBin: number;
  /** Bytes allocated by one warm call (median; measure.ts bytesPerCall). */
  bytesPerCall: number;
}

/** Times every stage on `p`'s 532 nm channel pair. */
export function timeStages(p: BenchProfile, opts: TimingOptions): StageTiming[] {
  const { file, ctx } = p;
  const { params, station } = ctx;
  const sel = selectChannels(file, 'auto')[0];
  const an = file.datasets[sel.analog];
  const pc = file.datasets[sel.photon];
  const bins = p.bins;
  const zeroBin = station.channels[String(sel.photon)]?.zero_bin ?? 0;
  const rangeM = binCentreRangesM(bins, pc.binWidthM, zeroBin);
  const elevationDeg = elevationFromHeader(file.header.zenithRaw, station.zenith_convention);
  const site = { latDeg: station.lat, lonDeg: station.lon, altitudeM: station.altitude_m };
  const groundM = station.ground_altitude_m ?? station.altitude_m;
  const background: [number, number] = [0, zeroBin];

  // Inputs of each stage, made once by the kernels in chain order.
  const pcMHz = physicalValues(pc, new Float64Array(bins));
  const pcCorrected = new Float64Array(bins);
  deadTimeCorrect(pcMHz, params.deadTimeNs, 'nonparalysable', pcCorrected, new Uint8Array(bins));
  const anMv = physicalValues(an, new Float64Array(bins));
  const anShifted = new Float64Array(bins);
  shiftBins(anMv, an.binShiftWhole + an.binShiftThousandths / 1000, anShifted);
  const pcBg = backgroundStats(pcCorrected, background[0], background[1]).mean;
  const anBg = backgroundStats(anShifted, background[0], background[1]).mean;
  for (let i = 0; i < bins; i++) {
    pcCorrected[i] -= pcBg;
    anShifted[i] -= anBg;
  }
  const ws = new SignalWorkspace(bins);
  const signalOpts = { bins, backgroundBins: background, deadTimeNs: params.deadTimeNs, deadTimeModel: params.deadTimeModel, glue: params.glue };
  const prepared = prepareSignal(file, sel, signalOpts, ws);
  const signal = Float64Array.from(prepared.signal);
  const sigma = Float64Array.from(prepared.sigma);
  const qc = new Uint8Array(bins);
  const corrected = new Float64Array(bins);
  overlapCorrect(signal, rangeM, params.overlap, corrected, qc);
  const x = new Float64Array(bins);
  rangeCorrect(corrected, rangeM, x);
  const sigmaX = new Float64Array(bins);
  for (let i = 0; i < bins; i++) sigmaX[i] = sigma[i] * rangeM[i] * rangeM[i];
  const beam = beamGeometry(rangeM, site, p.azimuthDeg, elevationDeg);
  const surface = ctx.surface ? { heightM: groundM, ...ctx.surface } : undefined;
  const mol = molecularProfile(us1976(beam.heightM, surface), sel.wavelengthNm, { crossSection: params.molecular.crossSection, lidarRatioSr: params.molecular.lidarRatioSr });
  const attMol = attenuatedMolecular(rangeM, mol.betaMol, params.molecular.lidarRatioSr);
  const lidarRatio = new Float64Array(bins);
  lidarRatioProfile(params.lidarRatioSr ?? defaultLidarRatioSr(sel.wavelengthNm), rangeM, lidarRatio);
  let fullOverlap = zeroBin;
  while (fullOverlap < bins && (qc[fullOverlap] & QC.OVERLAP) !== 0) fullOverlap++;
  const input: FernaldInput = { rangeM, rcs: x, betaMol: mol.betaMol, molecularLidarRatioSr: params.molecular.lidarRatioSr, lidarRatioSr: lidarRatio, from: zeroBin, to: bins };
  const out = { betaAer: new Float64Array(bins), alphaAer: new Float64Array(bins) };
  const win = autoReferenceWindow(rangeM, x, attMol, { minRangeM: 1000, maxRangeM: rangeM[bins - 1], maxIndex: bins, sigma: sigmaX });
  const fit = win ? rayleighFit(x, attMol, win.from, win.to, sigmaX) : rayleighFit(x, attMol, bins - 100, bins, sigmaX);
  const lidarConstant = Number.isFinite(params.reference.lidarConstant) ? params.reference.lidarConstant : fit.scale;
  fernaldCalibrated(input, lidarConstant, fullOverlap, out);
  const pm10 = new Float64Array(bins);
  const pm25 = new Float64Array(bins);
  const scratch = new Float64Array(bins);
  const scratchQc = new Uint8Array(bins);

  const stages: Array<[string, () => unknown]> = [
    ['physical values (2 datasets)', () => (physicalValues(pc, scratch), physicalValues(an, scratch))],
    ['dead time', () => deadTimeCorrect(pcMHz, params.deadTimeNs, 'nonparalysable', scratch, scratchQc)],
    ['background (2 datasets)', () => (backgroundStats(pcCorrected, background[0], background[1]), backgroundStats(anShifted, background[0], background[1]))],
    ['analog bin shift', () => shiftBins(anMv, an.binShiftWhole + an.binShiftThousandths / 1000, scratch)],
    ['glue', () => glue(anShifted, pcCorrected, 0, bins, scratch, { sigmaAnalog: ws.anSigma, sigmaPc: ws.pcSigma, outSigma: ws.an, lowMHz: params.glue.lowMHz, highMHz: params.glue.highMHz })],
    ['prepareSignal (all of the above)', () => prepareSignal(file, sel, signalOpts, ws)],
    ['overlap + range correction', () => (overlapCorrect(signal, rangeM, params.overlap, scratch, scratchQc), rangeCorrect(scratch, rangeM, scratch))],
    ['beam geometry', () => beamGeometry(rangeM, site, p.azimuthDeg, elevationDeg, {}, beam)],
    ['terrain (DEM)', () => (ctx.terrain ? terrainBlockedBin(ctx.terrain, beam, 10) : 0)],
    ['molecular (cold: us1976 + molecularProfile + attenuatedMolecular)', () => {
      const m = molecularProfile(us1976(beam.heightM, surface), sel.wavelengthNm, { crossSection: params.molecular.crossSection, lidarRatioSr: params.molecular.lidarRatioSr }, mol);
      return attenuatedMolecular(rangeM, m.betaMol, params.molecular.lidarRatioSr, scratch);
    }],
    ['detectCloud', () => detectCloud(x, attMol, params.reference.lidarConstant, fullOverlap, bins, sigmaX)],
    ['detectHardTarget', () => detectHardTarget(signal, sigma, fullOverlap, bins)],
    ['reference: autoReferenceWindow + rayleighFit', () => {
      const w = autoReferenceWindow(rangeM, x, attMol, { minRangeM: 1000, maxRangeM: rangeM[bins - 1], maxIndex: bins, sigma: sigmaX });
      return w ? rayleighFit(x, attMol, w.from, w.to, sigmaX) : null;
    }],
    ['fernald', () => fernald(input, fit.ref, 0, fit.rcsRef, out)],
    ['fernaldCalibrated', () => fernaldCalibrated(input, lidarConstant, fullOverlap, out)],
    ['pblHeight', () => pblHeight(beam.heightM, x, qc, { minHeightM: groundM + 300, maxHeightM: groundM + 4000 })],
    ['extinctionToPm', () => extinctionToPm(out.alphaAer, sel.wavelengthNm, params.pm, scratchQc, pm10, pm25, out.alphaAer, scratch, scratch)],
    ['local time to UTC (start + stop)', () => localToUtcMs(file.header.startLocal, station.timezone) + localToUtcMs(file.header.stopLocal, station.timezone)],
  ];
  return stages.map(([stage, fn]) => {
    const t = timeIt(fn, opts);
    return { stage, ...t, nsPerBin: t.medianNs / bins, bytesPerCall: bytesPerCall(fn, 11) };
  });
}
