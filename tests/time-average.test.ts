import { describe, expect, it } from 'vitest';
import { localToUtcMs, toIsoUtc } from '../processing/time.js';
import { groupSameGeometry, sameGeometry, sumLicelFiles } from '../processing/retrieval/average.js';
import { selectChannels } from '../processing/retrieval/signal.js';
import { LidarError } from '../processing/errors.js';
import { fixtureFile } from './retrieval-truth.js';

describe('station clock to UTC', () => {
  it('converts Sofia local time across the DST change and UTC as is', () => {
    expect(toIsoUtc(localToUtcMs('2018-01-19T18:00:00', 'Europe/Sofia'))).toBe('2018-01-19T16:00:00Z'); // EET
    expect(toIsoUtc(localToUtcMs('2018-07-15T13:00:00', 'Europe/Sofia'))).toBe('2018-07-15T10:00:00Z'); // EEST
    expect(toIsoUtc(localToUtcMs('2018-03-25T04:30:00', 'Europe/Sofia'))).toBe('2018-03-25T01:30:00Z'); // just after the switch
    expect(toIsoUtc(localToUtcMs('2022-04-13T15:54:18', 'UTC'))).toBe('2022-04-13T15:54:18Z');
    expect(toIsoUtc(localToUtcMs('2022-04-13T15:54:18.390', 'UTC'))).toBe('2022-04-13T15:54:18.390Z');
  });
  it('names a bad zone or time', () => {
    expect(() => localToUtcMs('2018-01-19T18:00:00', 'Mars/Olympus')).toThrow(/unknown time zone: "Mars\/Olympus"/);
    expect(() => localToUtcMs('yesterday', 'UTC')).toThrow(LidarError);
  });
});

describe('time averaging on the raw integers', () => {
  const dir = 'vertical-clear';
  const a = fixtureFile(dir, 'VC18A1022.050000');
  const b = fixtureFile(dir, 'VC18A1022.100000');
  it('sums raw counts and shots of same-geometry files, start of the first, stop of the last', () => {
    expect(sameGeometry(a, b)).toBe(true);
    const s = sumLicelFiles([a, b]);
    expect(s.datasets[1].shots).toBe(a.datasets[1].shots + b.datasets[1].shots);
    expect(s.datasets[1].raw[500]).toBe(a.datasets[1].raw[500] + b.datasets[1].raw[500]);
    expect(s.header.startLocal).toBe(a.header.startLocal);
    expect(s.header.stopLocal).toBe(b.header.stopLocal);
  });
  it('refuses different pointing and groups consecutive runs', () => {
    const scan = fixtureFile('sofia-winter-inversion', 'SF1811918.003000');
    const vertical = fixtureFile('sofia-winter-inversion', 'SF1811918.123000'); // the cycle's vertical (stop 18:12:30)
    expect(sameGeometry(scan, vertical)).toBe(false);
    expect(() => sumLicelFiles([scan, vertical], ['x', 'y'])).toThrow(/y, field geometry: cannot average/);
    expect(groupSameGeometry([a, b, scan, a])).toEqual([[0, 1], [2], [3]]);
    expect(groupSameGeometry([a, b, a], 2)).toEqual([[0, 1], [2]]);
  });
});

describe('channel selection', () => {
  it('pairs analog and photon counting per wavelength; a number picks one dataset', () => {
    const f = fixtureFile('vertical-clear', 'VC18A1022.050000');
    expect(selectChannels(f, 'auto')).toEqual([
      { wavelengthNm: 532, polarization: 'o', analog: 0, photon: 1 },
      { wavelengthNm: 1064, polarization: 'o', analog: 2, photon: 3 },
    ]);
    expect(selectChannels(f, 3)).toEqual([{ wavelengthNm: 1064, polarization: 'o', analog: -1, photon: 3 }]);
    expect(() => selectChannels(f, 9, 'x')).toThrow(/no dataset 9 \(the file has 4\)/);
  });
});
