// `npm start` as a new user runs it (no configuration): the service replays the Sofia winter scenario
// as if live into an embedded store and serves the API. Started here on a free port (PORT=0) with a
// temporary data folder; within a minute the latest map has PM over Sofia and a curtain has data.
import { describe, expect, it, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const dataDir = mkdtempSync(join(tmpdir(), 'lidar-npm-start-'));
let child: ChildProcess | null = null;
afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
});

async function getJson(url: string): Promise<{ status: number; body: any }> {
  const r = await fetch(url);
  return { status: r.status, body: r.headers.get('content-type')?.includes('json') ? await r.json() : await r.text() };
}

describe('npm start (no configuration)', () => {
  it('serves a map of Sofia with PM and a curtain within a minute, and stops cleanly', async () => {
    // detached: npm and the service in their own process group, so the whole group gets the signal
    child = spawn('npm', ['start', '--silent'], { cwd: ROOT, env: { ...process.env, PORT: '0', LIDAR_PM_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let log = '';
    child.stdout!.on('data', (d) => (log += d));
    child.stderr!.on('data', (d) => (log += d));
    const t0 = Date.now();
    let base = '';
    while (!base && Date.now() - t0 < 60_000) {
      base = /HTTP API on (http:\/\/[^\s]+) /.exec(log)?.[1] ?? '';
      if (child.exitCode !== null) throw new Error(`npm start exited early:\n${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(base, log).toMatch(/^http:\/\//);

    let map: any = null;
    while (Date.now() - t0 < 60_000) {
      const r = await getJson(`${base}/api/v1/stations/sofia/map?product=pm10`);
      if (r.status === 200 && r.body.features?.filter((f: any) => f.properties.value > 0 && /^\d\d$/.test(f.properties.district)).length > 5) {
        map = r.body;
        break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(map, `no map with PM within 60 s:\n${log}`).not.toBeNull();
    const seconds = (Date.now() - t0) / 1000;
    console.log(`npm start: map with ${map.features.length} cells after ${seconds.toFixed(1)} s`);
    // Fresh (re-stamped to now), over Sofia's districts, in ug/m3.
    expect(Date.now() - Date.parse(map.time)).toBeLessThan(3 * 3_600_000);
    expect(map.features.filter((f: any) => /^\d\d$/.test(f.properties.district)).length).toBeGreaterThan(5);
    for (const f of map.features) {
      const [lon, lat] = f.geometry.coordinates[0][0];
      expect(lat).toBeGreaterThan(42.5);
      expect(lat).toBeLessThan(42.8);
      expect(lon).toBeGreaterThan(23.1);
      expect(lon).toBeLessThan(23.6);
    }
    // The start-up backfill puts the recording's 2 h (8 verticals) behind "now" within the minute.
    let curtain: { status: number; body: any } = { status: 0, body: null };
    while (Date.now() - t0 < 60_000) {
      const to = new Date().toISOString();
      const from = new Date(Date.now() - 3 * 3_600_000).toISOString();
      curtain = await getJson(`${base}/api/v1/stations/sofia/curtain?from=${from}&to=${to}&width=48&height=50`);
      if (curtain.status === 200 && curtain.body.profiles_used >= 8) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(curtain.status).toBe(200);
    expect(curtain.body.profiles_used, log).toBeGreaterThanOrEqual(8);
    console.log(`npm start: curtain of ${curtain.body.profiles_used} verticals after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(curtain.body.values.flat().filter((v: number | null) => v !== null && v > 0).length).toBeGreaterThan(100);
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);

    // Ctrl-C in a terminal: SIGINT to the whole foreground group (npm and the service).
    process.kill(-child.pid!, 'SIGINT');
    const t1 = Date.now();
    while (!log.includes('stopped cleanly') && Date.now() - t1 < 30_000) await new Promise((r) => setTimeout(r, 100));
    expect(log).toContain('SIGINT: shutting down');
    expect(log).toContain('stopped cleanly');
  }, 180_000);
});
