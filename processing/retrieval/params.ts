/**
 * The parameter set (contract: ARCHITECTURE.md "Parameter set"; defaults RETRIEVAL.md): validation
 * of the parsed JSON (unknown keys rejected, every value type- and range-checked, errors naming the
 * field), defaults filled in, and a canonical form with a content id so every product records the
 * exact parameters that made it.
 * Canonical JSON: the resolved set written back in the contract's (snake_case) shape with every
 * field spelled out, object keys sorted, numbers as ECMAScript Number::toString (the shortest string
 * that round-trips, Steele & White / Grisu; -0 as 0), "not given" as null. Re-resolving it gives the
 * same set. Id: 'p-' + the first 16 hex characters (64 bits) of its SHA-256 (FIPS 180-4).
 */
import { LidarError } from '../errors.js';
import { sha256Hex } from '../hash/sha256.js';
import { interpolateTableInto } from './preprocess.js';
import type { LidarRatioSpec, ResolvedParams } from './params.types.js';

/** Rayleigh (dipole) molecular lidar ratio, 8 pi / 3 sr. */
const S_MOL_DIPOLE = (8 * Math.PI) / 3;

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object') {
    for (const v of Object.values(o as object)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** RETRIEVAL.md defaults. Frozen: copy before changing (resolveParams returns fresh objects). */
export const DEFAULT_PARAMS: ResolvedParams = deepFreeze({
  lidarRatioSr: null,
  reference: { mode: null, windowM: 'auto', scatteringRatio: 1, rangeM: NaN, betaAer: 0, lidarConstant: NaN },
  molecular: { lidarRatioSr: S_MOL_DIPOLE, atmosphere: 'us1976', crossSection: 'bucholtz1995' },
  background: null,
  deadTimeNs: 3.7,
  deadTimeModel: 'nonparalysable',
  overlap: { fullOverlapM: 300 },
  smoothingM: 0,
  glue: { scale: NaN, lowMHz: 0.5, highMHz: 15 },
  monteCarlo: 50,
  seed: 1,
  channel: 'auto',
  pm: { meePm10: 3.5, meePm25: 6.0, gamma: 0.5, rh: 0.5, angstrom: 1.3 },
});

/**
 * Default aerosol lidar ratio (sr) when the set gives none: 40 sr within 50 nm of 1064 nm, else
 * 50 sr (urban aerosol at 532 nm, RETRIEVAL.md 4; also used at 355 nm and other wavelengths, where
 * urban values of 50-70 sr are typical).
 */
export function defaultLidarRatioSr(wavelengthNm: number): number {
  if (!(wavelengthNm > 0) || !Number.isFinite(wavelengthNm)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid wavelength: ${wavelengthNm} nm`, { field: 'wavelength_nm' });
  return Math.abs(wavelengthNm - 1064) <= 50 ? 40 : 50;
}

/** Per-bin aerosol lidar ratio (sr): a constant, or a [[range_m, sr], ...] table interpolated linearly, constant beyond its ends. */
export function lidarRatioProfile(spec: LidarRatioSpec, rangeM: Float64Array, out: Float64Array): void {
  if (out.length !== rangeM.length) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid out length: ${out.length} (expected ${rangeM.length} bins)`, { field: 'out' });
  if (typeof spec === 'number') {
    out.fill(spec);
    return;
  }
  if (!Array.isArray(spec) || spec.length === 0) throw new LidarError('LIDAR_ERR_BAD_VALUE', 'invalid lidar_ratio_sr: empty table', { field: 'lidar_ratio_sr' });
  const last = spec[spec.length - 1][1];
  interpolateTableInto(spec, rangeM, last, out);
}

// ---------------------------------------------------------------------------------------------
// Validation

type Json = unknown;

/** A value for messages: arrays as "[8000, 6000]", strings quoted, long values cut. */
function show(v: Json): string {
  let s: string;
  if (Array.isArray(v)) s = `[${v.map(show).join(', ')}]`;
  else if (typeof v === 'number') s = String(v);
  else if (v === undefined) s = 'undefined';
  else {
    try {
      s = JSON.stringify(v) ?? String(v);
    } catch {
      s = String(v);
    }
  }
  return s.length > 120 ? s.slice(0, 117) + '...' : s;
}

class Validator {
  constructor(private readonly file: string | undefined) {}

  fail(field: string, value: Json, why: string): never {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid ${field}: ${show(value)} (${why})`, { file: this.file, field });
  }

  object(v: Json, field: string, allowed: readonly string[]): Record<string, Json> {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(field, v, 'expected an object');
    const o = v as Record<string, Json>;
    for (const key of Object.keys(o)) {
      if (!allowed.includes(key)) {
        const path = field === 'parameter set' ? key : `${field}.${key}`;
        throw new LidarError('LIDAR_ERR_BAD_VALUE', `unknown parameter ${path} (known: ${allowed.join(', ')})`, { file: this.file, field: path });
      }
    }
    return o;
  }

  /** A finite number in [min, max] (exclusive bounds where asked), optionally an integer. */
  number(v: Json, field: string, min: number, max: number, opts: { minExclusive?: boolean; integer?: boolean } = {}): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(field, v, 'expected a finite number');
    if (opts.integer && !Number.isInteger(v)) this.fail(field, v, 'expected an integer');
    const low = opts.minExclusive ? v > min : v >= min;
    if (!low || v > max) this.fail(field, v, `must be in ${opts.minExclusive ? '(' : '['}${min}, ${max}]`);
    return v;
  }

  oneOf<T extends string>(v: Json, field: string, values: readonly T[]): T {
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) this.fail(field, v, `expected one of ${values.map((x) => `"${x}"`).join(', ')}`);
    return v as T;
  }

  /** [from, to] with from < to, both in [min, max]. */
  window(v: Json, field: string, min: number, max: number): [number, number] {
    if (!Array.isArray(v) || v.length !== 2) this.fail(field, v, 'expected [from, to]');
    const [a, b] = v as Json[];
    if (typeof a !== 'number' || typeof b !== 'number' || !Number.isFinite(a) || !Number.isFinite(b)) this.fail(field, v, 'expected two finite numbers');
    if (!(a < b)) this.fail(field, v, 'from must be < to');
    if (a < min || b > max) this.fail(field, v, `must lie in [${min}, ${max}] m`);
    return [a, b];
  }

  /** [[x, y], ...]: >= 1 row, x finite >= 0 strictly increasing, y in [yMin, yMax]. */
  table(v: Json, field: string, yMin: number, yMax: number, yName: string): Array<[number, number]> {
    if (!Array.isArray(v) || v.length === 0) this.fail(field, v, `expected a non-empty table [[range_m, ${yName}], ...]`);
    const rows: Array<[number, number]> = [];
    for (let k = 0; k < v.length; k++) {
      const row = v[k] as Json;
      if (!Array.isArray(row) || row.length !== 2) this.fail(field, row, `row ${k}: expected [range_m, ${yName}]`);
      const [x, y] = row as Json[];
      if (typeof x !== 'number' || typeof y !== 'number' || !Number.isFinite(x) || !Number.isFinite(y)) this.fail(field, row, `row ${k}: expected two finite numbers`);
      if (x < 0) this.fail(field, row, `row ${k}: range must be >= 0`);
      if (k > 0 && !(x > rows[k - 1][0])) this.fail(field, row, `row ${k}: ranges must increase`);
      if (y < yMin || y > yMax) this.fail(field, row, `row ${k}: ${yName} must be in [${yMin}, ${yMax}]`);
      rows.push([x, y]);
    }
    return rows;
  }
}

const TOP_KEYS = ['lidar_ratio_sr', 'reference', 'molecular', 'background', 'dead_time_ns', 'dead_time_model', 'overlap', 'smoothing_m', 'glue', 'monte_carlo', 'seed', 'channel', 'pm'] as const;
const REFERENCE_KEYS = ['mode', 'window_m', 'scattering_ratio', 'range_m', 'beta_aer', 'lidar_constant'] as const;
const MOLECULAR_KEYS = ['lidar_ratio_sr', 'atmosphere', 'cross_section'] as const;
const PM_KEYS = ['mee_pm10', 'mee_pm25', 'gamma', 'rh', 'angstrom'] as const;

/** Largest range accepted anywhere (m): well past any elastic lidar's record. */
const MAX_RANGE_M = 100_000;
const LIDAR_RATIO_MIN_SR = 1;
const LIDAR_RATIO_MAX_SR = 200;

/**
 * Validates a parsed JSON parameter set and fills the defaults. `undefined` gives the defaults.
 * null is accepted (as "not given") for lidar_ratio_sr, reference.mode, reference.range_m,
 * reference.lidar_constant and background.window_m, the fields whose resolved value may be unset,
 * so the canonical JSON re-resolves. Errors: LidarError LIDAR_ERR_BAD_VALUE with `field` the
 * dotted path and `file` when given.
 */
export function resolveParams(json: unknown, file?: string): ResolvedParams {
  const v = new Validator(file);
  const d = DEFAULT_PARAMS;
  const top = json === undefined ? {} : v.object(json, 'parameter set', TOP_KEYS);
  const has = (o: Record<string, Json>, k: string): boolean => o[k] !== undefined;

  let lidarRatioSr: LidarRatioSpec | null = null;
  if (has(top, 'lidar_ratio_sr') && top.lidar_ratio_sr !== null) {
    const lr = top.lidar_ratio_sr;
    lidarRatioSr = typeof lr === 'number'
      ? v.number(lr, 'lidar_ratio_sr', LIDAR_RATIO_MIN_SR, LIDAR_RATIO_MAX_SR)
      : v.table(lr, 'lidar_ratio_sr', LIDAR_RATIO_MIN_SR, LIDAR_RATIO_MAX_SR, 'sr');
  }

  const ref = has(top, 'reference') ? v.object(top.reference, 'reference', REFERENCE_KEYS) : {};
  const reference: ResolvedParams['reference'] = {
    mode: has(ref, 'mode') && ref.mode !== null ? v.oneOf(ref.mode, 'reference.mode', ['rayleigh', 'value', 'calibration', 'slope'] as const) : d.reference.mode,
    windowM: !has(ref, 'window_m') ? d.reference.windowM : ref.window_m === 'auto' ? 'auto' : typeof ref.window_m === 'string' ? v.fail('reference.window_m', ref.window_m, 'expected [from, to] or "auto"') : v.window(ref.window_m, 'reference.window_m', 0, MAX_RANGE_M),
    scatteringRatio: has(ref, 'scattering_ratio') ? v.number(ref.scattering_ratio, 'reference.scattering_ratio', 1, 1000) : d.reference.scatteringRatio,
    rangeM: has(ref, 'range_m') && ref.range_m !== null ? v.number(ref.range_m, 'reference.range_m', 0, MAX_RANGE_M, { minExclusive: true }) : d.reference.rangeM,
    betaAer: has(ref, 'beta_aer') ? v.number(ref.beta_aer, 'reference.beta_aer', 0, 0.1) : d.reference.betaAer,
    lidarConstant: has(ref, 'lidar_constant') && ref.lidar_constant !== null ? v.number(ref.lidar_constant, 'reference.lidar_constant', 0, Number.MAX_VALUE, { minExclusive: true }) : d.reference.lidarConstant,
  };

  const mol = has(top, 'molecular') ? v.object(top.molecular, 'molecular', MOLECULAR_KEYS) : {};
  const molecular: ResolvedParams['molecular'] = {
    lidarRatioSr: has(mol, 'lidar_ratio_sr') ? v.number(mol.lidar_ratio_sr, 'molecular.lidar_ratio_sr', 8, 9) : d.molecular.lidarRatioSr,
    atmosphere: has(mol, 'atmosphere') ? v.oneOf(mol.atmosphere, 'molecular.atmosphere', ['us1976', 'met'] as const) : d.molecular.atmosphere,
    crossSection: has(mol, 'cross_section') ? v.oneOf(mol.cross_section, 'molecular.cross_section', ['bucholtz1995', 'freudenthaler2015'] as const) : d.molecular.crossSection,
  };

  let background: ResolvedParams['background'] = d.background;
  if (has(top, 'background')) {
    const bg = v.object(top.background, 'background', ['window_m']);
    const w = bg.window_m;
    if (w === undefined || w === null) background = null;
    else if (typeof w === 'string') background = v.oneOf(w, 'background.window_m', ['pretrigger', 'none'] as const);
    else background = v.window(w, 'background.window_m', -MAX_RANGE_M, MAX_RANGE_M);
  }

  let overlap: ResolvedParams['overlap'] = { fullOverlapM: 300 };
  if (has(top, 'overlap')) {
    const ov = v.object(top.overlap, 'overlap', ['full_overlap_m', 'table']);
    if (has(ov, 'full_overlap_m') && has(ov, 'table')) v.fail('overlap', ov, 'give either full_overlap_m or table, not both');
    if (has(ov, 'table')) overlap = { table: v.table(ov.table, 'overlap.table', 0, 1, 'O') };
    else if (has(ov, 'full_overlap_m')) overlap = { fullOverlapM: v.number(ov.full_overlap_m, 'overlap.full_overlap_m', 0, 10_000) };
  }

  const gl = has(top, 'glue') ? v.object(top.glue, 'glue', ['scale', 'low_mhz', 'high_mhz']) : {};
  const glue: ResolvedParams['glue'] = {
    scale: has(gl, 'scale') && gl.scale !== null ? v.number(gl.scale, 'glue.scale', 0, 1e9, { minExclusive: true }) : d.glue.scale,
    lowMHz: has(gl, 'low_mhz') ? v.number(gl.low_mhz, 'glue.low_mhz', 0, 1000) : d.glue.lowMHz,
    highMHz: has(gl, 'high_mhz') ? v.number(gl.high_mhz, 'glue.high_mhz', 0, 1000, { minExclusive: true }) : d.glue.highMHz,
  };
  if (!(glue.highMHz > glue.lowMHz)) v.fail('glue.high_mhz', gl.high_mhz ?? glue.highMHz, `must be above glue.low_mhz (${glue.lowMHz})`);

  let channel: ResolvedParams['channel'] = d.channel;
  if (has(top, 'channel')) {
    const c = top.channel;
    channel = typeof c === 'string' ? v.oneOf(c, 'channel', ['auto'] as const) : v.number(c, 'channel', 0, 99, { integer: true });
  }

  const pmIn = has(top, 'pm') ? v.object(top.pm, 'pm', PM_KEYS) : {};
  const pm: ResolvedParams['pm'] = {
    meePm10: has(pmIn, 'mee_pm10') ? v.number(pmIn.mee_pm10, 'pm.mee_pm10', 0, 50, { minExclusive: true }) : d.pm.meePm10,
    meePm25: has(pmIn, 'mee_pm25') ? v.number(pmIn.mee_pm25, 'pm.mee_pm25', 0, 50, { minExclusive: true }) : d.pm.meePm25,
    gamma: has(pmIn, 'gamma') ? v.number(pmIn.gamma, 'pm.gamma', 0, 2) : d.pm.gamma,
    rh: has(pmIn, 'rh') ? v.number(pmIn.rh, 'pm.rh', 0, 1) : d.pm.rh,
    angstrom: has(pmIn, 'angstrom') ? v.number(pmIn.angstrom, 'pm.angstrom', -1, 4) : d.pm.angstrom,
  };

  return {
    lidarRatioSr,
    reference,
    molecular,
    background,
    deadTimeNs: has(top, 'dead_time_ns') ? v.number(top.dead_time_ns, 'dead_time_ns', 0, 100) : d.deadTimeNs,
    deadTimeModel: has(top, 'dead_time_model') ? v.oneOf(top.dead_time_model, 'dead_time_model', ['nonparalysable', 'paralysable'] as const) : d.deadTimeModel,
    overlap,
    smoothingM: has(top, 'smoothing_m') ? v.number(top.smoothing_m, 'smoothing_m', 0, 10_000) : d.smoothingM,
    glue,
    monteCarlo: has(top, 'monte_carlo') ? v.number(top.monte_carlo, 'monte_carlo', 0, 10_000, { integer: true }) : d.monteCarlo,
    seed: has(top, 'seed') ? v.number(top.seed, 'seed', 0, 0xffffffff, { integer: true }) : d.seed,
    channel,
    pm,
  };
}

// ---------------------------------------------------------------------------------------------
// Canonical form and id

/** NaN ("not given") as null. */
function orNull(x: number): number | null {
  return Number.isNaN(x) ? null : x;
}

/** The resolved set in the contract's JSON shape, every field present. */
function contractShape(p: ResolvedParams): Json {
  const overlap = 'table' in p.overlap ? { table: p.overlap.table } : { full_overlap_m: p.overlap.fullOverlapM };
  return {
    lidar_ratio_sr: p.lidarRatioSr,
    reference: {
      mode: p.reference.mode,
      window_m: p.reference.windowM,
      scattering_ratio: p.reference.scatteringRatio,
      range_m: orNull(p.reference.rangeM),
      beta_aer: p.reference.betaAer,
      lidar_constant: orNull(p.reference.lidarConstant),
    },
    molecular: { lidar_ratio_sr: p.molecular.lidarRatioSr, atmosphere: p.molecular.atmosphere, cross_section: p.molecular.crossSection },
    background: { window_m: p.background },
    dead_time_ns: p.deadTimeNs,
    dead_time_model: p.deadTimeModel,
    overlap,
    smoothing_m: p.smoothingM,
    glue: { scale: orNull(p.glue.scale), low_mhz: p.glue.lowMHz, high_mhz: p.glue.highMHz },
    monte_carlo: p.monteCarlo,
    seed: p.seed,
    channel: p.channel,
    pm: { mee_pm10: p.pm.meePm10, mee_pm25: p.pm.meePm25, gamma: p.pm.gamma, rh: p.pm.rh, angstrom: p.pm.angstrom },
  };
}

/** JSON with sorted keys, no whitespace, numbers as shortest round-trip strings (-0 as 0). */
function canonicalJson(v: Json): string {
  if (v === null) return 'null';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid number in parameter set: ${v}`, { field: 'parameter set' });
    return String(v); // Number::toString: shortest round-trip; String(-0) === '0'
  }
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, Json>;
    const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  throw new LidarError('LIDAR_ERR_BAD_VALUE', `invalid value in parameter set: ${typeof v}`, { field: 'parameter set' });
}

/**
 * The canonical JSON of a resolved set: contract keys (snake_case), every field spelled out
 * ("not given" as null), keys sorted, numbers as shortest round-trip strings. Valid input for
 * `resolveParams`, which gives the same set back.
 */
export function canonicalParams(p: ResolvedParams): string {
  return canonicalJson(contractShape(p));
}

/** 'p-' + the first 16 hex characters of SHA-256(canonicalParams(p)). */
export function paramsId(p: ResolvedParams): string {
  return 'p-' + sha256Hex(canonicalParams(p)).slice(0, 16);
}
