/**
 * MQTT topic names of the transport contract (ARCHITECTURE.md "Transports"): build them from a
 * station id and parse incoming topics back into (station, kind), validating the station id.
 *
 *   lidar/{station}/raw       one Licel file per message (QoS 1)
 *   lidar/{station}/status    JSON housekeeping (QoS 1)
 *   lidar/{station}/online    retained 'true' / 'false', the station's last will
 *   lidar/{station}/products  JSON product summary published by the pipeline
 *   lidar-pm/{clientId}/online  retained presence of a pipeline instance (its own last will)
 */
import { LidarError } from '../../processing/errors.js';

/** Station ids: lower-case letters, digits, '_' and '-', 1 to 64 characters. */
export const STATION_ID_PATTERN = /^[a-z0-9_-]{1,64}$/;
/** MQTT client ids we accept for our own clients (they also appear in a topic, so no '/', '+', '#'). */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

export const TOPIC_ROOT = 'lidar';
export const PRESENCE_ROOT = 'lidar-pm';

export type StationTopicKind = 'raw' | 'status' | 'online' | 'products';
const KINDS: ReadonlySet<string> = new Set<StationTopicKind>(['raw', 'status', 'online', 'products']);

export function isStationId(s: string): boolean {
  return STATION_ID_PATTERN.test(s);
}

/** Throws LIDAR_ERR_BAD_VALUE naming the bad id. */
export function assertStationId(station: string, field = 'station'): string {
  if (typeof station !== 'string' || !isStationId(station)) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `station id ${describe(station)} does not match ${STATION_ID_PATTERN.source}`, { field });
  }
  return station;
}

export function assertClientId(clientId: string, field = 'clientId'): string {
  if (typeof clientId !== 'string' || !CLIENT_ID_PATTERN.test(clientId)) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `MQTT client id ${describe(clientId)} does not match ${CLIENT_ID_PATTERN.source}`, { field });
  }
  return clientId;
}

export function stationTopic(station: string, kind: StationTopicKind): string {
  return `${TOPIC_ROOT}/${assertStationId(station)}/${kind}`;
}

export const rawTopic = (station: string): string => stationTopic(station, 'raw');
export const statusTopic = (station: string): string => stationTopic(station, 'status');
export const onlineTopic = (station: string): string => stationTopic(station, 'online');
export const productsTopic = (station: string): string => stationTopic(station, 'products');

/** Retained presence of one pipeline instance (not the station's `lidar/{station}/online`). */
export function presenceTopic(clientId: string): string {
  return `${PRESENCE_ROOT}/${assertClientId(clientId)}/online`;
}

/**
 * Subscription filter for one kind: all stations ('+') or one station, optionally inside an MQTT 5
 * shared-subscription group (`$share/{group}/lidar/+/raw`).
 */
export function subscriptionFilter(kind: StationTopicKind, station: string | '+', sharedGroup?: string): string {
  const st = station === '+' ? '+' : assertStationId(station);
  const filter = `${TOPIC_ROOT}/${st}/${kind}`;
  if (sharedGroup === undefined) return filter;
  if (!CLIENT_ID_PATTERN.test(sharedGroup)) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `shared subscription group ${describe(sharedGroup)} does not match ${CLIENT_ID_PATTERN.source}`, { field: 'sharedGroup' });
  }
  return `$share/${sharedGroup}/${filter}`;
}

export type ParsedTopic = { ok: true; station: string; kind: StationTopicKind } | { ok: false; station: string | null; error: LidarError };

/**
 * Parse an incoming topic. Never throws: a topic outside the contract, or with a bad station id,
 * comes back as `{ ok: false, error }` (LIDAR_ERR_BAD_VALUE naming the topic and what is wrong).
 */
export function parseTopic(topic: string): ParsedTopic {
  const parts = topic.split('/');
  const shown = describe(topic);
  if (parts.length !== 3 || parts[0] !== TOPIC_ROOT) {
    return { ok: false, station: null, error: new LidarError('LIDAR_ERR_BAD_VALUE', `topic ${shown} is not lidar/{station}/{raw|status|online|products}`, { field: 'topic' }) };
  }
  const [, station, kind] = parts as [string, string, string];
  if (!isStationId(station)) {
    return {
      ok: false,
      station: null,
      error: new LidarError('LIDAR_ERR_BAD_VALUE', `topic ${shown}: station id ${describe(station)} does not match ${STATION_ID_PATTERN.source}`, { field: 'topic' }),
    };
  }
  if (!KINDS.has(kind)) {
    return { ok: false, station, error: new LidarError('LIDAR_ERR_BAD_VALUE', `topic ${shown}: unknown message kind ${describe(kind)}`, { field: 'topic' }) };
  }
  return { ok: true, station, kind: kind as StationTopicKind };
}

/** A value quoted for an error message, cut to 80 characters so a hostile topic cannot flood logs. */
function describe(v: unknown): string {
  if (typeof v !== 'string') return String(v);
  const s = v.length > 80 ? `${v.slice(0, 80)}...(${v.length} chars)` : v;
  return JSON.stringify(s);
}
