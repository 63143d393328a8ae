/**
 * MQTT v5 publisher for the transport contract: Licel files on `lidar/{station}/raw`, housekeeping
 * JSON on `/status`, product summaries on `/products`, the retained `/online` flag. Every publish
 * is QoS 1 and its promise resolves when the broker's PUBACK arrives. While the broker is away the
 * client keeps unacknowledged publishes (and new ones) and resends them after reconnecting; the
 * promises resolve then. Used by `lidar-pm replay --to mqtt://...` and by the pipeline.
 */
import { randomBytes } from 'node:crypto';
import { connect, type IClientOptions, type IClientPublishOptions, type IPublishPacket, type MqttClient, type Packet } from 'mqtt';
import { LidarError } from '../../processing/errors.js';
import { assertBrokerUrl, authOptions, redactUrl, silentLogger, type MqttConnectionOptions, type MqttLogger } from './options.js';
import { assertClientId, onlineTopic, productsTopic, rawTopic, statusTopic } from './topics.js';

export interface PublisherOptions extends MqttConnectionOptions {
  /** Default `lidar-pm-pub-<random>`. */
  clientId?: string;
  /** When set, the broker publishes retained `lidar/{station}/online` 'false' if this client dies (last will). */
  willStation?: string;
  /** Delay between reconnect attempts (default 500 ms). */
  reconnectMs?: number;
  /** connectPublisher() rejects (LIDAR_ERR_IO) when the first connection takes longer (default 10 s). */
  connectTimeoutMs?: number;
  logger?: MqttLogger;
}

/** MQTT 5 publish properties the publisher passes through (a subset of mqtt.js's). */
export interface PublishProperties {
  payloadFormatIndicator?: boolean;
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Buffer;
  userProperties?: Record<string, string | string[]>;
}

export interface PublishOptions {
  qos?: 0 | 1;
  retain?: boolean;
  properties?: PublishProperties;
}

export interface MqttPublisher {
  readonly clientId: string;
  publishRaw(station: string, bytes: Uint8Array): Promise<void>;
  publishStatus(station: string, json: object): Promise<void>;
  publishProducts(station: string, summary: object): Promise<void>;
  publishOnline(station: string, online: boolean): Promise<void>;
  /** Any topic (no wildcards); QoS 1 unless told. Used to play captures back. */
  publish(topic: string, payload: Uint8Array | string, opts?: PublishOptions): Promise<void>;
  connected(): boolean;
  /** published: publish calls; acked: PUBACKs received; resent: publish packets sent again after a reconnect. */
  stats(): { published: number; acked: number; resent: number; reconnects: number };
  /** Waits for outstanding PUBACKs (up to 5 s), then disconnects. */
  close(): Promise<void>;
}

const JSON_PROPS: PublishProperties = { payloadFormatIndicator: true, contentType: 'application/json' };

export async function connectPublisher(options: PublisherOptions): Promise<MqttPublisher> {
  assertBrokerUrl(options.url);
  const clientId = assertClientId(options.clientId ?? `lidar-pm-pub-${randomBytes(6).toString('hex')}`);
  const log = options.logger ?? silentLogger;
  const clientOptions: IClientOptions = {
    ...authOptions(options),
    protocolVersion: 5,
    clientId,
    clean: true,
    reconnectPeriod: options.reconnectMs ?? 500,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
  };
  if (options.willStation !== undefined) {
    clientOptions.will = { topic: onlineTopic(options.willStation), payload: Buffer.from('false'), qos: 1, retain: true };
  }
  const client = connect(options.url, clientOptions);
  const counts = { published: 0, acked: 0, resent: 0, reconnects: 0 };
  // Publish packet ids sent and not yet acknowledged: a second send of one of them is a resend.
  const unacked = new Set<number>();
  client.on('packetsend', (p: Packet) => {
    if (p.cmd === 'publish' && (p as IPublishPacket).qos > 0) {
      const id = (p as IPublishPacket).messageId ?? -1;
      if (unacked.has(id)) counts.resent++;
      unacked.add(id);
    }
  });
  client.on('packetreceive', (p: Packet) => {
    if (p.cmd === 'puback' && p.messageId !== undefined) unacked.delete(p.messageId);
  });
  client.on('error', (err) => log.warn('mqtt publisher error', { error: err.message }));
  let everConnected = false;
  client.on('connect', () => {
    if (everConnected) counts.reconnects++;
    everConnected = true;
  });

  await new Promise<void>((resolve, reject) => {
    const timeoutMs = (options.connectTimeoutMs ?? 10_000) + 1000;
    let lastError: Error | null = null;
    const onError = (err: Error) => (lastError = err);
    client.on('error', onError);
    const timer = setTimeout(() => {
      client.removeListener('error', onError);
      client.end(true);
      reject(new LidarError('LIDAR_ERR_IO', `MQTT broker ${redactUrl(options.url)}: not connected within ${timeoutMs} ms${lastError ? ` (${lastError.message})` : ''}`, { field: 'url' }));
    }, timeoutMs);
    client.once('connect', () => {
      clearTimeout(timer);
      client.removeListener('error', onError);
      resolve();
    });
  });

  const publish = async (topic: string, payload: Uint8Array | string, opts: PublishOptions = {}): Promise<void> => {
    if (typeof topic !== 'string' || topic.length === 0 || /[+#\0]/.test(topic) || Buffer.byteLength(topic) > 65535) {
      throw new LidarError('LIDAR_ERR_BAD_VALUE', `topic ${JSON.stringify(String(topic)).slice(0, 100)} is not a valid MQTT topic name`, { field: 'topic' });
    }
    const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    const publishOpts: IClientPublishOptions = { qos: opts.qos ?? 1, retain: opts.retain ?? false };
    if (opts.properties) publishOpts.properties = opts.properties;
    counts.published++;
    try {
      await client.publishAsync(topic, body, publishOpts);
    } catch (err) {
      throw new LidarError('LIDAR_ERR_IO', `MQTT publish to ${topic} failed: ${(err as Error).message}`, { field: 'topic' });
    }
    counts.acked++;
  };

  const json = (o: object, field: string): Buffer => {
    if (typeof o !== 'object' || o === null) throw new LidarError('LIDAR_ERR_BAD_VALUE', `${field} must be a JSON object`, { field });
    return Buffer.from(JSON.stringify(o), 'utf8');
  };

  return {
    clientId,
    publishRaw: (station, bytes) => publish(rawTopic(station), bytes),
    publishStatus: (station, doc) => publish(statusTopic(station), json(doc, 'status'), { properties: JSON_PROPS }),
    publishProducts: (station, summary) => publish(productsTopic(station), json(summary, 'summary'), { properties: JSON_PROPS }),
    publishOnline: (station, online) => publish(onlineTopic(station), online ? 'true' : 'false', { retain: true }),
    publish,
    connected: () => client.connected,
    stats: () => ({ ...counts }),
    async close() {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => client.end(true, {}, () => resolve()), 5000);
        client.end(false, {}, () => {
          clearTimeout(t);
          resolve();
        });
      });
    },
  };
}
