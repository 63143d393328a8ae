/**
 * The parameter-set fields the profile inspector edits (pure): their path in the contract's JSON
 * (snake_case, docs/retrieval.md), the ranges of processing/retrieval/params.ts `resolveParams`
 * (tests/dashboard-scientist-units.test.ts checks every bound against it), read/write by path, and
 * the check of a whole set with the server's own validator, so the inspector never runs, saves or
 * previews a set the server would refuse.
 */
import { resolveParams } from '../../../processing/retrieval/params.js';
import { isLidarError } from '../../../processing/errors.js';

type Json = Record<string, unknown>;

export interface NumberField {
  kind: 'number';
  /** Dotted path in the set, e.g. 'reference.scattering_ratio'. */
  path: string;
  min: number;
  max: number;
  /** The lower bound itself is refused (e.g. MEE > 0). */
  minExclusive?: boolean;
  integer?: boolean;
  step: string;
  /** null is valid ("not given": the chain's default). */
  nullable?: boolean;
}
export interface ChoiceField {
  kind: 'choice';
  path: string;
  /** The values; null = "not given" (the chain's default) where the contract accepts it. */
  options: ReadonlyArray<string | null>;
}
export type ParamField = NumberField | ChoiceField;

/** Largest range accepted anywhere (m), as params.ts MAX_RANGE_M. */
export const MAX_RANGE_M = 100_000;

/** Every field the inspector shows, in the order of params.ts (ranges from its validator). */
export const PARAM_FIELDS = {
  lidarRatio: { kind: 'number', path: 'lidar_ratio_sr', min: 1, max: 200, step: '1', nullable: true },
  smoothing: { kind: 'number', path: 'smoothing_m', min: 0, max: 10_000, step: '7.5' },
  overlap: { kind: 'number', path: 'overlap.full_overlap_m', min: 0, max: 10_000, step: '10' },
  meePm10: { kind: 'number', path: 'pm.mee_pm10', min: 0, max: 50, minExclusive: true, step: '0.1' },
  meePm25: { kind: 'number', path: 'pm.mee_pm25', min: 0, max: 50, minExclusive: true, step: '0.1' },
  gamma: { kind: 'number', path: 'pm.gamma', min: 0, max: 2, step: '0.05' },
  rh: { kind: 'number', path: 'pm.rh', min: 0, max: 1, step: '0.05' },
  angstrom: { kind: 'number', path: 'pm.angstrom', min: -1, max: 4, step: '0.1' },
  refMode: { kind: 'choice', path: 'reference.mode', options: [null, 'rayleigh', 'calibration', 'value', 'slope'] },
  refScatteringRatio: { kind: 'number', path: 'reference.scattering_ratio', min: 1, max: 1000, step: '0.01' },
  refBetaAer: { kind: 'number', path: 'reference.beta_aer', min: 0, max: 0.1, step: 'any' },
  refRange: { kind: 'number', path: 'reference.range_m', min: 0, max: MAX_RANGE_M, minExclusive: true, step: '100', nullable: true },
  molLidarRatio: { kind: 'number', path: 'molecular.lidar_ratio_sr', min: 8, max: 9, step: '0.01' },
  molAtmosphere: { kind: 'choice', path: 'molecular.atmosphere', options: ['us1976', 'met'] },
  molCrossSection: { kind: 'choice', path: 'molecular.cross_section', options: ['bucholtz1995', 'freudenthaler2015'] },
  deadTime: { kind: 'number', path: 'dead_time_ns', min: 0, max: 100, step: '0.1' },
  deadTimeModel: { kind: 'choice', path: 'dead_time_model', options: ['nonparalysable', 'paralysable'] },
  glueScale: { kind: 'number', path: 'glue.scale', min: 0, max: 1e9, minExclusive: true, step: 'any', nullable: true },
  glueLow: { kind: 'number', path: 'glue.low_mhz', min: 0, max: 1000, step: '0.1' },
  glueHigh: { kind: 'number', path: 'glue.high_mhz', min: 0, max: 1000, minExclusive: true, step: '0.1' },
} as const satisfies Record<string, ParamField>;

export type FieldName = keyof typeof PARAM_FIELDS;

/** Windows ([from, to] in m) and their bounds: reference.window_m (or "auto"), background.window_m (or "pretrigger"/"none"/null). */
export const WINDOW_BOUNDS = {
  reference: { path: 'reference.window_m', min: 0, max: MAX_RANGE_M, special: ['auto'] as const },
  background: { path: 'background.window_m', min: -MAX_RANGE_M, max: MAX_RANGE_M, special: [null, 'pretrigger', 'none'] as const },
} as const;

/** The value at a dotted path (undefined when a level is missing). */
export function getPath(set: Json, path: string): unknown {
  let o: unknown = set;
  for (const k of path.split('.')) {
    if (o === null || typeof o !== 'object' || Array.isArray(o)) return undefined;
    o = (o as Json)[k];
  }
  return o;
}

/** A copy of the set with the value at a dotted path replaced (levels created as needed). */
export function setPath(set: Json, path: string, value: unknown): Json {
  const out = JSON.parse(JSON.stringify(set ?? {})) as Json;
  const keys = path.split('.');
  let o: Json = out;
  for (const k of keys.slice(0, -1)) {
    const next = o[k];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) o[k] = {};
    o = o[k] as Json;
  }
  o[keys[keys.length - 1]] = value;
  return out;
}

/**
 * A number typed in a field, or the reason it cannot be used: '' is null (allowed for nullable
 * fields), otherwise a finite number inside the validator's range.
 */
export function parseNumberField(f: NumberField, text: string): { ok: true; value: number | null } | { ok: false; why: 'required' | 'number' | 'range' | 'integer' } {
  const s = text.trim();
  if (s === '') return f.nullable ? { ok: true, value: null } : { ok: false, why: 'required' };
  const v = Number(s);
  if (!Number.isFinite(v)) return { ok: false, why: 'number' };
  if (f.integer && !Number.isInteger(v)) return { ok: false, why: 'integer' };
  if ((f.minExclusive ? !(v > f.min) : !(v >= f.min)) || v > f.max) return { ok: false, why: 'range' };
  return { ok: true, value: v };
}

/** The range of a field as text: "[0, 10000]", "(0, 50]". */
export const rangeText = (f: NumberField): string => `${f.minExclusive ? '(' : '['}${f.min}, ${f.max}]`;

/** A window typed as two numbers: [from, to] with from < to inside the bounds, or null. */
export function parseWindow(fromText: string, toText: string, min: number, max: number): [number, number] | null {
  if (fromText.trim() === '' || toText.trim() === '') return null;
  const a = Number(fromText);
  const b = Number(toText);
  if (!Number.isFinite(a) || !Number.isFinite(b) || !(a < b) || a < min || b > max) return null;
  return [a, b];
}

/** The set checked by the server's validator: null when valid, else its field and message. */
export function checkParams(set: unknown): { field: string; message: string } | null {
  try {
    resolveParams(set, 'parameters');
    return null;
  } catch (e) {
    if (isLidarError(e)) return { field: e.field ?? 'parameters', message: e.message };
    return { field: 'parameters', message: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * The set sent to both the browser and the server for the "compare with server" check: the edited
 * set with Monte Carlo off (the products do not depend on it; a preview allows at most 200) and, for
 * a scan retrieved in calibration mode, the lidar constant written into the set, so both sides use
 * the same constant instead of each choosing one.
 */
export function comparisonSet(edited: Json, opts: { scan: boolean; lidarConstant: number | null }): Json {
  let out = setPath(edited, 'monte_carlo', 0);
  const mode = getPath(out, 'reference.mode');
  const given = getPath(out, 'reference.lidar_constant');
  if (opts.scan && (mode === null || mode === undefined || mode === 'calibration') && (given === null || given === undefined) && opts.lidarConstant !== null && opts.lidarConstant > 0) {
    out = setPath(out, 'reference.lidar_constant', opts.lidarConstant);
  }
  return out;
}

/** The channel key's wavelength (nm): '532o-glued' -> 532; NaN when the key has none. */
export const channelWavelengthNm = (channel: string): number => Number(/^(\d+)/.exec(channel)?.[1] ?? NaN);
