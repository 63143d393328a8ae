/**
 * What every route module gets: the context, the shared caches, the job runner, the event hub, the
 * token check. Built once per server by server.ts.
 */
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault, onRequestHookHandler } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from './context.js';
import type { ResponseCache } from './cache.js';
import type { ChannelDirectory } from './channels.js';
import type { JobRunner } from './jobs.js';
import type { EventHub } from './sse.js';
import type { HttpMetrics } from './metrics.js';
import type { Scope } from './auth.js';

export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

export type Log = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface ApiState {
  ctx: ApiContext;
  cache: ResponseCache;
  channels: ChannelDirectory;
  jobs: JobRunner;
  hub: EventHub;
  http: HttpMetrics;
  log: Log;
  /** onRequest hook: 401 without a valid bearer token, 403 without the scope. */
  requireScope(scope: Scope): onRequestHookHandler;
  /** Drops the station's cached responses (new data stored). */
  invalidate(station: string): void;
}

/** OpenAPI security requirement of the write routes. */
export const BEARER = [{ bearerAuth: [] as string[] }];
