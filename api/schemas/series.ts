/** Schemas of the series and district-statistics routes. */
import { Type } from 'typebox';
import { Iso, NumOrNull, StrOrNull, StringEnum } from './common.js';

export const SeriesResponse = Type.Object({
  station: Type.String(),
  channel: StrOrNull,
  product: Type.String(),
  unit: Type.String(),
  target: Type.Object({
    spec: Type.String(),
    kind: StringEnum(['cell', 'district', 'point', 'aq', 'station'] as const),
    cell: StrOrNull,
    district: StrOrNull,
    label: Type.String(),
  }),
  resolution: StringEnum(['raw', '1h', '1d'] as const),
  averaging: Type.String({ description: 'What one value averages' }),
  timezone: StrOrNull,
  from: Iso,
  to: Iso,
  points: Type.Array(
    Type.Object({
      time: Iso,
      value: NumOrNull,
      n: Type.Integer({ description: 'raw and 1h: bins averaged; 1d: hours with data' }),
    }),
  ),
});

const Limit = Type.Object({
  id: Type.String(),
  directive: Type.String(),
  citation: Type.String(),
  averaging: StringEnum(['day', 'year'] as const),
  value_ug_m3: Type.Number(),
  max_exceedances_per_year: Type.Unsafe<number | null>({ type: ['integer', 'null'] }),
  applies_from: Type.String({ description: 'YYYY-MM-DD' }),
});

export const DistrictsResponse = Type.Object({
  station: Type.String(),
  channel: StrOrNull,
  product: Type.String(),
  unit: Type.String(),
  timezone: Type.String({ description: 'Zone of the calendar days' }),
  from: Iso,
  to: Iso,
  min_hours_per_day: Type.Integer({ description: 'A daily mean needs this many hours with data (2008/50/EC Annex XI A)' }),
  limits: Type.Array(Limit),
  districts: Type.Array(
    Type.Object({
      district: Type.String(),
      name_en: Type.String(),
      name_bg: Type.String(),
      valid_days: Type.Integer(),
      period_mean: NumOrNull,
      days: Type.Array(Type.Object({ date: Type.String(), mean: NumOrNull, hours: Type.Integer() })),
      limits: Type.Array(
        Type.Object({
          id: Type.String(),
          exceedance_days: Type.Unsafe<number | null>({ type: ['integer', 'null'], description: 'Daily limits: valid days strictly above the limit' }),
          allowed_exceeded: Type.Unsafe<boolean | null>({ type: ['boolean', 'null'], description: 'Daily limits: more exceedance days than allowed per year' }),
          period_mean_above: Type.Unsafe<boolean | null>({ type: ['boolean', 'null'], description: 'Annual limits: the period mean is above (indicative unless the window is a calendar year)' }),
        }),
      ),
    }),
  ),
});
