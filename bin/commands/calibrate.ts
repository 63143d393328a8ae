/**
 * `lidar-pm calibrate --pm FILE (--aq-station CODE | --aq-lat LAT --aq-lon LON) (FILE... | --products FILE) ...`
 * Fits the mass extinction efficiency (and with --fit-gamma the hygroscopic growth exponent) against
 * an air-quality station's hourly PM (processing/retrieval/calibrate.ts, docs/calibration.md).
 * Prints the fit and the new parameter set (JSON, or --text); --out FILE writes the parameter set.
 * Exit 0 ok, 1 I/O failure, 2 bad usage or input, or fewer than --min-hours paired hours.
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { LidarError } from '../../processing/errors.js';
import { decodeLicel } from '../../processing/licel/decode.js';
import { parseMetCsv } from '../../processing/atmosphere/standard-atmosphere.js';
import { canonicalParams, paramsId, resolveParams } from '../../processing/retrieval/params.js';
import { groupSameGeometry, sumLicelFiles } from '../../processing/retrieval/average.js';
import { retrieveFile, type RetrievalContext } from '../../processing/retrieval/retrieve.js';
import { terrainHeightM } from '../../processing/geometry/terrain.js';
import {
  calibrate,
  calibrationReport,
  findAqStation,
  parseAqCsv,
  profilesFromProductsJson,
  type AqStation,
  type CalibrationProfile,
  type CalibrationReport,
} from '../../processing/retrieval/calibrate.js';
import type { LicelFile } from '../../processing/licel/types.js';
import type { Command } from '../command.js';
import { REPO_ROOT, loadTerrain, readBytes, readJson } from '../io.js';
import { loadStation } from './retrieve.js';

export const DEFAULT_AQ_STATIONS_FILE = join(REPO_ROOT, 'config', 'aq-stations', 'sofia.json');

function numberArg(v: string | undefined, name: string, min: number, max: number, integer = false): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || x < min || x > max || (integer && !Number.isInteger(x))) {
    throw new LidarError('LIDAR_ERR_USAGE', `invalid ${name}: ${v} (${integer ? 'an integer' : 'a number'} in [${min}, ${max}])`, { field: name });
  }
  return x;
}

function textReport(r: CalibrationReport): string {
  const f = (x: number | null | undefined, d = 3) => (x === null || x === undefined ? '-' : x.toFixed(d));
  const lines = [
    `station ${r.station.id} ${r.station.name} (${r.station.lat}, ${r.station.lon}), ${r.n_hours} paired hours`,
    `PM10:  MEE ${f(r.pm10.mee_m2_per_g)} +/- ${f(r.pm10.mee_sigma_m2_per_g)} m2/g  n ${r.pm10.n}  r2 ${f(r.pm10.r2)}  RMSE ${f(r.pm10.rmse_ug_m3, 1)} ug/m3  bias ${f(r.pm10.bias_ug_m3, 1)} ug/m3`,
    r.pm25
      ? `PM2.5: MEE ${f(r.pm25.mee_m2_per_g)} +/- ${f(r.pm25.mee_sigma_m2_per_g)} m2/g  n ${r.pm25.n}  r2 ${f(r.pm25.r2)}  RMSE ${f(r.pm25.rmse_ug_m3, 1)} ug/m3  bias ${f(r.pm25.bias_ug_m3, 1)} ug/m3`
      : 'PM2.5: not fitted',
    r.gamma ? `gamma: ${f(r.gamma.gamma)} +/- ${f(r.gamma.gamma_sigma)}  n ${r.gamma.n}  RH ${r.gamma.rh_min}-${r.gamma.rh_max}` : 'gamma: not fitted',
    `params_id ${r.params_id} (input ${r.calibration.stats.input_params_id})`,
    '',
    'hour (UTC)            bins  alpha_dry550 (1/m)  PM10 station  PM10 lidar',
    ...r.calibration.stats.hours.map((h) => `${h.time.padEnd(21)} ${String(h.n_bins).padStart(5)}  ${h.alpha_dry550_per_m.toExponential(4).padStart(18)}  ${f(h.pm10_station, 1).padStart(12)}  ${f(h.pm10_lidar, 1).padStart(10)}`),
    ...r.calibration.stats.notes.map((n) => `note: ${n}`),
  ];
  return lines.join('\n');
}

export const calibrateCommand: Command = async (args) => {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      pm: { type: 'string' },
      'aq-station': { type: 'string' },
      'aq-stations': { type: 'string' },
      'aq-lat': { type: 'string' },
      'aq-lon': { type: 'string' },
      'aq-ground-m': { type: 'string' },
      'aq-timezone': { type: 'string' },
      products: { type: 'string' },
      params: { type: 'string' },
      station: { type: 'string' },
      met: { type: 'string' },
      average: { type: 'boolean', default: false },
      'monte-carlo': { type: 'string' },
      'no-terrain': { type: 'boolean', default: false },
      'radius-m': { type: 'string' },
      'max-agl-m': { type: 'string' },
      'min-bins': { type: 'string' },
      'min-hours': { type: 'string' },
      wavelength: { type: 'string' },
      'fit-gamma': { type: 'boolean', default: false },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
      text: { type: 'boolean', default: false },
    },
    strict: true,
  });
  // Usage first, before any file is read.
  if (!values.pm) throw new LidarError('LIDAR_ERR_USAGE', '--pm FILE (the station hourly PM CSV: time,pm10[,pm25][,rh]) is required', { field: '--pm' });
  const byCode = values['aq-station'] !== undefined;
  const byPos = values['aq-lat'] !== undefined || values['aq-lon'] !== undefined;
  if (byCode === byPos) throw new LidarError('LIDAR_ERR_USAGE', 'give the AQ station as --aq-station CODE or as --aq-lat LAT --aq-lon LON', { field: '--aq-station' });
  if (byPos && (values['aq-lat'] === undefined || values['aq-lon'] === undefined)) throw new LidarError('LIDAR_ERR_USAGE', '--aq-lat and --aq-lon go together', { field: values['aq-lat'] === undefined ? '--aq-lat' : '--aq-lon' });
  if (values.products !== undefined && positionals.length > 0) throw new LidarError('LIDAR_ERR_USAGE', 'give Licel FILEs or --products FILE, not both', { field: '--products' });
  if (values.products === undefined && positionals.length === 0) throw new LidarError('LIDAR_ERR_USAGE', 'no lidar data: give Licel FILEs or --products FILE (from lidar-pm retrieve --json)', { field: 'FILE' });
  if (values.json && values.text) throw new LidarError('LIDAR_ERR_USAGE', '--json and --text exclude each other', { field: '--text' });
  const options = {
    radiusM: numberArg(values['radius-m'], '--radius-m', 1, 100_000),
    maxAglM: numberArg(values['max-agl-m'], '--max-agl-m', 1, 10_000),
    minBins: numberArg(values['min-bins'], '--min-bins', 1, 1e9, true),
    minHours: numberArg(values['min-hours'], '--min-hours', 2, 1e6, true),
    wavelengthNm: numberArg(values.wavelength, '--wavelength', 100, 20_000),
    fitGamma: values['fit-gamma'],
  };
  const monteCarlo = numberArg(values['monte-carlo'], '--monte-carlo', 0, 10_000, true);

  let aqStation: AqStation;
  if (byCode) {
    const file = values['aq-stations'] ?? DEFAULT_AQ_STATIONS_FILE;
    aqStation = findAqStation(readJson(file), values['aq-station']!, file);
  } else {
    aqStation = {
      id: 'custom',
      name: `custom (${values['aq-lat']}, ${values['aq-lon']})`,
      lat: numberArg(values['aq-lat'], '--aq-lat', -90, 90)!,
      lon: numberArg(values['aq-lon'], '--aq-lon', -180, 180)!,
      groundM: numberArg(values['aq-ground-m'], '--aq-ground-m', -500, 9000) ?? null,
    };
  }
  const zone = values['aq-timezone'] ?? 'UTC';
  const aq = parseAqCsv(new TextDecoder().decode(readBytes(values.pm)), values.pm, zone);

  const paramsJson = values.params ? readJson(values.params) : undefined;
  const params = resolveParams(paramsJson, values.params);
  const inputId = paramsId(params);
  const terrain = values['no-terrain'] ? null : loadTerrain();

  let profiles: CalibrationProfile[];
  if (values.products !== undefined) {
    profiles = profilesFromProductsJson(readJson(values.products), values.products);
    const ids = new Set(profiles.map((p) => p.paramsId).filter((x) => x !== undefined));
    if (ids.size > 0 && !(ids.size === 1 && ids.has(inputId))) {
      process.stderr.write(`lidar-pm calibrate: note: the products were made with ${[...ids].join(', ')}, the parameter set here is ${inputId}; its pm block converts the extinction\n`);
    }
  } else {
    const station = loadStation(values.station);
    const sounding = values.met ? parseMetCsv(new TextDecoder().decode(readBytes(values.met)), values.met) : null;
    if (sounding) params.molecular.atmosphere = 'met';
    const ctx: RetrievalContext = { station, params, paramsId: paramsId(params), terrain, sounding, monteCarlo };
    const decoded: Array<{ name: string; file: LicelFile }> = positionals.map((name) => ({ name, file: decodeLicel(readBytes(name), name) }));
    const units = values.average
      ? groupSameGeometry(decoded.map((d) => d.file)).map((g) => ({
          name: g.map((k) => decoded[k].name).join('+'),
          file: g.length === 1 ? decoded[g[0]].file : sumLicelFiles(g.map((k) => decoded[k].file), g.map((k) => decoded[k].name)),
        }))
      : decoded;
    profiles = [];
    for (const u of units) {
      for (const p of retrieveFile(u.file, u.name, ctx)) {
        profiles.push({ timeStartUtc: p.timeStartUtc, timeEndUtc: p.timeEndUtc, elevationDeg: p.elevationDeg, wavelengthNm: p.channel.wavelengthNm, rangeM: p.rangeM, heightM: p.heightM, lat: p.lat, lon: p.lon, alphaAer: p.alphaAer, qc: p.qc, paramsId: p.paramsId });
      }
    }
  }

  const groundM = terrain ? (lat: number, lon: number) => terrainHeightM(terrain, lat, lon) : undefined;
  const result = calibrate(profiles, aq, aqStation, params, { ...options, groundM });
  const report = calibrationReport(result, aqStation, {
    paramsId: inputId,
    fittedAt: new Date().toISOString(),
    options: {
      pm: values.pm,
      aq_timezone: zone,
      radius_m: options.radiusM ?? 500,
      max_agl_m: options.maxAglM ?? 150,
      min_bins: options.minBins ?? 20,
      min_hours: options.minHours ?? 3,
      fit_gamma: options.fitGamma,
      source: values.products !== undefined ? { products: values.products } : { licel_files: positionals.length, average: values.average },
    },
  });
  if (values.out !== undefined) {
    try {
      writeFileSync(values.out, canonicalParams(result.params) + '\n');
    } catch (e) {
      throw new LidarError('LIDAR_ERR_IO', `cannot write the parameter set: ${(e as Error).message}`, { file: values.out });
    }
  }
  process.stdout.write((values.text ? textReport(report) : JSON.stringify(report, null, 1)) + '\n');
  return 0;
};
