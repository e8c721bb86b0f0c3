// The operator's pages: /docs is the interactive API reference from the gateway's own
// OpenAPI document (schemas shown, GET /health tried from the page), the outbox page, and a
// favicon for every page.

import { expectCleanPage, expectVisible, fail, openBrowser, screenshot, step } from './lib.mjs';

/** @param {string} base */
export async function operatorPages(base) {
  const browser = await openBrowser({ viewport: { width: 1280, height: 1000 } });
  const { page } = browser;
  const foreign = new Set();
  page.on('request', (request) => {
    const url = request.url();
    if (/^https?:/.test(url) && new URL(url).origin !== new URL(base).origin) foreign.add(url);
  });
  try {
    step(`opening ${base}/docs`);
    await page.goto(`${base}/docs`, { waitUntil: 'load' });
    await expectVisible(page.locator('.swagger-ui .info .title', { hasText: 'fte gateway' }), 'The API reference', 20_000);
    await expectVisible(page.locator('.opblock-tag', { hasText: 'support' }), 'The support operations');
    const locks = await page.locator('.opblock .authorization__btn').count();
    if (locks < 5) fail(`only ${locks} operations are marked as needing the staff key`);

    step('the schemas are listed');
    const models = page.locator('section.models');
    await expectVisible(models, 'The schemas section');
    if ((await models.locator('.models-control').getAttribute('aria-expanded')) !== 'true') {
      await models.locator('.models-control').click();
    }
    // OpenAPI 3.1: Swagger UI shows each schema as a JSON Schema 2020-12 article.
    const schemaTitle = (name) => models.locator('.json-schema-2020-12__title', { hasText: new RegExp(`^${name}$`) });
    for (const schema of ['SubmitRequest', 'TicketStatusResponse', 'FollowUpRequest', 'ErrorBody']) {
      await expectVisible(schemaTitle(schema), `The ${schema} schema`);
    }
    const submitRequest = models.locator('article[data-json-schema-level="0"]', {
      has: page.locator('.json-schema-2020-12__title', { hasText: /^SubmitRequest$/ }),
    });
    await submitRequest.locator('.json-schema-2020-12-accordion').first().click();
    await expectVisible(submitRequest.getByText('challenge_token', { exact: true }), 'A field of the SubmitRequest schema');

    step('trying GET /health from the page');
    const health = page.locator('.opblock-get', { has: page.locator('.opblock-summary-path', { hasText: /^\/health$/ }) });
    await health.locator('.opblock-summary').click();
    await health.getByRole('button', { name: 'Try it out' }).click();
    await health.getByRole('button', { name: 'Execute' }).click();
    const status = health.locator('.live-responses-table tr.response .response-col_status').first();
    await expectVisible(status, 'The response to the tried request', 15_000);
    const code = (await status.textContent())?.trim();
    if (code !== '200') fail(`GET /health tried from /docs answered ${code}`);
    await expectVisible(health.locator('.live-responses-table').getByText(/"status"/), 'The response body');
    await screenshot(page, 'docs.png');
    if (foreign.size > 0) fail(`/docs loaded from other origins: ${[...foreign].join(', ')}`);

    step('the outbox page is newest first, with times, a filter and pages');
    await page.goto(`${base}/dev/outbox.html`, { waitUntil: 'load' });
    await expectVisible(page.getByRole('heading', { name: 'Outbound messages (provider fakes)' }), 'The outbox page');
    await expectVisible(page.getByRole('navigation', { name: 'Channel' }), 'The channel filter');
    if (!/message\(s\); page 1 of \d+\./.test(await page.locator('body').innerText())) fail('the outbox page shows no paging');

    for (const path of ['/demo', '/favicon.ico']) {
      const response = await page.goto(`${base}${path}`, { waitUntil: 'load' });
      if (!response?.ok()) fail(`GET ${path} answered ${response?.status()}`);
    }
    expectCleanPage(browser, 'the operator pages');
  } catch (error) {
    await screenshot(page, 'failure-docs.png').catch(() => {});
    throw error;
  } finally {
    await browser.close();
  }
}
