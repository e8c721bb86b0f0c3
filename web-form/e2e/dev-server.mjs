#!/usr/bin/env node
// Development stand-in for the support gateway, for working on the form without the backend.
//
//   npm run build && npm run dev:server      # http://localhost:8787/demo
//   PORT=9000 node e2e/dev-server.mjs
//
// It serves what the gateway serves to the form, from memory:
//   GET  /demo                               a host page embedding the script (no data-api-base: same origin)
//   GET  /widget/fte-support-form.js         dist/fte-support-form.js
//   GET  /support/config                     no bot challenge
//   POST /support/submit                     validated with the form's own rules (dist/lib/validation.js)
//   GET  /support/ticket/{id}                the ticket: "in progress" after 1 s, an answer after 2 s; its
//                                            thread with the access key (X-Ticket-Access-Key or ?access_key=)
//   POST /support/ticket/{id}/messages       a follow-up (with the key), answered 2 s later
//   POST /_dev/tickets/{id}/resolve          resolves a ticket (what staff do on the gateway)
// and answers CORS requests from any origin, so `npm run dev` (Vite, port 5173) can use it too.
//
// Test switches, typed into the subject: "[429]" rate limited (Retry-After: 30), "[503]" unavailable,
// "[413]" too large, "[escalate]" the ticket goes to our team instead of being answered. A follow-up
// that mentions a refund goes to our team too.

import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SCRIPT_PATH = join(ROOT, 'dist', 'fte-support-form.js');
const VALIDATION_PATH = join(ROOT, 'dist', 'lib', 'validation.js');
const MAX_BODY_BYTES = 64 * 1024;
const ALLOWED_FIELDS = new Set(['name', 'email', 'subject', 'category', 'message', 'priority', 'phone', 'website']);

const DEMO_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Orbitask Help Center (demo)</title>
<link rel="icon" href="data:,">
<style>
  /* Deliberately opinionated host styles: the form must look the same regardless. */
  body { margin: 0; font-family: Georgia, serif; background: #eef0f4; color: #222; text-align: center; }
  header { background: #14182b; color: #fff; padding: 1.5rem 1rem; }
  header h1 { margin: 0; font-size: 1.6rem; }
  main { padding: 1.5rem 0.75rem 3rem; }
  h2 { color: #a0522d; text-transform: uppercase; }
  p { font-size: 18px; }
  input, select, textarea { border: 3px dashed #c00; background: #ffe; }
  button { background: hotpink; border-radius: 0; text-transform: uppercase; }
  #fte-support-form {
    /* Theming example: */
    --fte-sf-color-primary: #2f3fbf;
  }
</style>
</head>
<body>
<header><h1>Orbitask Help Center</h1></header>
<main>
  <p>Questions about Orbitask? Send us a message below.</p>
  <div id="fte-support-form"></div>
</main>
<script src="/widget/fte-support-form.js"></script>
</body>
</html>
`;

function firstName(name) {
  return name.trim().split(/\s+/)[0] || 'there';
}

function agentReply(form) {
  return [
    `Hello ${firstName(form.name)},`,
    '',
    'Thank you for writing to us. To reset your password:',
    '1. On the sign-in page, choose "Forgot password?".',
    '2. Enter the email address you use for Orbitask.',
    '3. Open the reset link in the email we send you. It works **once** and expires after 30 minutes.',
    '',
    'If the email does not arrive, check your spam folder, then reply here and we will help. More in [the help center](https://help.orbitask.example/password).',
  ].join('\n');
}

function followUpReply(form) {
  return `Hello ${firstName(form.name)},\n\nYes, the same steps work in the mobile app: open **Settings**, then **Security**.`;
}

function sendJson(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(Object.assign(new Error('too large'), { tooLarge: true }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * Starts the server. Resolves to { url, port, close() }.
 * Options: port (0 = any free port), host, agentDelayMs, quiet.
 */
export async function startDevServer({
  port = 8787,
  host = '127.0.0.1',
  agentDelayMs = 2000,
  quiet = false,
} = {}) {
  let validation;
  try {
    validation = await import(pathToFileURL(VALIDATION_PATH).href);
  } catch {
    throw new Error(`dev-server: ${VALIDATION_PATH} is missing. Run "npm run build" first.`);
  }

  /** @type {Map<string, {ticket: any, key: string, form: any, timers: NodeJS.Timeout[]}>} */
  const tickets = new Map();
  const log = (...args) => {
    if (!quiet) console.log('[dev-server]', ...args);
  };

  function corsHeaders(req) {
    const origin = req.headers.origin;
    if (!origin) return {};
    return {
      'Access-Control-Allow-Origin': origin,
      'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
      'Access-Control-Allow-Headers': 'Content-Type, Accept, X-Ticket-Access-Key',
      'Access-Control-Expose-Headers': 'Retry-After',
      'Access-Control-Max-Age': '600',
      Vary: 'Origin',
    };
  }

  function validate(form) {
    const fields = [];
    const add = (field, message) => fields.push({ field, message });
    for (const key of Object.keys(form)) {
      if (!ALLOWED_FIELDS.has(key)) add(key, 'is not a known field');
    }
    const str = (v) => (typeof v === 'string' ? v : '');
    if (validation.validateName(str(form.name))) add('name', 'must be between 2 and 100 characters');
    if (!validation.isValidEmail(str(form.email))) add('email', 'must be a valid email address');
    if (validation.validateSubject(str(form.subject))) add('subject', 'must be between 5 and 200 characters');
    if (validation.validateCategory(str(form.category))) add('category', 'must be one of general, technical, billing, feedback, bug_report');
    if (validation.validateMessage(str(form.message))) add('message', 'must be between 10 and 5000 characters');
    if (form.priority !== undefined && validation.validatePriority(str(form.priority))) add('priority', 'must be low, medium or high');
    if (form.phone !== undefined && (typeof form.phone !== 'string' || validation.isPhoneEmpty(form.phone) || validation.validatePhone(form.phone))) {
      add('phone', 'must be a valid phone number with country code');
    }
    if (form.website !== undefined && typeof form.website !== 'string') add('website', 'must be a string');
    return fields;
  }

  async function submit(req, res, cors) {
    let raw;
    try {
      raw = await readBody(req);
    } catch (error) {
      if (/** @type {any} */ (error)?.tooLarge) {
        return sendJson(res, 413, { error: 'payload_too_large', message: 'Your request is too large. Please shorten your message.' }, cors);
      }
      throw error;
    }
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) {
      return sendJson(res, 400, { error: 'bad_request', message: 'Send the form as JSON.' }, cors);
    }
    let form;
    try {
      form = JSON.parse(raw);
    } catch {
      return sendJson(res, 400, { error: 'bad_request', message: 'The request could not be read.' }, cors);
    }
    if (typeof form !== 'object' || form === null || Array.isArray(form)) {
      return sendJson(res, 400, { error: 'bad_request', message: 'The request could not be read.' }, cors);
    }

    const subject = typeof form.subject === 'string' ? form.subject : '';
    if (subject.includes('[429]')) {
      return sendJson(res, 429, { error: 'rate_limited', message: 'You have sent several requests in a short time. Please wait a moment.' }, { ...cors, 'Retry-After': '30' });
    }
    if (subject.includes('[503]')) {
      return sendJson(res, 503, { error: 'unavailable', message: 'Our support service is busy right now. Please try again in a few minutes.' }, cors);
    }
    if (subject.includes('[413]')) {
      return sendJson(res, 413, { error: 'payload_too_large', message: 'Your request is too large. Please shorten your message.' }, cors);
    }

    const fields = validate(form);
    if (fields.length > 0) {
      return sendJson(res, 422, { error: 'validation_failed', message: 'Some fields need a second look.', fields }, cors);
    }

    const ticketId = randomUUID();
    const key = randomBytes(32).toString('base64url');
    const estimate = { kind: 'bot', within_secs: 30, by: null, text: 'Usually within a minute' };
    const accepted = {
      ticket_id: ticketId,
      access_key: key,
      message: 'Thank you, we received your request. Keep this page\'s link to follow the conversation and reply; we will also answer by email.',
      estimated_response_time: estimate.text,
      estimate,
    };
    if (form.website) {
      // Honeypot filled in: answer like a success and keep nothing.
      log('honeypot filled, request dropped');
      return sendJson(res, 200, accepted, cors);
    }

    const now = new Date().toISOString();
    const ticket = {
      ticket_id: ticketId,
      status: 'open',
      customer_status: 'received',
      status_label: 'Received',
      messages: [{ id: randomUUID(), role: 'customer', channel: 'web_form', content: validation.trimValue(form.message), created_at: now }],
      created_at: now,
      last_updated: now,
    };
    const entry = { ticket, key, form, timers: [] };
    tickets.set(ticketId, entry);
    answerLater(entry, subject.includes('[escalate]'), agentReply(form));
    log(`ticket ${ticketId} created (${form.category}, ${form.priority ?? 'medium'})`);
    return sendJson(res, 200, accepted, cors);
  }

  function setStatus(ticket, status, customerStatus, label) {
    ticket.status = status;
    ticket.customer_status = customerStatus;
    ticket.status_label = label;
    ticket.last_updated = new Date().toISOString();
  }

  /** "In progress" soon, then an answer (or the hand-off to our team). */
  function answerLater(entry, escalate, answer) {
    const { ticket } = entry;
    entry.timers.push(
      setTimeout(() => setStatus(ticket, 'processing', 'in_progress', 'Preparing a reply'), Math.min(1000, agentDelayMs / 2)),
      setTimeout(() => {
        const at = new Date().toISOString();
        if (escalate) {
          ticket.messages.push({ id: randomUUID(), role: 'system', channel: 'web_form', content: 'Your request was passed to a member of our team.', created_at: at });
          setStatus(ticket, 'escalated', 'with_team', 'With our team');
        } else {
          ticket.messages.push({ id: randomUUID(), role: 'agent', channel: 'web_form', content: answer, created_at: at });
          setStatus(ticket, 'processing', 'answered', 'Answered');
        }
      }, agentDelayMs),
    );
  }

  function presentedKey(req, url) {
    const header = req.headers['x-ticket-access-key'];
    return (typeof header === 'string' ? header : null) ?? url.searchParams.get('access_key');
  }

  function ticketView(entry, withThread) {
    const { ticket } = entry;
    const waiting = ticket.customer_status === 'received' || ticket.customer_status === 'in_progress';
    return {
      ...ticket,
      access: withThread ? 'thread' : 'status',
      can_reply: withThread && ticket.status !== 'resolved',
      estimate: waiting
        ? { kind: 'bot', within_secs: 30, by: null, text: 'Usually within a minute' }
        : ticket.customer_status === 'with_team'
          ? { kind: 'team', within_secs: 4 * 3600, by: new Date(Date.now() + 4 * 3600_000).toISOString(), text: 'A member of our team will reply within about 4 hours' }
          : null,
      messages: withThread ? ticket.messages : [],
    };
  }

  async function followUp(req, res, entry, key, cors) {
    if (!key) return sendJson(res, 403, { error: 'access_key_required', message: 'Writing into a ticket needs its access key.' }, cors);
    if (key !== entry.key) return sendJson(res, 403, { error: 'access_denied', message: 'This access key does not open this ticket.' }, cors);
    if (entry.ticket.status === 'resolved') {
      return sendJson(res, 409, { error: 'ticket_resolved', message: 'This ticket is resolved. Send a new request if you need more help.' }, cors);
    }
    let body;
    try {
      body = JSON.parse(await readBody(req));
    } catch {
      return sendJson(res, 400, { error: 'invalid_json', message: 'The request could not be read.' }, cors);
    }
    const text = typeof body?.message === 'string' ? validation.trimValue(body.message) : '';
    if (!text || [...text].length > validation.MESSAGE_MAX) {
      return sendJson(res, 422, { error: 'validation_failed', message: 'Please correct: message.', fields: [{ field: 'message', message: 'Enter your message.' }] }, cors);
    }
    const id = randomUUID();
    entry.ticket.messages.push({ id, role: 'customer', channel: 'web_form', content: text, created_at: new Date().toISOString() });
    setStatus(entry.ticket, entry.ticket.status === 'escalated' ? 'escalated' : 'processing', entry.ticket.status === 'escalated' ? 'with_team' : 'in_progress', 'Preparing a reply');
    if (entry.ticket.status !== 'escalated') answerLater(entry, /refund/i.test(text), followUpReply(entry.form));
    return sendJson(res, 202, { ticket_id: entry.ticket.ticket_id, message_id: id }, cors);
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const cors = corsHeaders(req);
    log(req.method, url.pathname);
    try {
      if (req.method === 'OPTIONS') {
        res.writeHead(204, cors);
        return res.end();
      }
      if (req.method === 'GET' && (url.pathname === '/' || url.pathname === '/demo')) {
        if (url.pathname === '/') {
          res.writeHead(302, { Location: '/demo' });
          return res.end();
        }
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
        return res.end(DEMO_PAGE);
      }
      if (req.method === 'GET' && url.pathname === '/widget/fte-support-form.js') {
        let script;
        try {
          script = await readFile(SCRIPT_PATH);
        } catch {
          res.writeHead(500, { 'Content-Type': 'text/plain' });
          return res.end(`${SCRIPT_PATH} is missing. Run "npm run build" first.\n`);
        }
        res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'no-store', ...cors });
        return res.end(script);
      }
      if (req.method === 'POST' && url.pathname === '/support/submit') {
        return await submit(req, res, cors);
      }
      const resolve = /^\/_dev\/tickets\/([^/]+)\/resolve$/.exec(url.pathname);
      if (req.method === 'POST' && resolve) {
        const entry = tickets.get(decodeURIComponent(resolve[1]));
        if (!entry) return sendJson(res, 404, { error: 'not_found', message: 'No ticket has this ID.' }, cors);
        setStatus(entry.ticket, 'resolved', 'resolved', 'Resolved');
        return sendJson(res, 200, { status: 'resolved' }, cors);
      }
      if (req.method === 'GET' && url.pathname === '/support/config') {
        return sendJson(res, 200, { challenge: null }, cors);
      }
      const match = /^\/support\/ticket\/([^/]+)(\/messages)?$/.exec(url.pathname);
      if (match) {
        const entry = tickets.get(decodeURIComponent(match[1]));
        if (!entry) return sendJson(res, 404, { error: 'not_found', message: 'No ticket has this ID.' }, cors);
        const key = presentedKey(req, url);
        if (req.method === 'POST' && match[2]) return await followUp(req, res, entry, key, cors);
        if (req.method === 'GET' && !match[2]) {
          if (key && key !== entry.key) {
            return sendJson(res, 403, { error: 'access_denied', message: 'This access key does not open this ticket.' }, cors);
          }
          return sendJson(res, 200, ticketView(entry, !!key), cors);
        }
      }
      return sendJson(res, 404, { error: 'not_found', message: 'Not found.' }, cors);
    } catch (error) {
      console.error('[dev-server]', error);
      if (!res.headersSent) sendJson(res, 500, { error: 'internal', message: 'Something went wrong.' }, cors);
      else res.end();
    }
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(undefined));
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const url = `http://${host}:${actualPort}`;

  return {
    url,
    port: actualPort,
    close() {
      for (const { timers } of tickets.values()) timers.forEach(clearTimeout);
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(() => resolve(undefined)));
    },
  };
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const port = Number(process.env.PORT ?? 8787);
  const host = process.env.HOST ?? '127.0.0.1';
  startDevServer({ port, host })
    .then(({ url }) => {
      console.log(`[dev-server] demo page: ${url}/demo`);
      console.log(`[dev-server] for "npm run dev": http://localhost:5173/?api=${url}`);
    })
    .catch((error) => {
      console.error(error.message ?? error);
      process.exit(1);
    });
}
