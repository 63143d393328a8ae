/**
 * Benchmark inputs from the simulator: a scenario with its record length changed (data bins after
 * the trigger plus the recorder's pre-trigger bins), one profile simulated, encoded to Licel bytes
 * and decoded again (what the retrieval reads in operation), with the retrieval context the
 * accuracy tests use (the instrument's own overlap table, dead time and PM model).
 */
import { decodeLicel } from '../../processing/licel/decode.js';
import { encodeLicel } from '../../processing/licel/encode.js';
import type { LicelFile } from '../../processing/licel/types.js';
import { getScenario, PRETRIGGER_BINS } from '../../processing/simulate/scenarios.js';
import { planProfiles, simulatePlanned, toLicelFile, type ScenarioSpec } from '../../processing/simulate/scenario.js';
import type { RetrievalContext } from '../../processing/retrieval/retrieve.js';
import { contextFor, readTruth, terrain } from '../../tests/retrieval-truth.js';

export interface BenchProfile {
  /** 'vertical' or 'scan'. */
  kind: string;
  scenario: string;
  dataBins: number;
  /** Bins per record (data + pre-trigger): what every per-bin loop of the chain runs over. */
  bins: number;
  azimuthDeg: number;
  elevationDeg: number;
  fileName: string;
  file: LicelFile;
  /** Context with Monte Carlo off; `withMonteCarlo` for N realisations. */
  ctx: RetrievalContext;
  withMonteCarlo(runs: number): RetrievalContext;
}

/** The scenario with `dataBins` bins after the trigger. */
export function withDataBins(spec: ScenarioSpec, dataBins: number): ScenarioSpec {
  return { ...spec, instrument: { ...spec.instrument, bins: dataBins + PRETRIGGER_BINS } };
}

/** Photon-counting 532 nm lidar constant of the scenario (the calibrated boundary of scans). */
function lidarConstant532(scenario: string): number {
  return readTruth(scenario).instrument.channels.find((c) => c.kind === 'photon' && c.wavelength_nm === 532)!.lidar_constant;
}

function profile(kind: string, scenario: string, dataBins: number, pick: (p: { elevationDeg: number; azimuthDeg: number }) => boolean, extra: object): BenchProfile {
  const spec = withDataBins(getScenario(scenario), dataBins);
  const planned = planProfiles(spec).find(pick);
  if (!planned) throw new Error(`no profile of ${scenario} matches the ${kind} benchmark`);
  const sim = simulatePlanned(spec, planned, terrain, 1);
  const licel = toLicelFile(spec, planned, sim);
  const file = decodeLicel(encodeLicel(licel), licel.header.fileName);
  const truth = readTruth(scenario);
  return {
    kind,
    scenario,
    dataBins,
    bins: spec.instrument.bins,
    azimuthDeg: planned.azimuthDeg,
    elevationDeg: planned.elevationDeg,
    fileName: licel.header.fileName,
    file,
    ctx: contextFor(spec, truth, extra, 0),
    withMonteCarlo: (runs) => contextFor(spec, truth, extra, runs),
  };
}

/**
 * The two benchmark profiles at one record length: a vertical profile of 'vertical-clear' (rayleigh
 * reference, PBL) and a 2 deg scan profile over the city of 'sofia-winter-inversion' (azimuth 280:
 * over the western districts; calibrated boundary with the 532 nm lidar constant, DEM screening).
 */
export function benchProfiles(dataBins: number): BenchProfile[] {
  return [
    profile('vertical', 'vertical-clear', dataBins, (p) => p.elevationDeg === 90, {}),
    profile('scan', 'sofia-winter-inversion', dataBins, (p) => p.elevationDeg === 2 && p.azimuthDeg === 280, {
      reference: { mode: 'calibration', lidar_constant: lidarConstant532('sofia-winter-inversion') },
    }),
  ];
}
