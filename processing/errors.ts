/**
 * The project's coded errors. One class, a small closed set of codes (documented in docs/errors.md).
 * Messages name the bad value; `file`, `offset` (bytes) and `field` locate it where they apply.
 * Pure: used by the retrieval core in Node and in the browser.
 */
export const ERROR_CODES = {
  /** A Licel file that is truncated, garbled or inconsistent (bad number, missing CRLF, size mismatch). */
  LIDAR_ERR_LICEL_FORMAT: 'bad Licel raw file',
  /** A value outside its valid domain (a parameter, a station setting, an argument). */
  LIDAR_ERR_BAD_VALUE: 'invalid value',
  /** Command-line usage errors. */
  LIDAR_ERR_USAGE: 'bad usage',
  /** An unknown name (scenario, station, channel, product). */
  LIDAR_ERR_NOT_FOUND: 'not found',
  /** A serial/MQTT frame that fails its length or CRC check. */
  LIDAR_ERR_BAD_FRAME: 'bad frame',
  /** Input/output failure (file system, network). */
  LIDAR_ERR_IO: 'input/output failure',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorLocation {
  /** File name (or message id) the bad input came from. */
  file?: string;
  /** Byte offset into the file where the problem was found. */
  offset?: number;
  /** Name of the field (header token, parameter path) that is bad. */
  field?: string;
}

export class LidarError extends Error {
  readonly code: ErrorCode;
  readonly file?: string;
  readonly offset?: number;
  readonly field?: string;

  constructor(code: ErrorCode, detail: string, where: ErrorLocation = {}) {
    super(formatMessage(detail, where));
    this.name = 'LidarError';
    this.code = code;
    if (where.file !== undefined) this.file = where.file;
    if (where.offset !== undefined) this.offset = where.offset;
    if (where.field !== undefined) this.field = where.field;
  }

  /** A plain object for JSON logs, quarantine reasons and API error bodies. */
  toJSON(): { code: ErrorCode; message: string; file?: string; offset?: number; field?: string } {
    return { code: this.code, message: this.message, file: this.file, offset: this.offset, field: this.field };
  }
}

function formatMessage(detail: string, where: ErrorLocation): string {
  const parts: string[] = [];
  if (where.file !== undefined) parts.push(where.file);
  if (where.offset !== undefined) parts.push(`byte ${where.offset}`);
  if (where.field !== undefined) parts.push(`field ${where.field}`);
  return parts.length > 0 ? `${parts.join(', ')}: ${detail}` : detail;
}

export function isLidarError(e: unknown): e is LidarError {
  return e instanceof LidarError;
}
