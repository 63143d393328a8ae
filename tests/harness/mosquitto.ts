/**
 * A real Mosquitto broker for tests and scripts: free port on 127.0.0.1, temporary directory with
 * its config, persistence file and log. STACK.md "Mosquitto": `user root` when run as root (else
 * it drops to user mosquitto and silently fails to save), persistence with autosave_interval 1,
 * max_queued_messages 100000.
 *
 * `stop()` is SIGTERM (the broker saves its persistence file), `kill()` is SIGKILL (only what the last
 * autosave wrote survives), `restart()` stops (SIGTERM) if running and starts again on the same port
 * with the same persistence directory. `cleanup()` stops and removes the directory. Every broker
 * started here is SIGKILLed when the Node process exits (or within a second after it is killed), so a
 * failed run leaves none behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, trackChild } from './processes.js';

export const MOSQUITTO_BIN = process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto';

/**
 * The exit hook above does not run when the test process is SIGKILLed (a vitest timeout, a killed
 * run): a small shell loop then kills the broker within a second. It ends by itself when the broker
 * exits first.
 */
function reapWithParent(proc: ChildProcess): void {
  if (proc.pid === undefined) return;
  const script = `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${proc.pid} 2>/dev/null; do sleep 1; done; kill -0 ${process.pid} 2>/dev/null || kill -9 ${proc.pid} 2>/dev/null`;
  const reaper = spawn('/bin/sh', ['-c', script], { stdio: 'ignore', detached: true });
  reaper.on('error', () => {});
  reaper.unref();
}

export interface MosquittoOptions {
  /** Port to listen on; default a free one. */
  port?: number;
  /** Extra lines appended to mosquitto.conf. */
  extraConfig?: string[];
  /** Milliseconds to wait for the port to accept connections (default 10 s). */
  startTimeoutMs?: number;
}

export interface MosquittoBroker {
  url: string;
  port: number;
  /** Temporary directory: mosquitto.conf, mosquitto.db (persistence), mosquitto.log. */
  dir: string;
  /** SIGTERM and wait for exit (persistence saved). */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
  /** Stop (SIGTERM) if running, start again: same port, same persistence directory. */
  restart(): Promise<void>;
  /** Stop and remove the temporary directory. */
  cleanup(): Promise<void>;
  /** The broker log so far (for failure messages). */
  log(): string;
}

export { freePort };

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = tcpConnect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

function writeConfig(dir: string, port: number, extra: string[]): string {
  const lines = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence true',
    `persistence_location ${dir}/`,
    'persistence_file mosquitto.db',
    'autosave_interval 1',
    'max_queued_messages 100000',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    'connection_messages true',
  ];
  if (typeof process.getuid === 'function' && process.getuid() === 0) lines.push('user root');
  lines.push(...extra);
  const file = join(dir, 'mosquitto.conf');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

export async function startMosquitto(opts: MosquittoOptions = {}): Promise<MosquittoBroker> {
  if (!existsSync(MOSQUITTO_BIN)) throw new Error(`mosquitto not found at ${MOSQUITTO_BIN} (Debian package mosquitto)`);
  const dir = mkdtempSync(join(tmpdir(), 'lidar-pm-mosquitto-'));
  const port = opts.port ?? (await freePort());
  const conf = writeConfig(dir, port, opts.extraConfig ?? []);
  const logFile = join(dir, 'mosquitto.log');
  const startTimeoutMs = opts.startTimeoutMs ?? 10_000;
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let logText = '';

  const launch = async (): Promise<void> => {
    const proc = spawn(MOSQUITTO_BIN, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    trackChild(proc);
    reapWithParent(proc);
    exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    let spawnError: Error | null = null;
    proc.once('error', (e) => (spawnError = e));
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (s: string) => {
      logText += s;
      try {
        appendFileSync(logFile, s);
      } catch {
        /* the directory may be gone during cleanup */
      }
    });
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      if (spawnError) throw spawnError;
      if (proc.exitCode !== null) throw new Error(`mosquitto exited with code ${proc.exitCode} on port ${port}:\n${logText}`);
      if (await canConnect(port)) return;
      if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port} within ${startTimeoutMs} ms:\n${logText}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  const signal = async (sig: NodeJS.Signals): Promise<void> => {
    const proc = child as ChildProcess | null;
    if (proc === null || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(sig);
    await exited;
    child = null;
  };

  await launch();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    dir,
    stop: () => signal('SIGTERM'),
    kill: () => signal('SIGKILL'),
    async restart() {
      await signal('SIGTERM');
      await launch();
    },
    async cleanup() {
      await signal('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => logText,
  };
}
