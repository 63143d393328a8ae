/**
 * Coded JSON errors of the API: `{ error: { code, message, field? } }`, never a stack trace or an
 * internal detail (paths, SQL, hosts). `code` is one of the project's LidarError codes
 * (processing/errors.ts); the HTTP status says what kind of failure it is. The one place that maps
 * errors to statuses is `errorResponse()` below (used by the server's error handler).
 */
import { isLidarError, type ErrorCode } from '../processing/errors.js';

/** LidarError code -> HTTP status. */
export const HTTP_STATUS_OF_CODE: Record<ErrorCode, number> = {
  LIDAR_ERR_BAD_VALUE: 400,
  LIDAR_ERR_USAGE: 400,
  LIDAR_ERR_LICEL_FORMAT: 400,
  LIDAR_ERR_BAD_FRAME: 400,
  LIDAR_ERR_NOT_FOUND: 404,
  LIDAR_ERR_IO: 503,
};

export interface ErrorBody {
  error: { code: ErrorCode; message: string; field?: string };
}

/** An error with its HTTP status, thrown by routes and plugins. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (field: string, message: string): HttpError => new HttpError(400, 'LIDAR_ERR_BAD_VALUE', message, field);
export const notFound = (field: string, message: string): HttpError => new HttpError(404, 'LIDAR_ERR_NOT_FOUND', message, field);
export const conflict = (field: string, message: string): HttpError => new HttpError(409, 'LIDAR_ERR_USAGE', message, field);
export const unavailable = (message: string): HttpError => new HttpError(503, 'LIDAR_ERR_IO', message);

const GENERIC_IO = 'a service the API needs (the store or the retrieval workers) is unavailable; try again later';

/** Names of store/ResultStore fields -> the API's query parameter names, for error `field`s. */
const FIELD_ALIASES: Record<string, string> = { fromMs: 'from', toMs: 'to', nowMs: 'at', lookBackMs: 'at', heightMinM: 'height_min_m', heightMaxM: 'height_max_m' };

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message?: string;
  validation?: Array<{ instancePath?: string; message?: string; keyword?: string; params?: Record<string, unknown> }>;
  validationContext?: string;
}

/** "/pm/3/time" -> "pm[3].time" */
function pointerToField(pointer: string): string {
  return pointer
    .split('/')
    .filter((p) => p !== '')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc === '' ? p : `${acc}.${p}`), '');
}

function validationResponse(e: FastifyLikeError): { status: number; body: ErrorBody } {
  const v = e.validation![0];
  const params = v.params ?? {};
  let field = pointerToField(v.instancePath ?? '');
  const join = (name: string) => (field === '' ? name : `${field}.${name}`);
  if (typeof params.missingProperty === 'string') field = join(params.missingProperty);
  else if (typeof params.additionalProperty === 'string') field = join(params.additionalProperty);
  const where = e.validationContext ?? 'request';
  if (field === '') field = where;
  let detail = v.message ?? 'is invalid';
  if (Array.isArray(params.allowedValues)) detail += ` (${params.allowedValues.map((x) => JSON.stringify(x)).join(', ')})`;
  if (typeof params.additionalProperty === 'string') detail = 'is not a known parameter';
  if (typeof params.missingProperty === 'string') detail = 'is required';
  return { status: 400, body: { error: { code: 'LIDAR_ERR_BAD_VALUE', message: `invalid ${where} ${field}: ${detail}`, field } } };
}

/**
 * The status, body and extra headers for any thrown value. `log` receives the details of server-side
 * failures (5xx), which the client never sees.
 */
export function errorResponse(e: unknown, log: (message: string) => void): { status: number; body: ErrorBody; headers: Record<string, string> } {
  if (e instanceof HttpError) {
    const body: ErrorBody = { error: { code: e.code, message: e.message } };
    if (e.field !== undefined) body.error.field = e.field;
    return { status: e.statusCode, body, headers: e.headers };
  }
  if (isLidarError(e)) {
    const status = HTTP_STATUS_OF_CODE[e.code] ?? 500;
    if (status >= 500) {
      log(`${e.code}: ${e.message}`);
      return { status, body: { error: { code: e.code, message: GENERIC_IO } }, headers: { 'retry-after': '5' } };
    }
    const body: ErrorBody = { error: { code: e.code, message: e.message } };
    if (e.field !== undefined) body.error.field = FIELD_ALIASES[e.field] ?? e.field;
    return { status, body, headers: {} };
  }
  const f = (e ?? {}) as FastifyLikeError;
  if (Array.isArray(f.validation) && f.validation.length > 0) return { ...validationResponse(f), headers: {} };
  if (f.statusCode === 413 || f.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, body: { error: { code: 'LIDAR_ERR_BAD_VALUE', message: 'request body is larger than the allowed size', field: 'body' } }, headers: {} };
  }
  if (f.statusCode === 415 || f.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return { status: 415, body: { error: { code: 'LIDAR_ERR_BAD_VALUE', message: 'unsupported Content-Type: send application/json', field: 'content-type' } }, headers: {} };
  }
  if (typeof f.statusCode === 'number' && f.statusCode >= 400 && f.statusCode < 500) {
    // Fastify's own client errors (malformed JSON, empty JSON body, bad URL): safe, short messages.
    const isBody = typeof f.code === 'string' && f.code.startsWith('FST_ERR_CTP');
    const message = f.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? 'the JSON body is empty' : isBody || e instanceof SyntaxError ? 'the body is not valid JSON' : 'bad request';
    return { status: f.statusCode, body: { error: { code: 'LIDAR_ERR_BAD_VALUE', message, field: isBody || e instanceof SyntaxError ? 'body' : 'request' } }, headers: {} };
  }
  log(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  return { status: 500, body: { error: { code: 'LIDAR_ERR_IO', message: 'internal error (logged on the server)' } }, headers: {} };
}

/** A server-side message (pipeline last error, job error) made fit for public routes: paths and URLs replaced, cut to 300 characters. */
export function publicMessage(message: string | null | undefined): string | null {
  if (message === null || message === undefined) return null;
  const cleaned = message
    .replace(/[a-z][a-z0-9+.-]*:\/\/[^\s'"]+/gi, '<url>')
    .replace(/(?:[A-Za-z]:)?(?:[\\/][^\s\\/'",:;]+){2,}[\\/]?/g, '<path>');
  return cleaned.length > 300 ? `${cleaned.slice(0, 297)}...` : cleaned;
}
