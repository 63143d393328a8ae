/**
 * Folder source: Licel files that acquisition software writes into a directory. A file is taken only
 * when complete: its size and modification time unchanged over `stableMs` (checked by polling every
 * `pollMs`; fs.watch only wakes the poll early, since it is unreliable on network and some local file
 * systems). After the pipeline's ack the file moves to `done/<YYYY-MM-DD>/` ('stored') or
 * `quarantine/` ('quarantined') inside the watched folder; files left behind by a crash are simply
 * taken again at the next start (results are stored idempotently).
 */
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Source, SourceSink } from './source.js';

export interface FolderSourceOptions {
  dir: string;
  station: string | null;
  /** Unchanged size and mtime for this long means complete (ms, default 2000). */
  stableMs?: number;
  pollMs?: number;
  /** Ignore names matching this (default: hidden files and *.tmp / *.part). */
  ignore?: RegExp;
  log?: (message: string) => void;
}

interface Seen {
  size: number;
  mtimeMs: number;
  since: number;
}

const SUBDIRS = new Set(['done', 'quarantine']);

export class FolderSource implements Source {
  readonly name: string;
  private readonly seen = new Map<string, Seen>();
  private readonly taken = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private watcher: FSWatcher | null = null;
  private sink: SourceSink | null = null;
  private scanning: Promise<void> | null = null;
  private running = false;
  private readonly counters = { received: 0, done: 0, quarantined: 0, move_errors: 0, scan_errors: 0 };
  private readonly stableMs: number;
  private readonly pollMs: number;
  private readonly ignore: RegExp;

  constructor(private readonly o: FolderSourceOptions) {
    this.name = `folder:${o.dir}`;
    this.stableMs = o.stableMs ?? 2000;
    this.pollMs = o.pollMs ?? Math.max(100, Math.min(1000, this.stableMs / 2));
    this.ignore = o.ignore ?? /^\.|\.(tmp|part)$/i;
  }

  async start(sink: SourceSink): Promise<void> {
    this.sink = sink;
    this.running = true;
    await mkdir(this.o.dir, { recursive: true });
    try {
      this.watcher = watch(this.o.dir, () => this.kick());
      this.watcher.on('error', () => undefined);
    } catch {
      this.watcher = null; // polling alone still works
    }
    this.timer = setInterval(() => this.kick(), this.pollMs);
    this.kick();
  }

  private kick(): void {
    if (!this.running || this.scanning) return;
    this.scanning = this.scan()
      .catch((e: Error) => {
        this.counters.scan_errors++;
        this.o.log?.(`folder ${this.o.dir}: scan failed: ${e.message}`);
      })
      .finally(() => {
        this.scanning = null;
      });
  }

  private async scan(): Promise<void> {
    const now = Date.now();
    const entries = await readdir(this.o.dir, { withFileTypes: true });
    const present = new Set<string>();
    for (const e of entries) {
      if (!e.isFile() || SUBDIRS.has(e.name) || this.ignore.test(e.name)) continue;
      present.add(e.name);
      if (this.taken.has(e.name)) continue;
      let st;
      try {
        st = await stat(join(this.o.dir, e.name));
      } catch {
        continue; // vanished
      }
      const prev = this.seen.get(e.name);
      if (!prev || prev.size !== st.size || prev.mtimeMs !== st.mtimeMs) {
        this.seen.set(e.name, { size: st.size, mtimeMs: st.mtimeMs, since: now });
        continue;
      }
      if (now - prev.since < this.stableMs || now - st.mtimeMs < this.stableMs) continue;
      if (!this.running) return;
      await this.take(e.name);
    }
    for (const name of this.seen.keys()) if (!present.has(name)) this.seen.delete(name);
  }

  private async take(name: string): Promise<void> {
    const path = join(this.o.dir, name);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(path));
    } catch {
      return;
    }
    this.taken.add(name);
    this.seen.delete(name);
    this.counters.received++;
    await this.sink!({
      type: 'item',
      item: {
        kind: 'licel',
        station: this.o.station,
        bytes,
        origin: `folder:${path}`,
        name,
        receivedMs: Date.now(),
        ack: (outcome) => this.settle(name, outcome === 'stored' ? 'done' : 'quarantine'),
      },
    });
  }

  private async settle(name: string, where: 'done' | 'quarantine'): Promise<void> {
    const day = new Date().toISOString().slice(0, 10);
    const dir = where === 'done' ? join(this.o.dir, 'done', day) : join(this.o.dir, 'quarantine');
    try {
      await mkdir(dir, { recursive: true });
      await rename(join(this.o.dir, name), join(dir, name));
      this.counters[where === 'done' ? 'done' : 'quarantined']++;
    } catch (e) {
      this.counters.move_errors++;
      this.o.log?.(`folder ${this.o.dir}: cannot move ${name} to ${where}/: ${(e as Error).message}`);
    } finally {
      this.taken.delete(name);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.watcher?.close();
    this.watcher = null;
    await this.scanning;
  }

  connected(): boolean {
    return this.running;
  }

  stats(): Record<string, number> {
    return { ...this.counters, pending: this.seen.size, in_flight: this.taken.size };
  }
}
