/**
 * Recording what arrives at a serial port into a capture file (capture.ts), and playing a capture
 * back into a port with its pacing.
 *
 * `recordSerial` opens the port, writes the header, then one record per chunk read (offset measured
 * with the monotonic clock since the port opened), appended synchronously so the file on disk always
 * ends at a record boundary. It ends after `durationMs`, on `stop()`, or when the device goes away.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { LidarError } from '../../processing/errors.js';
import { encodeCaptureHeader, encodeCaptureRecord, type SerialCapture } from './capture.js';
import { closeSerialPort, openSerialPort, type SerialPortSettings } from './port.js';
import type { ByteSink } from './writer.js';

export interface RecordSerialOptions extends SerialPortSettings {
  /** Capture file to create (overwritten). */
  out: string;
  /** Stop by itself after this many ms (default: only on `stop()` or device loss). */
  durationMs?: number;
}

export interface RecordingSummary {
  out: string;
  chunks: number;
  bytes: number;
  durationMs: number;
  /** Why the recording ended. */
  endedBy: 'stop' | 'duration' | 'device-lost';
}

export interface SerialRecording {
  /** Resolves when the recording has ended and the file is closed. */
  readonly done: Promise<RecordingSummary>;
  /** Ends the recording (idempotent). */
  stop(): Promise<RecordingSummary>;
  /** Chunks and bytes recorded so far. */
  progress(): { chunks: number; bytes: number };
}

export async function recordSerial(options: RecordSerialOptions): Promise<SerialRecording> {
  if (options.durationMs !== undefined && !(Number.isFinite(options.durationMs) && options.durationMs > 0)) {
    throw new LidarError('LIDAR_ERR_BAD_VALUE', `durationMs must be a positive number, got ${options.durationMs}`, { field: 'durationMs' });
  }
  const port = await openSerialPort(options);
  let fd: number;
  try {
    fd = openSync(options.out, 'w');
  } catch (e) {
    await closeSerialPort(port);
    throw new LidarError('LIDAR_ERR_IO', `cannot create capture file: ${(e as Error).message}`, { file: options.out });
  }
  const startMs = Date.now();
  const t0 = performance.now();
  writeSync(fd, encodeCaptureHeader({ baudRate: port.baudRate, startMs }));
  let chunks = 0;
  let bytes = 0;
  let ended: RecordingSummary | null = null;
  let resolveDone!: (s: RecordingSummary) => void;
  let rejectDone!: (e: unknown) => void;
  const done = new Promise<RecordingSummary>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  let timer: NodeJS.Timeout | null = null;

  const end = async (endedBy: RecordingSummary['endedBy']): Promise<RecordingSummary> => {
    if (ended) return done;
    ended = { out: options.out, chunks, bytes, durationMs: Math.round(performance.now() - t0), endedBy };
    if (timer) clearTimeout(timer);
    port.removeAllListeners('data');
    await closeSerialPort(port);
    try {
      closeSync(fd);
    } catch (e) {
      rejectDone(new LidarError('LIDAR_ERR_IO', `cannot close capture file: ${(e as Error).message}`, { file: options.out }));
      return done;
    }
    resolveDone(ended);
    return done;
  };

  port.on('data', (chunk: Buffer) => {
    if (ended) return;
    const offsetMs = Math.max(0, Math.floor(performance.now() - t0));
    try {
      writeSync(fd, encodeCaptureRecord(offsetMs, chunk));
    } catch (e) {
      rejectDone(new LidarError('LIDAR_ERR_IO', `cannot write capture file: ${(e as Error).message}`, { file: options.out }));
      void end('stop');
      return;
    }
    chunks++;
    bytes += chunk.length;
  });
  port.on('error', () => void end('device-lost'));
  port.on('close', () => void end('device-lost'));
  if (options.durationMs !== undefined) timer = setTimeout(() => void end('duration'), options.durationMs);
  return { done, stop: () => end('stop'), progress: () => ({ chunks, bytes }) };
}

export interface PlayOptions {
  /** Time scale: 2 plays twice as fast as recorded; Infinity writes back to back (default 1). */
  speed?: number;
  /** Aborts between chunks. */
  signal?: AbortSignal;
}

/**
 * Writes a capture's chunks to `sink` in order, each no earlier than its offset divided by `speed`
 * after the start (a slow sink delays the rest; lost time is not made up by skipping). Resolves with
 * the number of chunks and bytes written.
 */
export async function playSerialCapture(
  capture: Pick<SerialCapture, 'chunks'>,
  sink: ByteSink,
  options: PlayOptions = {},
): Promise<{ chunks: number; bytes: number }> {
  const speed = options.speed ?? 1;
  if (!(speed > 0)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `playback speed must be > 0, got ${speed}`, { field: 'speed' });
  const t0 = performance.now();
  let chunks = 0;
  let bytes = 0;
  for (const c of capture.chunks) {
    if (options.signal?.aborted) break;
    const due = t0 + c.offsetMs / speed;
    // setTimeout may fire up to a millisecond early against performance.now(): wait until due.
    for (let wait = due - performance.now(); wait > 0; wait = due - performance.now()) {
      await new Promise((r) => setTimeout(r, Math.ceil(wait)));
    }
    await sink.write(c.bytes);
    chunks++;
    bytes += c.bytes.length;
  }
  return { chunks, bytes };
}
