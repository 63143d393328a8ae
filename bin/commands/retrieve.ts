/**
 * `lidar-pm retrieve FILE... [--params FILE] [--station FILE] [--met FILE] [--json|--csv]
 *   [--average] [--monte-carlo N] [--no-terrain]`
 * Runs the retrieval chain on Licel files and prints the products (docs/retrieval.md, docs/cli.md).
 * A bad file is reported on stderr (and in the JSON `errors`), the others still run; exit 2 then.
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { LidarError } from '../../processing/errors.js';
import { decodeLicel } from '../../processing/licel/decode.js';
import type { LicelFile } from '../../processing/licel/types.js';
import { headerDistanceKm, parseStation, SAME_SITE_MAX_KM, stationFromHeader, type StationConfig } from '../../processing/station.js';
import { parseMetCsv } from '../../processing/atmosphere/standard-atmosphere.js';
import { paramsId, resolveParams } from '../../processing/retrieval/params.js';
import { groupSameGeometry, sumLicelFiles } from '../../processing/retrieval/average.js';
import { retrieveFile, type RetrievalContext } from '../../processing/retrieval/retrieve.js';
import { ProductBuffers } from '../../processing/retrieval/product-buffers.js';
import { CSV_HEADER, profileToCsvRows, profileToJson } from '../../processing/retrieval/products-json.js';
import type { Command } from '../command.js';
import { REPO_ROOT, loadTerrain, readBytes, readJson } from '../io.js';

export const DEFAULT_STATION_FILE = join(REPO_ROOT, 'config', 'stations', 'sofia.json');

export function loadStation(file = DEFAULT_STATION_FILE): StationConfig {
  return parseStation(readJson(file), file);
}

interface FileError {
  file: string;
  code: string;
  message: string;
}

function asFileError(file: string, e: unknown): FileError {
  if (e instanceof LidarError) return { file, code: e.code, message: e.message };
  throw e;
}

export const retrieveCommand: Command = async (args) => {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      params: { type: 'string' },
      station: { type: 'string' },
      met: { type: 'string' },
      json: { type: 'boolean', default: false },
      csv: { type: 'boolean', default: false },
      average: { type: 'boolean', default: false },
      'monte-carlo': { type: 'string' },
      'no-terrain': { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (positionals.length === 0) throw new LidarError('LIDAR_ERR_USAGE', 'no Licel files given', { field: 'FILE' });
  if (values.json && values.csv) throw new LidarError('LIDAR_ERR_USAGE', '--json and --csv exclude each other', { field: '--csv' });
  const paramsJson = values.params ? readJson(values.params) : {};
  const params = resolveParams(paramsJson, values.params);
  const station = loadStation(values.station);
  const sounding = values.met ? parseMetCsv(new TextDecoder().decode(readBytes(values.met)), values.met) : null;
  if (sounding) params.molecular.atmosphere = 'met';
  let monteCarlo: number | undefined;
  if (values['monte-carlo'] !== undefined) {
    monteCarlo = Number(values['monte-carlo']);
    if (!Number.isInteger(monteCarlo) || monteCarlo < 0 || monteCarlo > 10000) throw new LidarError('LIDAR_ERR_USAGE', `invalid --monte-carlo: ${values['monte-carlo']} (0..10000)`, { field: '--monte-carlo' });
  }
  const ctx: RetrievalContext = { station, params, paramsId: paramsId(params), terrain: values['no-terrain'] ? null : loadTerrain(), sounding, monteCarlo };

  const errors: FileError[] = [];
  const decoded: Array<{ name: string; file: LicelFile }> = [];
  for (const name of positionals) {
    try {
      decoded.push({ name, file: decodeLicel(readBytes(name), name) });
    } catch (e) {
      if (e instanceof LidarError && e.code === 'LIDAR_ERR_IO') throw e;
      errors.push(asFileError(name, e));
    }
  }
  const units = values.average
    ? groupSameGeometry(decoded.map((d) => d.file)).map((g) => ({
        name: g.map((k) => decoded[k].name).join('+'),
        file: g.length === 1 ? decoded[g[0]].file : sumLicelFiles(g.map((k) => decoded[k].file), g.map((k) => decoded[k].name)),
      }))
    : decoded;

  const csv = values.csv;
  const profiles = [];
  if (csv) process.stdout.write(CSV_HEADER + '\n');
  // Without --station, a file from elsewhere (header position > 25 km from the default station) gets
  // a station made from its own header: the default's channel settings (zero bin, dead time) would
  // be wrong for it. Said once per site on stderr.
  const noted = new Set<string>();
  const stationFor = (file: LicelFile, name: string): StationConfig => {
    if (values.station) return station;
    const km = headerDistanceKm(file.header, station);
    if (!(km > SAME_SITE_MAX_KM)) return station;
    const own = stationFromHeader(file.header);
    if (!noted.has(own.id)) {
      noted.add(own.id);
      process.stderr.write(`lidar-pm retrieve: ${name}: site ${JSON.stringify(file.header.site)} is ${km.toFixed(0)} km from the default station ${station.id}; using the header's position and altitude, UTC, zero bin 0 and no channel settings (give --station for its own)\n`);
    }
    return own;
  };
  const buffers = new ProductBuffers();
  for (const u of units) {
    try {
      const unitStation = stationFor(u.file, u.name);
      // Products land in reused buffers: each is written out (CSV) or converted (JSON) before the next file.
      for (const p of retrieveFile(u.file, u.name, unitStation === station ? ctx : { ...ctx, station: unitStation }, buffers)) {
        if (csv) process.stdout.write(profileToCsvRows(p).join('\n') + '\n');
        else profiles.push(profileToJson(p));
      }
    } catch (e) {
      errors.push(asFileError(u.name, e));
    }
  }
  if (!csv) process.stdout.write(JSON.stringify({ profiles, errors }) + '\n');
  for (const e of errors) process.stderr.write(`lidar-pm retrieve: ${e.code}: ${e.message}\n`);
  return errors.length > 0 ? 2 : 0;
};
