// Shared pieces of the browser tests: Debian's Chromium through playwright-core, steps and
// failures, the accessibility check (axe-core), and a watch for requests that fail.

import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
export const ARTIFACTS = join(HERE, 'artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Hostnames of the cross-origin test: pages "of other sites" served from this machine.
  '--host-resolver-rules=MAP *.test 127.0.0.1',
];
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const REPLY_TIMEOUT_MS = Number(process.env.FTE_E2E_REPLY_TIMEOUT_MS || 60_000);

export class E2EFailure extends Error {}

export function fail(message) {
  throw new E2EFailure(message);
}

export function step(message) {
  console.log(`[e2e] ${message}`);
}

export async function expectVisible(locator, what, timeout = 10_000) {
  try {
    await locator.first().waitFor({ state: 'visible', timeout });
  } catch {
    fail(`${what} did not appear within ${Math.round(timeout / 1000)} s`);
  }
}

/**
 * A fresh Chromium profile. Options: viewport, locale (also the Accept-Language and
 * navigator.languages), colorScheme ('light' | 'dark').
 * Resolves to { context, page, pageErrors, consoleErrors, failedRequests, close() }.
 * @param {{ viewport?: { width: number, height: number }, locale?: string, colorScheme?: 'light' | 'dark' }} [options]
 */
export async function openBrowser({ viewport = { width: 1024, height: 900 }, locale = 'en-US', colorScheme = 'light' } = {}) {
  if (!existsSync(CHROMIUM)) {
    fail(`Chromium not found at ${CHROMIUM}. Install it with "apt-get install -y chromium" or set CHROMIUM_PATH.`);
  }
  await mkdir(ARTIFACTS, { recursive: true });
  const userDataDir = await mkdtemp(join(tmpdir(), 'fte-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_FLAGS, `--lang=${locale}`],
    viewport,
    locale,
    colorScheme,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors = [];
  const consoleErrors = [];
  const failedRequests = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('response', (response) => {
    if (response.status() >= 400) failedRequests.push(`${response.status()} ${response.url()}`);
  });
  return {
    context,
    page,
    pageErrors,
    consoleErrors,
    failedRequests,
    async close() {
      await context.close().catch(() => {});
      await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
    },
  };
}

const require = createRequire(import.meta.url);
let axeSource;

/**
 * Runs axe-core (WCAG 2.0/2.1 A and AA rules) on the element matching `selector` and fails
 * on any serious or critical violation, naming the rule and the first elements at fault.
 */
export async function checkAccessibility(page, selector, view) {
  axeSource ??= await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async (target) => {
    const result = await /** @type {any} */ (window).axe.run(document.querySelector(target), {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
    }));
  }, selector);
  const blocking = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (blocking.length > 0) {
    fail(
      `accessibility (${view}): ${blocking
        .map((v) => `${v.impact} ${v.id} (${v.help}) at ${v.nodes.join(', ')}`)
        .join('; ')}`,
    );
  }
  step(`axe-core: no serious or critical violation on the ${view} (${violations.length} minor)`);
}

/** Saves a screenshot under e2e/artifacts. */
export async function screenshot(page, name) {
  const path = join(ARTIFACTS, name);
  await page.screenshot({ path, fullPage: true });
  step(`screenshot saved to ${path}`);
}

/**
 * Fails when the page threw or a request it made failed (a missing favicon included).
 * @param {{ pageErrors: string[], failedRequests: string[] }} browser
 * @param {string} what
 * @param {(request: string) => boolean} [allowed]
 */
export function expectCleanPage(browser, what, allowed = () => false) {
  if (browser.pageErrors.length > 0) fail(`${what}: the page threw: ${browser.pageErrors.join('; ')}`);
  const failed = browser.failedRequests.filter((r) => !allowed(r));
  if (failed.length > 0) fail(`${what}: requests failed: ${failed.join(', ')}`);
}
