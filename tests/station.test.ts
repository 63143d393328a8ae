import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseStation } from '../processing/station.js';
import { LidarError } from '../processing/errors.js';

const sofia = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'config', 'stations', 'sofia.json'), 'utf8'));

function errorOf(fn: () => unknown): LidarError {
  try {
    fn();
  } catch (e) {
    if (e instanceof LidarError) return e;
    throw e;
  }
  throw new Error('expected a LidarError');
}

describe('station settings', () => {
  it('reads the shipped Sofia station', () => {
    const s = parseStation(sofia, 'sofia.json');
    expect(s).toMatchObject({ id: 'sofia', lat: 42.65, lon: 23.38, zenith_convention: 'zenith', timezone: 'Europe/Sofia' });
    expect(Object.keys(s.channels)).toEqual(['0', '1', '2', '3']);
  });

  it('names the file, field and bad value', () => {
    const e = errorOf(() => parseStation({ ...sofia, lon: 'east' }, 'st.json'));
    expect(e.code).toBe('LIDAR_ERR_BAD_VALUE');
    expect(e.message).toBe('st.json, field lon: invalid lon: "east" (expected a number in [-180, 180])');
    expect(errorOf(() => parseStation({ ...sofia, zenith_convention: 'down' })).field).toBe('zenith_convention');
    expect(errorOf(() => parseStation({ ...sofia, id: 'has space' })).field).toBe('id');
    expect(errorOf(() => parseStation({ ...sofia, channels: { x: { wavelength_nm: 532, kind: 'analog' } } })).message).toMatch(/invalid channel key: "x"/);
    expect(errorOf(() => parseStation({ ...sofia, channels: { 0: { wavelength_nm: 532, kind: 'raman' } } })).field).toBe('channels.0.kind');
    expect(errorOf(() => parseStation(null)).field).toBe('station');
  });

  it('defaults the zenith convention to the Licel specification and the zone to UTC', () => {
    const s = parseStation({ id: 'x', lat: 0, lon: 0, altitude_m: 10 });
    expect(s.zenith_convention).toBe('zenith');
    expect(s.timezone).toBe('UTC');
  });
});
