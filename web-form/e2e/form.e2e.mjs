#!/usr/bin/env node
// End-to-end checks of the embedded support form in a real Chromium.
//
//   FTE_BASE_URL=https://support-api.example npm run e2e   # against the gateway (serves /demo and /widget/…)
//   npm run e2e:dev                                        # builds, then runs against e2e/dev-server.mjs
//
// Scenarios, each in a fresh browser profile:
//   conversation   the form and its checks, the confirmation with the estimate, the answer in the
//                  thread, a reply and its answer, answered → with our team → resolved, the ticket
//                  link at 320 px, axe-core on the form, status and thread views (conversation.mjs)
//   embedding      the form on pages of other origins: a local one, one in CORS_ALLOWED_ORIGINS,
//                  and a refused one whose console names the setting (embedding.mjs)
//   dark mode      the dark theme, axe-core on it, a screenshot (appearance.mjs)
//   spanish        a Spanish browser: Spanish texts and dates, the Spanish question answered
//   operator pages /docs with its schemas and GET /health tried from the page, the outbox page,
//                  favicons (gateway only; docs.mjs)
// Screenshots go to e2e/artifacts/. Exits non-zero when a scenario fails.
//
// Environment: FTE_BASE_URL (required without --dev), CHROMIUM_PATH (default /usr/bin/chromium),
// FTE_E2E_REPLY_TIMEOUT_MS (default 60000), and against a gateway: FTE_E2E_STAFF_KEY (resolves
// the escalation), FTE_E2E_HOST_PORT (port of the host pages; the gateway must allow
// http://allowed.test:<port> in CORS_ALLOWED_ORIGINS and not allow refused.test),
// FTE_E2E_SPANISH_ANSWER=0 to check the Spanish form without waiting for the answer.

import { darkMode, spanish } from './appearance.mjs';
import { conversation } from './conversation.mjs';
import { operatorPages } from './docs.mjs';
import { embedding } from './embedding.mjs';
import { startHostServer } from './host-server.mjs';
import { E2EFailure, fail, step } from './lib.mjs';

/** Resolves a ticket's escalation through the staff API, as a staff member would. */
function staffResolver(base, key) {
  return async (ticketId) => {
    if (!key) fail('FTE_E2E_STAFF_KEY is not set: the escalation cannot be resolved');
    const headers = { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' };
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const list = await fetch(`${base}/escalations?status=open&limit=100`, { headers });
      if (!list.ok) fail(`GET /escalations answered ${list.status}: ${await list.text()}`);
      const item = (await list.json()).items?.find((e) => e.ticket_id === ticketId);
      if (item) {
        const resolved = await fetch(`${base}/escalations/${item.id}/resolve`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ resolution_notes: 'Refunded the second charge.' }),
        });
        if (!resolved.ok) fail(`resolving the escalation answered ${resolved.status}: ${await resolved.text()}`);
        return;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    fail(`no open escalation for ticket ${ticketId}`);
  };
}

function devResolver(base) {
  return async (ticketId) => {
    const answer = await fetch(`${base}/_dev/tickets/${ticketId}/resolve`, { method: 'POST' });
    if (!answer.ok) fail(`the dev server did not resolve the ticket: ${answer.status}`);
  };
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
  const base = baseUrl.replace(/\/+$/, '');
  const host = await startHostServer(base, { port: dev ? 0 : Number(process.env.FTE_E2E_HOST_PORT || 18081) });
  /** @type {[string, () => Promise<void>][]} */
  const scenarios = [
    ['conversation', () => conversation(base, { resolveTicket: dev ? devResolver(base) : staffResolver(base, process.env.FTE_E2E_STAFF_KEY) })],
    ['embedding', () => embedding(base, { hostPort: host.port, allowListed: !dev })],
    ['dark mode', () => darkMode({ hostPort: host.port })],
    ['spanish', () => spanish(base, { expectAnswer: process.env.FTE_E2E_SPANISH_ANSWER !== '0' })],
  ];
  if (!dev) scenarios.push(['operator pages', () => operatorPages(base)]);
  const failed = [];
  try {
    for (const [name, run] of scenarios) {
      step(`── ${name}`);
      try {
        await run();
        step(`${name}: passed`);
      } catch (error) {
        const message = error instanceof E2EFailure ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
        console.error(`[e2e] ${name} FAILED: ${message}`);
        failed.push(name);
      }
    }
  } finally {
    await host.close();
    await server?.close();
  }
  console.log(`${scenarios.length - failed.length} passed, ${failed.length} failed${failed.length ? ` (${failed.join(', ')})` : ''}`);
  return failed.length === 0;
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (error) => {
    const message = error instanceof E2EFailure ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
    console.error(`[e2e] FAILED: ${message}`);
    process.exit(1);
  },
);
