/**
 * The sending side of the serial transport: what a station (or `lidar-pm replay DIR --to serial:...`)
 * writes. `openSerialWriter` frames payloads (frame.ts) with its own wrapping u32 seq counter and SLIP
 * encodes them (slip.ts: END before and after each frame); every send resolves once the bytes were
 * written and drained (tcdrain), so sends are naturally paced by the line. `openRawSerialWriter`
 * writes bytes as given (capture playback, fault injection).
 */
import type { SerialPort } from 'serialport';
import { LidarError } from '../../processing/errors.js';
import type { ItemKind } from '../source.js';
import { encodeFrame } from './frame.js';
import { closeSerialPort, openSerialPort, writeAndDrain, type SerialPortSettings } from './port.js';
import { slipEncode } from './slip.js';

/** Anything bytes can be written to, in order (a raw writer, a test double). */
export interface ByteSink {
  write(bytes: Uint8Array): Promise<void>;
}

export interface RawSerialWriter extends ByteSink {
  readonly path: string;
  /**
   * Waits for pending writes (at most `timeoutMs`, default 10 s: a peer that stopped reading must not
   * hang the caller), then closes the port; pending writes then fail.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

export interface SerialWriter {
  readonly path: string;
  /** The seq the next frame gets. */
  readonly nextSeq: number;
  /** Frames and sends one payload (a Licel file, or the UTF-8 JSON of a status message). */
  send(kind: ItemKind, payload: Uint8Array): Promise<void>;
  /** As `RawSerialWriter.close`. */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

export interface SerialWriterOptions extends SerialPortSettings {
  /** First seq (default 0); wraps at 2^32. */
  startSeq?: number;
}

function wrapPort(port: SerialPort): RawSerialWriter {
  let chain: Promise<void> = Promise.resolve();
  let closed = false;
  return {
    path: port.path,
    write(bytes: Uint8Array): Promise<void> {
      if (closed) return Promise.reject(new LidarError('LIDAR_ERR_IO', 'serial writer is closed', { file: port.path }));
      // One write+drain at a time, in call order.
      const p = chain.then(() => writeAndDrain(port, bytes));
      chain = p.catch(() => {});
      return p;
    },
    async close(options: { timeoutMs?: number } = {}): Promise<void> {
      closed = true;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((r) => (timer = setTimeout(r, options.timeoutMs ?? 10_000)));
      await Promise.race([chain, timeout]);
      clearTimeout(timer);
      await closeSerialPort(port);
    },
  };
}

export async function openRawSerialWriter(settings: SerialPortSettings): Promise<RawSerialWriter> {
  const port = await openSerialPort(settings);
  // A write error also arrives as an 'error' event; the write promise carries it, so do not crash.
  port.on('error', () => {});
  return wrapPort(port);
}

export async function openSerialWriter(options: SerialWriterOptions): Promise<SerialWriter> {
  const startSeq = options.startSeq ?? 0;
  if (!Number.isSafeInteger(startSeq) || startSeq < 0) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `startSeq must be a non-negative integer, got ${startSeq}`, { field: 'startSeq' });
  }
  const raw = await openRawSerialWriter(options);
  let seq = startSeq >>> 0;
  return {
    path: raw.path,
    get nextSeq() {
      return seq;
    },
    send(kind: ItemKind, payload: Uint8Array): Promise<void> {
      const frame = encodeFrame(kind, seq, payload);
      seq = (seq + 1) >>> 0;
      return raw.write(slipEncode(frame));
    },
    close: (o) => raw.close(o),
  };
}
