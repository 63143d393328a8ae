/**
 * A real `influxd` (Debian package `influxdb`, 1.x) for tests and benchmarks: free ports from
 * listen(0), a temporary directory for meta/data/wal, ready when `GET /ping` answers 204.
 *
 *   const db = await startInfluxd();
 *   ... fetch(`${db.url}/query?q=SHOW+DATABASES`) ...
 *   await db.kill();     // SIGKILL, data kept (crash)
 *   await db.restart();  // same port, same data
 *   await db.stop();     // SIGTERM, then removes the temporary directory
 *
 * Every influxd started here is SIGKILLed when the Node process exits, so a failed test run leaves
 * no server behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, trackChild } from './processes.js';

export interface InfluxdOptions {
  /** Use this directory (kept on stop) instead of a fresh temporary one (removed on stop). */
  dataDir?: string;
  /** Path of the influxd binary (default: INFLUXD env var or `influxd` on PATH). */
  binary?: string;
  /** How long to wait for /ping (default 20 s). */
  startTimeoutMs?: number;
  /** Receives influxd's log lines (stderr), e.g. for debugging a test. */
  log?: (line: string) => void;
}

export interface InfluxdHandle {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  dataDir: string;
  /** SIGTERM (SIGKILL after 10 s), then removes the temporary directory (not a caller's dataDir). Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL (a crash); the data stays for restart(). */
  kill(): Promise<void>;
  /** Stops gracefully when running, then starts again on the same port with the same data. */
  restart(): Promise<void>;
  /** SIGTERM and wait; the data stays for restart(). */
  terminate(): Promise<void>;
  /** Whether the process is running. */
  running(): boolean;
}

export { freePort };

function configText(dir: string, httpPort: number, rpcPort: number): string {
  return [
    'reporting-disabled = true',
    `bind-address = "127.0.0.1:${rpcPort}"`,
    '[meta]',
    `  dir = "${join(dir, 'meta')}"`,
    '[data]',
    `  dir = "${join(dir, 'data')}"`,
    `  wal-dir = "${join(dir, 'wal')}"`,
    '  query-log-enabled = false',
    '[monitor]',
    '  store-enabled = false',
    '[http]',
    `  bind-address = "127.0.0.1:${httpPort}"`,
    '  log-enabled = false',
    '[subscriber]',
    '  enabled = false',
    '[continuous_queries]',
    '  enabled = false',
    '',
  ].join('\n');
}

async function waitForPing(url: string, child: ChildProcess, timeoutMs: number, tail: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`influxd exited (${child.exitCode ?? child.signalCode}) before answering /ping:\n${tail()}`);
    }
    try {
      const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 204) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 30));
  }
  throw new Error(`influxd did not answer /ping within ${timeoutMs} ms:\n${tail()}`);
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startInfluxd(opts: InfluxdOptions = {}): Promise<InfluxdHandle> {
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'lidar-influxd-')));
  await mkdir(dataDir, { recursive: true });
  const binary = opts.binary ?? process.env.INFLUXD ?? 'influxd';
  const startTimeoutMs = opts.startTimeoutMs ?? 20_000;
  const port = await freePort();
  let rpcPort = await freePort();
  while (rpcPort === port) rpcPort = await freePort();
  const configPath = join(dataDir, 'influxd.conf');
  await writeFile(configPath, configText(dataDir, port, rpcPort));
  const url = `http://127.0.0.1:${port}`;

  let child: ChildProcess | null = null;
  let logTail: string[] = [];
  let stopped = false;

  const launch = async (): Promise<void> => {
    logTail = [];
    const proc = spawn(binary, ['-config', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    trackChild(proc);
    let partial = '';
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (text: string) => {
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        logTail.push(line);
        if (logTail.length > 40) logTail.shift();
        opts.log?.(line);
      }
    });
    const spawnError = new Promise<never>((_, reject) => proc.once('error', (e) => reject(new Error(`cannot start ${binary}: ${e.message}`))));
    await Promise.race([waitForPing(url, proc, startTimeoutMs, () => logTail.join('\n')), spawnError]);
  };

  const signalAndWait = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    if (proc === null || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = waitExit(proc);
    proc.kill(signal);
    if (signal === 'SIGTERM') {
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    } else {
      await exited;
    }
  };

  try {
    await launch();
  } catch (e) {
    await signalAndWait('SIGKILL');
    if (ownDir) await rm(dataDir, { recursive: true, force: true });
    throw e;
  }

  return {
    url,
    port,
    dataDir,
    running: () => child !== null && child.exitCode === null && child.signalCode === null,
    kill: () => signalAndWait('SIGKILL'),
    terminate: () => signalAndWait('SIGTERM'),
    async restart() {
      if (stopped) throw new Error('influxd handle was stopped; start a new one');
      await signalAndWait('SIGTERM');
      await launch();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await signalAndWait('SIGTERM');
      if (ownDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
