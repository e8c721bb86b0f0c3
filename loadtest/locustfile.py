"""Locust users for the gateway, each entering the way its channel does:

- WebFormUser: the support form (`POST /support/submit`), then its status page;
- HealthCheckUser: the load balancer's probe (`GET /health`);
- WhatsAppUser: Twilio's webhook, signed with `X-Twilio-Signature`
  (`twilio.request_validator`) over the public URL;
- GmailPushUser: a customer email into the fake Gmail, then Pub/Sub's push
  with an RS256 OIDC token (`google-auth`) the gateway verifies against the
  fakes' JWKS.

Messages come from the sample tickets (context/sample-tickets.json). The
provider secrets and URLs come from the JSON file named by
FTE_LOCUST_CONFIG, written by loadtest/run-locust.sh (which starts the
system: see loadtest/harness/serve.py)."""

from __future__ import annotations

import json
import os
import random
import sys
import uuid
from pathlib import Path

from locust import HttpUser, between, events, task

sys.path.insert(0, str(Path(__file__).resolve().parent))
import signing  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TICKETS = json.loads((ROOT / "context/sample-tickets.json").read_text())["tickets"]
BY_CHANNEL = {c: [t for t in TICKETS if t["channel"] == c and t.get("message", "").strip()]
              for c in ("web_form", "email", "whatsapp")}
CONFIG = json.loads(Path(os.environ["FTE_LOCUST_CONFIG"]).read_text()) \
    if os.environ.get("FTE_LOCUST_CONFIG") else {}


def config(key: str) -> str:
    if key not in CONFIG:
        raise RuntimeError(f"FTE_LOCUST_CONFIG has no {key}: run loadtest/run-locust.sh")
    return CONFIG[key]


class WebFormUser(HttpUser):
    weight = 4
    wait_time = between(1, 3)

    def on_start(self):
        n = uuid.uuid4().hex[:10]
        self.email = f"web.{n}@loadtest.example"
        # (ticket id, access key): the key opens the ticket's thread.
        self.tickets: list[tuple[str, str]] = []

    @task(3)
    def submit(self):
        t = random.choice(BY_CHANNEL["web_form"])
        with self.client.post("/support/submit", name="/support/submit", catch_response=True,
                              json={"name": "Load Tester", "email": self.email,
                                    "subject": t.get("subject") or "Question",
                                    "category": "general", "message": t["message"]}) as r:
            if r.status_code == 201 or r.status_code == 200:
                body = r.json()
                self.tickets.append((body["ticket_id"], body["access_key"]))
            else:
                r.failure(f"HTTP {r.status_code}")

    @task(1)
    def status(self):
        if self.tickets:
            ticket_id, access_key = random.choice(self.tickets)
            self.client.get(f"/support/ticket/{ticket_id}", name="/support/ticket/{id}",
                            headers={"X-Ticket-Access-Key": access_key})


class HealthCheckUser(HttpUser):
    weight = 1
    wait_time = between(1, 2)

    @task
    def health(self):
        self.client.get("/health", name="/health")


class WhatsAppUser(HttpUser):
    weight = 2
    wait_time = between(2, 5)

    def on_start(self):
        self.phone = f"+3469{random.randrange(10**6, 10**7)}"

    @task
    def message(self):
        t = random.choice(BY_CHANNEL["whatsapp"])
        form = signing.whatsapp_form(signing.new_message_sid(), self.phone, t["message"])
        path = "/webhooks/whatsapp"
        signature = signing.twilio_signature(config("TWILIO_AUTH_TOKEN"),
                                             config("public_base_url") + path, form)
        self.client.post(path, data=form, name=path, headers={"X-Twilio-Signature": signature})


class GmailPushUser(HttpUser):
    weight = 2
    wait_time = between(2, 5)

    def on_start(self):
        self.sender = f"mail.{uuid.uuid4().hex[:10]}@loadtest.example"
        self.signer = signing.PushSigner(config("GMAIL_PUBSUB_AUDIENCE"),
                                         config("GMAIL_PUBSUB_SERVICE_ACCOUNT"))
        self.history = random.randrange(10**6)

    @task
    def email(self):
        t = random.choice(BY_CHANNEL["email"])
        raw = signing.rfc2822(self.sender, config("GMAIL_MAILBOX"), t.get("subject") or "Question",
                              t["message"], f"<locust-{uuid.uuid4().hex}@loadtest.example>")
        # Into the mailbox (not measured), then the signed push (measured).
        self.client.post(config("gmail_control") + "/inbound", data=raw.encode(),
                         name="fake Gmail: deliver")
        self.history += 1
        self.client.post("/webhooks/gmail", name="/webhooks/gmail",
                         json=signing.push_body(config("GMAIL_MAILBOX"), self.history),
                         headers={"Authorization": self.signer.bearer()})


@events.quitting.add_listener
def print_percentiles(environment, **_kwargs):
    stats = environment.stats
    print(f"\n{'request':<28} {'count':>7} {'fail':>5} {'P50 ms':>8} {'P95 ms':>8} {'P99 ms':>8}")
    for entry in [*sorted(stats.entries.values(), key=lambda e: e.name), stats.total]:
        print(f"{entry.name:<28} {entry.num_requests:>7} {entry.num_failures:>5} "
              f"{entry.get_response_time_percentile(0.5):>8.0f} "
              f"{entry.get_response_time_percentile(0.95):>8.0f} "
              f"{entry.get_response_time_percentile(0.99):>8.0f}")
    total = stats.total
    ratio = total.num_failures / total.num_requests if total.num_requests else 0
    print(f"failures: {total.num_failures} of {total.num_requests} ({ratio * 100:.2f} %)")
    if total.num_failures:
        environment.process_exit_code = 1
