/**
 * `SerialSource`: SLIP frames from a serial port (ARCHITECTURE.md "Transports") as ingest events
 * (ingest/source.ts). Framing, classification, sequence rules and counters live in stream.ts; this
 * file is the port plumbing:
 *
 * - Backpressure: every chunk read pauses the port; it resumes once the sink has accepted every event
 *   the queued chunks produced. While paused, serialport stops reading, the kernel buffer fills and the
 *   sender is flow-controlled (or, without flow control, the device's buffer overruns: the gaps show up
 *   in `seq_gaps`).
 * - Device loss (USB unplug: the port closes with an error): `connected()` turns false, the partial
 *   frame is dropped as garbage, and the source retries to open the same path every
 *   `reopenIntervalMs`, doubling after each failure up to `reopenMaxIntervalMs`. A successful reopen
 *   counts in `reopens`; the decoder waits for the next END (the first bytes may be mid-frame).
 * - `start()` resolves after the first open attempt, opened or not: a device that is not plugged in
 *   yet is retried like a lost one (logged once per outage).
 * - Serial has no redelivery, so `ack` is a no-op; `redelivered` is never set.
 */
import type { SerialPort } from 'serialport';
import type { InputItem, Source, SourceEvent, SourceSink } from '../source.js';
import { closeSerialPort, openSerialPort, validateSerialSettings, type SerialParity } from './port.js';
import { SerialStreamDecoder, type SerialStreamEvent } from './stream.js';

export interface SerialLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface SerialSourceOptions {
  path: string;
  baudRate?: number;
  dataBits?: 5 | 6 | 7 | 8;
  parity?: SerialParity;
  stopBits?: 1 | 1.5 | 2;
  /** Station id given to every item (a serial line carries one station). */
  station: string | null;
  /** Largest frame accepted, decoded bytes (default 4 MiB). */
  maxFrameBytes?: number;
  /** First retry delay after the device is lost (default 1000 ms); doubles per failed attempt. */
  reopenIntervalMs?: number;
  /** Cap of the retry delay (default 30 000 ms). */
  reopenMaxIntervalMs?: number;
  /** Forward seq jumps above this are a counter restart, not a gap (default 2^20; see stream.ts). */
  maxSeqJump?: number;
  logger?: SerialLogger;
}

/** The Licel file name on the first header line, when it looks like one. */
export function licelNameFromHeader(bytes: Uint8Array): string | undefined {
  const limit = Math.min(bytes.length, 256);
  let end = 0;
  while (end < limit && bytes[end] !== 0x0d && bytes[end] !== 0x0a) end++;
  if (end === limit) return undefined;
  let text = '';
  for (let i = 0; i < end; i++) {
    const b = bytes[i];
    if (b < 0x20 || b > 0x7e) return undefined;
    text += String.fromCharCode(b);
  }
  const name = text.trim();
  return name.length > 0 && !/[\s/\\]/.test(name) && name !== '.' && name !== '..' ? name : undefined;
}

type Queued = { chunk: Uint8Array } | { resync: true };

export class SerialSource implements Source {
  readonly name: string;
  private readonly opts: SerialSourceOptions;
  private readonly decoder: SerialStreamDecoder;
  private readonly reopenIntervalMs: number;
  private readonly reopenMaxIntervalMs: number;
  private sink: SourceSink | null = null;
  private port: SerialPort | null = null;
  private stopped = false;
  private started = false;
  private reopenTimer: NodeJS.Timeout | null = null;
  private reopenDelayMs: number;
  private outageLogged = false;
  private queue: Queued[] = [];
  /** Set while drain() runs (synchronously cleared when its queue is empty). */
  private draining = false;
  private drained: Promise<void> = Promise.resolve();
  private readonly counts = { received: 0, rejected: 0, reopens: 0, open_failures: 0, sink_errors: 0, decoder_errors: 0 };

  constructor(options: SerialSourceOptions) {
    validateSerialSettings(options);
    this.opts = options;
    this.name = `serial:${options.path}`;
    this.decoder = new SerialStreamDecoder({ maxFrameBytes: options.maxFrameBytes, maxSeqJump: options.maxSeqJump });
    this.reopenIntervalMs = options.reopenIntervalMs ?? 1000;
    this.reopenMaxIntervalMs = Math.max(options.reopenMaxIntervalMs ?? 30_000, this.reopenIntervalMs);
    this.reopenDelayMs = this.reopenIntervalMs;
  }

  async start(sink: SourceSink): Promise<void> {
    if (this.started) throw new Error(`${this.name} already started`);
    this.started = true;
    this.sink = sink;
    const opened = await this.tryOpen(false);
    if (!opened) this.scheduleReopen();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    this.reopenTimer = null;
    const port = this.port;
    this.port = null;
    if (port) await closeSerialPort(port);
    // Events already read are handed to the sink (the pipeline stops its sources before its queue).
    await this.drained;
  }

  connected(): boolean {
    return this.port !== null && this.port.isOpen;
  }

  stats(): Record<string, number> {
    return { ...this.decoder.counters, ...this.counts, connected: this.connected() ? 1 : 0 };
  }

  private log(level: 'info' | 'warn', message: string, fields: Record<string, unknown> = {}): void {
    this.opts.logger?.[level](message, { source: this.name, ...fields });
  }

  /** One open attempt; wires the port up on success. */
  private async tryOpen(isReopen: boolean): Promise<boolean> {
    let port: SerialPort;
    try {
      port = await openSerialPort(this.opts);
    } catch (e) {
      this.counts.open_failures++;
      if (!this.outageLogged) {
        this.outageLogged = true;
        this.log('warn', 'serial port not available; retrying', { error: (e as Error).message });
      }
      return false;
    }
    if (this.stopped) {
      await closeSerialPort(port);
      return false;
    }
    this.port = port;
    this.outageLogged = false;
    this.reopenDelayMs = this.reopenIntervalMs;
    if (isReopen) this.counts.reopens++;
    port.on('data', (chunk: Buffer) => this.onData(port, chunk));
    port.on('error', (err: Error) => this.onLost(port, err));
    port.on('close', (err?: Error | null) => this.onLost(port, err ?? null));
    this.log('info', isReopen ? 'serial port reopened' : 'serial port opened', { baudRate: port.baudRate });
    return true;
  }

  private onData(port: SerialPort, chunk: Buffer): void {
    if (this.stopped || port !== this.port) return;
    port.pause();
    this.enqueue({ chunk: new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength) });
  }

  private onLost(port: SerialPort, err: Error | null): void {
    if (this.stopped || port !== this.port) return;
    this.port = null;
    port.removeAllListeners('data');
    // Bytes the port read before it went away (held while paused) are still data: keep them.
    try {
      for (let c = port.read() as Buffer | null; c !== null; c = port.read() as Buffer | null) {
        this.queue.push({ chunk: new Uint8Array(c.buffer, c.byteOffset, c.byteLength) });
      }
    } catch {
      /* nothing left to read */
    }
    void closeSerialPort(port);
    this.log('warn', 'serial port lost', { error: err?.message ?? 'closed' });
    this.enqueue({ resync: true });
    this.scheduleReopen();
  }

  private scheduleReopen(): void {
    if (this.stopped || this.reopenTimer) return;
    const delay = this.reopenDelayMs;
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = null;
      void this.tryOpen(true).then((ok) => {
        if (ok || this.stopped) return;
        this.reopenDelayMs = Math.min(this.reopenDelayMs * 2, this.reopenMaxIntervalMs);
        this.scheduleReopen();
      });
    }, delay);
  }

  private enqueue(q: Queued): void {
    this.queue.push(q);
    if (!this.draining) {
      this.draining = true;
      this.drained = this.drain();
    }
  }

  /** Hands the queued chunks' events to the sink one at a time, then resumes reading. */
  private async drain(): Promise<void> {
    for (;;) {
      const next = this.queue.shift();
      if (next === undefined) {
        // Cleared here, not in a promise callback: a chunk arriving right after must start a new drain.
        this.draining = false;
        break;
      }
      if ('resync' in next) {
        this.decoder.resync();
        continue;
      }
      let events: SerialStreamEvent[];
      try {
        events = this.decoder.push(next.chunk);
      } catch (e) {
        // A decoder bug must not stop the source: drop the chunk, say so.
        this.counts.decoder_errors++;
        this.log('warn', 'serial decoder failed on a chunk; chunk dropped', { bytes: next.chunk.length, error: (e as Error).message });
        continue;
      }
      for (const ev of events) {
        const event = this.toSourceEvent(ev);
        if (event.type === 'item') this.counts.received++;
        else this.counts.rejected++;
        try {
          await (this.sink as SourceSink)(event);
        } catch (e) {
          this.counts.sink_errors++;
          this.log('warn', 'sink failed for a serial event', { origin: event.type === 'item' ? event.item.origin : event.reject.origin, error: (e as Error).message });
        }
      }
    }
    if (!this.stopped && this.port !== null && this.port.isOpen) this.port.resume();
  }

  private toSourceEvent(ev: SerialStreamEvent): SourceEvent {
    const receivedMs = Date.now();
    const station = this.opts.station;
    if (ev.type === 'frame') {
      // The payload is a view on the decoder's frame copy: a fresh buffer per frame, safe to keep.
      const item: InputItem = {
        kind: ev.kind,
        station,
        bytes: ev.payload,
        origin: `${this.name}#seq=${ev.seq}`,
        receivedMs,
        ack: () => {},
      };
      if (ev.kind === 'licel') {
        const name = licelNameFromHeader(ev.payload);
        if (name !== undefined) item.name = name;
      }
      return { type: 'item', item };
    }
    const origin = ev.seq === null ? this.name : `${this.name}#seq=${ev.seq}`;
    return { type: 'reject', reject: { station, origin, bytes: ev.bytes, error: ev.error, receivedMs } };
  }
}
