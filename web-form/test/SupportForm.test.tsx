import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SupportForm } from '../src/SupportForm';
import type { Ticket } from '../src/api';

const API = 'https://support-api.example';
const ID = '0b7e5c1a-4d2f-4e8a-9c3b-2f1d6a7e8b90';

type Handler = (url: string, init?: RequestInit) => Response | Promise<Response>;

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

/** A fetch stub that records calls and answers with the handler. */
function stubFetch(handler: Handler) {
  const calls: { url: string; init?: RequestInit }[] = [];
  const fn = vi.fn(async (url: string, init?: RequestInit) => {
    calls.push({ url, init });
    return handler(url, init);
  });
  return { fn, calls };
}

function ticket(overrides: Partial<Ticket> = {}): Ticket {
  return {
    ticket_id: ID,
    status: 'processing',
    messages: [
      {
        role: 'customer',
        channel: 'web_form',
        content: 'The reset link in the email does not open.',
        created_at: '2026-03-02T10:00:00Z',
      },
    ],
    created_at: '2026-03-02T10:00:00Z',
    last_updated: '2026-03-02T10:00:00Z',
    ...overrides,
  };
}

const agentMessage = {
  role: 'agent' as const,
  channel: 'web_form' as const,
  content: 'Hello Maria,\nOn the sign-in page, choose "Forgot password?".\nTicket: ' + ID,
  created_at: '2026-03-02T10:00:05Z',
};

async function fillValidForm(user: ReturnType<typeof userEvent.setup>) {
  await user.type(screen.getByLabelText('Name'), 'Maria Lopez');
  await user.type(screen.getByLabelText('Email'), 'maria@example.com');
  await user.type(screen.getByLabelText('Subject'), 'Cannot reset my password');
  await user.selectOptions(screen.getByLabelText('Category'), 'technical');
  await user.type(screen.getByLabelText('Message'), 'The reset link in the email does not open.');
}

function describedText(element: HTMLElement): string {
  const ids = (element.getAttribute('aria-describedby') ?? '').split(/\s+/).filter(Boolean);
  return ids.map((id) => document.getElementById(id)?.textContent ?? '').join(' | ');
}

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('SupportForm: form', () => {
  it('labels every input and offers the five categories', () => {
    render(<SupportForm apiBase={API} fetch={stubFetch(() => json(500, {})).fn} />);
    for (const label of ['Name', 'Email', 'Subject', 'Category', 'Message']) {
      expect(screen.getByLabelText(label)).toBeTruthy();
    }
    expect(screen.getByLabelText(/Phone/)).toBeTruthy();
    const priority = screen.getByLabelText(/Priority/) as HTMLSelectElement;
    expect(priority.value).toBe('medium');
    const category = screen.getByLabelText('Category') as HTMLSelectElement;
    expect(Array.from(category.options).map((o) => o.textContent)).toEqual([
      'Choose a category',
      'General question',
      'Technical support',
      'Billing',
      'Feedback',
      'Bug report',
    ]);
  });

  it('hides the honeypot from people without display:none', () => {
    const { container } = render(<SupportForm apiBase={API} fetch={stubFetch(() => json(500, {})).fn} />);
    const honeypot = container.querySelector('input[name="website"]') as HTMLInputElement;
    expect(honeypot.tabIndex).toBe(-1);
    expect(honeypot.getAttribute('autocomplete')).toBe('off');
    expect(honeypot.closest('[aria-hidden="true"]')).toBeTruthy();
    expect(honeypot.style.display).toBe('');
    expect(screen.queryByRole('textbox', { name: 'Website' })).toBeNull();
  });

  it('shows a live character counter', async () => {
    const user = userEvent.setup();
    render(<SupportForm apiBase={API} fetch={stubFetch(() => json(500, {})).fn} />);
    expect(screen.getByText(/^0 \/ 5000/)).toBeTruthy();
    await user.type(screen.getByLabelText('Message'), '  Hello there  ');
    expect(screen.getByText(/^11 \/ 5000/)).toBeTruthy();
  });

  it('checks fields before sending and focuses the first invalid one', async () => {
    const user = userEvent.setup();
    const { fn } = stubFetch(() => json(500, {}));
    render(<SupportForm apiBase={API} fetch={fn} />);
    await user.type(screen.getByLabelText('Email'), 'maria@example');
    await user.click(screen.getByRole('button', { name: 'Send request' }));

    expect(fn).not.toHaveBeenCalled();
    const alert = screen.getAllByRole('alert').find((a) => a.textContent);
    expect(alert?.textContent).toBe('Please check 5 fields: Name, Email, Category, Subject, Message.');
    const name = screen.getByLabelText('Name');
    await waitFor(() => expect(document.activeElement).toBe(name));
    expect(name.getAttribute('aria-invalid')).toBe('true');
    expect(describedText(name)).toBe('Enter your name.');
    expect(describedText(screen.getByLabelText('Email'))).toMatch(/valid email address/);
    expect(describedText(screen.getByLabelText('Message'))).toMatch(/0 \/ 5000.*Enter your message\./);
    // What the user typed stays.
    expect((screen.getByLabelText('Email') as HTMLInputElement).value).toBe('maria@example');
  });

  it('clears a field error as soon as the value is fixed', async () => {
    const user = userEvent.setup();
    render(<SupportForm apiBase={API} fetch={stubFetch(() => json(500, {})).fn} />);
    await user.type(screen.getByLabelText('Name'), 'M');
    await user.tab();
    expect(describedText(screen.getByLabelText('Name'))).toMatch(/at least 2/);
    await user.type(screen.getByLabelText('Name'), 'a');
    expect(screen.getByLabelText('Name').getAttribute('aria-invalid')).toBeNull();
  });

  it('maps a 422 answer onto the fields and shows the summary', async () => {
    const user = userEvent.setup();
    const { fn } = stubFetch(() =>
      json(422, {
        error: 'validation_failed',
        message: 'Some fields need attention.',
        fields: [
          { field: 'email', message: 'must be a valid email address' },
          { field: 'phone', message: 'must be a valid phone number' },
          { field: 'attachment', message: 'is not accepted' },
        ],
      }),
    );
    render(<SupportForm apiBase={API} fetch={fn} />);
    await fillValidForm(user);
    await user.click(screen.getByRole('button', { name: 'Send request' }));

    const email = screen.getByLabelText('Email');
    await waitFor(() => expect(email.getAttribute('aria-invalid')).toBe('true'));
    expect(describedText(email)).toBe('Must be a valid email address');
    const phone = screen.getByLabelText(/Phone/);
    expect(describedText(phone)).toMatch(/Must be a valid phone number/);
    const alert = screen.getAllByRole('alert').find((a) => a.textContent)!;
    expect(alert.textContent).toContain('Some fields need attention.');
    expect(alert.textContent).toContain('attachment: is not accepted');
    await waitFor(() => expect(document.activeElement).toBe(email));
    expect((screen.getByLabelText('Name') as HTMLInputElement).value).toBe('Maria Lopez');
  });

  it('shows rate limiting in a form-level alert and keeps the input', async () => {
    const user = userEvent.setup();
    const { fn } = stubFetch(() =>
      json(429, { error: 'rate_limited', message: 'Too many requests from this address.' }, { 'Retry-After': '30' }),
    );
    render(<SupportForm apiBase={API} fetch={fn} />);
    await fillValidForm(user);
    await user.click(screen.getByRole('button', { name: 'Send request' }));
    const alert = await screen.findByText('Too many requests from this address.');
    expect(alert.closest('[role="alert"]')?.textContent).toContain('You can try again in 30 seconds.');
    expect((screen.getByLabelText('Message') as HTMLTextAreaElement).value).toBe(
      'The reset link in the email does not open.',
    );
    expect((screen.getByRole('button', { name: 'Send request' }) as HTMLButtonElement).disabled).toBe(false);
  });

  it.each([
    [413, 'payload_too_large', 'The request is too large.'],
    [400, 'bad_request', 'The request could not be read.'],
    [503, 'unavailable', 'Support is busy. Please try again soon.'],
  ])('shows the message of a %i answer', async (status, error, message) => {
    const user = userEvent.setup();
    render(<SupportForm apiBase={API} fetch={stubFetch(() => json(status, { error, message })).fn} />);
    await fillValidForm(user);
    await user.click(screen.getByRole('button', { name: 'Send request' }));
    expect(await screen.findByText(message)).toBeTruthy();
    expect((screen.getByLabelText('Subject') as HTMLInputElement).value).toBe('Cannot reset my password');
  });

  it('reports a network failure without losing the input', async () => {
    const user = userEvent.setup();
    const fn = vi.fn(async () => {
      throw new TypeError('Failed to fetch');
    });
    render(<SupportForm apiBase={API} fetch={fn} />);
    await fillValidForm(user);
    await user.click(screen.getByRole('button', { name: 'Send request' }));
    expect(await screen.findByText(/could not reach Orbitask Support/)).toBeTruthy();
    expect((screen.getByLabelText('Name') as HTMLInputElement).value).toBe('Maria Lopez');
  });

  it('disables the button and shows "Sending…" while sending', async () => {
    const user = userEvent.setup();
    let release: (r: Response) => void = () => {};
    const fn = vi.fn(() => new Promise<Response>((resolve) => (release = resolve)));
    render(<SupportForm apiBase={API} fetch={fn} />);
    await fillValidForm(user);
    await user.click(screen.getByRole('button', { name: 'Send request' }));
    const button = screen.getByRole('button', { name: /Sending…/ }) as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    await act(async () => release(json(503, { error: 'unavailable', message: 'Please try again soon.' })));
    expect((screen.getByRole('button', { name: 'Send request' }) as HTMLButtonElement).disabled).toBe(false);
  });
});

describe('SupportForm: success and status view', () => {
  it('sends exactly the contract fields, then shows the ticket and the conversation', async () => {
    const user = userEvent.setup();
    const { fn, calls } = stubFetch((url, init) => {
      if (url === `${API}/support/submit` && init?.method === 'POST') {
        return json(200, {
          ticket_id: ID,
          message: 'We have your request and will reply by email.',
          estimated_response_time: 'within 5 minutes',
        });
      }
      if (url === `${API}/support/ticket/${ID}`) {
        return json(200, ticket({ messages: [...ticket().messages, agentMessage] }));
      }
      return json(404, { error: 'not_found', message: 'No such route' });
    });
    const onSubmitted = vi.fn();
    render(<SupportForm apiBase={`${API}/`} fetch={fn} onSubmitted={onSubmitted} />);
    await fillValidForm(user);
    await user.type(screen.getByLabelText(/Phone/), '+34 612 345 678');
    await user.selectOptions(screen.getByLabelText(/Priority/), 'high');
    await user.click(screen.getByRole('button', { name: 'Send request' }));

    const heading = await screen.findByRole('heading', { name: 'Thank you. We have received your request.' });
    await waitFor(() => expect(document.activeElement).toBe(heading));
    expect(screen.getByTestId('ticket-id').textContent).toBe(ID);
    expect(screen.getByText('within 5 minutes')).toBeTruthy();
    expect(screen.getByText('We have your request and will reply by email.')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Copy ticket ID' })).toBeTruthy();
    expect(onSubmitted).toHaveBeenCalledWith(expect.objectContaining({ ticket_id: ID }));

    const body = JSON.parse(String(calls[0].init?.body));
    expect(body).toEqual({
      name: 'Maria Lopez',
      email: 'maria@example.com',
      subject: 'Cannot reset my password',
      category: 'technical',
      message: 'The reset link in the email does not open.',
      priority: 'high',
      phone: '+34 612 345 678',
      website: '',
    });
    expect((calls[0].init?.headers as Record<string, string>)['Content-Type']).toBe('application/json');

    const log = await screen.findByRole('log', { name: 'Conversation' });
    await waitFor(() => expect(within(log).getAllByRole('listitem')).toHaveLength(2));
    const [customer, agent] = within(log).getAllByRole('listitem');
    expect(customer.textContent).toContain('You');
    expect(agent.textContent).toContain('Orbitask Support');
    expect(agent.textContent).toContain('Forgot password?');
    expect(agent.querySelector('time')?.getAttribute('dateTime')).toBe(agentMessage.created_at);
    expect(screen.getByText('Processing')).toBeTruthy();
    expect(window.location.hash).toBe(`#ticket=${ID}`);
  });

  it('opens the status view from #ticket=<id> and labels an escalated ticket', async () => {
    window.history.replaceState(null, '', `/help#ticket=${ID}`);
    const { fn, calls } = stubFetch(() => json(200, ticket({ status: 'escalated' })));
    render(<SupportForm apiBase={API} fetch={fn} />);
    expect(await screen.findByText('Escalated to our team')).toBeTruthy();
    expect(calls[0].url).toBe(`${API}/support/ticket/${ID}`);
    expect(screen.getByTestId('ticket-id').textContent).toBe(ID);
    expect(screen.queryByLabelText('Name')).toBeNull();
  });

  it('polls until an agent reply arrives and stops once resolved', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    let round = 0;
    const { fn, calls } = stubFetch(() => {
      round += 1;
      if (round === 1) return json(200, ticket({ status: 'open' }));
      return json(
        200,
        ticket({
          status: 'resolved',
          messages: [...ticket().messages, agentMessage],
          last_updated: agentMessage.created_at,
        }),
      );
    });
    render(<SupportForm apiBase={API} fetch={fn} initialTicketId={ID} />);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(0);
    });
    expect(screen.getByText('Open')).toBeTruthy();
    expect(screen.getByText(/We are preparing a reply/)).toBeTruthy();
    expect(calls).toHaveLength(1);

    await act(async () => {
      await vi.advanceTimersByTimeAsync(2999);
    });
    expect(calls).toHaveLength(1);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(1);
    });
    expect(calls).toHaveLength(2);
    expect(screen.getByText('Resolved')).toBeTruthy();
    expect(screen.getByText(/Forgot password\?/)).toBeTruthy();

    await act(async () => {
      await vi.advanceTimersByTimeAsync(60_000);
    });
    expect(calls).toHaveLength(2);
  });

  it('checks an existing ticket pasted from an email', async () => {
    const user = userEvent.setup();
    const { fn, calls } = stubFetch(() => json(200, ticket()));
    render(<SupportForm apiBase={API} fetch={fn} />);
    await user.click(screen.getByRole('button', { name: 'Check an existing ticket' }));
    const input = screen.getByLabelText('Ticket ID');
    expect(document.activeElement).toBe(input);

    await user.click(screen.getByRole('button', { name: 'Check status' }));
    expect(screen.getByText('Enter your ticket ID.')).toBeTruthy();

    await user.type(input, `Ticket: ${ID}`);
    await user.click(screen.getByRole('button', { name: 'Check status' }));
    expect(await screen.findByText('Processing')).toBeTruthy();
    expect(calls[0].url).toBe(`${API}/support/ticket/${ID}`);
  });

  it('says so when a looked-up ticket does not exist', async () => {
    const user = userEvent.setup();
    const { fn } = stubFetch(() => json(404, { error: 'not_found', message: 'Ticket not found' }));
    render(<SupportForm apiBase={API} fetch={fn} />);
    await user.click(screen.getByRole('button', { name: 'Check an existing ticket' }));
    await user.type(screen.getByLabelText('Ticket ID'), ID);
    await user.click(screen.getByRole('button', { name: 'Check status' }));
    expect(await screen.findByText('We could not find a ticket with this ID.')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Send a new request' }));
    expect(screen.getByLabelText('Name')).toBeTruthy();
    expect(window.location.hash).toBe('');
  });

  it('keeps what was typed when switching to the lookup and back', async () => {
    const user = userEvent.setup();
    render(<SupportForm apiBase={API} fetch={stubFetch(() => json(500, {})).fn} />);
    await user.type(screen.getByLabelText('Name'), 'Maria');
    await user.click(screen.getByRole('button', { name: 'Check an existing ticket' }));
    await user.click(screen.getByRole('button', { name: 'Back to the contact form' }));
    expect((screen.getByLabelText('Name') as HTMLInputElement).value).toBe('Maria');
  });

  it('uses window.fetch by default and sends no cookies', async () => {
    const { fn, calls } = stubFetch(() => json(200, ticket()));
    vi.stubGlobal('fetch', fn);
    render(<SupportForm apiBase={API} initialTicketId={ID} />);
    expect(await screen.findByText('Processing')).toBeTruthy();
    expect(calls[0].init?.credentials).toBe('omit');
  });
});

describe('SupportForm: styles', () => {
  it('injects its stylesheet once', () => {
    const fetchStub = stubFetch(() => json(500, {})).fn;
    render(
      <>
        <SupportForm apiBase={API} fetch={fetchStub} />
        <SupportForm apiBase={API} fetch={fetchStub} />
      </>,
    );
    expect(document.querySelectorAll('style#fte-sf-styles')).toHaveLength(1);
    fireEvent.click(screen.getAllByRole('button', { name: 'Check an existing ticket' })[0]);
  });
});
