/**
 * Replay: plays a folder of recorded Licel files into a transport with their original pacing (the
 * measurement start times in the headers) scaled by `speed`, optionally looping and shifted so the
 * first file is "now" (the files are then re-encoded with the new times and names, data untouched).
 * Targets: `mqtt://host:port` (or mqtts://), `serial:/dev/ttyX?baud=N`, or a directory.
 */
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LidarError } from '../processing/errors.js';
import { decodeLicel } from '../processing/licel/decode.js';
import { encodeLicel } from '../processing/licel/encode.js';
import { shiftLicelTimes } from '../processing/licel/shift.js';
import { localToUtcMs } from '../processing/time.js';

export interface ReplayFile {
  name: string;
  bytes: Uint8Array;
  /** Measurement start (ms UTC). */
  timeMs: number;
}

export interface ReplayTarget {
  readonly description: string;
  send(station: string, name: string, bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/** The Licel files of `dir` (files that do not decode are reported and left out), in measurement order. */
export async function loadReplayFiles(dir: string, timeZone: string, onSkip?: (name: string, why: string) => void): Promise<ReplayFile[]> {
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  } catch (e) {
    throw new LidarError('LIDAR_ERR_IO', `cannot read replay folder: ${(e as Error).message}`, { file: dir });
  }
  const out: ReplayFile[] = [];
  for (const name of names.sort()) {
    if (name.endsWith('.json') || name.startsWith('.')) continue;
    const bytes = new Uint8Array(await readFile(join(dir, name)));
    try {
      const f = decodeLicel(bytes, name);
      out.push({ name, bytes, timeMs: localToUtcMs(f.header.startLocal, timeZone) });
    } catch (e) {
      onSkip?.(name, (e as Error).message);
    }
  }
  if (out.length === 0) throw new LidarError('LIDAR_ERR_NOT_FOUND', 'no Licel files to replay', { file: dir });
  return out.sort((a, b) => a.timeMs - b.timeMs || (a.name < b.name ? -1 : 1));
}

export async function openReplayTarget(url: string, options: { clientId?: string } = {}): Promise<ReplayTarget> {
  if (/^mqtts?:\/\//.test(url)) {
    const { connectPublisher } = await import('./mqtt/publisher.js');
    const pub = await connectPublisher({ url, clientId: options.clientId ?? `lidar-pm-replay-${process.pid}` });
    return { description: url, send: (station, _name, bytes) => pub.publishRaw(station, bytes), close: () => pub.close() };
  }
  if (url.startsWith('serial:')) {
    const { parseSerialTarget } = await import('./serial/port.js');
    const { openSerialWriter } = await import('./serial/writer.js');
    const w = await openSerialWriter(parseSerialTarget(url));
    return { description: url, send: (_station, _name, bytes) => w.send('licel', bytes), close: () => w.close() };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) throw new LidarError('LIDAR_ERR_USAGE', `unsupported replay target ${JSON.stringify(url)} (mqtt://, mqtts://, serial:, or a folder)`, { field: '--to' });
  const dir = url.startsWith('dir:') ? url.slice(4) : url;
  await mkdir(dir, { recursive: true });
  return {
    description: dir,
    // Written under a hidden temporary name and renamed: a folder source never sees half a file.
    async send(_station, name, bytes) {
      const tmp = join(dir, `.${name}.part`);
      await writeFile(tmp, bytes);
      await rename(tmp, join(dir, name));
    },
    async close() {},
  };
}

export interface ReplayOptions {
  station: string;
  timeZone: string;
  /** Pacing factor: 2 = twice as fast; Infinity (or 0) = as fast as the target takes them. */
  speed: number;
  loop?: boolean;
  /** Shift times so the first file is now (each loop continues after the previous one). */
  shiftToNow?: boolean;
  /** Shift times so the first file is at this time (ms UTC); overrides shiftToNow. */
  startAtMs?: number;
  signal?: AbortSignal;
  now?: () => number;
  onSent?: (file: { name: string; timeMs: number; index: number; loop: number }) => void;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** One pass over the files lasts this long (ms of data time): the recording plus one typical gap. */
export function replayPeriodMs(files: ReplayFile[]): number {
  const first = files[0].timeMs;
  const last = files[files.length - 1].timeMs;
  return last - first + (files.length > 1 ? (last - first) / (files.length - 1) : 30_000);
}

/** Plays the files; resolves with the number sent (when the list ends, or on abort). */
export async function replay(files: ReplayFile[], target: ReplayTarget, o: ReplayOptions): Promise<number> {
  const now = o.now ?? Date.now;
  const speed = o.speed > 0 && Number.isFinite(o.speed) ? o.speed : Infinity;
  const first = files[0].timeMs;
  // One loop lasts the recording plus the typical gap between files, so loops keep the cadence.
  const period = replayPeriodMs(files);
  let sent = 0;
  const t0 = now();
  for (let loop = 0; ; loop++) {
    for (let i = 0; i < files.length; i++) {
      if (o.signal?.aborted) return sent;
      const f = files[i];
      const offset = loop * period + (f.timeMs - first);
      if (speed !== Infinity) await sleep(t0 + offset / speed - now(), o.signal);
      if (o.signal?.aborted) return sent;
      let bytes = f.bytes;
      let name = f.name;
      let timeMs = f.timeMs;
      const base = o.startAtMs !== undefined ? o.startAtMs - first : o.shiftToNow ? t0 - first : 0;
      if (base !== 0 || loop > 0) {
        const delta = base + loop * period;
        const shifted = shiftLicelTimes(decodeLicel(f.bytes, f.name), delta, o.timeZone);
        bytes = encodeLicel(shifted);
        name = shifted.header.fileName;
        timeMs = f.timeMs + Math.round(delta / 1000) * 1000;
      }
      await target.send(o.station, name, bytes);
      sent++;
      o.onSent?.({ name, timeMs, index: i, loop });
    }
    if (!o.loop) return sent;
  }
}
