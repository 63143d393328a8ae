/**
 * What every harness needs: free loopback ports, and child servers (plus their temporary folders)
 * that never outlive the test process — SIGKILLed on exit and on SIGINT/SIGTERM/SIGHUP.
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';

const live = new Set<ChildProcess>();
const ownDirs = new Set<string>();
let hooksInstalled = false;

function killAll(): void {
  for (const p of live) {
    try {
      p.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
  for (const d of ownDirs) rmSync(d, { recursive: true, force: true });
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      killAll();
      // Then die of the signal as if nobody had listened (unless someone else handles it).
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    });
  }
}

/** Kills `proc` when this process ends, if it is still running then. */
export function trackChild(proc: ChildProcess): void {
  installHooks();
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
}

/** Removes `dir` when this process ends (unless released first). */
export function trackDir(dir: string): void {
  installHooks();
  ownDirs.add(dir);
}

export function releaseDir(dir: string): void {
  ownDirs.delete(dir);
}

/** A port that was free a moment ago (listen(0) on 127.0.0.1). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
