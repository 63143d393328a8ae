/**
 * The API in-process over a built fixture (tests/api-fixture.ts), for the tests that inject requests
 * (tests/api-read.test.ts, tests/api-channel-health.test.ts): the Fastify app, the OpenAPI document
 * it publishes at /docs/json, and a check of a body against that document's schema for a route.
 */
import { Ajv } from 'ajv';
import { expect } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createApi } from '../../api/server.js';
import { buildApiFixture, type ApiFixture, type FixtureOptions } from '../api-fixture.js';

export interface OpenApiDocument {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>>;
}

export interface ApiApp {
  f: ApiFixture;
  app: FastifyInstance;
  openapi: OpenApiDocument;
  /** Closes the app, then the fixture. */
  close(): Promise<void>;
}

/** Builds the fixture (buildApiFixture), the app over its context and reads the OpenAPI document it serves. */
export async function startApiApp(options?: FixtureOptions): Promise<ApiApp> {
  const f = await buildApiFixture(options);
  let app: FastifyInstance | null = null;
  try {
    app = await createApi(f.ctx);
    const openapi = JSON.parse((await app.inject('/docs/json')).body) as OpenApiDocument;
    const a = app;
    return {
      f,
      app: a,
      openapi,
      async close() {
        await a.close();
        await f.close();
      },
    };
  } catch (e) {
    await app?.close();
    await f.close();
    throw e;
  }
}

const ajv = new Ajv({ strict: false, allErrors: true });
/** The body validated against the schema the OpenAPI document gives for that route, method and status. */
export function expectMatchesOpenApi(openapi: OpenApiDocument, route: string, method: string, body: unknown, status = '200'): void {
  const schema = openapi.paths[route]?.[method]?.responses[status]?.content?.['application/json']?.schema;
  expect(schema, `schema of ${method} ${route} ${status}`).toBeDefined();
  const ok = ajv.validate(schema!, body);
  expect(ajv.errors ?? [], `${method} ${route}`).toEqual([]);
  expect(ok).toBe(true);
}
