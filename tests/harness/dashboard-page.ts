/**
 * What every dashboard browser test does with a page (tests/dashboard-{browser,scientist,municipal,
 * operator}.test.ts): start the service with the built dashboard (./dashboard-service.ts) and
 * Chromium (./chromium.ts), open a route while recording the page's problems (watchPage), require
 * that none happened, poll a condition, and the write-token configuration for the service.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import { launchChromium, watchPage, type Chromium, type PageProblems } from './chromium.js';
import { startDashboardService, type DashboardService, type DashboardServiceOptions } from './dashboard-service.js';

/** Screenshots and measured times of the browser tests (git-ignored). */
export const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts');

/**
 * The service with the built dashboard, then Chromium with `browserOptions` (the service is stopped
 * again when Chromium does not start); creates ARTIFACTS. Stop both with `stopDashboardWithChromium`.
 */
export async function startDashboardWithChromium(serviceOptions: DashboardServiceOptions, browserOptions: Parameters<typeof launchChromium>[0]): Promise<{ svc: DashboardService; browser: Chromium }> {
  const svc = await startDashboardService(serviceOptions);
  mkdirSync(ARTIFACTS, { recursive: true });
  try {
    return { svc, browser: await launchChromium(browserOptions) };
  } catch (e) {
    await svc.stop();
    throw e;
  }
}

/** Closes the browser, then stops the service (either may be null: a skipped or failed start). */
export async function stopDashboardWithChromium(s: { svc: DashboardService | null; browser: Chromium | null }): Promise<void> {
  await s.browser?.close();
  await s.svc?.stop();
}

/**
 * Starts recording the page's problems, opens `${base}/${hash}` and requires a 200 answer with the
 * service's CSP (so that "no CSP violations" means something). Returns the problems to check later.
 */
export async function openDashboard(page: Page, base: string, hash = ''): Promise<PageProblems> {
  const problems = await watchPage(page, base);
  const resp = await page.goto(`${base}/${hash}`);
  expect(resp?.status()).toBe(200);
  expect(resp?.headers()['content-security-policy']).toMatch(/script-src 'self'/);
  return problems;
}

/** No console errors, page errors, CSP violations, requests to other hosts or failed requests. */
export function expectPageClean(p: PageProblems): void {
  expect(p.consoleErrors, 'console errors').toEqual([]);
  expect(p.pageErrors, 'page errors').toEqual([]);
  expect(p.cspViolations, 'CSP violations').toEqual([]);
  expect(p.foreignRequests, 'requests to other hosts').toEqual([]);
  expect(p.failedRequests, 'failed requests').toEqual([]);
}

/** Service configuration (`auth`) with one bearer token: its SHA-256, a name and its scopes. */
export function tokenAuthConfig(name: string, token: string, scopes: string[]): Record<string, unknown> {
  return { auth: { tokens: [{ name, sha256: createHash('sha256').update(token).digest('hex'), scopes }] } };
}

/** Polls `check` (which throws while not yet true) until it passes or `timeoutMs` is over, then rethrows its last error. */
export async function eventually(check: () => Promise<void>, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    try {
      await check();
      return;
    } catch (e) {
      if (Date.now() - t0 > timeoutMs) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
