/**
 * Shared TypeBox schemas: the error body, path/query pieces (station ids, times, products,
 * channels), nullable numbers. Everything here is plain JSON Schema (OpenAPI 3.1 compatible).
 */
import { Type, type TSchema } from 'typebox';
import { ERROR_CODES } from '../../processing/errors.js';
import { PROFILE_ARRAY_NAMES } from '../../store/port.js';

export function StringEnum<const T extends readonly string[]>(values: T, options: Record<string, unknown> = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

export const NumOrNull = Type.Unsafe<number | null>({ type: ['number', 'null'] });
export const StrOrNull = Type.Unsafe<string | null>({ type: ['string', 'null'] });
export const NumArray = Type.Array(NumOrNull);
export function Nullable<T extends TSchema>(schema: T) {
  return Type.Union([schema, Type.Null()]);
}

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: StringEnum(Object.keys(ERROR_CODES) as Array<keyof typeof ERROR_CODES>, { description: 'LidarError code (docs/errors.md); the HTTP status tells the kind of failure' }),
      message: Type.String({ description: 'What is wrong, naming the bad value' }),
      field: Type.Optional(Type.String({ description: 'The parameter, body field or header at fault' })),
    }),
  },
  { description: 'Coded error' },
);

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Bad input (the message and `field` name it)',
  401: 'Missing, malformed or unknown bearer token',
  403: 'The token lacks the scope this route needs',
  404: 'Unknown station, profile, cell, district, AQ station, parameter set or job',
  409: 'Conflicts with the current state (e.g. the job queue is full)',
  413: 'Request body larger than the configured limit',
  429: 'Rate limit exceeded (Retry-After says when to come back)',
  503: 'The store, the sources or the retrieval workers are unavailable',
};

/** Error responses for a route's `response` map. */
export function errors(...statuses: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = {};
  for (const s of statuses) out[s] = Type.Object(ErrorBody.properties, { description: ERROR_DESCRIPTIONS[s] ?? 'Error' });
  return out;
}

/** Errors every public route can answer. */
export const PUBLIC_ERRORS = [400, 429, 503];
/** Errors every write route can answer. */
export const WRITE_ERRORS = [400, 401, 403, 413, 429, 503];

export const StationId = Type.String({ pattern: '^[A-Za-z0-9_-]{1,32}$', description: 'Station id, e.g. "sofia"' });
export const StationParams = Type.Object({ station: StationId });

export const TimeValue = Type.String({
  minLength: 1,
  maxLength: 40,
  description: 'ISO 8601 date-time with Z or an offset (2018-01-19T16:00:00Z), a date (YYYY-MM-DD = 00:00 UTC), or integer ms since 1970',
});
export const Channel = Type.String({ pattern: '^[A-Za-z0-9._-]{1,32}$', description: 'Channel key, e.g. "532o-glued" (default: the station channel nearest 532 nm, glued first)' });
export const MAP_PRODUCTS = ['pm10', 'pm25', 'alpha_aer'] as const;
export const MapProduct = StringEnum(MAP_PRODUCTS, { description: 'PM10, PM2.5 (ug/m3) or aerosol extinction (1/m)', default: 'pm10' });
export const PmProduct = StringEnum(['pm10', 'pm25'] as const, { default: 'pm10' });
export const POLAR_PRODUCTS = PROFILE_ARRAY_NAMES.filter((n) => n !== 'qc');
export const PolarProduct = StringEnum(POLAR_PRODUCTS, { description: 'A per-bin product of the stored profiles', default: 'pm10' });
export const Format = StringEnum(['json', 'csv'] as const, { default: 'json' });

export const ScanSummary = Type.Object({
  from: Type.String({ description: 'Start of the scan (ISO 8601 UTC)' }),
  to: Type.String({ description: 'End of its last profile (ISO 8601 UTC)' }),
  elevation_deg: Type.Number(),
  profiles: Type.Integer(),
  azimuth_from_deg: Type.Number(),
  azimuth_to_deg: Type.Number(),
});

export const Iso = Type.String({ description: 'ISO 8601 UTC' });
export const IsoOrNull = Type.Unsafe<string | null>({ type: ['string', 'null'], description: 'ISO 8601 UTC, null when unknown' });
