// The form as a reader sees it in their own settings: a Spanish browser gets the Spanish
// form with Spanish dates, and its Spanish question is answered (not handed to a person);
// a reader in dark mode gets the dark theme, checked with axe-core and kept as a screenshot.

import { ENGLISH, submitForm, waitForStatus } from './conversation.mjs';
import { REPLY_TIMEOUT_MS, checkAccessibility, expectCleanPage, expectVisible, fail, openBrowser, screenshot, step } from './lib.mjs';

const SPANISH = {
  name: 'Nombre',
  email: 'Correo electrónico',
  category: 'Categoría',
  subject: 'Asunto',
  message: 'Mensaje',
  send: 'Enviar solicitud',
};

const SPANISH_DATE = /\b\d{1,2} (ene|feb|mar|abr|may|jun|jul|ago|sept?|oct|nov|dic)\w* \d{4}\b/;

/** A Spanish browser: the form, its checks, the dates and the answer, all in Spanish. */
export async function spanish(base, { expectAnswer }) {
  const browser = await openBrowser({ locale: 'es-ES' });
  const { page } = browser;
  try {
    step('opening the form in a Spanish browser');
    await page.goto(`${base}/demo`, { waitUntil: 'load' });
    const widget = page.locator('#fte-support-form .fte-sf');
    await expectVisible(widget.getByRole('heading', { name: 'Contacta con el soporte de Orbitask' }), 'The Spanish form');
    await widget.getByRole('button', { name: 'Enviar solicitud' }).click();
    await expectVisible(widget.getByText(/^Revisa \d+ campos?:/), 'The Spanish error summary');
    await expectVisible(widget.getByText('Escribe tu nombre.'), "The Spanish error of the name");
    await checkAccessibility(page, '#fte-support-form', 'Spanish form view with errors');

    const ticketId = await submitForm(widget, SPANISH, {
      name: 'Lucía Fernández',
      email: 'lucia.fernandez@example.com',
      subject: 'Verificación en dos pasos',
      message: '¿Cómo activo la autenticación en dos pasos en mi cuenta de Orbitask?',
    });
    step(`Spanish ticket ${ticketId}`);
    await expectVisible(widget.getByRole('heading', { name: 'Gracias. Hemos recibido tu solicitud.' }), 'The Spanish confirmation');
    const estimate = (await widget.getByTestId('estimate').textContent())?.trim() ?? '';
    if (!/^(Normalmente|Te responderemos)/.test(estimate)) fail(`the estimate is not in Spanish: "${estimate}"`);
    const stamped = (await widget.locator('.fte-sf-conversation time').first().textContent()) ?? '';
    if (!SPANISH_DATE.test(stamped)) fail(`the date is not in Spanish: "${stamped}"`);

    if (expectAnswer) {
      step('waiting for the answer to the Spanish question');
      const answer = widget.locator('.fte-sf-conversation [data-role="agent"]').first();
      await answer.waitFor({ state: 'visible', timeout: REPLY_TIMEOUT_MS }).catch(() => {});
      const status = ((await widget.locator('.fte-sf-badge').textContent()) ?? '').trim();
      if (status === 'Con nuestro equipo') fail('the Spanish question was handed to a person instead of being answered');
      await waitForStatus(widget, 'Respondida');
      step(`answered: ${((await answer.innerText()) ?? '').split('\n').slice(0, 3).join(' ').slice(0, 120)}…`);
    }
    await screenshot(page, 'spanish.png');
    expectCleanPage(browser, 'the Spanish form');
  } catch (error) {
    await screenshot(page, 'failure-spanish.png').catch(() => {});
    throw error;
  } finally {
    await browser.close();
  }
}

function luminance(rgb) {
  const [r, g, b] = (rgb.match(/\d+(\.\d+)?/g) ?? ['255', '255', '255']).slice(0, 3).map(Number).map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** A reader in dark mode: the dark theme on the form and on the status view, checked by axe. */
export async function darkMode({ hostPort }) {
  const browser = await openBrowser({ colorScheme: 'dark' });
  const { page } = browser;
  try {
    step('opening the form in dark mode');
    await page.goto(`http://localhost:${hostPort}/help.html`, { waitUntil: 'load' });
    const widget = page.locator('#fte-support-form .fte-sf');
    await expectVisible(widget.getByRole('heading', { name: 'Contact Orbitask Support' }), 'The form');
    const colours = await widget.evaluate((el) => {
      const style = getComputedStyle(el);
      return { background: style.backgroundColor, text: style.color };
    });
    if (luminance(colours.background) > 0.1 || luminance(colours.text) < 0.6) {
      fail(`dark mode is not dark: background ${colours.background}, text ${colours.text}`);
    }
    await checkAccessibility(page, '#fte-support-form', 'form view in dark mode');
    await screenshot(page, 'dark-form.png');
    await widget.getByRole('button', { name: 'Send request' }).click();
    await checkAccessibility(page, '#fte-support-form', 'form view with errors in dark mode');

    step('the conversation in dark mode');
    await widget.getByLabel('Name', { exact: true }).fill('Noor Haddad');
    const ticketId = await submitForm(widget, ENGLISH, {
      name: 'Noor Haddad',
      email: 'noor.haddad@example.com',
      subject: 'Exporting a board to CSV',
      message: 'How do I export a board to a CSV file?',
    });
    await widget.locator('.fte-sf-conversation [data-role="agent"]').first().waitFor({ timeout: REPLY_TIMEOUT_MS }).catch(() => {
      fail(`no answer to ticket ${ticketId} in dark mode`);
    });
    await checkAccessibility(page, '#fte-support-form', 'status and thread view in dark mode');
    await screenshot(page, 'dark-thread.png');

    // A host that fixes the light theme keeps it whatever the reader's setting.
    await page.goto(`http://localhost:${hostPort}/help.html?theme=light`, { waitUntil: 'load' });
    await expectVisible(widget.getByRole('heading', { name: 'Contact Orbitask Support' }), 'The light form');
    const light = await widget.evaluate((el) => getComputedStyle(el).backgroundColor);
    if (luminance(light) < 0.9) fail(`data-theme="light" is not light: ${light}`);
    expectCleanPage(browser, 'dark mode');
  } catch (error) {
    await screenshot(page, 'failure-dark.png').catch(() => {});
    throw error;
  } finally {
    await browser.close();
  }
}
