// `lidar-pm serve` as a process: a replay that ends does not end the service (it runs until
// signalled), everything replayed is stored, and SIGTERM drains and exits 0.
import { describe, expect, it, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmbeddedBackend } from '../store/embedded/backend.js';
import { canonicalParams, paramsId, resolveParams } from '../processing/retrieval/params.js';

const ROOT = join(import.meta.dirname, '..');
const tmp = mkdtempSync(join(tmpdir(), 'lidar-serve-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('lidar-pm serve', () => {
  it('keeps running after a finite replay, stores it, and stops cleanly on SIGTERM', async () => {
    const config = join(tmp, 'config.json');
    writeFileSync(config, JSON.stringify({ data_dir: join(tmp, 'data'), sources: [{ kind: 'replay', dir: join(ROOT, 'fixtures', 'scenarios', 'vertical-clear'), station: 'sofia', speed: 0, loop: false, shift_to_now: false }], params: { sofia: { monte_carlo: 0 } }, http: { host: '127.0.0.1', port: 0 } }));
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'lidar-pm.mjs'), 'serve', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (d) => (log += d));
    child.stderr.on('data', (d) => (log += d));
    let exitCode: number | null = null;
    child.once('exit', (code) => (exitCode = code));
    const t0 = Date.now();
    while (!log.includes('lidar-pm serving') && Date.now() - t0 < 60_000 && exitCode === null) await new Promise((r) => setTimeout(r, 100));
    // Wait (bounded) until the 6 files are stored, then check the process is still running.
    const dbPath = join(tmp, 'data', 'lidar-pm.sqlite');
    for (const t1 = Date.now(); Date.now() - t1 < 60_000; await new Promise((r) => setTimeout(r, 250))) {
      if (!existsSync(dbPath)) continue;
      const reader = createEmbeddedBackend({ path: dbPath });
      await reader.open();
      const n = (await reader.profiles({ station: 'sofia', fromMs: 0, toMs: 4102444800000 })).length;
      await reader.close();
      if (n >= 12) break;
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(exitCode, log).toBeNull();
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => (exitCode !== null ? r(exitCode) : child.once('exit', r)));
    expect(code, log).toBe(0);
    expect(log).toContain('stopped cleanly');
    const store = createEmbeddedBackend({ path: join(tmp, 'data', 'lidar-pm.sqlite') });
    await store.open();
    const profiles = await store.profiles({ station: 'sofia', fromMs: 0, toMs: 4102444800000 });
    // The configured set is stored in its canonical form under its id (what /param-sets/{id} serves).
    const configured = resolveParams({ monte_carlo: 0 });
    const set = await store.getParamSet(paramsId(configured));
    await store.close();
    expect(profiles.length).toBe(12); // 6 vertical files x 2 wavelengths
    expect(set?.json).toBe(canonicalParams(configured));
  }, 120_000);
});
