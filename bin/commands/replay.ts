/**
 * `lidar-pm replay DIR --to URL [--speed X] [--station FILE] [--station-id ID] [--loop] [--shift-to-now] [--quiet]`
 * Plays the Licel files of DIR into `mqtt://host:port` (topic lidar/{station}/raw), `serial:/dev/ttyX?baud=N`
 * (SLIP frames) or a folder, with their original pacing scaled by X (default 1; 0 = as fast as possible).
 * Stops at the end of the files (or never, with --loop) or on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { LidarError } from '../../processing/errors.js';
import type { Command } from '../command.js';
import { loadReplayFiles, openReplayTarget, replay } from '../../ingest/replay.js';
import { loadStation } from './retrieve.js';

export const replayCommand: Command = async (args) => {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      to: { type: 'string' },
      speed: { type: 'string', default: '1' },
      station: { type: 'string' },
      'station-id': { type: 'string' },
      loop: { type: 'boolean', default: false },
      'shift-to-now': { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (positionals.length !== 1) throw new LidarError('LIDAR_ERR_USAGE', 'replay takes one folder: lidar-pm replay DIR --to URL [--speed X]', { field: 'DIR' });
  if (!values.to) throw new LidarError('LIDAR_ERR_USAGE', '--to URL is required (mqtt://host:port, serial:/dev/ttyX?baud=N, or a folder)', { field: '--to' });
  const speed = Number(values.speed);
  if (!Number.isFinite(speed) || speed < 0) throw new LidarError('LIDAR_ERR_USAGE', `invalid --speed: ${values.speed} (a number >= 0; 0 = as fast as possible)`, { field: '--speed' });
  const station = loadStation(values.station);
  const stationId = values['station-id'] ?? station.id;
  const files = await loadReplayFiles(positionals[0], station.timezone, (name, why) => process.stderr.write(`lidar-pm replay: skipping ${name}: ${why}\n`));
  const target = await openReplayTarget(values.to);
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const sent = await replay(files, target, {
      station: stationId,
      timeZone: station.timezone,
      speed,
      loop: values.loop,
      shiftToNow: values['shift-to-now'],
      signal: abort.signal,
      onSent: values.quiet ? undefined : (f) => process.stdout.write(`${new Date().toISOString()} sent ${f.name} (measured ${new Date(f.timeMs).toISOString()})\n`),
    });
    if (!values.quiet) process.stdout.write(`replayed ${sent} files from ${positionals[0]} into ${target.description}\n`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await target.close();
  }
  return 0;
};
