#!/usr/bin/env node
// Builds the dashboard (dashboard/dist) when it is missing or older than its sources, so that
// `npm start` and `npm test` serve the current dashboard. Plain Node (no tsx), no dependencies but
// vite itself:
//
//   node dashboard/scripts/ensure-built.mjs [--force]
//
// Sources: dashboard/index.html, vite.config.ts, src/**, public/**. Without vite (a production
// install without devDependencies) it only warns: the API then serves an existing dist, or its
// placeholder page. Exit status non-zero only when a build was needed, vite is there, and it failed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dashboard = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = join(dashboard, '..');
const dist = join(dashboard, 'dist', 'index.html');
const vite = join(root, 'node_modules', 'vite', 'bin', 'vite.js');

function newest(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let t = 0;
  for (const name of readdirSync(path)) t = Math.max(t, newest(join(path, name)));
  return t;
}

const sourcesMs = Math.max(...['index.html', 'vite.config.ts', 'src', 'public'].map((p) => newest(join(dashboard, p))));
const builtMs = existsSync(dist) ? statSync(dist).mtimeMs : 0;
const force = process.argv.includes('--force');
if (!force && builtMs >= sourcesMs) process.exit(0);
const why = force ? 'forced' : builtMs === 0 ? 'not built yet' : 'sources changed since the last build';
if (!existsSync(vite)) {
  console.warn(`dashboard: ${why}, but vite is not installed (devDependencies); ${builtMs ? 'serving the existing build' : 'the API will show its placeholder page'}`);
  process.exit(0);
}
console.log(`dashboard: building (${why}) ...`);
const r = spawnSync(process.execPath, [vite, 'build', '--config', join(dashboard, 'vite.config.ts'), '--logLevel', 'warn'], { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } });
if (r.status !== 0) {
  console.error(`dashboard: vite build failed (exit ${r.status ?? r.signal})`);
  process.exit(1);
}
console.log('dashboard: built into dashboard/dist');
