#!/usr/bin/env node
// Installs what `npm start` / `npm test` need on a fresh machine, and nothing when it is all there:
// - npm packages: `npm ci` when node_modules is missing or older than package-lock.json;
// - with --system: the Debian packages the test harness starts (real servers, pty, browser), listed in
//   scripts/system-packages.json as { "command": "debian-package" }. As root they are installed with
//   apt-get; otherwise the exact command to run is printed and the script fails;
// - the dashboard (dashboard/dist) when it is missing or older than its sources.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { execSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wantSystem = process.argv.includes('--system');

function npmPackagesCurrent() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  if (!existsSync(marker)) return false;
  return statSync(marker).mtimeMs >= statSync(join(root, 'package-lock.json')).mtimeMs;
}

if (!npmPackagesCurrent()) {
  console.log('[ensure-deps] installing npm packages (npm ci)...');
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('[ensure-deps] npm ci failed');
    process.exit(1);
  }
}

if (wantSystem) {
  const wanted = JSON.parse(readFileSync(join(root, 'scripts', 'system-packages.json'), 'utf8'));
  const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
  const missing = Object.entries(wanted.commands).filter(([cmd]) => !has(cmd)).map(([, pkg]) => pkg);
  if (missing.length > 0) {
    const pkgs = [...new Set(missing)].join(' ');
    if (process.getuid && process.getuid() === 0) {
      console.log(`[ensure-deps] installing Debian packages: ${pkgs}`);
      try {
        execSync('apt-get update -qq', { stdio: 'inherit' });
        execSync(`DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${pkgs}`, { stdio: 'inherit' });
      } catch {
        console.error(`[ensure-deps] apt-get failed; install by hand: apt-get install ${pkgs}`);
        process.exit(1);
      }
    } else {
      console.error(`[ensure-deps] the tests need these Debian packages; run as root:\n  apt-get install ${pkgs}`);
      process.exit(1);
    }
  }
}

// The dashboard the service serves at /: built when dashboard/dist is missing or older than its
// sources (dashboard/scripts/ensure-built.mjs), so `npm start` and `npm test` serve the current one.
// Not fatal: the service still runs (its / then says the dashboard is not built).
const ensureBuilt = join(root, 'dashboard', 'scripts', 'ensure-built.mjs');
if (existsSync(ensureBuilt)) {
  const r = spawnSync(process.execPath, [ensureBuilt], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) console.error('[ensure-deps] the dashboard build failed; continuing without it');
}
