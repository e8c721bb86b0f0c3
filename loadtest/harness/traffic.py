"""The profile's traffic: customers and their messages, drawn from the
sample tickets' mix (context/sample-tickets.json), and the senders that
deliver them through each channel's real entry point."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import signing  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CHANNELS = ("web_form", "email", "whatsapp")


def sample_tickets() -> dict[str, list[dict]]:
    tickets = json.loads((ROOT / "context/sample-tickets.json").read_text())["tickets"]
    by_channel: dict[str, list[dict]] = {c: [] for c in CHANNELS}
    for ticket in tickets:
        if ticket.get("message", "").strip():
            by_channel[ticket["channel"]].append(ticket)
    return by_channel


@dataclass
class Customer:
    index: int
    name: str
    email: str
    phone: str
    cross_channel: bool


@dataclass
class Planned:
    """One message of the plan."""
    customer: Customer
    channel: str
    ticket: dict
    at: float  # offset in seconds from the start of traffic
    after: "Planned | None" = None  # sent only once this one is processed
    # Filled in when sent.
    sent_at: float | None = None
    status: int | None = None
    accepted: bool = False
    error: str | None = None
    channel_message_id: str | None = None
    message_header: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.channel}:{self.channel_message_id}"


def plan(duration: float, web: int, email: int, whatsapp: int, cross: int,
         seed: int) -> list[Planned]:
    """`cross` customers write on all three channels in turn (web form with
    email and phone, then email, then WhatsApp); the rest of the counts are
    one-message customers at random moments, so every channel's mix is the
    sample tickets' mix of that channel."""
    rng = random.Random(seed)
    tickets = sample_tickets()
    window = duration * 0.8
    messages: list[Planned] = []
    index = 0

    def customer(cross_channel: bool) -> Customer:
        nonlocal index
        index += 1
        return Customer(index, f"Load Customer{index}", f"load.customer{index}@loadtest.example",
                        f"+3461{index:07d}", cross_channel)

    for _ in range(cross):
        c = customer(True)
        first = Planned(c, "web_form", rng.choice(tickets["web_form"]),
                        rng.uniform(0, window * 0.35))
        second = Planned(c, "email", rng.choice(tickets["email"]), first.at + window * 0.15,
                         after=first)
        third = Planned(c, "whatsapp", rng.choice(tickets["whatsapp"]),
                        second.at + window * 0.15, after=second)
        messages += [first, second, third]
    remaining = {"web_form": web - cross, "email": email - cross, "whatsapp": whatsapp - cross}
    for channel, count in remaining.items():
        for _ in range(max(0, count)):
            messages.append(Planned(customer(False), channel, rng.choice(tickets[channel]),
                                    rng.uniform(0, window)))
    messages.sort(key=lambda m: m.at)
    return messages


def identity_token(secret: str, email: str) -> str:
    """What an embedding site sends as `identity_token`: hex HMAC-SHA256 of
    the trimmed, lower-cased email with the shared secret."""
    return hmac.new(secret.encode(), email.strip().lower().encode(), hashlib.sha256).hexdigest()


class Senders:
    """Delivers planned messages through the gateway, signed like the providers."""

    def __init__(self, api: str, fakes, public_base_url: str, identity_secret: str | None = None):
        self.api = api.rstrip("/")
        self.identity_secret = identity_secret
        self.public = public_base_url.rstrip("/")
        self.fakes = fakes
        cfg = fakes.config
        self.mailbox = cfg["GMAIL_MAILBOX"]
        self.twilio_token = cfg["TWILIO_AUTH_TOKEN"]
        self.signer = signing.PushSigner(cfg["GMAIL_PUBSUB_AUDIENCE"],
                                         cfg["GMAIL_PUBSUB_SERVICE_ACCOUNT"])
        self.history = 1000
        self.session = requests.Session()

    def send(self, m: Planned):
        m.sent_at = time.time()
        try:
            getattr(self, "_" + m.channel)(m)
        except requests.RequestException as error:
            m.error = type(error).__name__
        m.accepted = m.status is not None and 200 <= m.status < 300

    def _web_form(self, m: Planned):
        t = m.ticket
        body = {
            "name": m.customer.name, "email": m.customer.email,
            "subject": (t.get("subject") or t["message"][:60]).strip()[:200] or "Question",
            "category": t.get("category") or "general",
            "message": t["message"] if len(t["message"]) >= 10 else t["message"] + " (from the form)",
        }
        if m.customer.cross_channel:
            # A signed-in user of the embedding site: the site vouches for the
            # email (identity token), so the phone they give is vouched for too
            # and their later WhatsApp joins the same verified customer.
            body["phone"] = m.customer.phone
            if self.identity_secret:
                body["identity_token"] = identity_token(self.identity_secret, m.customer.email)
        r = self.session.post(f"{self.api}/support/submit", json=body, timeout=15)
        m.status = r.status_code
        if r.ok:
            m.channel_message_id = r.json()["ticket_id"]
        else:
            m.error = r.text[:200]

    def _whatsapp(self, m: Planned):
        sid = signing.new_message_sid()
        form = signing.whatsapp_form(sid, m.customer.phone, m.ticket["message"], m.customer.name)
        path = "/webhooks/whatsapp"
        signature = signing.twilio_signature(self.twilio_token, self.public + path, form)
        r = self.session.post(self.api + path, data=form, timeout=15,
                              headers={"X-Twilio-Signature": signature})
        m.status = r.status_code
        m.channel_message_id = sid
        if not r.ok:
            m.error = r.text[:200]

    def _email(self, m: Planned):
        header = f"<load-{uuid.uuid4().hex}@loadtest.example>"
        subject = m.ticket.get("subject") or "Question"
        raw = signing.rfc2822(f"{m.customer.name} <{m.customer.email}>", self.mailbox, subject,
                              m.ticket["message"], header)
        delivered = self.fakes.deliver_email(raw)
        m.channel_message_id = delivered["id"]
        m.message_header = header
        self.history += 1
        # Pub/Sub retries a push until it is acknowledged (2xx); so do we,
        # for up to a minute, with its backoff.
        delay, deadline = 0.5, time.time() + 60
        while True:
            try:
                r = self.session.post(self.api + "/webhooks/gmail",
                                      json=signing.push_body(self.mailbox, self.history),
                                      headers={"Authorization": self.signer.bearer()}, timeout=15)
                m.status = r.status_code
                if r.ok:
                    m.error = None
                    return
                m.error = r.text[:200]
            except requests.RequestException as error:
                m.error = type(error).__name__
            if time.time() > deadline:
                return
            m.extra["push_retries"] = m.extra.get("push_retries", 0) + 1
            time.sleep(delay)
            delay = min(delay * 2, 10)
