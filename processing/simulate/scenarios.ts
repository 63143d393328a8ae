/**
 * The named scenarios of `lidar-pm simulate` for the Sofia station. Levels and timing follow the
 * official AQ stations (EEA E2a hourly PM10, Sofia, Dec 2017 - Sep 2018: January evenings 18-23 h
 * are the daily plateau; western/central stations about twice Druzhba in the east; May-Sep
 * 12-28 ug/m3) and the NIMH soundings (winter surface inversions of a few hundred metres; summer
 * PBL up to ~2.2 km above ground). Place names and coordinates are approximate (district centres).
 */
import sofiaStation from '../../config/stations/sofia.json' with { type: 'json' };
import { LidarError } from '../errors.js';
import { parseStation } from '../station.js';
import type { AerosolFieldSpec, AerosolOptics } from './aerosol-field.js';
import type { Instrument, SimChannel } from './instrument.js';
import type { ScenarioSpec } from './scenario.js';

const STATION = parseStation(sofiaStation, 'config/stations/sofia.json');
const GROUND_M = STATION.ground_altitude_m ?? STATION.altitude_m;

/** Nd:YAG 532/1064 nm, analog + photon counting per wavelength (Licel TR: 16-bit ADC, 500 mV). */
function channels(skyPc532MHz: number, skyPc1064MHz: number): SimChannel[] {
  const common = { laser: 1, polarization: 'o', analogNoiseMv: 0.05, analogShotNoiseMv: 0.002, adcBits: 16, groundReflectance: 0.15 };
  // Analog and photon counting see the same light: analog mV = gain * photon MHz.
  const gain532 = 0.02;
  const gain1064 = 0.05;
  const c532 = 5e13;
  const c1064 = 1.5e13;
  return [
    { ...common, wavelengthNm: 532, kind: 'analog', deviceId: 'BT0', pmtVoltageV: 780, lidarConstant: c532 * gain532, skyBackground: skyPc532MHz * gain532, analogOffsetMv: 1.2, inputRangeV: 0.5, deadTimeNs: 0, analogDelayBins: 2 },
    { ...common, wavelengthNm: 532, kind: 'photon', deviceId: 'BC0', pmtVoltageV: 780, lidarConstant: c532, skyBackground: skyPc532MHz, analogOffsetMv: 0, inputRangeV: 3.1746, deadTimeNs: 3.7, analogDelayBins: 0 },
    { ...common, wavelengthNm: 1064, kind: 'analog', deviceId: 'BT1', pmtVoltageV: 820, lidarConstant: c1064 * gain1064, skyBackground: skyPc1064MHz * gain1064, analogOffsetMv: 1.0, inputRangeV: 0.5, deadTimeNs: 0, analogDelayBins: 2, groundReflectance: 0.3 },
    { ...common, wavelengthNm: 1064, kind: 'photon', deviceId: 'BC1', pmtVoltageV: 820, lidarConstant: c1064, skyBackground: skyPc1064MHz, analogOffsetMv: 0, inputRangeV: 3.1746, deadTimeNs: 3.7, analogDelayBins: 0, groundReflectance: 0.3 },
  ];
}

/**
 * The recorder keeps PRETRIGGER_BINS bins before the laser fires (Licel pre-trigger memory): a clean
 * background estimate whatever the record length (the far end of a 12-15 km record still holds
 * molecular signal comparable to the night sky background).
 */
export const PRETRIGGER_BINS = 200;

/** `dataBins` after the trigger (7.5 m each) plus the pre-trigger bins. */
function instrument(dataBins: number, skyPc532MHz: number, skyPc1064MHz: number): Instrument {
  return { bins: dataBins + PRETRIGGER_BINS, binWidthM: 7.5, zeroBin: PRETRIGGER_BINS, repetitionRateHz: 20, overlapR0M: 140, channels: channels(skyPc532MHz, skyPc1064MHz) };
}

const URBAN_OPTICS: Omit<AerosolOptics, 'rh'> = { lidarRatioSr: { '532': 50, '1064': 40 }, angstrom: 1.3, meePm10: 3.5, meePm25: 6.0, gamma: 0.5 };

/** Dense districts and main roads (approximate centres and alignments). */
const WINTER_HOT_SPOTS = [
  { label: 'built-up west and centre (solid-fuel heating)', latDeg: 42.7, lonDeg: 23.285, radiusM: 6000, pm10: 35 },
  { label: 'Lyulin', latDeg: 42.715, lonDeg: 23.255, radiusM: 2500, pm10: 110 },
  { label: 'Nadezhda', latDeg: 42.728, lonDeg: 23.302, radiusM: 2000, pm10: 80 },
  { label: 'Krasna Polyana / Hipodruma', latDeg: 42.685, lonDeg: 23.285, radiusM: 1800, pm10: 105 },
  { label: 'Sredets / Vazrazhdane (centre)', latDeg: 42.697, lonDeg: 23.322, radiusM: 1800, pm10: 85 },
  { label: 'Ovcha Kupel', latDeg: 42.675, lonDeg: 23.255, radiusM: 1800, pm10: 70 },
];
const ROADS = [
  { label: 'Tsarigradsko shose', path: [[42.693, 23.337], [42.668, 23.366], [42.652, 23.386], [42.628, 23.42]] as Array<[number, number]>, halfWidthM: 250, pm10: 35 },
  { label: 'Botevgradsko shose', path: [[42.703, 23.34], [42.72, 23.37], [42.745, 23.41]] as Array<[number, number]>, halfWidthM: 250, pm10: 30 },
  { label: 'Ring road (south)', path: [[42.66, 23.245], [42.636, 23.29], [42.628, 23.35], [42.64, 23.41]] as Array<[number, number]>, halfWidthM: 300, pm10: 25 },
];

function field(overrides: Partial<AerosolFieldSpec> & Pick<AerosolFieldSpec, 'optics'>): AerosolFieldSpec {
  return {
    originLatDeg: STATION.lat,
    originLonDeg: STATION.lon,
    backgroundPm10: 30,
    hotSpots: [],
    roads: [],
    diurnal: [[0, 1]],
    basinFloorM: 590,
    slopeScaleM: 400,
    mixingTopAsl: [[0, GROUND_M + 1000]],
    mixingTopWaveM: 0,
    mixingTopWavelengthM: 10_000,
    entrainmentThicknessM: 150,
    mixedLayerDecayM: Infinity,
    freeTroposphere: { pm10: 5, scaleHeightM: 1500, topAslM: 6000 },
    ...overrides,
  };
}

const PPI_CITY_VITOSHA = { kind: 'ppi', elevationDeg: 2, azimuthFromDeg: 190, azimuthToDeg: 350, azimuthStepDeg: 10, dwellS: 30 } as const;
/** Toward the Vitosha slope at 6 deg: the beam meets the slope above the winter inversion. */
const PPI_VITOSHA_HIGH = { kind: 'ppi', elevationDeg: 6, azimuthFromDeg: 200, azimuthToDeg: 250, azimuthStepDeg: 10, dwellS: 30 } as const;
const VERTICAL = (dwellS: number, repeat = 1) => ({ kind: 'fixed', azimuthDeg: 0, elevationDeg: 90, dwellS, repeat }) as const;
const SOURCES = [
  'EEA Air Quality e-Reporting (E2a) hourly PM10, Sofia stations, ExEA Bulgaria (2017-12..2018-09)',
  'NIMH radiosonde temperature profiles, Sofia, Nov 2016 (surface inversions)',
  'US Standard Atmosphere 1976; Bucholtz 1995 Appl. Opt. 34, 2765',
  'Terrain: SRTM (NASA/USGS) via Terrain Tiles (Mapzen / AWS Open Data), 160 m grid',
];

export const SCENARIOS: Record<string, () => ScenarioSpec> = {
  'sofia-winter-inversion': () => ({
    name: 'sofia-winter-inversion',
    description:
      'Winter evening heating episode (19 Jan, 18-20 h EET): PM10 80-250 ug/m3 in the west and centre, about half in the east; surface inversion 350-420 m above the station capping the basin; clean air above it on the Vitosha slope. PPI at 2 deg over the city and toward Vitosha (190-350 deg), a 6 deg sector up the Vitosha slope (200-250 deg) and a vertical profile every 15 min.',
    station: STATION,
    utcOffsetHours: 2,
    startLocal: '2018-01-19T18:00:00',
    durationS: 2 * 3600,
    cycleS: 900,
    cycle: [PPI_CITY_VITOSHA, PPI_VITOSHA_HIGH, VERTICAL(60)],
    instrument: instrument(1600, 0.05, 0.02),
    met: { heightM: GROUND_M, pressurePa: 95_100, temperatureK: 270.2 },
    filePrefix: 'SF',
    sources: SOURCES,
    field: field({
      backgroundPm10: 75,
      hotSpots: WINTER_HOT_SPOTS,
      roads: ROADS,
      // January median evening cycle of the western/central stations, normalised at 19 h.
      diurnal: [[17, 0.88], [18, 0.9], [19, 1.0], [20, 1.08], [21, 1.1]],
      mixingTopAsl: [[18, GROUND_M + 420], [20, GROUND_M + 350]],
      mixingTopWaveM: 30,
      mixingTopWavelengthM: 9000,
      entrainmentThicknessM: 100,
      mixedLayerDecayM: 1500,
      freeTroposphere: { pm10: 6, scaleHeightM: 1500, topAslM: 6000 },
      optics: { ...URBAN_OPTICS, rh: 0.7 },
    }),
  }),
  'sofia-summer-convective': () => ({
    name: 'sofia-summer-convective',
    description:
      'Summer afternoon (15 Jul, 13-14 h EEST): convective boundary layer ~2 km deep, PM10 15-25 ug/m3, strong daylight background. PPI at 4 deg (190-350 deg) plus vertical profiles, 20 min cycle.',
    station: STATION,
    utcOffsetHours: 3,
    startLocal: '2018-07-15T13:00:00',
    durationS: 2400,
    cycleS: 1200,
    cycle: [{ ...PPI_CITY_VITOSHA, elevationDeg: 4 }, VERTICAL(60, 2)],
    instrument: instrument(1600, 3, 1.5),
    met: { heightM: GROUND_M, pressurePa: 94_300, temperatureK: 302.1 },
    filePrefix: 'SF',
    sources: SOURCES,
    field: field({
      backgroundPm10: 16,
      hotSpots: WINTER_HOT_SPOTS.map((s) => ({ ...s, pm10: s.pm10 * 0.08 })),
      roads: ROADS.map((r) => ({ ...r, pm10: 4 })),
      mixingTopAsl: [[13, GROUND_M + 1900], [14, GROUND_M + 2050]],
      mixingTopWaveM: 80,
      entrainmentThicknessM: 300,
      slopeScaleM: 1500,
      freeTroposphere: { pm10: 3, scaleHeightM: 2000, topAslM: 6000 },
      optics: { ...URBAN_OPTICS, rh: 0.45 },
    }),
  }),
  'vertical-clear': () => ({
    name: 'vertical-clear',
    description:
      'Night-time vertical profiles for inversion tests: boundary layer to 1.6 km a.s.l. (PM10 ~30), a lofted layer at 3-4 km, aerosol-free above 6 km a.s.l.; 5 min averages, 2000 bins (15 km).',
    station: STATION,
    utcOffsetHours: 3,
    startLocal: '2018-10-10T22:00:00',
    durationS: 1800,
    cycleS: 300,
    cycle: [VERTICAL(300)],
    instrument: instrument(2000, 0.03, 0.01),
    met: { heightM: GROUND_M, pressurePa: 94_800, temperatureK: 283.0 },
    filePrefix: 'VC',
    sources: SOURCES,
    field: field({
      backgroundPm10: 30,
      mixingTopAsl: [[22, 1600], [22.5, 1620]],
      entrainmentThicknessM: 150,
      loftedLayer: { baseAslM: 3000, topAslM: 4000, pm10: 12, edgeM: 80 },
      freeTroposphere: { pm10: 4, scaleHeightM: 1200, topAslM: 6000 },
      optics: { ...URBAN_OPTICS, rh: 0.6 },
    }),
  }),
  cloud: () => ({
    name: 'cloud',
    description:
      'Vertical profiles under a water cloud: base 2.6 km a.s.l. (2 km above ground), 300 m thick, mean extinction 10 /km (optical depth 3), lidar ratio 18 sr; boundary layer to 1.4 km a.s.l. with PM10 ~40. 2 min averages, 2000 bins.',
    station: STATION,
    utcOffsetHours: 2,
    startLocal: '2018-03-20T21:00:00',
    durationS: 720,
    cycleS: 120,
    cycle: [VERTICAL(120)],
    instrument: instrument(2000, 0.03, 0.01),
    met: { heightM: GROUND_M, pressurePa: 94_600, temperatureK: 278.0 },
    filePrefix: 'CL',
    sources: SOURCES,
    field: field({
      backgroundPm10: 40,
      mixingTopAsl: [[21, 1400]],
      entrainmentThicknessM: 120,
      cloud: { baseAslM: 2600, thicknessM: 300, extinctionPerM: 0.01, lidarRatioSr: 18 },
      optics: { ...URBAN_OPTICS, rh: 0.75 },
    }),
  }),
};

export function scenarioNames(): string[] {
  return Object.keys(SCENARIOS);
}

export function getScenario(name: string): ScenarioSpec {
  const make = SCENARIOS[name];
  if (!make) throw new LidarError('LIDAR_ERR_NOT_FOUND', `unknown scenario '${name}' (known: ${scenarioNames().join(', ')})`, { field: 'scenario' });
  return make();
}
