/**
 * `lidar-pm simulate --scenario NAME --out DIR [--seed N] [--station FILE] [--met FILE] [--noise-free] [--no-terrain] [--list]`
 * Writes the scenario's Licel files and truth.json into DIR (created if missing). `--station` moves the
 * scenario to another station (the field keeps its shape relative to the lidar; the terrain grid is
 * used only where it covers); `--met` uses a met profile CSV (height_m,pressure_hpa,temperature_k)
 * instead of the scaled US Standard Atmosphere 1976.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LidarError } from '../../processing/errors.js';
import { getScenario, scenarioNames, SCENARIOS } from '../../processing/simulate/scenarios.js';
import { planProfiles, runScenario, withStation } from '../../processing/simulate/scenario.js';
import { parseStation } from '../../processing/station.js';
import { parseMetCsv } from '../../processing/atmosphere/standard-atmosphere.js';
import type { Command } from '../command.js';
import { loadTerrain, readBytes, readJson } from '../io.js';

export const simulateCommand: Command = async (args) => {
  const { values } = parseArgs({
    args,
    options: {
      scenario: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string', default: '1' },
      station: { type: 'string' },
      met: { type: 'string' },
      'noise-free': { type: 'boolean', default: false },
      'no-terrain': { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.list) {
    for (const name of scenarioNames()) {
      const s = SCENARIOS[name]();
      process.stdout.write(`${name}\t${planProfiles(s).length} profiles\t${s.description}\n`);
    }
    return 0;
  }
  if (!values.scenario) throw new LidarError('LIDAR_ERR_USAGE', `--scenario is required (one of: ${scenarioNames().join(', ')})`, { field: '--scenario' });
  if (!values.out) throw new LidarError('LIDAR_ERR_USAGE', '--out DIR is required', { field: '--out' });
  const seed = Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new LidarError('LIDAR_ERR_USAGE', `invalid --seed: ${values.seed} (an integer 0..4294967295)`, { field: '--seed' });
  let spec = getScenario(values.scenario);
  if (values.station) spec = withStation(spec, parseStation(readJson(values.station), values.station));
  if (values.met) spec = { ...spec, sounding: parseMetCsv(new TextDecoder().decode(readBytes(values.met)), values.met) };
  const terrain = values['no-terrain'] ? null : loadTerrain();
  const run = runScenario(spec, { seed, terrain, noise: !values['noise-free'] });
  try {
    mkdirSync(values.out, { recursive: true });
    for (const f of run.files) writeFileSync(join(values.out, f.name), f.bytes);
    writeFileSync(join(values.out, 'truth.json'), JSON.stringify(run.truth, null, 1) + '\n');
  } catch (e) {
    throw new LidarError('LIDAR_ERR_IO', `cannot write output: ${(e as Error).message}`, { file: values.out });
  }
  if (!values.quiet) {
    const bytes = run.files.reduce((s, f) => s + f.bytes.length, 0);
    process.stdout.write(`${spec.name}: ${run.files.length} Licel files (${(bytes / 1e6).toFixed(1)} MB) and truth.json written to ${values.out} (seed ${seed})\n`);
  }
  return 0;
};
