// Helpers for judging the retrieval against the simulator's truth (shared by the accuracy tests).
import { base64ToFloat32 } from '../processing/encoding/base64.js';
import { decodeLicel } from '../processing/licel/decode.js';
import { encodeLicel } from '../processing/licel/encode.js';
import type { LicelFile } from '../processing/licel/types.js';
import { getScenario } from '../processing/simulate/scenarios.js';
import { planProfiles, simulatePlanned, toLicelFile, type ScenarioSpec, type TruthDocument, type TruthProfile } from '../processing/simulate/scenario.js';
import type { ProfileTruth } from '../processing/simulate/forward.js';
import { paramsId, resolveParams } from '../processing/retrieval/params.js';
import type { RetrievalContext } from '../processing/retrieval/retrieve.js';
import type { ParameterSetJson } from '../processing/retrieval/params.types.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTerrain } from '../bin/io.js';

export const terrain = loadTerrain();
export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'scenarios');

/** The parameter set a scientist would use with full knowledge of the instrument and aerosol (the truth's). */
export function knownParams(truth: TruthDocument, extra: ParameterSetJson = {}): ParameterSetJson {
  const m = truth.aerosol_model;
  return {
    overlap: { table: truth.instrument.overlap.table },
    dead_time_ns: truth.instrument.channels.find((c) => c.kind === 'photon')!.dead_time_ns,
    pm: { mee_pm10: m.mee_pm10, mee_pm25: m.mee_pm25, gamma: m.gamma, rh: m.rh, angstrom: m.angstrom },
    monte_carlo: 0,
    ...extra,
  };
}

export function contextFor(spec: ScenarioSpec, truth: TruthDocument, extra: ParameterSetJson = {}, monteCarlo?: number): RetrievalContext {
  const params = resolveParams(knownParams(truth, extra));
  return { station: spec.station, params, paramsId: paramsId(params), terrain, surface: { pressurePa: spec.met.pressurePa, temperatureK: spec.met.temperatureK }, monteCarlo };
}

export function readTruth(scenario: string): TruthDocument {
  return JSON.parse(readFileSync(join(FIXTURES, scenario, 'truth.json'), 'utf8')) as TruthDocument;
}

export function fixtureFile(scenario: string, name: string): LicelFile {
  return decodeLicel(new Uint8Array(readFileSync(join(FIXTURES, scenario, name))), name);
}

export function truthArray(p: TruthProfile, key: string): Float32Array {
  return base64ToFloat32(p.arrays[key]);
}

/**
 * Noise-free profiles with many shots (so the rounding of the raw integers is negligible): the
 * scenario's verticals re-simulated with a 50 min dwell (60000 shots).
 */
export function noiseFreeVerticals(scenario: string): Array<{ spec: ScenarioSpec; file: LicelFile; truth: ProfileTruth }> {
  const base = getScenario(scenario);
  const spec: ScenarioSpec = { ...base, durationS: 3000, cycleS: 3000, cycle: [{ kind: 'fixed', azimuthDeg: 0, elevationDeg: 90, dwellS: 3000 }] };
  return planProfiles(spec).map((p) => {
    const res = simulatePlanned(spec, p, terrain, 1, false);
    return { spec, file: decodeLicel(encodeLicel(toLicelFile(spec, p, res))), truth: res.truth };
  });
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
}
