// Files of other stations: channel selection (Raman channels left out, wavelengths from the station
// when the header has none), a station made from the header when no settings are given, and the
// CLI on the real files in ../shared/data/licel (Embrapa: 355 nm with 387/408 nm Raman channels;
// Medellin: 2022 format, every wavelength written as 0).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeLicel } from '../processing/licel/decode.js';
import { datasetWavelengthNm, isRamanOf, ramanWavelengthNm, selectChannels } from '../processing/retrieval/signal.js';
import { headerDistanceKm, parseStation, stationFromHeader } from '../processing/station.js';
import { LidarError } from '../processing/errors.js';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'lidar-pm.mjs');
const LICEL = join(ROOT, '..', 'shared', 'data', 'licel');
const EMBRAPA = join(LICEL, 'RM1261600.003');
const MEDELLIN = join(LICEL, 'RS2241315.544839');
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
const sofia = parseStation(JSON.parse(readFileSync(join(ROOT, 'config', 'stations', 'sofia.json'), 'utf8')));

describe('Raman lines', () => {
  it('N2 and H2O lines of 355 and 532 nm are where lidars put their Raman channels', () => {
    // N2 2330.7 cm^-1 and H2O 3657 cm^-1 from the Nd:YAG lines 354.717 and 532.075 nm (Freudenthaler's 2015
    // table lists the Raman channels at 386.89, 407.558 and 607.435 nm: within the 1.5 nm match)
    expect(ramanWavelengthNm(354.717, 2330.7)).toBeCloseTo(386.7, 1);
    expect(ramanWavelengthNm(354.717, 3657)).toBeCloseTo(407.6, 1);
    expect(ramanWavelengthNm(532.075, 2330.7)).toBeCloseTo(607.4, 1);
    expect(ramanWavelengthNm(532.075, 3657)).toBeCloseTo(660.6, 1);
  });

  it('a channel is Raman only next to its laser line', () => {
    expect(isRamanOf(387, [355, 387])).toBe(true);
    expect(isRamanOf(408, [355])).toBe(true);
    expect(isRamanOf(607, [532, 1064])).toBe(true);
    expect(isRamanOf(387, [532, 1064])).toBe(false); // no 355 nm laser: 387 is taken as elastic
    expect(isRamanOf(532, [355, 1064])).toBe(false);
    expect(isRamanOf(1064, [355, 532])).toBe(false);
    expect(isRamanOf(355, [355])).toBe(false);
  });
});

describe('stations from headers', () => {
  it('measures the distance from the station to the header position', () => {
    expect(headerDistanceKm({ latitudeDeg: 42.65, longitudeDeg: 23.38 }, sofia)).toBeCloseTo(0, 6);
    // Sofia to Plovdiv (42.15 N, 24.75 E): about 124 km
    expect(headerDistanceKm({ latitudeDeg: 42.15, longitudeDeg: 24.75 }, sofia)).toBeGreaterThan(120);
    expect(headerDistanceKm({ latitudeDeg: 42.15, longitudeDeg: 24.75 }, sofia)).toBeLessThan(128);
    expect(headerDistanceKm({ latitudeDeg: 0, longitudeDeg: 0 }, sofia)).toBeNaN();
    expect(headerDistanceKm({ latitudeDeg: NaN, longitudeDeg: 23 }, sofia)).toBeNaN();
  });

  it('makes a valid station from a header', () => {
    const s = stationFromHeader({ site: ' Embrapa ', latitudeDeg: -3, longitudeDeg: -60, altitudeM: 100 });
    expect(s).toMatchObject({ id: 'embrapa', name: 'Embrapa', lat: -3, lon: -60, altitude_m: 100, zenith_convention: 'zenith', timezone: 'UTC', channels: {} });
    expect(parseStation(JSON.parse(JSON.stringify(s)))).toMatchObject({ id: 'embrapa' });
    expect(stationFromHeader({ site: '', latitudeDeg: NaN, longitudeDeg: NaN, altitudeM: 99999 })).toMatchObject({ id: 'unknown', lat: 0, lon: 0, altitude_m: 0 });
  });
});

describe.skipIf(!existsSync(EMBRAPA) || !existsSync(MEDELLIN))('real files of other stations', () => {
  it('Embrapa: auto selects the 355 nm pair and leaves out the 387 and 408 nm Raman channels', () => {
    const file = decodeLicel(new Uint8Array(readFileSync(EMBRAPA)), 'RM1261600.003');
    expect(file.datasets.map((d) => d.wavelengthNm)).toEqual([355, 355, 387, 387, 408]);
    expect(selectChannels(file, 'auto')).toEqual([{ wavelengthNm: 355, polarization: 'o', analog: 0, photon: 1 }]);
    // asked for explicitly, a Raman dataset is still given
    expect(selectChannels(file, 3)).toEqual([{ wavelengthNm: 387, polarization: 'o', analog: -1, photon: 3 }]);
  });

  it('Medellin: wavelength 0 in the header; the station settings name it, else a clear error', () => {
    const file = decodeLicel(new Uint8Array(readFileSync(MEDELLIN)), 'RS2241315.544839');
    expect(file.datasets.map((d) => d.wavelengthNm)).toEqual([0, 0, 0, 0]);
    let err: unknown;
    try {
      selectChannels(file, 'auto', 'RS2241315.544839');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LidarError);
    expect((err as LidarError).code).toBe('LIDAR_ERR_NOT_FOUND');
    expect((err as LidarError).message).toMatch(/RS2241315\.544839.*wavelength 0.*channels\.<dataset>\.wavelength_nm/);
    expect(() => selectChannels(file, 0, 'RS2241315.544839')).toThrow(/dataset 0 \(BT0\) has no wavelength/);
    const channels = { '0': { wavelength_nm: 532, kind: 'analog' as const } };
    expect(datasetWavelengthNm(file, 0, channels)).toBe(532);
    expect(datasetWavelengthNm(file, 2, channels)).toBe(0);
    expect(selectChannels(file, 'auto', 'x', channels)).toEqual([{ wavelengthNm: 532, polarization: 's', analog: 0, photon: -1 }]);
  });

  it('the CLI retrieves a foreign file with a station made from its header, and says so', () => {
    const r = run('retrieve', EMBRAPA, '--json', '--monte-carlo', '0');
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/RM1261600\.003: site "Embrapa" is \d+ km from the default station sofia; using the header's position/);
    const out = JSON.parse(r.stdout);
    expect(out.errors).toEqual([]);
    expect(out.profiles).toHaveLength(1);
    const p = out.profiles[0];
    expect(p.station).toBe('embrapa');
    expect(p.channel).toMatchObject({ wavelength_nm: 355, kind: 'glued' });
    expect(p.time_start).toBe('2012-06-15T23:59:31Z'); // header time taken as UTC
    expect(p.lat[0]).toBeCloseTo(-3, 6);
    expect(p.lon[0]).toBeCloseTo(-60, 6);
    // the Sofia settings (200 pre-trigger bins) would have cut the first 1.5 km: the header station starts at bin 0
    expect(p.range_m[0]).toBeCloseTo(3.75, 6);
    expect(p.reference.mode).toBe('rayleigh');
    expect(p.reference.from_m).toBeGreaterThan(5000);
  });

  it('the CLI retrieves the Medellin file with station settings that name the wavelength', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lidar-pm-medellin-'));
    try {
      const station = join(dir, 'medellin.json');
      writeFileSync(station, JSON.stringify({ id: 'medellin', name: 'Medellin', lat: 6.2476, lon: -75.5658, altitude_m: 1495, zenith_convention: 'elevation', timezone: 'America/Bogota', channels: { '0': { wavelength_nm: 532, kind: 'analog' } } }));
      const r = run('retrieve', MEDELLIN, '--station', station, '--json', '--monte-carlo', '0', '--no-terrain');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.profiles.map((p: { channel: { wavelength_nm: number; polarization: string } }) => p.channel)).toEqual([
        expect.objectContaining({ wavelength_nm: 532, polarization: 's', kind: 'analog' }),
      ]);
      expect(out.profiles[0].elevation_deg).toBe(90);
      expect(out.profiles[0].time_start).toBe('2022-04-13T20:54:18Z'); // 15:54:18 in Bogota (UTC-5)
      // The header's zenith field (90) read as a zenith angle makes the profile horizontal: the
      // default boundary there (calibration) needs a constant, and the message points at the setting.
      writeFileSync(station, JSON.stringify({ id: 'medellin', name: 'Medellin', lat: 6.2476, lon: -75.5658, altitude_m: 1495, zenith_convention: 'zenith', timezone: 'America/Bogota', channels: { '0': { wavelength_nm: 532, kind: 'analog' } } }));
      const flat = run('retrieve', MEDELLIN, '--station', station, '--json', '--monte-carlo', '0', '--no-terrain');
      expect(flat.status).toBe(2);
      expect(flat.stderr).toMatch(/calibration mode \(the default below 15 deg elevation; this profile is at 0\.0 deg: if it is not, check the station's zenith_convention\) needs reference\.lidar_constant/);
      const without = run('retrieve', MEDELLIN, '--json', '--monte-carlo', '0');
      expect(without.status).toBe(2);
      expect(JSON.parse(without.stdout).errors[0]).toMatchObject({ code: 'LIDAR_ERR_NOT_FOUND' });
      expect(without.stderr).toMatch(/wavelength 0: set channels\.<dataset>\.wavelength_nm in the station settings/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
