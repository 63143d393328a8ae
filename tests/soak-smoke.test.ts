// Smoke test of the soak script (scripts/soak.ts, not run here in full: 24 h of data takes minutes):
// one hour of the winter scenario, re-stamped, through a real mosquitto into `lidar-pm serve` with a
// real influxd store, memory sampled. Checks that it runs to the end, that every expected profile is
// in InfluxDB exactly once, and that the curve file has samples. No memory assertion (that is what
// the full soak reports, docs/reliability.md).
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { soak } from '../scripts/soak.js';

const tmp = mkdtempSync(join(tmpdir(), 'lidar-soak-smoke-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('soak script, 1 h of data', () => {
  it('stores the expected profiles once and writes the memory curve', async () => {
    const out = join(tmp, 'soak.json');
    const r = await soak({ hours: 1, window: 64, sampleMs: 500, monteCarlo: 0, out, keep: false, log: () => undefined });
    expect(r.files).toBeGreaterThanOrEqual(90); // 1 h of the recording: 4 cycles of 24 files
    expect(r.expected).toBeGreaterThan(50);
    expect(r.duplicates).toBe(0);
    expect(r.stored).toBe(r.expected);
    expect(r.ok).toBe(true);
    const curve = JSON.parse(readFileSync(out, 'utf8')) as { samples: Array<{ rss_mib: number }>; result: { ok: boolean } };
    expect(curve.result.ok).toBe(true);
    expect(curve.samples.length).toBeGreaterThanOrEqual(2);
    expect(curve.samples.every((s) => s.rss_mib > 10)).toBe(true);
  }, 180_000);
});
