/**
 * Server-sent events (GET /api/v1/events): one listener per event on the pipeline's emitter and the
 * job runner, fanned out to every connected client as `id`, `event`, `data` (JSON) frames, with a
 * comment line as heartbeat every 15 s (keeps proxies from closing the stream). Clients that stop
 * reading are dropped once more than MAX_BUFFERED_BYTES wait for them; at most MAX_CLIENTS at once.
 *
 * Events: `stored` {station, file, time, channels, ids, cells} per stored Licel file (a new profile
 * or scan step), `status` {station, time, values} per station status record, `quarantined` {station,
 * code}, `job` (a JobView), `params` {station, params_id}.
 */
import type { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';

export const HEARTBEAT_MS = 15_000;
export const MAX_CLIENTS = 1000;
const MAX_BUFFERED_BYTES = 1 << 20;

interface Client {
  res: ServerResponse;
  station: string | null;
}

export type EventFilter = (name: string, payload: Record<string, unknown>) => Record<string, unknown> | null;

/** What goes out for each source event (null = nothing). Keeps internals (paths, messages) off the public stream. */
const PUBLIC_SHAPE: Record<string, EventFilter> = {
  stored: (_, e) => ({ station: e.station, file: e.file, time: e.time, channels: e.channels, uncalibrated: e.uncalibrated, ids: e.ids, cells: e.cells }),
  status: (_, e) => ({ station: e.station, time: typeof e.timeMs === 'number' ? new Date(e.timeMs).toISOString() : null, values: e.values }),
  quarantined: (_, e) => ({ station: e.station, code: (e.error as { code?: string } | undefined)?.code ?? null }),
  job: (_, e) => e,
  params: (_, e) => e,
};

export class EventHub {
  private readonly clients = new Set<Client>();
  private readonly detach: Array<() => void> = [];
  private readonly timer: NodeJS.Timeout;
  private nextId = 1;
  /** Frames written, for metrics/tests. */
  sent = 0;

  constructor(sources: Array<{ emitter: EventEmitter; events: string[] }>, heartbeatMs = HEARTBEAT_MS) {
    for (const { emitter, events } of sources) {
      for (const name of events) {
        const listener = (payload: Record<string, unknown>) => this.broadcast(name, payload);
        emitter.on(name, listener);
        this.detach.push(() => emitter.off(name, listener));
      }
    }
    this.timer = setInterval(() => this.heartbeat(), heartbeatMs);
    this.timer.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Starts the stream on a raw response (headers already chosen by the caller). */
  attach(res: ServerResponse, headers: Record<string, string | number | string[]>, station: string | null): boolean {
    if (this.clients.size >= MAX_CLIENTS) return false;
    res.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: 5000\n: connected ${new Date().toISOString()}\n\n`);
    const client: Client = { res, station };
    this.clients.add(client);
    const drop = () => this.clients.delete(client);
    res.once('close', drop);
    res.once('error', drop);
    return true;
  }

  broadcast(name: string, payload: Record<string, unknown>): void {
    if (this.clients.size === 0) return;
    const shape = PUBLIC_SHAPE[name];
    const data = shape ? shape(name, payload ?? {}) : null;
    if (!data) return;
    const station = typeof data.station === 'string' ? data.station : null;
    const frame = `id: ${this.nextId++}\nevent: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of this.clients) {
      if (c.station !== null && station !== null && c.station !== station) continue;
      this.write(c, frame);
    }
  }

  private write(c: Client, frame: string): void {
    if (c.res.writableLength > MAX_BUFFERED_BYTES) {
      this.clients.delete(c);
      c.res.destroy();
      return;
    }
    c.res.write(frame);
    this.sent++;
  }

  private heartbeat(): void {
    const frame = `: heartbeat ${new Date().toISOString()}\n\n`;
    for (const c of this.clients) this.write(c, frame);
  }

  /** Ends every stream and removes the listeners. */
  close(): void {
    clearInterval(this.timer);
    for (const d of this.detach.splice(0)) d();
    for (const c of this.clients) c.res.end();
    this.clients.clear();
  }
}
