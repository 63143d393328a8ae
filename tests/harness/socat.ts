/**
 * A real pseudo-terminal pair for serial tests and scripts (STACK.md "Serial without hardware"):
 * `socat -d -d pty,raw,echo=0,link=A pty,raw,echo=0,link=B`; bytes written to one end arrive
 * byte-exact at the other. Ready when socat logs "starting data transfer loop".
 *
 * `startPtyPair(dir?)` or `startPtyPair({ dir, startTimeoutMs, idleTimeoutS })`.
 * `restart()` kills socat (SIGTERM; its links disappear and ports open on them see the device vanish,
 * like a USB unplug) and starts it again with the same link paths (new /dev/pts/N behind them: the
 * replug). `stop()` kills it and removes the directory when the harness created it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { releaseDir, trackChild, trackDir } from './processes.js';

export const SOCAT_BIN = process.env.SOCAT_BIN ?? '/usr/bin/socat';

export interface PtyPair {
  /** Link to one end. */
  a: string;
  /** Link to the other end. */
  b: string;
  /** Kill socat (the ends vanish), wait for it to exit; removes the directory if the harness made it. */
  stop(): Promise<void>;
  /** Kill socat and start it again on the same link paths. */
  restart(): Promise<void>;
  /** socat's stderr so far (for failure messages). */
  log(): string;
}

export interface PtyPairOptions {
  /** Directory for the links (kept on stop); default a new temporary directory (removed on stop). */
  dir?: string;
  /** ms to wait for "starting data transfer loop" (default 10 s). */
  startTimeoutMs?: number;
  /**
   * socat exits after this many seconds without traffic (`-T`), a backstop for a parent killed
   * with SIGKILL (default 600; 0 = never).
   */
  idleTimeoutS?: number;
}

export async function startPtyPair(dirOrOptions?: string | PtyPairOptions): Promise<PtyPair> {
  if (!existsSync(SOCAT_BIN)) throw new Error(`socat not found at ${SOCAT_BIN} (Debian package socat)`);
  const opts: PtyPairOptions = typeof dirOrOptions === 'string' ? { dir: dirOrOptions } : (dirOrOptions ?? {});
  const dir = opts.dir;
  const startTimeoutMs = opts.startTimeoutMs ?? 10_000;
  const idleTimeoutS = opts.idleTimeoutS ?? 600;
  const ownDir = dir === undefined;
  const base = dir ?? mkdtempSync(join(tmpdir(), 'lidar-pm-pty-'));
  const a = join(base, 'ttyA');
  const b = join(base, 'ttyB');
  if (ownDir) trackDir(base);
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let logText = '';

  const launch = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const idle = idleTimeoutS > 0 ? ['-T', String(idleTimeoutS)] : [];
      const proc = spawn(SOCAT_BIN, ['-d', '-d', ...idle, `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child = proc;
      trackChild(proc);
      exited = new Promise<void>((res) => proc.once('exit', () => res()));
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        proc.kill('SIGKILL');
        reject(new Error(`socat did not start within ${startTimeoutMs} ms:\n${logText}`));
      }, startTimeoutMs);
      proc.once('error', (e) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(e);
      });
      proc.once('exit', (code, sig) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(new Error(`socat exited (code ${code}, signal ${sig}) before it was ready:\n${logText}`));
      });
      proc.stderr?.setEncoding('utf8');
      proc.stderr?.on('data', (s: string) => {
        logText += s;
        if (!settled && logText.includes('starting data transfer loop')) {
          settled = true;
          clearTimeout(timer);
          resolve();
        }
      });
    });

  const kill = async (): Promise<void> => {
    const proc = child as ChildProcess | null;
    child = null;
    if (proc === null || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    await exited;
  };

  await launch();
  return {
    a,
    b,
    async stop() {
      await kill();
      if (ownDir) {
        rmSync(base, { recursive: true, force: true });
        releaseDir(base);
      }
    },
    async restart() {
      await kill();
      await launch();
    },
    log: () => logText,
  };
}
