/** Schemas of the profile routes (contract names of processing/retrieval/products-json.ts). */
import { Type } from 'typebox';
import { Iso, IsoOrNull, NumOrNull, StrOrNull } from './common.js';

const ArrOrNull = Type.Unsafe<Array<number | null> | null>({ type: ['array', 'null'], items: { type: ['number', 'null'] } });

export const ProfileIdParams = Type.Object({
  id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,32}:[A-Za-z0-9._-]{1,32}:(0|[1-9][0-9]{0,15})$', description: 'Profile id station:channel:timeMs, e.g. sofia:532o-glued:1516377600000' }),
});

export const Profile = Type.Object({
  id: Type.String(),
  station: Type.String(),
  channel: Type.String(),
  mode: Type.String({ description: '"vertical" (elevation >= 85 deg) or "scan"' }),
  file: Type.String({ description: 'Source Licel file name' }),
  time_start: Iso,
  time_end: IsoOrNull,
  received: IsoOrNull,
  azimuth_deg: Type.Number(),
  elevation_deg: Type.Number(),
  bins: Type.Integer(),
  range_start_m: Type.Number(),
  range_step_m: Type.Number(),
  range_m: ArrOrNull,
  lat: ArrOrNull,
  lon: ArrOrNull,
  height_m: ArrOrNull,
  rcs: ArrOrNull,
  beta_aer: ArrOrNull,
  alpha_aer: ArrOrNull,
  pm10: ArrOrNull,
  pm25: ArrOrNull,
  beta_aer_sigma: ArrOrNull,
  alpha_aer_sigma: ArrOrNull,
  pm10_sigma: ArrOrNull,
  pm25_sigma: ArrOrNull,
  qc: Type.Unsafe<number[] | null>({ type: ['array', 'null'], items: { type: 'integer' } }),
  qc_counts: Type.Array(Type.Integer(), { description: 'Bins per QC bit: OVERLAP, LOW_SNR, CLOUD, TERRAIN, SATURATED, NEGATIVE, FORWARD, HUMID' }),
  valid_bins: Type.Integer(),
  pbl_height_m: NumOrNull,
  pbl_quality: NumOrNull,
  cloud_base_m: NumOrNull,
  aod: NumOrNull,
  snr: NumOrNull,
  lidar_constant: NumOrNull,
  params_id: Type.String(),
  params: Type.Unknown({ description: 'The parameter set (canonical JSON) that made the profile; null when not stored' }),
});

export const Preview = Type.Object({
  ...Profile.properties,
  preview: Type.Literal(true),
  stored_params_id: Type.String({ description: 'Parameter set of the stored profile' }),
  constants: Type.Record(Type.String(), Type.Number(), { description: 'Lidar constants given to the retrieval (scans), per channel' }),
});

export const PreviewBody = Type.Object(
  {
    params: Type.Record(Type.String(), Type.Unknown(), { description: 'A parameter set (docs/retrieval.md); omitted keys take the defaults. monte_carlo at most 200 here.' }),
  },
  { additionalProperties: false },
);

export const ParamSet = Type.Object({
  id: Type.String({ description: 'Content id "p-" + 16 hex (SHA-256 of the canonical JSON)' }),
  name: Type.String(),
  created: Iso,
  params: Type.Unknown({ description: 'Canonical parameter-set JSON' }),
});

export const ParamSetList = Type.Object({ param_sets: Type.Array(ParamSet), active: Type.Record(Type.String(), StrOrNull, { description: 'Active set per station' }) });

export const ParamSetBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    params: Type.Record(Type.String(), Type.Unknown(), { description: 'The parameter set (docs/retrieval.md); validated like the CLI\'s --params' }),
  },
  { additionalProperties: false },
);

export const ParamSetIdParams = Type.Object({ id: Type.String({ pattern: '^p-[0-9a-f]{16}$' }) });

export const ActiveParamsBody = Type.Object({ params_id: Type.String({ pattern: '^p-[0-9a-f]{16}$' }) }, { additionalProperties: false });
export const ActiveParams = Type.Object({ station: Type.String(), params_id: Type.String() });

/** One entry of GET /stations/{station}/profiles (metadata only). */
export const ProfileListEntry = Type.Object({
  id: Type.String(),
  channel: Type.String(),
  mode: Type.String({ description: '"vertical" (elevation >= 85 deg) or "scan"' }),
  time_start: Type.String(),
  time_end: Type.String(),
  azimuth_deg: NumOrNull,
  elevation_deg: NumOrNull,
  file: Type.String(),
  params_id: Type.String(),
  valid_bins: NumOrNull,
  pbl_height_m: NumOrNull,
  cloud_base_m: NumOrNull,
  aod: NumOrNull,
  lidar_constant: NumOrNull,
  pbl_quality: Type.Optional(NumOrNull),
  snr: Type.Optional(NumOrNull),
  background: Type.Optional(NumOrNull),
  background_unit: Type.Optional(Type.String({ description: 'Unit of `background`: "MHz" (photon-counting and glued channels) or "mV" (analog-only)' })),
});
export const ProfileList = Type.Object({ station: Type.String(), from: Type.String(), to: Type.String(), profiles: Type.Array(ProfileListEntry), truncated: Type.Boolean() });
