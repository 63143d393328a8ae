// `lidar-pm simulate` as a user runs it: files and truth.json on disk, exit codes per the contract.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeLicel } from '../processing/licel/decode.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'lidar-pm.mjs');
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

describe('lidar-pm simulate', () => {
  it('writes decodable Licel files and truth.json for a scenario, repeatably for a seed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lidar-pm-sim-'));
    try {
      const r = run('simulate', '--scenario', 'cloud', '--out', join(dir, 'a'), '--seed', '7');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/cloud: 6 Licel files/);
      const names = readdirSync(join(dir, 'a')).sort();
      expect(names).toContain('truth.json');
      const truth = JSON.parse(readFileSync(join(dir, 'a', 'truth.json'), 'utf8'));
      expect(truth.format).toBe('lidar-pm-truth/1');
      expect(truth.seed).toBe(7);
      expect(truth.profiles.map((p: { file: string }) => p.file).sort()).toEqual(names.filter((n) => n !== 'truth.json'));
      for (const n of names.filter((x) => x !== 'truth.json')) {
        expect(decodeLicel(new Uint8Array(readFileSync(join(dir, 'a', n))), n).datasets).toHaveLength(4);
      }
      expect(run('simulate', '--scenario', 'cloud', '--out', join(dir, 'b'), '--seed', '7', '--quiet').status).toBe(0);
      for (const n of names) expect(readFileSync(join(dir, 'b', n))).toEqual(readFileSync(join(dir, 'a', n)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes another station (--station) and a met profile (--met), and names a bad one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lidar-pm-sim-'));
    try {
      const station = join(dir, 'station.json');
      writeFileSync(station, JSON.stringify({ id: 'test', name: 'Testsite', lat: 45.5, lon: 10.25, altitude_m: 250, zenith_convention: 'zenith', timezone: 'UTC', channels: {} }));
      const met = join(dir, 'met.csv');
      writeFileSync(met, 'height_m,pressure_hpa,temperature_k\n250,985,280\n2000,800,270\n8000,360,230\n16000,100,215\n');
      const r = run('simulate', '--scenario', 'cloud', '--out', join(dir, 'out'), '--station', station, '--met', met, '--quiet');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const truth = JSON.parse(readFileSync(join(dir, 'out', 'truth.json'), 'utf8'));
      expect(truth.station.id).toBe('test');
      expect(truth.met.atmosphere).toBe('met');
      expect(truth.met.profile[1]).toEqual([2000, 800, 270]);
      const first = decodeLicel(new Uint8Array(readFileSync(join(dir, 'out', truth.profiles[0].file))));
      expect(first.header.latitudeDeg).toBeCloseTo(45.5, 6);
      writeFileSync(station, JSON.stringify({ id: 'test', lat: 123, lon: 10, altitude_m: 250 }));
      const bad = run('simulate', '--scenario', 'cloud', '--out', join(dir, 'out2'), '--station', station);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toMatch(/station.json, field lat: invalid lat: 123/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lists the scenarios', () => {
    const r = run('simulate', '--list');
    expect(r.status).toBe(0);
    for (const name of ['sofia-winter-inversion', 'sofia-summer-convective', 'vertical-clear', 'cloud']) expect(r.stdout).toContain(name);
  });

  it('rejects an unknown scenario, a bad seed and missing arguments with exit code 2 and a clear message', () => {
    const unknown = run('simulate', '--scenario', 'nope', '--out', join(tmpdir(), 'never'));
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/LIDAR_ERR_NOT_FOUND.*unknown scenario 'nope'/);
    const seed = run('simulate', '--scenario', 'cloud', '--out', join(tmpdir(), 'never'), '--seed=-1');
    expect(seed.status).toBe(2);
    expect(seed.stderr).toMatch(/invalid --seed: -1/);
    expect(run('simulate', '--scenario', 'cloud').status).toBe(2);
    expect(run('simulate', '--bogus').status).toBe(2);
  });

  it('unknown commands exit 2', () => {
    expect(run('frobnicate').status).toBe(2);
  });
});
