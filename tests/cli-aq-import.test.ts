// `lidar-pm aq-import` as an operator runs it (child process): the EEA wide hourly export with bad
// rows into the configured embedded store (--config), bad rows reported FILE:LINE and copied to
// --rejects, the good rows stored and read back through the port; a repeat changes nothing; the real
// EEA file of shared/data/aq (when present) in a dry run; usage errors.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEmbeddedBackend } from '../store/embedded/index.js';
import { createApi } from '../api/server.js';
import { buildApiFixture } from './api-fixture.js';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'lidar-pm.mjs');
const REAL_EEA = join(ROOT, '..', 'shared', 'data', 'aq', 'eea_pm10_hourly_sofia_2017-12_2018-09.csv');
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, LIDAR_PM_TOKEN: '' } });

/** The command as an asynchronous child (for a server running in this process). */
const runAsync = (args: string[], token: string) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [BIN, 'aq-import', ...args], { env: { ...process.env, LIDAR_PM_TOKEN: token }, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });

const dir = mkdtempSync(join(tmpdir(), 'lidar-aq-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lidar-pm aq-import', () => {
  it('imports the EEA wide export into the store, reports and quarantines bad rows with line numbers', async () => {
    const file = join(dir, 'eea.csv');
    writeFileSync(
      file,
      [
        'datetime_begin_utc+01,BG0040A,BG0050A,BG0052A',
        '2018-01-19T17:00,69.83,63.08,64.82', // = 16:00 UTC
        '2018-01-19T18:00,127.28,,73.23', // line 3: BG0050A missing (empty)
        '2018-01-19T19:00,110.46,lots,75.98', // line 4: BG0050A bad, others kept
        '2018-01-19T20:00,115.37,199.11', // line 5: too few fields
        '2018-01-19T25:00,1,2,3', // line 6: bad time
        '2018-01-19T18:00,1,2,3', // line 7: duplicate time of line 3
        '',
      ].join('\n'),
    );
    const config = join(dir, 'config.json');
    const storePath = join(dir, 'store.sqlite');
    writeFileSync(config, JSON.stringify({ data_dir: dir, store: { kind: 'embedded', path: storePath } }));
    const rejects = join(dir, 'rejects.csv');
    const r = run('aq-import', file, '--config', config, '--rejects', rejects, '--source', 'EEA E2a test');
    expect(r.status, r.stderr).toBe(2);
    for (const line of [4, 5, 6, 7]) expect(r.stderr).toContain(`${file}:${line}:`);
    expect(r.stderr).not.toContain(`${file}:2:`);
    expect(r.stderr).not.toContain(`${file}:3:`);
    expect(r.stdout).toContain('6 rows read, 4 rejected');
    const q = readFileSync(rejects, 'utf8');
    expect(q).toContain('2018-01-19T19:00,110.46,lots,75.98');
    expect(q).toContain('2018-01-19T25:00,1,2,3');

    const store = createEmbeddedBackend({ path: storePath, rawRetentionMs: 0 });
    await store.open();
    try {
      const T = Date.UTC(2018, 0, 19, 16);
      const H = 3_600_000;
      const hours = async (id: string) => (await store.aqHours({ aqStation: id, fromMs: T - H, toMs: T + 6 * H })).map((h) => [h.timeMs - T, h.pm10, h.source]);
      expect(await hours('BG0040A')).toEqual([[0, 69.83, 'EEA E2a test'], [H, 127.28, 'EEA E2a test'], [2 * H, 110.46, 'EEA E2a test']]);
      expect(await hours('BG0050A')).toEqual([[0, 63.08, 'EEA E2a test']]);
      expect(await hours('BG0052A')).toEqual([[0, 64.82, 'EEA E2a test'], [H, 73.23, 'EEA E2a test'], [2 * H, 75.98, 'EEA E2a test']]);
    } finally {
      await store.close();
    }
    // A repeat stores the same hours again: nothing new.
    const again = run('aq-import', file, '--config', config, '--source', 'EEA E2a test', '--station-map', 'BG0040A=BG0040A');
    expect(again.stdout).toMatch(/BG0040A: 3 hours .*: 0 new or changed, 3 unchanged/);
  });

  it.skipIf(!existsSync(REAL_EEA))('reads the real EEA hourly file of shared/data/aq without a rejected row (dry run)', () => {
    const r = run('aq-import', REAL_EEA, '--dry-run');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('6699 rows read, 0 rejected');
    expect(r.stdout).toMatch(/BG0050A: 6685 hours 2017-12-02T15:00:00.000Z/);
  });

  it('PUTs each station to a running service with --url and the token from LIDAR_PM_TOKEN; an unknown station is refused, the others stored', async () => {
    const f = await buildApiFixture({ files: [] });
    const app = await createApi(f.ctx);
    try {
      const address = await app.listen({ host: '127.0.0.1', port: 0 });
      const file = join(dir, 'eea-url.csv');
      writeFileSync(file, ['datetime_begin_utc+01,BG0050A,XX9999Z', '2018-01-19T17:00,63.08,1', '2018-01-19T18:00,84.72,2', ''].join('\n'));
      const r = await runAsync([file, '--url', address], f.token);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toMatch(/BG0050A: 2 hours .*: 2 new or changed, 0 unchanged/);
      expect(r.stderr).toMatch(/XX9999Z: not stored: .*HTTP 404/);
      const got = await app.inject({ url: '/api/v1/aq-stations/BG0050A/hourly?from=2018-01-19T00:00Z&to=2018-01-20T00:00Z' });
      expect(JSON.parse(got.body).hours).toEqual([
        { time: '2018-01-19T16:00:00.000Z', pm10: 63.08, pm25: null, source: 'eea-url.csv' },
        { time: '2018-01-19T17:00:00.000Z', pm10: 84.72, pm25: null, source: 'eea-url.csv' },
      ]);
      // A wrong token: the service refuses with 401 (exit 2).
      const bad = await runAsync([file, '--url', address, '--aq-station', 'BG0050A'], 'lpm_wrong');
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('HTTP 401');
    } finally {
      await app.close();
      await f.close();
    }
  }, 120_000);

  it('refuses bad usage with exit 2', () => {
    const file = join(dir, 'station.csv');
    writeFileSync(file, 'time,pm10\n2018-01-19T16:00Z,10\n');
    expect(run('aq-import', file, '--dry-run').status).toBe(2); // a station CSV needs --aq-station
    expect(run('aq-import', file, '--aq-station', 'BG0050A').status).toBe(2); // neither --url nor --config
    const noToken = run('aq-import', file, '--aq-station', 'BG0050A', '--url', 'http://127.0.0.1:9');
    expect(noToken.status).toBe(2);
    expect(noToken.stderr).toContain('LIDAR_PM_TOKEN');
    expect(run('aq-import', file, '--aq-station', 'BG0050A', '--dry-run').stdout).toContain('BG0050A: 1 hours');
  });
});
