// The committed scenario recordings (fixtures/scenarios/*) are exactly what `npm run fixtures`
// (lidar-pm simulate --seed 1) produces from the current code: regenerate them when the model changes.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { getScenario } from '../processing/simulate/scenarios.js';
import { runScenario } from '../processing/simulate/scenario.js';
import { loadTerrain } from '../bin/io.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'scenarios');
const SCENARIOS = ['sofia-winter-inversion', 'sofia-summer-convective', 'vertical-clear', 'cloud'];
const terrain = loadTerrain();

describe('committed scenario fixtures', () => {
  it.each(SCENARIOS)('%s is current (byte-identical to a fresh seed-1 run)', (name) => {
    const dir = join(FIXTURES, name);
    expect(existsSync(dir), `${dir} missing: run npm run fixtures`).toBe(true);
    const run = runScenario(getScenario(name), { seed: 1, terrain });
    const committed = readdirSync(dir).filter((n) => n !== 'truth.json').sort();
    expect(committed).toEqual(run.files.map((f) => f.name).sort());
    for (const f of run.files) expect(Buffer.compare(readFileSync(join(dir, f.name)), Buffer.from(f.bytes)), `${name}/${f.name} is stale: run npm run fixtures`).toBe(0);
    expect(readFileSync(join(dir, 'truth.json'), 'utf8')).toBe(JSON.stringify(run.truth, null, 1) + '\n');
  });

  it('stays under ~30 MB in all', () => {
    let bytes = 0;
    for (const name of SCENARIOS) for (const f of readdirSync(join(FIXTURES, name))) bytes += statSync(join(FIXTURES, name, f)).size;
    expect(bytes).toBeLessThan(30e6);
  });

  it('covers a couple of hours of the winter scenario with scans and verticals', () => {
    const truth = JSON.parse(readFileSync(join(FIXTURES, 'sofia-winter-inversion', 'truth.json'), 'utf8'));
    const times = truth.profiles.map((p: { time_start_utc: string }) => Date.parse(p.time_start_utc));
    expect((Math.max(...times) - Math.min(...times)) / 3.6e6).toBeGreaterThan(1.7);
    expect(truth.profiles.some((p: { elevation_deg: number }) => p.elevation_deg === 90)).toBe(true);
    expect(truth.profiles.filter((p: { elevation_deg: number }) => p.elevation_deg < 10).length).toBeGreaterThan(100);
  });
});
