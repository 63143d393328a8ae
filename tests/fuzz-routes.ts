// The routes of a running API, enumerated from the server itself (not listed by hand), for the
// bad-input and security tests (tests/fuzz-api.test.ts, tests/security.test.ts): a route added later
// is fuzzed and checked for auth without touching those files. No vitest imports here.
import type { FastifyInstance } from 'fastify';

export interface RouteInfo {
  method: string;
  /** Fastify form: /api/v1/stations/:station/map */
  path: string;
  /** The OpenAPI operation, when the route is in the document. */
  op?: OpenApiOperation;
}

export interface OpenApiParameter {
  in: 'path' | 'query' | 'header';
  name: string;
  schema?: Record<string, unknown>;
}

export interface OpenApiOperation {
  parameters?: OpenApiParameter[];
  requestBody?: { content?: Record<string, { schema?: Record<string, unknown> }> };
  security?: unknown[];
}

/**
 * Parses `printRoutes({ commonPrefix: false })`: a tree whose lines are `├── segment (GET, HEAD)`,
 * each segment appended to its parent's path.
 */
export function parseRouteTree(tree: string): Array<{ method: string; path: string }> {
  const out: Array<{ method: string; path: string }> = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^((?:[│ ]   )*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = [...m[1]].length / 4;
    const path = (depth > 0 ? stack[depth - 1] : '') + m[2];
    stack[depth] = path;
    stack.length = depth + 1;
    for (const method of (m[3] ?? '').split(',').map((s) => s.trim()).filter(Boolean)) out.push({ method, path });
  }
  return out;
}

/** Every route of the server with its OpenAPI operation; throws when the two disagree. */
export async function enumerateRoutes(app: FastifyInstance): Promise<RouteInfo[]> {
  const routes = parseRouteTree(app.printRoutes({ commonPrefix: false }));
  const doc = JSON.parse((await app.inject('/docs/json')).body) as { paths: Record<string, Record<string, OpenApiOperation>> };
  const ops = new Map<string, OpenApiOperation>();
  for (const [p, byMethod] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(byMethod)) ops.set(`${method.toUpperCase()} ${p.replace(/\{([^}]+)\}/g, ':$1')}`, op);
  }
  // The tree parser must find every documented route, or it is broken.
  const found = new Set(routes.map((r) => `${r.method} ${r.path}`));
  const missing = [...ops.keys()].filter((k) => !found.has(k));
  if (missing.length > 0) throw new Error(`route tree parse missed documented routes: ${missing.join(', ')}\n${app.printRoutes({ commonPrefix: false })}`);
  return routes.map((r) => ({ ...r, op: ops.get(`${r.method} ${r.path}`) }));
}

/** Methods that change state. */
export const isWriteMethod = (method: string) => !['GET', 'HEAD', 'OPTIONS'].includes(method);

/** Percent-encodes the UTF-8 bytes of `s` (lone surrogates become U+FFFD; encodeURIComponent would throw). */
export function pct(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) out += /[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/** The path with its :params replaced (values URL-encoded unless `raw`). */
export function fillPath(path: string, values: Record<string, string>, raw = false): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => (raw ? values[name] : pct(values[name] ?? 'x')));
}

export const pathParamNames = (path: string): string[] => [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]);

/** A body a route's schema accepts, at least in shape (for auth checks: the token is checked first). */
export function plausibleBody(route: RouteInfo): unknown {
  const schema = route.op?.requestBody?.content?.['application/json']?.schema as { properties?: Record<string, unknown> } | undefined;
  if (!schema) return route.method === 'DELETE' ? undefined : {};
  const body: Record<string, unknown> = {};
  for (const k of Object.keys(schema.properties ?? {})) body[k] = k === 'params' ? {} : k === 'pm' ? [{ time: '2018-01-19T16:00:00Z', pm10: 10 }] : 'x';
  return body;
}
