/**
 * The retrieval chain for one Licel file (RETRIEVAL.md): per channel, signal preparation
 * (signal.ts), overlap and range correction, geometry and terrain, molecular atmosphere, cloud and
 * hard-target screening, the boundary value of the chosen mode, Fernald-Klett, QC, PM, PBL, AOD, and
 * uncertainties (seeded Monte Carlo through the whole chain; sensitivity to the lidar ratio and the
 * reference value). Pure: runs in Node and in the browser.
 * Speed (docs/performance.md): scratch buffers live in a workspace per record length and the
 * geometry, DEM, molecular and time conversions are cached, so a retrieval allocates only its
 * products; the reference-value sensitivity runs reuse the main inversion's trace.
 */
import { LidarError } from '../errors.js';
import type { LicelFile } from '../licel/types.js';
import type { StationConfig } from '../station.js';
import { createRng } from '../random.js';
import { localToUtcMs, toIsoUtc } from '../time.js';
import { metAtmosphere, us1976, type MetProfile } from '../atmosphere/standard-atmosphere.js';
import { molecularProfile } from '../atmosphere/rayleigh.js';
import { beamGeometry, binCentreRangesM, elevationFromHeader, type BeamGeometry } from '../geometry/beam.js';
import { terrainBlockedBin, type TerrainGrid } from '../geometry/terrain.js';
import { backgroundWindow, medianInPlace, overlapCorrect, rangeCorrect, smoothRange } from './preprocess.js';
import { lidarRatioProfile, defaultLidarRatioSr } from './params.js';
import type { ResolvedParams } from './params.types.js';
import { calibratedBoundary, createFernaldTrace, expStep, fernald, fernaldCalibrated, fernaldRescaled, type FernaldInput, type FernaldOutput, type FernaldTrace } from './klett.js';
import { attenuatedMolecular, autoReferenceWindow, molecularOpticalDepth, rayleighFit, slopeBoundary } from './reference.js';
import { detectCloud } from './cloud.js';
import { firstBins, nanBeyond, signalExtent, type NanTail } from './extent.js';
import { productArrays, type ProductBuffers } from './product-buffers.js';
import { detectHardTarget } from './hard-target.js';
import { aerosolOpticalDepth, extinctionToPm, humidityFlag } from './pm.js';
import { pblHeight } from './pbl.js';
import { QC, QC_NO_PRODUCT, flagRange } from './qc.js';
import { prepareSignal, recordExtent, selectChannels, SignalWorkspace, type ChannelSelection, type PreparedSignal } from './signal.js';

export interface RetrievalContext {
  station: StationConfig;
  params: ResolvedParams;
  paramsId: string;
  terrain: TerrainGrid | null;
  /** Met profile (heights a.s.l.); replaces the standard atmosphere when given. */
  sounding?: MetProfile | null;
  /** Surface pressure and temperature at the station ground, to scale US1976 (default: header T0/P0 if any). */
  surface?: { pressurePa: number; temperatureK: number } | null;
  /** Overrides params.monteCarlo (0 = statistical uncertainty not computed). */
  monteCarlo?: number;
}

export type ReferenceMode = 'rayleigh' | 'value' | 'calibration' | 'slope';

export interface ProfileProducts {
  file: string;
  station: string;
  timeStartUtc: string;
  timeEndUtc: string;
  channel: { index: number; analogIndex: number; photonIndex: number; wavelengthNm: number; polarization: string; kind: 'glued' | 'analog' | 'photon' };
  azimuthDeg: number;
  elevationDeg: number;
  shots: number;
  rangeM: Float64Array;
  heightM: Float64Array;
  lat: Float64Array;
  lon: Float64Array;
  /** Range-corrected signal X (photon-counting MHz m^2, or analog mV m^2), for quicklooks. */
  rcs: Float64Array;
  betaAer: Float64Array;
  alphaAer: Float64Array;
  pm10: Float64Array;
  pm25: Float64Array;
  betaAerSigma: Float64Array;
  alphaAerSigma: Float64Array;
  pm10Sigma: Float64Array;
  pm25Sigma: Float64Array;
  /** Systematic sensitivity of the extinction: |change| for lidar ratio +/- 10 sr and for the reference value. */
  alphaAerSensLidarRatio: Float64Array;
  alphaAerSensReference: Float64Array;
  qc: Uint8Array;
  pblHeightM: number;
  pblQuality: number;
  cloudBaseM: number;
  aod: number;
  /** Signal-to-noise ratio in the reference window (rayleigh) or at the calibration start. */
  snr: number;
  /**
   * The background level subtracted from the raw signal (mean over the background window, before
   * subtraction), in `backgroundUnit`: the photon-counting rate (MHz, after the dead-time correction)
   * for photon-counting and glued channels, the analog level (mV, with the recorder's offset) for
   * analog-only channels. NaN when no background was subtracted (background "none").
   */
  backgroundMean: number;
  backgroundUnit: 'MHz' | 'mV';
  /**
   * Lidar constant C (X = C (beta_aer + beta_mol) T^2) implied by a backward (rayleigh, value, slope)
   * solution: median over the valid bins between full overlap and the reference of
   * X / ((beta_aer + beta_mol) T^2). NaN for calibration-mode retrievals (they use a given C). The
   * pipeline calibrates low-elevation scans with the constant of the latest vertical profile.
   */
  lidarConstant: number;
  reference: { mode: ReferenceMode; fromM: number; toM: number; rangeM: number; betaAer: number };
  effectiveResolutionM: number;
  paramsId: string;
}

/** `to` holding a copy of `from` (same length). */
function copyInto(to: Float64Array, from: Float64Array): Float64Array {
  to.set(from);
  return to;
}

/** Signal-to-noise ratio below which a bin is LOW_SNR (RETRIEVAL.md section 7 default). */
const MIN_SNR = 3;
/**
 * Product SNR |beta_aer| / sigma (Monte Carlo) below which a bin is LOW_SNR: relative statistical
 * uncertainty above 25%. Lidar PM is an indicative measurement; the EU data quality objective for
 * indicative PM measurements is 50% expanded (95%, ~2 sigma) uncertainty (Directive 2008/50/EC
 * Annex I), i.e. sigma <= 25%.
 */
const MIN_PRODUCT_SNR = 4;
/** Pre-trigger bins needed for them to be the default background window. */
const PRETRIGGER_MIN_BINS = 50;
const MOLECULAR_CACHE_SIZE = 64;
const molecularCache = new Map<string, { betaMol: Float64Array; alphaMol: Float64Array; attMol: Float64Array }>();

/** Molecular profiles depend only on geometry, wavelength and met: cached per geometry. */
function molecular(key: string, heightM: Float64Array, rangeM: Float64Array, wavelengthNm: number, ctx: RetrievalContext, groundM: number, header: LicelFile['header']) {
  const hit = molecularCache.get(key);
  if (hit) return hit;
  const p = ctx.params.molecular;
  let atm;
  if (ctx.sounding && p.atmosphere === 'met') atm = metAtmosphere(ctx.sounding, heightM);
  else {
    const surface = ctx.surface ?? (Number.isFinite(header.pressureHpa) && Number.isFinite(header.temperatureC) ? { pressurePa: header.pressureHpa * 100, temperatureK: header.temperatureC + 273.15 } : null);
    atm = us1976(heightM, surface ? { heightM: groundM, ...surface } : undefined);
  }
  const mol = molecularProfile(atm, wavelengthNm, { crossSection: p.crossSection, lidarRatioSr: p.lidarRatioSr });
  const value = { betaMol: mol.betaMol, alphaMol: mol.alphaMol, attMol: attenuatedMolecular(rangeM, mol.betaMol, p.lidarRatioSr) };
  if (molecularCache.size >= MOLECULAR_CACHE_SIZE) molecularCache.delete(molecularCache.keys().next().value as string);
  molecularCache.set(key, value);
  return value;
}

/**
 * Scratch buffers of one record length, reused by every retrieval of that length so a retrieval
 * allocates only its products (the arrays of ProfileProducts, which the caller owns). Retrievals are
 * synchronous, so one workspace per length serves them all in turn.
 */
class RetrievalWorkspace {
  readonly signal: SignalWorkspace;
  readonly sigmaX: Float64Array;
  /** sigmaX is NaN from here on (rangeCorrected). */
  readonly sigmaXTail: NanTail;
  readonly scratch: Float64Array;
  readonly lidarRatio: Float64Array;
  readonly lrShifted: Float64Array;
  readonly tmp: FernaldOutput;
  readonly trace: FernaldTrace;
  readonly input: FernaldInput;
  private mc: MonteCarloWorkspace | null = null;
  constructor(readonly bins: number) {
    this.signal = new SignalWorkspace(bins);
    this.sigmaX = new Float64Array(bins);
    this.sigmaXTail = { nanFrom: bins }; // zeros: NaN to write everywhere
    this.scratch = new Float64Array(bins);
    this.lidarRatio = new Float64Array(bins);
    this.lrShifted = new Float64Array(bins);
    this.tmp = { betaAer: new Float64Array(bins), alphaAer: new Float64Array(bins) };
    this.trace = createFernaldTrace(bins);
    this.input = { rangeM: this.scratch, rcs: this.scratch, betaMol: this.scratch, molecularLidarRatioSr: 1, lidarRatioSr: this.scratch, from: 0, to: 0 };
  }
  /** Monte Carlo buffers, made on first use. */
  monteCarlo(): MonteCarloWorkspace {
    this.mc ??= new MonteCarloWorkspace(this.bins);
    return this.mc;
  }
}

class MonteCarloWorkspace {
  readonly signal: SignalWorkspace;
  readonly rawPc: Float64Array;
  readonly rawAn: Float64Array;
  readonly x: Float64Array;
  readonly sigmaX: Float64Array;
  /** x and sigmaX are NaN from here on (rangeCorrected). */
  readonly xTail: NanTail;
  readonly sigmaXTail: NanTail;
  readonly scratch: Float64Array;
  readonly qcRun: Uint8Array;
  readonly out: FernaldOutput;
  readonly meanB: Float64Array;
  readonly meanA: Float64Array;
  readonly m2B: Float64Array;
  readonly m2A: Float64Array;
  readonly unstable: Uint8Array;
  constructor(bins: number) {
    this.signal = new SignalWorkspace(bins);
    this.rawPc = new Float64Array(bins);
    this.rawAn = new Float64Array(bins);
    this.x = new Float64Array(bins);
    this.sigmaX = new Float64Array(bins);
    this.xTail = { nanFrom: bins };
    this.sigmaXTail = { nanFrom: bins };
    this.scratch = new Float64Array(bins);
    this.qcRun = new Uint8Array(bins);
    this.out = { betaAer: new Float64Array(bins), alphaAer: new Float64Array(bins) };
    this.meanB = new Float64Array(bins);
    this.meanA = new Float64Array(bins);
    this.m2B = new Float64Array(bins);
    this.m2A = new Float64Array(bins);
    this.unstable = new Uint8Array(bins);
  }
}

/** Record lengths whose workspaces are kept (a station uses one or two). */
const WORKSPACE_CACHE_SIZE = 4;
const workspaces = new Map<number, RetrievalWorkspace>();

function workspaceFor(bins: number): RetrievalWorkspace {
  let ws = workspaces.get(bins);
  if (ws === undefined) {
    if (workspaces.size >= WORKSPACE_CACHE_SIZE) workspaces.delete(workspaces.keys().next().value as number);
    ws = new RetrievalWorkspace(bins);
    workspaces.set(bins, ws);
  }
  return ws;
}

interface BeamAndTerrain {
  rangeM: Float64Array;
  beam: BeamGeometry;
  /** First bin blocked by the DEM (bins when none, or without a DEM). */
  terrainBin: number;
}

/** Beam geometry and DEM screening depend only on the record layout, station and pointing: cached (a scan repeats its directions). */
const GEOMETRY_CACHE_SIZE = 256;
const geometryCache = new Map<string, BeamAndTerrain>();
const terrainIds = new WeakMap<TerrainGrid, number>();
let terrainIdCounter = 1;

function beamAndTerrain(bins: number, binWidthM: number, zeroBin: number, station: StationConfig, azimuthDeg: number, elevationDeg: number, terrain: TerrainGrid | null): BeamAndTerrain {
  let terrainId = 0;
  if (terrain) {
    terrainId = terrainIds.get(terrain) ?? 0;
    if (terrainId === 0) terrainIds.set(terrain, (terrainId = terrainIdCounter++));
  }
  const key = `${bins}|${binWidthM}|${zeroBin}|${station.lat}|${station.lon}|${station.altitude_m}|${azimuthDeg}|${elevationDeg}|${terrainId}`;
  const hit = geometryCache.get(key);
  if (hit) return hit;
  const rangeM = binCentreRangesM(bins, binWidthM, zeroBin);
  const beam = beamGeometry(rangeM, { latDeg: station.lat, lonDeg: station.lon, altitudeM: station.altitude_m }, azimuthDeg, elevationDeg);
  // Pre-trigger bins have negative ranges: the DEM search starts at the trigger bin.
  const first = Math.max(zeroBin, 0);
  const afterTrigger: BeamGeometry = { heightM: beam.heightM.subarray(first), groundDistanceM: beam.groundDistanceM.subarray(first), latDeg: beam.latDeg.subarray(first), lonDeg: beam.lonDeg.subarray(first) };
  const value = { rangeM, beam, terrainBin: terrain ? first + terrainBlockedBin(terrain, afterTrigger, 10) : bins };
  if (geometryCache.size >= GEOMETRY_CACHE_SIZE) geometryCache.delete(geometryCache.keys().next().value as string);
  geometryCache.set(key, value);
  return value;
}

/** Station-clock time to ISO UTC, cached (the Intl zone lookup costs microseconds; each file has two times, shared by its channels). */
const UTC_CACHE_SIZE = 256;
const utcCache = new Map<string, string>();

function utcIso(local: string, timeZone: string): string {
  const key = `${timeZone}|${local}`;
  let iso = utcCache.get(key);
  if (iso === undefined) {
    iso = toIsoUtc(localToUtcMs(local, timeZone));
    if (utcCache.size >= UTC_CACHE_SIZE) utcCache.delete(utcCache.keys().next().value as string);
    utcCache.set(key, iso);
  }
  return iso;
}

/** Empties the molecular, geometry and time caches and drops the workspaces (benchmarks time cold runs with it). */
export function clearRetrievalCaches(): void {
  molecularCache.clear();
  geometryCache.clear();
  utcCache.clear();
  workspaces.clear();
}

/** Retrieves every selected channel of one file. */
export function retrieveFile(file: LicelFile, fileName: string, ctx: RetrievalContext, buffers: ProductBuffers | null = null): ProfileProducts[] {
  return selectChannels(file, ctx.params.channel, fileName, ctx.station.channels).map((sel, k) => retrieveChannel(file, fileName, sel, ctx, buffers, k));
}

interface Boundary {
  mode: ReferenceMode;
  /** Reference bin, and for rayleigh the fit window [from, to). */
  ref: number;
  from: number;
  to: number;
  betaAerRef: number;
  lidarConstant: number;
  snr: number;
}

interface InversionSetup {
  file: LicelFile;
  sel: ChannelSelection;
  ctx: RetrievalContext;
  bins: number;
  /** Bins [0, end) are prepared (the raw record's signal extent); beyond, the signal is NaN. */
  end: number;
  binWidthM: number;
  rangeM: Float64Array;
  backgroundBins: [number, number] | null;
  smoothingBins: number;
  lidarRatio: Float64Array;
  betaMol: Float64Array;
  attMol: Float64Array;
  /** Bins [first, last) the inversion covers (before terrain, cloud). */
  first: number;
  last: number;
  ws: RetrievalWorkspace;
}

/**
 * Signal -> X (overlap, range correction, smoothing); the overlap flags go to qc. Returns sigma of X in
 * `sigmaX`. Beyond the prepared bins [0, end) both are NaN, refilled only where an earlier call wrote
 * (`xTail`, `sigmaTail`; Monte Carlo calls this once per realisation).
 */
function rangeCorrected(s: InversionSetup, prepared: PreparedSignal, xAll: Float64Array, sigmaXAll: Float64Array, qcAll: Uint8Array, scratchAll: Float64Array, xTail: NanTail, sigmaTail: NanTail): void {
  const { ctx, end } = s;
  nanBeyond(xTail, end, xAll);
  nanBeyond(sigmaTail, end, sigmaXAll);
  const cut = <T extends Float64Array | Uint8Array>(a: T): T => firstBins(a, end);
  const rangeM = cut(s.rangeM);
  const signal = cut(prepared.signal);
  const sigma = cut(prepared.sigma);
  const x = cut(xAll);
  const sigmaX = cut(sigmaXAll);
  const qc = cut(qcAll);
  const scratch = cut(scratchAll);
  const overlap = ctx.params.overlap;
  overlapCorrect(signal, rangeM, overlap, scratch, qc);
  rangeCorrect(scratch, rangeM, x);
  // Past the overlap table (everywhere with a full-overlap range) overlapCorrect copies the signal,
  // so the factor below is exactly 1 there (s / s, or 1 for 0, NaN and infinite s): no division.
  const copiedBeyondM = 'table' in overlap ? overlap.table[overlap.table.length - 1][0] : -Infinity;
  for (let i = 0; i < rangeM.length; i++) {
    const r = rangeM[i];
    if (r > copiedBeyondM) {
      sigmaX[i] = sigma[i] * r * r;
      continue;
    }
    const o = signal[i] !== 0 ? scratch[i] / signal[i] : 1;
    sigmaX[i] = sigma[i] * (Number.isFinite(o) ? o : 1) * r * r;
  }
  if (s.smoothingBins > 1) {
    scratch.set(x);
    smoothRange(scratch, s.smoothingBins, s.binWidthM, x);
    for (let i = 0; i < sigmaX.length; i++) sigmaX[i] /= Math.sqrt(s.smoothingBins);
  }
}

/** The inversion input for signal x and lidar ratio profile (one object per retrieval, its arrays swapped). */
function fernaldInput(s: InversionSetup, x: Float64Array, lidarRatio: Float64Array): FernaldInput {
  const input = s.ws.input;
  input.rangeM = s.rangeM;
  input.rcs = x;
  input.betaMol = s.betaMol;
  input.molecularLidarRatioSr = s.ctx.params.molecular.lidarRatioSr;
  input.lidarRatioSr = lidarRatio;
  input.from = s.first;
  input.to = s.last;
  // The chain reads inversion outputs on [0, last) only (the products are masked NaN beyond).
  input.outEnd = s.last;
  return input;
}

/**
 * Runs the inversion for a fixed boundary, writing beta/alpha (and the trace for `invertReference`, if
 * given). `rcsRef`: the boundary signal of `x` (boundarySignal; pass it when known: it costs a fit).
 */
function invert(s: InversionSetup, x: Float64Array, b: Boundary, lidarRatio: Float64Array, out: FernaldOutput, trace: FernaldTrace | null = null, rcsRef = boundarySignal(s, x, b)): void {
  const input = fernaldInput(s, x, lidarRatio);
  if (trace !== null) trace.ref = -1;
  if (b.mode === 'calibration') {
    fernaldCalibrated(input, b.lidarConstant, b.ref, out, trace);
    return;
  }
  fernald(input, b.ref, b.betaAerRef, rcsRef, out, trace);
}

/** X(r_c) of the boundary: the Rayleigh fit's (unweighted) value, else the local mean around r_c (calibration: not used, NaN). */
function boundarySignal(s: InversionSetup, x: Float64Array, b: Boundary): number {
  if (b.mode === 'calibration') return NaN;
  return b.mode === 'rayleigh' ? rayleighFit(x, s.attMol, b.from, b.to).rcsRef : localMean(x, b.ref, 5);
}

/**
 * The inversion with the reference perturbed (`factor` 0.5 / 1.5): beta_aer(r_c) +/- 50%, or for a
 * calibrated boundary the lidar constant -/+ 10%. Only the boundary value changes, so the main
 * run's trace gives it exactly with one division per bin.
 */
function invertReference(s: InversionSetup, x: Float64Array, b: Boundary, factor: number, trace: FernaldTrace, out: FernaldOutput, rcsRef: number): void {
  const input = fernaldInput(s, x, s.lidarRatio);
  if (b.mode === 'calibration') {
    checkTrace(trace, b.ref, x[b.ref]);
    const cb = calibratedBoundary(input, b.lidarConstant * (factor === 0.5 ? 0.9 : 1.1), b.ref);
    if (!cb.converged) {
      out.betaAer.fill(NaN, 0, s.last);
      out.alphaAer.fill(NaN, 0, s.last);
    } else if (trace.ref < 0) fernaldCalibrated(input, b.lidarConstant * (factor === 0.5 ? 0.9 : 1.1), b.ref, out); // the main boundary had no solution
    else fernaldRescaled(input, trace, cb.betaAerStart, out);
    return;
  }
  checkTrace(trace, b.ref, rcsRef);
  fernaldRescaled(input, trace, referencePerturbed(b, s.betaMol, factor), out);
}

/** The trace must come from the main inversion of this profile (same reference bin and signal). */
function checkTrace(trace: FernaldTrace, ref: number, rcsRef: number): void {
  if (trace.ref >= 0 && (trace.ref !== ref || trace.rcsRef !== rcsRef)) throw new Error(`internal: Fernald trace of bin ${trace.ref} used for bin ${ref}`);
}

function localMean(x: Float64Array, center: number, half: number): number {
  let sum = 0;
  let n = 0;
  for (let i = Math.max(0, center - half); i <= Math.min(x.length - 1, center + half); i++) {
    if (Number.isFinite(x[i])) {
      sum += x[i];
      n++;
    }
  }
  return n > 0 ? sum / n : NaN;
}

function binAtRange(rangeM: Float64Array, r: number): number {
  let best = 0;
  for (let i = 1; i < rangeM.length; i++) if (Math.abs(rangeM[i] - r) < Math.abs(rangeM[best] - r)) best = i;
  return best;
}

function chooseBoundary(s: InversionSetup, x: Float64Array, sigmaX: Float64Array, qc: Uint8Array, elevationDeg: number, fileName: string): Boundary {
  const p = s.ctx.params.reference;
  const mode: ReferenceMode = p.mode ?? (elevationDeg >= 15 ? 'rayleigh' : 'calibration');
  const { rangeM, first, last } = s;
  const where = { file: fileName, field: 'reference' };
  if (last - first < 10) throw new LidarError('LIDAR_ERR_BAD_VALUE', `only ${last - first} usable bins before the terrain or a cloud`, where);
  if (mode === 'rayleigh') {
    let win: { from: number; to: number } | null;
    if (p.windowM === 'auto') {
      win = autoReferenceWindow(rangeM, x, s.attMol, { minRangeM: Math.max(rangeM[first], 1000), maxRangeM: rangeM[last - 1], maxIndex: last, sigma: sigmaX });
      if (!win) throw new LidarError('LIDAR_ERR_BAD_VALUE', 'no aerosol-free reference window with enough signal found (auto); give reference.window_m or use calibration mode', where);
    } else {
      win = { from: binAtRange(rangeM, p.windowM[0]), to: binAtRange(rangeM, p.windowM[1]) + 1 };
      if (win.to > last) throw new LidarError('LIDAR_ERR_BAD_VALUE', `reference window ${p.windowM[0]}-${p.windowM[1]} m reaches beyond the usable range ${rangeM[last - 1].toFixed(0)} m (terrain, cloud or record end)`, { ...where, field: 'reference.window_m' });
    }
    const fit = rayleighFit(x, s.attMol, win.from, win.to, sigmaX);
    return { mode, ref: fit.ref, from: win.from, to: win.to, betaAerRef: (p.scatteringRatio - 1) * s.betaMol[fit.ref], lidarConstant: NaN, snr: fit.snr };
  }
  if (mode === 'value') {
    if (!Number.isFinite(p.rangeM) || !Number.isFinite(p.betaAer)) throw new LidarError('LIDAR_ERR_BAD_VALUE', 'value mode needs reference.range_m and reference.beta_aer', { ...where, field: 'reference.range_m' });
    const ref = binAtRange(rangeM, p.rangeM);
    if (ref < first || ref >= last) throw new LidarError('LIDAR_ERR_BAD_VALUE', `reference range ${p.rangeM} m is outside the usable range`, { ...where, field: 'reference.range_m' });
    return { mode, ref, from: ref, to: ref + 1, betaAerRef: p.betaAer, lidarConstant: NaN, snr: x[ref] / sigmaX[ref] };
  }
  if (mode === 'slope') {
    if (p.windowM === 'auto') throw new LidarError('LIDAR_ERR_BAD_VALUE', 'slope mode needs reference.window_m (a homogeneous stretch of the path)', { ...where, field: 'reference.window_m' });
    const from = binAtRange(rangeM, p.windowM[0]);
    const to = binAtRange(rangeM, p.windowM[1]) + 1;
    const sb = slopeBoundary(rangeM, x, s.betaMol, s.ctx.params.molecular.lidarRatioSr, s.lidarRatio, from, to);
    return { mode, ref: sb.ref, from, to, betaAerRef: sb.betaAerRef, lidarConstant: NaN, snr: x[sb.ref] / sigmaX[sb.ref] };
  }
  if (!Number.isFinite(p.lidarConstant)) {
    // Chosen by the elevation, not by the parameter set: say so (a header's zenith field read with the
    // wrong convention makes a vertical profile horizontal).
    const why = (p.mode ?? null) === null ? ` (the default below 15 deg elevation; this profile is at ${elevationDeg.toFixed(1)} deg: if it is not, check the station's zenith_convention)` : '';
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `calibration mode${why} needs reference.lidar_constant (C in X = C (beta_aer + beta_mol) T^2)`, { ...where, field: 'reference.lidar_constant' });
  }
  let start = first;
  while (start < last && ((qc[start] & QC_NO_PRODUCT) !== 0 || !Number.isFinite(x[start]))) start++;
  if (start >= last - 1) throw new LidarError('LIDAR_ERR_BAD_VALUE', 'no valid bin beyond the overlap to start the calibrated solution', where);
  return { mode: 'calibration', ref: start, from: start, to: start + 1, betaAerRef: NaN, lidarConstant: p.lidarConstant, snr: x[start] / sigmaX[start] };
}

export function retrieveChannel(file: LicelFile, fileName: string, sel: ChannelSelection, ctx: RetrievalContext, buffers: ProductBuffers | null = null, slot = 0): ProfileProducts {
  const { station, params } = ctx;
  const main = file.datasets[sel.photon >= 0 ? sel.photon : sel.analog];
  const other = sel.photon >= 0 && sel.analog >= 0 ? file.datasets[sel.analog] : null;
  if (other && other.binWidthM !== main.binWidthM) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `analog and photon-counting bin widths differ (${other.binWidthM} vs ${main.binWidthM} m)`, { file: fileName, field: 'bin width' });
  }
  if (!(main.shots > 0)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `dataset ${sel.photon >= 0 ? sel.photon : sel.analog} has 0 shots`, { file: fileName, field: 'shots' });
  const bins = other ? Math.min(main.bins, other.bins) : main.bins;
  const binWidthM = main.binWidthM;
  const index = sel.photon >= 0 ? sel.photon : sel.analog;
  const zeroBin = station.channels[String(index)]?.zero_bin ?? 0;
  const elevationDeg = elevationFromHeader(file.header.zenithRaw, station.zenith_convention);
  const azimuthDeg = Number.isFinite(file.header.azimuthDeg) ? ((file.header.azimuthDeg % 360) + 360) % 360 : 0;
  const first = Math.max(zeroBin, 0);
  const geometry = beamAndTerrain(bins, binWidthM, zeroBin, station, azimuthDeg, elevationDeg, ctx.terrain);
  const { rangeM, beam } = geometry;
  const groundM = station.ground_altitude_m ?? station.altitude_m;
  const ws = workspaceFor(bins);

  // 1-5: signal in the photon-counting scale, noise, saturation.
  // Default background: the pre-trigger bins when the recorder keeps enough of them, else the far end.
  const backgroundSpec = params.background ?? (zeroBin >= PRETRIGGER_MIN_BINS ? 'pretrigger' : null);
  const backgroundBins = backgroundWindow(backgroundSpec, rangeM, zeroBin);
  // Where the raw record's signal ends (extent.ts): nothing beyond is prepared, screened or inverted.
  const end = recordExtent(file, sel, bins, backgroundBins);
  const prepared = prepareSignal(file, sel, { bins, end, backgroundBins, deadTimeNs: params.deadTimeNs, deadTimeModel: params.deadTimeModel, glue: params.glue }, ws.signal);
  // Read now: the prepared signal lives in the reused workspace.
  const backgroundMean = backgroundBins ? prepared.backgroundMean : NaN;
  const backgroundUnit = prepared.unit;
  // The products: fresh arrays the caller owns, or the caller's reused buffers (product-buffers.ts);
  // everything else lives in the reused workspace.
  const products = productArrays(bins, buffers, slot);
  // Where the masked products are NaN already (reused buffers; see product-buffers.ts), then
  // unknown until this call completes.
  const nanFrom = Math.max(products.nanFrom, end);
  products.nanFrom = bins;
  // Every product is written whole below (qc and geometry copied, NaN fills, PM over [0, last)), but
  // the inversion outputs are read and the sensitivities accumulated before that: reused arrays get
  // the zeros of fresh ones first, over the prepared range [0, end) (the masks fill NaN from
  // `last` <= end on).
  if (products.reused) for (const a of [products.betaAer, products.alphaAer, products.alphaAerSensLidarRatio, products.alphaAerSensReference]) a.fill(0, 0, end);
  const qc = products.qc;
  qc.set(prepared.qc);

  // 6-8: overlap, range correction, smoothing.
  const smoothingBins = params.smoothingM > 0 ? Math.max(1, 2 * Math.round(params.smoothingM / binWidthM / 2) + 1) : 1;
  const x = products.rcs;
  const { sigmaX, scratch, lidarRatio } = ws;
  const lidarRatioSpec = params.lidarRatioSr ?? defaultLidarRatioSr(sel.wavelengthNm);
  lidarRatioProfile(lidarRatioSpec, rangeM, lidarRatio);
  const molKey = [elevationDeg.toFixed(3), station.altitude_m, groundM, bins, binWidthM, zeroBin, sel.wavelengthNm, params.molecular.atmosphere, params.molecular.crossSection, params.molecular.lidarRatioSr, ctx.sounding ? 'met' : '', ctx.surface?.pressurePa ?? file.header.pressureHpa, ctx.surface?.temperatureK ?? file.header.temperatureC].join('|');
  const mol = molecular(molKey, beam.heightM, rangeM, sel.wavelengthNm, ctx, groundM, file.header);
  const setup: InversionSetup = { file, sel, ctx, bins, end, binWidthM, rangeM, backgroundBins, smoothingBins, lidarRatio, betaMol: mol.betaMol, attMol: mol.attMol, first, last: bins, ws };
  rangeCorrected(setup, prepared, x, sigmaX, qc, scratch, products.rcsTail, ws.sigmaXTail);

  // Terrain from the DEM; clouds before it; then a hard-target return before either. Clouds come
  // first because a cloud base is also a > 10x jump, while a hard target (a 2-3 bin spike with
  // nothing behind it) fails the cloud test's minimum depth.
  let terrainBin = geometry.terrainBin;
  let fullOverlapBin = first;
  while (fullOverlapBin < bins && (qc[fullOverlapBin] & QC.OVERLAP) !== 0) fullOverlapBin++;
  // Clouds (scaled with the lidar constant when known; the detector estimates the scale otherwise).
  // Beyond the signal's extent (the return sunk into the noise for good) nothing is screened or
  // inverted: those bins read NaN, flagged LOW_SNR (extent.ts).
  const signalEnd = Math.max(signalExtent(x, sigmaX, first, end), fullOverlapBin);
  const cloud = detectCloud(x, mol.attMol, params.reference.lidarConstant, fullOverlapBin, Math.min(terrainBin, signalEnd), sigmaX);
  const cloudEnd = cloud.base >= 0 ? cloud.base : Math.min(terrainBin, signalEnd);
  // The prepared signal (not range corrected) is still intact: Monte Carlo has its own workspace.
  const hard = detectHardTarget(prepared.signal, prepared.sigma, fullOverlapBin, cloudEnd);
  if (hard >= 0 && hard < terrainBin) terrainBin = hard;
  if (terrainBin < bins) flagRange(qc, QC.TERRAIN, terrainBin);
  let cloudBaseM = NaN;
  let last = terrainBin;
  if (cloud.base >= 0 && cloud.base < terrainBin) {
    cloudBaseM = beam.heightM[cloud.base];
    flagRange(qc, QC.CLOUD, cloud.base, cloud.opaque || cloud.top < 0 ? bins : cloud.top + 1);
    last = Math.min(last, cloud.base);
  }
  if (signalEnd < last) {
    flagRange(qc, QC.LOW_SNR, signalEnd, last);
    last = signalEnd;
  }
  setup.last = last;

  // Boundary value and inversion.
  const boundary = chooseBoundary(setup, x, sigmaX, qc, elevationDeg, fileName);
  const { betaAer, alphaAer } = products;
  const rcsRef = boundarySignal(setup, x, boundary);
  invert(setup, x, boundary, lidarRatio, { betaAer, alphaAer }, ws.trace, rcsRef);
  if (boundary.mode === 'calibration') flagRange(qc, QC.FORWARD, boundary.ref, last);
  else flagRange(qc, QC.FORWARD, boundary.ref + 1, last);
  // Uncertainty: seeded Monte Carlo through the whole chain (fixed boundary geometry).
  const mcRuns = ctx.monteCarlo ?? params.monteCarlo;
  // NaN over the prepared range (the LOW_SNR test below reads it; the masks fill NaN from `last` on).
  const betaSigma = products.betaAerSigma.fill(NaN, 0, end);
  const alphaSigma = products.alphaAerSigma.fill(NaN, 0, end);
  if (mcRuns >= 2) monteCarlo(setup, boundary, qc, mcRuns, params.seed, betaSigma, alphaSigma);
  // LOW_SNR: the signal's SNR below 3, or — with Monte Carlo — the product's (|beta_aer| / sigma)
  // below 4: a forward solution amplifies noise with the optical depth while the signal SNR still
  // looks fine.
  for (let i = 0; i < end; i++) {
    if (!(x[i] / sigmaX[i] >= MIN_SNR) || Math.abs(betaAer[i]) < MIN_PRODUCT_SNR * betaSigma[i]) qc[i] |= QC.LOW_SNR;
    if (betaAer[i] < 0) qc[i] |= QC.NEGATIVE;
  }
  flagRange(qc, QC.LOW_SNR, end); // no signal prepared there (X is NaN)
  if (boundary.mode === 'calibration') flagForwardOpticalDepth(alphaAer, rangeM, qc, boundary.ref, last);

  // Systematic sensitivity: lidar ratio +/- 10 sr (full inversions), reference value +/- 50% (from the trace).
  const sensLr = products.alphaAerSensLidarRatio;
  const sensRef = products.alphaAerSensReference;
  const { tmp, lrShifted } = ws;
  for (let k = 0; k < 2; k++) {
    const d = k === 0 ? -10 : 10;
    // The inversions read S_a on [first, last) only (a constant one: filled, no per-bin max).
    if (typeof lidarRatioSpec === 'number') lrShifted.fill(Math.max(1, lidarRatioSpec + d), first, last);
    else for (let i = first; i < last; i++) lrShifted[i] = Math.max(1, lidarRatio[i] + d);
    invert(setup, x, boundary, lrShifted, tmp, null, rcsRef);
    maxAbsDifference(tmp.alphaAer, alphaAer, sensLr, last);
  }
  for (let k = 0; k < 2; k++) {
    invertReference(setup, x, boundary, k === 0 ? 0.5 : 1.5, ws.trace, tmp, rcsRef);
    maxAbsDifference(tmp.alphaAer, alphaAer, sensRef, last);
  }

  // Masks: no product in OVERLAP, CLOUD, TERRAIN, SATURATED bins, nor before the first or from the
  // last inverted bin on (beyond the signal's extent, the terrain or a cloud).
  // (From `last` on only up to where reused arrays are NaN already: nothing above wrote beyond `end`.)
  for (const a of [betaAer, alphaAer, betaSigma, alphaSigma, sensLr, sensRef]) {
    a.fill(NaN, 0, first);
    a.fill(NaN, last, nanFrom);
  }
  for (let i = first; i < last; i++) {
    if ((qc[i] & QC_NO_PRODUCT) !== 0) {
      betaAer[i] = NaN;
      alphaAer[i] = NaN;
      betaSigma[i] = NaN;
      alphaSigma[i] = NaN;
      sensLr[i] = NaN;
      sensRef[i] = NaN;
    }
  }
  const { pm10, pm25, pm10Sigma, pm25Sigma } = products;
  // Beyond `last` every input is NaN, so PM is too: convert [0, last) only, fill the rest, and give
  // the bins beyond the humidity flag every bin carries.
  const upto = <T extends Float64Array | Uint8Array>(a: T): T => firstBins(a, last);
  extinctionToPm(upto(alphaAer), sel.wavelengthNm, params.pm, upto(qc), upto(pm10), upto(pm25), upto(alphaSigma), upto(pm10Sigma), upto(pm25Sigma));
  for (const a of [pm10, pm25, pm10Sigma, pm25Sigma]) a.fill(NaN, last, nanFrom);
  flagRange(qc, humidityFlag(params.pm), last);

  // PBL (vertical or high-elevation profiles), AOD.
  let pblHeightM = NaN;
  let pblQuality = NaN;
  if (elevationDeg >= 60) {
    const fullOverlapHeight = beam.heightM[Math.min(fullOverlapBin, bins - 1)];
    const top = Math.min(groundM + 4000, Number.isFinite(cloudBaseM) ? cloudBaseM - 50 : Infinity);
    const pbl = pblHeight(beam.heightM, x, qc, { minHeightM: fullOverlapHeight + 100, maxHeightM: top });
    pblHeightM = pbl.heightM;
    pblQuality = pbl.quality;
  }
  const aod = aerosolOpticalDepth(alphaAer, rangeM, elevationDeg, qc, first, boundary.mode === 'calibration' ? last : Math.min(boundary.ref + 1, last));

  products.nanFrom = last; // the masked products are NaN from here on (product-buffers.ts)
  return {
    file: fileName,
    station: station.id,
    timeStartUtc: utcIso(file.header.startLocal, station.timezone),
    timeEndUtc: utcIso(file.header.stopLocal, station.timezone),
    channel: { index, analogIndex: sel.analog, photonIndex: sel.photon, wavelengthNm: sel.wavelengthNm, polarization: sel.polarization, kind: sel.analog >= 0 && sel.photon >= 0 ? 'glued' : sel.photon >= 0 ? 'photon' : 'analog' },
    azimuthDeg,
    elevationDeg,
    shots: main.shots,
    // copies: the geometry arrays are cached per direction
    rangeM: copyInto(products.rangeM, rangeM),
    heightM: copyInto(products.heightM, beam.heightM),
    lat: copyInto(products.lat, beam.latDeg),
    lon: copyInto(products.lon, beam.lonDeg),
    rcs: x,
    betaAer,
    alphaAer,
    pm10,
    pm25,
    betaAerSigma: betaSigma,
    alphaAerSigma: alphaSigma,
    pm10Sigma,
    pm25Sigma,
    alphaAerSensLidarRatio: sensLr,
    alphaAerSensReference: sensRef,
    qc,
    pblHeightM,
    pblQuality,
    cloudBaseM,
    aod,
    snr: boundary.snr,
    backgroundMean,
    backgroundUnit,
    lidarConstant: boundary.mode === 'calibration' ? NaN : lidarConstantFromSolution(x, rangeM, mol.betaMol, params.molecular.lidarRatioSr, betaAer, alphaAer, qc, fullOverlapBin, Math.min(boundary.ref, last), ws.scratch),
    reference: { mode: boundary.mode, fromM: rangeM[boundary.from], toM: rangeM[Math.min(boundary.to, bins) - 1], rangeM: rangeM[boundary.ref], betaAer: boundary.betaAerRef },
    effectiveResolutionM: smoothingBins * binWidthM,
    paramsId: ctx.paramsId,
  };
}

/**
 * Aerosol optical depth from the start of a forward (calibration-mode) solution beyond which its bins
 * are LOW_SNR. The forward solution amplifies a relative error of the lidar constant (and glue scale)
 * roughly as 1/T^2_aer and then diverges (PM of thousands of ug/m3 where the truth is 10-30). The
 * constant from a vertical profile is good to ~3% (docs/retrieval.md); on the winter scans with the
 * constant 3% off, the valid bins within 25% of the truth (the EU indicative objective LOW_SNR stands
 * for) are 80% with a cut at tau = 1, 98% at 0.7 (worst 39%) and 100% at 0.5 (worst 24%, a third
 * fewer bins): 0.7 (T^2 = 0.25) keeps most of the map and the errors near the objective.
 */
export const MAX_FORWARD_AEROSOL_OPTICAL_DEPTH = 0.7;

/**
 * Flags LOW_SNR on bins [from, to) from the first one where the one-way aerosol optical depth
 * accumulated from `from` (trapezoid rule over |alpha_aer|; masked, non-finite bins add nothing) passes
 * MAX_FORWARD_AEROSOL_OPTICAL_DEPTH.
 */
export function flagForwardOpticalDepth(alphaAer: Float64Array, rangeM: Float64Array, qc: Uint8Array, from: number, to: number): void {
  let tau = 0;
  for (let i = from + 1; i < to; i++) {
    const a0 = Math.abs(alphaAer[i - 1]);
    const a1 = Math.abs(alphaAer[i]);
    if (Number.isFinite(a0) && Number.isFinite(a1)) tau += 0.5 * (a0 + a1) * (rangeM[i] - rangeM[i - 1]);
    if (tau > MAX_FORWARD_AEROSOL_OPTICAL_DEPTH) {
      flagRange(qc, QC.LOW_SNR, i, to);
      return;
    }
  }
}

/**
 * C = X / ((beta_aer + beta_mol) T^2) per bin over [from, to), median of the bins with a valid
 * product. The two-way transmission T^2 integrates alpha_aer + alpha_mol by the trapezoid rule from
 * bin `from`, below which the aerosol extinction is taken equal to that at `from` (the assumption of
 * the calibrated forward solution, klett.ts calibratedBoundary, so the two are each other's inverse).
 * `scratch` (>= to - from long, overwritten) saves an allocation.
 */
export function lidarConstantFromSolution(
  x: Float64Array,
  rangeM: Float64Array,
  betaMol: Float64Array,
  molecularLidarRatioSr: number,
  betaAer: Float64Array,
  alphaAer: Float64Array,
  qc: Uint8Array,
  from: number,
  to: number,
  scratch?: Float64Array,
): number {
  if (!(from >= 0 && to > from && to <= x.length)) return NaN;
  if (!(Number.isFinite(alphaAer[from]) && rangeM[from] > 0)) return NaN;
  const ratios = scratch && scratch.length >= to - from ? scratch : new Float64Array(to - from);
  let n = 0;
  // 1 / T^2 = exp(2 tau), carried as a running product of the per-step factors (klett.ts expStep).
  let inverseT2 = Math.exp(2 * (molecularOpticalDepth(rangeM, betaMol, molecularLidarRatioSr, from) + alphaAer[from] * rangeM[from]));
  let prevAlpha = alphaAer[from] + molecularLidarRatioSr * betaMol[from];
  for (let i = from; i < to; i++) {
    const alpha = alphaAer[i] + molecularLidarRatioSr * betaMol[i];
    if (i > from) {
      if (!Number.isFinite(alpha)) break; // the path is interrupted: T^2 unknown beyond
      inverseT2 *= expStep((alpha + prevAlpha) * (rangeM[i] - rangeM[i - 1])); // exp(2 dtau), trapezoid
    }
    prevAlpha = alpha;
    const beta = betaAer[i] + betaMol[i];
    if ((qc[i] & (QC_NO_PRODUCT | QC.LOW_SNR)) !== 0 || !(beta > 0) || !(x[i] > 0)) continue;
    ratios[n++] = (x[i] * inverseT2) / beta;
  }
  return medianInPlace(ratios, n);
}

/**
 * acc[i] = max(acc[i], |a[i] - b[i]|) (NaN propagates, as Math.max does). acc starts at +0 and only
 * takes |differences|, so it never holds -0: without NaN a store only where the difference is larger
 * is Math.max; with a NaN Math.max itself runs (its NaN is the one stored before).
 */
function maxAbsDifference(a: Float64Array, b: Float64Array, acc: Float64Array, n = acc.length): void {
  for (let i = 0; i < n; i++) {
    const d = Math.abs(a[i] - b[i]);
    const c = acc[i];
    if (d > c) acc[i] = d;
    else if (d !== d || c !== c) acc[i] = Math.max(c, d);
  }
}

/** The reference aerosol backscatter +/- 50% (a floor of 5% of beta_mol where it is ~0: an aerosol-free reference). */
function referencePerturbed(b: Boundary, betaMol: Float64Array, factor: number): number {
  const base = Math.max(Math.abs(b.betaAerRef), 0.1 * betaMol[b.ref]);
  return b.betaAerRef + (factor - 1) * base;
}

/**
 * Monte Carlo: perturbs the raw data (Poisson for photon counts with the observed counts as mean;
 * Gaussian with the background-window spread for analog sums), runs preparation, correction and
 * inversion with the same boundary geometry, and returns the standard deviation per bin (Welford).
 */
function monteCarlo(s: InversionSetup, b: Boundary, qc: Uint8Array, runs: number, seed: number, betaSigma: Float64Array, alphaSigma: Float64Array): void {
  const { file, sel, bins } = s;
  const rng = createRng(seed);
  const pcDs = sel.photon >= 0 ? file.datasets[sel.photon] : null;
  const anDs = sel.analog >= 0 ? file.datasets[sel.analog] : null;
  const mc = s.ws.monteCarlo();
  const rawPc = pcDs ? mc.rawPc : undefined;
  const rawAn = anDs ? mc.rawAn : undefined;
  let anRawSigma = 0;
  if (anDs && s.backgroundBins) {
    const [from, to] = s.backgroundBins;
    let sum = 0;
    let sum2 = 0;
    let n = 0;
    for (let i = from; i < to; i++) {
      sum += anDs.raw[i];
      sum2 += anDs.raw[i] * anDs.raw[i];
      n++;
    }
    anRawSigma = n > 1 ? Math.sqrt(Math.max(0, (sum2 - (sum * sum) / n) / (n - 1))) : 0;
  }
  const { x, sigmaX, scratch, qcRun, out, meanB, meanA, m2B, m2A, unstable } = mc;
  meanB.fill(0);
  meanA.fill(0);
  m2B.fill(0);
  m2A.fill(0);
  // A bin where any realisation has no finite solution (the forward solution's denominator crossed
  // zero) is unstable: its uncertainty is unbounded.
  unstable.fill(0);
  const { end, last } = s;
  const signalOptions = { bins, end, backgroundBins: s.backgroundBins, deadTimeNs: s.ctx.params.deadTimeNs, deadTimeModel: s.ctx.params.deadTimeModel, glue: s.ctx.params.glue };
  for (let k = 1; k <= runs; k++) {
    if (pcDs && rawPc) rng.poissons(pcDs.raw, rawPc, end);
    if (anDs && rawAn) {
      rng.normals(rawAn, end);
      for (let i = 0; i < end; i++) rawAn[i] = Math.max(0, anDs.raw[i] + anRawSigma * rawAn[i]);
    }
    try {
      const prepared = prepareSignal(file, sel, signalOptions, mc.signal, rawPc, rawAn);
      qcRun.fill(0);
      rangeCorrected(s, prepared, x, sigmaX, qcRun, scratch, mc.xTail, mc.sigmaXTail);
      invert(s, x, b, s.lidarRatio, out);
    } catch (e) {
      // A realisation with no solution at all (e.g. the noise broke the glue fit and left the
      // calibration start bin empty): every bin is unstable.
      if (!(e instanceof LidarError)) throw e;
      out.betaAer.fill(NaN, 0, last);
      out.alphaAer.fill(NaN, 0, last);
    }
    // The inversions write [0, last) only (beyond it the products are NaN).
    for (let i = 0; i < last; i++) {
      const vb = out.betaAer[i];
      const va = out.alphaAer[i];
      if (!Number.isFinite(vb) || !Number.isFinite(va)) {
        unstable[i] = 1;
        continue;
      }
      const db = vb - meanB[i];
      meanB[i] += db / k;
      m2B[i] += db * (vb - meanB[i]);
      const da = va - meanA[i];
      meanA[i] += da / k;
      m2A[i] += da * (va - meanA[i]);
    }
  }
  for (let i = 0; i < last; i++) {
    betaSigma[i] = unstable[i] ? Infinity : Math.sqrt(m2B[i] / (runs - 1));
    alphaSigma[i] = unstable[i] ? Infinity : Math.sqrt(m2A[i] / (runs - 1));
    if ((qc[i] & QC_NO_PRODUCT) !== 0) {
      betaSigma[i] = NaN;
      alphaSigma[i] = NaN;
    }
  }
}
