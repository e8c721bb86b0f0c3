import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SupportForm } from '../src/SupportForm';

const API = 'https://support-api.example';
const ID = '0b7e5c1a-4d2f-4e8a-9c3b-2f1d6a7e8b90';

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

const accepted = { ticket_id: ID, access_key: 'k'.repeat(43), message: '', estimated_response_time: '' };
const ticket = {
  ticket_id: ID,
  status: 'open',
  customer_status: 'received',
  status_label: 'Received',
  access: 'thread',
  can_reply: true,
  estimate: null,
  messages: [],
  created_at: '2026-03-02T10:00:00Z',
  last_updated: '2026-03-02T10:00:00Z',
};

async function fillValidForm(user: ReturnType<typeof userEvent.setup>, email = 'maria@example.com') {
  await user.type(screen.getByLabelText('Name'), 'Maria Lopez');
  if (email) await user.type(screen.getByLabelText('Email'), email);
  await user.type(screen.getByLabelText('Subject'), 'Cannot reset my password');
  await user.selectOptions(screen.getByLabelText('Category'), 'technical');
  await user.type(screen.getByLabelText('Message'), 'The reset link in the email does not open.');
}

function submitted(fn: ReturnType<typeof vi.fn>): Record<string, unknown>[] {
  return fn.mock.calls
    .filter(([url]) => String(url).endsWith('/support/submit'))
    .map(([, init]) => JSON.parse(String((init as RequestInit).body)));
}

/** A stand-in for the providers' browser API (Turnstile's and hCaptcha's are the same shape). */
function fakeProvider() {
  const api = {
    callbacks: {} as Record<string, (token?: string) => void>,
    options: null as Record<string, unknown> | null,
    render: vi.fn((element: HTMLElement, options: Record<string, unknown>) => {
      api.options = options;
      api.callbacks.solve = (token = 'solved-token') => (options.callback as (t: string) => void)(token);
      element.appendChild(document.createElement('iframe')).title = 'challenge';
      return 'w1';
    }),
    reset: vi.fn(),
    remove: vi.fn(),
  };
  return api;
}

afterEach(() => {
  delete (window as unknown as Record<string, unknown>).turnstile;
  vi.restoreAllMocks();
});

describe('the bot challenge', () => {
  it('renders the configured challenge and sends its token with the form', async () => {
    const provider = fakeProvider();
    (window as unknown as Record<string, unknown>).turnstile = provider;
    const user = userEvent.setup();
    const fn = vi.fn(async (url: string) => {
      if (url.endsWith('/support/config')) {
        return json(200, { challenge: { provider: 'turnstile', site_key: 'site-1', script_url: 'https://challenges.example/api.js' } });
      }
      if (url.endsWith('/support/submit')) return json(200, accepted);
      return json(200, ticket);
    });
    render(<SupportForm apiBase={API} fetch={fn} locale="es" />);
    await waitFor(() => expect(provider.render).toHaveBeenCalled());
    expect(provider.options).toMatchObject({ sitekey: 'site-1', language: 'es', theme: 'auto' });

    await fillSpanish(user);
    await user.click(screen.getByRole('button', { name: 'Enviar solicitud' }));
    expect(await screen.findAllByText('Completa la verificación antes de enviar.')).not.toHaveLength(0);
    expect(submitted(fn)).toHaveLength(0);

    provider.callbacks.solve();
    await user.click(screen.getByRole('button', { name: 'Enviar solicitud' }));
    await screen.findByText('Gracias. Hemos recibido tu solicitud.');
    expect(submitted(fn)[0].challenge_token).toBe('solved-token');
  });

  it('takes a fresh token after the gateway refused one', async () => {
    const provider = fakeProvider();
    (window as unknown as Record<string, unknown>).turnstile = provider;
    const user = userEvent.setup();
    const fn = vi.fn(async (url: string) => {
      if (url.endsWith('/support/config')) {
        return json(200, { challenge: { provider: 'turnstile', site_key: 'site-1', script_url: 'https://c.example/api.js' } });
      }
      return json(403, { error: 'challenge_failed', message: 'The verification step (challenge_token) did not pass.' });
    });
    render(<SupportForm apiBase={API} fetch={fn} />);
    await waitFor(() => expect(provider.render).toHaveBeenCalled());
    await fillValidForm(user);
    provider.callbacks.solve('spent-token');
    await user.click(screen.getByRole('button', { name: 'Send request' }));

    expect(await screen.findByText(/did not pass/)).toBeTruthy();
    await waitFor(() => expect(provider.reset).toHaveBeenCalledWith('w1'));
    await user.click(screen.getByRole('button', { name: 'Send request' }));
    expect(submitted(fn)).toHaveLength(1);
  });
});

async function fillSpanish(user: ReturnType<typeof userEvent.setup>) {
  await user.type(screen.getByLabelText('Nombre'), 'Lucía Pérez');
  await user.type(screen.getByLabelText('Correo electrónico'), 'lucia@example.com');
  await user.type(screen.getByLabelText('Asunto'), 'No puedo exportar');
  await user.selectOptions(screen.getByLabelText('Categoría'), 'technical');
  await user.type(screen.getByLabelText('Mensaje'), 'El botón de exportar no hace nada.');
}

/** The Idempotency-Key header of every submission, in order. */
function submittedKeys(fn: ReturnType<typeof vi.fn>): string[] {
  return fn.mock.calls
    .filter(([url]) => String(url).endsWith('/support/submit'))
    .map(([, init]) => String(((init as RequestInit).headers as Record<string, string>)['Idempotency-Key']));
}

describe('safe retries', () => {
  it('retries a failed submission with the same idempotency key and a changed one with a new key', async () => {
    const user = userEvent.setup();
    let answers = 0;
    const fn = vi.fn(async (url: string) => {
      if (url.endsWith('/support/config')) return json(200, { challenge: null });
      if (url.endsWith('/support/submit')) {
        answers += 1;
        return answers < 3 ? json(503, { error: 'unavailable', message: 'Try again.' }) : json(200, accepted);
      }
      return json(200, ticket);
    });
    render(<SupportForm apiBase={API} fetch={fn} />);
    await fillValidForm(user);
    await user.click(screen.getByRole('button', { name: 'Send request' }));
    await screen.findByText('Try again.');

    await user.click(screen.getByRole('button', { name: 'Send request' }));
    await waitFor(() => expect(submittedKeys(fn)).toHaveLength(2));
    await user.type(screen.getByLabelText('Subject'), ' today');
    await user.click(screen.getByRole('button', { name: 'Send request' }));
    await screen.findByText('Thank you. We have received your request.');

    const [first, retry, changed] = submittedKeys(fn);
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(retry).toBe(first);
    expect(changed).not.toBe(first);
  });
});

describe('identity verification', () => {
  it("sends the embedding site's token with the signed-in customer's email, which cannot be changed", async () => {
    const user = userEvent.setup();
    const fn = vi.fn(async (url: string) =>
      url.endsWith('/support/config') ? json(200, { challenge: null }) : url.endsWith('/submit') ? json(200, accepted) : json(200, ticket),
    );
    render(<SupportForm apiBase={API} fetch={fn} identityToken={'a'.repeat(64)} email="maria@example.com" name="Maria Lopez" />);
    const email = screen.getByLabelText('Email') as HTMLInputElement;
    expect(email.value).toBe('maria@example.com');
    expect(email.readOnly).toBe(true);
    expect((screen.getByLabelText('Name') as HTMLInputElement).value).toBe('Maria Lopez');

    await user.type(screen.getByLabelText('Subject'), 'Cannot reset my password');
    await user.selectOptions(screen.getByLabelText('Category'), 'technical');
    await user.type(screen.getByLabelText('Message'), 'The reset link in the email does not open.');
    await user.click(screen.getByRole('button', { name: 'Send request' }));

    await screen.findByText('Thank you. We have received your request.');
    expect(submitted(fn)[0]).toMatchObject({ email: 'maria@example.com', identity_token: 'a'.repeat(64) });
  });
});

describe('validation details', () => {
  it('keeps the error summary in step with the fields as they are fixed', async () => {
    const user = userEvent.setup();
    render(<SupportForm apiBase={API} fetch={vi.fn(async () => json(200, { challenge: null }))} />);
    await user.click(screen.getByRole('button', { name: 'Send request' }));
    const summary = () => screen.getAllByRole('alert').find((a) => a.classList.contains('fte-sf-alert'))?.textContent ?? '';
    expect(summary()).toBe('Please check 5 fields: Name, Email, Category, Subject, Message.');

    await user.type(screen.getByLabelText('Name'), 'Maria');
    expect(summary()).toBe('Please check 4 fields: Email, Category, Subject, Message.');
    await fillValidForm(user, 'maria@example.com');
    expect(summary()).toBe('');
  });

  it('shows the phone hint or its error, never both', async () => {
    const user = userEvent.setup();
    render(<SupportForm apiBase={API} fetch={vi.fn(async () => json(200, { challenge: null }))} />);
    const phone = screen.getByLabelText(/Phone/);
    expect(screen.getByText(/Include the country code/)).toBeTruthy();
    await user.type(phone, '612 345 678');
    await user.tab();
    expect(screen.getByText(/Enter the phone number with its country code/)).toBeTruthy();
    expect(screen.queryByText(/Include the country code/)).toBeNull();
    const described = (phone.getAttribute('aria-describedby') ?? '').split(' ').map((id) => document.getElementById(id)?.textContent);
    expect(described).toEqual(['Enter the phone number with its country code, like +34 612 345 678.']);
  });
});

describe('a gateway that refuses the page origin', () => {
  it('names the setting to change in the console', async () => {
    const user = userEvent.setup();
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const fn = vi.fn(async (_url: string, init?: RequestInit) => {
      // What a browser does when CORS refuses: the request fails; an opaque one goes through.
      if (init?.mode === 'no-cors') return new Response(null, { status: 200 });
      throw new TypeError('Failed to fetch');
    });
    render(<SupportForm apiBase={API} fetch={fn} />);
    await fillValidForm(user);
    await user.click(screen.getByRole('button', { name: 'Send request' }));

    expect(await screen.findByText(/could not reach Orbitask Support/)).toBeTruthy();
    await waitFor(() => expect(error).toHaveBeenCalled());
    const message = String(error.mock.calls[0][0]);
    expect(message).toContain('CORS_ALLOWED_ORIGINS');
    expect(message).toContain(window.location.origin);
    expect(message).toContain(API);
  });
});
