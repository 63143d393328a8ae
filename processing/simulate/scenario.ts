/**
 * A scenario: station, instrument, atmosphere, aerosol field and a scan schedule over a time span.
 * `runScenario` turns it into Licel files (bytes) and the ground truth (truth.json, see
 * docs/simulator.md for its layout). Deterministic for a given seed; each profile draws from its own
 * generator seeded from (seed, profile index), so any profile can be regenerated alone.
 */
import { LidarError } from '../errors.js';
import { createRng } from '../random.js';
import { encodeLicel, licelFileName } from '../licel/encode.js';
import type { LicelDataset, LicelFile } from '../licel/types.js';
import { headerFromElevation, type StationLocation } from '../geometry/beam.js';
import type { TerrainGrid } from '../geometry/terrain.js';
import type { StationConfig } from '../station.js';
import { float32ToBase64 } from '../encoding/base64.js';
import type { AerosolFieldSpec } from './aerosol-field.js';
import type { MetProfile } from '../atmosphere/standard-atmosphere.js';
import { fullOverlapRangeM, overlapAt, type Instrument } from './instrument.js';
import { simulateProfile, type MetSurface, type ProfileResult } from './forward.js';

/** One step of the repeating scan cycle. */
export type ScanStep =
  | { kind: 'ppi'; elevationDeg: number; azimuthFromDeg: number; azimuthToDeg: number; azimuthStepDeg: number; dwellS: number }
  | { kind: 'fixed'; azimuthDeg: number; elevationDeg: number; dwellS: number; repeat?: number };

export interface ScenarioSpec {
  name: string;
  description: string;
  station: StationConfig;
  /** Offset of the station's local time (written in the Licel headers) from UTC, hours. */
  utcOffsetHours: number;
  /** Local start time 'YYYY-MM-DDTHH:MM:SS'. */
  startLocal: string;
  durationS: number;
  /** The cycle starts every cycleS seconds; its steps run back to back. */
  cycleS: number;
  cycle: ScanStep[];
  instrument: Instrument;
  met: MetSurface;
  /** Optional met profile (replaces the scaled US Standard Atmosphere 1976). */
  sounding?: MetProfile | null;
  field: AerosolFieldSpec;
  /** Licel file-name prefix (1-2 letters). */
  filePrefix: string;
  /** Where the numbers come from (data, papers), for docs and truth.json. */
  sources: string[];
}

export interface PlannedProfile {
  index: number;
  startS: number;
  durationS: number;
  azimuthDeg: number;
  elevationDeg: number;
}

export interface SimulatedFile {
  name: string;
  bytes: Uint8Array;
}

export interface ScenarioRun {
  files: SimulatedFile[];
  /** JSON-ready truth document (arrays as base64 float32 little-endian). */
  truth: TruthDocument;
}

export interface TruthProfile {
  file: string;
  time_start_local: string;
  time_end_local: string;
  time_start_utc: string;
  time_end_utc: string;
  azimuth_deg: number;
  elevation_deg: number;
  shots: number;
  pbl_height_m: number;
  cloud_base_m: number | null;
  terrain_blocked_range_m: number | null;
  terrain_blocked_bin: number | null;
  /** Base64 float32 LE arrays on the bin grid of the file; NaN where undefined. Keys: beta_aer_<nm>, alpha_aer_<nm>, pm10, pm25. */
  arrays: Record<string, string>;
}

export interface TruthDocument {
  format: 'lidar-pm-truth/1';
  scenario: string;
  description: string;
  seed: number;
  sources: string[];
  station: StationConfig;
  utc_offset_hours: number;
  instrument: {
    bins: number;
    bin_width_m: number;
    zero_bin: number;
    range_axis: string;
    repetition_rate_hz: number;
    overlap: { model: string; r0_m: number; full_overlap_m: number; table: Array<[number, number]> };
    channels: Array<{
      index: number;
      device_id: string;
      wavelength_nm: number;
      kind: string;
      lidar_constant: number;
      lidar_constant_unit: string;
      sky_background: number;
      analog_offset_mv: number;
      dead_time_ns: number;
      analog_delay_bins: number;
      adc_bits: number;
      input_range_v: number;
    }>;
  };
  met: {
    surface_height_m: number;
    surface_pressure_hpa: number;
    surface_temperature_k: number;
    atmosphere: 'us1976' | 'met';
    /** The met profile used (atmosphere 'met'): [height_m, pressure_hpa, temperature_k] rows. */
    profile?: Array<[number, number, number]>;
    cross_section: 'bucholtz1995';
    molecular_lidar_ratio_sr: number;
  };
  aerosol_model: {
    lidar_ratio_sr: Record<string, number>;
    angstrom: number;
    mee_pm10: number;
    mee_pm25: number;
    gamma: number;
    rh: number;
    cloud: { base_m: number; thickness_m: number; extinction_per_m: number; lidar_ratio_sr: number } | null;
  };
  arrays_encoding: string;
  profiles: TruthProfile[];
}

/** Expands the schedule into profiles (start offsets in seconds from the scenario start). */
export function planProfiles(spec: ScenarioSpec): PlannedProfile[] {
  if (!(spec.cycleS > 0) || !(spec.durationS > 0)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid schedule: cycle ${spec.cycleS} s, duration ${spec.durationS} s`, { field: 'cycleS' });
  const out: PlannedProfile[] = [];
  for (let cycleStart = 0; cycleStart < spec.durationS; cycleStart += spec.cycleS) {
    let t = cycleStart;
    const add = (azimuthDeg: number, elevationDeg: number, dwellS: number) => {
      if (t + dwellS > spec.durationS) return;
      out.push({ index: out.length, startS: t, durationS: dwellS, azimuthDeg: ((azimuthDeg % 360) + 360) % 360, elevationDeg });
      t += dwellS;
    };
    for (const step of spec.cycle) {
      if (step.kind === 'ppi') {
        const dir = step.azimuthToDeg >= step.azimuthFromDeg ? 1 : -1;
        const n = Math.floor(Math.abs(step.azimuthToDeg - step.azimuthFromDeg) / step.azimuthStepDeg + 1e-9);
        for (let k = 0; k <= n; k++) add(step.azimuthFromDeg + dir * k * step.azimuthStepDeg, step.elevationDeg, step.dwellS);
      } else {
        for (let k = 0; k < (step.repeat ?? 1); k++) add(step.azimuthDeg, step.elevationDeg, step.dwellS);
      }
    }
    if (t - cycleStart > spec.cycleS) throw new LidarError('LIDAR_ERR_BAD_VALUE', `scan cycle takes ${t - cycleStart} s, longer than cycleS ${spec.cycleS} s`, { field: 'cycle' });
  }
  return out;
}

/** Adds seconds to a naive local time 'YYYY-MM-DDTHH:MM:SS(.ff)'; returns the same form with 2 decimals. */
export function addSeconds(local: string, seconds: number): string {
  const ms = Date.parse(local + 'Z') + Math.round(seconds * 1000);
  if (Number.isNaN(ms)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid local time: ${local}`, { field: 'startLocal' });
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return iso.slice(0, 19) + '.' + iso.slice(20, 22);
}

function hourOfDay(local: string): number {
  const d = new Date(Date.parse(local + 'Z'));
  return d.getUTCHours() + d.getUTCMinutes() / 60 + d.getUTCSeconds() / 3600;
}

/** Seed of one profile's generator: a splitmix-style mix of the run seed and the profile index. */
export function profileSeed(seed: number, index: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The scenario moved to another station: position, altitude, zenith convention and time zone from
 * `station`; the aerosol field keeps its shape relative to the lidar (its origin and sources move along).
 */
export function withStation(spec: ScenarioSpec, station: StationConfig): ScenarioSpec {
  const dLat = station.lat - spec.station.lat;
  const dLon = station.lon - spec.station.lon;
  const move = <T extends { latDeg: number; lonDeg: number }>(p: T): T => ({ ...p, latDeg: p.latDeg + dLat, lonDeg: p.lonDeg + dLon });
  const f = spec.field;
  const dGround = (station.ground_altitude_m ?? station.altitude_m) - spec.met.heightM;
  return {
    ...spec,
    station,
    met: { ...spec.met, heightM: spec.met.heightM + dGround },
    field: {
      ...f,
      originLatDeg: f.originLatDeg + dLat,
      originLonDeg: f.originLonDeg + dLon,
      hotSpots: f.hotSpots.map(move),
      roads: f.roads.map((r) => ({ ...r, path: r.path.map(([la, lo]): [number, number] => [la + dLat, lo + dLon]) })),
      basinFloorM: f.basinFloorM + dGround,
      mixingTopAsl: f.mixingTopAsl.map(([h, m]): [number, number] => [h, m + dGround]),
    },
  };
}

export function stationLocation(spec: ScenarioSpec): StationLocation {
  return { latDeg: spec.station.lat, lonDeg: spec.station.lon, altitudeM: spec.station.altitude_m };
}

/** Simulates one planned profile (noise from its own seeded generator unless noise is false). */
export function simulatePlanned(spec: ScenarioSpec, p: PlannedProfile, terrain: TerrainGrid | null, seed: number, noise = true): ProfileResult {
  const midHour = hourOfDay(spec.startLocal) + (p.startS + p.durationS / 2) / 3600;
  return simulateProfile({
    instrument: spec.instrument,
    station: stationLocation(spec),
    field: spec.field,
    terrain,
    met: spec.met,
    sounding: spec.sounding ?? null,
    azimuthDeg: p.azimuthDeg,
    elevationDeg: p.elevationDeg,
    hourLocal: midHour,
    shots: Math.round(p.durationS * spec.instrument.repetitionRateHz),
    rng: noise ? createRng(profileSeed(seed, p.index)) : null,
  });
}

/** The Licel file of one simulated profile (2022 Licel header layout, datasets in channel order). */
export function toLicelFile(spec: ScenarioSpec, p: PlannedProfile, result: ProfileResult): LicelFile {
  const startLocal = addSeconds(spec.startLocal, p.startS);
  const stopLocal = addSeconds(spec.startLocal, p.startS + p.durationS);
  const shots = Math.round(p.durationS * spec.instrument.repetitionRateHz);
  const datasets: LicelDataset[] = spec.instrument.channels.map((ch, k) => {
    const delay = ch.kind === 'analog' ? ch.analogDelayBins : 0;
    return {
      active: true,
      dataType: ch.kind === 'analog' ? 0 : 1,
      laser: ch.laser,
      bins: spec.instrument.bins,
      field5: '1',
      pmtVoltageV: ch.pmtVoltageV,
      binWidthM: spec.instrument.binWidthM,
      wavelengthNm: ch.wavelengthNm,
      polarization: ch.polarization,
      binShiftWhole: Math.floor(delay),
      binShiftThousandths: Math.round((delay - Math.floor(delay)) * 1000),
      adcBits: ch.kind === 'analog' ? ch.adcBits : 0,
      shots,
      inputRangeV: ch.inputRangeV,
      deviceId: ch.deviceId,
      raw: result.raw[k],
    };
  });
  return {
    header: {
      format: 'licel2022',
      fileName: licelFileName(spec.filePrefix, stopLocal),
      site: spec.station.name.split(/\s+/)[0].slice(0, 8),
      startLocal: startLocal.slice(0, 19),
      stopLocal: stopLocal.slice(0, 19),
      altitudeM: Math.round(spec.station.altitude_m),
      longitudeDeg: spec.station.lon,
      latitudeDeg: spec.station.lat,
      zenithRaw: headerFromElevation(p.elevationDeg, spec.station.zenith_convention),
      azimuthDeg: p.azimuthDeg,
      customText: '',
      temperatureC: NaN,
      pressureHpa: NaN,
      scan: null,
      laser1Shots: shots,
      laser1RateHz: spec.instrument.repetitionRateHz,
      laser2Shots: 0,
      laser2RateHz: 0,
      laser3Shots: 0,
      laser3RateHz: 0,
      controllerTimestampMs: NaN,
      extraLine2Tokens: [],
      extraLine3Tokens: [],
    },
    datasets,
  };
}

function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/** Runs a whole scenario: Licel files and the truth document. */
export function runScenario(spec: ScenarioSpec, opts: { seed: number; terrain: TerrainGrid | null; noise?: boolean }): ScenarioRun {
  const plan = planProfiles(spec);
  const files: SimulatedFile[] = [];
  const profiles: TruthProfile[] = [];
  const toUtc = (local: string) => addSeconds(local, -spec.utcOffsetHours * 3600).slice(0, 19) + 'Z';
  for (const p of plan) {
    const result = simulatePlanned(spec, p, opts.terrain, opts.seed, opts.noise ?? true);
    const licel = toLicelFile(spec, p, result);
    if (files.some((f) => f.name === licel.header.fileName)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `two profiles end at the same time: ${licel.header.fileName}`, { field: 'cycle' });
    files.push({ name: licel.header.fileName, bytes: encodeLicel(licel) });
    const t = result.truth;
    const arrays: Record<string, string> = {};
    t.wavelengthsNm.forEach((wl, w) => {
      arrays[`beta_aer_${wl}`] = float32ToBase64(t.betaAer[w]);
      arrays[`alpha_aer_${wl}`] = float32ToBase64(t.alphaAer[w]);
    });
    arrays.pm10 = float32ToBase64(t.pm10);
    arrays.pm25 = float32ToBase64(t.pm25);
    const startLocal = addSeconds(spec.startLocal, p.startS);
    const endLocal = addSeconds(spec.startLocal, p.startS + p.durationS);
    profiles.push({
      file: licel.header.fileName,
      time_start_local: startLocal.slice(0, 19),
      time_end_local: endLocal.slice(0, 19),
      time_start_utc: toUtc(startLocal),
      time_end_utc: toUtc(endLocal),
      azimuth_deg: p.azimuthDeg,
      elevation_deg: p.elevationDeg,
      shots: licel.datasets[0].shots,
      pbl_height_m: t.pblHeightM,
      cloud_base_m: finiteOrNull(t.cloudBaseM),
      terrain_blocked_range_m: finiteOrNull(t.terrainBlockedRangeM),
      terrain_blocked_bin: t.terrainBlockedBin < spec.instrument.bins ? t.terrainBlockedBin : null,
      arrays,
    });
  }
  const ins = spec.instrument;
  const table: Array<[number, number]> = [];
  const full = fullOverlapRangeM(ins.overlapR0M, 0.999);
  for (let r = 0; r <= full + 1e-9; r += ins.binWidthM * 2) table.push([r, Number(overlapAt(r, ins.overlapR0M).toFixed(6))]);
  table.push([Math.ceil(full), 1]);
  const o = spec.field.optics;
  return {
    files,
    truth: {
      format: 'lidar-pm-truth/1',
      scenario: spec.name,
      description: spec.description,
      seed: opts.seed,
      sources: spec.sources,
      station: spec.station,
      utc_offset_hours: spec.utcOffsetHours,
      instrument: {
        bins: ins.bins,
        bin_width_m: ins.binWidthM,
        zero_bin: ins.zeroBin,
        range_axis: 'range_m[i] = (i - zero_bin + 0.5) * bin_width_m (bin centres, photon-counting grid; analog datasets are delayed by their header bin shift)',
        repetition_rate_hz: ins.repetitionRateHz,
        overlap: { model: 'O(r) = 1 - exp(-(r/r0)^2)', r0_m: ins.overlapR0M, full_overlap_m: fullOverlapRangeM(ins.overlapR0M, 0.99), table },
        channels: ins.channels.map((c, index) => ({
          index,
          device_id: c.deviceId,
          wavelength_nm: c.wavelengthNm,
          kind: c.kind,
          lidar_constant: c.lidarConstant,
          lidar_constant_unit: c.kind === 'photon' ? 'MHz m^3 sr' : 'mV m^3 sr',
          sky_background: c.skyBackground,
          analog_offset_mv: c.analogOffsetMv,
          dead_time_ns: c.deadTimeNs,
          analog_delay_bins: c.kind === 'analog' ? c.analogDelayBins : 0,
          adc_bits: c.adcBits,
          input_range_v: c.inputRangeV,
        })),
      },
      met: {
        surface_height_m: spec.met.heightM,
        surface_pressure_hpa: spec.met.pressurePa / 100,
        surface_temperature_k: spec.met.temperatureK,
        atmosphere: spec.sounding ? 'met' : 'us1976',
        ...(spec.sounding
          ? { profile: Array.from(spec.sounding.heightM, (h, k): [number, number, number] => [h, spec.sounding!.pressurePa[k] / 100, spec.sounding!.temperatureK[k]]) }
          : {}),
        cross_section: 'bucholtz1995',
        molecular_lidar_ratio_sr: (8 * Math.PI) / 3,
      },
      aerosol_model: {
        lidar_ratio_sr: o.lidarRatioSr,
        angstrom: o.angstrom,
        mee_pm10: o.meePm10,
        mee_pm25: o.meePm25,
        gamma: o.gamma,
        rh: o.rh,
        cloud: spec.field.cloud
          ? { base_m: spec.field.cloud.baseAslM, thickness_m: spec.field.cloud.thicknessM, extinction_per_m: spec.field.cloud.extinctionPerM, lidar_ratio_sr: spec.field.cloud.lidarRatioSr }
          : null,
      },
      arrays_encoding: 'base64 of little-endian float32, one value per bin of the file; NaN = undefined (pre-trigger, beyond the terrain, PM inside a cloud)',
      profiles,
    },
  };
}
