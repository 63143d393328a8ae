// Service configuration: defaults (npm start), every kind of source, environment overrides, and
// validation errors that name the key; `lidar-pm serve` with bad configs.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadServiceConfig, DEFAULT_REPLAY_DIR } from '../bin/service/config.js';

const ROOT = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'lidar-config-'));
function file(obj: unknown): string {
  const f = join(dir, `c${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(f, JSON.stringify(obj));
  return f;
}

describe('service configuration', () => {
  it('defaults: embedded store under ./data, the winter scenario replayed live, port 8080', () => {
    const c = loadServiceConfig(undefined, {});
    expect(c.store.kind).toBe('embedded');
    expect(c.store.path).toBe(join(process.cwd(), 'data', 'lidar-pm.sqlite'));
    expect(c.sources).toEqual([{ kind: 'replay', dir: DEFAULT_REPLAY_DIR, station: 'sofia', speed: 1, loop: true, shiftToNow: true, backfill: true }]);
    expect(Object.keys(c.stations)).toEqual(['sofia']);
    expect(c.http.port).toBe(8080);
    expect(c.pipeline.workers).toBeGreaterThanOrEqual(1);
  });

  it('reads every source kind and resolves paths against the config file', () => {
    const c = loadServiceConfig(
      file({
        data_dir: 'd',
        store: { kind: 'influx', url: 'http://db:8086', database: 'lidar', raw_retention: '30d' },
        sources: [
          { kind: 'mqtt', url: 'mqtts://broker:8883', client_id: 'w1', shared_group: 'retrieval' },
          { kind: 'serial', path: '/dev/ttyUSB0', baud: 57600, station: 'sofia' },
          { kind: 'folder', dir: 'inbox', station: 'sofia' },
        ],
      }),
      {},
    );
    expect(c.dataDir).toBe(join(dir, 'd'));
    expect(c.store).toMatchObject({ kind: 'influx', url: 'http://db:8086', database: 'lidar', rawRetention: '30d', spoolDir: join(dir, 'd', 'spool') });
    expect(c.sources[0]).toMatchObject({ kind: 'mqtt', url: 'mqtts://broker:8883', clientId: 'w1', sharedGroup: 'retrieval', maxInFlight: 16 });
    expect(c.sources[1]).toEqual({ kind: 'serial', path: '/dev/ttyUSB0', baudRate: 57600, station: 'sofia' });
    expect(c.sources[2]).toEqual({ kind: 'folder', dir: join(dir, 'inbox'), station: 'sofia', stableMs: 2000 });
  });

  it('environment overrides secrets, URLs and the port', () => {
    const c = loadServiceConfig(file({ sources: [{ kind: 'mqtt' }] }), {
      PORT: '9090',
      LIDAR_PM_STORE: 'influx',
      LIDAR_PM_INFLUX_URL: 'http://x:8086',
      LIDAR_PM_INFLUX_PASSWORD: 's3cret',
      LIDAR_PM_MQTT_URL: 'mqtt://m:1883',
      LIDAR_PM_MQTT_PASSWORD: 'p',
    });
    expect(c.http.port).toBe(9090);
    expect(c.store).toMatchObject({ kind: 'influx', url: 'http://x:8086', password: 's3cret' });
    expect(c.sources[0]).toMatchObject({ url: 'mqtt://m:1883', password: 'p' });
  });

  it.each([
    [{ nope: 1 }, /unknown key nope/],
    [{ store: { kind: 'postgres' } }, /store.kind must be "embedded" or "influx"/],
    [{ store: { raw_retention: '90 days' } }, /store.raw_retention/],
    [{ sources: [{ kind: 'serial', path: '/dev/x', station: 'plovdiv' }] }, /sources\[0\].station: unknown station "plovdiv"/],
    [{ sources: [{ kind: 'folder', station: 'sofia', stable_ms: -1 }] }, /sources\[0\].stable_ms must be an integer/],
    [{ sources: [{ kind: 'carrier-pigeon' }] }, /sources\[0\].kind must be mqtt, serial, folder or replay/],
    [{ sources: {} }, /sources must be an array/],
    [{ params: { varna: {} } }, /params for unknown station "varna"/],
    [{ pipeline: { workers: 1.5 } }, /pipeline.workers must be an integer/],
    [{ http: { port: 70000 } }, /http.port/],
  ])('rejects %j naming the key', (cfg, message) => {
    expect(() => loadServiceConfig(file(cfg), {})).toThrow(message);
  });

  it('lidar-pm serve reports a bad or missing config and exits 2 / 1', () => {
    const serve = (...a: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'lidar-pm.mjs'), 'serve', ...a], { encoding: 'utf8' });
    let r = serve('--config', file({ store: { kind: 'nope' } }));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/LIDAR_ERR_BAD_VALUE.*field store.kind/);
    r = serve('--config', join(dir, 'missing.json'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/LIDAR_ERR_IO.*missing.json/);
  });
});
