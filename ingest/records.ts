/**
 * Retrieval products -> store records: one ProfileRecord per retrieved channel (arrays as Float32,
 * the store's precision) and its contributions to the map cells (store/port.ts CellRecord).
 *
 * A bin contributes to the map when it has a PM value that is reported and not LOW_SNR, and lies at
 * most `maxHeightAglM` above the terrain under it (the DEM, else the station's ground): the map
 * shows near-surface air, not the residual layer a long slant beam reaches. Pure (no Node APIs).
 */
import { QC, QC_NO_PM } from '../processing/retrieval/qc.js';
import type { ProfileProducts } from '../processing/retrieval/retrieve.js';
import { cellId, districtAt, parseCellId, type District } from '../processing/geometry/grid.js';
import { terrainHeightM, type TerrainGrid } from '../processing/geometry/terrain.js';
import { channelKey, profileId, VERTICAL_MIN_ELEVATION_DEG, type CellRecord, type HealthRecord, type ProfileRecord } from '../store/port.js';
import { LicelDataType, type LicelFile } from '../processing/licel/types.js';
import { datasetWavelengthNm } from '../processing/retrieval/signal.js';
import type { StationChannel } from '../processing/station.js';

export interface MapOptions {
  cellSizeM: number;
  /** Highest bin height above the ground (m) that counts for the map. */
  maxHeightAglM: number;
  districts: readonly District[];
  terrain: TerrainGrid | null;
  /** Ground altitude at the station (m a.s.l.), used where the DEM has no value. */
  stationGroundM: number;
}

export const DEFAULT_MAP_OPTIONS = { cellSizeM: 500, maxHeightAglM: 500 } as const;

const QC_BITS = Object.values(QC);

function f32(a: Float64Array): Float32Array {
  return Float32Array.from(a);
}

/**
 * The store record of one retrieved channel. `lidarConstant`: for a vertical, the constant accepted
 * for calibrating scans (NaN when not accepted); for a calibration-mode profile, the one it used.
 */
export function profileRecord(p: ProfileProducts, receivedMs: number, acceptedLidarConstant: number): ProfileRecord {
  const timeMs = Date.parse(p.timeStartUtc);
  const channel = channelKey(p.channel.wavelengthNm, p.channel.polarization, p.channel.kind);
  const bins = p.rangeM.length;
  const qcCounts = new Array<number>(QC_BITS.length).fill(0);
  let validBins = 0;
  for (let i = 0; i < bins; i++) {
    const q = p.qc[i];
    for (let b = 0; b < QC_BITS.length; b++) if ((q & QC_BITS[b]) !== 0) qcCounts[b]++;
    if ((q & (QC_NO_PM | QC.LOW_SNR)) === 0 && Number.isFinite(p.pm10[i])) validBins++;
  }
  return {
    id: profileId(p.station, channel, timeMs),
    station: p.station,
    channel,
    mode: p.elevationDeg >= VERTICAL_MIN_ELEVATION_DEG ? 'vertical' : 'scan',
    timeMs,
    timeEndMs: Date.parse(p.timeEndUtc),
    azimuthDeg: p.azimuthDeg,
    elevationDeg: p.elevationDeg,
    rangeStartM: bins > 0 ? p.rangeM[0] : 0,
    rangeStepM: bins > 1 ? p.rangeM[1] - p.rangeM[0] : 0,
    bins,
    file: p.file,
    paramsId: p.paramsId,
    pblHeightM: p.pblHeightM,
    pblQuality: p.pblQuality,
    cloudBaseM: p.cloudBaseM,
    aod: p.aod,
    snr: p.snr,
    background: p.backgroundMean,
    lidarConstant: acceptedLidarConstant,
    validBins,
    qcCounts,
    receivedMs,
    arrays: {
      height_m: f32(p.heightM),
      rcs: f32(p.rcs),
      beta_aer: f32(p.betaAer),
      alpha_aer: f32(p.alphaAer),
      pm10: f32(p.pm10),
      pm25: f32(p.pm25),
      beta_aer_sigma: f32(p.betaAerSigma),
      alpha_aer_sigma: f32(p.alphaAerSigma),
      pm10_sigma: f32(p.pm10Sigma),
      pm25_sigma: f32(p.pm25Sigma),
      qc: p.qc.slice(),
    },
  };
}

/** The profile's contributions to the map cells (scan profiles only: verticals stay over the station). */
export function cellRecords(p: ProfileProducts, opts: MapOptions): CellRecord[] {
  if (p.elevationDeg >= VERTICAL_MIN_ELEVATION_DEG) return [];
  const channel = channelKey(p.channel.wavelengthNm, p.channel.polarization, p.channel.kind);
  const timeMs = Date.parse(p.timeStartUtc);
  const byCell = new Map<string, CellRecord>();
  const districtOfCell = new Map<string, string>();
  let lastCell = '';
  let last: CellRecord | null = null;
  for (let i = 0; i < p.pm10.length; i++) {
    if ((p.qc[i] & (QC_NO_PM | QC.LOW_SNR)) !== 0) continue;
    const pm10 = p.pm10[i];
    const pm25 = p.pm25[i];
    const alpha = p.alphaAer[i];
    if (!Number.isFinite(pm10) || !Number.isFinite(pm25) || !Number.isFinite(alpha)) continue;
    const lat = p.lat[i];
    const lon = p.lon[i];
    let ground = opts.terrain ? terrainHeightM(opts.terrain, lat, lon) : NaN;
    if (!Number.isFinite(ground)) ground = opts.stationGroundM;
    if (p.heightM[i] - ground > opts.maxHeightAglM) continue;
    const id = cellId(lat, lon, opts.cellSizeM);
    let rec: CellRecord | null | undefined = id === lastCell ? last : byCell.get(id);
    if (!rec) {
      let district = districtOfCell.get(id);
      if (district === undefined) {
        const g = parseCellId(id)!;
        district = districtAt(opts.districts, g.centreLat, g.centreLon);
        districtOfCell.set(id, district);
      }
      rec = { station: p.station, channel, cell: id, district, timeMs, n: 0, pm10Sum: 0, pm25Sum: 0, alphaSum: 0 };
      byCell.set(id, rec);
    }
    rec.n++;
    rec.pm10Sum += pm10;
    rec.pm25Sum += pm25;
    rec.alphaSum += alpha;
    lastCell = id;
    last = rec;
  }
  return [...byCell.values()];
}

/**
 * The instrument housekeeping a Licel header carries, as one health record at the file's measurement
 * start (`timeMs`), names under `licel.` (docs/ingest.md "Housekeeping"):
 *
 * - per laser n (1-3) that an active dataset uses or that fired (shots > 0): `licel.laser<n>.shots`,
 *   `licel.laser<n>.rate_hz` (an unused laser, 0 shots and no active dataset, is left out: its zero
 *   rate is no fault);
 * - per active signal dataset (analog or photon counting; inactive and squared-sum datasets are left
 *   out), by the channel key the profiles use with the dataset's own kind (`532o-analog`,
 *   `532o-photon`; the wavelength from the header, else the station's channel settings):
 *   `licel.<channel>.pmt_voltage_v`, `licel.<channel>.shots`, and for analog
 *   datasets `licel.<channel>.adc_bits`, `licel.<channel>.input_range_v`. A key that occurs twice in
 *   one file gets the dataset's position: `532o-analog-ds4`;
 * - `licel.temperature_c`, `licel.pressure_hpa` only where the header has them (Raymetrics line 2).
 *
 * Values that are not finite are left out. Null when the header gives nothing. Same file, same
 * record (idempotent by (station, timeMs) like every health record). Pure.
 */
export function licelHousekeepingRecord(file: LicelFile, station: string, timeMs: number, stationChannels?: Record<string, StationChannel>): HealthRecord | null {
  const values: Record<string, number> = {};
  const put = (name: string, v: number) => {
    if (Number.isFinite(v)) values[`licel.${name}`] = v;
  };
  const h = file.header;
  const lasers: Array<[number, number]> = [
    [h.laser1Shots, h.laser1RateHz],
    [h.laser2Shots, h.laser2RateHz],
    [h.laser3Shots, h.laser3RateHz],
  ];
  const signal = file.datasets.map((d, i) => ({ d, i })).filter(({ d }) => d.active && (d.dataType === LicelDataType.Analog || d.dataType === LicelDataType.PhotonCounting));
  lasers.forEach(([shots, rateHz], k) => {
    const n = k + 1;
    if (!(shots > 0) && !signal.some(({ d }) => d.laser === n)) return;
    put(`laser${n}.shots`, shots);
    put(`laser${n}.rate_hz`, rateHz);
  });
  const keyOf = (d: LicelFile['datasets'][number], i: number) =>
    channelKey(datasetWavelengthNm(file, i, stationChannels), d.polarization, d.dataType === LicelDataType.Analog ? 'analog' : 'photon');
  const seen = new Map<string, number>();
  for (const { d, i } of signal) seen.set(keyOf(d, i), (seen.get(keyOf(d, i)) ?? 0) + 1);
  for (const { d, i } of signal) {
    const key = seen.get(keyOf(d, i))! > 1 ? `${keyOf(d, i)}-ds${i}` : keyOf(d, i);
    put(`${key}.pmt_voltage_v`, d.pmtVoltageV);
    put(`${key}.shots`, d.shots);
    if (d.dataType === LicelDataType.Analog) {
      put(`${key}.adc_bits`, d.adcBits);
      put(`${key}.input_range_v`, d.inputRangeV);
    }
  }
  put('temperature_c', h.temperatureC);
  put('pressure_hpa', h.pressureHpa);
  return Object.keys(values).length > 0 ? { station, timeMs, values } : null;
}
