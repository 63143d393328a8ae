/**
 * The real service with the built dashboard, for the browser test (tests/dashboard-browser.test.ts)
 * and the dashboard benchmark (scripts/bench-dashboard.ts): the dashboard is built with vite into a
 * temporary folder, `lidar-pm serve` runs as a child (its own process group) on a free port with a
 * temporary data folder and that dashboard (config `http.dashboard_dir`); the default replay of the
 * Sofia winter scenario backfills the store, and start returns once the latest PM10 map is fresh
 * (a scan less than 20 min old with values).
 *
 * The service and the folder never outlive this process (./processes.ts).
 *
 * Also reads the draw times the app records with performance.measure (docs/dashboard.md):
 * `lidar-pm:map-draw` (public map cells, detail { cells }), `lidar-pm:curtain-draw` (scientist
 * raster, detail { columns, rows }), `lidar-pm:ppi-draw` (polar scan, detail { rays, bins, paths }).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { trackChild, trackDir } from './processes.js';

const ROOT = join(import.meta.dirname, '..', '..');

export interface DashboardServiceOptions {
  /** Extra service configuration merged over `{ http: { host, dashboard_dir } }` (e.g. `auth`). */
  config?: Record<string, unknown>;
  /** Limit for the vite build (default 170 s). */
  buildTimeoutMs?: number;
  /** Limit for the first HTTP answer (default 60 s) and for a fresh map (default 120 s from the start). */
  listenTimeoutMs?: number;
  backfillTimeoutMs?: number;
}

export interface DashboardService {
  /** http://127.0.0.1:PORT */
  base: string;
  /** The temporary folder (dist/, data/, config.json). */
  dir: string;
  /** What the service printed so far. */
  log(): string;
  /** SIGTERM to the process group (SIGKILL after 10 s), then removes the temporary folder. Idempotent. */
  stop(): Promise<void>;
}

interface ApiMapLite {
  time: string | null;
  features: Array<{ properties: { value: number | null } }>;
}

export async function startDashboardService(opts: DashboardServiceOptions = {}): Promise<DashboardService> {
  const dir = mkdtempSync(join(tmpdir(), 'lidar-dashboard-service-'));
  trackDir(dir);
  const distDir = join(dir, 'dist');
  let child: ChildProcess | null = null;
  let log = '';
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (child && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        /* gone */
      }
      const t0 = Date.now();
      while (child.exitCode === null && child.signalCode === null && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 100));
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const build = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'dashboard/vite.config.ts', '--outDir', distDir, '--emptyOutDir', '--logLevel', 'warn'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: opts.buildTimeoutMs ?? 170_000,
      env: { ...process.env, NODE_ENV: 'production' },
    });
    if (build.status !== 0) throw new Error(`vite build failed:\n${build.stdout}\n${build.stderr}`);
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ ...opts.config, http: { host: '127.0.0.1', dashboard_dir: distDir } }));
    child = spawn(process.execPath, [join(ROOT, 'bin', 'lidar-pm.mjs'), 'serve', '--config', config], {
      cwd: ROOT,
      env: { ...process.env, PORT: '0', LIDAR_PM_DATA_DIR: join(dir, 'data'), NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    trackChild(child);
    child.stdout!.on('data', (d) => (log += d));
    child.stderr!.on('data', (d) => (log += d));
    const t0 = Date.now();
    let base = '';
    while (!base && Date.now() - t0 < (opts.listenTimeoutMs ?? 60_000)) {
      base = /HTTP API on (http:\/\/[^\s]+) /.exec(log)?.[1] ?? '';
      if (child.exitCode !== null) throw new Error(`lidar-pm serve exited:\n${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!base) throw new Error(`no HTTP API within ${opts.listenTimeoutMs ?? 60_000} ms:\n${log}`);
    // Wait for the backfill to reach "now": a map with PM whose scan is fresh (not greyed as stale).
    while (Date.now() - t0 < (opts.backfillTimeoutMs ?? 120_000)) {
      const m = (await fetch(`${base}/api/v1/stations/sofia/map?product=pm10`)
        .then((r) => r.json())
        .catch(() => null)) as ApiMapLite | null;
      if (m && m.time && Date.now() - Date.parse(m.time) < 20 * 60_000 && m.features.some((f) => f.properties.value !== null)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    return { base, dir, log: () => log, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

export type DrawName = 'lidar-pm:map-draw' | 'lidar-pm:curtain-draw' | 'lidar-pm:ppi-draw';
export interface DrawEntry {
  /** Duration of the draw (performance.measure in the page), ms. */
  ms: number;
  /** What was drawn (cells; columns and rows; rays, bins and paths). */
  detail: Record<string, number>;
}

/** Every draw of this kind the page has measured so far, in order. */
export async function drawEntries(page: Page, name: DrawName): Promise<DrawEntry[]> {
  return page.evaluate((n) => performance.getEntriesByName(n).map((e) => ({ ms: e.duration, detail: (e as unknown as { detail: Record<string, number> }).detail })), name);
}

/** Waits until the page has measured more than `count` draws of this kind. */
export async function waitForDraws(page: Page, name: DrawName, count: number, timeoutMs = 30_000): Promise<void> {
  await page.waitForFunction(([n, k]) => performance.getEntriesByName(n as string).length > (k as number), [name, count] as const, { timeout: timeoutMs, polling: 100 });
}
