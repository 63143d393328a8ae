/**
 * Debian Chromium driven by playwright-core (docs: ../shared/design/STACK.md "Browser tests"): headless,
 * a temporary profile folder given to launchPersistentContext, removed on close. Never downloads a
 * browser (`npx playwright install` is not used). Also records what a page does that a test must
 * fail on: console errors, page errors, CSP violations and requests to other origins.
 */
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.LIDAR_PM_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Whether the Debian chromium binary is there (tests skip with this reason otherwise). */
export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

export interface Chromium {
  context: BrowserContext;
  /** Closes the browser and removes the profile folder. */
  close(): Promise<void>;
}

export async function launchChromium(opts: { viewport?: { width: number; height: number }; locale?: string; timezoneId?: string; isMobile?: boolean; hasTouch?: boolean; deviceScaleFactor?: number } = {}): Promise<Chromium> {
  const profile = mkdtempSync(join(tmpdir(), 'lidar-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: opts.viewport ?? { width: 1280, height: 860 },
      locale: opts.locale ?? 'en-GB',
      timezoneId: opts.timezoneId ?? 'UTC',
      isMobile: opts.isMobile,
      hasTouch: opts.hasTouch,
      deviceScaleFactor: opts.deviceScaleFactor,
      serviceWorkers: 'block',
    });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  return {
    context,
    async close() {
      try {
        await context.close();
      } finally {
        rmSync(profile, { recursive: true, force: true });
      }
    },
  };
}

export interface PageProblems {
  consoleErrors: string[];
  pageErrors: string[];
  cspViolations: string[];
  foreignRequests: string[];
  failedRequests: string[];
}

/**
 * Starts recording a page's problems. `origin` is the only origin the page may talk to (anything
 * else is recorded and aborted: the dashboard must work offline). Call before page.goto.
 */
export async function watchPage(page: Page, origin: string): Promise<PageProblems> {
  const p: PageProblems = { consoleErrors: [], pageErrors: [], cspViolations: [], foreignRequests: [], failedRequests: [] };
  page.on('console', (m) => {
    if (m.type() === 'error') p.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => p.pageErrors.push(String(e)));
  page.on('requestfailed', (r) => {
    const f = r.failure()?.errorText ?? '';
    // Aborted on purpose (our own abort controllers, EventSource closed at navigation) is not a failure.
    if (!/ERR_ABORTED/.test(f)) p.failedRequests.push(`${r.url()} ${f}`);
  });
  // fallback(), not continue(): a test's own earlier page.route (a delayed answer) still runs.
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(origin + '/') || url === origin || url.startsWith('data:') || url.startsWith('blob:')) return route.fallback();
    p.foreignRequests.push(url);
    return route.abort();
  });
  await page.exposeFunction('__reportCsp', (s: string) => p.cspViolations.push(s));
  // Runs in the page (a string: the Node tsconfig has no DOM types).
  await page.addInitScript(`document.addEventListener('securitypolicyviolation', (e) => window.__reportCsp(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber));`);
  return p;
}
