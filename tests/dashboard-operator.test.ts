// The operator view's Channels panel and the scientist quicklook's PBL-quality and cloud overlays in
// a real browser (Debian chromium, headless, playwright-core) against the real service
// (tests/harness/dashboard-service.ts: built dashboard, `lidar-pm serve`, the replayed winter
// scenario shifted to now). Operator: one row per channel of the page's own /channels/health answer,
// the latest background (with its unit) and SNR as that answer gives them, the levels the rules of
// lib/ops.ts give, a drawn 24 h sparkline each, Bulgarian labels. Scientist: every PBL point of the
// f32 curtain the page loaded is drawn in the class its quality gives (low quality hollow and
// dashed), cloud bases as haloed crosses, the legend names both. Fails on console errors, page
// errors, CSP violations, failed requests and requests to other hosts. Screenshots:
// tests/artifacts/dashboard-operator-*.png. Also the Licel header housekeeping (licel.*): the replayed
// detectors' voltages, as the page's /health answer and the fixture headers give them, level OK.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page, Response } from 'playwright-core';
import { chromiumAvailable, type Chromium, type PageProblems } from './harness/chromium.js';
import type { DashboardService } from './harness/dashboard-service.js';
import { ARTIFACTS, eventually, expectPageClean, openDashboard, startDashboardWithChromium, stopDashboardWithChromium } from './harness/dashboard-page.js';
import { channelRows, formatHousekeeping, formatValue, healthSeries, levelHousekeeping, type ChannelHealthApi, type HealthRecord } from '../dashboard/src/lib/ops.js';
import { decodeLicel } from '../processing/licel/decode.js';
import { channelKey } from '../store/port.js';
import { decodeCurtain, pblClass } from '../dashboard/src/lib/curtain.js';

declare const getComputedStyle: any;

let svc: DashboardService | null = null;
let browser: Chromium | null = null;
let base = '';

const open = (page: Page, hash: string): Promise<PageProblems> => openDashboard(page, base, hash);

const skip = !chromiumAvailable();

beforeAll(async () => {
  if (skip) return;
  ({ svc, browser } = await startDashboardWithChromium({}, { viewport: { width: 1280, height: 1000 }, locale: 'en-GB', timezoneId: 'Europe/Sofia' }));
  base = svc.base;
}, 300_000);

afterAll(() => stopDashboardWithChromium({ svc, browser }));

describe.skipIf(skip)('operator channels panel and scientist PBL/cloud flags (Chromium)', () => {
  it('operator: per channel the latest background and SNR of the page\'s /channels/health answer, their levels and 24 h sparklines', async () => {
    const page = await browser!.context.newPage();
    // Every /channels/health answer the page gets (it reloads at new profiles); the newest one is on screen.
    const answers: Array<{ channels: ChannelHealthApi[] }> = [];
    page.on('response', (r: Response) => {
      if (r.url().includes('/stations/sofia/channels/health') && r.status() === 200) r.json().then((b) => answers.push(b as { channels: ChannelHealthApi[] })).catch(() => undefined);
    });
    const problems = await open(page, '#/operator');
    const panel = page.getByTestId('op-channels');
    await panel.waitFor({ timeout: 60_000 });

    await eventually(async () => {
      const latest = answers[answers.length - 1];
      expect(latest, 'an answer of /channels/health').toBeDefined();
      const rows = channelRows(latest.channels);
      // The replayed scenario: two glued channels with vertical profiles, backgrounds in MHz.
      expect(rows.map((r) => r.channel)).toEqual(['1064o-glued', '532o-glued']);
      expect(await panel.locator('tbody tr').count()).toBe(rows.length);
      for (const r of rows) {
        const tr = panel.locator(`tr[data-channel="${r.channel}"]`);
        expect(r.lastBackground, `${r.channel} background`).not.toBeNull();
        expect(r.lastSnr, `${r.channel} snr`).not.toBeNull();
        expect(r.unit).toBe('MHz');
        const bg = tr.getByTestId('op-channel-background');
        const snr = tr.getByTestId('op-channel-snr');
        expect((await bg.innerText()).split('\n')[0].trim()).toBe(`${formatValue(r.lastBackground)} ${r.unit}`.trim() + (r.levelBackground === 'ok' ? '' : ` ${r.levelBackground === 'warn' ? 'WARNING' : 'CRITICAL'}`));
        expect((await snr.innerText()).trim()).toBe(formatValue(r.lastSnr) + (r.levelSnr === 'ok' ? '' : ` ${r.levelSnr === 'warn' ? 'WARNING' : 'CRITICAL'}`));
        expect(await bg.getAttribute('data-level')).toBe(r.levelBackground);
        expect(await snr.getAttribute('data-level')).toBe(r.levelSnr);
        expect(await tr.getAttribute('data-level')).toBe(r.level);
        // Two sparklines (background, SNR), each a drawn line with one vertex per known value.
        const paths = tr.locator('svg[role="img"] path');
        expect(await paths.count()).toBe(2);
        const vertices = async (i: number) => ((await paths.nth(i).getAttribute('d')) ?? '').match(/[ML]/g)?.length ?? 0;
        expect(await vertices(0)).toBe(r.background.values.length);
        expect(await vertices(1)).toBe(r.snr.values.length);
        expect(r.background.values.length).toBeGreaterThan(1);
      }
    }, 45_000);
    // The nominal scenario raises no channel alarm (constant night sky, SNR above the reference minimum).
    const final = channelRows(answers[answers.length - 1].channels);
    expect(final.map((r) => r.level)).toEqual(['ok', 'ok']);
    expect(await panel.locator('thead').innerText()).toMatch(/Background[\s\S]*SNR at the reference/);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-operator-channels.png'), fullPage: true });

    // Bulgarian labels.
    await page.getByRole('button', { name: 'Switch the language to Bulgarian' }).click();
    await page.getByText('Канали: фон и SNR').waitFor();
    expect(await panel.locator('thead').innerText()).toMatch(/Фон/);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-operator-channels-bg.png'), fullPage: true });
    // Back to English (the choice is remembered for the next page).
    await page.locator('button.lang').click();
    await page.getByText('Channels: background and SNR').waitFor();
    expectPageClean(problems);
    await page.close();
  });

  it('scientist: PBL points drawn by quality (low quality hollow and dashed), cloud bases as crosses, both in the legend', async () => {
    const page = await browser!.context.newPage();
    const curtains: ArrayBuffer[] = [];
    page.on('response', (r: Response) => {
      if (r.url().includes('/stations/sofia/curtain') && r.url().includes('format=f32') && r.status() === 200) {
        r.body()
          .then((b) => curtains.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer))
          .catch(() => undefined);
      }
    });
    const problems = await open(page, '#/scientist');
    const plot = page.getByTestId('curtain-plot');
    await plot.waitFor({ timeout: 60_000 });
    await eventually(async () => {
      const buf = curtains[curtains.length - 1];
      expect(buf, 'a curtain answer').toBeDefined();
      const c = decodeCurtain(buf);
      expect(new DataView(buf).getUint16(4, true)).toBe(2);
      const want = { good: 0, low: 0, unknown: 0 };
      for (let i = 0; i < c.width; i++) {
        const k = pblClass(c.pbl[i], c.pblQuality[i]);
        if (k && c.pbl[i] >= c.heightMinM && c.pbl[i] <= c.heightMaxM) want[k]++;
      }
      // The replayed verticals have PBL heights; every one has a quality.
      expect(want.good + want.low).toBeGreaterThan(0);
      expect(want.unknown).toBe(0);
      expect(await plot.locator('circle[data-quality="low"]').count()).toBe(want.low);
      expect(await plot.locator('circle[data-quality="good"]').count()).toBe(want.good);
      let clouds = 0;
      for (let i = 0; i < c.width; i++) if (Number.isFinite(c.cloud[i]) && c.cloud[i] >= c.heightMinM && c.cloud[i] <= c.heightMaxM) clouds++;
      expect(await plot.getByTestId('sc-cloud-base').count()).toBe(clouds);
    }, 45_000);
    // The winter inversion's PBL tops are weak (qualities 0-0.25): low-quality points are drawn hollow and dashed.
    const low = plot.locator('circle[data-quality="low"]').first();
    expect(await low.count()).toBe(1);
    const style = (await low.evaluate((el) => {
      const s = getComputedStyle(el);
      return { fill: s.fill, dash: s.strokeDasharray };
    })) as { fill: string; dash: string };
    expect(style.fill).toBe('none');
    expect(style.dash).not.toBe('none');
    const keys = page.getByTestId('sc-keys');
    expect(await keys.innerText()).toMatch(/PBL height, low quality \(< 0\.5\)/);
    expect(await keys.innerText()).toMatch(/Cloud base/);
    await plot.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-operator-scientist-pbl.png') });
    expectPageClean(problems);
    await page.close();
  });

  it('operator: the detector voltages of the replayed Licel headers, grouped with their units, level OK', async () => {
    // The replayed winter scenario's detectors: every header has the same four active datasets.
    const dir = join(import.meta.dirname, '..', 'fixtures', 'scenarios', 'sofia-winter-inversion');
    const header = decodeLicel(readFileSync(join(dir, readdirSync(dir).filter((f) => f.startsWith('SF')).sort()[0])));
    const want = new Map(header.datasets.filter((d) => d.active && d.dataType <= 1).map((d) => [`licel.${channelKey(d.wavelengthNm, d.polarization, d.dataType === 0 ? 'analog' : 'photon')}.pmt_voltage_v`, d.pmtVoltageV]));
    expect(want.size).toBe(4);
    const page = await browser!.context.newPage();
    const answers: Array<{ records: HealthRecord[] }> = [];
    page.on('response', (r: Response) => {
      if (r.url().includes('/stations/sofia/health?') && r.status() === 200) r.json().then((b) => answers.push(b as { records: HealthRecord[] })).catch(() => undefined);
    });
    const problems = await open(page, '#/operator');
    const detectors = page.getByTestId('op-hk-detectors');
    await detectors.waitFor({ timeout: 60_000 });
    await eventually(async () => {
      const latest = answers[answers.length - 1];
      expect(latest, 'an answer of /health').toBeDefined();
      const hv = healthSeries(latest.records).filter((s) => s.name.endsWith('.pmt_voltage_v'));
      expect(new Map(hv.map((s) => [s.name, s.last]))).toEqual(want);
      for (const s of hv) {
        expect(s.values.length, `${s.name}: one value per replayed file`).toBeGreaterThan(1);
        const row = detectors.locator(`tr[data-field="${s.name}"]`);
        expect(await row.getByTestId('op-hk-value').innerText()).toBe(`${formatHousekeeping(want.get(s.name)!)} V`);
        expect(levelHousekeeping(s)).toBe('ok');
        expect(await row.getAttribute('data-level')).toBe('ok');
        expect(await row.locator('svg[role="img"] path').count()).toBe(1);
      }
    }, 45_000);
    // The laser group: laser 1 at the header's rate; no header weather in this scenario (licel2022 headers).
    expect(await page.getByTestId('op-hk-laser').locator('tr[data-field="licel.laser1.rate_hz"]').getByTestId('op-hk-value').innerText()).toBe(`${header.header.laser1RateHz} Hz`);
    expect(await page.getByTestId('op-hk-met').count()).toBe(0);
    await detectors.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-operator-housekeeping.png'), fullPage: true });
    expectPageClean(problems);
    await page.close();
  });
});
