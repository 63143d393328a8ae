/** Schemas of the reprocessing-job and calibration routes. */
import { Type } from 'typebox';
import { Iso, IsoOrNull, NumOrNull, StrOrNull, StringEnum, StationId, TimeValue } from './common.js';

export const Job = Type.Object({
  id: Type.String(),
  kind: Type.Literal('reprocess'),
  station: Type.String(),
  from: Iso,
  to: Iso,
  params_id: Type.String(),
  state: StringEnum(['queued', 'running', 'done', 'failed', 'cancelled'] as const),
  files_total: Type.Integer({ description: 'Files in the window (an upper bound while the edge days are being listed)' }),
  files_done: Type.Integer(),
  files_failed: Type.Integer(),
  profiles_stored: Type.Integer(),
  progress: Type.Number({ minimum: 0, maximum: 1 }),
  created: Iso,
  started: IsoOrNull,
  finished: IsoOrNull,
  last_error: StrOrNull,
});

export const JobList = Type.Object({ jobs: Type.Array(Job) });
export const JobIdParams = Type.Object({ id: Type.String({ pattern: '^job-[0-9a-f]{12}$' }) });

export const ReprocessBody = Type.Object(
  {
    station: StationId,
    from: TimeValue,
    to: TimeValue,
    params_id: Type.String({ pattern: '^p-[0-9a-f]{16}$' }),
  },
  { additionalProperties: false },
);

export const CalibrationBody = Type.Object(
  {
    aq_station: Type.String({ minLength: 1, maxLength: 32, description: 'EEA EoI code of a configured AQ station (GET /aq-stations)' }),
    from: TimeValue,
    to: TimeValue,
    pm: Type.Array(
      Type.Object(
        {
          time: TimeValue,
          pm10: Type.Unsafe<number | null>({ type: ['number', 'null'], minimum: 0, maximum: 10_000, description: 'Hourly mean PM10 (ug/m3) of the hour starting at time' }),
          pm25: Type.Optional(Type.Unsafe<number | null>({ type: ['number', 'null'], minimum: 0, maximum: 10_000 })),
          rh: Type.Optional(Type.Unsafe<number | null>({ type: ['number', 'null'], minimum: 0, maximum: 1, description: 'Relative humidity as a fraction (enables fit_gamma)' })),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 10_000 },
    ),
    channel: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]{1,32}$', description: 'Default: the scan channel nearest 550 nm' })),
    radius_m: Type.Optional(Type.Number({ minimum: 1, maximum: 100_000, default: 500 })),
    max_agl_m: Type.Optional(Type.Number({ minimum: 1, maximum: 10_000, default: 150 })),
    min_bins: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 20 })),
    min_hours: Type.Optional(Type.Integer({ minimum: 2, maximum: 100_000, default: 3 })),
    fit_gamma: Type.Optional(Type.Boolean({ default: false })),
  },
  { additionalProperties: false },
);

const MeeFit = Type.Object({
  n: Type.Integer(),
  mee_m2_per_g: Type.Number(),
  mee_sigma_m2_per_g: Type.Number(),
  r2: NumOrNull,
  rmse_ug_m3: Type.Number(),
  bias_ug_m3: Type.Number(),
  n_downweighted: Type.Integer(),
});

export const CalibrationResponse = Type.Object({
  station: Type.String(),
  aq_station: Type.String(),
  channel: Type.String(),
  n: Type.Integer({ description: 'Paired hours (PM10)' }),
  mee: Type.Number({ description: 'Fitted MEE for PM10, m2/g' }),
  r2: NumOrNull,
  rmse: Type.Number({ description: 'ug/m3' }),
  bias: Type.Number({ description: 'Mean lidar minus station PM10, ug/m3' }),
  pm10: MeeFit,
  pm25: Type.Union([MeeFit, Type.Null()]),
  gamma: Type.Union([
    Type.Object({ n: Type.Integer(), gamma: Type.Number(), gamma_sigma: Type.Number(), mee_dry_m2_per_g: Type.Number(), rh_min: Type.Number(), rh_max: Type.Number() }),
    Type.Null(),
  ]),
  input_params_id: Type.String(),
  params_id: Type.String({ description: 'Id the fitted set gets when stored (POST /param-sets with `params`)' }),
  params: Type.Unknown({ description: 'The input parameter set with the fitted MEE (and gamma)' }),
  hours: Type.Array(Type.Unknown(), { description: 'Per paired hour: bins, extinction, station and lidar PM (docs/calibration.md)' }),
  notes: Type.Array(Type.String()),
});
