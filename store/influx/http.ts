/**
 * HTTP to InfluxDB's v1-compatible endpoints only (served by 1.x natively and by 2.x/3.x for
 * compatibility): `POST /write?db=&rp=&precision=ms` with line protocol, `POST /query?db=&epoch=ms`
 * with InfluxQL, `GET /ping`. Plain `fetch`.
 *
 * Failures are sorted for the writer (see InfluxHttpError.kind):
 * - 'network': no answer (refused, reset, timeout)      -> retry with backoff, then spool
 * - 'server':  5xx, 429                                   -> retry with backoff, then spool
 * - 'auth':    401, 403                                   -> spool (data kept until the credentials work)
 * - 'missing-database': 404 "database not found"         -> create the schema again, retry
 * - 'data':    400, 413, 422 (unparsable line, field type conflict, point outside the retention
 *              policy, too large): the database will never accept these points; not retried.
 */
import { LidarError } from '../../processing/errors.js';
import type { InfluxQL } from './influxql.js';

export type FailureKind = 'network' | 'server' | 'auth' | 'missing-database' | 'data';

export class InfluxHttpError extends Error {
  constructor(
    readonly kind: FailureKind,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'InfluxHttpError';
  }
}

export interface InfluxHttpOptions {
  url: string;
  username?: string;
  password?: string;
  /** InfluxDB 2.x/3.x token (Authorization: Token ...). */
  token?: string;
  /** Per request (default 30 s). */
  timeoutMs?: number;
}

export interface QuerySeries {
  name?: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
  partial?: boolean;
}

export interface StatementResult {
  statement_id?: number;
  series?: QuerySeries[];
  error?: string;
  partial?: boolean;
}

function classify(status: number, body: string): FailureKind {
  if (status >= 500 || status === 429) return 'server';
  if (status === 401 || status === 403) return 'auth';
  if (status === 404 && /database not found/i.test(body)) return 'missing-database';
  if (status === 404) return 'server';
  return 'data';
}

function errorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; message?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    /* not JSON */
  }
  return body.trim().slice(0, 500);
}

export class InfluxHttp {
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;

  constructor(opts: InfluxHttpOptions) {
    let parsed: URL;
    try {
      parsed = new URL(opts.url);
    } catch {
      throw new LidarError('LIDAR_ERR_BAD_VALUE', `InfluxDB url ${JSON.stringify(opts.url)} is not a URL`, { field: 'url' });
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new LidarError('LIDAR_ERR_BAD_VALUE', `InfluxDB url ${JSON.stringify(opts.url)} must be http(s)`, { field: 'url' });
    }
    this.base = opts.url.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.headers = {};
    if (opts.token !== undefined) this.headers.authorization = `Token ${opts.token}`;
    else if (opts.username !== undefined) {
      this.headers.authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}`;
    }
  }

  get url(): string {
    return this.base;
  }

  private async send(path: string, init: RequestInit): Promise<{ status: number; body: string }> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, { ...init, headers: { ...this.headers, ...(init.headers as Record<string, string> | undefined) }, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      const cause = e instanceof Error ? ((e.cause as Error | undefined)?.message ?? e.message) : String(e);
      throw new InfluxHttpError('network', 0, `InfluxDB at ${this.base} unreachable: ${cause}`);
    }
    const body = await res.text().catch((e: unknown) => {
      throw new InfluxHttpError('network', 0, `InfluxDB at ${this.base}: reading the answer failed: ${e instanceof Error ? e.message : String(e)}`);
    });
    return { status: res.status, body };
  }

  /** Writes line protocol (precision ms) into db/rp. */
  async write(database: string, rp: string, lines: string): Promise<void> {
    const params = new URLSearchParams({ db: database, rp, precision: 'ms' });
    const { status, body } = await this.send(`/write?${params.toString()}`, { method: 'POST', body: lines, headers: { 'content-type': 'text/plain; charset=utf-8' } });
    if (status === 204 || status === 200) return;
    const kind = classify(status, body);
    throw new InfluxHttpError(kind, status, `InfluxDB /write answered ${status}: ${errorText(body)}`);
  }

  /** Runs InfluxQL (one or more statements); statement errors and truncated results throw. */
  async query(database: string | null, q: InfluxQL): Promise<StatementResult[]> {
    const params = new URLSearchParams({ epoch: 'ms' });
    if (database !== null) params.set('db', database);
    const { status, body } = await this.send(`/query?${params.toString()}`, {
      method: 'POST',
      body: new URLSearchParams({ q: q.text }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    if (status !== 200) {
      throw new InfluxHttpError(classify(status, body), status, `InfluxDB /query answered ${status}: ${errorText(body)}`);
    }
    let parsed: { results?: StatementResult[]; error?: string };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      throw new InfluxHttpError('server', status, `InfluxDB /query answered non-JSON: ${body.slice(0, 200)}`);
    }
    if (typeof parsed.error === 'string') throw new InfluxHttpError('data', status, `InfluxDB /query: ${parsed.error}`);
    const results = parsed.results ?? [];
    for (const r of results) {
      if (typeof r.error === 'string') {
        const kind: FailureKind = /database not found/i.test(r.error) ? 'missing-database' : 'data';
        throw new InfluxHttpError(kind, status, `InfluxDB /query statement ${r.statement_id ?? '?'}: ${r.error}`);
      }
      if (r.partial === true || r.series?.some((s) => s.partial === true)) {
        throw new InfluxHttpError('data', status, 'InfluxDB truncated the query result (server max-row-limit); narrow the time window');
      }
    }
    return results;
  }

  /** True when /ping answers 204. */
  async ping(): Promise<boolean> {
    try {
      const { status } = await this.send('/ping', { method: 'GET' });
      return status === 204 || status === 200;
    } catch {
      return false;
    }
  }
}

/** Rows of a series as objects keyed by column name, with the series tags added. */
export function seriesRows(series: QuerySeries): Array<Record<string, unknown>> {
  return series.values.map((values) => {
    const row: Record<string, unknown> = { ...(series.tags ?? {}) };
    series.columns.forEach((c, i) => {
      row[c] = values[i];
    });
    return row;
  });
}

/** The reading-side error for a failed query: LIDAR_ERR_IO naming what was asked. */
export function readError(what: string, e: unknown): LidarError {
  if (e instanceof LidarError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new LidarError('LIDAR_ERR_IO', `${what}: ${message}`);
}
