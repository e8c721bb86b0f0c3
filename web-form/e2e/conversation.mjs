// The customer's side in a real browser: the form, its checks, the confirmation with the
// estimate, the agent's answer in the thread, a reply in the thread and its answer, the status
// wording through answered → with our team → resolved, the ticket link at 320 px, and
// axe-core on the form, status and thread views.

import { UUID, REPLY_TIMEOUT_MS, checkAccessibility, expectCleanPage, expectVisible, fail, openBrowser, screenshot, step } from './lib.mjs';

const ENGLISH_DATE = /\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2}, \d{4}\b/;

async function badge(widget) {
  return ((await widget.locator('.fte-sf-badge').textContent().catch(() => null)) ?? '').trim();
}

/** Waits until the status badge reads `label`. */
export async function waitForStatus(widget, label, timeout = REPLY_TIMEOUT_MS) {
  try {
    await widget.locator('.fte-sf-badge', { hasText: new RegExp(`^${label}$`) }).waitFor({ timeout });
  } catch {
    fail(`the status never read "${label}" within ${Math.round(timeout / 1000)} s (it reads "${await badge(widget)}")`);
  }
}

async function waitForAnswers(widget, count) {
  const answers = widget.locator('.fte-sf-conversation [data-role="agent"]');
  try {
    await answers.nth(count - 1).waitFor({ state: 'visible', timeout: REPLY_TIMEOUT_MS });
  } catch {
    fail(`answer ${count} did not arrive within ${Math.round(REPLY_TIMEOUT_MS / 1000)} s (status: ${await badge(widget)})`);
  }
  return answers.nth(count - 1).innerText();
}

/** Fills in and sends the form; resolves to the ticket id once the confirmation shows. */
export async function submitForm(widget, labels, fields) {
  await widget.getByLabel(labels.name, { exact: true }).fill(fields.name);
  await widget.getByLabel(labels.email, { exact: true }).fill(fields.email);
  await widget.getByLabel(labels.category, { exact: true }).selectOption(fields.category ?? 'technical');
  await widget.getByLabel(labels.subject, { exact: true }).fill(fields.subject);
  await widget.getByLabel(labels.message, { exact: true }).fill(fields.message);
  await widget.getByRole('button', { name: labels.send }).click();
  const alert = widget.locator('.fte-sf-alert--error');
  const outcome = await Promise.race([
    widget.getByTestId('ticket-id').first().waitFor({ timeout: 30_000 }).then(() => 'ok'),
    alert.waitFor({ timeout: 30_000 }).then(() => 'alert'),
  ]).catch(() => 'timeout');
  if (outcome === 'alert') fail(`the form showed an error instead of a confirmation: ${await alert.innerText()}`);
  if (outcome === 'timeout') fail('no confirmation within 30 s after sending');
  const ticketId = ((await widget.getByTestId('ticket-id').first().textContent()) ?? '').trim();
  if (!UUID.test(ticketId)) fail(`the confirmation shows "${ticketId}", which is not a ticket ID`);
  return ticketId;
}

export const ENGLISH = {
  name: 'Name',
  email: 'Email',
  category: 'Category',
  subject: 'Subject',
  message: 'Message',
  send: 'Send request',
};

/** The form, a conversation in its thread, the statuses, and the link at 320 px. */
export async function conversation(base, { resolveTicket }) {
  const browser = await openBrowser();
  const { page } = browser;
  try {
    step(`opening ${base}/demo`);
    const response = await page.goto(`${base}/demo`, { waitUntil: 'load', timeout: 30_000 });
    if (!response || !response.ok()) fail(`GET ${base}/demo answered ${response ? response.status() : 'nothing'}`);
    const widget = page.locator('#fte-support-form .fte-sf');
    await expectVisible(page.getByRole('heading', { name: 'Contact Orbitask Support' }), 'The support form');
    await checkAccessibility(page, '#fte-support-form', 'form view');

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
    await checkAccessibility(page, '#fte-support-form', 'form view with errors');
    await widget.getByLabel('Name', { exact: true }).fill('Maria Lopez');
    const summary = await widget.locator('.fte-sf-alert--error').innerText();
    if (summary.includes('Name')) fail(`the error summary still names the fixed Name field: ${summary}`);

    const honeypot = widget.locator('input[name="website"]');
    const box = await honeypot.boundingBox();
    if (box && box.x + box.width > 0 && box.y + box.height > 0 && box.x < 1024) fail('the honeypot field is visible on screen');

    step('filling in and sending the form');
    const stamp = new Date().toISOString();
    await widget.getByLabel(/^Phone/).fill('+34 612 345 678');
    await widget.getByLabel(/^Priority/).selectOption('medium');
    const message = 'I asked for a password reset twice today, but the email never arrived. How can I reset my password?';
    const ticketId = await submitForm(widget, ENGLISH, {
      name: 'Maria Lopez',
      email: 'maria.lopez@example.com',
      subject: `Password reset email does not arrive (${stamp})`,
      message,
    });
    step(`ticket ${ticketId}`);
    const estimate = (await widget.getByTestId('estimate').textContent())?.trim() ?? '';
    if (!/^(Usually within|We will reply)/.test(estimate)) fail(`the estimate reads "${estimate}"`);
    step(`estimate: ${estimate}`);

    step(`waiting up to ${Math.round(REPLY_TIMEOUT_MS / 1000)} s for the agent's answer`);
    const first = await waitForAnswers(widget, 1);
    if (!first.includes('Orbitask Support')) fail('the agent message has no "Orbitask Support" label');
    if (first.includes('Ticket:')) fail(`a web reply carries a ticket line: ${first}`);
    await waitForStatus(widget, 'Answered');
    await screenshot(page, 'status.png');
    const hash = await page.evaluate(() => window.location.hash);
    if (!hash.startsWith(`#ticket=${ticketId}&key=`)) fail(`the page URL hash is "${hash}", expected #ticket=${ticketId}&key=…`);
    await checkAccessibility(page, '#fte-support-form', 'status view');

    step('replying in the thread');
    const reply = widget.getByLabel('Your reply', { exact: true });
    await expectVisible(reply, 'The reply box');
    await checkAccessibility(page, '#fte-support-form', 'thread view with the reply box');
    await reply.fill('Thanks! And how do I turn on two-factor authentication for my account?');
    await widget.getByRole('button', { name: 'Send reply' }).click();
    const second = await waitForAnswers(widget, 2);
    await waitForStatus(widget, 'Answered');
    step(`second answer: ${second.split('\n').slice(2, 3).join(' ').slice(0, 80)}…`);
    const customerMessages = await widget.locator('.fte-sf-conversation [data-role="customer"]').count();
    if (customerMessages !== 2) fail(`the thread shows ${customerMessages} customer messages, expected 2`);

    step('a refund request goes to our team');
    await reply.fill('I was charged twice this month and I want a refund of the second charge.');
    await widget.getByRole('button', { name: 'Send reply' }).click();
    await waitForStatus(widget, 'With our team');
    const promise = (await widget.getByTestId('status-estimate').textContent().catch(() => '')) ?? '';
    if (!promise.startsWith('A member of our team will reply by')) fail(`the team's promise reads "${promise}"`);

    step('staff resolve the ticket');
    await resolveTicket(ticketId);
    await widget.getByRole('button', { name: 'Check for updates' }).click();
    await waitForStatus(widget, 'Resolved', 30_000);
    if ((await widget.getByLabel('Your reply', { exact: true }).count()) > 0) fail('a resolved ticket still offers the reply box');
    await screenshot(page, 'resolved.png');

    step('reopening the ticket link at 320 px wide');
    const link = page.url();
    await page.setViewportSize({ width: 320, height: 800 });
    await page.goto('about:blank');
    await page.goto(link, { waitUntil: 'load' });
    await expectVisible(widget.getByRole('heading', { name: 'Your ticket' }), 'The status view opened from the link');
    await waitForAnswers(widget, 2);
    const overflow = await widget.evaluate((el) => {
      const rect = el.getBoundingClientRect();
      return { right: rect.right, scroll: el.scrollWidth, client: el.clientWidth };
    });
    if (overflow.right > 320.5 || overflow.scroll > overflow.client + 1) fail(`the form does not fit 320 px: ${JSON.stringify(overflow)}`);
    const stamped = (await widget.locator('.fte-sf-conversation time').first().textContent()) ?? '';
    if (!ENGLISH_DATE.test(stamped)) fail(`an English page shows the date "${stamped}"`);
    await screenshot(page, 'status-320.png');
    expectCleanPage(browser, 'the conversation');
  } catch (error) {
    await screenshot(page, 'failure-conversation.png').catch(() => {});
    throw error;
  } finally {
    await browser.close();
  }
}
