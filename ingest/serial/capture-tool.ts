/**
 * Script entry (no lidar-pm CLI needed) to record a serial port into a capture file or play one
 * into a port:
 *
 *   npx tsx ingest/serial/capture-tool.ts record serial:/dev/ttyUSB0?baud=115200 out.serial [--duration-ms N] [--compress]
 *   npx tsx ingest/serial/capture-tool.ts play capture.serial serial:/dev/ttyUSB1 [--speed N]
 *
 * `record` runs until --duration-ms, Ctrl-C (SIGINT/SIGTERM) or the device going away, then prints a
 * JSON summary; --compress rewrites the file compressed at the end. `play` honours the capture's
 * pacing divided by --speed (default 1; `Infinity` for back to back). Errors print `CODE: message`
 * and exit 2.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { isLidarError, LidarError } from '../../processing/errors.js';
import { compressSerialCapture, readSerialCapture } from './capture.js';
import { parseSerialTarget } from './port.js';
import { playSerialCapture, recordSerial } from './recorder.js';
import { openRawSerialWriter } from './writer.js';

const USAGE =
  'usage: capture-tool.ts record serial:PATH[?baud=N] OUT [--duration-ms N] [--compress]\n' +
  '       capture-tool.ts play CAPTURE serial:PATH[?baud=N] [--speed N]';

function usage(detail: string): never {
  throw new LidarError('LIDAR_ERR_USAGE', `${detail}\n${USAGE}`);
}

function parseFlags(args: string[], known: Record<string, 'number' | 'boolean'>): { positional: string[]; flags: Record<string, number | boolean> } {
  const positional: string[] = [];
  const flags: Record<string, number | boolean> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const name = a.slice(2);
    const type = known[name];
    if (type === undefined) usage(`unknown option ${a}`);
    if (type === 'boolean') flags[name] = true;
    else {
      const v = Number(args[++i]);
      if (Number.isNaN(v)) usage(`${a} needs a number`);
      flags[name] = v;
    }
  }
  return { positional, flags };
}

async function record(args: string[]): Promise<void> {
  const { positional, flags } = parseFlags(args, { 'duration-ms': 'number', compress: 'boolean' });
  if (positional.length !== 2) usage('record needs a serial target and an output file');
  const [target, out] = positional;
  const recording = await recordSerial({ ...parseSerialTarget(target), out, durationMs: flags['duration-ms'] as number | undefined });
  const stop = () => void recording.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const summary = await recording.done;
  if (flags.compress) writeFileSync(out, compressSerialCapture(readFileSync(out)));
  console.log(JSON.stringify(summary));
}

async function play(args: string[]): Promise<void> {
  const { positional, flags } = parseFlags(args, { speed: 'number' });
  if (positional.length !== 2) usage('play needs a capture file and a serial target');
  const [file, target] = positional;
  const capture = readSerialCapture(readFileSync(file), file);
  const writer = await openRawSerialWriter(parseSerialTarget(target));
  const ac = new AbortController();
  process.once('SIGINT', () => ac.abort());
  try {
    const r = await playSerialCapture(capture, writer, { speed: (flags.speed as number | undefined) ?? 1, signal: ac.signal });
    console.log(JSON.stringify(r));
  } finally {
    await writer.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === 'record') return record(rest);
  if (command === 'play') return play(rest);
  usage(command === undefined ? 'missing command' : `unknown command ${command}`);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(isLidarError(e) ? `${e.code}: ${e.message}` : String(e));
  process.exit(2);
});
