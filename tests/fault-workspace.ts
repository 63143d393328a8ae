// The temporary directory of one fault test file (tests/fault-*.test.ts) and its tear-down.
import { afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A fresh temporary directory (name starting with `prefix`); after all the file's tests, `stop` (what the file
 * started: service, broker, database, device — read when it runs, so later restarts are covered),
 * then the directory goes, unless KEEP_FAULT=1 keeps it for a post-mortem.
 */
export function faultWorkspace(prefix: string, stop: () => Promise<void> | void): string {
  const tmp = mkdtempSync(join(tmpdir(), prefix));
  afterAll(async () => {
    await stop();
    if (!process.env.KEEP_FAULT) rmSync(tmp, { recursive: true, force: true });
  });
  return tmp;
}
