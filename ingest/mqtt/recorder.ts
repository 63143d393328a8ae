/**
 * Records MQTT traffic into a capture file (format in capture.ts): arrival offset, topic, QoS,
 * retain flag, MQTT 5 properties and the payload bytes, appended as each message arrives. Subscribes
 * at QoS 1 with retain-as-published, on a clean session of its own.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { connect, type IClientOptions, type IPublishPacket } from 'mqtt';
import { LidarError } from '../../processing/errors.js';
import { captureProperties, encodeCaptureRecord, encodeCaptureStart, type CapturedMessage } from './capture.js';
import { assertBrokerUrl, authOptions, redactUrl, silentLogger, type MqttConnectionOptions, type MqttLogger } from './options.js';
import { assertClientId } from './topics.js';

export interface RecordOptions extends MqttConnectionOptions {
  /** Topic filters (default ['lidar/#']). */
  topics?: string[];
  /** Capture file to write (created or truncated). */
  out: string;
  clientId?: string;
  /** Extra fields for the capture's meta block. */
  meta?: Record<string, unknown>;
  /** Called for every recorded message (after it is queued for writing). */
  onMessage?(msg: CapturedMessage, count: number): void;
  connectTimeoutMs?: number;
  logger?: MqttLogger;
}

export interface MqttRecorder {
  /** Messages recorded so far. */
  count(): number;
  /** Resolves once `count()` reaches n. */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  /** Disconnects and closes the file. */
  stop(): Promise<{ messages: number; bytes: number; file: string }>;
}

/** Resolves once connected and subscribed; from then on every message is written to `out`. */
export async function recordMqtt(options: RecordOptions): Promise<MqttRecorder> {
  assertBrokerUrl(options.url);
  const topics = options.topics ?? ['lidar/#'];
  if (!Array.isArray(topics) || topics.length === 0 || topics.some((t) => typeof t !== 'string' || t.length === 0)) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', 'topics must be a non-empty list of topic filters', { field: 'topics' });
  }
  const clientId = assertClientId(options.clientId ?? `lidar-pm-rec-${randomBytes(6).toString('hex')}`);
  const log = options.logger ?? silentLogger;
  const out: WriteStream = createWriteStream(options.out);
  const fileError = new Promise<never>((_, reject) => out.once('error', (e) => reject(new LidarError('LIDAR_ERR_IO', `capture file ${options.out}: ${e.message}`, { file: options.out }))));
  fileError.catch(() => {});
  let bytes = 0;
  const write = (b: Uint8Array) => {
    bytes += b.length;
    out.write(b);
  };
  write(encodeCaptureStart({ ...(options.meta ?? {}), recordedAt: new Date().toISOString(), topics }));

  let count = 0;
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const start = performance.now();
  const clientOptions: IClientOptions = {
    ...authOptions(options),
    protocolVersion: 5,
    clientId,
    clean: true,
    reconnectPeriod: 500,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    resubscribe: true,
    manualConnect: true,
  };
  const client = connect(options.url, clientOptions);
  client.handleMessage = (packet: IPublishPacket, done) => {
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload, 'utf8') : packet.payload;
    const msg: CapturedMessage = {
      tMs: performance.now() - start,
      topic: packet.topic,
      qos: packet.qos,
      retain: packet.retain,
      payload: new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength),
    };
    const props = captureProperties(packet.properties as Record<string, unknown> | undefined);
    if (props) msg.properties = props;
    write(encodeCaptureRecord(msg));
    count++;
    options.onMessage?.(msg, count);
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (count >= waiters[i]!.n) {
        waiters[i]!.resolve();
        waiters.splice(i, 1);
      }
    }
    done();
  };
  client.on('error', (err) => log.warn('mqtt recorder error', { error: err.message }));

  try {
    await new Promise<void>((resolve, reject) => {
      const timeoutMs = (options.connectTimeoutMs ?? 10_000) + 1000;
      const timer = setTimeout(() => reject(new LidarError('LIDAR_ERR_IO', `MQTT broker ${redactUrl(options.url)}: not connected within ${timeoutMs} ms`, { field: 'url' })), timeoutMs);
      client.once('connect', () => {
        // rap: keep the publisher's retain flag; QoS 1 so the broker does not drop anything on the way.
        client.subscribe(Object.fromEntries(topics.map((t) => [t, { qos: 1 as const, rap: true }])), (err) => {
          clearTimeout(timer);
          if (err) reject(new LidarError('LIDAR_ERR_IO', `MQTT subscribe to ${topics.join(', ')} failed: ${err.message}`, { field: 'topics' }));
          else resolve();
        });
      });
      client.connect();
    });
  } catch (err) {
    client.end(true);
    out.destroy();
    throw err;
  }

  return {
    count: () => count,
    waitFor(n, timeoutMs = 60_000) {
      if (count >= n) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new LidarError('LIDAR_ERR_IO', `recorder: ${count} of ${n} messages after ${timeoutMs} ms`, { field: 'count' })), timeoutMs);
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(t);
            resolve();
          },
        });
      });
    },
    async stop() {
      await client.endAsync();
      await Promise.race([new Promise<void>((resolve) => out.end(() => resolve())), fileError]);
      return { messages: count, bytes, file: options.out };
    },
  };
}
