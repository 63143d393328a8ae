/**
 * The ingest pipeline: source events -> (per-station FIFO) -> decode + retrieve (worker pool) ->
 * store -> ack. Nothing is acknowledged before its result is durable: an item is acked 'stored'
 * after the store accepted its records (and its raw bytes are in the archive, when one is set), or
 * 'quarantined' after the quarantine holds it with its reason. Store failures are retried with
 * backoff for as long as it takes (the item stays unacknowledged meanwhile, so a crash makes the
 * transport redeliver it); the store's idempotent keys make redeliveries overwrite, not duplicate.
 *
 * Bounded: at most `queueCapacity` items wait; the sink's promise resolves only when there is room
 * (sources stop reading meanwhile). Ordered per station (one item in flight per station by default):
 * a scan needs the lidar constant of the vertical before it. Stations run in parallel on the pool.
 */
import { EventEmitter } from 'node:events';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { safeFileName, writeFileDurable } from './durable-file.js';
import { join } from 'node:path';
import { LidarError, isLidarError } from '../processing/errors.js';
import type { ResolvedParams } from '../processing/retrieval/params.types.js';
import type { StationConfig } from '../processing/station.js';
import type { StoreBackend, WriteBatch } from '../store/port.js';
import type { JobOutput } from './job.js';
import type { Quarantine } from './quarantine.js';
import type { InputItem, SourceEvent, SourceSink, AckOutcome } from './source.js';
import { parseStatus } from './status.js';
import { decodeLicel } from '../processing/licel/decode.js';
import { localToUtcMs } from '../processing/time.js';
import type { RetrievalPool } from './worker-pool.js';


/** The store refused a record's values: the same write would fail again (not an outage). */
const refusedByStore = (e: unknown): boolean => isLidarError(e) && e.code === 'LIDAR_ERR_BAD_VALUE';

export interface PipelineOptions {
  /** Where results go (a StoreBackend or the ResultStore over one). */
  store: Pick<StoreBackend, 'write' | 'profiles'>;
  stations: Record<string, StationConfig>;
  /** The active parameter set of a station. */
  params(station: string): { params: ResolvedParams; paramsId: string };
  quarantine: Quarantine;
  pool: RetrievalPool;
  /** Raw Licel bytes are kept here (`<dir>/<station>/<YYYY-MM-DD>/<name>`) before the ack, for reprocessing. */
  archiveDir?: string | null;
  /** Items waiting over all stations (default 256). */
  queueCapacity?: number;
  /** Items of one station in flight at once (default 1: strict order). */
  perStationConcurrency?: number;
  /** A vertical's lidar constant calibrates scans when its reference starts this far above the lidar (m, default 5000). */
  minCalibrationReferenceM?: number;
  /** A vertical's constant calibrates scans measured up to this long after it (ms, default 6 h). */
  calibrationMaxAgeMs?: number;
  /** Backoff between store retries (ms). */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Product summaries for other consumers (MQTT lidar/{station}/products). Failures are logged only. */
  announce?: (station: string, summary: object) => Promise<void>;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  now?: () => number;
}

export interface StationHealth {
  received: number;
  processed: number;
  quarantined: number;
  retried: number;
  uncalibrated: number;
  channelErrors: number;
  statusRecords: number;
  queueDepth: number;
  inFlight: number;
  /** Arrival - measurement time of the last profile (ms). */
  lastLagMs: number;
  /** Largest lag of the last 100 profiles (ms). */
  maxLagMs: number;
  /** Measurement time of the newest stored profile (ms UTC), NaN before the first. */
  lastProfileMs: number;
  /** Licel files whose measurement start was before the newest one processed so far (late, re-sent, or the station clock went back). */
  outOfOrder: number;
  /**
   * Licel files quarantined because a different file with the same station and start time (so the
   * same profile keys) was stored before by this process: kept, not overwritten (a re-sent identical
   * file is idempotent and not counted).
   */
  timeConflicts: number;
  lastProfileAgeMs: number;
  lastError: string | null;
  /** The newest accepted lidar constant per channel. */
  constants: Record<string, number>;
}

interface StationState {
  queue: InputItem[];
  inFlight: number;
  /** Accepted lidar constants (verticals only) per channel, by measurement time (ascending). */
  calibrations: Record<string, Array<{ timeMs: number; value: number }>>;
  /**
   * `calibrations` holds every vertical of the store measured in [loadedFromMs, loadedToMs) (read
   * from it), plus those this process stored itself. Empty (+Infinity, -Infinity) until first needed.
   */
  loadedFromMs: number;
  loadedToMs: number;
  h: Omit<StationHealth, 'queueDepth' | 'inFlight' | 'lastProfileAgeMs' | 'maxLagMs' | 'constants'>;
  lags: number[];
  /** Newest measurement start processed (ms UTC), for outOfOrder. */
  newestStartMs: number;
  /** SHA-256 of the stored file per measurement start (ms UTC), the latest RECENT_STARTS; for timeConflicts. */
  storedStarts: Map<number, string>;
}

/** How many measurement starts per station the conflict check remembers (~10 days of 30 s files). */
const RECENT_STARTS = 30_000;

const UNKNOWN = '(unknown)';

/** Verticals remembered per channel (~10 days at one every 15 min). */
const MAX_REMEMBERED_CALIBRATIONS = 1000;

function blankState(): StationState {
  return {
    queue: [],
    inFlight: 0,
    calibrations: {},
    loadedFromMs: Infinity,
    loadedToMs: -Infinity,
    lags: [],
    newestStartMs: NaN,
    storedStarts: new Map(),
    h: { received: 0, processed: 0, quarantined: 0, retried: 0, uncalibrated: 0, channelErrors: 0, statusRecords: 0, lastLagMs: NaN, lastProfileMs: NaN, outOfOrder: 0, timeConflicts: 0, lastError: null },
  };
}

export class Pipeline extends EventEmitter {
  private readonly states = new Map<string, StationState>();
  private readonly spaceWaiters: Array<() => void> = [];
  private readonly idleWaiters: Array<() => void> = [];
  private queued = 0;
  private running = 0;
  private stopping = false;
  private readonly o: Required<Omit<PipelineOptions, 'announce' | 'archiveDir'>> & Pick<PipelineOptions, 'announce' | 'archiveDir'>;
  readonly sink: SourceSink;

  constructor(options: PipelineOptions) {
    super();
    this.o = {
      queueCapacity: 256,
      perStationConcurrency: 1,
      minCalibrationReferenceM: 5000,
      calibrationMaxAgeMs: 6 * 3_600_000,
      retryMinMs: 200,
      retryMaxMs: 30_000,
      log: (level, message) => (level === 'info' ? console.log : console.error)(`[pipeline] ${level}: ${message}`),
      now: () => Date.now(),
      ...options,
    };
    this.sink = (event) => this.accept(event);
  }

  private state(station: string): StationState {
    let s = this.states.get(station);
    if (!s) {
      s = blankState();
      this.states.set(station, s);
    }
    return s;
  }

  /** Ready to take items (the calibration state is read from the store lazily, per measurement time). */
  async start(): Promise<void> {}

  /**
   * The lidar constants for a measurement at `timeMs`: per channel, the latest accepted vertical at
   * or before it and at most calibrationMaxAgeMs older, so a scan gets the same constant however and
   * whenever it was delivered (out of order, again, after a restart). Memory holds the verticals this
   * process stored; the store's are read for the window the measurement needs, and calibrationMaxAgeMs
   * ahead, the first time and whenever a measurement falls outside what was read (a previous process
   * may have stored verticals this one never saw, also after the first item it gets).
   */
  private async constantsAt(station: string, timeMs: number): Promise<Record<string, number>> {
    const s = this.state(station);
    const maxAge = this.o.calibrationMaxAgeMs;
    if (Number.isFinite(timeMs)) {
      const needFrom = timeMs - maxAge;
      const needTo = timeMs + 1;
      if (needFrom < s.loadedFromMs || needTo > s.loadedToMs) {
        // The parts of [needFrom, needTo + maxAge) not read yet (all of it the first time).
        const from = Math.min(needFrom, s.loadedFromMs);
        const to = Math.max(needTo + maxAge, s.loadedToMs);
        const parts = s.loadedFromMs > s.loadedToMs ? [[from, to]] : [[from, s.loadedFromMs], [s.loadedToMs, to]].filter(([a, b]) => b > a);
        for (const [fromMs, toMs] of parts) {
          const metas = await this.retrying(station, 'store read (calibration)', () => this.o.store.profiles({ station, mode: 'vertical', fromMs, toMs, limit: 100_000 }));
          for (const m of metas) if (m.lidarConstant > 0) this.remember(s, m.channel, m.timeMs, m.lidarConstant);
        }
        s.loadedFromMs = from;
        s.loadedToMs = to;
      }
    }
    const out: Record<string, number> = {};
    for (const [ch, list] of Object.entries(s.calibrations)) {
      for (let i = list.length - 1; i >= 0; i--) {
        if (list[i].timeMs <= timeMs && timeMs - list[i].timeMs <= maxAge) {
          out[ch] = list[i].value;
          break;
        }
      }
    }
    return out;
  }

  private remember(s: StationState, channel: string, timeMs: number, value: number): void {
    const list = (s.calibrations[channel] ??= []);
    if (list.some((c) => c.timeMs === timeMs)) return;
    list.push({ timeMs, value });
    list.sort((a, b) => a.timeMs - b.timeMs);
    if (list.length > MAX_REMEMBERED_CALIBRATIONS) {
      // Memory is no longer complete before the next oldest: a measurement there reads the store again.
      list.shift();
      s.loadedFromMs = Math.max(s.loadedFromMs, list[0].timeMs);
    }
  }

  private async accept(event: SourceEvent): Promise<void> {
    if (event.type === 'reject') {
      const r = event.reject;
      this.quarantine({ bytes: r.bytes, error: r.error, origin: r.origin, station: r.station, receivedMs: r.receivedMs });
      return;
    }
    const item = event.item;
    if (this.stopping) throw new LidarError('LIDAR_ERR_IO', 'pipeline is stopping; item not accepted (it stays with its source)');
    if (item.station === null || !(item.station in this.o.stations)) {
      const known = Object.keys(this.o.stations).join(', ');
      const err = new LidarError('LIDAR_ERR_NOT_FOUND', `unknown station ${JSON.stringify(item.station)} (configured: ${known})`, { file: item.name ?? item.origin, field: 'station' });
      this.state(item.station ?? UNKNOWN).h.received++;
      await this.quarantineAndAck(item, err);
      return;
    }
    while (this.queued >= this.o.queueCapacity) await new Promise<void>((r) => this.spaceWaiters.push(r));
    const s = this.state(item.station);
    s.h.received++;
    s.queue.push(item);
    this.queued++;
    this.schedule(item.station);
  }

  private schedule(station: string): void {
    const s = this.state(station);
    while (s.queue.length > 0 && s.inFlight < this.o.perStationConcurrency) {
      const item = s.queue.shift()!;
      this.queued--;
      this.spaceWaiters.shift()?.();
      s.inFlight++;
      this.running++;
      void this.process(station, item).finally(() => {
        s.inFlight--;
        this.running--;
        this.schedule(station);
        if (this.running === 0 && this.queued === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
    }
  }

  private quarantine(x: { bytes: Uint8Array; error: LidarError; origin: string; station: string | null; receivedMs: number; name?: string }): void {
    const s = this.state(x.station ?? UNKNOWN);
    s.h.quarantined++;
    s.h.lastError = x.error.message;
    this.o.quarantine.put(x);
    this.o.log('warn', `quarantined ${x.name ?? x.origin}: ${x.error.code}: ${x.error.message}`);
    this.emit('quarantined', { station: x.station, origin: x.origin, error: x.error.toJSON() });
  }

  private async quarantineAndAck(item: InputItem, error: LidarError): Promise<void> {
    // Quarantine writes are local files; if even they fail, retry like the store (never ack unkept input).
    await this.retrying(item.station ?? UNKNOWN, 'quarantine', () =>
      this.quarantine({ bytes: item.bytes, error, origin: item.origin, station: item.station, receivedMs: item.receivedMs, name: item.name }),
    );
    await this.ack(item, 'quarantined');
  }

  /**
   * Writes a batch, retrying outages. A store that refuses the batch's values (LIDAR_ERR_BAD_VALUE)
   * would refuse them on every retry and block the station: the item is quarantined with the store's
   * reason instead. Returns false when it was quarantined.
   */
  private async storeOrQuarantine(station: string, item: InputItem, batch: WriteBatch, file?: string): Promise<boolean> {
    try {
      await this.retrying(station, 'store write', () => this.o.store.write(batch), refusedByStore);
      return true;
    } catch (e) {
      if (!refusedByStore(e)) throw e;
      const reason = e as LidarError;
      await this.quarantineAndAck(item, new LidarError(reason.code, `store refused the result: ${reason.message}`, file === undefined ? {} : { file }));
      return false;
    }
  }

  private async ack(item: InputItem, outcome: AckOutcome): Promise<void> {
    try {
      await item.ack(outcome);
    } catch (e) {
      this.o.log('warn', `ack of ${item.origin} failed: ${(e as Error).message} (the source will redeliver; the result is stored idempotently)`);
    }
  }

  /**
   * Runs fn until it succeeds, with backoff; gives up only when the pipeline stops (the item stays
   * unacknowledged) or when `permanent(error)` says a retry would fail the same way.
   */
  private async retrying<T>(station: string, what: string, fn: () => T | Promise<T>, permanent: (e: unknown) => boolean = () => false): Promise<T> {
    let delay = this.o.retryMinMs;
    for (;;) {
      try {
        return await fn();
      } catch (e) {
        const s = this.state(station);
        s.h.lastError = `${what}: ${(e as Error).message}`;
        if (permanent(e)) throw e;
        s.h.retried++;
        if (this.stopping) throw e;
        this.o.log('error', `${what} failed for station ${station}: ${(e as Error).message}; retrying in ${delay} ms`);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(this.o.retryMaxMs, delay * 2);
      }
    }
  }

  private async process(station: string, item: InputItem): Promise<void> {
    try {
      if (item.kind === 'status') await this.processStatus(station, item);
      else await this.processLicel(station, item);
    } catch (e) {
      // Only reached when stopping during a retry: the item stays unacknowledged (redelivered later).
      this.o.log('warn', `${item.origin} left unacknowledged: ${(e as Error).message}`);
    }
  }

  private async processStatus(station: string, item: InputItem): Promise<void> {
    let record;
    try {
      record = parseStatus(item.bytes, station, item.receivedMs, item.name ?? item.origin);
    } catch (e) {
      await this.quarantineAndAck(item, isLidarError(e) ? e : new LidarError('LIDAR_ERR_BAD_VALUE', String(e)));
      return;
    }
    if (!(await this.storeOrQuarantine(station, item, { health: [record] }))) return;
    this.state(station).h.statusRecords++;
    await this.ack(item, 'stored');
    this.emit('status', record);
  }

  private async processLicel(station: string, item: InputItem): Promise<void> {
    const s = this.state(station);
    const { params, paramsId } = this.o.params(station);
    // Without a transport file name (MQTT, serial) the Licel header's own file name is used.
    let name = item.name ?? item.origin;
    let timeMs: number;
    try {
      const header = decodeLicel(item.bytes, name).header;
      timeMs = localToUtcMs(header.startLocal, this.o.stations[station].timezone);
      checkTimes(timeMs, localToUtcMs(header.stopLocal, this.o.stations[station].timezone), item.receivedMs, name);
      if (item.name === undefined && /^[A-Za-z0-9._-]{1,64}$/.test(header.fileName)) name = header.fileName;
    } catch (e) {
      await this.quarantineAndAck(item, isLidarError(e) ? e : new LidarError('LIDAR_ERR_LICEL_FORMAT', String(e), { file: name }));
      return;
    }
    // A different file with the start time of a stored one would overwrite its profiles (same keys):
    // it is quarantined instead. The same file again (a redelivery) is idempotent and goes through.
    const sha256 = createHash('sha256').update(item.bytes).digest('hex');
    const storedSha = s.storedStarts.get(timeMs);
    if (storedSha !== undefined && storedSha !== sha256) {
      s.h.timeConflicts++;
      const iso = new Date(timeMs).toISOString();
      await this.quarantineAndAck(item, new LidarError('LIDAR_ERR_BAD_VALUE', `a different file with the same start time ${iso} is already stored for station ${station}; not overwritten (station clock went back?)`, { file: name, field: 'start time' }));
      return;
    }
    if (timeMs < s.newestStartMs) s.h.outOfOrder++;
    if (!(timeMs <= s.newestStartMs)) s.newestStartMs = timeMs;
    let constants: Record<string, number>;
    try {
      constants = await this.constantsAt(station, timeMs);
    } catch (e) {
      this.o.log('warn', `${item.origin} left unacknowledged: ${(e as Error).message}`);
      return;
    }
    let out: JobOutput;
    try {
      out = await this.o.pool.run({
        bytes: item.bytes,
        name,
        receivedMs: item.receivedMs,
        station: this.o.stations[station],
        params,
        paramsId,
        constants,
        minCalibrationReferenceM: this.o.minCalibrationReferenceM,
      });
    } catch (e) {
      await this.quarantineAndAck(item, isLidarError(e) ? e : new LidarError('LIDAR_ERR_BAD_VALUE', `retrieval failed: ${String(e)}`, { file: name }));
      return;
    }
    // Verticals only: a scan's record carries the constant it was retrieved with, not a new one.
    for (const p of out.profiles) if (p.mode === 'vertical' && p.lidarConstant > 0) this.remember(s, p.channel, p.timeMs, p.lidarConstant);
    s.h.uncalibrated += out.uncalibrated.length;
    s.h.channelErrors += out.channelErrors.length;
    for (const ce of out.channelErrors) this.o.log('warn', `${name} channel ${ce.channel}: ${ce.error.message}`);
    if (this.o.archiveDir) {
      const dir = join(this.o.archiveDir, station, new Date(Number.isFinite(out.timeMs) ? out.timeMs : item.receivedMs).toISOString().slice(0, 10));
      await this.retrying(station, 'raw archive write', () => writeDurable(dir, name, item.bytes));
    }
    // The header's housekeeping (licel.*) is stored with the products, also for a file that gave none (uncalibrated scan).
    const batch: WriteBatch = { profiles: out.profiles, cells: out.cells, health: out.health ? [out.health] : [] };
    if ((out.profiles.length > 0 || out.health) && !(await this.storeOrQuarantine(station, item, batch, name))) return;
    if (out.profiles.length > 0) {
      s.storedStarts.delete(timeMs);
      s.storedStarts.set(timeMs, sha256);
      if (s.storedStarts.size > RECENT_STARTS) s.storedStarts.delete(s.storedStarts.keys().next().value!);
    }
    s.h.processed++;
    if (Number.isFinite(out.timeMs)) {
      const lag = item.receivedMs - out.timeMs;
      s.h.lastLagMs = lag;
      s.lags.push(lag);
      if (s.lags.length > 100) s.lags.shift();
      if (out.profiles.length > 0 && !(out.timeMs <= s.h.lastProfileMs)) s.h.lastProfileMs = out.timeMs;
    }
    const summary = { station, file: name, time: Number.isFinite(out.timeMs) ? new Date(out.timeMs).toISOString() : null, channels: out.summary, uncalibrated: out.uncalibrated };
    // Announced before the ack: a crash in between redelivers the item and announces it again (at
    // least once). Bounded wait: the store, not the announcement, is the record.
    if (this.o.announce && out.profiles.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no PUBACK within ${ANNOUNCE_TIMEOUT_MS} ms`)), ANNOUNCE_TIMEOUT_MS);
      });
      await Promise.race([this.o.announce(station, summary), timeout])
        .catch((e: Error) => this.o.log('warn', `product announcement for ${name} failed: ${e.message}`))
        .finally(() => clearTimeout(timer));
    }
    await this.ack(item, 'stored');
    this.emit('stored', { ...summary, ids: out.profiles.map((p) => p.id), cells: out.cells.length });
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.running === 0 && this.queued === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Stops accepting items and waits for what is queued and running (store retries give up after `graceMs`). */
  async stop(graceMs = 10_000): Promise<void> {
    const timer = setTimeout(() => {
      this.stopping = true;
    }, graceMs);
    await this.idle();
    clearTimeout(timer);
    this.stopping = true;
    for (const w of this.spaceWaiters.splice(0)) w();
  }

  health(): Record<string, StationHealth> {
    const now = this.o.now();
    const out: Record<string, StationHealth> = {};
    for (const [id, s] of this.states) {
      out[id] = {
        ...s.h,
        queueDepth: s.queue.length,
        inFlight: s.inFlight,
        maxLagMs: s.lags.length > 0 ? Math.max(...s.lags) : NaN,
        lastProfileAgeMs: Number.isFinite(s.h.lastProfileMs) ? now - s.h.lastProfileMs : NaN,
        constants: Object.fromEntries(Object.entries(s.calibrations).map(([ch, l]) => [ch, l[l.length - 1].value])),
      };
    }
    return out;
  }

  /** Queue depths over all stations and of the worker pool. */
  depths(): { queued: number; running: number; pool: number } {
    return { queued: this.queued, running: this.running, pool: this.o.pool.depth() };
  }
}

/** How long the pipeline waits for a product announcement (MQTT PUBACK) before acknowledging anyway. */
const ANNOUNCE_TIMEOUT_MS = 5000;

/** Longest measurement one file may span, and how far ahead of the arrival clock it may claim to be. */
const MAX_DURATION_MS = 86_400_000;
const MAX_CLOCK_AHEAD_MS = 3_600_000;

/** Rejects headers whose times cannot be right (the file would be stored at a wrong time). */
function checkTimes(startMs: number, stopMs: number, receivedMs: number, file: string): void {
  const iso = (t: number) => new Date(t).toISOString();
  if (stopMs < startMs) throw new LidarError('LIDAR_ERR_LICEL_FORMAT', `impossible header: stop ${iso(stopMs)} before start ${iso(startMs)}`, { file, field: 'stop time' });
  if (stopMs - startMs > MAX_DURATION_MS) throw new LidarError('LIDAR_ERR_LICEL_FORMAT', `impossible header: the measurement spans ${((stopMs - startMs) / 3_600_000).toFixed(1)} h (at most 24 h)`, { file, field: 'stop time' });
  if (startMs > receivedMs + MAX_CLOCK_AHEAD_MS) throw new LidarError('LIDAR_ERR_LICEL_FORMAT', `impossible header: start ${iso(startMs)} is after its arrival ${iso(receivedMs)} (station clock or time zone wrong?)`, { file, field: 'start time' });
}

function writeDurable(dir: string, name: string, bytes: Uint8Array): void {
  mkdirSync(dir, { recursive: true });
  writeFileDurable(join(dir, safeFileName(name, 120, 'file')), bytes);
}
