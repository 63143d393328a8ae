import type { Command } from '../command.js';

/** A contract command whose implementation belongs to a later issue: says so plainly, exit 1. */
export function notYetCommand(name: string, what: string): Command {
  return async () => {
    process.stderr.write(`lidar-pm ${name}: not implemented yet: ${what}. See README "Status".\n`);
    return 1;
  };
}
