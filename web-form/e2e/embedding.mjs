// The form embedded on pages of other origins, exactly as the README says: a local origin
// (allowed in the dev profile), an origin in CORS_ALLOWED_ORIGINS, and — against the gateway —
// an origin that is not allowed, whose refusal the form reports in the console with the
// setting's name.

import { ENGLISH, submitForm } from './conversation.mjs';
import { expectCleanPage, expectVisible, fail, openBrowser, screenshot, step } from './lib.mjs';

async function submitFrom(pageUrl, gateway) {
  const browser = await openBrowser();
  const { page } = browser;
  try {
    step(`embedding from ${new URL(pageUrl).origin}`);
    await page.goto(pageUrl, { waitUntil: 'load' });
    const widget = page.locator('#fte-support-form .fte-sf');
    await expectVisible(widget.getByRole('heading', { name: 'Contact Orbitask Support' }), 'The embedded form');
    const ticketId = await submitForm(widget, ENGLISH, {
      name: 'Partner Customer',
      email: 'partner.customer@example.com',
      subject: 'Inviting members to a workspace',
      message: 'How long is an invitation link to a workspace valid?',
      category: 'general',
    });
    const requests = await page.evaluate(() => performance.getEntriesByType('resource').map((r) => r.name));
    if (!requests.some((name) => name.startsWith(`${gateway}/support/submit`))) fail('the form did not call the gateway');
    step(`submitted from another origin: ticket ${ticketId}`);
    expectCleanPage(browser, `the page on ${new URL(pageUrl).origin}`);
  } catch (error) {
    await screenshot(page, 'failure-embedding.png').catch(() => {});
    throw error;
  } finally {
    await browser.close();
  }
}

async function refusedFrom(pageUrl) {
  const browser = await openBrowser();
  const { page } = browser;
  try {
    step(`embedding from ${new URL(pageUrl).origin}, which the gateway does not allow`);
    await page.goto(pageUrl, { waitUntil: 'load' });
    const widget = page.locator('#fte-support-form .fte-sf');
    await expectVisible(widget.getByRole('heading', { name: 'Contact Orbitask Support' }), 'The embedded form');
    await widget.getByLabel('Name', { exact: true }).fill('Someone Else');
    await widget.getByLabel('Email', { exact: true }).fill('someone@example.com');
    await widget.getByLabel('Category', { exact: true }).selectOption('general');
    await widget.getByLabel('Subject', { exact: true }).fill('A question from a refused page');
    await widget.getByLabel('Message', { exact: true }).fill('This page is not in the allow-list.');
    await widget.getByRole('button', { name: 'Send request' }).click();
    await expectVisible(widget.getByText(/could not reach Orbitask Support/), 'The network error', 15_000);
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && !browser.consoleErrors.some((m) => m.includes('CORS_ALLOWED_ORIGINS'))) {
      await page.waitForTimeout(100);
    }
    const hint = browser.consoleErrors.find((m) => m.includes('CORS_ALLOWED_ORIGINS'));
    if (!hint) fail(`the console does not name CORS_ALLOWED_ORIGINS: ${browser.consoleErrors.join(' | ')}`);
    if (!hint.includes(new URL(pageUrl).origin)) fail(`the console hint does not name the page's origin: ${hint}`);
    step(`the console says: ${hint}`);
  } catch (error) {
    await screenshot(page, 'failure-refused.png').catch(() => {});
    throw error;
  } finally {
    await browser.close();
  }
}

/**
 * `hostPort`: where e2e/host-server.mjs serves the host page. `allowListed`: whether the
 * gateway has http://allowed.test:<hostPort> in CORS_ALLOWED_ORIGINS (and refuses others
 * that are not local); false against the dev server, which allows every origin.
 */
export async function embedding(gateway, { hostPort, allowListed }) {
  await submitFrom(`http://localhost:${hostPort}/help.html`, gateway);
  if (!allowListed) return;
  await submitFrom(`http://allowed.test:${hostPort}/help.html`, gateway);
  await refusedFrom(`http://refused.test:${hostPort}/help.html`);
}
