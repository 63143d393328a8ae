/**
 * `npx tsx scripts/bench-dashboard.ts [--draws 15] [--quick] [--out FILE]` (part of `npm run bench`):
 * draw times of the dashboard in headless Debian Chromium (playwright-core, tests/harness/chromium.ts)
 * against the real service: the dashboard built by vite, `lidar-pm serve` with the embedded store and
 * the default replay of the Sofia winter scenario (tests/harness/dashboard-service.ts, as the browser
 * test). The times are the app's own performance.measure entries (docs/dashboard.md), the same the
 * browser test records; each figure is the median of `--draws` redraws of the same data:
 *   - public map, the full scan: the scan with the most grid cells among the latest slider positions,
 *     redrawn by moving the time slider away and back (`lidar-pm:map-draw`: map response to SVG);
 *   - scientist PPI, the full scan (17 rays x 1800 bins): the widest of the latest scans in the scan
 *     list, selected again and again (`lidar-pm:ppi-draw`: every bin as canvas sectors);
 *   - scientist curtain, 24 h window (default), redrawn by switching the colour map
 *     (`lidar-pm:curtain-draw`: raster of columns x 200 rows).
 * Writes docs/bench/dashboard.json unless --out (--quick: 3 draws, JSON to the temporary directory).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { CHROMIUM_PATH, chromiumAvailable, launchChromium } from '../tests/harness/chromium.js';
import { drawEntries, startDashboardService, waitForDraws, type DrawEntry, type DrawName } from '../tests/harness/dashboard-service.js';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, draws: { type: 'string' }, out: { type: 'string' } }, strict: true });
const quick = values.quick;
const DRAWS = values.draws === undefined ? (quick ? 3 : 15) : Number(values.draws);
if (!Number.isInteger(DRAWS) || DRAWS < 1) throw new Error(`--draws: a positive integer, got ${values.draws}`);
const outFile = values.out ?? (quick ? join(tmpdir(), 'lidar-pm-bench-dashboard-quick.json') : join(import.meta.dirname, '..', 'docs', 'bench', 'dashboard.json'));

function summary(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  return { draws: s.length, medianMs: q(0.5), p90Ms: q(0.9), minMs: s[0], maxMs: s[s.length - 1] };
}

/** Does `act`, then waits for the page to measure one more draw of this kind and returns it. */
async function drawAfter(page: Page, name: DrawName, act: () => Promise<unknown>, what: string, timeoutMs = 30_000): Promise<DrawEntry> {
  const before = (await drawEntries(page, name)).length;
  await act();
  try {
    await waitForDraws(page, name, before, timeoutMs);
  } catch (e) {
    const now = await drawEntries(page, name);
    throw new Error(`no ${name} after ${what} within ${timeoutMs / 1000} s (${before} draws before, ${now.length} now; page ${page.url()}): ${(e as Error).message}`);
  }
  return (await drawEntries(page, name)).at(-1)!;
}

async function main(): Promise<void> {
  if (!chromiumAvailable()) throw new Error(`no Chromium at ${CHROMIUM_PATH} (set LIDAR_PM_CHROMIUM)`);
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, loadavg: loadavg() };
  const chromiumVersion = spawnSync(CHROMIUM_PATH, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const t0 = performance.now();
  const service = await startDashboardService();
  const setupSeconds = (performance.now() - t0) / 1000;
  const browser = await launchChromium({ viewport: { width: 1280, height: 860 }, locale: 'en-GB', timezoneId: 'Europe/Sofia' });
  try {
    const page = await browser.context.newPage();
    await page.goto(`${service.base}/`);
    await page.waitForSelector('path.cell', { timeout: 60_000 });

    // Public map: find the biggest scan among the latest slider positions, then redraw it.
    const slider = page.locator('input[type=range]');
    await slider.waitFor({ timeout: 30_000 });
    const max = Number(await slider.getAttribute('max'));
    if (!(max > 1)) throw new Error(`the time slider has no earlier scans (max ${max})`);
    let biggest = { index: -1, cells: -1 };
    for (let i = max - 1; i >= Math.max(0, max - 8); i--) {
      const d = await drawAfter(page, 'lidar-pm:map-draw', () => slider.fill(String(i)), `slider ${i} of ${max}`);
      if (d.detail.cells > biggest.cells) biggest = { index: i, cells: d.detail.cells };
    }
    // The replay goes on while we measure (new scans extend the slider): a move that draws nothing
    // or another scan is tried again after moving away, up to 3 times.
    const other = biggest.index > 0 ? biggest.index - 1 : biggest.index + 1;
    const mapMs: number[] = [];
    for (let k = 0; k < DRAWS; k++) {
      for (let attempt = 0; attempt < 3; attempt++) {
        if ((await slider.inputValue()) !== String(other)) await drawAfter(page, 'lidar-pm:map-draw', () => slider.fill(String(other)), `slider ${other}`, 10_000).catch(() => null);
        const d = await drawAfter(page, 'lidar-pm:map-draw', () => slider.fill(String(biggest.index)), `slider ${biggest.index}`, 10_000).catch(() => null);
        if (d !== null && d.detail.cells === biggest.cells) {
          mapMs.push(d.ms);
          break;
        }
      }
    }
    if (mapMs.length < Math.ceil(DRAWS / 2)) throw new Error(`only ${mapMs.length} of ${DRAWS} redraws of the full scan on the map were measured`);

    // Scientist view: curtain (24 h default) and PPI.
    await drawAfter(page, 'lidar-pm:curtain-draw', () => page.getByRole('link', { name: 'Scientist' }).click(), 'opening the scientist view');
    await page.waitForFunction(() => performance.getEntriesByName('lidar-pm:ppi-draw').some((e) => (e as unknown as { detail: { bins: number } }).detail.bins > 0), undefined, { timeout: 60_000 });
    const cmaps = ['jet', 'turbo', 'viridis'];
    const curtainMs: number[] = [];
    let curtainSize = { columns: 0, rows: 0 };
    for (let k = 0; k < DRAWS; k++) {
      const d = await drawAfter(page, 'lidar-pm:curtain-draw', () => page.getByLabel('Colour map').selectOption(cmaps[k % cmaps.length]), `colour map ${cmaps[k % cmaps.length]}`);
      curtainSize = { columns: d.detail.columns, rows: d.detail.rows };
      curtainMs.push(d.ms);
    }

    const scanSelect = page.getByTestId('ppi-scan');
    // '-1' is "the latest scan", shown at first; the others are the earlier scans of the list.
    const options = (await scanSelect.locator('option').evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value))).filter((v) => v !== '-1');
    if (options.length < 2) throw new Error(`the PPI scan list has ${options.length} earlier scans`);
    let widest = { value: '', rays: -1, bins: -1 };
    for (const value of options.slice(-8)) {
      const d = await drawAfter(page, 'lidar-pm:ppi-draw', () => scanSelect.selectOption(value), `scan ${value}`);
      if (d.detail.bins > widest.bins) widest = { value, rays: d.detail.rays, bins: d.detail.bins };
    }
    const otherScan = options.find((v) => v !== widest.value);
    if (otherScan === undefined) throw new Error('only one scan in the PPI list');
    const ppiMs: number[] = [];
    for (let k = 0; k < DRAWS; k++) {
      await drawAfter(page, 'lidar-pm:ppi-draw', () => scanSelect.selectOption(otherScan), `scan ${otherScan}`);
      const d = await drawAfter(page, 'lidar-pm:ppi-draw', () => scanSelect.selectOption(widest.value), `scan ${widest.value}`);
      if (d.detail.bins === widest.bins) ppiMs.push(d.ms);
    }
    await page.close();

    const results = {
      mapFullScan: { workload: `public map, the biggest of the last 8 scans (${biggest.cells} grid cells), map response -> SVG`, cells: biggest.cells, ...summary(mapMs) },
      ppiFullScan: { workload: `scientist PPI, the widest of the last 8 scans (${widest.rays} rays, ${widest.bins} bins) as canvas sectors`, rays: widest.rays, bins: widest.bins, ...summary(ppiMs) },
      curtain24h: { workload: `scientist curtain, 24 h, ${curtainSize.columns} x ${curtainSize.rows} cells, colour-map switch`, ...curtainSize, ...summary(curtainMs) },
    };
    for (const [k, r] of Object.entries(results)) console.log(`${k.padEnd(12)} median ${r.medianMs.toFixed(1)} ms, p90 ${r.p90Ms.toFixed(1)} ms, max ${r.maxMs.toFixed(1)} ms over ${r.draws} draws: ${r.workload}`);
    const doc = {
      benchmark: 'dashboard',
      command: `npx tsx scripts/bench-dashboard.ts${quick ? ' --quick' : ''} --draws ${DRAWS}`,
      date: new Date().toISOString(),
      quick,
      machine,
      chromium: `${chromiumVersion}, headless (${CHROMIUM_PATH}), viewport 1280 x 860`,
      service: { store: 'embedded', data: 'default replay of sofia-winter-inversion', setupSeconds },
      results,
    };
    mkdirSync(dirname(outFile), { recursive: true });
    writeFileSync(outFile, JSON.stringify(doc, null, 2) + '\n');
    console.log(`written: ${outFile}`);
  } finally {
    await browser.close();
    await service.stop();
  }
}

await main();
