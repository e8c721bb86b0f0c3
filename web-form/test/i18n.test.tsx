import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { SupportForm } from '../src/SupportForm';
import { SUPPORTED_LANGUAGES, describeEstimate, formatTimestamp, messagesFor, resolveLocale } from '../src/i18n';
import type { Messages } from '../src/i18n';

const API = 'https://support-api.example';

function stub(body: unknown = { challenge: null }) {
  return vi.fn(async () => new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } }));
}

/** Every leaf string of a catalog, functions called with sample arguments. */
function leaves(messages: Messages): string[] {
  const out: string[] = [];
  const walk = (value: unknown) => {
    if (typeof value === 'string') out.push(value);
    else if (typeof value === 'function') out.push(String(value(3, 'x')));
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(messages);
  return out;
}

describe('resolveLocale', () => {
  it("takes the host's language, then the browser's first language the form has, then English", () => {
    expect(resolveLocale('es', ['de-DE'])).toEqual({ language: 'es', dateLocale: 'es' });
    expect(resolveLocale(undefined, ['ja-JP', 'pt-BR', 'en'])).toEqual({ language: 'pt', dateLocale: 'pt-BR' });
    expect(resolveLocale('it', ['fr_CA'])).toEqual({ language: 'fr', dateLocale: 'fr-CA' });
    expect(resolveLocale(undefined, ['ja', 'zh'])).toEqual({ language: 'en', dateLocale: 'en' });
    expect(resolveLocale('  ', [])).toEqual({ language: 'en', dateLocale: 'en' });
  });
});

describe('catalogs', () => {
  it('every language has every text, and none is left in English by mistake', () => {
    const english = new Set(leaves(messagesFor('en')));
    for (const language of SUPPORTED_LANGUAGES) {
      const texts = leaves(messagesFor(language));
      expect(texts.every((t) => t.trim().length > 0), language).toBe(true);
      if (language === 'en') continue;
      // Words that are the same in both languages (a label such as "Name" or "Feedback").
      const same = texts.filter((t) => english.has(t) && t.length > 12);
      expect(same, language).toEqual([]);
    }
  });

  it('words the estimate and dates in the chosen language', () => {
    const es = messagesFor('es');
    expect(describeEstimate({ kind: 'bot', within_secs: 40, by: null, text: '' }, es, 'es')).toBe(
      'Normalmente en menos de un minuto',
    );
    expect(describeEstimate({ kind: 'bot', within_secs: 600, by: null, text: '' }, es, 'es')).toBe(
      'Normalmente en unos 10 minutos',
    );
    expect(describeEstimate({ kind: 'unknown', within_secs: null, by: null, text: '' }, es, 'es')).toBe(
      'Te responderemos lo antes posible',
    );
    expect(formatTimestamp('2026-03-02T10:00:00Z', 'es')).toMatch(/mar/);
    expect(formatTimestamp('2026-03-02T10:00:00Z', 'de')).toMatch(/^02\.03\.2026/);
    expect(formatTimestamp('2026-03-02T10:00:00Z', 'en')).toMatch(/^Mar 2, 2026/);
    expect(formatTimestamp('not a date', 'fr')).toBe('not a date');
  });
});

describe('the form in Spanish', () => {
  it('labels, validates and dates in Spanish, from the host attribute', async () => {
    const user = userEvent.setup();
    render(<SupportForm apiBase={API} fetch={stub()} locale="es" />);
    expect(screen.getByRole('heading', { name: 'Contacta con el soporte de Orbitask' })).toBeTruthy();
    expect(screen.getByLabelText('Correo electrónico')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Enviar solicitud' }));
    expect(await screen.findByText(/^Revisa 5 campos: Nombre, Correo electrónico/)).toBeTruthy();
    expect(screen.getByText('Escribe tu nombre.')).toBeTruthy();
    expect(document.querySelector('.fte-sf')?.getAttribute('lang')).toBe('es');
  });

  it('follows the browser when the host names no language', () => {
    const languages = vi.spyOn(navigator, 'languages', 'get').mockReturnValue(['fr-FR', 'en']);
    render(<SupportForm apiBase={API} fetch={stub()} />);
    expect(screen.getByRole('button', { name: 'Envoyer la demande' })).toBeTruthy();
    languages.mockRestore();
  });
});
