/**
 * The dashboard's reads of the lidar-pm HTTP API (docs/api.md), same origin, typed. Errors become
 * ApiError with the API's code and message.
 */
import type { PmProduct } from './aqi.js';

export const API = 'api/v1';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const r = await fetch(`${API}/${path}`, { signal, headers: { accept: 'application/json' } });
  if (!r.ok) {
    let code = 'HTTP';
    let message = `${r.status} ${r.statusText}`;
    try {
      const body = (await r.json()) as { error?: { code?: string; message?: string } };
      if (body.error) [code, message] = [body.error.code ?? code, body.error.message ?? message];
    } catch {
      /* not JSON */
    }
    throw new ApiError(r.status, code, message);
  }
  return (await r.json()) as T;
}

/** A write route: JSON body, bearer token (kept by the caller, never stored here). */
export async function sendJson<T>(method: 'POST' | 'DELETE', path: string, token: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(`${API}/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  if (!r.ok) {
    const err = (parsed as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(r.status, err?.code ?? 'HTTP', err?.message ?? `${r.status} ${r.statusText}`);
  }
  return parsed as T;
}

export async function getBinary(path: string, signal?: AbortSignal): Promise<ArrayBuffer> {
  const r = await fetch(`${API}/${path}`, { signal });
  if (!r.ok) throw new ApiError(r.status, 'HTTP', `${r.status} ${r.statusText}`);
  return r.arrayBuffer();
}

export const query = (params: Record<string, string | number | undefined | null>): string =>
  Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');

export interface ScanInfo {
  from: string;
  to: string;
  elevation_deg: number;
  profiles?: number;
  azimuth_from_deg?: number;
  azimuth_to_deg?: number;
}

export interface MapCellProps {
  cell: string;
  district: string;
  value: number | null;
  n: number;
  unit: string;
  product: string;
  averaging: string;
  scan: ScanInfo;
  time: string;
}

export interface MapCell {
  type: 'Feature';
  id: string;
  geometry: { type: 'Polygon'; coordinates: Array<Array<[number, number]>> };
  properties: MapCellProps;
}

export interface MapCollection {
  type: 'FeatureCollection';
  station: string;
  channel: string;
  product: string;
  unit: string;
  averaging: string;
  provisional: boolean;
  time: string | null;
  scan: ScanInfo | null;
  features: MapCell[];
}

export interface SeriesPoint {
  time: string;
  value: number | null;
  n: number;
}

export interface Series {
  station: string;
  product: string;
  unit: string;
  target: { spec: string; kind: string; cell: string | null; district: string | null; label: string };
  resolution: string;
  averaging: string;
  from: string;
  to: string;
  points: SeriesPoint[];
}

export interface AqStation {
  id: string;
  name_en: string;
  name_bg: string;
  lat: number;
  lon: number;
  ground_m: number;
  station_type: string;
  area: string;
  cell: string | null;
  district: string | null;
  lidar: { pm10: number | null; pm25: number | null; n: number; time: string; averaging: string } | null;
  /** The station's own newest complete hourly value of the last 48 h (null when none is stored). */
  official?: { pm10: number | null; pm25: number | null; time: string; averaging: string; source: string } | null;
}

export interface StationInfo {
  id: string;
  name: string;
  lat: number;
  lon: number;
  altitude_m: number;
  ground_altitude_m: number;
  timezone: string;
  channels: string[];
  last_profile: string | null;
}

export const getMap = (station: string, product: PmProduct, at?: number, signal?: AbortSignal) =>
  getJson<MapCollection>(`stations/${encodeURIComponent(station)}/map?${query({ product, at })}`, signal);

export const getSeries = (station: string, params: { product: PmProduct; target: string; resolution: '1h' | '1d' | 'raw'; from?: number; to?: number }, signal?: AbortSignal) =>
  getJson<Series>(
    `stations/${encodeURIComponent(station)}/series?${query({ product: params.product, target: params.target, resolution: params.resolution, from: params.from, to: params.to })}`,
    signal,
  );

export const getAqStations = (station: string, signal?: AbortSignal) => getJson<{ station: string; stations: AqStation[] }>(`aq-stations?${query({ station })}`, signal);

export const getStations = (signal?: AbortSignal) => getJson<{ stations: StationInfo[] }>('stations', signal);
