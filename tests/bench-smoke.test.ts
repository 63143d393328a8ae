// `npm run bench -- --quick` runs and produces its table and JSON (shape only: timings are never
// asserted in tests; docs/performance.md quotes the full benchmark).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');

describe('retrieval benchmark (--quick smoke run)', () => {
  it('prints the chain and stage tables and writes the JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lidar-pm-bench-'));
    try {
      const out = join(dir, 'retrieval.json');
      const stdout = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/bench.ts', '--quick', '--out', out], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(stdout).toContain('Full chain (retrieveFile');
      expect(stdout).toMatch(/ns\/bin/);
      expect(stdout).toContain('Stages, vertical');
      expect(stdout).toContain('Stages, scan');
      const doc = JSON.parse(readFileSync(out, 'utf8'));
      expect(doc.format).toBe('lidar-pm-bench/1');
      expect(doc.quick).toBe(true);
      expect(doc.machine.cores).toBeGreaterThan(0);
      expect(doc.results.map((r: { kind: string }) => r.kind)).toEqual(['vertical', 'scan']);
      for (const r of doc.results) {
        expect(r.bins).toBe(r.dataBins + 200);
        expect(r.profilesPerFile).toBe(2);
        for (const v of [r.warm.medianNs, r.warm.p90Ns, r.warm.nsPerBin, r.warm.profilesPerSecond, r.cold.medianNs, r.monteCarlo.medianNs, r.memory.bytesPerCall]) expect(Number.isFinite(v)).toBe(true);
        expect(r.stages.map((s: { stage: string }) => s.stage)).toEqual(expect.arrayContaining(['glue', 'fernald', 'fernaldCalibrated', 'detectCloud', 'detectHardTarget', 'pblHeight', 'extinctionToPm']));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
