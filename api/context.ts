/**
 * What the HTTP API gets from the service (bin/service/compose.ts builds it): the stores, the live
 * pipeline, the configuration it serves. The API owns nothing else; tests build one over a temporary
 * embedded store.
 */
import type { EventEmitter } from 'node:events';
import type { StationConfig } from '../processing/station.js';
import type { ResolvedParams } from '../processing/retrieval/params.types.js';
import type { District } from '../processing/geometry/grid.js';
import type { TerrainGrid } from '../processing/geometry/terrain.js';
import type { ResultStore } from '../store/result-store.js';
import type { StationHealth } from '../ingest/pipeline.js';
import type { RetrievalPool } from '../ingest/worker-pool.js';

export interface AqStationInfo {
  id: string;
  name_en: string;
  name_bg: string;
  lat: number;
  lon: number;
  ground_m: number;
  station_type: string;
  area: string;
}

export interface ApiToken {
  name: string;
  /** Hex SHA-256 of the bearer token (tokens are never stored in clear). */
  sha256: string;
  /**
   * Optional: what the token may do (api/auth.ts SCOPES: 'params', 'preview', 'jobs', 'calibrate', 'aq').
   * Absent = every scope. A valid token lacking a route's scope gets 403.
   */
  scopes?: string[];
}

export interface ApiSettings {
  /** Allowed CORS origins ([] = same origin only). */
  corsOrigins: string[];
  /** Requests per minute per client IP on public routes. */
  rateLimitPerMinute: number;
  /** Largest request body (bytes). */
  bodyLimitBytes: number;
  tokens: ApiToken[];
  /** Built dashboard (index.html and assets) served at /, or null. */
  dashboardDir: string | null;
  /** Trust X-Forwarded-For from a reverse proxy. */
  trustProxy: boolean;
}

export interface ApiContext {
  store: ResultStore;
  stations: Record<string, StationConfig>;
  aqStations: AqStationInfo[];
  districts: District[];
  terrain: TerrainGrid | null;
  /** Map grid settings in use. */
  map: { cellSizeM: number; maxHeightAglM: number };
  /** Active parameter set per station (id, resolved, and the JSON it came from). */
  activeParams: Record<string, { params: ResolvedParams; paramsId: string; json: unknown }>;
  /** Makes a stored parameter set the active one of a station (future items use it). */
  activateParams(station: string, paramsId: string): Promise<void>;
  /** The pipeline's events: 'stored' {station, file, time, channels, ids, cells}, 'quarantined', 'status'. */
  events: EventEmitter;
  /** Live per-station pipeline health. */
  pipelineHealth(): Record<string, StationHealth>;
  /** Queue depths of the pipeline. */
  depths(): { queued: number; running: number; pool: number };
  /** Sources with their state and counters. */
  sources(): Array<{ name: string; connected: boolean; stats: Record<string, number> }>;
  /** The worker pool, for previews and reprocessing. */
  pool: RetrievalPool;
  /** Raw Licel archive `<dir>/<station>/<YYYY-MM-DD>/<file>` (null when not kept). */
  rawArchiveDir: string | null;
  settings: ApiSettings;
  /** Optional clock (ms UTC) for "latest" queries and default windows; default Date.now (tests over recorded data set it). */
  now?: () => number;
  /** Optional: a vertical's lidar constant calibrates scans when its reference starts this far above the lidar (m; the pipeline's setting, default 5000). Used by previews and reprocessing. */
  minCalibrationReferenceM?: number;
  /** Optional log of server-side problems (5xx causes, job failures); default stderr. */
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}
