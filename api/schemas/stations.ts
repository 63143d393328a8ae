/** Schemas of the station, status and health routes. */
import { Type } from 'typebox';
import { Iso, IsoOrNull, NumOrNull, StrOrNull, StringEnum } from './common.js';

export const StationHealthSummary = Type.Object({
  received: Type.Integer(),
  processed: Type.Integer(),
  quarantined: Type.Integer(),
  retried: Type.Integer(),
  uncalibrated: Type.Integer(),
  channel_errors: Type.Integer(),
  queue_depth: Type.Integer(),
  in_flight: Type.Integer(),
  last_lag_s: NumOrNull,
  last_profile_age_s: NumOrNull,
  last_error: StrOrNull,
});

export const Station = Type.Object({
  id: Type.String(),
  name: Type.String(),
  lat: Type.Number(),
  lon: Type.Number(),
  altitude_m: Type.Number({ description: 'Telescope altitude, m a.s.l.' }),
  ground_altitude_m: NumOrNull,
  timezone: Type.String({ description: 'IANA zone of the Licel headers and of local calendar days' }),
  config: Type.Unknown({ description: 'The station JSON (the --station contract of docs/cli.md), for the in-browser retrieval' }),
  channels: Type.Array(Type.String(), { description: 'Channel keys with data in the last 7 days' }),
  active_params_id: StrOrNull,
  last_profile: IsoOrNull,
  health: Type.Union([StationHealthSummary, Type.Null()]),
});

export const StationList = Type.Object({ stations: Type.Array(Station) });

export const StationStatus = Type.Object({
  station: Type.String(),
  now: Iso,
  level: StringEnum(['ok', 'warn', 'crit'] as const, { description: 'crit: no profile for 2 h or the store unreachable; warn: no profile for 30 min, a source disconnected, spooled writes, > 10 % quarantined' }),
  reasons: Type.Array(Type.String()),
  last_profile: IsoOrNull,
  since_last_profile_s: NumOrNull,
  ingest_lag_s: NumOrNull,
  ingest_lag_max_s: NumOrNull,
  completeness: Type.Object({
    last_hour_files: Type.Unsafe<number | null>({ type: ['integer', 'null'], description: 'Licel files with stored profiles in the last complete UTC hour (null while the store cannot be read)' }),
    typical_files_per_hour: Type.Unsafe<number | null>({ type: ['integer', 'null'], description: 'Median files per hour over the 24 h before (null with < 3 hours of data)' }),
    ratio: NumOrNull,
  }),
  retrieval: Type.Object({
    received: Type.Integer(),
    processed: Type.Integer(),
    quarantined: Type.Integer(),
    success_rate: NumOrNull,
    uncalibrated: Type.Integer(),
    channel_errors: Type.Integer(),
    retried: Type.Integer(),
    last_error: StrOrNull,
  }),
  queue: Type.Object({
    station_queued: Type.Integer(),
    station_in_flight: Type.Integer(),
    pipeline_queued: Type.Integer(),
    pipeline_running: Type.Integer(),
    retrieval_pool: Type.Integer(),
  }),
  sources: Type.Array(Type.Object({ name: Type.String(), connected: Type.Boolean() })),
  store: Type.Object({ kind: Type.String(), reachable: Type.Boolean(), spooled_points: Type.Integer(), write_errors: Type.Integer() }),
});

export const HealthHistory = Type.Object({
  station: Type.String(),
  from: Iso,
  to: Iso,
  records: Type.Array(
    Type.Object({
      time: Iso,
      values: Type.Record(Type.String(), Type.Unsafe<number | string | boolean | null>({ type: ['number', 'string', 'boolean', 'null'] }), { description: 'Named values (NaN as null)' }),
    }),
  ),
});

export const ChannelHealthChannel = Type.Object({
  channel: Type.String({ description: 'Channel key, e.g. "532o-glued"' }),
  background_unit: StringEnum(['MHz', 'mV'] as const, { description: 'Unit of `background`: MHz (photon-counting rate) for photon-counting and glued channels, mV for analog-only channels' }),
  profiles: Type.Integer({ description: 'Profiles of this channel in the window (the length of each array)' }),
  times: Type.Array(Iso, { description: 'Measurement start of each profile, oldest first' }),
  background: Type.Array(NumOrNull, { description: "The retrieval's background level (mean of the background window before subtraction) in background_unit; null = not known" }),
  snr: Type.Array(NumOrNull, { description: "Signal-to-noise ratio at the retrieval's reference (reference window or calibration start); null = not known" }),
});

export const ChannelHealth = Type.Object({
  station: Type.String(),
  from: Iso,
  to: Iso,
  mode: StringEnum(['vertical', 'scan', 'all'] as const),
  truncated: Type.Boolean({ description: 'More profiles than `limit` were in the window: the newest `limit` are given' }),
  channels: Type.Array(ChannelHealthChannel),
});
