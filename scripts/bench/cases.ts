/**
 * The retrievals the identity and comparison checks run (scripts/bench/identity.ts, compare.ts): fixture
 * files of all four scenarios, verticals with the rayleigh and calibration boundaries, scans with the
 * calibration boundary (a few with rayleigh, refused at low elevation: expected errors), Monte Carlo
 * 0 and (a few) 10.
 */
import { getScenario } from '../../processing/simulate/scenarios.js';
import type { RetrievalContext } from '../../processing/retrieval/retrieve.js';
import { contextFor, readTruth } from '../../tests/retrieval-truth.js';

const pcConstant532 = (scenario: string) =>
  readTruth(scenario).instrument.channels.find((c) => c.kind === 'photon' && c.wavelength_nm === 532)!.lidar_constant;

export interface Case {
  scenario: string;
  file: string;
  boundary: 'rayleigh' | 'calibration';
  monteCarlo: number;
}

/** Files of a scenario: every vertical profile, and every `step`-th of the others (scans). */
function files(scenario: string, maxScans: number): { verticals: string[]; scans: string[] } {
  const profiles = readTruth(scenario).profiles;
  const verticals = profiles.filter((p) => p.elevation_deg === 90).map((p) => p.file);
  const others = profiles.filter((p) => p.elevation_deg !== 90).map((p) => p.file);
  const step = Math.max(1, Math.ceil(others.length / maxScans));
  return { verticals, scans: others.filter((_, i) => i % step === 0) };
}

/** The cases; `quick`: fewer scans and Monte Carlo runs. */
export function identityCases(quick: boolean): Case[] {
  const cases: Case[] = [];
  for (const scenario of ['vertical-clear', 'sofia-winter-inversion', 'sofia-summer-convective', 'cloud']) {
    const { verticals, scans } = files(scenario, quick ? 3 : 16);
    // Verticals with both boundaries; scans with the calibrated boundary (rayleigh is refused at low
    // elevation: a few are kept as expected errors). Monte Carlo 10 on the first few of each.
    for (const file of verticals) for (const boundary of ['rayleigh', 'calibration'] as const) cases.push({ scenario, file, boundary, monteCarlo: 0 });
    for (const file of scans) cases.push({ scenario, file, boundary: 'calibration', monteCarlo: 0 });
    for (const file of scans.slice(0, 2)) cases.push({ scenario, file, boundary: 'rayleigh', monteCarlo: 0 });
    for (const file of verticals.slice(0, quick ? 1 : 3)) for (const boundary of ['rayleigh', 'calibration'] as const) cases.push({ scenario, file, boundary, monteCarlo: 10 });
    for (const file of scans.slice(0, quick ? 1 : 3)) cases.push({ scenario, file, boundary: 'calibration', monteCarlo: 10 });
  }
  return cases;
}

/** A case's name in reports: scenario/file/boundary/mcN. */
export const caseKey = (c: Case): string => `${c.scenario}/${c.file}/${c.boundary}/mc${c.monteCarlo}`;

/** The retrieval context of a case (the accuracy tests' context; calibration with the instrument's constant). */
export function caseContext(c: Case): RetrievalContext {
  const extra = c.boundary === 'calibration' ? { reference: { mode: 'calibration' as const, lidar_constant: pcConstant532(c.scenario) } } : {};
  return contextFor(getScenario(c.scenario), readTruth(c.scenario), extra, c.monteCarlo);
}
