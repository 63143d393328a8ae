/**
 * Connection options shared by the source, the publisher and the recorder: broker URL check,
 * credentials and TLS mapped onto mqtt.js options, and the logger shape.
 */
import type { IClientOptions } from 'mqtt';
import { LidarError } from '../../processing/errors.js';

export interface MqttTlsOptions {
  /** PEM CA certificate(s) to trust. */
  ca?: string | string[] | Buffer | Buffer[];
  /** PEM client certificate and key for mutual TLS. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Default true; false accepts any server certificate (test brokers only). */
  rejectUnauthorized?: boolean;
}

export interface MqttConnectionOptions {
  /** mqtt://host:port, mqtts://host:port, ws://, wss:// */
  url: string;
  username?: string;
  password?: string;
  tls?: MqttTlsOptions;
}

export interface MqttLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: MqttLogger = { info() {}, warn() {}, error() {} };

const PROTOCOLS = new Set(['mqtt:', 'mqtts:', 'tcp:', 'tls:', 'ws:', 'wss:']);

export function assertBrokerUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `broker URL ${JSON.stringify(String(url)).slice(0, 120)} is not a URL`, { field: 'url' });
  }
  if (!PROTOCOLS.has(parsed.protocol)) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `broker URL ${JSON.stringify(url)}: protocol ${parsed.protocol} is not one of ${[...PROTOCOLS].join(' ')}`, { field: 'url' });
  }
  return url;
}

/** The broker URL with any password removed, for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}

/** Credentials and TLS as mqtt.js options. */
export function authOptions(o: MqttConnectionOptions): IClientOptions {
  const out: IClientOptions = {};
  if (o.username !== undefined) out.username = o.username;
  if (o.password !== undefined) out.password = o.password;
  if (o.tls) {
    if (o.tls.ca !== undefined) out.ca = o.tls.ca;
    if (o.tls.cert !== undefined) out.cert = o.tls.cert;
    if (o.tls.key !== undefined) out.key = o.tls.key;
    if (o.tls.rejectUnauthorized !== undefined) out.rejectUnauthorized = o.tls.rejectUnauthorized;
  }
  return out;
}
