/**
 * Serialized responses with their ETag, and conditional replies.
 *
 * `ResponseCache` keeps the bodies of the hot "latest" responses (map, scan, AQ stations) per key,
 * until the pipeline stores something for the station (invalidateStation(), called on the 'stored'
 * event), or at most `ttlMs` (the latest scan also changes as the look-back window moves). Misses for
 * the same key share one computation (no stampede after an invalidation), and a computation that
 * started before an invalidation is not cached. Bounded to `maxEntries` (oldest dropped).
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface Cached {
  body: Buffer;
  /** gzip of the body (computed for bodies >= 1 KiB). */
  gzip: Buffer | null;
  etag: string;
  contentType: string;
}

export function etagOf(body: Buffer | string): string {
  return `"${createHash('sha1').update(body).digest('base64url')}"`;
}

export function makeCached(body: Buffer | string, contentType: string, compress = true): Cached {
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return { body: buf, gzip: compress && buf.length >= 1024 ? gzipSync(buf, { level: 6 }) : null, etag: etagOf(buf), contentType };
}

interface Entry {
  value: Cached;
  expiresMs: number;
  station: string;
}

export class ResponseCache {
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<Cached>>();
  private readonly generation = new Map<string, number>();
  hits = 0;
  misses = 0;

  constructor(
    private readonly ttlMs = 10_000,
    private readonly maxEntries = 512,
  ) {}

  async get(station: string, key: string, compute: () => Promise<Cached>): Promise<Cached> {
    const now = Date.now();
    const e = this.entries.get(key);
    if (e && e.expiresMs > now) {
      this.hits++;
      return e.value;
    }
    const running = this.pending.get(key);
    if (running) return running;
    this.misses++;
    const gen = this.generation.get(station) ?? 0;
    const p = compute()
      .then((value) => {
        if ((this.generation.get(station) ?? 0) === gen) {
          if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
          this.entries.set(key, { value, expiresMs: Date.now() + this.ttlMs, station });
        }
        return value;
      })
      .finally(() => this.pending.delete(key));
    this.pending.set(key, p);
    return p;
  }

  invalidateStation(station: string): void {
    this.generation.set(station, (this.generation.get(station) ?? 0) + 1);
    for (const [k, e] of this.entries) if (e.station === station) this.entries.delete(k);
    for (const k of this.pending.keys()) if (k.startsWith(`${station}\u0000`)) this.pending.delete(k);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The cache key of a station's response. */
export function cacheKey(station: string, ...parts: string[]): string {
  return [station, ...parts].join('\u0000');
}

function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  const strong = etag.replace(/^W\//, '');
  return ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === strong);
}

function acceptsGzip(req: FastifyRequest): boolean {
  const ae = req.headers['accept-encoding'];
  return typeof ae === 'string' && /\bgzip\b/.test(ae) && !/\bgzip;\s*q=0(\.0*)?\b/.test(ae);
}

/**
 * Sends a cached body with its ETag and Cache-Control; 304 without a body when If-None-Match
 * matches; the gzip form when the client accepts it.
 */
export function sendCached(req: FastifyRequest, reply: FastifyReply, c: Cached, cacheControl: string): FastifyReply {
  reply.header('etag', c.etag).header('cache-control', cacheControl).header('vary', 'Accept-Encoding');
  if (matches(req.headers['if-none-match'], c.etag)) return reply.code(304).send();
  reply.header('content-type', c.contentType);
  if (c.gzip && acceptsGzip(req)) return reply.header('content-encoding', 'gzip').send(c.gzip as never);
  return reply.send(c.body as never);
}

/** Sends an already serialized JSON body (no schema serialization). */
export function sendJsonText(reply: FastifyReply, body: string): FastifyReply {
  return reply.header('content-type', 'application/json; charset=utf-8').send(body as never);
}

/** Short caching of "latest" responses: 10 s fresh, then served stale while revalidating for 30 s. */
export const LATEST_CACHE_CONTROL = 'public, max-age=10, stale-while-revalidate=30';
/** Windows in the past do not change (until reprocessed): a minute; windows reaching now: as latest. */
export function windowCacheControl(toMs: number, nowMs: number): string {
  return toMs < nowMs - 3_600_000 ? 'public, max-age=300, stale-while-revalidate=600' : LATEST_CACHE_CONTROL;
}
