/**
 * Quarantine: bad input kept with its reason, never dropped. Each item is two files in
 * `<dir>/<YYYY-MM-DD>/` (UTC day of arrival): `<stem>.bin` (the bytes as received) and `<stem>.json`
 * (the reason: error code, message, file/offset/field, origin, station, arrival time, size, sha256).
 * Both are written to a temporary name, fsynced and renamed, so a crash leaves no half item.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { safeFileName, writeFileDurable } from './durable-file.js';
import { join } from 'node:path';
import { LidarError } from '../processing/errors.js';
import { sha256Hex } from '../processing/hash/sha256.js';

export interface QuarantineEntry {
  code: string;
  message: string;
  file?: string;
  offset?: number;
  field?: string;
  origin: string;
  station: string | null;
  received: string;
  size: number;
  sha256: string;
  /** Path of the .bin file with the bytes. */
  path: string;
}


export class Quarantine {
  private seq = 0;
  private total = 0;
  constructor(readonly dir: string) {}

  /** Stores the item and its reason; returns the entry. Throws LIDAR_ERR_IO when the disk fails. */
  put(item: { bytes: Uint8Array; error: LidarError; origin: string; station: string | null; receivedMs: number; name?: string }): QuarantineEntry {
    const received = new Date(item.receivedMs).toISOString();
    const dayDir = join(this.dir, received.slice(0, 10));
    const stem = `${received.replace(/[:.]/g, '').slice(0, 17)}-${process.pid}-${++this.seq}-${safeFileName(item.name ?? item.origin, 80, 'item')}`;
    const entry: QuarantineEntry = {
      ...item.error.toJSON(),
      origin: item.origin,
      station: item.station,
      received,
      size: item.bytes.length,
      sha256: sha256Hex(item.bytes),
      path: join(dayDir, `${stem}.bin`),
    };
    try {
      mkdirSync(dayDir, { recursive: true });
      writeFileDurable(entry.path, item.bytes);
      writeFileDurable(join(dayDir, `${stem}.json`), `${JSON.stringify(entry, null, 2)}\n`);
    } catch (e) {
      throw new LidarError('LIDAR_ERR_IO', `cannot write quarantine item: ${(e as Error).message}`, { file: entry.path });
    }
    this.total++;
    return entry;
  }

  /** Items quarantined by this process. */
  count(): number {
    return this.total;
  }

  /** All entries on disk, oldest day first (for operators and tests). */
  list(): QuarantineEntry[] {
    let days: string[];
    try {
      days = readdirSync(this.dir).filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d)).sort();
    } catch {
      return [];
    }
    const out: QuarantineEntry[] = [];
    for (const d of days) {
      for (const f of readdirSync(join(this.dir, d)).filter((x) => x.endsWith('.json')).sort()) {
        out.push(JSON.parse(readFileSync(join(this.dir, d, f), 'utf8')) as QuarantineEntry);
      }
    }
    return out;
  }
}
