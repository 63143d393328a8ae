/**
 * Files that are either wholly there or not at all: written to `<path>.tmp`, fsynced, renamed. Used
 * for the quarantine and the raw archive, which must hold an item before its source is acknowledged.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';

export function writeFileDurable(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    if (typeof data === 'string') writeSync(fd, data);
    else writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** A file-name-safe version of `text` (letters, digits, . _ -), at most `max` characters. */
export function safeFileName(text: string, max: number, fallback: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, max) || fallback;
}
