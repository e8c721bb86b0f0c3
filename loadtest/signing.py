"""Webhook requests signed exactly as the providers sign them.

- WhatsApp: Twilio's ``X-Twilio-Signature`` (HMAC-SHA1 over the public URL
  and the sorted form parameters), computed by the ``twilio`` package's
  ``RequestValidator``.
- Gmail: a Pub/Sub push with an RS256 OIDC token in ``Authorization``,
  minted by ``google-auth`` with the fakes' test key (``fte-test-key-a``,
  published by the fake JWKS); the gateway verifies it against that JWKS.

Shared by the Locust file and the scale harness.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from pathlib import Path

from google.auth import crypt, jwt
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parents[1]
TEST_KEY_PEM = ROOT / "crates/fte-fakes/testdata/test_key_a.pem"
TEST_KEY_ID = "fte-test-key-a"
OUR_WHATSAPP_NUMBER = "whatsapp:+15550100200"


def whatsapp_form(sid: str, phone: str, body: str, name: str | None = None,
                  account_sid: str = "AC00000000000000000000000000000000") -> dict[str, str]:
    """The form Twilio posts for an inbound WhatsApp message."""
    form = {
        "MessageSid": sid,
        "AccountSid": account_sid,
        "From": f"whatsapp:{phone}",
        "To": OUR_WHATSAPP_NUMBER,
        "Body": body,
        "NumMedia": "0",
        "WaId": phone.lstrip("+"),
    }
    if name:
        form["ProfileName"] = name
    return form


def new_message_sid() -> str:
    return "SM" + uuid.uuid4().hex


def twilio_signature(auth_token: str, public_url: str, form: dict[str, str]) -> str:
    """``X-Twilio-Signature`` for a form POST to ``public_url``."""
    return RequestValidator(auth_token).compute_signature(public_url, form)


class PushSigner:
    """Mints Pub/Sub push OIDC tokens (RS256) with the test key."""

    def __init__(self, audience: str, service_account: str, pem_path: Path = TEST_KEY_PEM,
                 key_id: str = TEST_KEY_ID):
        self._signer = crypt.RSASigner.from_string(pem_path.read_text(), key_id)
        self.audience = audience
        self.service_account = service_account

    def bearer(self) -> str:
        now = int(time.time())
        claims = {
            "iss": "https://accounts.google.com",
            "aud": self.audience,
            "email": self.service_account,
            "email_verified": True,
            "sub": "112233445566778899",
            "iat": now,
            "exp": now + 3600,
        }
        token = jwt.encode(self._signer, claims)
        if isinstance(token, bytes):
            token = token.decode()
        return f"Bearer {token}"


def push_body(mailbox: str, history_id: int) -> dict:
    """The JSON body of a Gmail notification pushed by Pub/Sub."""
    data = json.dumps({"emailAddress": mailbox, "historyId": history_id})
    return {
        "message": {
            "data": base64.b64encode(data.encode()).decode(),
            "messageId": uuid.uuid4().hex,
            "publishTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
        "subscription": "projects/orbit-labs/subscriptions/gmail-push",
    }


def rfc2822(sender: str, mailbox: str, subject: str, body: str, message_id: str) -> str:
    """A plain-text customer email as the fake Gmail stores it."""
    date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
    return (
        f"From: {sender}\r\nTo: {mailbox}\r\nSubject: {subject}\r\n"
        f"Message-ID: {message_id}\r\nDate: {date}\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset=UTF-8\r\n\r\n{body}\r\n"
    )
