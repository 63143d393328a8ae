/**
 * `lidar-pm` command line (contract: ../shared/design/ARCHITECTURE.md "Command line", docs/cli.md).
 * Exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad input (message names file/offset/field).
 */
import { LidarError } from '../processing/errors.js';
import type { Command } from './command.js';
import { licelCommand } from './commands/licel.js';
import { simulateCommand } from './commands/simulate.js';
import { retrieveCommand } from './commands/retrieve.js';
import { calibrateCommand } from './commands/calibrate.js';
import { replayCommand } from './commands/replay.js';
import { serveCommand } from './commands/serve.js';
import { tokenCommand } from './commands/token.js';
import { aqImportCommand } from './commands/aq-import.js';

const commands: Record<string, Command> = {
  licel: licelCommand,
  simulate: simulateCommand,
  serve: serveCommand,
  retrieve: retrieveCommand,
  replay: replayCommand,
  calibrate: calibrateCommand,
  token: tokenCommand,
  'aq-import': aqImportCommand,
};

const USAGE = `usage: lidar-pm <command> [options]

commands:
  licel inspect FILE... [--json]        header and per-dataset summary of Licel raw files
  simulate --scenario NAME --out DIR [--seed N] [--list]
                                        write simulated Licel files and truth.json
  serve [--config FILE]                 run the service: ingest, store, HTTP API on :8080 (docs/configuration.md)
  token NAME [--scopes LIST] [--json]   a new bearer token for the write routes and its config entry
  retrieve FILE... [--params FILE] [--station FILE] [--met FILE] [--json|--csv] [--average]
                                        run the retrieval chain and print the products
  replay DIR --to URL [--speed X] [--loop] [--shift-to-now] [--station FILE]
                                        play recorded Licel files into mqtt://, serial: or a folder
  calibrate --pm FILE (--aq-station CODE | --aq-lat LAT --aq-lon LON) (FILE... | --products FILE)
            [--params FILE] [--fit-gamma] [--out FILE] [--text]
                                        fit MEE (and gamma) against AQ-station hourly PM
  aq-import FILE... (--url URL | --config FILE) [--aq-station ID] [--station-map A=B,...] [--rejects FILE]
                                        load official AQ-station hourly PM (EEA export or time,pm10[,pm25])

exit codes: 0 ok, 1 runtime failure, 2 bad usage or bad input`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE + '\n');
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (command === undefined) {
    process.stderr.write(`lidar-pm: unknown command '${name}'\n${USAGE}\n`);
    return 2;
  }
  try {
    return await command(rest);
  } catch (e) {
    return reportError(e);
  }
}

/** Prints an error as one clear line and maps it to the contract's exit code. */
export function reportError(e: unknown): number {
  if (e instanceof LidarError) {
    process.stderr.write(`lidar-pm: ${e.code}: ${e.message}\n`);
    return e.code === 'LIDAR_ERR_IO' ? 1 : 2;
  }
  const err = e as { code?: string; message?: string };
  if (err && typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`lidar-pm: LIDAR_ERR_USAGE: ${err.message}\n`);
    return 2;
  }
  process.stderr.write(`lidar-pm: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  return 1;
}
