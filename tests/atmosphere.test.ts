// US Standard Atmosphere 1976, surface scaling, sounding interpolation and the sounding CSV parser.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { us1976, metAtmosphere, parseMetCsv, geopotentialHeightM, type MetProfile } from '../processing/atmosphere/standard-atmosphere.js';
import { LidarError } from '../processing/errors.js';

/**
 * U.S. Standard Atmosphere 1976 (NOAA-S/T 76-1562), Table I (geometric altitude), printed to 5
 * significant figures: Z (m), T (K), P (Pa).
 */
const TABLE_I: Array<[number, number, number]> = [
  [0, 288.15, 101325],
  [1000, 281.651, 89876],
  [5000, 255.676, 54048],
  [10000, 223.252, 26500],
  [11000, 216.774, 22700],
  [15000, 216.65, 12112],
  [20000, 216.65, 5529.3],
  [25000, 221.552, 2549.2],
  [30000, 226.509, 1197.0],
  [50000, 270.65, 79.779],
  [86000, 186.946, 0.37338], // molecular-scale temperature (kinetic 186.87 K at 86 km)
];

/** US1976 Table 4: pressure at the layer bases, geopotential height (m) -> Pa; T at the bases. */
const LAYER_BASES: Array<[number, number, number]> = [
  [11000, 216.65, 22632.06],
  [20000, 216.65, 5474.889],
  [32000, 228.65, 868.0187],
  [47000, 270.65, 110.9063],
  [51000, 270.65, 66.93887],
  [71000, 214.65, 3.95642],
  [84852, 186.946, 0.3733836],
];

const R0 = 6_356_766;
const geometricFromGeopotential = (H: number) => (R0 * H) / (R0 - H);

function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.abs(b);
}

describe('us1976', () => {
  it('reproduces Table I (geometric altitude) to its printed precision', () => {
    const atm = us1976(TABLE_I.map((r) => r[0]));
    TABLE_I.forEach(([z, t, p], i) => {
      expect(Math.abs(atm.temperatureK[i] - t), `T at ${z} m`).toBeLessThan(0.0006);
      expect(relErr(atm.pressurePa[i], p), `P at ${z} m`).toBeLessThan(1e-4);
    });
  });

  it('reproduces the layer-base pressures of Table 4 (geopotential heights)', () => {
    const atm = us1976(LAYER_BASES.map((r) => geometricFromGeopotential(r[0])));
    LAYER_BASES.forEach(([H, t, p], i) => {
      expect(Math.abs(atm.temperatureK[i] - t), `T at H=${H}`).toBeLessThan(1e-6);
      expect(relErr(atm.pressurePa[i], p), `P at H=${H}`).toBeLessThan(2e-6);
    });
    expect(geopotentialHeightM(5000)).toBeCloseTo(4996.07, 2);
  });

  it('pressure decreases monotonically from -1 km to 100 km; NaN height gives NaN', () => {
    const z = Float64Array.from({ length: 1011 }, (_, i) => -1000 + i * 100);
    const atm = us1976(z);
    for (let i = 1; i < z.length; i++) expect(atm.pressurePa[i]).toBeLessThan(atm.pressurePa[i - 1]);
    expect(atm.temperatureK.every((t) => t > 180 && t < 300)).toBe(true);
    const nan = us1976([NaN, 0]);
    expect(Number.isNaN(nan.pressurePa[0]) && Number.isNaN(nan.temperatureK[0])).toBe(true);
    expect(nan.pressurePa[1]).toBe(101325);
  });

  it('writes into a caller buffer and rejects a wrong-sized one', () => {
    const out = { pressurePa: new Float64Array(2), temperatureK: new Float64Array(2) };
    expect(us1976([0, 1000], undefined, out)).toBe(out);
    expect(out.temperatureK[0]).toBe(288.15);
    expect(() => us1976([0], undefined, out)).toThrow(/output buffer length: 2/);
  });

  describe('surface scaling', () => {
    const station = { heightM: 595, pressurePa: 94_500, temperatureK: 271.15 };

    it('reproduces P0 and T0 exactly at the station height', () => {
      const atm = us1976([station.heightM], station);
      expect(atm.pressurePa[0]).toBe(station.pressurePa);
      expect(atm.temperatureK[0]).toBe(station.temperatureK);
      const onlyP = us1976([station.heightM], { heightM: 595, pressurePa: 95_000 });
      expect(onlyP.pressurePa[0]).toBe(95_000);
      const std = us1976([595]);
      expect(onlyP.temperatureK[0]).toBeCloseTo(std.temperatureK[0], 9);
      const onlyT = us1976([595], { heightM: 595, temperatureK: 300 });
      expect(onlyT.temperatureK[0]).toBe(300);
      expect(onlyT.pressurePa[0]).toBeCloseTo(std.pressurePa[0], 6);
    });

    it('with the standard T0, scales pressure by P0 / P_std(h0) at all heights', () => {
      const std = us1976([595, 3000, 11000, 25000]);
      const scaled = us1976([595, 3000, 11000, 25000], { heightM: 595, pressurePa: 1.02 * std.pressurePa[0] });
      for (let i = 0; i < 4; i++) expect(scaled.pressurePa[i] / std.pressurePa[i]).toBeCloseTo(1.02, 10);
    });

    it('fades the temperature offset to zero at the tropopause and stays hydrostatic', () => {
      const z = Float64Array.from({ length: 3001 }, (_, i) => i * 10); // 0-30 km
      const atm = us1976(z, station);
      const std = us1976(z);
      // the full offset holds at and below the station
      expect(atm.temperatureK[0] - std.temperatureK[0]).toBeCloseTo(station.temperatureK - us1976([595]).temperatureK[0], 9);
      for (let i = 0; i < z.length; i++) {
        if (geopotentialHeightM(z[i]) >= 11000) expect(Math.abs(atm.temperatureK[i] - std.temperatureK[i])).toBeLessThan(1e-9);
      }
      // hydrostatic check: d ln P / dz = -g M / (R T) with the 1976 constants and g(z) = g0 (r0/(r0+z))^2
      const GMR = (9.80665 * 0.0289644) / 8.31432;
      for (const i of [100, 500, 1500, 2500]) {
        const dlnp = (Math.log(atm.pressurePa[i + 1]) - Math.log(atm.pressurePa[i - 1])) / 20;
        const g = (R0 / (R0 + z[i])) ** 2;
        expect(dlnp / ((-GMR * g) / atm.temperatureK[i])).toBeCloseTo(1, 5);
      }
    });

    it('rejects implausible surface values with their units in the message', () => {
      expect(() => us1976([0], { heightM: 595, pressurePa: 1013 })).toThrow(/invalid surface pressure: 1013 Pa/);
      expect(() => us1976([0], { heightM: 595, temperatureK: 15 })).toThrow(/invalid surface temperature: 15 K/);
      expect(() => us1976([0], { heightM: NaN, temperatureK: 280 })).toThrow(LidarError);
    });
  });
});

describe('metAtmosphere', () => {
  const met: MetProfile = {
    heightM: Float64Array.from([595, 1000, 2000, 5000]),
    pressurePa: Float64Array.from([94_500, 90_200, 80_100, 54_300]),
    temperatureK: Float64Array.from([270, 273, 268, 250]),
  };

  it('reproduces the nodes exactly', () => {
    const atm = metAtmosphere(met, met.heightM);
    expect(Array.from(atm.pressurePa)).toEqual(Array.from(met.pressurePa));
    expect(Array.from(atm.temperatureK)).toEqual(Array.from(met.temperatureK));
  });

  it('is linear in T and in ln P between nodes', () => {
    const atm = metAtmosphere(met, [797.5, 1250]);
    expect(atm.temperatureK[0]).toBeCloseTo(271.5, 10);
    expect(atm.pressurePa[0]).toBeCloseTo(Math.sqrt(94_500 * 90_200), 6);
    expect(atm.temperatureK[1]).toBeCloseTo(273 - 1.25, 10);
    expect(Math.log(atm.pressurePa[1])).toBeCloseTo(0.75 * Math.log(90_200) + 0.25 * Math.log(80_100), 12);
  });

  it('continues above the top with the standard shape and below the bottom hydrostatically', () => {
    const z = [300, 594.999, 5000.001, 8000, 11000, 20000];
    const atm = metAtmosphere(met, z);
    // continuity at both ends
    expect(relErr(atm.pressurePa[1], 94_500)).toBeLessThan(1e-6);
    expect(relErr(atm.pressurePa[2], 54_300)).toBeLessThan(1e-6);
    expect(Math.abs(atm.temperatureK[2] - 250)).toBeLessThan(1e-4);
    // below: -6.5 K/km from the bottom node, pressure higher
    expect(atm.temperatureK[0]).toBeCloseTo(270 + 0.0065 * (geopotentialHeightM(595) - geopotentialHeightM(300)), 9);
    expect(atm.pressurePa[0]).toBeGreaterThan(94_500);
    // above: offset to the standard fades out by max(11 km, top + 10 km) geopotential
    const std = us1976([20000]);
    expect(atm.temperatureK[5]).toBeCloseTo(std.temperatureK[0], 9);
    for (let i = 1; i < z.length; i++) expect(atm.pressurePa[i]).toBeLessThan(atm.pressurePa[i - 1]);
  });

  it('validates the sounding', () => {
    const bad = { ...met, heightM: Float64Array.from([595, 500, 2000, 5000]) };
    expect(() => metAtmosphere(bad, [0])).toThrow(/invalid met height at node 1: 500 m/);
    const badP = { ...met, pressurePa: Float64Array.from([94_500, 95_000, 80_100, 54_300]) };
    expect(() => metAtmosphere(badP, [0])).toThrow(/invalid met pressure at node 1/);
  });
});

describe('parseMetCsv', () => {
  it('reads the contract CSV (hPa -> Pa), any column order, comments and blank lines', () => {
    const text = '# sounding 2016-11-01\nheight_m,pressure_hpa,temperature_k\n595,945.0,282.75\n\n663,937.5,280.75\r\n844,918.0,278.55\n';
    const m = parseMetCsv(text, 'sonde.csv');
    expect(Array.from(m.heightM)).toEqual([595, 663, 844]);
    expect(Array.from(m.pressurePa)).toEqual([94500, 93750, 91800]);
    expect(Array.from(m.temperatureK)).toEqual([282.75, 280.75, 278.55]);
    const reordered = parseMetCsv('temperature_k,height_m,pressure_hpa,rh\n282.75,595,945,80\n');
    expect(reordered.pressurePa[0]).toBe(94500);
    expect(metAtmosphere(m, [663]).pressurePa[0]).toBe(93750);
  });

  it('names the line and field of a bad value', () => {
    const head = 'height_m,pressure_hpa,temperature_k\n';
    expect(() => parseMetCsv(head + '595,945,abc\n', 'f.csv')).toThrow(/f\.csv, field temperature_k: line 2: invalid number: "abc"/);
    expect(() => parseMetCsv(head + '595,945,280\n590,940,279\n', 'f.csv')).toThrow(/field height_m: line 3: height 590 m is not above/);
    expect(() => parseMetCsv(head + '595,945,280\n600,950,279\n')).toThrow(/line 3: invalid pressure: 950 hPa/);
    expect(() => parseMetCsv('height,pressure_hpa,temperature_k\n1,2,3\n')).toThrow(/line 1: missing column height_m/);
    expect(() => parseMetCsv(head)).toThrow(/no data rows/);
    expect(() => parseMetCsv(head + '595,945\n')).toThrow(/line 2: 2 fields, expected 3/);
    try {
      parseMetCsv(head + '595,-1,280\n', 'x.csv');
    } catch (e) {
      expect(e).toBeInstanceOf(LidarError);
      expect((e as LidarError).field).toBe('pressure_hpa');
      expect((e as LidarError).file).toBe('x.csv');
    }
  });

  const SONDE = '/work/shared/data/aq/sofia_radiosonde_temp_profiles_2016-11.csv';
  it.skipIf(!existsSync(SONDE))('builds a usable profile from the shared Sofia radiosonde temperatures', () => {
    // The shared sample has T only (Date,HGHT(m),TEMP(C)); complete P hydrostatically from US1976 at the surface.
    const rows = readFileSync(SONDE, 'utf8')
      .split('\n')
      .slice(1)
      .filter((l) => l.startsWith('2016-11-01,'))
      .map((l) => l.split(',').map(Number));
    const z = rows.map((r) => r[1]);
    const p = us1976(z, { heightM: z[0], temperatureK: rows[0][2] + 273.15 }).pressurePa;
    const csv = 'height_m,pressure_hpa,temperature_k\n' + rows.map((r, i) => `${r[1]},${p[i] / 100},${r[2] + 273.15}`).join('\n');
    const met = parseMetCsv(csv);
    expect(met.heightM.length).toBe(rows.length);
    const atm = metAtmosphere(met, [600, 1500, 3000, 15000, 30000]);
    for (let i = 1; i < 5; i++) expect(atm.pressurePa[i]).toBeLessThan(atm.pressurePa[i - 1]);
    expect(atm.temperatureK.every((t) => t > 180 && t < 300)).toBe(true);
  });
});
