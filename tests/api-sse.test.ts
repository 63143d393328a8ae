// Server-sent events over a real HTTP connection (the API listening on a free port): a file pushed
// through the real pipeline is announced as a `stored` event, reprocessing progress as `job` events,
// heartbeats arrive, the station filter works, and a client that disconnects is removed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get as httpGet, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createApi, type ApiHandle } from '../api/server.js';
import { buildApiFixture, WINTER_FILES, type ApiFixture } from './api-fixture.js';

let f: ApiFixture;
let app: FastifyInstance & ApiHandle;
let base: string;
beforeAll(async () => {
  f = await buildApiFixture({ files: WINTER_FILES.slice(0, 40) });
  app = await createApi(f.ctx, { sseHeartbeatMs: 200 });
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await app?.close();
  await f?.close();
});

interface Frame {
  event: string | null;
  id: string | null;
  data: unknown;
  comment: string | null;
}

/** An EventSource-like reader of text/event-stream frames. */
class Stream {
  readonly frames: Frame[] = [];
  res!: IncomingMessage;
  ended = false;
  private buf = '';
  private waiters: Array<() => void> = [];

  static open(url: string): Promise<Stream> {
    const s = new Stream();
    return new Promise((resolve, reject) => {
      const req = httpGet(url, { headers: { accept: 'text/event-stream' } }, (res) => {
        s.res = res;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => s.push(chunk));
        res.on('end', () => {
          s.ended = true;
          s.wake();
        });
        resolve(s);
      });
      req.on('error', reject);
    });
  }

  private push(chunk: string): void {
    this.buf += chunk;
    let k: number;
    while ((k = this.buf.indexOf('\n\n')) >= 0) {
      const block = this.buf.slice(0, k);
      this.buf = this.buf.slice(k + 2);
      const f: Frame = { event: null, id: null, data: null, comment: null };
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) f.comment = line.slice(1).trim();
        else if (line.startsWith('event: ')) f.event = line.slice(7);
        else if (line.startsWith('id: ')) f.id = line.slice(4);
        else if (line.startsWith('data: ')) f.data = JSON.parse(line.slice(6));
      }
      this.frames.push(f);
    }
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  async until(pred: (frames: Frame[]) => boolean, timeoutMs = 20_000): Promise<void> {
    const t0 = Date.now();
    while (!pred(this.frames)) {
      if (this.ended) throw new Error('stream ended');
      if (Date.now() - t0 > timeoutMs) throw new Error(`timed out; frames: ${JSON.stringify(this.frames.map((x) => x.event ?? x.comment))}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  close(): void {
    this.res.destroy();
  }
}

async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('server-sent events', () => {
  it('announces a profile stored by the pipeline, with heartbeats, and forgets a client that leaves', async () => {
    const s = await Stream.open(`${base}/api/v1/events`);
    try {
      expect(s.res.statusCode).toBe(200);
      expect(s.res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      expect(s.res.headers['cache-control']).toBe('no-cache, no-transform');
      expect(s.res.headers['content-security-policy']).toMatch(/default-src 'self'/);
      await until(() => app.state.hub.size === 1);
      const file = WINTER_FILES[45]; // a 2 deg scan step after the first vertical
      await f.feed([file]);
      await s.until((fr) => fr.some((x) => x.event === 'stored'));
      const stored = s.frames.find((x) => x.event === 'stored')!;
      const data = stored.data as { station: string; file: string; ids: string[]; cells: number; channels: Array<{ channel: string }> };
      expect(data.station).toBe('sofia');
      expect(data.file).toBe(file);
      expect(data.ids.length).toBeGreaterThan(0);
      expect(data.cells).toBeGreaterThan(0);
      // The announced profile is readable at once.
      const r = await fetch(`${base}/api/v1/profiles/${data.ids[0]}`);
      expect(r.status).toBe(200);
      expect(Number(stored.id)).toBeGreaterThan(0);
      await s.until((fr) => fr.some((x) => x.comment?.startsWith('heartbeat') ?? false));
    } finally {
      s.close();
    }
    await until(() => app.state.hub.size === 0);
  });

  it('streams reprocessing progress as job events, and filters by station', async () => {
    const all = await Stream.open(`${base}/api/v1/events?station=sofia`);
    try {
      await until(() => app.state.hub.size === 1);
      const r = await fetch(`${base}/api/v1/jobs/reprocess`, {
        method: 'POST',
        headers: { authorization: `Bearer ${f.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ station: 'sofia', from: '2018-01-19T16:00:00Z', to: '2018-01-19T16:20:00Z', params_id: f.ctx.activeParams.sofia.paramsId }),
      });
      expect(r.status).toBe(202);
      const job = (await r.json()) as { id: string };
      await all.until((fr) => fr.some((x) => x.event === 'job' && (x.data as { id: string; state: string }).id === job.id && (x.data as { state: string }).state === 'done'));
      const states = all.frames.filter((x) => x.event === 'job').map((x) => (x.data as { state: string }).state);
      expect(states[0]).toBe('queued');
      expect(states).toContain('running');
      expect(states[states.length - 1]).toBe('done');
      const last = all.frames.filter((x) => x.event === 'job').pop()!.data as { files_done: number; progress: number };
      expect(last.progress).toBe(1);
      expect(last.files_done).toBeGreaterThan(0);
      // Another station's stream would not get sofia's events; an unknown station is a 404.
      expect((await fetch(`${base}/api/v1/events?station=oslo`)).status).toBe(404);
    } finally {
      all.close();
    }
    await until(() => app.state.hub.size === 0);
  });

  it('closing the server ends open streams', async () => {
    const other = await createApi(f.ctx, { sseHeartbeatMs: 60_000 });
    await other.listen({ port: 0, host: '127.0.0.1' });
    const s = await Stream.open(`http://127.0.0.1:${(other.server.address() as AddressInfo).port}/api/v1/events`);
    await until(() => other.state.hub.size === 1);
    await other.close();
    await until(() => s.ended);
    expect(s.ended).toBe(true);
  });
});
