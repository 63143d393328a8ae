#!/usr/bin/env node
// Launcher for the `lidar-pm` command. In a checkout it runs the TypeScript sources through tsx
// (always current, no build step); an installed package without tsx runs the compiled dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, 'main.ts');
let entry;
try {
  const { register } = await import('tsx/esm/api');
  register();
  entry = source;
} catch {
  entry = join(here, '..', 'dist', 'bin', 'main.js');
  if (!existsSync(entry)) {
    console.error('lidar-pm: neither tsx nor a build (dist/) is available; run `npm ci` (and `npm run build`).');
    process.exit(1);
  }
}
const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(process.argv.slice(2));
