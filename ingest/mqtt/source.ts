/**
 * MqttSource: the MQTT v5 transport as an ingest `Source` (ingest/source.ts).
 *
 * Persistent session (clean: false, sessionExpiryInterval > 0), QoS 1 subscriptions to
 * `lidar/{station|+}/raw` (and `/status`), optionally inside a shared-subscription group. A message's
 * PUBACK is sent only when the pipeline calls `item.ack()`, so a crash before that makes the broker
 * redeliver it (DUP set) to the same session.
 *
 * How the PUBACK is deferred in mqtt.js 5.16 (details in README.md): `handleMessage(packet, done)` is
 * overridden; mqtt.js processes incoming packets strictly one at a time and sends the PUBACK only
 * when `done()` is called without an error. We call `done(DEFER)` (an error) as soon as the message
 * has an in-flight slot: mqtt.js skips its PUBACK and goes on with the next packet. The PUBACK is sent
 * later with the client's internal `_sendPacket({ cmd: 'puback', messageId })`, only if the
 * connection the message came on is still the current one (after a reconnect the broker redelivers
 * unacknowledged messages under new or reused packet ids, so an old id must not be acknowledged).
 *
 * Flow control: at most `maxInFlight` messages are between arrival and ack. We advertise it as the
 * MQTT 5 Receive Maximum, and enforce it locally as well (mosquitto 2.0.11 sends more than the Receive
 * Maximum once PUBACKs flow, measured): when no slot is free the message is parked and `done` is held,
 * which stops mqtt.js reading the socket (TCP backpressure) until an ack frees a slot. The sink is
 * called for one event at a time (its promise is awaited before the next call).
 */
import { connect, type IClientOptions, type IConnackPacket, type IPublishPacket, type MqttClient } from 'mqtt';
import { LidarError } from '../../processing/errors.js';
import type { AckOutcome, InputItem, ItemKind, Source, SourceEvent, SourceSink } from '../source.js';
import { assertBrokerUrl, authOptions, redactUrl, silentLogger, type MqttConnectionOptions, type MqttLogger } from './options.js';
import { assertClientId, assertStationId, parseTopic, presenceTopic, subscriptionFilter, type StationTopicKind } from './topics.js';

export interface MqttSourceOptions extends MqttConnectionOptions {
  /** MQTT client id; the persistent session is keyed by it (same id after a restart = same session). */
  clientId: string;
  /** Stations to subscribe to, or '+' for all (default). */
  stations?: string[] | '+';
  /** Subscribe inside `$share/{group}/...` so several workers split the stream. */
  sharedGroup?: string;
  /** Also subscribe to `lidar/{station}/status` (default true). */
  subscribeStatus?: boolean;
  /** Session Expiry Interval in seconds (default 7 days): how long the broker keeps our queue while we are away. */
  sessionExpirySec?: number;
  /** Reconnect backoff: first delay and ceiling, doubling per failed attempt (default 500 ms .. 30 s). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Messages between arrival and ack at most (default 16); also advertised as MQTT 5 Receive Maximum. */
  maxInFlight?: number;
  /** MQTT keepalive in seconds (default 60). The pipeline must ack something within 1.5x this while all slots are full. */
  keepaliveSec?: number;
  /** start() rejects (LIDAR_ERR_IO) when not connected and subscribed by then (default 30 s). */
  startTimeoutMs?: number;
  /** stop() waits this long for items already in the pipeline to be acked before disconnecting (default 2 s). */
  stopDrainMs?: number;
  /** Publish retained `lidar-pm/{clientId}/online` 'true' with a last will 'false' (default true). */
  presence?: boolean;
  logger?: MqttLogger;
}

/** Passed to mqtt.js's handleMessage callback so it skips the PUBACK (see the file comment). */
const DEFER = Object.freeze(new Error('PUBACK deferred until the pipeline acknowledges the item'));

const DEFAULTS = {
  sessionExpirySec: 7 * 24 * 3600,
  reconnectMinMs: 500,
  reconnectMaxMs: 30_000,
  maxInFlight: 16,
  keepaliveSec: 60,
  startTimeoutMs: 30_000,
  stopDrainMs: 2_000,
};

/** mqtt.js's internal send, used for the deferred PUBACK (it is how its own handlers send acks). */
interface PacketSender {
  _sendPacket(packet: { cmd: 'puback'; messageId: number; reasonCode: number }, cb?: (err?: Error) => void): void;
}

interface Parked {
  packet: IPublishPacket;
  done: (err?: Error) => void;
  generation: number;
  receivedMs: number;
}

interface Admitted {
  event: SourceEvent;
  generation: number;
  /** Packet id to PUBACK, undefined for QoS 0. */
  messageId: number | undefined;
}

type Counter =
  | 'received'
  | 'acked'
  | 'redelivered'
  | 'reconnects'
  | 'rejected'
  | 'stored'
  | 'quarantined'
  | 'stale_acks'
  | 'double_acks'
  | 'dropped_on_disconnect'
  | 'sink_errors'
  | 'errors'
  | 'max_in_flight_seen';

export class MqttSource implements Source {
  readonly name = 'mqtt';
  private readonly opts: Required<Omit<MqttSourceOptions, 'username' | 'password' | 'tls' | 'sharedGroup' | 'logger'>> &
    Pick<MqttSourceOptions, 'username' | 'password' | 'tls' | 'sharedGroup'>;
  private readonly log: MqttLogger;
  private readonly filters: string[];
  private client: MqttClient | null = null;
  private sink: SourceSink | null = null;
  /** Bumped at every connection close: acks for messages of an older generation are not sent. */
  private generation = 0;
  private inFlight = 0;
  private parked: Parked | null = null;
  private readonly sinkQueue: Admitted[] = [];
  private sinking = false;
  private subscribed = false;
  private stopping = false;
  private everConnected = false;
  private connectedSinceClose = false;
  private reconnectMs: number;
  private idleWaiters: Array<() => void> = [];
  private parkTimer: ReturnType<typeof setInterval> | null = null;
  private readonly counters: Record<Counter, number> = {
    received: 0,
    acked: 0,
    redelivered: 0,
    reconnects: 0,
    rejected: 0,
    stored: 0,
    quarantined: 0,
    stale_acks: 0,
    double_acks: 0,
    dropped_on_disconnect: 0,
    sink_errors: 0,
    errors: 0,
    max_in_flight_seen: 0,
  };

  constructor(options: MqttSourceOptions) {
    assertBrokerUrl(options.url);
    assertClientId(options.clientId);
    const stations = options.stations ?? '+';
    if (stations !== '+') {
      if (!Array.isArray(stations) || stations.length === 0) throw new LidarError('LIDAR_ERR_BAD_VALUE', "stations must be '+' or a non-empty list of station ids", { field: 'stations' });
      stations.forEach((s, i) => assertStationId(s, `stations[${i}]`));
    }
    const o = { ...DEFAULTS, ...stripUndefined(options) };
    checkInt(o.sessionExpirySec, 1, 0xffffffff, 'sessionExpirySec');
    checkInt(o.maxInFlight, 1, 65535, 'maxInFlight');
    checkInt(o.keepaliveSec, 1, 65535, 'keepaliveSec');
    checkInt(o.reconnectMinMs, 1, 3_600_000, 'reconnectMinMs');
    checkInt(o.reconnectMaxMs, o.reconnectMinMs, 3_600_000, 'reconnectMaxMs');
    checkInt(o.startTimeoutMs, 1, 3_600_000, 'startTimeoutMs');
    checkInt(o.stopDrainMs, 0, 3_600_000, 'stopDrainMs');
    this.opts = {
      url: o.url,
      clientId: o.clientId,
      stations,
      subscribeStatus: o.subscribeStatus ?? true,
      sessionExpirySec: o.sessionExpirySec,
      reconnectMinMs: o.reconnectMinMs,
      reconnectMaxMs: o.reconnectMaxMs,
      maxInFlight: o.maxInFlight,
      keepaliveSec: o.keepaliveSec,
      startTimeoutMs: o.startTimeoutMs,
      stopDrainMs: o.stopDrainMs,
      presence: o.presence ?? true,
      username: o.username,
      password: o.password,
      tls: o.tls,
      sharedGroup: o.sharedGroup,
    };
    this.log = options.logger ?? silentLogger;
    this.reconnectMs = this.opts.reconnectMinMs;
    const kinds: StationTopicKind[] = this.opts.subscribeStatus ? ['raw', 'status'] : ['raw'];
    const list = stations === '+' ? ['+'] : stations;
    this.filters = list.flatMap((st) => kinds.map((k) => subscriptionFilter(k, st, this.opts.sharedGroup)));
  }

  /** The subscription filters this source uses. */
  subscriptions(): string[] {
    return [...this.filters];
  }

  start(sink: SourceSink): Promise<void> {
    if (this.client) return Promise.reject(new LidarError('LIDAR_ERR_USAGE', 'MqttSource.start() called twice', { field: 'start' }));
    this.sink = sink;
    this.stopping = false;
    const presence = this.opts.presence ? presenceTopic(this.opts.clientId) : null;
    const clientOptions: IClientOptions = {
      ...authOptions(this.opts),
      protocolVersion: 5,
      clientId: this.opts.clientId,
      clean: false,
      keepalive: this.opts.keepaliveSec,
      reconnectPeriod: this.reconnectMs,
      connectTimeout: 10_000,
      resubscribe: false,
      manualConnect: true,
      properties: { sessionExpiryInterval: this.opts.sessionExpirySec, receiveMaximum: this.opts.maxInFlight },
    };
    if (presence) clientOptions.will = { topic: presence, payload: Buffer.from('false'), qos: 1, retain: true };
    const client = connect(this.opts.url, clientOptions);
    this.client = client;
    // The handler is in place before the CONNECT is even sent: redeliveries right after CONNACK are ours.
    client.handleMessage = (packet, done) => this.onPublish(packet, done);

    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let lastError: Error | null = null;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.client = null;
        client.end(true);
        reject(err);
      };
      const timer = setTimeout(
        () => fail(new LidarError('LIDAR_ERR_IO', `MQTT broker ${redactUrl(this.opts.url)}: not connected and subscribed within ${this.opts.startTimeoutMs} ms${lastError ? ` (${lastError.message})` : ''}`, { field: 'url' })),
        this.opts.startTimeoutMs,
      );

      client.prependListener('close', () => this.onClose());
      client.on('connect', (connack: IConnackPacket) => {
        this.connectedSinceClose = true;
        this.reconnectMs = this.opts.reconnectMinMs;
        client.options.reconnectPeriod = this.reconnectMs;
        if (this.everConnected) this.counters.reconnects++;
        this.everConnected = true;
        this.log.info('mqtt connected', { url: redactUrl(this.opts.url), clientId: this.opts.clientId, sessionPresent: connack.sessionPresent });
        this.subscribe(client).then(
          () => {
            if (presence) client.publish(presence, 'true', { qos: 1, retain: true }, (err) => err && this.log.warn('mqtt presence publish failed', { error: err.message }));
            if (!settled) {
              settled = true;
              clearTimeout(timer);
              resolve();
            }
          },
          (err: Error) => {
            this.counters.errors++;
            this.log.error('mqtt subscribe failed', { error: err.message });
            if (!settled) fail(new LidarError('LIDAR_ERR_IO', `MQTT broker ${redactUrl(this.opts.url)}: subscribe failed: ${err.message}`, { field: 'subscriptions' }));
            else client.stream?.destroy(); // after a reconnect: drop the connection, mqtt.js reconnects and we subscribe again
          },
        );
      });
      client.on('error', (err: Error & { code?: unknown }) => {
        lastError = err;
        this.counters.errors++;
        this.log.warn('mqtt client error', { error: err.message });
        // A CONNACK refusal (bad credentials, not authorized, ...) will not go away by retrying.
        if (!this.everConnected && typeof err.code === 'number') {
          fail(new LidarError('LIDAR_ERR_IO', `MQTT broker ${redactUrl(this.opts.url)} refused the connection: ${err.message} (reason ${err.code})`, { field: 'url' }));
        }
      });
      client.on('offline', () => this.log.warn('mqtt offline', { url: redactUrl(this.opts.url) }));
      client.connect();
    });
  }

  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.stopping = true;
    this.dropQueued();
    // Give items already in the pipeline a chance to be acked on this connection.
    if (this.inFlight > 0 && this.opts.stopDrainMs > 0) await this.waitIdle(this.opts.stopDrainMs);
    if (this.opts.presence && client.connected) {
      await withTimeout(client.publishAsync(presenceTopic(this.opts.clientId), 'false', { qos: 1, retain: true }), 2000).catch((err: Error) =>
        this.log.warn('mqtt presence publish failed', { error: err.message }),
      );
    }
    this.generation++; // acks from now on are for a closed connection
    this.releaseParked();
    this.client = null;
    this.subscribed = false;
    // DISCONNECT with reason 0: the broker keeps the session (and our unacked messages) and drops the will.
    await withTimeout(client.endAsync(), 5000).catch(() => client.end(true));
  }

  /**
   * Ends the connection like a crashed process: no DISCONNECT packet and no further acks (PUBACKs
   * already written are flushed first, then the TCP connection is closed). The broker keeps every
   * unacknowledged message for this session and publishes the presence will.
   */
  async abort(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.stopping = true;
    this.generation++;
    this.dropQueued();
    this.releaseParked();
    this.client = null;
    this.subscribed = false;
    client.options.reconnectPeriod = 0; // no reconnect after the close below
    const stream = client.stream as { end?: () => void; destroyed?: boolean } | undefined;
    if (client.connected && stream && typeof stream.end === 'function' && !stream.destroyed) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 5000);
        client.once('close', () => {
          clearTimeout(t);
          resolve();
        });
        stream.end!();
      });
    }
    await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
  }

  connected(): boolean {
    return this.client !== null && this.client.connected && this.subscribed;
  }

  stats(): Record<string, number> {
    return { ...this.counters, in_flight: this.inFlight, connected: this.connected() ? 1 : 0 };
  }

  // --- internals ---

  private async subscribe(client: MqttClient): Promise<void> {
    const map: Record<string, { qos: 1; rh: 1 }> = {};
    for (const f of this.filters) map[f] = { qos: 1, rh: 1 };
    const granted = await client.subscribeAsync(map);
    // mqtt.js rejects on a SUBACK failure code (>= 0x80); a granted QoS below 1 would break the ack contract.
    const downgraded = granted.filter((g) => g.qos !== 1);
    if (downgraded.length > 0) throw new Error(`broker granted ${downgraded.map((g) => `${g.topic} QoS ${g.qos}`).join(', ')} instead of QoS 1`);
    this.subscribed = true;
  }

  private onClose(): void {
    // Runs before mqtt.js schedules its reconnect, so the new period is used for the next attempt.
    this.generation++;
    this.subscribed = false;
    if (this.connectedSinceClose) this.reconnectMs = this.opts.reconnectMinMs;
    else this.reconnectMs = Math.min(this.reconnectMs * 2, this.opts.reconnectMaxMs);
    this.connectedSinceClose = false;
    if (this.client) this.client.options.reconnectPeriod = this.reconnectMs;
    this.releaseParked();
    this.dropQueued();
  }

  private onPublish(packet: IPublishPacket, done: (err?: Error) => void): void {
    const receivedMs = Date.now();
    this.counters.received++;
    if (packet.dup) this.counters.redelivered++;
    if (this.stopping) {
      done(DEFER); // not acked: stays with the broker for the next session
      return;
    }
    this.parked = { packet, done, generation: this.generation, receivedMs };
    this.tryAdmit();
  }

  /** Moves the parked message into the pipeline queue when a slot is free. */
  private tryAdmit(): void {
    const p = this.parked;
    if (!p || this.stopping) return;
    if (p.generation !== this.generation) {
      this.releaseParked();
      return;
    }
    if (this.inFlight >= this.opts.maxInFlight) {
      this.keepAliveWhileParked(); // done() held: mqtt.js stops reading
      return;
    }
    this.parked = null;
    this.stopParkedKeepalive();
    this.inFlight++;
    if (this.inFlight > this.counters.max_in_flight_seen) this.counters.max_in_flight_seen = this.inFlight;
    const messageId = p.packet.qos > 0 ? p.packet.messageId : undefined;
    this.sinkQueue.push({ event: this.toEvent(p.packet, p.receivedMs, p.generation, messageId), generation: p.generation, messageId });
    p.done(DEFER);
    void this.drainSink();
  }

  private toEvent(packet: IPublishPacket, receivedMs: number, generation: number, messageId: number | undefined): SourceEvent {
    const topic = packet.topic;
    const origin = `mqtt:${topic.length > 200 ? `${topic.slice(0, 200)}...` : topic}`;
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload, 'utf8') : packet.payload;
    const bytes = new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
    const parsed = parseTopic(topic);
    const reject = (error: LidarError, station: string | null): SourceEvent => ({ type: 'reject', reject: { station, origin, bytes, error, receivedMs } });
    if (!parsed.ok) return reject(parsed.error, parsed.station);
    const kind: ItemKind | null = parsed.kind === 'raw' ? 'licel' : parsed.kind === 'status' ? 'status' : null;
    if (kind === null) return reject(new LidarError('LIDAR_ERR_BAD_VALUE', `topic ${topic}: ${parsed.kind} messages are not ingested`, { field: 'topic' }), parsed.station);
    if (this.opts.stations !== '+' && !this.opts.stations.includes(parsed.station)) {
      return reject(new LidarError('LIDAR_ERR_NOT_FOUND', `topic ${topic}: station ${parsed.station} is not configured for this source`, { field: 'topic' }), parsed.station);
    }
    if (bytes.byteLength === 0) return reject(new LidarError('LIDAR_ERR_BAD_FRAME', `topic ${topic}: empty payload`, { field: 'payload' }), parsed.station);
    let acked = false;
    const item: InputItem = {
      kind,
      station: parsed.station,
      bytes,
      origin,
      receivedMs,
      redelivered: packet.dup === true,
      ack: (outcome: AckOutcome) => {
        if (acked) {
          this.counters.double_acks++;
          this.log.warn('mqtt item acked twice', { origin });
          return;
        }
        acked = true;
        this.finish(generation, messageId, outcome);
      },
    };
    const name = kind === 'licel' ? licelNameOf(bytes) : undefined;
    if (name !== undefined) item.name = name;
    return { type: 'item', item };
  }

  private async drainSink(): Promise<void> {
    if (this.sinking) return;
    this.sinking = true;
    try {
      for (let next = this.sinkQueue.shift(); next !== undefined; next = this.sinkQueue.shift()) {
        if (next.generation !== this.generation || this.stopping || !this.sink) {
          this.counters.dropped_on_disconnect++;
          this.release();
          continue;
        }
        try {
          await this.sink(next.event);
        } catch (err) {
          // The pipeline refused the event (shutting down?): no ack, the broker redelivers after a reconnect.
          this.counters.sink_errors++;
          this.log.error('mqtt sink failed', { error: (err as Error).message });
          this.release();
          continue;
        }
        if (next.event.type === 'reject') {
          // The contract has no ack for rejects: acknowledged once the pipeline has taken them.
          this.counters.rejected++;
          this.finish(next.generation, next.messageId, null);
        }
      }
    } finally {
      this.sinking = false;
    }
  }

  /** An item's ack (or a reject taken by the sink): PUBACK if still on the same connection, free the slot. */
  private finish(generation: number, messageId: number | undefined, outcome: AckOutcome | null): void {
    if (outcome === 'stored') this.counters.stored++;
    else if (outcome === 'quarantined') this.counters.quarantined++;
    const client = this.client;
    if (messageId !== undefined) {
      if (client && client.connected && generation === this.generation) {
        (client as unknown as PacketSender)._sendPacket({ cmd: 'puback', messageId, reasonCode: 0 }, (err) => {
          if (err) this.log.warn('mqtt PUBACK failed', { messageId, error: err.message });
        });
        this.counters.acked++;
      } else {
        // The connection it came on is gone: the broker redelivers it (DUP) on the new session connection.
        this.counters.stale_acks++;
      }
    }
    this.release();
  }

  private release(): void {
    this.inFlight--;
    if (this.inFlight === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
    this.tryAdmit();
  }

  /**
   * While a message is parked mqtt.js processes no incoming packet, PINGRESP included, so its
   * keepalive check would drop the connection after 1.5 x keepalive (measured: a reconnect loop with
   * redeliveries while the pipeline is stalled). Holding the reading is deliberate here, so we keep
   * the link alive ourselves: a PINGREQ every keepalive/2 (the broker sees traffic) and the client's
   * keepalive timer restarted (its PINGRESPs wait in the unread queue and are handled afterwards).
   */
  private keepAliveWhileParked(): void {
    if (this.parkTimer !== null) return;
    const client = this.client;
    if (!client) return;
    this.parkTimer = setInterval(() => {
      if (!this.parked || this.client !== client) return this.stopParkedKeepalive();
      if (!client.connected) return;
      client.sendPing();
      client.reschedulePing(true);
    }, Math.max(100, (this.opts.keepaliveSec * 1000) / 2));
    this.parkTimer.unref?.();
  }

  private stopParkedKeepalive(): void {
    if (this.parkTimer === null) return;
    clearInterval(this.parkTimer);
    this.parkTimer = null;
  }

  private releaseParked(): void {
    const p = this.parked;
    this.stopParkedKeepalive();
    if (!p) return;
    this.parked = null;
    this.counters.dropped_on_disconnect++;
    p.done(DEFER); // its connection is gone (or we are stopping): the broker keeps it
  }

  /** Events admitted but not yet handed to the sink are dropped (the broker still holds them). */
  private dropQueued(): void {
    const n = this.sinkQueue.length;
    if (n === 0) return;
    this.sinkQueue.length = 0;
    for (let i = 0; i < n; i++) {
      this.counters.dropped_on_disconnect++;
      this.release();
    }
  }

  private waitIdle(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.idleWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

/** Line 1 of a Licel file is its file name; used as the item name when it is a plain file name. */
export function licelNameOf(bytes: Uint8Array): string | undefined {
  const n = Math.min(bytes.length, 128);
  let end = 0;
  while (end < n && bytes[end] !== 0x0d && bytes[end] !== 0x0a) end++;
  if (end === n) return undefined;
  const line = Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('latin1').trim();
  return /^[A-Za-z0-9._-]{1,64}$/.test(line) ? line : undefined;
}

function checkInt(v: number, min: number, max: number, field: string): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new LidarError('LIDAR_ERR_BAD_VALUE', `${field} = ${v} is not an integer in [${min}, ${max}]`, { field });
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e as Error);
      },
    );
  });
}
