/**
 * In-process replay source: plays a folder of recorded Licel files straight into the pipeline, with
 * their pacing (ingest/replay.ts), as if a station were sending them. This is what `npm start` runs
 * without configuration: the Sofia winter scenario, looping, shifted to now.
 */
import { loadReplayFiles, replay, replayPeriodMs, type ReplayTarget } from './replay.js';
import type { Source, SourceSink } from './source.js';

export interface ReplaySourceOptions {
  dir: string;
  station: string;
  timeZone: string;
  speed: number;
  loop: boolean;
  shiftToNow: boolean;
  /**
   * Before playing live, play one pass as fast as possible re-stamped to end now, so the store holds
   * the last recording period at once (the map and curtains have data from the first minute).
   * Needs shiftToNow.
   */
  backfill?: boolean;
  log?: (message: string) => void;
}

export class ReplaySource implements Source {
  readonly name: string;
  private abort = new AbortController();
  private done: Promise<void> | null = null;
  private sent = 0;
  private playing = false;

  constructor(private readonly o: ReplaySourceOptions) {
    this.name = `replay:${o.dir}`;
  }

  async start(sink: SourceSink): Promise<void> {
    const files = await loadReplayFiles(this.o.dir, this.o.timeZone, (name, why) => this.o.log?.(`replay ${this.o.dir}: skipping ${name}: ${why}`));
    const target: ReplayTarget = {
      description: 'pipeline',
      send: (station, name, bytes) =>
        sink({ type: 'item', item: { kind: 'licel', station, bytes, name, origin: `replay:${this.o.dir}/${name}`, receivedMs: Date.now(), ack: () => undefined } }),
      close: async () => undefined,
    };
    this.playing = true;
    const common = { station: this.o.station, timeZone: this.o.timeZone, signal: this.abort.signal, onSent: () => void this.sent++ };
    const backfill = this.o.backfill && this.o.shiftToNow;
    const now = Date.now();
    this.done = (backfill ? replay(files, target, { ...common, speed: 0, startAtMs: now - replayPeriodMs(files) }) : Promise.resolve(0))
      .then(() => replay(files, target, { ...common, speed: this.o.speed, loop: this.o.loop, ...(backfill ? { startAtMs: now } : { shiftToNow: this.o.shiftToNow }) }))
      .then(() => undefined)
      .catch((e: Error) => this.o.log?.(`replay ${this.o.dir} stopped: ${e.message}`))
      .finally(() => {
        this.playing = false;
      });
  }

  /** Resolves when the files are played (never, with loop, until stop()). */
  finished(): Promise<void> {
    return this.done ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.done;
  }

  connected(): boolean {
    return this.playing;
  }

  stats(): Record<string, number> {
    return { received: this.sent };
  }
}
