/**
 * Forward model of one lidar profile: the retrieval's physics run forwards.
 *   P(r) = C * O(r) * (beta_p(r) + beta_m(r)) * T^2(r) / r^2,  T^2(r) = exp(-2 int_0^r (alpha_p + alpha_m) dr')
 * (the elastic lidar equation; e.g. Weitkamp 2005 "Lidar", ch. 1), with beta_p/alpha_p the particulate
 * (aerosol + cloud) coefficients from the aerosol field, beta_m/alpha_m from the molecular model
 * (US Standard Atmosphere 1976 + Rayleigh cross section), O(r) the overlap and C the channel's lidar
 * constant; the molecular part from a met profile instead when one is given. Where the beam meets the terrain the ground adds a hard-target return
 * (Lambertian: beta_eff = rho / (pi * binWidth)), 70% in the bin of the hit and 30% in the next
 * (pulse length), and nothing comes back from farther bins. Optical depth: trapezoid on the bin
 * centres from r = 0 (the first half bin uses the first bin's extinction) — the same discretisation
 * the retrieval integrates with.
 */
import { LidarError } from '../errors.js';
import type { Rng } from '../random.js';
import { metAtmosphere, us1976, type AtmosphereState, type MetProfile } from '../atmosphere/standard-atmosphere.js';
import { molecularProfile, MOLECULAR_LIDAR_RATIO_SR, type CrossSectionModel } from '../atmosphere/rayleigh.js';
import { beamGeometry, binCentreRangesM, type BeamGeometry, type StationLocation } from '../geometry/beam.js';
import { terrainHeightM, terrainIntersectionRangeM, type TerrainGrid } from '../geometry/terrain.js';
import { cloudExtinctionAt, extinctionPerPm10, lidarRatioFor, mixingTopAslM, pm10At, type AerosolFieldSpec } from './aerosol-field.js';
import { digitize, overlapAt, type Instrument } from './instrument.js';

export interface MetSurface {
  /** Height (m a.s.l.) the surface values refer to. */
  heightM: number;
  pressurePa: number;
  temperatureK: number;
}

export interface ProfileRequest {
  instrument: Instrument;
  station: StationLocation;
  field: AerosolFieldSpec;
  terrain: TerrainGrid | null;
  /** Surface values for US Standard Atmosphere 1976 (used when no sounding is given). */
  met: MetSurface;
  /** A met profile (sounding or model) to use instead of the scaled standard atmosphere. */
  sounding?: MetProfile | null;
  crossSection?: CrossSectionModel;
  azimuthDeg: number;
  elevationDeg: number;
  /** Local time of the profile's centre, hours (may exceed 24 for runs past midnight). */
  hourLocal: number;
  shots: number;
  /** null: noise-free (raw = rounded expectation). */
  rng: Rng | null;
}

/** Ground truth of one profile on the recorder's (photon-counting) bin grid; NaN where undefined. */
export interface ProfileTruth {
  wavelengthsNm: number[];
  /** Particulate (aerosol + cloud) backscatter (1/m/sr) and extinction (1/m) per wavelength. */
  betaAer: Float64Array[];
  alphaAer: Float64Array[];
  betaMol: Float64Array[];
  alphaMol: Float64Array[];
  /** Dry aerosol mass (ug/m3); NaN in cloud and beyond the terrain. */
  pm10: Float64Array;
  pm25: Float64Array;
  /** Mixing-layer top above the station (m a.s.l.). */
  pblHeightM: number;
  /** Cloud base (m a.s.l.) if the beam reaches the cloud, else NaN. */
  cloudBaseM: number;
  /** Range (m) where the beam meets the terrain, Infinity if it does not within the record. */
  terrainBlockedRangeM: number;
  /** First bin of the hard target (truth is NaN from it on); bins if not blocked. */
  terrainBlockedBin: number;
}

export interface ProfileResult {
  rangeM: Float64Array;
  beam: BeamGeometry;
  /** Per channel: raw accumulated integers and the noise-free physical values (MHz or mV) the recorder reports. */
  raw: Uint32Array[];
  expected: Float64Array[];
  truth: ProfileTruth;
}

/** Values of `src` delayed by `delayBins` (linear interpolation), `fill` before the start. */
function delayed(src: Float64Array, delayBins: number, fill: number): Float64Array {
  const out = new Float64Array(src.length);
  for (let j = 0; j < src.length; j++) {
    const x = j - delayBins;
    if (x < 0) {
      out[j] = fill;
      continue;
    }
    const i0 = Math.floor(x);
    const f = x - i0;
    const a = src[Math.min(i0, src.length - 1)];
    const b = src[Math.min(i0 + 1, src.length - 1)];
    out[j] = f === 0 ? a : a + f * (b - a);
  }
  return out;
}

export function simulateProfile(req: ProfileRequest): ProfileResult {
  const { instrument, station, field } = req;
  const { bins, binWidthM, zeroBin } = instrument;
  if (!(bins > 0) || !Number.isInteger(bins) || bins > 16380) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid bin count: ${bins}`, { field: 'instrument.bins' });
  if (!(binWidthM > 0)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid bin width: ${binWidthM}`, { field: 'instrument.binWidthM' });
  const rangeM = binCentreRangesM(bins, binWidthM, zeroBin);
  const beam = beamGeometry(rangeM, station, req.azimuthDeg, req.elevationDeg);
  const maxRangeM = (bins - zeroBin) * binWidthM;
  const hitM = req.terrain ? terrainIntersectionRangeM(req.terrain, station, req.azimuthDeg, req.elevationDeg, maxRangeM) : Infinity;
  const blockedBin = Number.isFinite(hitM) ? Math.min(bins, zeroBin + Math.floor(hitM / binWidthM)) : bins;

  // Aerosol mass along the beam (also inside a cloud, where it still scatters).
  const aerosolPm10 = new Float64Array(bins).fill(NaN);
  const cloudExt = new Float64Array(bins);
  for (let i = zeroBin; i < blockedBin; i++) {
    const lat = beam.latDeg[i];
    const lon = beam.lonDeg[i];
    const h = beam.heightM[i];
    const ground = req.terrain ? terrainHeightM(req.terrain, lat, lon) : NaN;
    const top = mixingTopAslM(field, lat, lon, req.hourLocal);
    aerosolPm10[i] = pm10At(field, lat, lon, h, ground, req.hourLocal, top);
    cloudExt[i] = cloudExtinctionAt(field.cloud, h);
  }
  // Reported PM truth: undefined (NaN) inside a cloud.
  const pm10 = new Float64Array(bins);
  const pm25 = new Float64Array(bins);
  const massRatio = field.optics.meePm10 / field.optics.meePm25;
  for (let i = 0; i < bins; i++) {
    pm10[i] = cloudExt[i] > 0 ? NaN : aerosolPm10[i];
    pm25[i] = pm10[i] * massRatio;
  }

  const atm: AtmosphereState = req.sounding ? metAtmosphere(req.sounding, beam.heightM) : us1976(beam.heightM, req.met);
  const wavelengths = [...new Set(instrument.channels.map((c) => c.wavelengthNm))];
  const truth: ProfileTruth = {
    wavelengthsNm: wavelengths,
    betaAer: [],
    alphaAer: [],
    betaMol: [],
    alphaMol: [],
    pm10,
    pm25,
    pblHeightM: mixingTopAslM(field, station.latDeg, station.lonDeg, req.hourLocal),
    cloudBaseM: NaN,
    terrainBlockedRangeM: hitM,
    terrainBlockedBin: blockedBin,
  };
  // Attenuated backscatter beta*T^2 per wavelength, and T^2 at the hard target.
  const attenuated: Float64Array[] = [];
  const targetT2: number[] = [];
  for (const wl of wavelengths) {
    const mol = molecularProfile(atm, wl, { crossSection: req.crossSection ?? 'bucholtz1995', lidarRatioSr: MOLECULAR_LIDAR_RATIO_SR });
    const perPm = extinctionPerPm10(field.optics, wl);
    const sAer = lidarRatioFor(field.optics, wl);
    const alphaAer = new Float64Array(bins).fill(NaN);
    const betaAer = new Float64Array(bins).fill(NaN);
    const att = new Float64Array(bins);
    let tau = 0;
    let prevAlpha = NaN;
    let prevRange = 0;
    for (let i = zeroBin; i < blockedBin; i++) {
      // Water droplets are large: cloud extinction is taken as independent of wavelength.
      const cloudAlpha = cloudExt[i];
      const aerAlpha = aerosolPm10[i] * perPm;
      const aAlpha = aerAlpha + cloudAlpha;
      const aBeta = aerAlpha / sAer + (cloudAlpha > 0 && field.cloud ? cloudAlpha / field.cloud.lidarRatioSr : 0);
      alphaAer[i] = aAlpha;
      betaAer[i] = aBeta;
      const total = aAlpha + mol.alphaMol[i];
      tau += Number.isNaN(prevAlpha) ? total * rangeM[i] : 0.5 * (total + prevAlpha) * (rangeM[i] - prevRange);
      prevAlpha = total;
      prevRange = rangeM[i];
      att[i] = (aBeta + mol.betaMol[i]) * Math.exp(-2 * tau);
    }
    // Transmission to the hard target: continue the last bin's extinction to the hit point.
    targetT2.push(Number.isFinite(hitM) ? Math.exp(-2 * (tau + (Number.isNaN(prevAlpha) ? 0 : prevAlpha) * Math.max(0, hitM - prevRange))) : 0);
    truth.alphaAer.push(alphaAer);
    truth.betaAer.push(betaAer);
    truth.alphaMol.push(mol.alphaMol);
    truth.betaMol.push(mol.betaMol);
    attenuated.push(att);
  }
  if (field.cloud) {
    for (let i = zeroBin; i < blockedBin; i++) {
      if (cloudExt[i] > 0) {
        truth.cloudBaseM = field.cloud.baseAslM;
        break;
      }
    }
  }

  const raw: Uint32Array[] = [];
  const expected: Float64Array[] = [];
  for (const ch of instrument.channels) {
    const w = wavelengths.indexOf(ch.wavelengthNm);
    const att = attenuated[w];
    const signal = new Float64Array(bins);
    for (let i = zeroBin; i < blockedBin; i++) {
      const r = rangeM[i];
      signal[i] = (ch.lidarConstant * overlapAt(r, instrument.overlapR0M) * att[i]) / (r * r);
    }
    if (blockedBin < bins) {
      const binStartM = (blockedBin - zeroBin) * binWidthM;
      const inAir = (hitM - binStartM) / binWidthM;
      const ground = (ch.lidarConstant * overlapAt(hitM, instrument.overlapR0M) * (ch.groundReflectance / Math.PI) * targetT2[w]) / (hitM * hitM * binWidthM);
      // The hit bin: the air before the hit (same attenuated backscatter as its neighbour) plus the ground.
      const airBefore = blockedBin > zeroBin ? signal[blockedBin - 1] : 0;
      signal[blockedBin] = inAir * airBefore + 0.7 * ground;
      if (blockedBin + 1 < bins) signal[blockedBin + 1] = 0.3 * ground;
    }
    const recorded = ch.kind === 'analog' && ch.analogDelayBins !== 0 ? delayed(signal, ch.analogDelayBins, 0) : signal;
    const exp = new Float64Array(bins);
    raw.push(digitize(ch, recorded, req.shots, binWidthM, req.rng, exp));
    expected.push(exp);
  }
  return { rangeM, beam, raw, expected, truth };
}
