// The scientist view in a real browser (Debian chromium, headless, playwright-core) against the real
// service (tests/harness/dashboard-service.ts: the dashboard built into a temp folder, `lidar-pm
// serve` on a free port with a temp data folder, the default replay of the Sofia winter scenario
// backfilled to now), with a test token with the params, jobs and preview scopes.
// Checks: the profile inspector opens the latest vertical, reproduces it, re-computes on a changed
// lidar ratio and a given reference range, refuses an invalid set, and agrees with the server's
// POST /profiles/{id}/preview on the same parameters (vertical and scan ray); saving, activating
// and reprocessing with progress from the SSE job events; the range-height view draws rays over the
// terrain; a channel switch redraws the quicklook and the PPI; the PPI read-out under the pointer.
// Every page: no console errors, page errors, CSP violations, failed or foreign requests.
// Screenshots: tests/artifacts/dashboard-scientist-*.png.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { chromiumAvailable, type Chromium, type PageProblems } from './harness/chromium.js';
import type { DashboardService } from './harness/dashboard-service.js';
import { ARTIFACTS, expectPageClean, openDashboard, startDashboardWithChromium, stopDashboardWithChromium, tokenAuthConfig } from './harness/dashboard-page.js';

// Callbacks given to page.evaluate / waitForFunction run in the browser (no DOM types here).
declare const document: any;

const TOKEN = randomBytes(24).toString('base64url');
const skip = !chromiumAvailable();
let svc: DashboardService | null = null;
let base = '';
let browser: Chromium | null = null;

/**
 * Browser vs server on the same parameters: both run processing/ on the same bytes (V8 in Chromium,
 * V8 in Node) and both answers keep 7 significant digits (processing/retrieval/products-json.ts,
 * api/profile-json.ts), so identical arithmetic differs by at most one unit in the 7th digit, i.e. a
 * relative 1e-6; 1e-5 leaves room for a last-bit difference of a libm function between the two V8
 * versions, and is still 1000 times below what a changed parameter does (a lidar ratio of 70 instead
 * of 50 changes the profile by > 1 %). The same bins must be valid in both.
 */
const AGREE_MAX_REL = 1e-5;

beforeAll(async () => {
  if (skip) return;
  ({ svc, browser } = await startDashboardWithChromium({ config: tokenAuthConfig('scientist-test', TOKEN, ['params', 'jobs', 'preview']) }, { viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'UTC' }));
  base = svc.base;
}, 240_000);

afterAll(() => stopDashboardWithChromium({ svc, browser }), 60_000);

async function openScientist(page: Page): Promise<PageProblems> {
  const problems = await openDashboard(page, base, '#/scientist');
  await page.getByTestId('inspector').waitFor({ timeout: 60_000 });
  return problems;
}

const statusText = (page: Page) => page.getByTestId('inspector-status').innerText();
const browserLine = (page: Page) => page.getByTestId('inspector-browser-line').getAttribute('d');
/** Waits until the browser's line differs from `before` and the status is no longer "Computing". */
async function recomputed(page: Page, before: string | null): Promise<string | null> {
  await page.waitForFunction((b) => {
    const d = document.querySelector('[data-testid=inspector-browser-line]')?.getAttribute('d');
    return d && d !== b && !/Computing/.test(document.querySelector('[data-testid=inspector-status]')?.textContent ?? '');
  }, before, { timeout: 30_000 });
  return browserLine(page);
}

/** Runs "Compare with server" and returns what the page found, with the request the page sent. */
async function compareWithServer(page: Page): Promise<{ agree: string | null; maxRel: number; onlyOne: number; sent: { params: Record<string, any> } }> {
  const req = page.waitForRequest((r) => r.url().includes('/preview') && r.method() === 'POST');
  const resp = page.waitForResponse((r) => r.url().includes('/preview'));
  const previous = await page.getByTestId('in-compare-result').count();
  await page.getByTestId('in-compare').click();
  const sent = JSON.parse((await req).postData() ?? '{}');
  expect((await resp).status()).toBe(200);
  if (previous > 0) await page.waitForFunction(() => !document.querySelector('[data-testid=in-compare-result]'), undefined, { timeout: 5_000 }).catch(() => undefined);
  const result = page.getByTestId('in-compare-result');
  await result.waitFor({ timeout: 60_000 });
  return { agree: await result.getAttribute('data-agree'), maxRel: Number(await result.getAttribute('data-max-rel')), onlyOne: Number(await result.getAttribute('data-only-one')), sent };
}

describe.skipIf(skip)('scientist view in Chromium', () => {
  it('inspector: the latest vertical, lidar ratio and reference range re-computed, invalid sets refused, browser = server preview', async () => {
    const page = await browser!.context.newPage();
    // the latest vertical from GET /stations/{s}/profiles
    const listed = (await (await fetch(`${base}/api/v1/stations/sofia/profiles?mode=vertical&limit=5`)).json()) as { profiles: Array<{ id: string; time_start: string }> };
    expect(listed.profiles.length).toBeGreaterThan(0);
    // The profile the inspector opens by itself (a ray of the latest scan) gets its raw record 3 s
    // late; "Latest vertical" is clicked while that load waits for it, so the vertical's load
    // overtakes it: the vertical must stay (a load that a newer one overtook changes nothing).
    let firstRaw: { id: string; answered: Promise<void> } | null = null;
    await page.route('**/api/v1/profiles/*/raw', async (route) => {
      if (firstRaw) return route.fallback();
      let answered!: () => void;
      firstRaw = { id: decodeURIComponent(route.request().url().split('/').at(-2) ?? ''), answered: new Promise((r) => (answered = r)) };
      await new Promise((r) => setTimeout(r, 3_000));
      await route.fallback();
      answered();
    });
    const problems = await openScientist(page);
    const vertical = page.getByRole('button', { name: 'Latest vertical profile' });
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=inspector] button')].some((b: any) => /Latest vertical/.test(b.textContent) && !b.disabled), undefined, { timeout: 30_000 });
    await expect.poll(() => firstRaw !== null, { timeout: 30_000 }).toBe(true); // the first load waits for its record
    await vertical.click();
    await page.waitForFunction(() => /^vertical profile/.test(document.querySelector('[data-testid=in-profile-info]')?.textContent ?? ''), undefined, { timeout: 30_000 });
    const chosen = await page.getByTestId('in-profile').inputValue();
    expect(firstRaw!.id).not.toBe(chosen); // the first load was another profile (a ray): a real overtaking
    await firstRaw!.answered;
    // the overtaken load has its record now: it must not replace the vertical (it took < 1 s here)
    const replaced = await page.waitForFunction(() => !/^vertical profile/.test(document.querySelector('[data-testid=in-profile-info]')?.textContent ?? ''), undefined, { timeout: 3_000 }).then(() => true, () => false);
    expect(replaced).toBe(false);
    expect(await page.getByTestId('in-profile').inputValue()).toBe(chosen);
    // the newest vertical of the list (a newer one may have been stored meanwhile)
    const again = (await (await fetch(`${base}/api/v1/stations/sofia/profiles?mode=vertical&limit=5`)).json()) as { profiles: Array<{ id: string }> };
    expect([...listed.profiles.slice(0, 2), ...again.profiles.slice(0, 2)].map((p) => p.id)).toContain(chosen);
    expect(await page.getByTestId('in-constant-from').innerText()).toMatch(/not used: a vertical profile/);
    // with the stored parameters the browser reproduces the stored vertical
    await page.waitForFunction(() => /reproduces the stored profile: largest difference/.test(document.querySelector('[data-testid=inspector-status]')?.textContent ?? ''), undefined, { timeout: 60_000 });
    const same = /largest difference ([\d.e+-]+) % over (\d+) bins/.exec(await statusText(page));
    expect(Number(same![1])).toBeLessThan(0.01);
    expect(Number(same![2])).toBeGreaterThan(10);
    const d0 = await browserLine(page);

    // lidar ratio 70 sr: re-computed, differs from the stored profile by > 1 %
    await page.getByLabel('Lidar ratio (sr)').fill('70');
    const d1 = await recomputed(page, d0);
    const diff1 = Number(/Largest difference from the stored profile: ([\d.e+-]+) %/.exec(await page.getByTestId('inspector-diff').innerText())?.[1]);
    expect(diff1).toBeGreaterThan(1);

    // a given reference range instead of the automatic one: re-computed again
    await page.getByTestId('in-ref-auto').selectOption('given');
    await page.getByLabel('Reference from (m)').fill('4000');
    await page.getByLabel('Reference to (m)').fill('7000');
    const d2 = await recomputed(page, d1);
    expect(d2).not.toBe(d1);
    expect(await page.getByTestId('in-invalid').count()).toBe(0);

    // an invalid value (RH 1.5, the validator's range is [0, 1]): refused, nothing saved or sent
    await page.getByLabel('Relative humidity (0–1)').fill('1.5');
    await page.getByTestId('in-invalid').waitFor();
    expect(await page.getByTestId('in-invalid').innerText()).toMatch(/pm\.rh/);
    await page.getByTestId('in-token').fill(TOKEN);
    expect(await page.getByTestId('in-compare').isDisabled()).toBe(true);
    expect(await page.getByTestId('inspector-actions').getByRole('button', { name: 'Save parameter set' }).isDisabled()).toBe(true);
    // reversed reference range: refused too
    await page.getByLabel('Relative humidity (0–1)').fill('0.5');
    await page.getByLabel('Reference from (m)').fill('9000');
    await page.getByTestId('in-invalid').waitFor();
    await page.getByLabel('Reference from (m)').fill('4000');
    await page.waitForFunction(() => !document.querySelector('[data-testid=in-invalid]'));
    await page.waitForFunction(() => !/Computing/.test(document.querySelector('[data-testid=inspector-status]')?.textContent ?? ''));

    // the same edited set on the server: POST /profiles/{id}/preview; browser and server agree
    const v = await compareWithServer(page);
    expect(v.sent.params.lidar_ratio_sr).toBe(70);
    expect(v.sent.params.reference.window_m).toEqual([4000, 7000]);
    expect(v.sent.params.monte_carlo).toBe(0);
    expect(v.onlyOne).toBe(0);
    expect(v.maxRel).toBeLessThanOrEqual(AGREE_MAX_REL);
    expect(v.agree).toBe('yes');
    expect(await page.getByTestId('inspector-server-line').getAttribute('d')).toBeTruthy();
    await page.getByTestId('inspector').screenshot({ path: join(ARTIFACTS, 'dashboard-scientist-inspector-vertical.png') });

    // a scan ray (calibration mode, the constant stored with the profile): agrees as well
    const rayValue = await page.getByTestId('in-profile').locator('optgroup').first().locator('option').nth(1).getAttribute('value');
    await page.getByTestId('in-profile').selectOption(rayValue!);
    await page.waitForFunction(() => /^scan profile/.test(document.querySelector('[data-testid=in-profile-info]')?.textContent ?? ''), undefined, { timeout: 30_000 });
    await page.waitForFunction(() => /reproduces the stored profile|differs from the stored profile/.test(document.querySelector('[data-testid=inspector-status]')?.textContent ?? ''), undefined, { timeout: 60_000 });
    expect(await page.getByTestId('in-constant-from').innerText()).toMatch(/stored with this profile/);
    const scanSame = /reproduces the stored profile: largest difference ([\d.e+-]+) %/.exec(await statusText(page));
    expect(scanSame, await statusText(page)).not.toBeNull();
    expect(Number(scanSame![1])).toBeLessThan(0.01);
    await page.getByLabel('Lidar ratio (sr)').fill('60');
    await page.getByLabel('Smoothing (m)').fill('30');
    await page.waitForFunction(() => /Largest difference from the stored profile/.test(document.querySelector('[data-testid=inspector-diff]')?.textContent ?? '') && !/Computing/.test(document.querySelector('[data-testid=inspector-status]')?.textContent ?? ''));
    const s = await compareWithServer(page);
    expect(s.sent.params.lidar_ratio_sr).toBe(60);
    expect(s.sent.params.smoothing_m).toBe(30);
    expect(s.sent.params.reference.lidar_constant).toBeGreaterThan(0);
    expect(s.onlyOne).toBe(0);
    expect(s.maxRel).toBeLessThanOrEqual(AGREE_MAX_REL);
    expect(s.agree).toBe('yes');
    await page.getByTestId('inspector').screenshot({ path: join(ARTIFACTS, 'dashboard-scientist-inspector-scan.png') });
    expectPageClean(problems);
    await page.close();
  }, 240_000);

  it('inspector: save, activate for the station and reprocess with progress from the SSE job events', async () => {
    const page = await browser!.context.newPage();
    const problems = await openScientist(page);
    const actions = page.getByTestId('inspector-actions');
    await actions.waitFor({ timeout: 60_000 });
    await page.getByTestId('in-token').fill(TOKEN);
    await page.getByLabel('MEE PM10 (m²/g)').fill('4.2');
    await actions.getByLabel('Name of the set').fill('scientist test');
    await actions.getByRole('button', { name: 'Save parameter set' }).click();
    await page.getByTestId('in-saved').waitFor();
    const id = /Saved as (p-[0-9a-f]{16})/.exec(await page.getByTestId('in-saved').innerText())?.[1];
    expect(id).toBeDefined();
    const set = (await (await fetch(`${base}/api/v1/param-sets/${id}`)).json()) as { params: { pm: { mee_pm10: number } } };
    expect(set.params.pm.mee_pm10).toBe(4.2);
    await actions.getByRole('button', { name: 'Activate for the station' }).click();
    await page.getByTestId('in-activated').waitFor();
    const sets = (await (await fetch(`${base}/api/v1/param-sets`)).json()) as { active: Record<string, string> };
    expect(sets.active.sofia).toBe(id);
    await actions.getByRole('button', { name: 'Reprocess with the saved set' }).click();
    const jobLine = page.getByTestId('in-job');
    await jobLine.waitFor();
    await page.waitForFunction(() => /^(done|failed|cancelled)$/.test(document.querySelector('[data-testid=in-job]')?.getAttribute('data-state') ?? ''), undefined, { timeout: 120_000 });
    // followed by the event stream (the page opened it in time; polling is the fall-back)
    expect(await jobLine.getAttribute('data-follow')).toBe('sse');
    const jobs = (await (await fetch(`${base}/api/v1/jobs`)).json()) as { jobs: Array<{ params_id: string; state: string; files_done: number; files_total: number }> };
    const job = jobs.jobs.find((j) => j.params_id === id)!;
    expect(job.state).toBe(await jobLine.getAttribute('data-state'));
    expect(job.state).toBe('done');
    expect(await jobLine.innerText()).toContain(`${job.files_done} / ${job.files_total} files`);
    expect(await jobLine.locator('progress').getAttribute('value')).toBe('1');
    await actions.screenshot({ path: join(ARTIFACTS, 'dashboard-scientist-actions.png') });
    expectPageClean(problems);
    await page.close();
  }, 240_000);

  it('range-height view, channel switch and PPI read-out', async () => {
    const page = await browser!.context.newPage();
    const problems = await openScientist(page);
    // range-height: the rays near one azimuth at their elevations, over the terrain
    await page.waitForFunction(() => performance.getEntriesByName('lidar-pm:rhi-draw').some((e: any) => e.detail.rays >= 2), undefined, { timeout: 60_000 });
    const caption = await page.getByTestId('rhi-caption').innerText();
    expect(caption).toMatch(/within 2° of azimuth \d+(\.\d)?° in the last 45 min, at elevations .*°/);
    expect(caption).toMatch(/vertical/);
    expect(await page.getByTestId('rhi-ground').getAttribute('d')).toMatch(/^M/);
    const rhiPixels = () =>
      page.evaluate(() => {
        const c = document.querySelector('[data-testid=rhi-canvas]');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let grey = 0;
        let coloured = 0;
        for (let i = 0; i < d.length; i += 4) {
          if (d[i + 3] < 200) continue;
          if (d[i] === 190 && d[i + 1] === 190 && d[i + 2] === 190) grey++;
          else coloured++;
        }
        return { grey, coloured, size: c.width * c.height };
      });
    const px = await rhiPixels();
    expect(px.coloured).toBeGreaterThan(200);
    expect(px.coloured + px.grey).toBeLessThan(px.size / 2); // rays, not a filled raster
    // another azimuth redraws
    const n0 = await page.evaluate(() => performance.getEntriesByName('lidar-pm:rhi-draw').length);
    const azimuths = await page.getByTestId('rhi-azimuth').locator('option').evaluateAll((os: any[]) => os.map((o) => o.value));
    expect(azimuths.length).toBeGreaterThan(1);
    const current = await page.getByTestId('rhi-azimuth').inputValue();
    await page.getByTestId('rhi-azimuth').selectOption(azimuths.find((a: string) => a !== current)!);
    await page.waitForFunction((k) => performance.getEntriesByName('lidar-pm:rhi-draw').length > k, n0);
    await page.getByTestId('rhi-azimuth').selectOption(current);
    await page.getByTestId('rhi-plot').scrollIntoViewIfNeeded();
    await page.waitForFunction(() => /at elevations/.test(document.querySelector('[data-testid=rhi-caption]')?.textContent ?? ''));
    await page.locator('section.rhi').screenshot({ path: join(ARTIFACTS, 'dashboard-scientist-rhi.png') });

    // channel switch: the quicklook and the PPI are asked for that channel and redrawn
    const stations = (await (await fetch(`${base}/api/v1/stations`)).json()) as { stations: Array<{ channels: string[] }> };
    const channels = stations.stations[0].channels;
    expect(channels.length).toBeGreaterThan(1);
    const other = [...channels].sort().find((c) => !c.startsWith('532'))!;
    const curtainDraws = await page.evaluate(() => performance.getEntriesByName('lidar-pm:curtain-draw').length);
    const ppiDraws = await page.evaluate(() => performance.getEntriesByName('lidar-pm:ppi-draw').length);
    const curtainReq = page.waitForResponse((r) => r.url().includes('/curtain?') && r.url().includes(`channel=${encodeURIComponent(other)}`));
    const scanReq = page.waitForResponse((r) => r.url().includes('/scan?') && r.url().includes(`channel=${encodeURIComponent(other)}`));
    await page.getByTestId('sc-channel').selectOption(other);
    expect((await curtainReq).status()).toBe(200);
    const scanResp = await scanReq;
    expect(scanResp.status()).toBe(200);
    await page.waitForFunction((k) => performance.getEntriesByName('lidar-pm:curtain-draw').length > k, curtainDraws);
    // the scenario scans only with the PM channel (532 nm); 1064 nm has vertical profiles only
    const otherScan = (await scanResp.json()) as { rays: unknown[] };
    if (otherScan.rays.length > 0) await page.waitForFunction((k) => performance.getEntriesByName('lidar-pm:ppi-draw').length > k, ppiDraws);
    else {
      await expect.poll(() => page.getByTestId('ppi-caption').innerText()).toBe('No scan in the look-back window.');
      // the range-height view falls back to the newest vertical profile of that channel
      await expect.poll(() => page.getByTestId('rhi-caption').innerText(), { timeout: 30_000 }).toMatch(/no scan of this channel in the last 45 min; the newest vertical profile only/);
    }
    expect(await page.getByTestId('sc-bar-label').innerText()).toContain(`channel ${other}`);
    await page.waitForFunction((c) => (document.querySelector('[data-testid=in-profile-info]')?.textContent ?? '').includes(c), other, { timeout: 60_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-scientist-channel.png') });
    // and back to the scanning channel
    const back = page.waitForResponse((r) => r.url().includes('/scan?') && r.url().includes('channel=532'));
    await page.getByTestId('sc-channel').selectOption([...channels].sort().find((c) => c.startsWith('532'))!);
    await back;
    await page.waitForFunction((k) => performance.getEntriesByName('lidar-pm:ppi-draw').length > k, ppiDraws);

    // PPI read-out: the pointer over a drawn (non-transparent) pixel of the scan
    await page.getByTestId('ppi-plot').scrollIntoViewIfNeeded();
    const target = await page.evaluate(() => {
      const c = document.querySelector('[data-testid=ppi-canvas]');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      for (let y = 0; y < c.height; y += 7)
        for (let x = 0; x < c.width; x += 7) {
          const o = (y * c.width + x) * 4;
          if (d[o + 3] > 0 && !(d[o] === 190 && d[o + 1] === 190 && d[o + 2] === 190)) return { x, y };
        }
      return null;
    });
    expect(target).not.toBeNull();
    const box = (await page.getByTestId('ppi-canvas').boundingBox())!;
    await page.mouse.move(box.x + target!.x, box.y + target!.y);
    await page.waitForFunction(() => /^Azimuth [\d.]+°, elevation [\d.]+°, range [\d.]+ km: [\d.e+-]+ /.test(document.querySelector('[data-testid=ppi-readout]')?.textContent ?? ''));
    await page.getByTestId('ppi-marker').waitFor();
    await page.locator('section.ppi').screenshot({ path: join(ARTIFACTS, 'dashboard-scientist-ppi-hover.png') });
    // the same with the keyboard: focus the scan, arrows move the read-out
    const hovered = await page.getByTestId('ppi-readout').innerText();
    await page.getByTestId('ppi-canvas').focus();
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowUp');
    await page.waitForFunction((h) => {
      const t = document.querySelector('[data-testid=ppi-readout]')?.textContent ?? '';
      return t !== h && /^Azimuth [\d.]+°, elevation [\d.]+°, range [\d.]+ km: /.test(t);
    }, hovered);
    expectPageClean(problems);
    await page.close();
  }, 240_000);
});
