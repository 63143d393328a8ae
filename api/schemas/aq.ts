/** Schemas of the official AQ-station hourly PM routes (api/routes/aq.ts). */
import { Type } from 'typebox';
import { Iso, NumOrNull, StrOrNull } from './common.js';

export const AqStationParams = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$', description: 'AQ station EoI code, e.g. "BG0050A"' }) });
export const AqPairParams = Type.Object({ station: Type.String({ pattern: '^[A-Za-z0-9_-]{1,32}$' }), id: AqStationParams.properties.id });

const Hour = Type.Object({
  time: Type.String({ minLength: 1, maxLength: 40, description: 'Hour start, ISO 8601 with Z or an offset' }),
  pm10: Type.Optional(NumOrNull),
  pm25: Type.Optional(NumOrNull),
}, { additionalProperties: false });

export const AqHoursBody = Type.Object({
  source: Type.Optional(Type.String({ maxLength: 200, description: 'Where the values come from (default "api")' })),
  hours: Type.Array(Hour, { maxItems: 20_000 }),
}, { additionalProperties: false, description: 'JSON form; or text/csv `time,pm10[,pm25]` with a header row' });

export const AqPutResponse = Type.Object({
  aq_station: Type.String(),
  hours: Type.Integer({ description: 'Hours in the request' }),
  created: Type.Integer({ description: 'Hours not stored before' }),
  updated: Type.Integer({ description: 'Hours stored before with other values (replaced)' }),
  unchanged: Type.Integer({ description: 'Hours stored before with the same values' }),
  from: Type.Union([Iso, Type.Null()]),
  to: Type.Union([Iso, Type.Null()], { description: 'End of the last hour' }),
  source: Type.String(),
});

export const AqHoursResponse = Type.Object({
  aq_station: Type.String(),
  name_en: Type.String(),
  name_bg: Type.String(),
  unit: Type.Literal('ug/m3'),
  averaging: Type.String(),
  from: Iso,
  to: Iso,
  hours: Type.Array(Type.Object({ time: Iso, pm10: NumOrNull, pm25: NumOrNull, source: Type.String() })),
});

const Stats = Type.Object({
  n: Type.Integer({ description: 'Hours (days) with both values' }),
  mean_lidar: NumOrNull,
  mean_station: NumOrNull,
  mean_bias: Type.Unsafe<number | null>({ type: ['number', 'null'], description: 'mean(lidar - station), ug/m3' }),
  r: Type.Unsafe<number | null>({ type: ['number', 'null'], description: 'Pearson r (null with n < 3 or a constant side)' }),
});

export const AqComparisonResponse = Type.Object({
  station: Type.String(),
  channel: StrOrNull,
  aq_station: Type.String(),
  name_en: Type.String(),
  name_bg: Type.String(),
  cell: Type.String({ description: 'The map cell containing the AQ station' }),
  radius_m: Type.Integer(),
  cells: Type.Array(Type.String(), { description: 'The cells of the lidar side' }),
  product: Type.String(),
  unit: Type.String(),
  timezone: Type.String(),
  from: Iso,
  to: Iso,
  lidar_averaging: Type.String(),
  station_averaging: Type.String(),
  hours: Type.Array(Type.Object({ time: Iso, lidar: NumOrNull, station: NumOrNull, lidar_bins: Type.Integer() })),
  days: Type.Array(Type.Object({ date: Type.String(), time: Iso, lidar: NumOrNull, station: NumOrNull, lidar_hours: Type.Integer(), station_hours: Type.Integer() })),
  stats: Type.Object({ hourly: Stats, daily: Stats }),
});
