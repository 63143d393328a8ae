/**
 * A durable first-in-first-out disk spool: records (opaque byte payloads, each with a count such as
 * "points") are appended to segment files and fsynced before `append()` resolves, then taken back in
 * the same order with `peek()` and removed with `ack()`. Any writer that must not lose data while
 * its destination is unreachable can use it (the InfluxDB adapter spools line-protocol batches).
 *
 * On disk (one directory per spool):
 * - `NNNNNNNNNNNN.seg`: append-only segments; a record is a 16-byte header (magic "LSP1", payload
 *   length, count, CRC-32 of count + payload; big-endian u32s) followed by the payload. A segment is
 *   closed for appends once it reaches `segmentBytes` and deleted once all its records are acked;
 *   when the spool becomes empty the tail segment is deleted too (the disk space comes back at once,
 *   tests/fault-spool-full.test.ts) and appends continue in a new segment.
 * - `head`: the read position ({"segment":N,"offset":B}) written atomically (temp file, fsync,
 *   rename) on every ack, so acknowledged records are not delivered again after a restart.
 *
 * Crash safety: a crash in the middle of an append leaves a torn record at the end of a segment;
 * `open()` checks every record's length and CRC, truncates the segment at the first bad record and
 * logs it, so every record whose append had resolved survives. Bounded: when the records held plus
 * the new one would exceed `maxBytes`, `append()` rejects with LIDAR_ERR_IO ("spool full") — the
 * spool never drops data silently.
 */
import { closeSync, openSync, fsyncSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { LidarError } from '../processing/errors.js';

export interface SpoolOptions {
  /** Directory of this spool (created when missing). One writer per directory. */
  dir: string;
  /** Bound on the bytes held (records not yet acked, headers included). */
  maxBytes: number;
  /** A segment is closed for appends at this size (default 16 MiB). */
  segmentBytes?: number;
  /** Receives recovery notes (truncated torn records, unreadable head file). */
  logger?: (line: string) => void;
}

export interface SpoolRecord {
  /** Position of the record in the spool's history (increasing; for ack checks and logs). */
  seq: number;
  payload: Buffer;
  count: number;
}

export interface SpoolStats {
  records: number;
  /** Sum of the records' counts (e.g. points). */
  count: number;
  /** Bytes held on disk by unacked records (headers included). */
  bytes: number;
}

export interface SpoolRecovery {
  /** Records found on open (not yet acked). */
  records: number;
  count: number;
  /** Bytes cut off torn or corrupt segment tails. */
  truncatedBytes: number;
}

export const SPOOL_HEADER_BYTES = 16;
const MAGIC = 0x4c535031; // "LSP1"
const SEGMENT_RE = /^(\d{12})\.seg$/;

interface Entry {
  seq: number;
  segment: number;
  offset: number;
  length: number; // payload bytes
  count: number;
}

/** File name of segment n (`000000000001.seg`). */
export function segmentName(n: number): string {
  return `${String(n).padStart(12, '0')}.seg`;
}

function checksum(count: number, payload: Uint8Array): number {
  const c = Buffer.alloc(4);
  c.writeUInt32BE(count >>> 0, 0);
  return crc32(payload, crc32(c)) >>> 0;
}

/** Encodes one record (header + payload). */
export function encodeSpoolRecord(payload: Uint8Array, count: number): Buffer {
  const header = Buffer.alloc(SPOOL_HEADER_BYTES);
  header.writeUInt32BE(MAGIC, 0);
  header.writeUInt32BE(payload.length, 4);
  header.writeUInt32BE(count >>> 0, 8);
  header.writeUInt32BE(checksum(count, payload), 12);
  return Buffer.concat([header, payload]);
}

function ioError(detail: string, cause: unknown, field?: string): LidarError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new LidarError('LIDAR_ERR_IO', `${detail}: ${why}`, field === undefined ? {} : { file: field });
}

export class DiskSpool {
  private readonly dir: string;
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private readonly log: (line: string) => void;
  private entries: Entry[] = [];
  private first = 0; // index of the oldest unacked entry in `entries`
  private heldBytes = 0;
  private heldCount = 0;
  private nextSeq = 0;
  private tailSegment = 0;
  private tailSize = 0;
  private tail: FileHandle | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private opened = false;

  constructor(opts: SpoolOptions) {
    if (!(opts.maxBytes > 0)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `spool maxBytes must be > 0, got ${opts.maxBytes}`, { field: 'maxBytes' });
    this.dir = opts.dir;
    this.maxBytes = opts.maxBytes;
    this.segmentBytes = opts.segmentBytes ?? 16 * 1024 * 1024;
    this.log = opts.logger ?? (() => {});
  }

  /** Reads the segments (recovering torn tails) and the head position. Idempotent. */
  open(): Promise<SpoolRecovery> {
    return this.serial(async () => {
      if (this.opened) return { records: this.entries.length - this.first, count: this.heldCount, truncatedBytes: 0 };
      try {
        await mkdir(this.dir, { recursive: true });
        const segments = (await readdir(this.dir))
          .map((name) => SEGMENT_RE.exec(name))
          .filter((m): m is RegExpExecArray => m !== null)
          .map((m) => Number(m[1]))
          .sort((a, b) => a - b);
        const head = await this.readHead(segments);
        let truncatedBytes = 0;
        for (const segment of segments) {
          if (segment < head.segment) {
            await rm(join(this.dir, segmentName(segment)), { force: true });
            continue;
          }
          truncatedBytes += await this.scanSegment(segment, segment === head.segment ? head.offset : 0);
        }
        const last = segments.length > 0 ? segments[segments.length - 1] : 0;
        this.tailSegment = Math.max(last, head.segment, 1);
        // The head's segment was removed after delivery (see ack()) before the head file moved on:
        // new records go to the next segment, which is read from offset 0.
        if (this.tailSegment === head.segment && head.offset > 0 && !segments.includes(head.segment)) this.tailSegment += 1;
        this.tailSize = await this.sizeOf(this.tailSegment);
        this.opened = true;
        const recovery = { records: this.entries.length - this.first, count: this.heldCount, truncatedBytes };
        return recovery;
      } catch (e) {
        if (e instanceof LidarError) throw e;
        throw ioError(`cannot open spool ${this.dir}`, e);
      }
    });
  }

  /**
   * Throws the "spool full" error that appending records with these payload sizes now would give:
   * a writer can refuse a write of several records whole instead of spooling a part of it (which
   * each retry would spool again).
   */
  assertRoom(payloadBytes: readonly number[], count: number): void {
    let size = 0;
    for (const b of payloadBytes) size += SPOOL_HEADER_BYTES + b;
    if (this.heldBytes + size > this.maxBytes) throw this.fullError(size, count);
  }

  private fullError(size: number, count: number): LidarError {
    return new LidarError(
      'LIDAR_ERR_IO',
      `spool full: ${this.heldBytes} of ${this.maxBytes} bytes held in ${this.dir}, cannot add ${size} bytes (${count} points); nothing was dropped, the write is refused`,
      { field: 'spoolMaxBytes' },
    );
  }

  /** Appends one record and fsyncs it; rejects with LIDAR_ERR_IO when the spool is full or the disk fails. */
  append(payload: Uint8Array | string, count = 1): Promise<void> {
    const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
    return this.serial(async () => {
      this.assertOpen();
      const size = SPOOL_HEADER_BYTES + bytes.length;
      if (this.heldBytes + size > this.maxBytes) throw this.fullError(size, count);
      try {
        if (this.tail !== null && this.tailSize >= this.segmentBytes) {
          await this.tail.close();
          this.tail = null;
          this.tailSegment += 1;
          this.tailSize = 0;
        }
        if (this.tail === null) {
          const created = this.tailSize === 0;
          this.tail = await open(join(this.dir, segmentName(this.tailSegment)), 'a');
          if (created) this.syncDir();
        }
        const frame = encodeSpoolRecord(bytes, count);
        // A nearly full disk gives a short write (no error); the rest then fails with ENOSPC. Only a
        // wholly written record may resolve (tests/fault-spool-full.test.ts).
        for (let done = 0; done < frame.length; ) {
          const { bytesWritten } = await this.tail.write(frame, done, frame.length - done);
          if (!(bytesWritten > 0)) throw new Error(`short write: ${done} of ${frame.length} bytes`);
          done += bytesWritten;
        }
        await this.tail.datasync();
        this.entries.push({ seq: this.nextSeq++, segment: this.tailSegment, offset: this.tailSize, length: bytes.length, count });
        this.tailSize += frame.length;
        this.heldBytes += size;
        this.heldCount += count;
      } catch (e) {
        // A failed write may have left a torn record: close so the next open() recovers it.
        if (this.tail !== null) {
          await this.tail.close().catch(() => {});
          this.tail = null;
        }
        this.tailSegment += 1;
        this.tailSize = 0;
        throw ioError(`cannot append to spool ${this.dir}`, e);
      }
    });
  }

  /** The oldest record not yet acked, or null when the spool is empty. */
  async peek(): Promise<SpoolRecord | null> {
    this.assertOpen();
    const entry = this.entries[this.first];
    if (entry === undefined) return null;
    const path = join(this.dir, segmentName(entry.segment));
    let fh: FileHandle | null = null;
    try {
      fh = await open(path, 'r');
      const payload = Buffer.alloc(entry.length);
      const { bytesRead } = await fh.read(payload, 0, entry.length, entry.offset + SPOOL_HEADER_BYTES);
      if (bytesRead !== entry.length) throw new Error(`short read (${bytesRead} of ${entry.length} bytes)`);
      return { seq: entry.seq, payload, count: entry.count };
    } catch (e) {
      throw ioError(`cannot read spool record ${entry.seq} at byte ${entry.offset} of ${path}`, e);
    } finally {
      await fh?.close();
    }
  }

  /** Removes the oldest record (the one peek() returned; its seq is checked when given). */
  ack(seq?: number): Promise<void> {
    return this.serial(async () => {
      this.assertOpen();
      const entry = this.entries[this.first];
      if (entry === undefined) return;
      if (seq !== undefined && seq !== entry.seq) {
        throw new LidarError('LIDAR_ERR_USAGE', `spool ack of record ${seq} but the oldest record is ${entry.seq}`, { field: 'seq' });
      }
      this.first += 1;
      this.heldBytes -= SPOOL_HEADER_BYTES + entry.length;
      this.heldCount -= entry.count;
      const next = this.entries[this.first];
      if (this.first > 1024 && this.first * 2 > this.entries.length) {
        this.entries = this.entries.slice(this.first);
        this.first = 0;
      }
      try {
        if (next === undefined) {
          // Everything delivered: give the disk space back now (a nearly full disk needs it, and the
          // write of the head file may itself need space), then continue in a fresh segment. Removing
          // before the head is rewritten is safe: every record in these segments was delivered, and
          // open() starts a removed head segment's successor at offset 0.
          if (this.tail !== null) {
            await this.tail.close();
            this.tail = null;
          }
          for (let s = entry.segment; s <= this.tailSegment; s++) await rm(join(this.dir, segmentName(s)), { force: true });
          this.tailSegment += 1;
          this.tailSize = 0;
          await this.writeHead(this.tailSegment, 0);
          return;
        }
        await this.writeHead(next.segment, next.offset);
        // Segments before the head segment are fully consumed.
        for (let s = entry.segment; s < next.segment; s++) await rm(join(this.dir, segmentName(s)), { force: true });
      } catch (e) {
        throw ioError(`cannot record spool ack in ${this.dir}`, e);
      }
    });
  }

  stats(): SpoolStats {
    return { records: this.entries.length - this.first, count: this.heldCount, bytes: this.heldBytes };
  }

  get empty(): boolean {
    return this.entries.length === this.first;
  }

  async close(): Promise<void> {
    await this.serial(async () => {
      if (this.tail !== null) await this.tail.close();
      this.tail = null;
      this.opened = false;
      this.entries = [];
      this.first = 0;
      this.heldBytes = 0;
      this.heldCount = 0;
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => {});
    return run;
  }

  private assertOpen(): void {
    if (!this.opened) throw new LidarError('LIDAR_ERR_USAGE', `spool ${this.dir} is not open`);
  }

  private async sizeOf(segment: number): Promise<number> {
    try {
      return (await stat(join(this.dir, segmentName(segment)))).size;
    } catch {
      return 0;
    }
  }

  private async readHead(segments: number[]): Promise<{ segment: number; offset: number }> {
    const fallback = { segment: segments[0] ?? 1, offset: 0 };
    let text: string;
    try {
      text = await readFile(join(this.dir, 'head'), 'utf8');
    } catch {
      return fallback;
    }
    try {
      const head = JSON.parse(text) as { segment?: unknown; offset?: unknown };
      if (typeof head.segment === 'number' && Number.isInteger(head.segment) && typeof head.offset === 'number' && Number.isInteger(head.offset) && head.offset >= 0) {
        return { segment: head.segment, offset: head.offset };
      }
    } catch {
      /* fall through */
    }
    this.log(`spool ${this.dir}: unreadable head file, delivering from the oldest segment again (records may repeat)`);
    return fallback;
  }

  private async writeHead(segment: number, offset: number): Promise<void> {
    const tmp = join(this.dir, 'head.tmp');
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify({ segment, offset }));
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(this.dir, 'head'));
  }

  private syncDir(): void {
    try {
      const fd = openSync(this.dir, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch {
      /* some file systems refuse fsync on directories; the record's own fsync still holds */
    }
  }

  /** Indexes the valid records of a segment from `from` on; truncates a torn or corrupt tail. Returns bytes cut. */
  private async scanSegment(segment: number, from: number): Promise<number> {
    const path = join(this.dir, segmentName(segment));
    const data = await readFile(path);
    let offset = 0;
    let bad: string | null = null;
    while (offset < data.length) {
      if (data.length - offset < SPOOL_HEADER_BYTES) {
        bad = `incomplete header (${data.length - offset} bytes)`;
        break;
      }
      if (data.readUInt32BE(offset) !== MAGIC) {
        bad = 'bad record marker';
        break;
      }
      const length = data.readUInt32BE(offset + 4);
      const count = data.readUInt32BE(offset + 8);
      const crc = data.readUInt32BE(offset + 12);
      if (offset + SPOOL_HEADER_BYTES + length > data.length) {
        bad = `incomplete record (${data.length - offset - SPOOL_HEADER_BYTES} of ${length} payload bytes)`;
        break;
      }
      const payload = data.subarray(offset + SPOOL_HEADER_BYTES, offset + SPOOL_HEADER_BYTES + length);
      if (checksum(count, payload) !== crc) {
        bad = 'checksum mismatch';
        break;
      }
      if (offset >= from) {
        this.entries.push({ seq: this.nextSeq++, segment, offset, length, count });
        this.heldBytes += SPOOL_HEADER_BYTES + length;
        this.heldCount += count;
      }
      offset += SPOOL_HEADER_BYTES + length;
    }
    if (bad === null) return 0;
    const cut = data.length - offset;
    this.log(`spool ${this.dir}: ${segmentName(segment)} truncated at byte ${offset} (${bad}; ${cut} bytes dropped, a write torn by a crash); earlier records kept`);
    await truncate(path, offset);
    return cut;
  }
}

export function createSpool(opts: SpoolOptions): DiskSpool {
  return new DiskSpool(opts);
}

/** Removes a spool directory (tests, tools). */
export async function removeSpool(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
