// `npm run bench -- --quick --only ...` (scripts/bench-all.ts) runs and produces its table and JSON.
// Shape only: timings are never asserted in tests; docs/performance.md quotes the full benchmark.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Row } from '../scripts/bench-all.js';

const ROOT = join(import.meta.dirname, '..');


describe('benchmark suite (bench-all --quick smoke run)', () => {
  it('runs the selected benchmarks, prints one table and writes the summary and detail JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lidar-pm-bench-'));
    try {
      const out = join(dir, 'summary.json');
      const details = join(dir, 'details');
      const stdout = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/bench-all.ts', '--quick', '--only', 'retrieval,store-embedded', '--out', out, '--details', details], {
        cwd: ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 240_000,
      });
      // One table on stdout: the header, a rule, then one line per row.
      const lines = stdout.split('\n');
      const header = lines.findIndex((l) => /^benchmark\s*\| workload\s*\| metric\s*\| +value \| unit$/.test(l));
      expect(header, stdout).toBeGreaterThanOrEqual(0);
      expect(lines[header + 1]).toMatch(/^-+(-\|-+)+$/);
      expect(stdout).toMatch(/\d+ rows from 2 of 2 benchmarks in [\d.]+ s\n/);
      expect(stdout).not.toContain('FAILED');

      const doc = JSON.parse(readFileSync(out, 'utf8'));
      expect(doc.format).toBe('lidar-pm-bench-summary/1');
      expect(doc.quick).toBe(true);
      expect(doc.failed).toEqual([]);
      expect(doc.machine.nproc).toBeGreaterThan(0);
      expect(typeof doc.machine.cpuModel).toBe('string');
      expect(doc.machine.node).toBe(process.version);
      expect(doc.machine.loadAverageAtStart).toHaveLength(3);
      expect(Number.isNaN(Date.parse(doc.date))).toBe(false);
      expect(Object.keys(doc.benchmarks)).toEqual(['retrieval', 'store-embedded']);

      const rows = doc.rows as Row[];
      const tableRows = lines.slice(header + 2).filter((l) => l.includes(' | '));
      expect(tableRows).toHaveLength(rows.length);
      for (const r of rows) {
        expect(Number.isFinite(r.value), JSON.stringify(r)).toBe(true);
        expect(r.workload.length).toBeGreaterThan(10);
        expect(tableRows.some((l) => l.startsWith(r.benchmark) && l.includes(r.workload) && l.includes(r.metric))).toBe(true);
      }
      const has = (benchmark: string, metric: string, unit: string, workload: RegExp) => rows.some((r) => r.benchmark === benchmark && r.metric === metric && r.unit === unit && workload.test(r.workload));
      // retrieval (quick: 1000 data bins + 200 pre-trigger) for both profile kinds
      expect(has('retrieval', 'time per bin', 'ns/bin', /vertical .*1200 bins/)).toBe(true);
      expect(has('retrieval', 'time per bin', 'ns/bin', /scan .*1200 bins/)).toBe(true);
      expect(has('retrieval', 'profiles', 'profiles/s', /1200 bins/)).toBe(true);
      // Monte Carlo per realisation and bytes allocated per warm call
      expect(has('retrieval', 'Monte Carlo per realisation', 'ns/bin', /vertical .*1200 bins.*per realisation/)).toBe(true);
      expect(has('retrieval', 'Monte Carlo per realisation', 'us/file', /scan .*1200 bins.*per realisation/)).toBe(true);
      expect(has('retrieval', 'bytes allocated per call', 'KiB', /vertical .*1200 bins/)).toBe(true);
      // the arithmetic floor of the same workloads (scripts/bench/floor.ts)
      expect(has('retrieval', 'floor time per bin', 'ns/bin', /arithmetic floor .*vertical, 1200 bins, up to the chain's signal extents \(\d+, \d+ bins\)/)).toBe(true);
      expect(has('retrieval', 'floor time per bin', 'ns/bin', /arithmetic floor .*scan, 1200 bins/)).toBe(true);
      // throughput with 1 and 2 worker threads (this machine has 2 cores)
      expect(has('retrieval', 'time per bin (wall)', 'ns/bin', /vertical, 1200 bins, MC off, 1 worker thread \(throughput\)/)).toBe(true);
      expect(has('retrieval', 'profiles', 'profiles/s', /scan, 1200 bins, MC off, \d+ worker thread/)).toBe(true);
      // embedded store: write rate and the query latencies
      expect(has('store-embedded', 'write', 'profiles/s', /1 days .*SQLite/)).toBe(true);
      expect(has('store-embedded', 'write', 'points/s', /SQLite/)).toBe(true);
      expect(has('store-embedded', 'latest map (pm10, 17-ray PPI) p50', 'ms', /SQLite/)).toBe(true);
      expect(has('store-embedded', '24 h curtain 288 x 200 (beta_aer) p50', 'ms', /SQLite/)).toBe(true);
      // growth tables and the detail files they came from
      expect(doc.growth.bins.map((g: { kind: string; bins: number }) => `${g.kind} ${g.bins}`)).toEqual(['vertical 1200', 'scan 1200']);
      expect(doc.growth.storedProfiles).toHaveLength(1);
      expect(doc.growth.storedProfiles[0].days).toBe(1);
      const retrieval = JSON.parse(readFileSync(join(details, 'retrieval.json'), 'utf8'));
      expect(retrieval.format).toBe('lidar-pm-bench/1');
      expect(retrieval.results.map((r: { kind: string }) => r.kind)).toEqual(['vertical', 'scan']);
      expect(retrieval.parallel.length).toBeGreaterThanOrEqual(2);
      for (const t of retrieval.parallel) expect(t.profilesPerSecond).toBeGreaterThan(0);
      const store = JSON.parse(readFileSync(join(details, 'store-embedded.json'), 'utf8'));
      expect(store.data.days).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);

  it('refuses an unknown benchmark name', () => {
    let stderr = '';
    try {
      execFileSync(process.execPath, ['--import', 'tsx', 'scripts/bench-all.ts', '--quick', '--only', 'retrieval,nonsense'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      stderr = String((e as { stderr: string }).stderr);
    }
    expect(stderr).toMatch(/unknown benchmark "nonsense"/);
  }, 60_000);
});
