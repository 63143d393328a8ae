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
import { channelKey, profileId, VERTICAL_MIN_ELEVATION_DEG, type CellRecord, type ProfileRecord } from '../store/port.js';

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
