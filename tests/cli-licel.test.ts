// `lidar-pm licel inspect` end to end: the real launcher, JSON output and exit codes
// (0 good, 2 bad file, 1 unreadable file, 2 usage).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = join(import.meta.dirname, '..');
const LICEL_DATA_DIR = join(REPO, '..', 'shared', 'data', 'licel');
const REAL = join(LICEL_DATA_DIR, 'RS2241315.544839');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO, 'bin', 'lidar-pm.mjs'), 'licel', ...args], { cwd: REPO, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(!existsSync(REAL))(`lidar-pm licel inspect (${existsSync(REAL) ? REAL : `skipped: ${REAL} is absent`})`, () => {
  let dir = '';
  let truncated = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lidar-pm-licel-'));
    truncated = join(dir, 'cut.bin');
    writeFileSync(truncated, readFileSync(REAL).subarray(0, 5000));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the contract JSON for a real file, exit 0', () => {
    const r = cli('inspect', REAL, '--json');
    expect(r.code, r.stderr).toBe(0);
    const { files } = JSON.parse(r.stdout);
    expect(files).toHaveLength(1);
    const f = files[0];
    expect(f).toMatchObject({
      file: REAL, file_name_in_header: 'RS2241315.544839', format: 'licel2022', site: 'Medellin',
      start_local: '2022-04-13T15:54:18', stop_local: '2022-04-13T15:54:48', altitude_m: 1495,
      lat: 6.2476, lon: -75.5658, zenith_raw: 90, azimuth_deg: 0, temperature_c: null,
      lasers: [{ laser: 1, shots: 601, rate_hz: 20 }, { laser: 2, shots: 0, rate_hz: 20 }, { laser: 3, shots: 0, rate_hz: 10 }],
    });
    expect(f.datasets.map((d: { id: string; type: string; bins: number }) => [d.id, d.type, d.bins])).toEqual([
      ['BT0', 'analog', 16380], ['S2A0', 'analog_squared', 2000], ['BT1', 'analog', 16380], ['S2A1', 'analog_squared', 2000],
    ]);
    expect(f.datasets[0]).toMatchObject({
      index: 0, wavelength_nm: 0, polarization: 's', bin_width_m: 3.75, shots: 601, adc_bits: 16, input_range_v: 0.5,
      raw_first: 427790, raw_last: 427368, raw_sum: 7090527761, raw_min: 426672, raw_max: 3914062, unit: 'mV',
    });
    // Later blocks are unaligned in the file: read through the copy path from a Node Buffer.
    expect(f.datasets.map((d: { raw_first: number; raw_sum: number; raw_max: number }) => [d.raw_first, d.raw_sum, d.raw_max])).toEqual([
      [427790, 7090527761, 3914062], [2880, 14549608, 417756], [405834, 6649109482, 550716], [2660, 5467313, 19522],
    ]);
  });

  it('prints a readable table without --json', () => {
    const r = cli('inspect', REAL);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('[licel2022]');
    expect(r.stdout).toMatch(/S2A1\s+analog_squared/);
    expect(r.stdout).toContain('7090527761');
  });

  it('a bad file: coded error line naming file, offset and field; other files still inspected; exit 2', () => {
    const r = cli('inspect', truncated, REAL, '--json');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `lidar-pm: LIDAR_ERR_LICEL_FORMAT: ${truncated}, byte 5000, field dataset 0 raw: truncated: the descriptors need 147620 bytes, the file has 5000`,
    );
    const { files } = JSON.parse(r.stdout);
    expect(files[0]).toEqual({
      file: truncated,
      error: expect.objectContaining({ code: 'LIDAR_ERR_LICEL_FORMAT', offset: 5000, field: 'dataset 0 raw' }),
    });
    expect(files[1].file_name_in_header).toBe('RS2241315.544839');
  });

  it('a missing file is LIDAR_ERR_IO, exit 1', () => {
    const missing = join(dir, 'nope.bin');
    const r = cli('inspect', missing, REAL);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`lidar-pm: LIDAR_ERR_IO: ${missing}: cannot read file`);
    expect(r.stdout).toContain('RS2241315.544839');
  });

  it('bad usage exits 2', () => {
    expect(cli('inspect').code).toBe(2);
    const r = cli('dump', REAL);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('LIDAR_ERR_USAGE');
    expect(cli('inspect', REAL, '--bogus').code).toBe(2);
  });
});
