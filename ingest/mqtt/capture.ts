/**
 * The MQTT capture file format (`.mqtt`) and its playback.
 *
 * Layout (all integers unsigned 32-bit little-endian):
 *
 *   magic   7 bytes  "LPMQCAP"
 *   version 1 byte   1
 *   u32 metaLength, meta JSON (UTF-8): { format, version, recordedAt?, topics?, note?, ... }
 *   records until the end of the file, each:
 *     u32 headerLength, header JSON (UTF-8): { t, topic, qos, retain, props? }
 *     u32 payloadLength, payload bytes (verbatim, no encoding)
 *
 * `t` is the arrival time in milliseconds since the capture started (may be fractional). `props` are
 * the message's MQTT 5 properties (payloadFormatIndicator, messageExpiryInterval, contentType,
 * responseTopic, correlationData as base64, userProperties). The reader checks every length against
 * the file and every header field; anything wrong is a LIDAR_ERR_BAD_FRAME naming the byte offset.
 */
import { LidarError } from '../../processing/errors.js';
import type { PublishOptions, PublishProperties } from './publisher.js';

export const CAPTURE_MAGIC = 'LPMQCAP';
export const CAPTURE_VERSION = 1;
/** Header JSON blocks longer than this are refused (a sane header is < 1 KiB). */
export const MAX_CAPTURE_HEADER_BYTES = 1 << 20;
/** Payloads longer than this are refused (MQTT's own maximum is 256 MiB). */
export const MAX_CAPTURE_PAYLOAD_BYTES = 256 * 1024 * 1024;

export interface CapturedProperties {
  payloadFormatIndicator?: boolean;
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  /** base64 */
  correlationData?: string;
  userProperties?: Record<string, string | string[]>;
}

export interface CapturedMessage {
  /** Arrival time, ms since the capture started. */
  tMs: number;
  topic: string;
  qos: 0 | 1 | 2;
  retain: boolean;
  properties?: CapturedProperties;
  payload: Uint8Array;
}

export interface CaptureMeta {
  format: 'lidar-pm mqtt capture';
  version: number;
  recordedAt?: string;
  topics?: string[];
  [key: string]: unknown;
}

export interface MqttCapture {
  meta: CaptureMeta;
  messages: CapturedMessage[];
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

/** The 8-byte preamble plus the meta block. */
export function encodeCaptureStart(meta: Omit<CaptureMeta, 'format' | 'version'> & Partial<CaptureMeta>): Uint8Array {
  const head = enc.encode(CAPTURE_MAGIC);
  const m = enc.encode(JSON.stringify({ ...meta, format: 'lidar-pm mqtt capture', version: CAPTURE_VERSION }));
  return concat([head, Uint8Array.of(CAPTURE_VERSION), u32(m.length), m]);
}

/** One record (header + payload), for appending to a capture file as messages arrive. */
export function encodeCaptureRecord(msg: CapturedMessage): Uint8Array {
  const header: Record<string, unknown> = { t: round3(msg.tMs), topic: msg.topic, qos: msg.qos, retain: msg.retain };
  if (msg.properties && Object.keys(msg.properties).length > 0) header.props = msg.properties;
  const h = enc.encode(JSON.stringify(header));
  return concat([u32(h.length), h, u32(msg.payload.length), msg.payload]);
}

export function encodeMqttCapture(capture: MqttCapture): Uint8Array {
  return concat([encodeCaptureStart(capture.meta), ...capture.messages.map(encodeCaptureRecord)]);
}

export function readMqttCapture(bytes: Uint8Array, file = 'capture'): MqttCapture {
  const bad = (offset: number, detail: string, field?: string): LidarError =>
    new LidarError('LIDAR_ERR_BAD_FRAME', detail, field === undefined ? { file, offset } : { file, offset, field });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8 || String.fromCharCode(...bytes.subarray(0, 7)) !== CAPTURE_MAGIC) throw bad(0, `not an MQTT capture (magic ${CAPTURE_MAGIC} missing)`, 'magic');
  if (bytes[7] !== CAPTURE_VERSION) throw bad(7, `capture version ${bytes[7]} is not supported (expected ${CAPTURE_VERSION})`, 'version');
  let off = 8;
  const block = (what: string, max: number): Uint8Array => {
    if (off + 4 > bytes.length) throw bad(off, `truncated: ${what} length missing`, what);
    const n = view.getUint32(off, true);
    if (n > max) throw bad(off, `${what} length ${n} exceeds ${max}`, what);
    if (off + 4 + n > bytes.length) throw bad(off, `truncated: ${what} of ${n} bytes runs past the end (${bytes.length - off - 4} left)`, what);
    const out = bytes.subarray(off + 4, off + 4 + n);
    off += 4 + n;
    return out;
  };
  const json = (b: Uint8Array, at: number, what: string): Record<string, unknown> => {
    let v: unknown;
    try {
      v = JSON.parse(dec.decode(b));
    } catch (e) {
      throw bad(at, `${what} is not UTF-8 JSON: ${(e as Error).message}`, what);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(at, `${what} is not a JSON object`, what);
    return v as Record<string, unknown>;
  };
  const metaAt = off;
  const meta = json(block('meta', MAX_CAPTURE_HEADER_BYTES), metaAt, 'meta');
  if (meta.format !== 'lidar-pm mqtt capture') throw bad(metaAt, `meta.format ${JSON.stringify(meta.format)} is not "lidar-pm mqtt capture"`, 'meta.format');
  const messages: CapturedMessage[] = [];
  let lastT = -Infinity;
  while (off < bytes.length) {
    const at = off;
    const h = json(block('header', MAX_CAPTURE_HEADER_BYTES), at, 'header');
    const payload = block('payload', MAX_CAPTURE_PAYLOAD_BYTES);
    const { t, topic, qos, retain, props } = h;
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) throw bad(at, `record ${messages.length}: t ${JSON.stringify(t)} is not a non-negative number`, 't');
    if (t < lastT) throw bad(at, `record ${messages.length}: t ${t} goes back in time (previous ${lastT})`, 't');
    lastT = t;
    if (typeof topic !== 'string' || topic.length === 0 || topic.length > 65535) throw bad(at, `record ${messages.length}: topic is not a non-empty string`, 'topic');
    if (qos !== 0 && qos !== 1 && qos !== 2) throw bad(at, `record ${messages.length}: qos ${JSON.stringify(qos)} is not 0, 1 or 2`, 'qos');
    if (typeof retain !== 'boolean') throw bad(at, `record ${messages.length}: retain is not a boolean`, 'retain');
    const msg: CapturedMessage = { tMs: t, topic, qos, retain, payload };
    if (props !== undefined) msg.properties = checkProps(props, () => bad(at, `record ${messages.length}: props is malformed`, 'props'));
    messages.push(msg);
  }
  return { meta: meta as CaptureMeta, messages };
}

function checkProps(p: unknown, fail: () => LidarError): CapturedProperties {
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw fail();
  const o = p as Record<string, unknown>;
  const out: CapturedProperties = {};
  if (o.payloadFormatIndicator !== undefined) {
    if (typeof o.payloadFormatIndicator !== 'boolean') throw fail();
    out.payloadFormatIndicator = o.payloadFormatIndicator;
  }
  if (o.messageExpiryInterval !== undefined) {
    if (!Number.isInteger(o.messageExpiryInterval) || (o.messageExpiryInterval as number) < 0) throw fail();
    out.messageExpiryInterval = o.messageExpiryInterval as number;
  }
  for (const k of ['contentType', 'responseTopic', 'correlationData'] as const) {
    if (o[k] !== undefined) {
      if (typeof o[k] !== 'string') throw fail();
      out[k] = o[k] as string;
    }
  }
  if (o.userProperties !== undefined) {
    const u = o.userProperties;
    if (typeof u !== 'object' || u === null || Array.isArray(u)) throw fail();
    for (const v of Object.values(u)) if (typeof v !== 'string' && !(Array.isArray(v) && v.every((x) => typeof x === 'string'))) throw fail();
    out.userProperties = u as Record<string, string | string[]>;
  }
  return out;
}

/** MQTT 5 properties of a received packet, as stored in a capture (transport-only ones dropped). */
export function captureProperties(p: Record<string, unknown> | undefined): CapturedProperties | undefined {
  if (!p) return undefined;
  const out: CapturedProperties = {};
  if (typeof p.payloadFormatIndicator === 'boolean') out.payloadFormatIndicator = p.payloadFormatIndicator;
  if (typeof p.messageExpiryInterval === 'number') out.messageExpiryInterval = p.messageExpiryInterval;
  if (typeof p.contentType === 'string') out.contentType = p.contentType;
  if (typeof p.responseTopic === 'string') out.responseTopic = p.responseTopic;
  if (Buffer.isBuffer(p.correlationData)) out.correlationData = p.correlationData.toString('base64');
  if (typeof p.userProperties === 'object' && p.userProperties !== null) out.userProperties = p.userProperties as Record<string, string | string[]>;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Publish options that reproduce a captured message. */
export function publishOptionsOf(msg: CapturedMessage): PublishOptions {
  const o: PublishOptions = { qos: msg.qos === 0 ? 0 : 1, retain: msg.retain };
  if (msg.properties) {
    const { correlationData, ...rest } = msg.properties;
    const props: PublishProperties = { ...rest };
    if (correlationData !== undefined) props.correlationData = Buffer.from(correlationData, 'base64');
    o.properties = props;
  }
  return o;
}

export interface PlaybackClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface PlayOptions {
  /** Pacing factor: 2 plays twice as fast as recorded; Infinity as fast as possible (default 1). */
  speed?: number;
  /** Publishes awaiting their PUBACK at most (default 32); order is kept by the MQTT connection. */
  window?: number;
  signal?: AbortSignal;
  /** Injected for tests; default real time. */
  clock?: PlaybackClock;
  onMessage?(msg: CapturedMessage, index: number): void;
}

export interface Publishes {
  publish(topic: string, payload: Uint8Array | string, opts?: PublishOptions): Promise<void>;
}

const realClock: PlaybackClock = { now: () => performance.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };

/**
 * Publish a capture's messages in order, message i at (t_i - t_0) / speed after the start.
 * Resolves when every publish is acknowledged.
 */
export async function playMqttCapture(capture: MqttCapture, publisher: Publishes, opts: PlayOptions = {}): Promise<{ published: number; durationMs: number }> {
  const speed = opts.speed ?? 1;
  if (!(speed > 0)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `speed ${speed} must be > 0 (Infinity: no pacing)`, { field: 'speed' });
  const window = opts.window ?? 32;
  if (!Number.isInteger(window) || window < 1) throw new LidarError('LIDAR_ERR_BAD_VALUE', `window ${window} must be a positive integer`, { field: 'window' });
  const clock = opts.clock ?? realClock;
  const start = clock.now();
  const t0 = capture.messages[0]?.tMs ?? 0;
  const pending = new Set<Promise<void>>();
  let failure: unknown = null;
  let published = 0;
  for (let i = 0; i < capture.messages.length; i++) {
    if (opts.signal?.aborted) throw new LidarError('LIDAR_ERR_IO', `playback aborted after ${published} messages`, { field: 'signal' });
    if (failure !== null) break;
    const msg = capture.messages[i]!;
    if (Number.isFinite(speed)) {
      const due = (msg.tMs - t0) / speed;
      // A timer may fire a little early: sleep until due.
      for (let wait = due - (clock.now() - start); wait > 0; wait = due - (clock.now() - start)) await clock.sleep(Math.ceil(wait));
    }
    while (pending.size >= window) await Promise.race(pending);
    const p: Promise<void> = publisher.publish(msg.topic, msg.payload, publishOptionsOf(msg)).then(
      () => void pending.delete(p),
      (err: unknown) => {
        pending.delete(p);
        failure ??= err;
      },
    );
    pending.add(p);
    published++;
    opts.onMessage?.(msg, i);
  }
  await Promise.all(pending);
  if (failure !== null) throw failure;
  return { published, durationMs: clock.now() - start };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
