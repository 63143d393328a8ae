/**
 * Batching, retries and spooling for the InfluxDB adapter.
 *
 * - `submit()` queues the lines of one write() call (an "item") and resolves once they are durable:
 *   accepted by InfluxDB (and the roll-ups of their hours recomputed), or fsynced in the disk spool.
 * - Flushes run one at a time, in order. A flush takes everything queued (adaptive batching: while
 *   one flush is on the wire the next batch fills up; `flushIntervalMs` > 0 adds a linger) and cuts
 *   it into HTTP batches of at most `batchPoints` points and `batchBytes` bytes per retention policy.
 * - A batch failing with a network error, 5xx or 429 is retried `retry.attempts` times with
 *   exponential backoff (and jitter); then it and everything after it goes to the spool, in order,
 *   until the spool has drained. While the spool holds anything, new batches are appended behind it,
 *   so a later rewrite of a key never lands before an earlier one.
 * - The drain loop sends spooled records in order, retrying forever with backoff capped at
 *   `retry.maxDelayMs`, acks each once accepted, and logs when spooling starts and when it drained.
 * - A data error (HTTP 400/413/422: unparsable line, field type conflict, point outside the
 *   retention policy) is never retried: InfluxDB 1.x has already stored the other points of the batch;
 *   when a batch holds several write() calls, each call's lines are resent alone so the error lands on
 *   the call that caused it (LIDAR_ERR_BAD_VALUE), and the others resolve. From the spool, such a
 *   record is logged and dropped (counted in writeErrors).
 */
import { LidarError } from '../../processing/errors.js';
import type { DiskSpool } from '../spool.js';
import { InfluxHttpError, type InfluxHttp } from './http.js';
import type { RollupQueue } from './rollup.js';
import type { RetentionName } from './schema.js';

export interface RetryOptions {
  /** Attempts of a batch on the direct path before it is spooled (default 3). */
  attempts?: number;
  /** First backoff delay (default 100 ms); doubles per attempt, with up to 20 % jitter. */
  baseDelayMs?: number;
  /** Backoff cap, also for the spool drain (default 5000 ms). */
  maxDelayMs?: number;
}

export interface WriterOptions {
  http: InfluxHttp;
  database: string;
  spool: DiskSpool;
  spoolDir: string;
  batchPoints: number;
  batchBytes: number;
  flushIntervalMs: number;
  retry: Required<RetryOptions>;
  log: (line: string) => void;
  /** Creates database and retention policies (again, e.g. after "database not found"). */
  ensureSchema: () => Promise<void>;
  /** Owed roll-up hours: reserved before a batch is sent or spooled, released once it is durable. */
  rollups: Pick<RollupQueue, 'reserve' | 'release' | 'schedule'>;
}

export interface PointLine {
  rp: RetentionName;
  line: string;
}

interface Item {
  lines: PointLine[];
  hours: number[];
  resolve: () => void;
  reject: (e: Error) => void;
  error: Error | null;
}

interface Chunk {
  rp: RetentionName;
  lines: string[];
  bytes: number;
  owners: Array<{ item: Item; from: number; to: number }>;
}

interface SpoolHeader {
  rp?: RetentionName;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class InfluxWriter {
  private readonly o: WriterOptions;
  private pending: Item[] = [];
  private pendingPoints = 0;
  private pendingBytes = 0;
  private chain: Promise<void> = Promise.resolve();
  private flushQueued = false;
  private flushing = 0;
  private lingerTimer: NodeJS.Timeout | null = null;
  private draining: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private closed = false;
  private spoolingSince: number | null = null;
  private spooledThisEpisode = 0;
  private lastSpoolNote = 0;
  reachable = false;
  writeErrors = 0;
  lastError: string | null = null;

  constructor(opts: WriterOptions) {
    this.o = opts;
  }

  /** Queues one write() call's lines; resolves when durable. */
  submit(lines: PointLine[], hours: number[]): Promise<void> {
    if (this.closed) return Promise.reject(new LidarError('LIDAR_ERR_USAGE', 'influx store is closed'));
    if (lines.length === 0 && hours.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ lines, hours, resolve, reject, error: null });
      this.pendingPoints += lines.length;
      for (const l of lines) this.pendingBytes += l.line.length;
      if (this.o.flushIntervalMs <= 0 || this.pendingPoints >= this.o.batchPoints || this.pendingBytes >= this.o.batchBytes) this.kick();
      else if (this.lingerTimer === null) this.lingerTimer = setTimeout(() => this.kick(), this.o.flushIntervalMs);
    });
  }

  /** Starts the drain loop when the spool holds records (after open()). */
  start(): void {
    if (!this.o.spool.empty) {
      const s = this.o.spool.stats();
      this.o.log(`influx: spool ${this.o.spoolDir} holds ${s.count} points (${s.bytes} bytes) from an earlier run; draining`);
      this.beginSpooling('left from an earlier run');
      this.startDrain();
    }
  }

  /** Sends everything queued and waits until the spool is empty; rejects with LIDAR_ERR_IO after timeoutMs. */
  async flush(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    this.kick();
    for (;;) {
      if (this.pending.length === 0 && !this.flushQueued && this.flushing === 0 && this.o.spool.empty) return;
      const left = deadline - Date.now();
      if (left <= 0) {
        const s = this.o.spool.stats();
        throw new LidarError(
          'LIDAR_ERR_IO',
          `influx flush timed out after ${timeoutMs} ms: ${s.count} points still in the spool ${this.o.spoolDir}, ${this.pendingPoints} queued (last error: ${this.lastError ?? 'none'})`,
        );
      }
      await Promise.race([this.chain, sleep(Math.min(left, 25))]);
      if (!this.o.spool.empty) {
        this.startDrain();
        await sleep(Math.min(Math.max(deadline - Date.now(), 0), 25));
      }
    }
  }

  /** Sends or spools what is queued, stops the drain loop (the spool stays for the next open()). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.kick();
    await this.chain;
    this.closed = true;
    if (this.lingerTimer !== null) clearTimeout(this.lingerTimer);
    this.wake?.();
    await this.draining;
  }

  private kick(): void {
    if (this.lingerTimer !== null) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = null;
    }
    if (this.flushQueued || this.pending.length === 0) return;
    this.flushQueued = true;
    this.chain = this.chain.then(() => this.runFlush());
  }

  private backoff(attempt: number): number {
    const d = Math.min(this.o.retry.baseDelayMs * 2 ** attempt, this.o.retry.maxDelayMs);
    return Math.round(d * (1 + Math.random() * 0.2));
  }

  private chunks(items: Item[]): Chunk[] {
    const out: Chunk[] = [];
    for (const rp of ['raw', 'long'] as const) {
      let current: Chunk | null = null;
      for (const item of items) {
        for (let i = 0; i < item.lines.length; i++) {
          const pl = item.lines[i];
          if (pl.rp !== rp) continue;
          const size = Buffer.byteLength(pl.line) + 1;
          if (current === null || current.lines.length >= this.o.batchPoints || (current.bytes + size > this.o.batchBytes && current.lines.length > 0)) {
            current = { rp, lines: [], bytes: 0, owners: [] };
            out.push(current);
          }
          const last = current.owners[current.owners.length - 1];
          if (last !== undefined && last.item === item && last.to === current.lines.length) last.to++;
          else current.owners.push({ item, from: current.lines.length, to: current.lines.length + 1 });
          current.lines.push(pl.line);
          current.bytes += size;
        }
      }
    }
    return out;
  }

  private async runFlush(): Promise<void> {
    this.flushQueued = false;
    this.flushing++;
    const items = this.pending;
    this.pending = [];
    this.pendingPoints = 0;
    this.pendingBytes = 0;
    const hours = [...new Set(items.flatMap((i) => i.hours))].sort((a, b) => a - b);
    let reserved = false;
    try {
      // The hours are on disk as owed before their points leave, so a crash cannot skip a roll-up.
      await this.o.rollups.reserve(hours);
      reserved = true;
      const chunks = this.chunks(items);
      let spooling = !this.o.spool.empty && this.roomFor(chunks);
      let refused = !this.o.spool.empty && !spooling;
      for (let i = 0; i < chunks.length && !refused; i++) {
        if (!spooling) {
          const r = await this.sendDirect(chunks[i]);
          if (r === 'spool') {
            spooling = this.roomFor(chunks.slice(i));
            refused = !spooling;
          }
        }
        if (spooling) await this.spoolChunk(chunks[i]);
      }
      if (spooling) this.startDrain();
    } catch (e) {
      const error = e instanceof LidarError ? e : new LidarError('LIDAR_ERR_IO', `influx write failed: ${e instanceof Error ? e.message : String(e)}`);
      for (const item of items) item.error ??= error;
    } finally {
      if (reserved) this.o.rollups.release(hours);
      this.flushing--;
    }
    for (const item of items) {
      if (item.error !== null) item.reject(item.error);
      else item.resolve();
    }
  }

  private noteError(e: unknown): void {
    this.writeErrors++;
    this.lastError = e instanceof Error ? e.message : String(e);
    if (e instanceof InfluxHttpError && (e.kind === 'network' || e.kind === 'server')) this.reachable = false;
  }

  /** Writes one chunk with retries: 'ok' (stored, or refused as data and reported), or 'spool'. */
  private async sendDirect(chunk: Chunk): Promise<'ok' | 'spool'> {
    const body = chunk.lines.join('\n');
    for (let attempt = 0; attempt < this.o.retry.attempts; attempt++) {
      try {
        await this.o.http.write(this.o.database, chunk.rp, body);
        this.reachable = true;
        return 'ok';
      } catch (e) {
        this.noteError(e);
        if (!(e instanceof InfluxHttpError)) throw e;
        if (e.kind === 'data') return this.splitDataError(chunk, e);
        if (e.kind === 'missing-database') {
          try {
            await this.o.ensureSchema();
          } catch (schemaError) {
            this.noteError(schemaError);
          }
          continue;
        }
        if (attempt + 1 < this.o.retry.attempts) await sleep(this.backoff(attempt));
      }
    }
    return 'spool';
  }

  /** A data error on a batch: resend each write() call's part alone to find whose points were refused. */
  private async splitDataError(chunk: Chunk, error: InfluxHttpError): Promise<'ok' | 'spool'> {
    if (chunk.owners.length === 1) {
      this.refuse(chunk.owners[0].item, chunk.owners[0].to - chunk.owners[0].from, error);
      return 'ok';
    }
    for (const owner of chunk.owners) {
      try {
        await this.o.http.write(this.o.database, chunk.rp, chunk.lines.slice(owner.from, owner.to).join('\n'));
      } catch (e) {
        this.noteError(e);
        if (e instanceof InfluxHttpError && e.kind === 'data') this.refuse(owner.item, owner.to - owner.from, e);
        else return 'spool'; // the whole chunk goes to the spool; rewriting stored points is harmless
      }
    }
    return 'ok';
  }

  private refuse(item: Item, points: number, e: InfluxHttpError): void {
    this.o.log(`influx: data error, not retried: InfluxDB refused points of a write (${points} points sent): ${e.message}`);
    item.error ??= new LidarError('LIDAR_ERR_BAD_VALUE', `InfluxDB refused points of this write (the other points were stored): ${e.message}`);
  }

  private beginSpooling(reason: string): void {
    if (this.spoolingSince !== null) return;
    this.spoolingSince = Date.now();
    this.spooledThisEpisode = 0;
    this.o.log(`influx: database unreachable (${reason}); spooling writes to ${this.o.spoolDir}`);
  }

  private async spoolChunk(chunk: Chunk): Promise<void> {
    await this.spoolRecord({ rp: chunk.rp }, chunk.lines.join('\n'), chunk.lines.length, chunk.owners.map((o) => o.item));
  }

  /**
   * Whether the spool has room for all of `rest` (the chunks of a flush not sent directly). All of
   * them are spooled or none: a part spooled before "spool full" would be spooled again by every
   * retry of the refused write. When there is no room, their items fail with the spool's error.
   */
  private roomFor(rest: Chunk[]): boolean {
    try {
      const sizes = rest.map((c) => Buffer.byteLength(JSON.stringify({ rp: c.rp }) + '\n', 'utf8') + c.bytes - Math.min(1, c.lines.length)); // = the record spoolChunk writes: header line + lines joined by \n
      this.o.spool.assertRoom(sizes, rest.reduce((n, c) => n + c.lines.length, 0));
      return true;
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      this.beginSpooling(this.lastError ?? 'unknown error');
      this.o.log(`influx: ${error.message}`);
      for (const c of rest) for (const o of c.owners) o.item.error ??= error;
      return false;
    }
  }

  private async spoolRecord(header: SpoolHeader, body: string, points: number, items: readonly Item[]): Promise<void> {
    this.beginSpooling(this.lastError ?? 'unknown error');
    try {
      await this.o.spool.append(`${JSON.stringify(header)}\n${body}`, points);
      this.spooledThisEpisode += points;
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      this.o.log(`influx: ${error.message}`);
      for (const item of items) item.error ??= error;
    }
  }

  startDrain(): void {
    if (this.draining !== null || this.closed) return;
    this.draining = this.drainLoop().finally(() => {
      this.draining = null;
      if (!this.closed && !this.o.spool.empty) this.startDrain();
    });
  }

  private async drainLoop(): Promise<void> {
    let attempt = 0;
    while (!this.closed && !this.o.spool.empty) {
      let record;
      try {
        record = await this.o.spool.peek();
      } catch (e) {
        this.noteError(e);
        this.o.log(`influx: ${e instanceof Error ? e.message : String(e)}`);
        await this.pause(this.backoff(attempt++));
        continue;
      }
      if (record === null) break;
      const newline = record.payload.indexOf(10);
      let header: SpoolHeader = {};
      try {
        header = JSON.parse(record.payload.subarray(0, newline < 0 ? record.payload.length : newline).toString('utf8')) as SpoolHeader;
      } catch {
        this.o.log(`influx: spool record ${record.seq} has an unreadable header; dropped`);
        await this.o.spool.ack(record.seq);
        continue;
      }
      const body = newline < 0 ? '' : record.payload.subarray(newline + 1).toString('utf8');
      try {
        if (body.length > 0 && header.rp !== undefined) await this.o.http.write(this.o.database, header.rp, body);
        this.reachable = true;
        attempt = 0;
        await this.o.spool.ack(record.seq);
      } catch (e) {
        this.noteError(e);
        if (e instanceof InfluxHttpError && e.kind === 'data') {
          this.o.log(`influx: data error, not retried: spooled record ${record.seq} (${record.count} points) dropped: ${e.message}`);
          await this.o.spool.ack(record.seq);
          continue;
        }
        if (e instanceof InfluxHttpError && e.kind === 'missing-database') {
          await this.o.ensureSchema().catch((schemaError: unknown) => this.noteError(schemaError));
        }
        if (Date.now() - this.lastSpoolNote > 30_000) {
          this.lastSpoolNote = Date.now();
          const s = this.o.spool.stats();
          this.o.log(`influx: still spooling, ${s.count} points (${s.bytes} bytes) held; last error: ${this.lastError}`);
        }
        await this.pause(this.backoff(attempt++));
      }
    }
    if (this.o.spool.empty && this.spoolingSince !== null) {
      const seconds = ((Date.now() - this.spoolingSince) / 1000).toFixed(1);
      this.o.log(`influx: spool drained (${this.spooledThisEpisode} points spooled in this episode, ${seconds} s); writing directly again`);
      this.spoolingSince = null;
    }
    if (this.o.spool.empty) this.o.rollups.schedule();
  }

  /** Sleeps, but wakes at close(). */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }
}
