// The parameter-set contract: defaults, validation errors that name the field, canonical JSON and id.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  canonicalParams,
  DEFAULT_PARAMS,
  defaultLidarRatioSr,
  lidarRatioProfile,
  paramsId,
  resolveParams,
} from '../processing/retrieval/params.js';
import type { ParameterSetJson } from '../processing/retrieval/params.types.js';
import { LidarError } from '../processing/errors.js';
import { sha256Hex } from '../processing/hash/sha256.js';

function errorOf(json: unknown, file?: string): LidarError {
  try {
    resolveParams(json, file);
  } catch (e) {
    expect(e).toBeInstanceOf(LidarError);
    return e as LidarError;
  }
  throw new Error(`expected ${JSON.stringify(json)} to be rejected`);
}

describe('defaults (RETRIEVAL.md)', () => {
  it('an empty set resolves to DEFAULT_PARAMS', () => {
    const p = resolveParams({});
    expect(p).toEqual(DEFAULT_PARAMS);
    expect(resolveParams(undefined)).toEqual(DEFAULT_PARAMS);
    expect(p.lidarRatioSr).toBeNull(); // by wavelength
    expect(p.reference).toEqual({ mode: null, windowM: 'auto', scatteringRatio: 1, rangeM: NaN, betaAer: 0, lidarConstant: NaN });
    expect(p.molecular).toEqual({ lidarRatioSr: (8 * Math.PI) / 3, atmosphere: 'us1976', crossSection: 'bucholtz1995' });
    expect(p.background).toBeNull();
    expect(p.deadTimeNs).toBe(3.7);
    expect(p.overlap).toEqual({ fullOverlapM: 300 });
    expect([p.smoothingM, p.monteCarlo, p.seed, p.channel]).toEqual([0, 50, 1, 'auto']);
    expect(p.pm).toEqual({ meePm10: 3.5, meePm25: 6.0, gamma: 0.5, rh: 0.5, angstrom: 1.3 });
  });

  it('DEFAULT_PARAMS is frozen and resolve returns fresh objects', () => {
    expect(Object.isFrozen(DEFAULT_PARAMS.pm)).toBe(true);
    const p = resolveParams({});
    p.pm.rh = 0.9;
    expect(DEFAULT_PARAMS.pm.rh).toBe(0.5);
  });

  it('default lidar ratio by wavelength: 40 sr near 1064 nm, 50 sr otherwise', () => {
    expect(defaultLidarRatioSr(532)).toBe(50);
    expect(defaultLidarRatioSr(1064)).toBe(40);
    expect(defaultLidarRatioSr(1064.15)).toBe(40);
    expect(defaultLidarRatioSr(355)).toBe(50);
    expect(() => defaultLidarRatioSr(0)).toThrow(LidarError);
  });

  it('a full set is taken as given', () => {
    const json: ParameterSetJson = {
      lidar_ratio_sr: [[0, 60], [1000, 45]],
      reference: { mode: 'calibration', window_m: [6000, 8000], scattering_ratio: 1.05, range_m: 7000, beta_aer: 1e-7, lidar_constant: 5e13 },
      molecular: { lidar_ratio_sr: 8.5, atmosphere: 'met', cross_section: 'freudenthaler2015' },
      background: { window_m: 'pretrigger' },
      dead_time_ns: 4,
      dead_time_model: 'paralysable',
      overlap: { table: [[0, 0], [150, 0.7], [300, 1]] },
      smoothing_m: 30,
      glue: { scale: 48, low_mhz: 1, high_mhz: 12 },
      monte_carlo: 100,
      seed: 7,
      channel: 1,
      pm: { mee_pm10: 4, mee_pm25: 7, gamma: 0.6, rh: 0.8, angstrom: 1 },
    };
    expect(resolveParams(json)).toEqual({
      lidarRatioSr: [[0, 60], [1000, 45]],
      reference: { mode: 'calibration', windowM: [6000, 8000], scatteringRatio: 1.05, rangeM: 7000, betaAer: 1e-7, lidarConstant: 5e13 },
      molecular: { lidarRatioSr: 8.5, atmosphere: 'met', crossSection: 'freudenthaler2015' },
      background: 'pretrigger',
      deadTimeNs: 4,
      deadTimeModel: 'paralysable',
      overlap: { table: [[0, 0], [150, 0.7], [300, 1]] },
      smoothingM: 30,
      glue: { scale: 48, lowMHz: 1, highMHz: 12 },
      monteCarlo: 100,
      seed: 7,
      channel: 1,
      pm: { meePm10: 4, meePm25: 7, gamma: 0.6, rh: 0.8, angstrom: 1 },
    });
  });
});

describe('validation: every error names the field (and the file)', () => {
  const cases: Array<[unknown, string, RegExp]> = [
    [null, 'parameter set', /expected an object/],
    [[1], 'parameter set', /expected an object/],
    [{ lidar_ratio: 50 }, 'lidar_ratio', /unknown parameter lidar_ratio/],
    [{ reference: { windw_m: 'auto' } }, 'reference.windw_m', /unknown parameter reference\.windw_m/],
    [{ pm: { pm10: 1 } }, 'pm.pm10', /unknown/],
    [{ lidar_ratio_sr: 0.5 }, 'lidar_ratio_sr', /must be in \[1, 200\]/],
    [{ lidar_ratio_sr: 250 }, 'lidar_ratio_sr', /250/],
    [{ lidar_ratio_sr: '50' }, 'lidar_ratio_sr', /expected a non-empty table/],
    [{ lidar_ratio_sr: [] }, 'lidar_ratio_sr', /non-empty/],
    [{ lidar_ratio_sr: [[0, 50], [0, 60]] }, 'lidar_ratio_sr', /row 1: ranges must increase/],
    [{ lidar_ratio_sr: [[0, 50], [100, 300]] }, 'lidar_ratio_sr', /row 1: sr must be in \[1, 200\]/],
    [{ lidar_ratio_sr: [[0, 50, 1]] }, 'lidar_ratio_sr', /row 0/],
    [{ lidar_ratio_sr: [[-5, 50]] }, 'lidar_ratio_sr', /range must be >= 0/],
    [{ reference: { mode: 'auto' } }, 'reference.mode', /expected one of "rayleigh", "value", "calibration", "slope"/],
    [{ reference: { window_m: [8000, 6000] } }, 'reference.window_m', /^invalid reference\.window_m: \[8000, 6000\] \(from must be < to\)$/],
    [{ reference: { window_m: [6000] } }, 'reference.window_m', /expected \[from, to\]/],
    [{ reference: { window_m: 'far' } }, 'reference.window_m', /"auto"/],
    [{ reference: { window_m: [-10, 100] } }, 'reference.window_m', /must lie in/],
    [{ reference: { scattering_ratio: 0.9 } }, 'reference.scattering_ratio', /\[1, 1000\]/],
    [{ reference: { range_m: 0 } }, 'reference.range_m', /\(0, 100000\]/],
    [{ reference: { beta_aer: -1e-6 } }, 'reference.beta_aer', /-0.000001/],
    [{ reference: { lidar_constant: -1 } }, 'reference.lidar_constant', /must be in \(0/],
    [{ reference: [] }, 'reference', /expected an object/],
    [{ molecular: { lidar_ratio_sr: 50 } }, 'molecular.lidar_ratio_sr', /\[8, 9\]/],
    [{ molecular: { atmosphere: 'us1962' } }, 'molecular.atmosphere', /us1962/],
    [{ molecular: { cross_section: 'bates' } }, 'molecular.cross_section', /bates/],
    [{ background: { window_m: 'far' } }, 'background.window_m', /"pretrigger", "none"/],
    [{ background: { window_m: [12000, 11000] } }, 'background.window_m', /from must be < to/],
    [{ background: 'none' }, 'background', /expected an object/],
    [{ dead_time_ns: -1 }, 'dead_time_ns', /\[0, 100\]/],
    [{ dead_time_ns: '3.7' }, 'dead_time_ns', /"3.7" \(expected a finite number\)/],
    [{ overlap: { full_overlap_m: 300, table: [[0, 1]] } }, 'overlap', /not both/],
    [{ overlap: { table: [[0, 0], [100, 1.2]] } }, 'overlap.table', /row 1: O must be in \[0, 1\]/],
    [{ overlap: { table: [[100, 0.5], [50, 1]] } }, 'overlap.table', /ranges must increase/],
    [{ overlap: { full_overlap_m: -5 } }, 'overlap.full_overlap_m', /-5/],
    [{ overlap: { r0: 140 } }, 'overlap.r0', /unknown/],
    [{ smoothing_m: -1 }, 'smoothing_m', /\[0, 10000\]/],
    [{ monte_carlo: 2.5 }, 'monte_carlo', /expected an integer/],
    [{ monte_carlo: 10001 }, 'monte_carlo', /\[0, 10000\]/],
    [{ seed: -1 }, 'seed', /\[0, 4294967295\]/],
    [{ seed: 1.5 }, 'seed', /integer/],
    [{ channel: 'all' }, 'channel', /"auto"/],
    [{ channel: -1 }, 'channel', /\[0, 99\]/],
    [{ pm: { rh: 1.2 } }, 'pm.rh', /\[0, 1\]/],
    [{ pm: { mee_pm10: 0 } }, 'pm.mee_pm10', /\(0, 50\]/],
    [{ pm: { mee_pm25: 'x' } }, 'pm.mee_pm25', /finite number/],
    [{ pm: { gamma: 3 } }, 'pm.gamma', /\[0, 2\]/],
    [{ pm: { angstrom: 5 } }, 'pm.angstrom', /\[-1, 4\]/],
    [{ dead_time_ns: null }, 'dead_time_ns', /null/],
    [{ pm: { rh: Number.NaN } }, 'pm.rh', /NaN/],
  ];
  for (const [json, field, message] of cases) {
    it(`${JSON.stringify(json)} -> ${field}`, () => {
      const e = errorOf(json, 'params/test.json');
      expect(e.code).toBe('LIDAR_ERR_BAD_VALUE');
      expect(e.field).toBe(field);
      expect(e.file).toBe('params/test.json');
      expect(e.message.startsWith('params/test.json, field ' + field + ': ')).toBe(true);
      expect(e.message.replace(/^params\/test\.json, field [^:]+: /, '')).toMatch(message);
    });
  }

  it('the message without a file is the bare detail', () => {
    expect(errorOf({ reference: { window_m: [8000, 6000] } }).message).toBe('field reference.window_m: invalid reference.window_m: [8000, 6000] (from must be < to)');
  });

  it('null means "not given" only where the resolved value may be unset', () => {
    const p = resolveParams({ lidar_ratio_sr: null, reference: { mode: null, range_m: null, lidar_constant: null }, background: { window_m: null } });
    expect(p).toEqual(DEFAULT_PARAMS);
    expect(resolveParams({ overlap: {} }).overlap).toEqual({ fullOverlapM: 300 });
  });
});

describe('canonical JSON and id', () => {
  it('defaults: every field spelled out, keys sorted, "not given" as null', () => {
    const c = canonicalParams(DEFAULT_PARAMS);
    expect(c).toBe(
      '{"background":{"window_m":null},"channel":"auto","dead_time_model":"nonparalysable","dead_time_ns":3.7,"glue":{"high_mhz":15,"low_mhz":0.5,"scale":null},"lidar_ratio_sr":null,' +
        '"molecular":{"atmosphere":"us1976","cross_section":"bucholtz1995","lidar_ratio_sr":8.377580409572781},' +
        '"monte_carlo":50,"overlap":{"full_overlap_m":300},' +
        '"pm":{"angstrom":1.3,"gamma":0.5,"mee_pm10":3.5,"mee_pm25":6,"rh":0.5},' +
        '"reference":{"beta_aer":0,"lidar_constant":null,"mode":null,"range_m":null,"scattering_ratio":1,"window_m":"auto"},' +
        '"seed":1,"smoothing_m":0}',
    );
    expect(paramsId(DEFAULT_PARAMS)).toBe('p-' + sha256Hex(c).slice(0, 16));
    expect(paramsId(DEFAULT_PARAMS)).toMatch(/^p-[0-9a-f]{16}$/);
  });

  it('same parameters, same id: key order, spelled-out defaults and number spelling do not matter', () => {
    const a = resolveParams({ pm: { rh: 0.7, gamma: 0.5 }, dead_time_ns: 3.7, lidar_ratio_sr: 50 });
    const b = resolveParams(JSON.parse('{"lidar_ratio_sr": 50.0, "pm": {"gamma": 5e-1, "rh": 0.70}, "seed": 1, "monte_carlo": 50}'));
    expect(canonicalParams(a)).toBe(canonicalParams(b));
    expect(paramsId(a)).toBe(paramsId(b));
    expect(paramsId(resolveParams({}))).toBe(paramsId(DEFAULT_PARAMS));
    expect(paramsId(resolveParams({ reference: { beta_aer: -0 } }))).toBe(paramsId(DEFAULT_PARAMS));
  });

  it('different values, different id (including 50 sr given vs by wavelength)', () => {
    const ids = [
      {},
      { lidar_ratio_sr: 50 },
      { lidar_ratio_sr: 50.000000000001 },
      { lidar_ratio_sr: [[0, 50]] },
      { seed: 2 },
      { pm: { rh: 0.51 } },
      { reference: { mode: 'rayleigh' } },
      { reference: { window_m: [6000, 8000] } },
      { background: { window_m: 'none' } },
      { overlap: { table: [[0, 0], [300, 1]] } },
      { overlap: { full_overlap_m: 250 } },
      { channel: 0 },
    ].map((j) => paramsId(resolveParams(j)));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('the canonical JSON re-resolves to the same set', () => {
    const p = resolveParams({ reference: { lidar_constant: 1.2345678901234567e13, window_m: [5000.5, 7000] }, lidar_ratio_sr: [[0, 55.5], [2000, 40]] });
    const again = resolveParams(JSON.parse(canonicalParams(p)));
    expect(again).toEqual(p);
    expect(canonicalParams(again)).toBe(canonicalParams(p));
  });

  const num = (min: number, max: number) => fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
  const increasingTable = (yMin: number, yMax: number) =>
    fc.array(fc.tuple(num(0.001, 1000), num(yMin, yMax)), { minLength: 1, maxLength: 6 }).map((rows) => {
      let r = 0;
      return rows.map(([dr, y]) => [(r += dr), y] as [number, number]);
    });
  const validSet = fc.record(
    {
      lidar_ratio_sr: fc.oneof(fc.constant(null), num(1, 200), increasingTable(1, 200)),
      reference: fc.record(
        {
          mode: fc.constantFrom('rayleigh', 'value', 'calibration', 'slope', null),
          window_m: fc.oneof(fc.constant('auto'), fc.tuple(num(0, 50000), num(1, 50000)).map(([a, d]) => [a, a + d])),
          scattering_ratio: num(1, 1000),
          range_m: num(1, 100000),
          beta_aer: num(0, 0.1),
          lidar_constant: num(1, 1e20),
        },
        { requiredKeys: [] },
      ),
      molecular: fc.record({ lidar_ratio_sr: num(8, 9), atmosphere: fc.constantFrom('us1976', 'met'), cross_section: fc.constantFrom('bucholtz1995', 'freudenthaler2015') }, { requiredKeys: [] }),
      background: fc.record({ window_m: fc.oneof(fc.constantFrom('pretrigger', 'none', null), fc.tuple(num(-1000, 50000), num(1, 5000)).map(([a, d]) => [a, a + d])) }, { requiredKeys: [] }),
      dead_time_ns: num(0, 100),
      overlap: fc.oneof(fc.record({ full_overlap_m: num(0, 10000) }), fc.record({ table: increasingTable(0, 1) })),
      smoothing_m: num(0, 10000),
      monte_carlo: fc.integer({ min: 0, max: 10000 }),
      seed: fc.integer({ min: 0, max: 0xffffffff }),
      channel: fc.oneof(fc.constant('auto'), fc.integer({ min: 0, max: 99 })),
      pm: fc.record({ mee_pm10: num(0.01, 50), mee_pm25: num(0.01, 50), gamma: num(0, 2), rh: num(0, 1), angstrom: num(-1, 4) }, { requiredKeys: [] }),
    },
    { requiredKeys: [] },
  );

  /** The same object with every object's keys in reverse order. */
  function reorder(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(reorder);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reorder(x)]));
    return v;
  }

  it('fast-check: random valid sets resolve; canonical JSON re-resolves to the same id; key order is irrelevant', () => {
    fc.assert(
      fc.property(validSet, (json) => {
        const p = resolveParams(json);
        const c = canonicalParams(p);
        const again = resolveParams(JSON.parse(c));
        expect(canonicalParams(again)).toBe(c);
        expect(paramsId(again)).toBe(paramsId(p));
        expect(paramsId(resolveParams(reorder(json)))).toBe(paramsId(p));
      }),
      { numRuns: 400 },
    );
  });
});

describe('lidarRatioProfile', () => {
  it('constant or table, linear inside, constant beyond the ends', () => {
    const r = Float64Array.from([-5, 0, 250, 500, 1000, 5000]);
    const out = new Float64Array(6);
    lidarRatioProfile(55, r, out);
    expect(Array.from(out)).toEqual([55, 55, 55, 55, 55, 55]);
    lidarRatioProfile([[0, 60], [500, 40], [1000, 50]], r, out);
    expect(Array.from(out)).toEqual([60, 60, 50, 40, 50, 50]);
    lidarRatioProfile([[100, 30]], r, out);
    expect(Array.from(out)).toEqual([30, 30, 30, 30, 30, 30]);
  });
});
