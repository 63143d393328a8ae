// The dashboard build (vite build --config dashboard/vite.config.ts, into a temp folder): what the
// API's strict CSP needs (no inline scripts or styles, same-origin relative assets, nothing from other
// hosts), lazy chunks for the non-map views, pre-compressed copies, and the size budget of what the
// public map loads first (<= 250 KiB gzip of JS + CSS).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureBundle, type BundleReport } from '../dashboard/scripts/bundle-size.js';

const ROOT = join(import.meta.dirname, '..');
const out = mkdtempSync(join(tmpdir(), 'lidar-dashboard-build-'));
let report: BundleReport;
let log = '';

beforeAll(() => {
  // NODE_ENV=production: vitest sets "test", which would give Svelte's development build.
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'dashboard/vite.config.ts', '--outDir', out, '--emptyOutDir', '--logLevel', 'warn'], { cwd: ROOT, encoding: 'utf8', timeout: 170_000, env: { ...process.env, NODE_ENV: 'production' } });
  log = `${r.stdout}\n${r.stderr}`;
  if (r.status !== 0) throw new Error(`vite build failed (${r.status}):\n${log}`);
  report = measureBundle(out);
}, 180_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('dashboard build', () => {
  it('index.html loads only same-origin files by relative path, with no inline script or style', () => {
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/\bsrc="\.\/assets\/[\w.-]+\.js"/);
      expect(body.trim()).toBe('');
    }
    expect(html).not.toMatch(/<style\b/i);
    expect(html).not.toMatch(/\sstyle=/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    for (const m of html.matchAll(/\b(?:src|href)="([^"]+)"/g)) expect(m[1], m[0]).toMatch(/^\.\//);
    expect(html).toMatch(/<link rel="stylesheet"[^>]*href="\.\/assets\/[\w.-]+\.css"/);
  });

  it('nothing in the built code or styles points at another host (offline)', () => {
    const files = readdirSync(join(out, 'assets')).filter((f) => /\.(js|css)$/.test(f));
    for (const f of files) {
      const text = readFileSync(join(out, 'assets', f), 'utf8');
      expect(text, f).not.toMatch(/@import\s+url\(\s*['"]?https?:/);
      expect(text, f).not.toMatch(/url\(\s*['"]?(https?:)?\/\//);
      expect(text, f).not.toMatch(/fetch\(\s*["'`]https?:/);
      expect(text, f).not.toMatch(/new EventSource\(\s*["'`]https?:/);
      // no eval-like constructs the CSP (no 'unsafe-eval') would block
      expect(text, f).not.toMatch(/\bnew Function\(/);
    }
  });

  it('the non-map views are separate chunks loaded on demand', () => {
    const lazy = report.lazy.map((f) => f.file).join(' ');
    for (const view of ['Municipal', 'Operator', 'Scientist']) {
      expect(lazy).toMatch(new RegExp(`assets/${view}-[\\w-]+\\.js`));
      expect(report.initial.map((f) => f.file).join(' ')).not.toContain(`${view}-`);
    }
  });

  it('the public map loads at most 250 KiB gzip of JS + CSS first', () => {
    console.log(`dashboard initial JS+CSS: ${report.initialBytes} bytes, gzip ${report.initialGzipBytes} bytes; lazy chunks gzip ${report.lazyGzipBytes} bytes; assets ${report.assets.map((a) => `${a.file} ${a.bytes}`).join(', ')}`);
    expect(report.initial.some((f) => f.file.endsWith('.js'))).toBe(true);
    expect(report.initial.some((f) => f.file.endsWith('.css'))).toBe(true);
    expect(report.initialGzipBytes).toBeLessThanOrEqual(250 * 1024);
  });

  it('ships the base map and hillshade as hashed assets, and .gz/.br copies of text files', () => {
    const names = readdirSync(join(out, 'assets'));
    expect(names.some((n) => /^basemap-[\w-]+\.json$/.test(n))).toBe(true);
    expect(names.some((n) => /^hillshade-[\w-]+\.png$/.test(n))).toBe(true);
    for (const f of report.initial) {
      expect(existsSync(join(out, `${f.file}.gz`)), f.file).toBe(true);
      expect(existsSync(join(out, `${f.file}.br`)), f.file).toBe(true);
    }
  });
});
