/**
 * The retrieval in the browser (a module Web Worker): the same pure core as the server
 * (processing/: Licel decoding, station, parameter sets, retrieveChannel, terrain), run on a
 * profile's archived raw file with edited parameters. Mirrors ingest/job.ts for one channel: below
 * 15 deg elevation the chain runs in calibration mode with a lidar constant unless the set chooses
 * another reference. Monte Carlo uncertainties are not computed here (monte_carlo 0) to stay
 * interactive; the products themselves do not depend on it.
 *
 * Messages in: {type: 'init', seq, raw, fileName, station, dem} then {type: 'run', seq, params, channel,
 * lidarConstant}; out: {seq, ok: true, profile, ms} or {seq, ok: false, error: {code, message, field}}.
 */
import { decodeLicel } from '../../../processing/licel/decode.js';
import { parseStation, type StationConfig } from '../../../processing/station.js';
import { resolveParams, paramsId } from '../../../processing/retrieval/params.js';
import { retrieveChannel, type RetrievalContext } from '../../../processing/retrieval/retrieve.js';
import { selectChannels } from '../../../processing/retrieval/signal.js';
import { elevationFromHeader } from '../../../processing/geometry/beam.js';
import { terrainFromJson, type TerrainGrid } from '../../../processing/geometry/terrain.js';
import { profileToJson } from '../../../processing/retrieval/products-json.js';
import { isLidarError } from '../../../processing/errors.js';
import type { LicelFile } from '../../../processing/licel/types.js';

/** As ingest/job.ts CALIBRATION_MAX_ELEVATION_DEG. */
const CALIBRATION_MAX_ELEVATION_DEG = 15;

interface InitMessage {
  type: 'init';
  seq: number;
  raw: ArrayBuffer;
  fileName: string;
  station: unknown;
  dem: unknown | null;
}
interface RunMessage {
  type: 'run';
  seq: number;
  params: unknown;
  channel: string;
  lidarConstant: number | null;
}

const scope = self as unknown as { onmessage: ((e: MessageEvent<InitMessage | RunMessage>) => void) | null; postMessage: (m: unknown) => void };

let file: LicelFile | null = null;
let fileName = '';
let station: StationConfig | null = null;
let terrain: TerrainGrid | null = null;

const channelKey = (wavelengthNm: number, polarization: string, kind: string) => `${Math.round(wavelengthNm)}${polarization}-${kind}`;

function errorOf(e: unknown): { code: string; message: string; field?: string } {
  if (isLidarError(e)) return { code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) };
  return { code: 'LIDAR_ERR_BAD_VALUE', message: e instanceof Error ? e.message : String(e) };
}

scope.onmessage = (e) => {
  const m = e.data;
  if (m.type === 'init') {
    try {
      file = decodeLicel(new Uint8Array(m.raw), m.fileName);
      fileName = m.fileName;
      station = parseStation(m.station, 'station');
      terrain = m.dem ? terrainFromJson(m.dem, 'dem') : null;
      scope.postMessage({ seq: m.seq, ok: true, init: true });
    } catch (err) {
      scope.postMessage({ seq: m.seq, ok: false, error: errorOf(err) });
    }
    return;
  }
  const t0 = performance.now();
  try {
    if (!file || !station) throw new Error('the worker has no file yet');
    const params = resolveParams(m.params, 'parameters');
    const elevationDeg = elevationFromHeader(file.header.zenithRaw, station.zenith_convention);
    const sel = selectChannels(file, params.channel, fileName, station.channels).find((s) => {
      const kind = s.analog >= 0 && s.photon >= 0 ? 'glued' : s.photon >= 0 ? 'photon' : 'analog';
      return channelKey(s.wavelengthNm, s.polarization, kind) === m.channel;
    });
    if (!sel) throw new Error(`channel ${m.channel} is not in ${fileName} with these parameters`);
    let ctxParams = params;
    const needsConstant = elevationDeg < CALIBRATION_MAX_ELEVATION_DEG && (params.reference.mode === null || params.reference.mode === 'calibration') && !Number.isFinite(params.reference.lidarConstant);
    if (needsConstant) {
      if (!(m.lidarConstant !== null && m.lidarConstant > 0)) throw new Error('a scan needs a lidar constant: give one');
      ctxParams = { ...params, reference: { ...params.reference, mode: 'calibration', lidarConstant: m.lidarConstant } };
    }
    const ctx: RetrievalContext = { station, params: ctxParams, paramsId: paramsId(params), terrain, monteCarlo: 0 };
    const p = profileToJson(retrieveChannel(file, fileName, sel, ctx));
    scope.postMessage({ seq: m.seq, ok: true, profile: p, ms: performance.now() - t0 });
  } catch (err) {
    scope.postMessage({ seq: m.seq, ok: false, error: errorOf(err) });
  }
};
