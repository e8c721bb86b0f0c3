#!/usr/bin/env node
// End-to-end check of the embedded support form in a real Chromium.
//
//   FTE_BASE_URL=https://support-api.example npm run e2e   # against the gateway (serves /demo and /widget/…)
//   npm run e2e:dev                                        # builds, then runs against e2e/dev-server.mjs
//
// Steps: open ${base}/demo, check that an empty submit is refused with focus on the first field,
// fill in and send the form, read the ticket ID, wait (up to 60 s) for an agent reply in the
// status view, save e2e/artifacts/status.png, then reopen the page at 320 px wide from the
// #ticket=<id> link and check that the status view fits. Exits non-zero with a message on failure.
//
// Environment: FTE_BASE_URL (required without --dev), CHROMIUM_PATH (default /usr/bin/chromium),
// FTE_E2E_REPLY_TIMEOUT_MS (default 60000).

import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = join(HERE, 'artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const REPLY_TIMEOUT_MS = Number(process.env.FTE_E2E_REPLY_TIMEOUT_MS || 60_000);
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

class E2EFailure extends Error {}

function fail(message) {
  throw new E2EFailure(message);
}

function step(message) {
  console.log(`[e2e] ${message}`);
}

async function expectVisible(locator, what, timeout = 10_000) {
  try {
    await locator.first().waitFor({ state: 'visible', timeout });
  } catch {
    fail(`${what} did not appear within ${Math.round(timeout / 1000)} s`);
  }
}

async function run(baseUrl) {
  const base = baseUrl.replace(/\/+$/, '');
  const baseOrigin = new URL(base).origin;
  if (!existsSync(CHROMIUM)) {
    fail(`Chromium not found at ${CHROMIUM}. Install it with "apt-get install -y chromium" or set CHROMIUM_PATH.`);
  }
  await mkdir(ARTIFACTS, { recursive: true });
  const userDataDir = await mkdtemp(join(tmpdir(), 'fte-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1024, height: 900 },
  });
  const foreignRequests = new Set();
  const pageErrors = [];

  try {
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('request', (request) => {
      const url = request.url();
      if (!/^https?:/.test(url)) return;
      if (new URL(url).origin !== baseOrigin) foreignRequests.add(url);
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));

    step(`opening ${base}/demo`);
    const response = await page.goto(`${base}/demo`, { waitUntil: 'load', timeout: 30_000 });
    if (!response || !response.ok()) fail(`GET ${base}/demo answered ${response ? response.status() : 'nothing'}`);

    const widget = page.locator('#fte-support-form .fte-sf');
    await expectVisible(page.getByRole('heading', { name: 'Contact Orbitask Support' }), 'The support form');

    step('checking that an incomplete form is refused and focus moves to the first field');
    // Leave focus in an invalid field: its error must not move the button away from the click.
    await widget.getByLabel('Email', { exact: true }).fill('maria@');
    await widget.getByRole('button', { name: 'Send request' }).click();
    await expectVisible(widget.getByText(/^Please check \d+ fields?:/), 'The error summary');
    const focusedLabel = await page.evaluate(() => {
      const el = document.activeElement;
      return el && el.id ? document.querySelector(`label[for="${CSS.escape(el.id)}"]`)?.textContent : null;
    });
    if (focusedLabel !== 'Name') fail(`focus should be on the Name field after an incomplete submit, was on ${focusedLabel}`);

    const honeypot = widget.locator('input[name="website"]');
    const box = await honeypot.boundingBox();
    if (box && box.x + box.width > 0 && box.y + box.height > 0 && box.x < 1024) {
      fail('the honeypot field is visible on screen');
    }

    step('filling in the form');
    const stamp = new Date().toISOString();
    await widget.getByLabel('Name', { exact: true }).fill('Maria Lopez');
    await widget.getByLabel('Email', { exact: true }).fill('maria.lopez@example.com');
    await widget.getByLabel(/^Phone/).fill('+34 612 345 678');
    await widget.getByLabel('Category', { exact: true }).selectOption('technical');
    await widget.getByLabel('Subject', { exact: true }).fill(`Password reset email does not arrive (${stamp})`);
    const message = 'I asked for a password reset twice today, but the email never arrived. How can I reset my password?';
    await widget.getByLabel('Message', { exact: true }).fill(message);
    await widget.getByLabel(/^Priority/).selectOption('medium');
    const counter = await widget.getByText(/^\d+ \/ 5000/).textContent();
    const expectedCounter = `${[...message.trim()].length} / 5000`;
    if (!counter || !counter.startsWith(expectedCounter)) {
      fail(`the message counter shows "${counter}", expected "${expectedCounter}"`);
    }

    step('sending');
    await widget.getByRole('button', { name: 'Send request' }).click();
    const alert = widget.locator('.fte-sf-alert--error');
    const outcome = await Promise.race([
      widget
        .getByRole('heading', { name: 'Thank you. We have received your request.' })
        .waitFor({ timeout: 30_000 })
        .then(() => 'ok'),
      alert.waitFor({ timeout: 30_000 }).then(() => 'alert'),
    ]).catch(() => 'timeout');
    if (outcome === 'alert') fail(`the form showed an error instead of a confirmation: ${await alert.innerText()}`);
    if (outcome === 'timeout') fail('no confirmation within 30 s after sending');

    const ticketId = (await widget.getByTestId('ticket-id').first().textContent())?.trim() ?? '';
    if (!UUID.test(ticketId)) fail(`the confirmation shows "${ticketId}", which is not a ticket ID`);
    step(`ticket ${ticketId}`);
    await expectVisible(widget.getByText('Estimated response time'), 'The estimated response time');

    step(`waiting up to ${Math.round(REPLY_TIMEOUT_MS / 1000)} s for an agent reply`);
    const agentMessage = widget.locator('.fte-sf-conversation [data-role="agent"]');
    try {
      await agentMessage.first().waitFor({ state: 'visible', timeout: REPLY_TIMEOUT_MS });
    } catch {
      const status = await widget.locator('.fte-sf-badge').textContent().catch(() => null);
      fail(`no agent reply within ${Math.round(REPLY_TIMEOUT_MS / 1000)} s (status: ${status ?? 'unknown'})`);
    }
    const reply = await agentMessage.first().innerText();
    if (!reply.includes('Orbitask Support')) fail('the agent message has no "Orbitask Support" label');
    const badge = (await widget.locator('.fte-sf-badge').textContent())?.trim();
    step(`agent replied; status badge: ${badge}`);

    const screenshot = join(ARTIFACTS, 'status.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    step(`screenshot saved to ${screenshot}`);

    const hash = await page.evaluate(() => window.location.hash);
    if (hash !== `#ticket=${ticketId}`) fail(`the page URL hash is "${hash}", expected #ticket=${ticketId}`);

    step('reopening the ticket link at 320 px wide');
    await page.setViewportSize({ width: 320, height: 800 });
    await page.goto(`${base}/demo#ticket=${ticketId}`, { waitUntil: 'load' });
    await page.reload({ waitUntil: 'load' });
    await expectVisible(widget.getByRole('heading', { name: 'Your ticket' }), 'The status view opened from the link');
    await agentMessage.first().waitFor({ state: 'visible', timeout: 15_000 }).catch(() => {
      fail('the status view opened from the link shows no agent reply');
    });
    const overflow = await widget.evaluate((el) => {
      const rect = el.getBoundingClientRect();
      return { right: rect.right, scroll: el.scrollWidth, client: el.clientWidth };
    });
    if (overflow.right > 320.5 || overflow.scroll > overflow.client + 1) {
      fail(`the form does not fit 320 px: ${JSON.stringify(overflow)}`);
    }
    await page.screenshot({ path: join(ARTIFACTS, 'status-320.png'), fullPage: true });

    if (pageErrors.length > 0) fail(`the page threw: ${pageErrors.join('; ')}`);
    if (foreignRequests.size > 0) {
      fail(`the page made requests outside ${baseOrigin}: ${[...foreignRequests].join(', ')}`);
    }
    step('passed');
  } catch (error) {
    const page = context.pages()[0];
    if (page) {
      await page.screenshot({ path: join(ARTIFACTS, 'failure.png'), fullPage: true }).catch(() => {});
      console.error(`[e2e] failure screenshot: ${join(ARTIFACTS, 'failure.png')}`);
    }
    throw error;
  } finally {
    await context.close().catch(() => {});
    await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
  }
}

async function main() {
  const dev = process.argv.includes('--dev');
  let server = null;
  let baseUrl = process.env.FTE_BASE_URL;
  if (dev) {
    const { startDevServer } = await import('./dev-server.mjs');
    server = await startDevServer({ port: 0, quiet: true });
    baseUrl = server.url;
    step(`dev server on ${baseUrl}`);
  } else if (!baseUrl) {
    fail('Set FTE_BASE_URL to the gateway address (e.g. FTE_BASE_URL=http://127.0.0.1:8080 npm run e2e), or run "npm run e2e:dev".');
  }
  try {
    await run(baseUrl);
  } finally {
    await server?.close();
  }
}

main().then(
  () => {
    console.log('1 passed, 0 failed');
    process.exit(0);
  },
  (error) => {
    const message = error instanceof E2EFailure ? error.message : (error?.stack ?? String(error));
    console.error(`[e2e] FAILED: ${message}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
