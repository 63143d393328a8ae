/**
 * `lidar-pm token NAME [--scopes params,preview,jobs,calibrate,aq]`: prints a new random bearer token for
 * the API's write routes and the entry for the configuration, which keeps only the token's SHA-256
 * (api/auth.ts). The token is shown once; store it where the client needs it.
 * Exit 0 ok, 2 bad usage.
 */
import { parseArgs } from 'node:util';
import { LidarError } from '../../processing/errors.js';
import { newToken, SCOPES } from '../../api/auth.js';
import type { Command } from '../command.js';

export const tokenCommand: Command = async (args) => {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { scopes: { type: 'string' }, json: { type: 'boolean', default: false } }, strict: true });
  if (positionals.length !== 1) throw new LidarError('LIDAR_ERR_USAGE', 'usage: lidar-pm token NAME [--scopes params,preview,jobs,calibrate,aq] [--json]', { field: 'NAME' });
  const name = positionals[0];
  if (!/^[A-Za-z0-9._@-]{1,64}$/.test(name)) throw new LidarError('LIDAR_ERR_USAGE', `invalid token name ${JSON.stringify(name)} (1-64 letters, digits, . _ @ -)`, { field: 'NAME' });
  let scopes: string[] | undefined;
  if (values.scopes !== undefined) {
    scopes = values.scopes.split(',').map((s) => s.trim()).filter((s) => s !== '');
    const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
    if (scopes.length === 0 || unknown.length > 0) throw new LidarError('LIDAR_ERR_USAGE', `invalid --scopes ${JSON.stringify(values.scopes)} (known: ${SCOPES.join(', ')})`, { field: '--scopes' });
  }
  const { token, sha256 } = newToken();
  const entry = { name, sha256, ...(scopes ? { scopes } : {}) };
  if (values.json) {
    process.stdout.write(JSON.stringify({ token, config: entry }) + '\n');
    return 0;
  }
  process.stdout.write(
    [
      `token:  ${token}`,
      `sha256: ${sha256}`,
      '',
      'Give the token to the client (Authorization: Bearer <token>); it is not stored anywhere.',
      'Add this entry to the API tokens of the configuration:',
      `  ${JSON.stringify(entry)}`,
      '',
    ].join('\n'),
  );
  return 0;
};
