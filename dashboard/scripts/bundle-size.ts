/**
 * Measures a built dashboard: what the public map loads first (index.html's scripts and styles and
 * their static imports, followed recursively) and the lazily loaded chunks, raw and gzip (level 9).
 *
 *   npx tsx dashboard/scripts/bundle-size.ts [DIST_DIR] [--json]
 *
 * `measureBundle(distDir)` is also used by tests/dashboard-build.test.ts for the 250 KB budget.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface FileSize {
  file: string;
  bytes: number;
  gzipBytes: number;
}

export interface BundleReport {
  dist: string;
  /** JS and CSS the public map needs before it runs (entry + static imports + stylesheets). */
  initial: FileSize[];
  initialGzipBytes: number;
  initialBytes: number;
  /** Other JS/CSS chunks (views loaded on demand). */
  lazy: FileSize[];
  lazyGzipBytes: number;
  /** Data and images the map fetches at run time (base map JSON, hillshade). */
  assets: FileSize[];
}

const size = (dist: string, file: string): FileSize => {
  const data = readFileSync(join(dist, file));
  return { file, bytes: data.length, gzipBytes: gzipSync(data, { level: 9 }).length };
};

/** Relative static imports of a built ES module (not dynamic `import()`). */
export function staticImports(code: string): string[] {
  const out = new Set<string>();
  const re = /(?:^|[\s;}])import\s*(?:[\w$*{}\s,]+from\s*)?["'](\.{1,2}\/[^"']+)["']/g;
  for (const m of code.matchAll(re)) out.add(m[1]);
  const reExport = /(?:^|[\s;}])export\s*[\w$*{}\s,]+from\s*["'](\.{1,2}\/[^"']+)["']/g;
  for (const m of code.matchAll(reExport)) out.add(m[1]);
  return [...out];
}

export function measureBundle(dist: string): BundleReport {
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const refs = [...html.matchAll(/<(?:script|link)\b[^>]*?(?:src|href)="\.?\/?([^"]+\.(?:js|css))"/g)].map((m) => m[1]);
  const initial = new Set<string>();
  const queue = [...refs];
  while (queue.length > 0) {
    const file = posix.normalize(queue.shift() as string);
    if (initial.has(file)) continue;
    initial.add(file);
    if (file.endsWith('.js')) for (const imp of staticImports(readFileSync(join(dist, file), 'utf8'))) queue.push(posix.join(posix.dirname(file), imp));
  }
  const all = readdirSync(join(dist, 'assets')).map((f) => `assets/${f}`);
  const code = all.filter((f) => /\.(js|css)$/.test(f));
  const initialSizes = [...initial].map((f) => size(dist, f));
  const lazy = code.filter((f) => !initial.has(f)).map((f) => size(dist, f));
  const assets = all.filter((f) => /\.(json|png|svg)$/.test(f)).map((f) => size(dist, f));
  const sum = (xs: FileSize[], k: 'bytes' | 'gzipBytes') => xs.reduce((a, x) => a + x[k], 0);
  return { dist, initial: initialSizes, initialGzipBytes: sum(initialSizes, 'gzipBytes'), initialBytes: sum(initialSizes, 'bytes'), lazy, lazyGzipBytes: sum(lazy, 'gzipBytes'), assets };
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const args = process.argv.slice(2);
  const dist = args.find((a) => !a.startsWith('--')) ?? join(import.meta.dirname, '..', 'dist');
  const r = measureBundle(dist);
  if (args.includes('--json')) console.log(JSON.stringify(r, null, 2));
  else {
    const kb = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
    const line = (f: FileSize) => `  ${f.file.padEnd(44)} ${kb(f.bytes).padStart(10)}  gzip ${kb(f.gzipBytes).padStart(9)}`;
    console.log(`initial (public map) JS+CSS: ${kb(r.initialBytes)}, gzip ${kb(r.initialGzipBytes)} (budget 250 KiB gzip)`);
    r.initial.forEach((f) => console.log(line(f)));
    console.log(`lazy chunks: gzip ${kb(r.lazyGzipBytes)}`);
    r.lazy.forEach((f) => console.log(line(f)));
    console.log('run-time assets:');
    r.assets.forEach((f) => console.log(line(f)));
  }
}
