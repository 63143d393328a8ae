// An in-memory stand-in for the two store methods the pipeline uses, for unit tests of pipeline
// logic only (the real adapters pass tests/store-contract.ts). Keyed like the real stores, so a
// rewrite replaces; `failNext` makes the next writes throw, to exercise retries.
import { LidarError } from '../processing/errors.js';
import type { CellRecord, HealthRecord, ProfileMeta, ProfileQuery, ProfileRecord, WriteBatch } from '../store/port.js';

export class MemoryStore {
  readonly profilesById = new Map<string, ProfileRecord>();
  readonly cells = new Map<string, CellRecord>();
  readonly healthRecords: HealthRecord[] = [];
  writes = 0;
  failNext = 0;
  /** Batches this predicate matches are refused with LIDAR_ERR_BAD_VALUE, as a real store refuses bad values. */
  refuse: (batch: WriteBatch) => boolean = () => false;

  async write(batch: WriteBatch): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('store unavailable (test)');
    }
    if (this.refuse(batch)) throw new LidarError('LIDAR_ERR_BAD_VALUE', 'value refused by the store (test)', { field: 'values' });
    this.writes++;
    for (const p of batch.profiles ?? []) this.profilesById.set(p.id, p);
    for (const c of batch.cells ?? []) this.cells.set(`${c.station}|${c.channel}|${c.cell}|${c.timeMs}`, c);
    for (const h of batch.health ?? []) this.healthRecords.push(h);
  }

  async profiles(q: ProfileQuery): Promise<ProfileMeta[]> {
    const out = [...this.profilesById.values()].filter(
      (p) => p.station === q.station && (!q.channel || p.channel === q.channel) && (!q.mode || p.mode === q.mode) && p.timeMs >= q.fromMs && p.timeMs < q.toMs,
    );
    out.sort((a, b) => (q.order === 'desc' ? b.timeMs - a.timeMs : a.timeMs - b.timeMs));
    return out.slice(0, q.limit ?? 10000).map(({ arrays: _a, ...meta }) => meta);
  }
}
