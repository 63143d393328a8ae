/**
 * Bearer tokens for the write routes. Configured tokens are stored as hex SHA-256 only
 * (ctx.settings.tokens); a presented token is hashed and compared with every configured hash in
 * constant time (crypto.timingSafeEqual over all entries, no early exit). Optional scopes per token;
 * a token without `scopes` may do everything.
 *
 * 401: no token, a malformed header or an unknown token (WWW-Authenticate: Bearer). 403: a known
 * token without the route's scope.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { LidarError } from '../processing/errors.js';
import type { ApiToken } from './context.js';
import { HttpError } from './errors.js';

export const SCOPES = ['params', 'preview', 'jobs', 'calibrate', 'aq'] as const;
export type Scope = (typeof SCOPES)[number];

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

/** A new random bearer token ("lpm_" + 32 random bytes, base64url) and its SHA-256 for the config. */
export function newToken(): { token: string; sha256: string } {
  const token = `lpm_${randomBytes(32).toString('base64url')}`;
  return { token, sha256: sha256Hex(token) };
}

interface KnownToken {
  name: string;
  hash: Buffer;
  scopes: ReadonlySet<string> | null;
}

export interface Principal {
  name: string;
}

export type Authenticator = (authorization: string | undefined, scope: Scope) => Principal;

/** Checks the configured tokens (BAD_VALUE naming the entry) and returns the request check. */
export function createAuthenticator(tokens: readonly ApiToken[]): Authenticator {
  const known: KnownToken[] = tokens.map((t, i) => {
    if (typeof t.sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(t.sha256)) {
      throw new LidarError('LIDAR_ERR_BAD_VALUE', `token ${JSON.stringify(t.name)}: sha256 must be 64 hex characters (lidar-pm token NAME prints one)`, { field: `tokens[${i}].sha256` });
    }
    for (const s of t.scopes ?? []) {
      if (!(SCOPES as readonly string[]).includes(s)) throw new LidarError('LIDAR_ERR_BAD_VALUE', `token ${JSON.stringify(t.name)}: unknown scope ${JSON.stringify(s)} (known: ${SCOPES.join(', ')})`, { field: `tokens[${i}].scopes` });
    }
    return { name: t.name, hash: Buffer.from(t.sha256, 'hex'), scopes: t.scopes ? new Set(t.scopes) : null };
  });
  const challenge = 'Bearer realm="lidar-pm"';
  return (authorization, scope) => {
    const m = typeof authorization === 'string' ? /^Bearer ([\x21-\x7e]{1,512})$/.exec(authorization) : null;
    if (!m) {
      throw new HttpError(401, 'LIDAR_ERR_USAGE', authorization === undefined ? 'this route needs a bearer token (Authorization: Bearer <token>)' : 'malformed Authorization header (expected "Bearer <token>")', 'authorization', { 'www-authenticate': challenge });
    }
    const presented = createHash('sha256').update(m[1], 'utf8').digest();
    let match: KnownToken | null = null;
    for (const k of known) {
      // Every entry is compared (no early exit), each comparison in constant time.
      if (timingSafeEqual(presented, k.hash) && match === null) match = k;
    }
    if (!match) throw new HttpError(401, 'LIDAR_ERR_USAGE', 'unknown bearer token', 'authorization', { 'www-authenticate': `${challenge}, error="invalid_token"` });
    if (match.scopes && !match.scopes.has(scope)) throw new HttpError(403, 'LIDAR_ERR_USAGE', `token ${JSON.stringify(match.name)} lacks the scope "${scope}"`, 'authorization');
    return { name: match.name };
  };
}
