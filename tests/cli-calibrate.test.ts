// `lidar-pm calibrate` as a user runs it (child process): the winter scenario's scans past the Mladost
// AQ station (BG0079A), a parameter set with a wrong MEE (5.0), the 'station' PM10 = the simulator's
// true hourly PM10 at those bins (tests/calibrate.test.ts derives 83.62 and 91.51 ug/m3), exit codes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { paramsId, resolveParams } from '../processing/retrieval/params.js';
import { FIXTURES, knownParams, readTruth } from './retrieval-truth.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'lidar-pm.mjs');
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });

const scenario = 'sofia-winter-inversion';
const truth = readTruth(scenario);
// The scans at 340 and 350 deg azimuth pass within 500 m of Mladost (~0.65 km NNE of the lidar).
const files = truth.profiles.filter((t) => t.elevation_deg < 15 && (t.azimuth_deg === 340 || t.azimuth_deg === 350)).map((t) => join(FIXTURES, scenario, t.file));
const pc532 = truth.instrument.channels.find((c) => c.kind === 'photon' && c.wavelength_nm === 532)!.lidar_constant;

let dir = '';
let paramsFile = '';
let pmFile = '';
let productsFile = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lidar-pm-cal-'));
  paramsFile = join(dir, 'params.json');
  const m = truth.aerosol_model;
  writeFileSync(paramsFile, JSON.stringify(knownParams(truth, { reference: { mode: 'calibration', lidar_constant: pc532 }, pm: { mee_pm10: 5.0, mee_pm25: m.mee_pm25, gamma: m.gamma, rh: m.rh, angstrom: m.angstrom } })));
  pmFile = join(dir, 'mladost.csv');
  // Local (EET) hour starts, as the EEA files give them; --aq-timezone converts.
  writeFileSync(pmFile, 'time,pm10\n2018-01-19T17:00,70.1\n2018-01-19T18:00,83.62\n2018-01-19T19:00,91.51\n2018-01-19T20:00,\n');
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('lidar-pm calibrate', () => {
  it('fits the MEE from Licel files (exit 0), writes the new parameter set, and needs >= 3 hours by default (exit 2)', () => {
    const out = join(dir, 'calibrated.json');
    const r = run('calibrate', ...files, '--params', paramsFile, '--pm', pmFile, '--aq-timezone', 'Europe/Sofia', '--aq-station', 'BG0079A', '--min-hours', '2', '--out', out);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep.station).toMatchObject({ id: 'BG0079A', name: 'Sofia - Mladost' });
    expect(rep.n_hours).toBe(2);
    expect(Math.abs(rep.pm10.mee_m2_per_g / 3.5 - 1)).toBeLessThan(0.03);
    expect(rep.pm25).toBeNull();
    expect(rep.gamma).toBeNull();
    expect(rep.calibration.stats.hours.map((h: { time: string }) => h.time)).toEqual(['2018-01-19T16:00:00Z', '2018-01-19T17:00:00Z']);
    expect(rep.calibration.method).toMatch(/Huber/);
    // --out: the parameter set alone (the contract rejects unknown keys), canonical, re-resolvable.
    const set = resolveParams(JSON.parse(readFileSync(out, 'utf8')));
    expect(set.pm.meePm10).toBe(rep.params.pm.mee_pm10);
    expect(set.reference.lidarConstant).toBe(pc532);
    expect(paramsId(set)).toBe(rep.params_id);

    const short = run('calibrate', ...files, '--params', paramsFile, '--pm', pmFile, '--aq-timezone', 'Europe/Sofia', '--aq-station', 'BG0079A');
    expect(short.status).toBe(2);
    expect(short.stdout).toBe('');
    expect(short.stderr).toMatch(/^lidar-pm: LIDAR_ERR_BAD_VALUE: .*mladost\.csv, field paired hours: only 2 paired hours \(need >= 3\): 2 lidar hours with >= 20 bins near BG0079A/);
  });

  it('takes the products JSON of lidar-pm retrieve --json; text output; says why nothing pairs', () => {
    const ret = run('retrieve', ...files, '--params', paramsFile, '--json');
    expect(ret.status).toBe(0);
    productsFile = join(dir, 'products.json');
    writeFileSync(productsFile, ret.stdout);
    const r = run('calibrate', '--products', productsFile, '--params', paramsFile, '--pm', pmFile, '--aq-timezone', 'Europe/Sofia', '--aq-station', 'bg0079a', '--min-hours', '2', '--text');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const mee = Number(/PM10: +MEE ([\d.]+)/.exec(r.stdout)![1]);
    expect(Math.abs(mee / 3.5 - 1)).toBeLessThan(0.03);
    expect(r.stdout).toMatch(/station BG0079A Sofia - Mladost .* 2 paired hours/);
    // Druzhba (BG0052A) is ~2 km east: no scan passes within 500 m of it.
    const far = run('calibrate', '--products', productsFile, '--params', paramsFile, '--pm', pmFile, '--aq-station', 'BG0052A');
    expect(far.status).toBe(2);
    expect(far.stderr).toMatch(/only 0 paired hours \(need >= 3\): no bins within 500 m of BG0052A \(nearest bin \d+ m away\)/);
    // Naive times read as UTC without --aq-timezone: the hours no longer overlap enough.
    const utc = run('calibrate', '--products', productsFile, '--params', paramsFile, '--pm', pmFile, '--aq-lat', '42.655488', '--aq-lon', '23.383271', '--min-hours', '2');
    expect(utc.status).toBe(2);
    expect(utc.stderr).toMatch(/only 1 paired hours \(need >= 2\)/);
  });

  it('bad usage and bad input exit 2 with a coded message; a missing file exits 1', () => {
    const noPm = run('calibrate', '--products', 'x.json', '--aq-station', 'BG0079A');
    expect(noPm.status).toBe(2);
    expect(noPm.stderr).toMatch(/LIDAR_ERR_USAGE: field --pm: --pm FILE .* is required/);
    const both = run('calibrate', '--products', 'x.json', '--pm', pmFile);
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/LIDAR_ERR_USAGE: .*--aq-station CODE or as --aq-lat/);
    const unknown = run('calibrate', '--products', 'x.json', '--pm', pmFile, '--aq-station', 'BG9999A');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/LIDAR_ERR_NOT_FOUND: .*unknown AQ station 'BG9999A' \(known: BG0040A/);
    const badCsv = join(dir, 'bad.csv');
    writeFileSync(badCsv, 'time,pm10\n2018-01-19T16:00Z,12\n2018-01-19T17:00Z,twelve\n');
    const bad = run('calibrate', '--products', 'x.json', '--pm', badCsv, '--aq-station', 'BG0079A');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/LIDAR_ERR_BAD_VALUE: .*bad\.csv, byte 31, field pm10: line 3: invalid pm10: "twelve"/);
    const missing = run('calibrate', '--products', join(dir, 'nope.json'), '--pm', pmFile, '--aq-station', 'BG0079A');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/LIDAR_ERR_IO: .*nope\.json: cannot read file/);
  });
});
