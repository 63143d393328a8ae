/** Schemas of the map (GeoJSON), scan (polar) and curtain routes. */
import { Type } from 'typebox';
import { Iso, IsoOrNull, NumArray, NumOrNull, ScanSummary, StrOrNull } from './common.js';

const Ring = Type.Array(Type.Array(Type.Number(), { minItems: 2, maxItems: 2, description: '[lon, lat]' }), { minItems: 5, maxItems: 5 });

export const MapFeature = Type.Object({
  type: Type.Literal('Feature'),
  id: Type.String(),
  geometry: Type.Object({ type: Type.Literal('Polygon'), coordinates: Type.Array(Ring, { minItems: 1, maxItems: 1 }) }),
  properties: Type.Object({
    cell: Type.String({ description: 'EEA reference grid cell id (EPSG:3035), e.g. 500mE10825N4534' }),
    district: Type.String({ description: 'District code of the cell centre ("" outside every district)' }),
    value: Type.Unsafe<number | null>({ type: ['number', 'null'], description: 'Mean over the scan\'s valid bins in the cell below the map height limit (null: none valid)' }),
    n: Type.Integer({ description: 'Bins averaged' }),
    unit: Type.String(),
    product: Type.String(),
    averaging: Type.Literal('one scan'),
    scan: Type.Object({ from: Iso, to: Iso, elevation_deg: Type.Number() }),
    time: Iso,
  }),
});

export const MapCollection = Type.Object(
  {
    type: Type.Literal('FeatureCollection'),
    station: Type.String(),
    channel: StrOrNull,
    product: Type.String(),
    unit: Type.String(),
    averaging: Type.Literal('one scan'),
    provisional: Type.Boolean({ description: 'Always true: lidar-derived PM, not for compliance' }),
    time: Type.Unsafe<string | null>({ type: ['string', 'null'], description: 'Time of the last measurement of the scan (null: no scan in the look-back)' }),
    scan: Type.Union([ScanSummary, Type.Null()]),
    features: Type.Array(MapFeature),
  },
  { description: 'GeoJSON FeatureCollection (RFC 7946) of the latest scan\'s map cells' },
);

export const PolarScan = Type.Object({
  station: Type.String(),
  channel: StrOrNull,
  product: Type.String(),
  unit: Type.String(),
  scan: Type.Union([ScanSummary, Type.Null()]),
  rays: Type.Array(
    Type.Object({
      id: Type.String({ description: 'Profile id (GET /profiles/{id})' }),
      time: Iso,
      azimuth_deg: Type.Number(),
      elevation_deg: Type.Number(),
      range_start_m: Type.Number({ description: 'Range of bin 0 along the beam (m); bin i is at range_start_m + i * range_step_m' }),
      range_step_m: Type.Number(),
      bins: Type.Integer(),
      values: NumArray,
      qc: Type.Array(Type.Integer(), { description: 'QC bitmask per bin (docs/retrieval.md)' }),
    }),
  ),
});

export const CurtainJson = Type.Object({
  station: Type.String(),
  channel: StrOrNull,
  product: Type.String(),
  unit: Type.String(),
  from: Iso,
  to: Iso,
  width: Type.Integer(),
  height: Type.Integer(),
  profiles_used: Type.Integer(),
  height_min_m: NumOrNull,
  height_max_m: NumOrNull,
  times: Type.Array(Type.String(), { description: 'Column centres (ISO 8601 UTC)' }),
  heights_m: NumArray,
  values: Type.Array(NumArray, { description: 'values[column][row]; null where no finite value fell' }),
  pbl_height_m: NumArray,
  cloud_base_m: NumArray,
  pbl_quality: Type.Array(NumOrNull, { description: 'Per column: mean quality (0..1) of the PBL heights of its profiles; null where no PBL height' }),
});

export const CurtainBinary = Type.String({ format: 'binary', description: 'application/vnd.lidar-pm.curtain+f32: see docs/api.md "Curtain binary format"' });

export const AqStationList = Type.Object({
  station: StrOrNull,
  channel: StrOrNull,
  stations: Type.Array(
    Type.Object({
      id: Type.String({ description: 'EEA EoI code' }),
      name_en: Type.String(),
      name_bg: Type.String(),
      lat: Type.Number(),
      lon: Type.Number(),
      ground_m: Type.Number(),
      station_type: Type.String(),
      area: Type.String(),
      cell: Type.String({ description: 'Map cell containing the station' }),
      district: Type.String(),
      lidar: Type.Union([
        Type.Object({
          pm10: NumOrNull,
          pm25: NumOrNull,
          n: Type.Integer(),
          time: IsoOrNull,
          averaging: Type.Literal('one scan'),
        }),
        Type.Null(),
      ], { description: 'The latest scan\'s PM in the station\'s cell (null when the scan does not cover it)' }),
      official: Type.Union([
        Type.Object({
          pm10: NumOrNull,
          pm25: NumOrNull,
          time: Type.String({ description: 'Hour start (ISO 8601 UTC)' }),
          averaging: Type.Literal('one hour'),
          source: Type.String(),
        }),
        Type.Null(),
      ], { description: 'The station\'s own newest complete hourly value of the last 48 h (null when none is stored)' }),
    }),
  ),
});
