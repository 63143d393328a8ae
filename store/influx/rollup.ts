/**
 * Hourly and daily cell roll-ups, maintained by the adapter itself: after cell points are stored,
 * the UTC hours they touch are recomputed from raw `cell` into `cell_1h` (long RP), then the touched
 * UTC days from `cell_1h` into `cell_1d` (RollupQueue below coalesces the writes of an hour and keeps
 * the owed hours on disk). Each step is a grouped SELECT whose result rows the adapter writes back as
 * points (not `SELECT ... INTO`, which InfluxDB 2.x/3.x's v1-compatibility endpoints do not run), so
 * the one code path works on every version. Continuous queries are not used: they only cover "now"
 * and miss data written for past times (replays, spool drains).
 * Recomputing an hour writes the same points (bucket start + same tags) again, so it overwrites and
 * is idempotent. Both roll-ups hold sums and a contribution count, so they re-aggregate exactly.
 */
import { open, readFile, rename } from 'node:fs/promises';
import { iql, join, qualified, timeRange, type InfluxQL } from './influxql.js';
import { MEASUREMENTS } from './schema.js';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** Sorted distinct bucket starts (UTC, aligned to the epoch) of the given times. */
export function bucketStarts(times: Iterable<number>, stepMs: number): number[] {
  const set = new Set<number>();
  for (const t of times) set.add(Math.floor(t / stepMs) * stepMs);
  return [...set].sort((a, b) => a - b);
}

/** Contiguous runs [from, to) of sorted bucket starts. */
export function bucketRuns(starts: readonly number[], stepMs: number): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  for (const s of starts) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last[1] === s) last[1] = s + stepMs;
    else runs.push([s, s + stepMs]);
  }
  return runs;
}

/** At most this many statements per /query request. */
export const STATEMENTS_PER_REQUEST = 50;

function batches(statements: InfluxQL[]): InfluxQL[] {
  const out: InfluxQL[] = [];
  for (let i = 0; i < statements.length; i += STATEMENTS_PER_REQUEST) out.push(join(statements.slice(i, i + STATEMENTS_PER_REQUEST), '; '));
  return out;
}

const SUMS = iql`sum("n") AS "n", sum("pm10_sum") AS "pm10_sum", sum("pm25_sum") AS "pm25_sum", sum("alpha_sum") AS "alpha_sum"`;

/**
 * The requests recomputing the roll-ups of the given hour starts, in phases to run in order (each
 * phase reads what the one before wrote):
 * 1. `cell_1h` from raw `cell` (per cell: GROUP BY *);
 * 2. `district_1h` from `cell_1h` (per station, channel, district) — district and station sums
 *    read 24 districts instead of every cell;
 * 3. `cell_1d` from `cell_1h` and `district_1d` from `district_1h`, for the days of those hours.
 */
export interface RollupStep {
  /** The grouped SELECT (several, joined by '; '). */
  query: InfluxQL;
  /** The measurement (in the long RP) its rows are written to. */
  into: string;
}

export function rollupPhases(database: string, rawRp: string, longRp: string, hours: readonly number[]): RollupStep[][] {
  const m = (rp: string, name: string): InfluxQL => qualified(database, rp, name);
  const hourRuns = bucketRuns(hours, HOUR_MS);
  const dayRuns = bucketRuns(bucketStarts(hours, DAY_MS), DAY_MS);
  const byDistrict = iql`"station", "channel", "district"`;
  const byCell = iql`"station", "channel", "cell", "district"`;
  const step = (into: string, statements: InfluxQL[]): RollupStep[] => batches(statements).map((query) => ({ query, into }));
  return [
    step(MEASUREMENTS.cell1h, hourRuns.map(([a, b]) => iql`SELECT ${SUMS}, count("n") AS "contributions" FROM ${m(rawRp, MEASUREMENTS.cell)} WHERE ${timeRange(a, b)} GROUP BY time(1h), ${byCell} fill(none)`)),
    step(MEASUREMENTS.district1h, hourRuns.map(([a, b]) => iql`SELECT ${SUMS}, sum("contributions") AS "contributions" FROM ${m(longRp, MEASUREMENTS.cell1h)} WHERE ${timeRange(a, b)} GROUP BY time(1h), ${byDistrict} fill(none)`)),
    [
      ...step(MEASUREMENTS.cell1d, dayRuns.map(([a, b]) => iql`SELECT ${SUMS}, sum("contributions") AS "contributions" FROM ${m(longRp, MEASUREMENTS.cell1h)} WHERE ${timeRange(a, b)} GROUP BY time(1d), ${byCell} fill(none)`)),
      ...step(MEASUREMENTS.district1d, dayRuns.map(([a, b]) => iql`SELECT ${SUMS}, sum("contributions") AS "contributions" FROM ${m(longRp, MEASUREMENTS.district1h)} WHERE ${timeRange(a, b)} GROUP BY time(1d), ${byDistrict} fill(none)`)),
    ],
  ];
}

/**
 * The hours whose roll-ups are owed, kept in a small file (JSON, written atomically) so a crash
 * between storing points and recomputing their hours only delays the roll-up to the next open().
 *
 * - `reserve(hours)` before a batch is sent or spooled: the hours are written to the file and held
 *   (not recomputed while their points are on the way); `release(hours)` once the batch is durable.
 * - A timer (`delayMs` after the first unheld hour) recomputes the owed hours in the background while
 *   the spool is empty, coalescing the many writes of an hour into one recomputation; `settle()`
 *   recomputes at once (bucketed reads and flush() call it, so reads see their writes).
 * - An hour is struck off only when the spool was empty when its recomputation started (otherwise
 *   spooled points of it may still arrive) and it was not written again meanwhile.
 */
export interface RollupQueueOptions {
  file: string;
  /** Recomputes these hours (and their days). */
  run: (hours: number[]) => Promise<void>;
  /** Whether the spool is empty. */
  spoolEmpty: () => boolean;
  delayMs: number;
  log: (line: string) => void;
}

export class RollupQueue {
  private readonly o: RollupQueueOptions;
  private readonly owed = new Map<number, number>(); // hour -> generation
  private readonly held = new Map<number, number>(); // hour -> holds
  private gen = 0;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private persisted = '';
  private persisting: Promise<void> = Promise.resolve();
  private failures = 0;
  private closed = false;

  constructor(opts: RollupQueueOptions) {
    this.o = opts;
  }

  /** Reads the owed hours of an earlier run. */
  async load(): Promise<number> {
    let text: string;
    try {
      text = await readFile(this.o.file, 'utf8');
    } catch {
      return 0;
    }
    try {
      const parsed = JSON.parse(text) as { hours?: unknown };
      if (Array.isArray(parsed.hours)) for (const h of parsed.hours) if (Number.isSafeInteger(h)) this.owed.set(h as number, ++this.gen);
    } catch {
      this.o.log(`influx: unreadable ${this.o.file}; roll-ups of hours written just before the last stop may be stale`);
    }
    this.persisted = text;
    if (this.owed.size > 0) this.schedule();
    return this.owed.size;
  }

  get size(): number {
    return this.owed.size;
  }

  async reserve(hours: readonly number[]): Promise<void> {
    let added = false;
    for (const h of hours) {
      if (!this.owed.has(h)) added = true;
      this.owed.set(h, ++this.gen);
      this.held.set(h, (this.held.get(h) ?? 0) + 1);
    }
    if (added) await this.persist();
  }

  release(hours: readonly number[]): void {
    for (const h of hours) {
      const n = (this.held.get(h) ?? 1) - 1;
      if (n <= 0) this.held.delete(h);
      else this.held.set(h, n);
      if (this.owed.has(h)) this.owed.set(h, ++this.gen);
    }
    if (hours.length > 0) this.schedule();
  }

  /** Background recomputation after delayMs (no-op when already scheduled). */
  schedule(delayMs = this.o.delayMs): void {
    if (this.timer !== null || this.closed || this.owed.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.o.spoolEmpty()) {
        this.schedule(Math.max(delayMs, 1000));
        return;
      }
      this.settle().then(
        () => {
          this.failures = 0;
        },
        (e: unknown) => {
          if (this.failures++ === 0) this.o.log(`influx: roll-up recomputation failed, retrying: ${e instanceof Error ? e.message : String(e)}`);
          this.schedule(Math.min(30_000, this.o.delayMs * 2 ** Math.min(this.failures, 6)));
        },
      );
    }, delayMs);
    this.timer.unref?.();
  }

  /** Recomputes every owed, unheld hour now; rejects when the database fails. */
  async settle(): Promise<void> {
    while (this.running !== null) await this.running.catch(() => {});
    const picked = [...this.owed].filter(([h]) => !this.held.has(h));
    if (picked.length === 0) return;
    const run = (async () => {
      const spoolEmpty = this.o.spoolEmpty();
      await this.o.run(picked.map(([h]) => h).sort((a, b) => a - b));
      if (!spoolEmpty) return;
      for (const [h, g] of picked) if (this.owed.get(h) === g) this.owed.delete(h);
      await this.persist();
    })();
    this.running = run;
    try {
      await run;
    } finally {
      this.running = null;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    while (this.running !== null) await this.running.catch(() => {});
  }

  /** Writes the owed hours (serialised: one writer of the file at a time, each writing the latest state). */
  private persist(): Promise<void> {
    const run = this.persisting.then(() => this.writeFile());
    this.persisting = run.catch(() => {});
    return run;
  }

  private async writeFile(): Promise<void> {
    const text = JSON.stringify({ hours: [...this.owed.keys()].sort((a, b) => a - b) });
    if (text === this.persisted) return;
    const tmp = `${this.o.file}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(text);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.o.file);
    this.persisted = text;
  }
}
