"""The profile's traffic: customers and their messages over a compressed day
(day.py), drawn with a realistic day's mix of questions
(context/eval/realistic-mix.json over the sample and tuning tickets; the
held-out tickets are never used) or with the sample tickets' own mix, and
the senders that deliver them through each channel's real entry point."""

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
sys.path.insert(0, str(Path(__file__).resolve().parent))
import day as daymod  # noqa: E402
import signing  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CHANNELS = ("web_form", "email", "whatsapp")


def _by_channel(tickets: list[dict]) -> dict[str, list[dict]]:
    by_channel: dict[str, list[dict]] = {c: [] for c in CHANNELS}
    for ticket in tickets:
        if ticket.get("message", "").strip():
            by_channel[ticket["channel"]].append(ticket)
    return by_channel


def sample_tickets() -> dict[str, list[dict]]:
    return _by_channel(json.loads((ROOT / "context/sample-tickets.json").read_text())["tickets"])


def ticket_class(ticket: dict) -> tuple[str, str | None]:
    expect = ticket["expect"]
    return expect["action"], expect.get("reason") if expect["action"] == "escalate" else None


class Mix:
    """Draws a ticket for a channel. `realistic`: a class by the realistic
    day's weight, then a ticket of that class written for the channel (any
    channel's when the channel has none); `samples`: the sample tickets of
    the channel, uniformly (a third of them escalate)."""

    def __init__(self, name: str):
        self.name = name
        if name == "samples":
            self.by_channel = sample_tickets()
            return
        if name != "realistic":
            raise ValueError(f"unknown mix {name!r} (realistic, samples)")
        tickets = json.loads((ROOT / "context/sample-tickets.json").read_text())["tickets"]
        tickets += json.loads((ROOT / "context/eval/tuning.json").read_text())["tickets"]
        tickets = [t for t in tickets if t.get("message", "").strip()]
        weights = json.loads((ROOT / "context/eval/realistic-mix.json").read_text())["classes"]
        self.classes: list[tuple[tuple[str, str | None], float, dict[str, list[dict]]]] = []
        for c in weights:
            key = (c["action"], c.get("reason"))
            members = [t for t in tickets if ticket_class(t) == key]
            if members:
                self.classes.append((key, c["weight"], _by_channel(members)))

    def expected_escalation_rate(self) -> float | None:
        if self.name != "realistic":
            return None
        total = sum(w for _, w, _ in self.classes)
        escalating = sum(w for (action, _), w, _ in self.classes
                         if action in ("escalate", "answer_and_escalate"))
        return escalating / total

    def draw(self, rng: random.Random, channel: str) -> dict:
        if self.name == "samples":
            return rng.choice(self.by_channel[channel])
        _, _, by_channel = rng.choices(self.classes, weights=[w for _, w, _ in self.classes])[0]
        pool = by_channel[channel] or [t for ts in by_channel.values() for t in ts]
        return rng.choice(pool)


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
         seed: int, mix: str = "realistic") -> list[Planned]:
    """The day's messages, at moments drawn with the day's shape over
    `duration` (24 compressed hours; the run waits for the last answers after
    it). `cross`
    customers write on all three channels in turn (web form with email and
    phone, then email two compressed hours after the form was answered, then
    WhatsApp two hours after that); the rest of the counts are one-message
    customers."""
    rng = random.Random(seed)
    draw = Mix(mix)
    day = daymod.Day(duration)
    messages: list[Planned] = []
    index = 0

    def customer(cross_channel: bool) -> Customer:
        nonlocal index
        index += 1
        return Customer(index, f"Load Customer{index}", f"load.customer{index}@loadtest.example",
                        f"+3461{index:07d}", cross_channel)

    for _ in range(cross):
        c = customer(True)
        first = Planned(c, "web_form", draw.draw(rng, "web_form"), day.arrival(rng, 16.0))
        second = Planned(c, "email", draw.draw(rng, "email"), first.at + day.seconds(2.0),
                         after=first)
        third = Planned(c, "whatsapp", draw.draw(rng, "whatsapp"),
                        second.at + day.seconds(2.0), after=second)
        messages += [first, second, third]
    remaining = {"web_form": web - cross, "email": email - cross, "whatsapp": whatsapp - cross}
    for channel, count in remaining.items():
        for _ in range(max(0, count)):
            messages.append(Planned(customer(False), channel, draw.draw(rng, channel),
                                    day.arrival(rng)))
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
            # A customer types a subject of at least the form's 5 characters.
            "subject": next(x for x in ((t.get("subject") or "").strip()[:200],
                                        t["message"].strip()[:60], "A question")
                            if len(x) >= 5),
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
        # The widget keeps one Idempotency-Key per submission and the customer
        # sends again when told to (503 or 429 with Retry-After, or no
        # answer): so does the harness, for up to a minute.
        headers = {"Idempotency-Key": f"load-{uuid.uuid4().hex}"}
        deadline = time.time() + 60
        while True:
            try:
                r = self.session.post(f"{self.api}/support/submit", json=body, headers=headers,
                                      timeout=15)
                m.status = r.status_code
                if r.ok:
                    m.channel_message_id = r.json()["ticket_id"]
                    m.error = None
                    return
                m.error = r.text[:200]
                if r.status_code not in (429, 503):
                    return
                wait = float(r.headers.get("Retry-After") or 1)
            except requests.RequestException as error:
                m.error = type(error).__name__
                wait = 1.0
            if time.time() + wait > deadline:
                return
            m.extra["submit_retries"] = m.extra.get("submit_retries", 0) + 1
            time.sleep(min(wait, 5.0))

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
