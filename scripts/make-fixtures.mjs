#!/usr/bin/env node
// Regenerates the committed scenario recordings: fixtures/scenarios/<name>/ (Licel files + truth.json)
// with `lidar-pm simulate --scenario <name> --seed 1`. tests/fixtures.test.ts fails when they are stale.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const FIXTURE_SCENARIOS = ['sofia-winter-inversion', 'sofia-summer-convective', 'vertical-clear', 'cloud'];
for (const name of FIXTURE_SCENARIOS) {
  const out = join(root, 'fixtures', 'scenarios', name);
  rmSync(out, { recursive: true, force: true });
  const r = spawnSync(process.execPath, [join(root, 'bin', 'lidar-pm.mjs'), 'simulate', '--scenario', name, '--seed', '1', '--out', out], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
