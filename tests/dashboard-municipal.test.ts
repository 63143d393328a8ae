// The municipal and public views with official AQ-station PM, in a real browser (Debian chromium,
// headless, playwright-core) against the real service (tests/harness/dashboard-service.ts: built
// dashboard, `lidar-pm serve` with the embedded store and the replayed winter scenario shifted to
// now). Station hours are imported through the API (PUT /aq-stations/{id}/hourly with an "aq"
// token); the districts view then shows lidar and station side by side (chart with both lines,
// agreement as the API computes it, daily means, CSV), the period switch (7 days, calendar year with
// the year calendar), the US AQI option of the map legend (colours and names change, remembered
// after a reload), and a click away from every cell ("no lidar measurement here", the nearest AQ
// station with its official value). Fails on console errors, page errors, CSP violations, failed
// requests and requests to other hosts. Screenshots: tests/artifacts/dashboard-municipal-*.png.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { chromiumAvailable, type Chromium, type PageProblems } from './harness/chromium.js';
import type { DashboardService } from './harness/dashboard-service.js';
import { ARTIFACTS, expectPageClean, openDashboard, startDashboardWithChromium, stopDashboardWithChromium, tokenAuthConfig } from './harness/dashboard-page.js';
import { bandFor } from '../dashboard/src/lib/aqi.js';
import { formatPm } from '../dashboard/src/lib/format.js';

declare const localStorage: any;

const TOKEN = randomBytes(24).toString('base64url');
const HOUR = 3_600_000;
let svc: DashboardService | null = null;
let browser: Chromium | null = null;
let base = '';

interface Comparison {
  aq_station: string;
  hours: Array<{ time: string; lidar: number | null; station: number | null }>;
  days: Array<{ date: string; lidar: number | null; station: number | null; station_hours: number }>;
  stats: { hourly: { n: number; mean_bias: number | null; r: number | null }; daily: { n: number } };
}
interface AqInfo {
  id: string;
  name_en: string;
  lat: number;
  lon: number;
  official: { pm10: number | null; time: string } | null;
}
const api = async <T>(path: string): Promise<T> => {
  const r = await fetch(`${base}/api/v1/${path}`);
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
};
const putCsv = async (id: string, csv: string): Promise<number> => {
  const r = await fetch(`${base}/api/v1/aq-stations/${id}/hourly?source=browser-test`, { method: 'PUT', headers: { 'content-type': 'text/csv', authorization: `Bearer ${TOKEN}` }, body: csv });
  if (r.status !== 201 && r.status !== 200) throw new Error(`PUT ${id}: HTTP ${r.status} ${await r.text()}`);
  return r.status;
};

/** The AQ station the comparison pairs (lidar cells within 1 km), the far one for the map click, and what was stored. */
let paired = '';
let far: AqInfo | null = null;
let farLatest = 0;
let yesterday = '';

const open = (page: Page, hash = ''): Promise<PageProblems> => openDashboard(page, base, hash);

const skip = !chromiumAvailable();

beforeAll(async () => {
  if (skip) return;
  // Chromium idles while the station hours are loaded.
  ({ svc, browser } = await startDashboardWithChromium({ config: tokenAuthConfig('aq-loader', TOKEN, ['aq']) }, { viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'America/New_York' }));
  base = svc.base;

  // The AQ station whose 1 km neighbourhood the replayed scans cover, and the one farthest from them.
  const list = (await api<{ stations: AqInfo[] }>('aq-stations?station=sofia')).stations;
  let best: { id: string; n: number } | null = null;
  const lidarHours = new Map<string, string[]>();
  for (const s of list) {
    const c = await api<Comparison>(`stations/sofia/aq-stations/${s.id}/comparison?radius_m=1000`);
    const hours = c.hours.filter((h) => h.lidar !== null).map((h) => h.time);
    lidarHours.set(s.id, hours);
    if (hours.length > 0 && (!best || hours.length > best.n)) best = { id: s.id, n: hours.length };
  }
  if (!best) throw new Error(`no AQ station has lidar cells within 1 km:\n${svc.log().slice(-2000)}`);
  paired = best.id;
  const lidar = (await api<{ stations: Array<{ lat: number; lon: number }> }>('stations')).stations[0];
  far = [...list].filter((s) => s.id !== paired).sort((a, b) => Math.hypot(b.lat - lidar.lat, b.lon - lidar.lon) - Math.hypot(a.lat - lidar.lat, a.lon - lidar.lon))[0];

  // Official hours: every hour the lidar has (lidar x 0.8 + 5) plus the whole previous local day
  // (alternating 40 / 44: daily mean 42) at the paired station; the far station's last 6 hours.
  const lastComplete = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
  const c = await api<Comparison>(`stations/sofia/aq-stations/${paired}/comparison?radius_m=1000`);
  const rows = new Map<number, number>();
  for (const h of c.hours) if (h.lidar !== null && Date.parse(h.time) <= lastComplete) rows.set(Date.parse(h.time), Math.round((h.lidar * 0.8 + 5) * 10) / 10);
  const todayStart = Date.parse(`${new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Sofia' }).format(Date.now())}T00:00:00Z`);
  // Local midnight of today in Sofia (UTC+2 or +3): the whole-hour UTC instant whose Sofia date begins there.
  let midnight = todayStart - 3 * HOUR;
  while (new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Sofia', hour: '2-digit', hourCycle: 'h23' }).format(midnight) !== '00') midnight += HOUR;
  yesterday = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Sofia' }).format(midnight - HOUR);
  for (let t = midnight - 24 * HOUR, k = 0; t < midnight; t += HOUR, k++) if (!rows.has(t)) rows.set(t, k % 2 === 0 ? 40 : 44);
  const csv = ['time,pm10', ...[...rows.entries()].sort((a, b) => a[0] - b[0]).map(([t, v]) => `${new Date(t).toISOString()},${v}`)].join('\n');
  expect(await putCsv(paired, csv)).toBe(201);
  expect(await putCsv(paired, csv)).toBe(200); // idempotent
  const farCsv = ['time,pm10', ...[5, 4, 3, 2, 1, 0].map((k) => `${new Date(lastComplete - k * HOUR).toISOString()},${60 + k}`)].join('\n');
  expect(await putCsv(far!.id, farCsv)).toBe(201);
  farLatest = 60;
}, 300_000);

afterAll(() => stopDashboardWithChromium({ svc, browser }));

describe.skipIf(skip)('municipal and public views with official AQ-station PM (Chromium)', () => {
  it('districts: lidar vs station side by side, agreement as the API computes it, daily means, CSV, periods and the year calendar', async () => {
    const page = await browser!.context.newPage();
    const problems = await open(page, '#/districts');
    await page.getByTestId('district-limits').waitFor({ timeout: 30_000 });
    // Choose the paired station and the 1 km neighbourhood.
    await page.getByTestId('cmp-station').selectOption(paired);
    const cmpReq = page.waitForResponse((r) => r.url().includes(`/aq-stations/${paired}/comparison`) && r.url().includes('radius_m=1000'));
    await page.getByTestId('cmp-radius').selectOption('1000');
    const apiCmp = (await (await cmpReq).json()) as Comparison;
    const section = page.locator(`[data-testid="comparison"][data-aq="${paired}"][data-radius="1000"]`);
    await section.waitFor({ timeout: 15_000 });
    // Both sides drawn.
    await section.getByTestId('pair-lidar').waitFor();
    await section.getByTestId('pair-station').waitFor();
    expect(await section.locator('svg[role="img"] circle.lidar-pt').count()).toBe(apiCmp.hours.filter((h) => h.lidar !== null).length);
    expect(await section.locator('svg[role="img"] rect.station-pt').count()).toBe(apiCmp.hours.filter((h) => h.station !== null).length);
    // Agreement: n and mean bias as the API says, and the bias is what the stored values imply.
    const both = apiCmp.hours.filter((h) => h.lidar !== null && h.station !== null) as Array<{ lidar: number; station: number }>;
    expect(both.length).toBeGreaterThan(0);
    expect(apiCmp.stats.hourly.n).toBe(both.length);
    const bias = both.reduce((s, h) => s + (h.lidar - h.station), 0) / both.length;
    // The API writes the hourly values and its mean to 6 significant digits (half a unit is at most
    // 5e-6 of the value; lidar hours of 100-200 ug/m3 are rounded by up to 5e-4).
    const roundingBound = both.reduce((s, h) => s + 5e-6 * (Math.abs(h.lidar) + Math.abs(h.station)), 0) / both.length + 5e-6 * Math.abs(bias) + 1e-9;
    expect(Math.abs(apiCmp.stats.hourly.mean_bias! - bias)).toBeLessThanOrEqual(roundingBound);
    const stats = await section.getByTestId('cmp-stats').innerText();
    expect(stats).toContain(`Hours with both: ${both.length}; mean bias (lidar − station): ${bias.toLocaleString('en-GB', { minimumFractionDigits: 1, maximumFractionDigits: 1 })} µg/m³`);
    // Daily means: yesterday (24 official hours alternating 40 / 44) is a valid station day of 42.
    const daily = section.getByTestId('cmp-daily');
    const row = daily.locator('tr', { hasText: yesterday });
    expect(await row.innerText()).toMatch(new RegExp(`${yesterday}\\s+\\S+.*\\s+42\\s`));
    // CSV of the paired series answers CSV with one line per paired hour.
    const href = await section.getByTestId('cmp-csv').getAttribute('href');
    const csv = await fetch(new URL(href!, `${base}/`));
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = (await csv.text()).trimEnd().split('\r\n');
    expect(lines[0]).toBe('hour start (UTC ISO 8601),lidar pm10 (ug/m3),station pm10 (ug/m3),lidar n (bins)');
    expect(lines.length).toBe(apiCmp.hours.length + 1);
    // The AQ table shows the latest official hour.
    const aqRow = page.getByTestId('aq-lidar').locator('tr', { hasText: far!.id });
    expect(await aqRow.getByTestId('aq-official').innerText()).toMatch(new RegExp(`^${farLatest} \\(`));
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-municipal-compare.png'), fullPage: true });

    // Period: last 7 days -> the districts are asked for a 7-day window.
    const req7 = page.waitForRequest((r) => r.url().includes('/districts?') && r.url().includes('from='));
    await page.getByTestId('mu-window').selectOption('7');
    const u7 = new URL((await req7).url());
    expect(Number(u7.searchParams.get('to')) - Number(u7.searchParams.get('from'))).toBe(7 * 24 * HOUR);
    await page.getByText('Last 7 days; daily means in local days').waitFor();
    // Calendar year: the year calendar of the chosen district, months x days.
    const year = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Sofia', year: 'numeric' }).format(Date.now());
    await page.getByTestId('mu-window').selectOption(`year:${year}`);
    const cal = page.getByTestId('year-calendar');
    await cal.waitFor({ timeout: 15_000 });
    const csvUrl = new URL((await page.getByRole('link', { name: 'Daily means of all districts (CSV)' }).getAttribute('href'))!, `${base}/`);
    const districtsApi = await api<{ districts: Array<{ district: string; days: Array<{ date: string }> }> }>(
      `stations/sofia/districts?product=pm10&from=${csvUrl.searchParams.get('from')}&to=${csvUrl.searchParams.get('to')}`,
    );
    const chosen = await page.getByTestId('year-cal-district').inputValue();
    const days = districtsApi.districts.find((d) => d.district === chosen)!.days;
    expect(days[0].date).toBe(`${year}-01-01`);
    // (The calendar may still show the 7-day window's days for a moment: poll until it is redrawn.)
    await expect.poll(() => cal.locator('td.yd:not(.none)').count(), { timeout: 15_000 }).toBe(days.length);
    expect(await cal.locator('tbody tr').count()).toBe(new Set(days.map((d) => d.date.slice(0, 7))).size);
    await page.getByRole('heading', { name: new RegExp(`Year calendar ${year}`) }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-municipal-year.png'), fullPage: true });
    expectPageClean(problems);
    await page.close();
  }, 120_000);

  it('public map: the US AQI option recolours cells and legend and is remembered; a click away from the cells says there is no lidar measurement and shows the nearest station\'s official value', async () => {
    const page = await browser!.context.newPage();
    const problems = await open(page);
    await page.waitForSelector('path.cell', { timeout: 60_000 });
    const legend = page.locator('section.legend');
    expect(await legend.innerText()).toContain('European Air Quality Index');
    await page.getByTestId('aqi-scale').selectOption('usaqi');
    await page.waitForFunction(() => (globalThis as any).document.querySelector('section.legend')?.getAttribute('data-scale') === 'usaqi');
    const text = await legend.innerText();
    expect(text).toContain('US AQI (EPA 2024');
    for (const n of ['Good', 'Moderate', 'Unhealthy for sensitive groups', 'Unhealthy', 'Very unhealthy', 'Hazardous']) expect(text).toContain(n);
    expect(text).toContain('55–154'); // PM10, printed as the EPA does
    // Cells in US AQI colours (compare with the API's map of the same scan).
    const checkColours = async (scale: 'eaqi' | 'usaqi') => {
      for (let attempt = 0; attempt < 10; attempt++) {
        const m = (await api<{ time: string; features: Array<{ id: string; properties: { value: number | null } }> }>('stations/sofia/map?product=pm10'));
        const drawn = await page.$$eval('path.cell', (els) => els.map((e) => ({ id: e.getAttribute('data-cell') ?? '', fill: e.getAttribute('fill') ?? '' })));
        const values = new Map(m.features.map((f) => [f.id, f.properties.value]));
        if (drawn.length === m.features.length && drawn.every((d) => values.has(d.id))) {
          for (const d of drawn) expect(d.fill.toUpperCase(), d.id).toBe((bandFor('pm10', values.get(d.id) ?? null, scale)?.colour ?? '#9aa0a6').toUpperCase());
          return;
        }
        await page.waitForTimeout(2000);
      }
      throw new Error('the page never showed the API map');
    };
    await checkColours('usaqi');
    expect(await page.evaluate(() => localStorage.getItem('lidar-pm.aqi'))).toBe('usaqi');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-municipal-map-usaqi.png') });
    await page.reload();
    await page.waitForSelector('path.cell', { timeout: 60_000 });
    expect(await page.locator('section.legend').getAttribute('data-scale')).toBe('usaqi');
    await page.getByTestId('aqi-scale').selectOption('eaqi');
    await checkColours('eaqi');

    // Click on the far AQ station's marker (markers let clicks through to the map): far from every cell.
    const marker = page.locator(`g.aq[aria-label$="(${far!.id})"] rect`);
    const box = (await marker.boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    const place = page.getByTestId('place-detail');
    await place.waitFor({ timeout: 10_000 });
    expect(await place.getByTestId('place-none').innerText()).toBe('No lidar measurement here: the scan does not cover this place.');
    expect(await place.innerText()).toMatch(/The nearest measured cell is [\d.,]+ k?m away\./);
    expect(await place.getByTestId('nearest-aq').getAttribute('data-aq')).toBe(far!.id);
    expect(await place.innerText()).toMatch(/Nearest official station: [^\n]+, \d+ m\n/); // the place is on the marker
    expect(await place.getByTestId('nearest-aq-official').innerText()).toContain(`${formatPm(farLatest)} µg/m³`);
    await page.getByTestId('place-marker').waitFor();
    expect(await page.getByTestId('cell-detail').count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-municipal-map-place.png') });
    // "Show the nearest measured cell" opens that cell's detail.
    await place.getByRole('button', { name: 'Show the nearest measured cell' }).click();
    await page.getByTestId('cell-detail').waitFor();
    expectPageClean(problems);
    await page.close();
  }, 120_000);
});
