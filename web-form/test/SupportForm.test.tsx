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

/**
 * A fetch stub that records calls and answers with the handler. `GET /support/config` answers
 * "no challenge" unless the handler is asked too (`config: true`); `calls` leaves it out.
 */
function stubFetch(handler: Handler, { config = false }: { config?: boolean } = {}) {
  const calls: { url: string; init?: RequestInit }[] = [];
  const fn = vi.fn(async (url: string, init?: RequestInit) => {
    if (url.endsWith('/support/config') && !config) return json(200, { challenge: null });
    calls.push({ url, init });
    return handler(url, init);
  });
  return { fn, calls };
}

const KEY = 'k3y-0123456789abcdefghijklmnopqrstuvwxyzABCD';

function ticket(overrides: Partial<Ticket> = {}): Ticket {
  return {
    ticket_id: ID,
    status: 'processing',
    customer_status: 'in_progress',
    status_label: 'Preparing a reply',
    access: 'thread',
    can_reply: true,
    estimate: null,
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
  content:
    'Hello Maria,\n\nOn the sign-in page:\n1. Choose **Forgot password?**.\n2. Follow [the guide](https://help.orbitask.example/reset).',
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
    const { fn, calls } = stubFetch(() => json(500, {}));
    render(<SupportForm apiBase={API} fetch={fn} />);
    await user.type(screen.getByLabelText('Email'), 'maria@example');
    await user.click(screen.getByRole('button', { name: 'Send request' }));

    expect(calls).toHaveLength(0);
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

describe('SupportForm: success and the conversation', () => {
  it('sends exactly the contract fields, then shows the ticket, the estimate and the thread', async () => {
    const user = userEvent.setup();
    const { fn, calls } = stubFetch((url, init) => {
      if (url === `${API}/support/submit` && init?.method === 'POST') {
        return json(200, {
          ticket_id: ID,
          access_key: KEY,
          message: 'We have your request and will reply by email.',
          estimated_response_time: 'Usually within about 3 minutes',
          estimate: { kind: 'bot', within_secs: 150, by: null, text: 'Usually within about 3 minutes' },
        });
      }
      if (url === `${API}/support/ticket/${ID}`) {
        return json(
          200,
          ticket({ customer_status: 'answered', messages: [...ticket().messages, agentMessage] }),
        );
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
    expect(screen.getByTestId('estimate').textContent).toBe('Usually within about 3 minutes');
    expect(screen.getByText('We have your request and will reply by email.')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Copy ticket ID' })).toBeTruthy();
    expect(onSubmitted).toHaveBeenCalledWith(expect.objectContaining({ ticket_id: ID, access_key: KEY }));

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
    await waitFor(() => expect(within(log).getAllByRole('listitem').filter((li) => li.dataset.role)).toHaveLength(2));
    const [customer, agent] = within(log).getAllByRole('listitem').filter((li) => li.dataset.role);
    expect(customer.textContent).toContain('You');
    expect(agent.textContent).toContain('Orbitask Support');
    expect(agent.querySelector('strong')?.textContent).toBe('Forgot password?');
    const guide = within(agent).getByRole('link', { name: 'the guide' });
    expect(guide.getAttribute('href')).toBe('https://help.orbitask.example/reset');
    expect(guide.getAttribute('rel')).toContain('noopener');
    expect(agent.querySelectorAll('ol > li')).toHaveLength(2);
    expect(agent.querySelector('time')?.getAttribute('dateTime')).toBe(agentMessage.created_at);
    expect(screen.getByText('Answered')).toBeTruthy();
    expect(window.location.hash).toBe(`#ticket=${ID}&key=${KEY}`);
    expect((calls[1].init?.headers as Record<string, string>)['X-Ticket-Access-Key']).toBe(KEY);
  });

  it('replies in the thread with the access key and refreshes it', async () => {
    const user = userEvent.setup();
    let replied = false;
    const { fn, calls } = stubFetch((url, init) => {
      if (url === `${API}/support/ticket/${ID}/messages` && init?.method === 'POST') {
        replied = true;
        return json(202, { ticket_id: ID, message_id: 'm-2' });
      }
      const follow = { role: 'customer' as const, channel: 'web_form' as const, content: 'Does it work on mobile?', created_at: '2026-03-02T10:01:00Z' };
      return json(
        200,
        ticket({
          customer_status: replied ? 'in_progress' : 'answered',
          messages: replied ? [...ticket().messages, agentMessage, follow] : [...ticket().messages, agentMessage],
        }),
      );
    });
    window.history.replaceState(null, '', `/help#ticket=${ID}&key=${KEY}`);
    render(<SupportForm apiBase={API} fetch={fn} />);
    const reply = await screen.findByLabelText('Your reply');
    await user.click(screen.getByRole('button', { name: 'Send reply' }));
    expect(await screen.findByText('Enter your message.')).toBeTruthy();

    await user.type(reply, '  Does it work on mobile?  ');
    await user.click(screen.getByRole('button', { name: 'Send reply' }));

    expect(await screen.findByText('Preparing a reply')).toBeTruthy();
    const post = calls.find((c) => c.init?.method === 'POST')!;
    expect(post.url).toBe(`${API}/support/ticket/${ID}/messages`);
    expect(JSON.parse(String(post.init?.body))).toEqual({ message: 'Does it work on mobile?' });
    expect((post.init?.headers as Record<string, string>)['X-Ticket-Access-Key']).toBe(KEY);
    expect((reply as HTMLTextAreaElement).value).toBe('');
    expect(screen.getByText('Does it work on mobile?')).toBeTruthy();
  });

  it('shows the wording of each status and the team\'s promise, and no reply box once resolved', async () => {
    const { fn } = stubFetch(() =>
      json(
        200,
        ticket({
          status: 'escalated',
          customer_status: 'with_team',
          estimate: { kind: 'team', within_secs: 3600, by: '2026-03-02T14:00:00Z', text: '' },
        }),
      ),
    );
    const first = render(<SupportForm apiBase={API} fetch={fn} initialTicketId={ID} initialAccessKey={KEY} />);
    expect(await screen.findByText('With our team')).toBeTruthy();
    expect(screen.getByTestId('status-estimate').textContent).toMatch(/^A member of our team will reply by .*2026/);
    expect(screen.getByLabelText('Your reply')).toBeTruthy();
    first.unmount();

    const resolved = stubFetch(() => json(200, ticket({ status: 'resolved', customer_status: 'resolved', can_reply: false })));
    render(<SupportForm apiBase={API} fetch={resolved.fn} initialTicketId={ID} initialAccessKey={KEY} />);
    expect(await screen.findByText('Resolved')).toBeTruthy();
    expect(screen.getByText(/This ticket is resolved/)).toBeTruthy();
    expect(screen.queryByLabelText('Your reply')).toBeNull();
  });

  it('opens the status view from #ticket=<id> without a key and shows the status only', async () => {
    window.history.replaceState(null, '', `/help#ticket=${ID}`);
    const { fn, calls } = stubFetch(() =>
      json(200, ticket({ access: 'status', can_reply: false, messages: [], customer_status: 'answered' })),
    );
    render(<SupportForm apiBase={API} fetch={fn} />);
    expect(await screen.findByText('Answered')).toBeTruthy();
    expect(screen.getByText(/Open the link from your confirmation/)).toBeTruthy();
    expect(calls[0].url).toBe(`${API}/support/ticket/${ID}`);
    expect((calls[0].init?.headers as Record<string, string>)['X-Ticket-Access-Key']).toBeUndefined();
    expect(screen.queryByLabelText('Your reply')).toBeNull();
    expect(screen.queryByLabelText('Name')).toBeNull();
  });

  it('says so when the key in a link does not open the ticket', async () => {
    window.history.replaceState(null, '', `/help#ticket=${ID}&key=${KEY}`);
    const { fn } = stubFetch(() => json(403, { error: 'access_denied', message: 'No.' }));
    render(<SupportForm apiBase={API} fetch={fn} />);
    expect(await screen.findByText(/This link does not open the conversation/)).toBeTruthy();
  });

  it('polls until an answer arrives and stops once resolved', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    let round = 0;
    const { fn, calls } = stubFetch(() => {
      round += 1;
      if (round === 1) return json(200, ticket({ status: 'open', customer_status: 'received' }));
      return json(
        200,
        ticket({
          status: 'resolved',
          customer_status: 'resolved',
          can_reply: false,
          messages: [...ticket().messages, agentMessage],
          last_updated: agentMessage.created_at,
        }),
      );
    });
    render(<SupportForm apiBase={API} fetch={fn} initialTicketId={ID} initialAccessKey={KEY} />);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(0);
    });
    expect(screen.getByText('Received')).toBeTruthy();
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

  it('checks an existing ticket from a pasted ID or a pasted link with its key', async () => {
    const user = userEvent.setup();
    const { fn, calls } = stubFetch(() => json(200, ticket()));
    render(<SupportForm apiBase={API} fetch={fn} />);
    await user.click(screen.getByRole('button', { name: 'Check an existing ticket' }));
    const input = screen.getByLabelText('Ticket ID or link');
    expect(document.activeElement).toBe(input);

    await user.click(screen.getByRole('button', { name: 'Check status' }));
    expect(screen.getByText('Enter your ticket ID or link.')).toBeTruthy();

    await user.type(input, `https://help.example/support#ticket=${ID}&key=${KEY}`);
    await user.click(screen.getByRole('button', { name: 'Check status' }));
    expect(await screen.findByText('Preparing a reply')).toBeTruthy();
    expect(calls[0].url).toBe(`${API}/support/ticket/${ID}`);
    expect((calls[0].init?.headers as Record<string, string>)['X-Ticket-Access-Key']).toBe(KEY);
  });

  it('remembers the key of a ticket sent from this browser', async () => {
    const user = userEvent.setup();
    const { fn, calls } = stubFetch((url) =>
      url.endsWith('/support/submit')
        ? json(200, { ticket_id: ID, access_key: KEY, message: '', estimated_response_time: '' })
        : json(200, ticket()),
    );
    const first = render(<SupportForm apiBase={API} fetch={fn} syncHash={false} />);
    await fillValidForm(user);
    await user.click(screen.getByRole('button', { name: 'Send request' }));
    await screen.findByText('Preparing a reply');
    first.unmount();

    calls.length = 0;
    render(<SupportForm apiBase={API} fetch={fn} initialTicketId={ID} />);
    await screen.findByText('Preparing a reply');
    expect((calls[0].init?.headers as Record<string, string>)['X-Ticket-Access-Key']).toBe(KEY);
  });

  it('says so when a looked-up ticket does not exist', async () => {
    const user = userEvent.setup();
    const { fn } = stubFetch(() => json(404, { error: 'not_found', message: 'Ticket not found' }));
    render(<SupportForm apiBase={API} fetch={fn} />);
    await user.click(screen.getByRole('button', { name: 'Check an existing ticket' }));
    await user.type(screen.getByLabelText('Ticket ID or link'), ID);
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
    expect(await screen.findByText('Preparing a reply')).toBeTruthy();
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
