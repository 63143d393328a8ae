/**
 * What every ingest source (MQTT, serial, folder) hands to the pipeline. A source turns transport
 * traffic into `SourceEvent`s and awaits the sink for each one: the sink resolves when the pipeline
 * has room for the event (bounded queue: backpressure), not when it has been processed. Each item
 * carries an `ack` the pipeline calls exactly once, after the item's result is durable (stored or
 * quarantined): the MQTT source sends its PUBACK then (so a crash before it makes the broker
 * redeliver), the folder source moves the file to done/ or quarantine/ then.
 */
import type { LidarError } from '../processing/errors.js';

/** Payload kinds; the numbers are the serial frame types (ARCHITECTURE.md "Transports"). */
export const ITEM_KIND = { licel: 1, status: 2 } as const;
export type ItemKind = keyof typeof ITEM_KIND;

export type AckOutcome = 'stored' | 'quarantined';

export interface InputItem {
  kind: ItemKind;
  /** Station id from the transport (MQTT topic) or the source's configuration; null when unknown. */
  station: string | null;
  /** The Licel file bytes, or the UTF-8 JSON of a status message. */
  bytes: Uint8Array;
  /** Where it came from, for logs and quarantine: "mqtt:lidar/sofia/raw", "serial:/dev/ttyUSB0#seq=12", "folder:/data/in/x". */
  origin: string;
  /** A file name for the item when the transport has one (folder) or can derive one (e.g. from the Licel header). */
  name?: string;
  /** Arrival time at this process (ms UTC). */
  receivedMs: number;
  /** Delivered before and not acknowledged (MQTT DUP / redelivery), when the transport says so. */
  redelivered?: boolean;
  /** Called once the result is durable. May be async; errors from it are logged, not thrown. */
  ack(outcome: AckOutcome): void | Promise<void>;
}

/** Input a source could not even frame (bad CRC, bad length): goes to quarantine with its reason. */
export interface RejectedInput {
  station: string | null;
  origin: string;
  /** The offending bytes (may be empty when nothing could be kept). */
  bytes: Uint8Array;
  error: LidarError;
  receivedMs: number;
}

export type SourceEvent = { type: 'item'; item: InputItem } | { type: 'reject'; reject: RejectedInput };

/** The pipeline's entry: resolves when the event is accepted (queued). */
export type SourceSink = (event: SourceEvent) => Promise<void>;

export interface Source {
  /** "mqtt", "serial:/dev/ttyUSB0", "folder:/data/in" */
  readonly name: string;
  /** Connects / opens / starts watching; resolves once running (reconnects are the source's own job). */
  start(sink: SourceSink): Promise<void>;
  /** Stops taking new input; resolves when closed. Unacknowledged MQTT messages stay with the broker. */
  stop(): Promise<void>;
  /** Whether the transport is connected / open / watching right now (for /readyz). */
  connected(): boolean;
  /** Counters for health: received, rejected, crc_errors, bad_length, seq_gaps, reconnects, ... */
  stats(): Record<string, number>;
}
