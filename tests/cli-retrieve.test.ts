// `lidar-pm retrieve` as a user runs it: contract JSON, CSV, parameter sets, bad input.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'lidar-pm.mjs');
const VC = join(ROOT, 'fixtures', 'scenarios', 'vertical-clear');
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
const firstVertical = join(VC, 'VC18A1022.050000');

describe('lidar-pm retrieve', () => {
  it('prints the contract JSON for each channel of a file', () => {
    const r = run('retrieve', firstVertical, '--json', '--monte-carlo', '5');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.errors).toEqual([]);
    expect(out.profiles.map((p: { channel: { wavelength_nm: number } }) => p.channel.wavelength_nm)).toEqual([532, 1064]);
    const p = out.profiles[0];
    for (const key of ['file', 'station', 'time_start', 'time_end', 'channel', 'azimuth_deg', 'elevation_deg', 'range_m', 'height_m', 'lat', 'lon', 'beta_aer', 'alpha_aer', 'pm10', 'pm25', 'beta_aer_sigma', 'alpha_aer_sigma', 'pm10_sigma', 'pm25_sigma', 'qc', 'pbl_height_m', 'cloud_base_m', 'aod', 'params_id']) {
      expect(p).toHaveProperty(key);
    }
    expect(p.channel).toMatchObject({ wavelength_nm: 532, kind: 'glued' });
    expect(p.time_start).toBe('2018-10-10T19:00:00Z'); // 22:00 EEST
    expect(p.elevation_deg).toBe(90);
    expect(p.params_id).toMatch(/^p-[0-9a-f]{16}$/);
    expect(p.range_m.length).toBe(p.beta_aer.length);
    // NaN as null: pre-trigger bins have no product
    expect(p.beta_aer[0]).toBeNull();
    expect(p.pbl_height_m).toBeGreaterThan(1400);
    expect(p.pbl_height_m).toBeLessThan(1800);
  });

  it('prints CSV rows, one per bin', () => {
    const r = run('retrieve', firstVertical, '--csv', '--monte-carlo', '0');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^file,time_start,time_end,wavelength_nm,/);
    expect(lines.length).toBe(1 + 2 * 2200);
    expect(lines[1].split(',').length).toBe(lines[0].split(',').length);
  });

  it('takes a parameter set; a bad one is named with its field (exit 2)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lidar-pm-ret-'));
    try {
      const good = join(dir, 'p.json');
      writeFileSync(good, JSON.stringify({ lidar_ratio_sr: 45, monte_carlo: 0 }));
      const a = JSON.parse(run('retrieve', firstVertical, '--params', good).stdout);
      const b = JSON.parse(run('retrieve', firstVertical, '--monte-carlo', '0').stdout);
      expect(a.profiles[0].params_id).not.toBe(b.profiles[0].params_id);
      const bad = join(dir, 'bad.json');
      writeFileSync(bad, JSON.stringify({ reference: { window_m: [8000, 6000] } }));
      const r = run('retrieve', firstVertical, '--params', bad);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/bad.json, field reference.window_m/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a broken file, still retrieves the others (exit 2), and averages same-geometry files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lidar-pm-ret-'));
    try {
      const broken = join(dir, 'broken.dat');
      writeFileSync(broken, 'not a licel file');
      const r = run('retrieve', broken, firstVertical, '--monte-carlo', '0');
      expect(r.status).toBe(2);
      const out = JSON.parse(r.stdout);
      expect(out.profiles.length).toBe(2);
      expect(out.errors[0]).toMatchObject({ file: broken, code: 'LIDAR_ERR_LICEL_FORMAT' });
      expect(r.stderr).toMatch(/broken.dat/);
      const second = join(dir, 'second');
      copyFileSync(join(VC, 'VC18A1022.100000'), second);
      const avg = JSON.parse(run('retrieve', firstVertical, second, '--average', '--monte-carlo', '0').stdout);
      expect(avg.profiles.length).toBe(2);
      expect(avg.profiles[0].file).toBe(`${firstVertical}+${second}`);
      expect(run('retrieve', join(dir, 'missing')).status).toBe(1);
      expect(run('retrieve').status).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('dead-time model', () => {
  it('paralysable and non-paralysable agree at low rates and differ near saturation', async () => {
    const { retrieveFile } = await import('../processing/retrieval/retrieve.js');
    const { paramsId, resolveParams } = await import('../processing/retrieval/params.js');
    const { fixtureFile } = await import('./retrieval-truth.js');
    const { loadStation } = await import('../bin/commands/retrieve.js');
    const file = fixtureFile('vertical-clear', 'VC18A1022.050000');
    const run = (model: 'nonparalysable' | 'paralysable') => {
      const params = resolveParams({ dead_time_model: model, monte_carlo: 0, channel: 1 });
      return retrieveFile(file, 'x', { station: loadStation(), params, paramsId: paramsId(params), terrain: null })[0];
    };
    const a = run('nonparalysable');
    const b = run('paralysable');
    expect(a.paramsId).not.toBe(b.paramsId);
    // Far range (~0.2 MHz): the corrected signals agree (the models differ by (S tau)^2 terms);
    // near range (tens of MHz) the paralysable correction is larger.
    const far = 200 + 800;
    expect(Math.abs(b.rcs[far] / a.rcs[far] - 1)).toBeLessThan(1e-4);
    let larger = 0;
    for (let i = 200; i < 600; i++) if (b.rcs[i] / a.rcs[i] > 1.001) larger++;
    expect(larger).toBeGreaterThan(10);
    // where the measured rate is beyond the paralysable maximum (S tau > 1/e) there is no solution
    expect(b.qc.slice(200, 600).some((q, k) => (q & 16) !== 0 && Number.isFinite(a.rcs[200 + k]))).toBe(true);
  });
});
